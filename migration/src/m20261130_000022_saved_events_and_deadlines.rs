//! Issue 19, the life of an event:
//! - `saved_events`: the events a member keeps (a heart), newest saved first; a keyset scan
//!   of `(user_id, saved_at, event_id)`. Both sides cascade: a deleted event or account takes
//!   its saves along.
//! - `events.rsvp_closes_at`: after it, new YES answers are refused.
//! - `idx_events_group_ends`: a group's past events, newest first, read from the index.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

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
    EndsAt,
    RsvpClosesAt,
}

#[derive(DeriveIden)]
enum SavedEvents {
    Table,
    UserId,
    EventId,
    SavedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SavedEvents::Table)
                    .col(uuid(SavedEvents::UserId))
                    .col(uuid(SavedEvents::EventId))
                    .col(timestamp_with_time_zone(SavedEvents::SavedAt))
                    .primary_key(
                        Index::create()
                            .col(SavedEvents::UserId)
                            .col(SavedEvents::EventId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_saved_events_user")
                            .from(SavedEvents::Table, SavedEvents::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_saved_events_event")
                            .from(SavedEvents::Table, SavedEvents::EventId)
                            .to(Events::Table, Events::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_saved_events_user_saved")
                    .table(SavedEvents::Table)
                    .col(SavedEvents::UserId)
                    .col(SavedEvents::SavedAt)
                    .col(SavedEvents::EventId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_saved_events_event")
                    .table(SavedEvents::Table)
                    .col(SavedEvents::EventId)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Events::Table)
                    .add_column(timestamp_with_time_zone_null(Events::RsvpClosesAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_events_group_ends")
                    .table(Events::Table)
                    .col(Events::GroupId)
                    .col(Events::EndsAt)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_events_group_ends")
                    .table(Events::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Events::Table)
                    .drop_column(Events::RsvpClosesAt)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(SavedEvents::Table).to_owned())
            .await
    }
}
