//! Group versions (issue 15): `group_versions.version` counts the changes to what a group's
//! event lists show (its events' rows, their hosts, those hosts' rows), so a process may keep
//! a page of a group's upcoming events and know, from one number read with the group, whether
//! it still holds. The database keeps the count, by triggers, so no write path can forget it:
//! not a mutation written later, not another process, not a hand-written UPDATE.
//!
//! A group without a row is at version 0; the first change writes 1. No foreign key: a
//! deleted group's row is left behind (a few bytes) rather than ordering the cascade.
//!
//! Of a host's row only what the public profile (`User`) shows counts: `display_name`, `bio`,
//! `avatar_image_id` (`id` and `created_at` never change). A `User` field reading another
//! column must add it to `HOST_COLUMNS`, in a migration of its own.
//!
//! On PostgreSQL the triggers are deferred to commit (constraint triggers): the row of
//! `group_versions` is locked only while the transaction commits, after every other lock it
//! takes, so transactions touching one group each (an RSVP, an organiser's edit of several
//! events) cannot wait on each other in a cycle. Two transactions that each touch several
//! groups, in opposite orders, at the same moment still can (PostgreSQL then refuses one);
//! a host's change bumps their groups in id order, and the trust computation, which updates
//! many members, changes no column counted here. SQLite has one writer at a time, and its
//! triggers run at once.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The group `$group` changed: add one to its version (PostgreSQL function body / SQLite
/// statement, `$group` replaced by the column that names it).
const BUMP: &str = "INSERT INTO group_versions (group_id, version) VALUES ($group, 1) \
                    ON CONFLICT (group_id) DO UPDATE SET version = group_versions.version + 1";

/// Every group with an event the member `$user` hosts changed (in id order, so two such
/// changes lock the groups' rows in the same order).
const BUMP_HOSTED: &str = "INSERT INTO group_versions (group_id, version) \
                           SELECT DISTINCT e.group_id, 1 FROM event_hosts h \
                           JOIN events e ON e.id = h.event_id WHERE h.user_id = $user \
                           ORDER BY e.group_id \
                           ON CONFLICT (group_id) DO UPDATE SET version = group_versions.version + 1";

/// The columns of a host's row that the public profile (`User`) shows.
const HOST_COLUMNS: [&str; 3] = ["display_name", "bio", "avatar_image_id"];

/// The group of the event `$event` changed.
const BUMP_OF_EVENT: &str = "INSERT INTO group_versions (group_id, version) \
                             SELECT group_id, 1 FROM events WHERE id = $event \
                             ON CONFLICT (group_id) DO UPDATE SET version = group_versions.version + 1";

fn postgres() -> Vec<String> {
    let group = |column: &str| BUMP.replace("$group", column);
    let of_event = |column: &str| BUMP_OF_EVENT.replace("$event", column);
    vec![
        format!(
            "CREATE FUNCTION kith_events_changed() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
               IF TG_OP <> 'INSERT' THEN {old}; END IF; \
               IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.group_id <> OLD.group_id) \
               THEN {new}; END IF; \
               RETURN NULL; END $$",
            old = group("OLD.group_id"),
            new = group("NEW.group_id"),
        ),
        format!(
            "CREATE FUNCTION kith_event_hosts_changed() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
               IF TG_OP <> 'INSERT' THEN {old}; END IF; \
               IF TG_OP <> 'DELETE' THEN {new}; END IF; \
               RETURN NULL; END $$",
            old = of_event("OLD.event_id"),
            new = of_event("NEW.event_id"),
        ),
        format!(
            "CREATE FUNCTION kith_hosts_changed() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
               {hosted}; RETURN NULL; END $$",
            hosted = BUMP_HOSTED.replace("$user", "NEW.id"),
        ),
        "CREATE CONSTRAINT TRIGGER events_group_version AFTER INSERT OR UPDATE OR DELETE \
         ON events DEFERRABLE INITIALLY DEFERRED FOR EACH ROW \
         EXECUTE FUNCTION kith_events_changed()"
            .into(),
        "CREATE CONSTRAINT TRIGGER event_hosts_group_version AFTER INSERT OR UPDATE OR DELETE \
         ON event_hosts DEFERRABLE INITIALLY DEFERRED FOR EACH ROW \
         EXECUTE FUNCTION kith_event_hosts_changed()"
            .into(),
        format!(
            "CREATE CONSTRAINT TRIGGER users_group_version AFTER UPDATE OF {columns} ON users \
             DEFERRABLE INITIALLY DEFERRED FOR EACH ROW \
             WHEN ({changed}) EXECUTE FUNCTION kith_hosts_changed()",
            columns = HOST_COLUMNS.join(", "),
            changed = HOST_COLUMNS
                .map(|c| format!("OLD.{c} IS DISTINCT FROM NEW.{c}"))
                .join(" OR "),
        ),
    ]
}

fn sqlite() -> Vec<String> {
    let group = |column: &str| BUMP.replace("$group", column);
    let of_event = |column: &str| BUMP_OF_EVENT.replace("$event", column);
    vec![
        format!(
            "CREATE TRIGGER events_group_version_insert AFTER INSERT ON events BEGIN {}; END",
            group("NEW.group_id")
        ),
        format!(
            "CREATE TRIGGER events_group_version_update AFTER UPDATE ON events BEGIN {}; END",
            group("OLD.group_id")
        ),
        format!(
            "CREATE TRIGGER events_group_version_move AFTER UPDATE OF group_id ON events \
             WHEN NEW.group_id IS NOT OLD.group_id BEGIN {}; END",
            group("NEW.group_id")
        ),
        format!(
            "CREATE TRIGGER events_group_version_delete AFTER DELETE ON events BEGIN {}; END",
            group("OLD.group_id")
        ),
        format!(
            "CREATE TRIGGER event_hosts_group_version_insert AFTER INSERT ON event_hosts \
             BEGIN {}; END",
            of_event("NEW.event_id")
        ),
        format!(
            "CREATE TRIGGER event_hosts_group_version_update AFTER UPDATE ON event_hosts \
             BEGIN {}; {}; END",
            of_event("OLD.event_id"),
            of_event("NEW.event_id")
        ),
        format!(
            "CREATE TRIGGER event_hosts_group_version_delete AFTER DELETE ON event_hosts \
             BEGIN {}; END",
            of_event("OLD.event_id")
        ),
        format!(
            "CREATE TRIGGER users_group_version AFTER UPDATE OF {columns} ON users \
             WHEN {changed} BEGIN {bump}; END",
            columns = HOST_COLUMNS.join(", "),
            changed = HOST_COLUMNS
                .map(|c| format!("OLD.{c} IS NOT NEW.{c}"))
                .join(" OR "),
            bump = BUMP_HOSTED.replace("$user", "NEW.id"),
        ),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(GroupVersions::Table)
                    .col(
                        ColumnDef::new(GroupVersions::GroupId)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(GroupVersions::Version)
                            .big_integer()
                            .not_null()
                            .default(0),
                    )
                    .to_owned(),
            )
            .await?;
        // A host's change finds the groups they host in by this index.
        manager
            .create_index(
                Index::create()
                    .name("idx_event_hosts_user")
                    .table(EventHosts::Table)
                    .col(EventHosts::UserId)
                    .to_owned(),
            )
            .await?;
        let statements = match manager.get_database_backend() {
            sea_orm::DatabaseBackend::Postgres => postgres(),
            _ => sqlite(),
        };
        let db = manager.get_connection();
        for statement in statements {
            db.execute_unprepared(&statement).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let statements: &[&str] = match manager.get_database_backend() {
            sea_orm::DatabaseBackend::Postgres => &[
                "DROP TRIGGER users_group_version ON users",
                "DROP TRIGGER event_hosts_group_version ON event_hosts",
                "DROP TRIGGER events_group_version ON events",
                "DROP FUNCTION kith_hosts_changed()",
                "DROP FUNCTION kith_event_hosts_changed()",
                "DROP FUNCTION kith_events_changed()",
            ],
            _ => &[
                "DROP TRIGGER users_group_version",
                "DROP TRIGGER event_hosts_group_version_delete",
                "DROP TRIGGER event_hosts_group_version_update",
                "DROP TRIGGER event_hosts_group_version_insert",
                "DROP TRIGGER events_group_version_delete",
                "DROP TRIGGER events_group_version_move",
                "DROP TRIGGER events_group_version_update",
                "DROP TRIGGER events_group_version_insert",
            ],
        };
        for statement in statements {
            db.execute_unprepared(statement).await?;
        }
        manager
            .drop_index(
                Index::drop()
                    .name("idx_event_hosts_user")
                    .table(EventHosts::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(GroupVersions::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum GroupVersions {
    Table,
    GroupId,
    Version,
}

#[derive(DeriveIden)]
enum EventHosts {
    Table,
    UserId,
}
