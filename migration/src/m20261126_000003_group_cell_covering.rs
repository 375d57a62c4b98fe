//! Nearby search reads `(cell, lat, lng, id)` of every candidate: an index holding all four
//! answers it from the index alone, without visiting the table row by row.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Groups {
    Table,
    Id,
    Lat,
    Lng,
    Cell,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_groups_cell")
                    .table(Groups::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_groups_cell_covering")
                    .table(Groups::Table)
                    .col(Groups::Cell)
                    .col(Groups::Lat)
                    .col(Groups::Lng)
                    .col(Groups::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_groups_cell_covering")
                    .table(Groups::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_groups_cell")
                    .table(Groups::Table)
                    .col(Groups::Cell)
                    .to_owned(),
            )
            .await
    }
}
