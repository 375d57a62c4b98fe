//! One outbox for mail that must not be lost: written in the transaction of the change it
//! tells of, sent after the commit, retried by the background loop until sent. It replaces
//! the mail columns of `notifications` (owed mail is carried over). Those columns stay, unread,
//! so that processes of the previous release keep working during a rolling upgrade.

use sea_orm_migration::sea_orm::DatabaseBackend;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum MailOutbox {
    Table,
    Id,
    UserId,
    Recipient,
    Subject,
    Body,
    DueAt,
    Attempts,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(MailOutbox::Table)
                    .col(uuid(MailOutbox::Id).primary_key())
                    .col(uuid_null(MailOutbox::UserId))
                    .col(string(MailOutbox::Recipient))
                    .col(text(MailOutbox::Subject))
                    .col(text(MailOutbox::Body))
                    .col(timestamp_with_time_zone_null(MailOutbox::DueAt))
                    .col(integer(MailOutbox::Attempts).default(0))
                    .col(timestamp_with_time_zone(MailOutbox::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_mail_outbox_user")
                            .from(MailOutbox::Table, MailOutbox::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_mail_outbox_due")
                    .table(MailOutbox::Table)
                    .col(MailOutbox::DueAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_mail_outbox_user")
                    .table(MailOutbox::Table)
                    .col(MailOutbox::UserId)
                    .to_owned(),
            )
            .await?;
        // Notification mail still owed moves over, written as the sender wrote it.
        let newline = match manager.get_database_backend() {
            DatabaseBackend::Postgres => "chr(10)",
            _ => "char(10)",
        };
        let db = manager.get_connection();
        db.execute_unprepared(&format!(
            "INSERT INTO mail_outbox (id, user_id, recipient, subject, body, due_at, attempts, created_at) \
             SELECT n.id, n.user_id, u.email, 'Kith: ' || n.message, \
                    'Hello ' || u.display_name || ',' || {newline} || {newline} || n.message || {newline}, \
                    n.mail_due_at, n.mail_attempts, n.created_at \
             FROM notifications n JOIN users u ON u.id = n.user_id \
             WHERE n.mail_due_at IS NOT NULL AND n.mail_attempts < 5"
        ))
        .await?;
        db.execute_unprepared(
            "UPDATE notifications SET mail_due_at = NULL WHERE mail_due_at IS NOT NULL",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(MailOutbox::Table).to_owned())
            .await
    }
}
