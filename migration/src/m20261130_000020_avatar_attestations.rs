//! Faces attested in person (issue 17, ★): `avatar_attestations`, one row per member who,
//! confirming a meeting, said the other person's avatar of that moment is the person in
//! front of them. Only the meeting's two people attest, each at most once per meeting.
//!
//! Every key cascades: an attestation means nothing without its meeting, either of its two
//! people (an account deleted takes what it gave and what it received), or the exact image
//! it was about (a replaced avatar's row goes, and with it what was attested of it).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Images {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum MeetingConfirmations {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum AvatarAttestations {
    Table,
    Id,
    MeetingId,
    AttesterId,
    SubjectId,
    ImageId,
    CreatedAt,
}

fn cascade(
    name: &str,
    column: AvatarAttestations,
    to: (impl IntoIden, impl IntoIden),
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(AvatarAttestations::Table, column)
        .to(to.0, to.1)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AvatarAttestations::Table)
                    .col(uuid(AvatarAttestations::Id).primary_key())
                    .col(uuid(AvatarAttestations::MeetingId))
                    .col(uuid(AvatarAttestations::AttesterId))
                    .col(uuid(AvatarAttestations::SubjectId))
                    .col(uuid(AvatarAttestations::ImageId))
                    .col(timestamp_with_time_zone(AvatarAttestations::CreatedAt))
                    .foreign_key(&mut cascade(
                        "fk_avatar_attestations_meeting",
                        AvatarAttestations::MeetingId,
                        (MeetingConfirmations::Table, MeetingConfirmations::Id),
                    ))
                    .foreign_key(&mut cascade(
                        "fk_avatar_attestations_attester",
                        AvatarAttestations::AttesterId,
                        (Users::Table, Users::Id),
                    ))
                    .foreign_key(&mut cascade(
                        "fk_avatar_attestations_subject",
                        AvatarAttestations::SubjectId,
                        (Users::Table, Users::Id),
                    ))
                    .foreign_key(&mut cascade(
                        "fk_avatar_attestations_image",
                        AvatarAttestations::ImageId,
                        (Images::Table, Images::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        // Each of a meeting's two people attests once.
        manager
            .create_index(
                Index::create()
                    .name("uq_avatar_attestations_meeting_attester")
                    .table(AvatarAttestations::Table)
                    .col(AvatarAttestations::MeetingId)
                    .col(AvatarAttestations::AttesterId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // Counting an image's attestations; the cascades from users and images; the export.
        for (name, column) in [
            ("idx_avatar_attestations_image", AvatarAttestations::ImageId),
            (
                "idx_avatar_attestations_attester",
                AvatarAttestations::AttesterId,
            ),
            (
                "idx_avatar_attestations_subject",
                AvatarAttestations::SubjectId,
            ),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(AvatarAttestations::Table)
                        .col(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AvatarAttestations::Table).to_owned())
            .await
    }
}
