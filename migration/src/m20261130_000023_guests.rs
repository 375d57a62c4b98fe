//! Guests (issue 19): an event says how many guests each member may bring (`guest_limit`,
//! 0 unless set), an RSVP how many it brings (`guests`). `events.going_count` counts places
//! taken, guests included, so the CHECK `going_count <= capacity` keeps holding the limit.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Events {
    Table,
    GuestLimit,
}

#[derive(DeriveIden)]
enum Rsvps {
    Table,
    Guests,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Events::Table)
                    .add_column(integer(Events::GuestLimit).default(0))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Rsvps::Table)
                    .add_column(integer(Rsvps::Guests).default(0))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Rsvps::Table)
                    .drop_column(Rsvps::Guests)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Events::Table)
                    .drop_column(Events::GuestLimit)
                    .to_owned(),
            )
            .await
    }
}
