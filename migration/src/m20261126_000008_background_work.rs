//! Work done in the background: series topped up as time passes, and notification mail
//! retried until it is sent (a crash between commit and sending must not lose it).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum EventSeries {
    Table,
    Complete,
}

#[derive(DeriveIden)]
enum Notifications {
    Table,
    MailDueAt,
    MailAttempts,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per statement.
        manager
            .alter_table(
                Table::alter()
                    .table(EventSeries::Table)
                    .add_column(boolean(EventSeries::Complete).default(false))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Notifications::Table)
                    .add_column(timestamp_with_time_zone_null(Notifications::MailDueAt))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Notifications::Table)
                    .add_column(integer(Notifications::MailAttempts).default(0))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_notifications_mail_due")
                    .table(Notifications::Table)
                    .col(Notifications::MailDueAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_notifications_mail_due")
                    .table(Notifications::Table)
                    .to_owned(),
            )
            .await?;
        for column in [Notifications::MailAttempts, Notifications::MailDueAt] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Notifications::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(EventSeries::Table)
                    .drop_column(EventSeries::Complete)
                    .to_owned(),
            )
            .await
    }
}
