//! Photos (issue 17):
//! - `images`: one row per processed upload, naming its three stored files (content-derived
//!   names, so two rows may name the same files) with the upright dimensions and blurhash.
//!   Its uploader is kept for `exportMyData`; when their account goes the row stays with
//!   `owner_id` null if a group or event still shows it (a group's photo belongs to the
//!   group), which is why the key is SET NULL, not CASCADE;
//! - `users.avatar_image_id`, `groups.photo_image_id`, `events.photo_image_id`: what shows
//!   which image. No foreign keys: SQLite cannot add one to an existing table, and the
//!   domain clears these before it deletes an image.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    AvatarImageId,
}

#[derive(DeriveIden)]
enum Groups {
    Table,
    PhotoImageId,
}

#[derive(DeriveIden)]
enum Events {
    Table,
    PhotoImageId,
}

#[derive(DeriveIden)]
enum Images {
    Table,
    Id,
    OwnerId,
    SmallName,
    MediumName,
    LargeName,
    Width,
    Height,
    Blurhash,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Images::Table)
                    .col(uuid(Images::Id).primary_key())
                    .col(uuid_null(Images::OwnerId))
                    .col(string(Images::SmallName))
                    .col(string(Images::MediumName))
                    .col(string(Images::LargeName))
                    .col(integer(Images::Width))
                    .col(integer(Images::Height))
                    .col(string(Images::Blurhash))
                    .col(timestamp_with_time_zone(Images::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_images_owner")
                            .from(Images::Table, Images::OwnerId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        // Is a file still named by some row? (deleting files, the sweep)
        for (name, column) in [
            ("idx_images_small_name", Images::SmallName),
            ("idx_images_medium_name", Images::MediumName),
            ("idx_images_large_name", Images::LargeName),
            ("idx_images_owner", Images::OwnerId),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Images::Table)
                        .col(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(uuid_null(Users::AvatarImageId))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Groups::Table)
                    .add_column(uuid_null(Groups::PhotoImageId))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Events::Table)
                    .add_column(uuid_null(Events::PhotoImageId))
                    .to_owned(),
            )
            .await?;
        // Which rows show an image (the sweep of unreferenced images).
        for (name, table, column) in [
            (
                "idx_users_avatar_image",
                Users::Table.into_iden(),
                Users::AvatarImageId.into_iden(),
            ),
            (
                "idx_groups_photo_image",
                Groups::Table.into_iden(),
                Groups::PhotoImageId.into_iden(),
            ),
            (
                "idx_events_photo_image",
                Events::Table.into_iden(),
                Events::PhotoImageId.into_iden(),
            ),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(table)
                        .col(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, table) in [
            ("idx_users_avatar_image", Users::Table.into_iden()),
            ("idx_groups_photo_image", Groups::Table.into_iden()),
            ("idx_events_photo_image", Events::Table.into_iden()),
        ] {
            manager
                .drop_index(Index::drop().name(name).table(table).to_owned())
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Events::Table)
                    .drop_column(Events::PhotoImageId)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Groups::Table)
                    .drop_column(Groups::PhotoImageId)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .drop_column(Users::AvatarImageId)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(Images::Table).to_owned())
            .await
    }
}
