//! Events of groups, their hosts, and RSVPs.
//!
//! `going_count` and `waitlist_count` live on the event row: the RSVP rules change them
//! with conditional updates, so the database itself refuses to go past `capacity`.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Groups {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Events {
    Table,
    Id,
    GroupId,
    Title,
    Description,
    StartsAt,
    EndsAt,
    TimeZone,
    VenueName,
    VenueAddress,
    VenueLat,
    VenueLng,
    VenueCell,
    OnlineUrl,
    Capacity,
    Status,
    CancelReason,
    GoingCount,
    WaitlistCount,
    WaitlistSeq,
    Sequence,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum EventHosts {
    Table,
    EventId,
    UserId,
}

#[derive(DeriveIden)]
enum Rsvps {
    Table,
    Id,
    EventId,
    UserId,
    Status,
    WaitlistSeq,
    CheckedIn,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Events::Table)
                    .col(uuid(Events::Id).primary_key())
                    .col(uuid(Events::GroupId))
                    .col(string(Events::Title))
                    .col(text(Events::Description))
                    .col(timestamp_with_time_zone(Events::StartsAt))
                    .col(timestamp_with_time_zone(Events::EndsAt))
                    .col(string(Events::TimeZone))
                    .col(string_null(Events::VenueName))
                    .col(string_null(Events::VenueAddress))
                    .col(double_null(Events::VenueLat))
                    .col(double_null(Events::VenueLng))
                    .col(big_integer_null(Events::VenueCell))
                    .col(string_null(Events::OnlineUrl))
                    .col(integer_null(Events::Capacity))
                    .col(string(Events::Status))
                    .col(text_null(Events::CancelReason))
                    .col(integer(Events::GoingCount).default(0))
                    .col(integer(Events::WaitlistCount).default(0))
                    .col(big_integer(Events::WaitlistSeq).default(0))
                    .col(integer(Events::Sequence).default(0))
                    .col(uuid(Events::CreatedBy))
                    .col(timestamp_with_time_zone(Events::CreatedAt))
                    .col(timestamp_with_time_zone(Events::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_events_group")
                            .from(Events::Table, Events::GroupId)
                            .to(Groups::Table, Groups::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .check(
                        Expr::col(Events::Capacity)
                            .is_null()
                            .or(Expr::col(Events::GoingCount).lte(Expr::col(Events::Capacity))),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, cols) in [
            (
                "idx_events_group_starts",
                vec![Events::GroupId, Events::StartsAt],
            ),
            ("idx_events_starts", vec![Events::StartsAt]),
            ("idx_events_venue_cell", vec![Events::VenueCell]),
        ] {
            let mut index = Index::create().name(name).table(Events::Table).to_owned();
            for col in cols {
                index.col(col);
            }
            manager.create_index(index).await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(EventHosts::Table)
                    .col(uuid(EventHosts::EventId))
                    .col(uuid(EventHosts::UserId))
                    .primary_key(
                        Index::create()
                            .col(EventHosts::EventId)
                            .col(EventHosts::UserId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_event_hosts_event")
                            .from(EventHosts::Table, EventHosts::EventId)
                            .to(Events::Table, Events::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_event_hosts_user")
                            .from(EventHosts::Table, EventHosts::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Rsvps::Table)
                    .col(uuid(Rsvps::Id).primary_key())
                    .col(uuid(Rsvps::EventId))
                    .col(uuid(Rsvps::UserId))
                    .col(string(Rsvps::Status))
                    .col(big_integer_null(Rsvps::WaitlistSeq))
                    .col(boolean(Rsvps::CheckedIn).default(false))
                    .col(timestamp_with_time_zone(Rsvps::CreatedAt))
                    .col(timestamp_with_time_zone(Rsvps::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_rsvps_event")
                            .from(Rsvps::Table, Rsvps::EventId)
                            .to(Events::Table, Events::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_rsvps_user")
                            .from(Rsvps::Table, Rsvps::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_rsvps_event_user")
                    .table(Rsvps::Table)
                    .col(Rsvps::EventId)
                    .col(Rsvps::UserId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_rsvps_event_status_seq")
                    .table(Rsvps::Table)
                    .col(Rsvps::EventId)
                    .col(Rsvps::Status)
                    .col(Rsvps::WaitlistSeq)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_rsvps_user")
                    .table(Rsvps::Table)
                    .col(Rsvps::UserId)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Rsvps::Table.into_iden(),
            EventHosts::Table.into_iden(),
            Events::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
