//! Versioned migrations. They run at start-up (`kith serve`) and with `kith migrate`,
//! on SQLite and PostgreSQL alike: only portable column types and plain indexes, except where
//! a migration says why it speaks each database's own SQL (full-text search, group versions).

pub use sea_orm_migration::prelude::*;

pub mod interests;
mod m20261126_000001_accounts;
mod m20261126_000002_groups;
mod m20261126_000003_group_cell_covering;
mod m20261126_000004_events;
mod m20261126_000005_notifications;
mod m20261126_000006_calendar_feeds;
mod m20261126_000007_event_series;
mod m20261126_000008_background_work;
mod m20261126_000009_in_person;
mod m20261126_000010_blocks;
mod m20261126_000011_closed_groups;
mod m20261130_000012_mail_outbox;
mod m20261130_000014_event_places;
mod m20261130_000015_idempotency;
mod m20261130_000016_push;
mod m20261130_000017_images;
mod m20261130_000018_comments;
mod m20261130_000019_messages;
mod m20261130_000020_avatar_attestations;
mod m20261130_000021_full_text;
mod m20261130_000022_saved_events_and_deadlines;
mod m20261130_000023_guests;
mod m20261130_000024_group_versions;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261126_000001_accounts::Migration),
            Box::new(m20261126_000002_groups::Migration),
            Box::new(m20261126_000003_group_cell_covering::Migration),
            Box::new(m20261126_000004_events::Migration),
            Box::new(m20261126_000005_notifications::Migration),
            Box::new(m20261126_000006_calendar_feeds::Migration),
            Box::new(m20261126_000007_event_series::Migration),
            Box::new(m20261126_000008_background_work::Migration),
            Box::new(m20261126_000009_in_person::Migration),
            Box::new(m20261126_000010_blocks::Migration),
            Box::new(m20261126_000011_closed_groups::Migration),
            Box::new(m20261130_000012_mail_outbox::Migration),
            Box::new(m20261130_000014_event_places::Migration),
            Box::new(m20261130_000015_idempotency::Migration),
            Box::new(m20261130_000016_push::Migration),
            Box::new(m20261130_000017_images::Migration),
            Box::new(m20261130_000018_comments::Migration),
            Box::new(m20261130_000019_messages::Migration),
            Box::new(m20261130_000020_avatar_attestations::Migration),
            Box::new(m20261130_000021_full_text::Migration),
            Box::new(m20261130_000022_saved_events_and_deadlines::Migration),
            Box::new(m20261130_000023_guests::Migration),
            Box::new(m20261130_000024_group_versions::Migration),
        ]
    }
}
