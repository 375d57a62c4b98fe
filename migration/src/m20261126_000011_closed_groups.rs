//! Closed groups: a group whose only organiser deleted their account, with no co-organiser
//! to take it over, stays readable (its past events, its members) but is closed. And
//! notifications about a group (one handed over) say which.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Groups {
    Table,
    ClosedAt,
}

#[derive(DeriveIden)]
enum Notifications {
    Table,
    GroupId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Groups::Table)
                    .add_column(timestamp_with_time_zone_null(Groups::ClosedAt))
                    .to_owned(),
            )
            .await?;
        // Like `event_id`, without a foreign key (SQLite cannot add one to a table).
        manager
            .alter_table(
                Table::alter()
                    .table(Notifications::Table)
                    .add_column(uuid_null(Notifications::GroupId))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Notifications::Table)
                    .drop_column(Notifications::GroupId)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Groups::Table)
                    .drop_column(Groups::ClosedAt)
                    .to_owned(),
            )
            .await
    }
}
