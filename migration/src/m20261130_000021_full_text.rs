//! Full-text search of groups (name, description) and events (title, description): words in
//! any order, accents and case ignored, best match first. Kept in step with the rows in the
//! same transaction by the database itself, so no code path can forget it:
//!
//! - PostgreSQL: a generated `search_vector` column (the name or title weighted above the
//!   description, accents taken off by `unaccent`) with a GIN index.
//! - SQLite: an FTS5 table per kind (`unicode61 remove_diacritics 2`) written by triggers.
//!   Its rowid is the integer key of a small table naming the row (`*_search_keys`), since a
//!   table without an INTEGER PRIMARY KEY may see its own rowids renumbered by `VACUUM`.
//!
//! The `LIKE` scan's lower-cased copy of the groups' text (`groups.search_text`) goes.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// A searched table: its name, singular, and the columns searched (the first weighs most).
struct Searched {
    table: &'static str,
    one: &'static str,
    heading: &'static str,
    body: &'static str,
}

const SEARCHED: [Searched; 2] = [
    Searched {
        table: "groups",
        one: "group",
        heading: "name",
        body: "description",
    },
    Searched {
        table: "events",
        one: "event",
        heading: "title",
        body: "description",
    },
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        match manager.get_database_backend() {
            sea_orm::DatabaseBackend::Postgres => {
                // `unaccent` is a trusted extension (PostgreSQL 13+): a database owner may
                // create it. The function is STABLE (its dictionary could change), so an
                // IMMUTABLE wrapper naming the dictionary is what a generated column takes.
                db.execute_unprepared("CREATE EXTENSION IF NOT EXISTS unaccent")
                    .await?;
                db.execute_unprepared(
                    "CREATE OR REPLACE FUNCTION kith_unaccent(text) RETURNS text \
                     LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT \
                     AS $$ SELECT public.unaccent('public.unaccent'::regdictionary, $1) $$",
                )
                .await?;
                for s in SEARCHED {
                    let Searched {
                        table,
                        heading,
                        body,
                        ..
                    } = s;
                    db.execute_unprepared(&format!(
                        "ALTER TABLE {table} ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (\
                           setweight(to_tsvector('simple', kith_unaccent({heading})), 'A') || \
                           setweight(to_tsvector('simple', kith_unaccent({body})), 'B')) STORED"
                    ))
                    .await?;
                    db.execute_unprepared(&format!(
                        "CREATE INDEX idx_{table}_search_vector ON {table} USING GIN (search_vector)"
                    ))
                    .await?;
                }
            }
            _ => {
                for s in SEARCHED {
                    let Searched {
                        table,
                        one,
                        heading,
                        body,
                    } = s;
                    for statement in [
                        format!(
                            "CREATE TABLE {one}_search_keys (\
                               key INTEGER PRIMARY KEY, \
                               {one}_id uuid_text NOT NULL UNIQUE)"
                        ),
                        format!(
                            "CREATE VIRTUAL TABLE {table}_fts USING fts5(\
                               {heading}, {body}, tokenize = 'unicode61 remove_diacritics 2')"
                        ),
                        format!(
                            "CREATE TRIGGER {table}_fts_insert AFTER INSERT ON {table} BEGIN \
                               INSERT INTO {one}_search_keys ({one}_id) VALUES (new.id); \
                               INSERT INTO {table}_fts (rowid, {heading}, {body}) VALUES (\
                                 (SELECT key FROM {one}_search_keys WHERE {one}_id = new.id), \
                                 new.{heading}, new.{body}); \
                             END"
                        ),
                        format!(
                            "CREATE TRIGGER {table}_fts_update AFTER UPDATE OF {heading}, {body} \
                             ON {table} BEGIN \
                               UPDATE {table}_fts SET {heading} = new.{heading}, {body} = new.{body} \
                               WHERE rowid = (SELECT key FROM {one}_search_keys WHERE {one}_id = new.id); \
                             END"
                        ),
                        format!(
                            "CREATE TRIGGER {table}_fts_delete AFTER DELETE ON {table} BEGIN \
                               DELETE FROM {table}_fts WHERE rowid = \
                                 (SELECT key FROM {one}_search_keys WHERE {one}_id = old.id); \
                               DELETE FROM {one}_search_keys WHERE {one}_id = old.id; \
                             END"
                        ),
                        format!(
                            "INSERT INTO {one}_search_keys ({one}_id) SELECT id FROM {table} ORDER BY rowid"
                        ),
                        format!(
                            "INSERT INTO {table}_fts (rowid, {heading}, {body}) \
                             SELECT k.key, t.{heading}, t.{body} FROM {table} t \
                             JOIN {one}_search_keys k ON k.{one}_id = t.id"
                        ),
                    ] {
                        db.execute_unprepared(&statement).await?;
                    }
                }
            }
        }
        db.execute_unprepared("ALTER TABLE groups DROP COLUMN search_text")
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared("ALTER TABLE groups ADD COLUMN search_text text NOT NULL DEFAULT ''")
            .await?;
        db.execute_unprepared("UPDATE groups SET search_text = lower(name || ' ' || description)")
            .await?;
        match manager.get_database_backend() {
            sea_orm::DatabaseBackend::Postgres => {
                for s in SEARCHED {
                    db.execute_unprepared(&format!(
                        "ALTER TABLE {} DROP COLUMN search_vector",
                        s.table
                    ))
                    .await?;
                }
                db.execute_unprepared("DROP FUNCTION kith_unaccent(text)")
                    .await?;
            }
            _ => {
                for s in SEARCHED {
                    for statement in [
                        format!("DROP TRIGGER {}_fts_insert", s.table),
                        format!("DROP TRIGGER {}_fts_update", s.table),
                        format!("DROP TRIGGER {}_fts_delete", s.table),
                        format!("DROP TABLE {}_fts", s.table),
                        format!("DROP TABLE {}_search_keys", s.one),
                    ] {
                        db.execute_unprepared(&statement).await?;
                    }
                }
            }
        }
        Ok(())
    }
}
