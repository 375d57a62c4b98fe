//! Conversation (issue 18), first slices:
//! - `comments`: what members say under an event, one level of replies. A deleted comment
//!   (and every comment of a deleted account) keeps its row, its body and author emptied, so
//!   replies keep their place. Pages are keyset scans of `(event_id, parent_id, id)`.
//! - `announcements`: one row per announcement sent, counted (inside the write transaction,
//!   under the group's row lock) to hold the daily limit per group.

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
}

#[derive(DeriveIden)]
enum Groups {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Comments {
    Table,
    Id,
    EventId,
    AuthorId,
    ParentId,
    Body,
    CreatedAt,
    EditedAt,
    DeletedAt,
}

#[derive(DeriveIden)]
enum Announcements {
    Table,
    Id,
    GroupId,
    EventId,
    AuthorId,
    Message,
    CreatedAt,
}

fn foreign_key(
    name: &str,
    from: (impl IntoIden, impl IntoIden),
    to: (impl IntoIden, impl IntoIden),
    on_delete: ForeignKeyAction,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(from.0, from.1)
        .to(to.0, to.1)
        .on_delete(on_delete)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Comments::Table)
                    .col(uuid(Comments::Id).primary_key())
                    .col(uuid(Comments::EventId))
                    .col(uuid_null(Comments::AuthorId))
                    .col(uuid_null(Comments::ParentId))
                    .col(text_null(Comments::Body))
                    .col(timestamp_with_time_zone(Comments::CreatedAt))
                    .col(timestamp_with_time_zone_null(Comments::EditedAt))
                    .col(timestamp_with_time_zone_null(Comments::DeletedAt))
                    .foreign_key(&mut foreign_key(
                        "fk_comments_event",
                        (Comments::Table, Comments::EventId),
                        (Events::Table, Events::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut foreign_key(
                        "fk_comments_author",
                        (Comments::Table, Comments::AuthorId),
                        (Users::Table, Users::Id),
                        ForeignKeyAction::SetNull,
                    ))
                    .foreign_key(&mut foreign_key(
                        "fk_comments_parent",
                        (Comments::Table, Comments::ParentId),
                        (Comments::Table, Comments::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        for (name, columns) in [
            (
                "idx_comments_event_parent",
                vec![Comments::EventId, Comments::ParentId, Comments::Id],
            ),
            (
                "idx_comments_parent",
                vec![Comments::ParentId, Comments::Id],
            ),
            ("idx_comments_author", vec![Comments::AuthorId]),
        ] {
            let mut index = Index::create();
            index.name(name).table(Comments::Table);
            for column in columns {
                index.col(column);
            }
            manager.create_index(index.to_owned()).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(Announcements::Table)
                    .col(uuid(Announcements::Id).primary_key())
                    .col(uuid(Announcements::GroupId))
                    .col(uuid_null(Announcements::EventId))
                    .col(uuid_null(Announcements::AuthorId))
                    .col(text(Announcements::Message))
                    .col(timestamp_with_time_zone(Announcements::CreatedAt))
                    .foreign_key(&mut foreign_key(
                        "fk_announcements_group",
                        (Announcements::Table, Announcements::GroupId),
                        (Groups::Table, Groups::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut foreign_key(
                        "fk_announcements_event",
                        (Announcements::Table, Announcements::EventId),
                        (Events::Table, Events::Id),
                        ForeignKeyAction::SetNull,
                    ))
                    .foreign_key(&mut foreign_key(
                        "fk_announcements_author",
                        (Announcements::Table, Announcements::AuthorId),
                        (Users::Table, Users::Id),
                        ForeignKeyAction::SetNull,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_announcements_group_created")
                    .table(Announcements::Table)
                    .col(Announcements::GroupId)
                    .col(Announcements::CreatedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Announcements::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Comments::Table).to_owned())
            .await
    }
}
