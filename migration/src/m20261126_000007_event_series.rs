//! Recurring series: a rule (RFC 5545 RRULE) whose occurrences are real events.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Groups {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum EventSeries {
    Table,
    Id,
    GroupId,
    Recurrence,
    TimeZone,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Events {
    Table,
    SeriesId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(EventSeries::Table)
                    .col(uuid(EventSeries::Id).primary_key())
                    .col(uuid(EventSeries::GroupId))
                    .col(string(EventSeries::Recurrence))
                    .col(string(EventSeries::TimeZone))
                    .col(timestamp_with_time_zone(EventSeries::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_event_series_group")
                            .from(EventSeries::Table, EventSeries::GroupId)
                            .to(Groups::Table, Groups::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Events::Table)
                    .add_column(uuid_null(Events::SeriesId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_events_series")
                    .table(Events::Table)
                    .col(Events::SeriesId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_events_series")
                    .table(Events::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Events::Table)
                    .drop_column(Events::SeriesId)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(EventSeries::Table).to_owned())
            .await
    }
}
