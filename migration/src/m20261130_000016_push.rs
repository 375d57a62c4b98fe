//! Push notifications, preferences and locale (issue 16):
//! - `users.locale`: the member's language (BCP 47), None meaning English;
//! - `notification_settings`: a member's choices per notification kind, one row per kind
//!   they changed (the defaults are not stored);
//! - `devices`: where a member's pushes go, each tied to the session that registered it
//!   (it goes quiet when that session ends, and goes with it);
//! - `push_outbox`: one row per push owed to one device, written in the transaction of the
//!   change, claimed by one process, deleted once the provider took it;
//! - `reminders_sent`: one row per reminder sent, keyed by the start it was for, so that a
//!   reminder goes once whatever the number of processes and a moved event is reminded anew.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    Locale,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Events {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum NotificationSettings {
    Table,
    UserId,
    Kind,
    Push,
    Email,
}

#[derive(DeriveIden)]
enum Devices {
    Table,
    Id,
    UserId,
    SessionId,
    Platform,
    /// The APNs or FCM token, or the Web Push endpoint.
    Token,
    P256dh,
    Auth,
    AppVersion,
    CreatedAt,
    LastSeenAt,
}

#[derive(DeriveIden)]
enum PushOutbox {
    Table,
    Id,
    DeviceId,
    NotificationId,
    Title,
    Body,
    Data,
    CollapseKey,
    Badge,
    ExpiresAt,
    DueAt,
    Attempts,
    CreatedAt,
}

#[derive(DeriveIden)]
enum RemindersSent {
    Table,
    EventId,
    UserId,
    LeadMinutes,
    StartsAt,
    SentAt,
}

fn cascade(
    name: &str,
    from: (impl IntoIden, impl IntoIden),
    to: (impl IntoIden, impl IntoIden),
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(from.0, from.1)
        .to(to.0, to.1)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(string_null(Users::Locale))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(NotificationSettings::Table)
                    .col(uuid(NotificationSettings::UserId))
                    .col(string(NotificationSettings::Kind))
                    .col(boolean(NotificationSettings::Push))
                    .col(boolean(NotificationSettings::Email))
                    .primary_key(
                        Index::create()
                            .col(NotificationSettings::UserId)
                            .col(NotificationSettings::Kind),
                    )
                    .foreign_key(&mut cascade(
                        "fk_notification_settings_user",
                        (NotificationSettings::Table, NotificationSettings::UserId),
                        (Users::Table, Users::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Devices::Table)
                    .col(uuid(Devices::Id).primary_key())
                    .col(uuid(Devices::UserId))
                    .col(uuid(Devices::SessionId))
                    .col(string(Devices::Platform))
                    .col(text(Devices::Token))
                    .col(string_null(Devices::P256dh))
                    .col(string_null(Devices::Auth))
                    .col(string_null(Devices::AppVersion))
                    .col(timestamp_with_time_zone(Devices::CreatedAt))
                    .col(timestamp_with_time_zone(Devices::LastSeenAt))
                    .foreign_key(&mut cascade(
                        "fk_devices_user",
                        (Devices::Table, Devices::UserId),
                        (Users::Table, Users::Id),
                    ))
                    .foreign_key(&mut cascade(
                        "fk_devices_session",
                        (Devices::Table, Devices::SessionId),
                        (Sessions::Table, Sessions::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        for (name, columns, unique) in [
            (
                "idx_devices_token",
                vec![Devices::Platform, Devices::Token],
                true,
            ),
            ("idx_devices_user", vec![Devices::UserId], false),
            ("idx_devices_session", vec![Devices::SessionId], false),
        ] {
            let mut index = Index::create();
            index.name(name).table(Devices::Table);
            for column in columns {
                index.col(column);
            }
            if unique {
                index.unique();
            }
            manager.create_index(index.to_owned()).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(PushOutbox::Table)
                    .col(uuid(PushOutbox::Id).primary_key())
                    .col(uuid(PushOutbox::DeviceId))
                    .col(uuid_null(PushOutbox::NotificationId))
                    .col(text(PushOutbox::Title))
                    .col(text(PushOutbox::Body))
                    .col(text(PushOutbox::Data))
                    .col(string_null(PushOutbox::CollapseKey))
                    .col(integer(PushOutbox::Badge))
                    .col(timestamp_with_time_zone(PushOutbox::ExpiresAt))
                    .col(timestamp_with_time_zone_null(PushOutbox::DueAt))
                    .col(integer(PushOutbox::Attempts).default(0))
                    .col(timestamp_with_time_zone(PushOutbox::CreatedAt))
                    .foreign_key(&mut cascade(
                        "fk_push_outbox_device",
                        (PushOutbox::Table, PushOutbox::DeviceId),
                        (Devices::Table, Devices::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_push_outbox_due")
                    .table(PushOutbox::Table)
                    .col(PushOutbox::DueAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_push_outbox_device")
                    .table(PushOutbox::Table)
                    .col(PushOutbox::DeviceId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RemindersSent::Table)
                    .col(uuid(RemindersSent::EventId))
                    .col(uuid(RemindersSent::UserId))
                    .col(integer(RemindersSent::LeadMinutes))
                    .col(timestamp_with_time_zone(RemindersSent::StartsAt))
                    .col(timestamp_with_time_zone(RemindersSent::SentAt))
                    .primary_key(
                        Index::create()
                            .col(RemindersSent::EventId)
                            .col(RemindersSent::UserId)
                            .col(RemindersSent::LeadMinutes)
                            .col(RemindersSent::StartsAt),
                    )
                    .foreign_key(&mut cascade(
                        "fk_reminders_sent_event",
                        (RemindersSent::Table, RemindersSent::EventId),
                        (Events::Table, Events::Id),
                    ))
                    .foreign_key(&mut cascade(
                        "fk_reminders_sent_user",
                        (RemindersSent::Table, RemindersSent::UserId),
                        (Users::Table, Users::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_reminders_sent_user")
                    .table(RemindersSent::Table)
                    .col(RemindersSent::UserId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            RemindersSent::Table.into_iden(),
            PushOutbox::Table.into_iden(),
            Devices::Table.into_iden(),
            NotificationSettings::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .drop_column(Users::Locale)
                    .to_owned(),
            )
            .await
    }
}
