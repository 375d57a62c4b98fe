//! In-person verification: check-ins, meeting tokens and confirmations, reports, bans and
//! the trust level computed from the meeting graph.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    BannedAt,
    Trusted,
}

#[derive(DeriveIden)]
enum Events {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Rsvps {
    Table,
    CheckInMethod,
    CheckedInAt,
}

#[derive(DeriveIden)]
enum MeetingTokens {
    Table,
    Id,
    EventId,
    SubjectId,
    CodeHash,
    ExpiresAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum MeetingConfirmations {
    Table,
    Id,
    EventId,
    ScannerId,
    SubjectId,
    UserLow,
    UserHigh,
    TokenId,
    Status,
    CreatedAt,
    RespondedAt,
    WithdrawnAt,
}

#[derive(DeriveIden)]
enum Reports {
    Table,
    Id,
    ReporterId,
    ReportedId,
    EventId,
    Reason,
    CreatedAt,
    ResolvedAt,
}

fn to_user(name: &str, from: (impl IntoIden, impl IntoIden)) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(from.0, from.1)
        .to(Users::Table, Users::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

fn to_event(name: &str, from: (impl IntoIden, impl IntoIden)) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(from.0, from.1)
        .to(Events::Table, Events::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per statement.
        let columns = [
            (
                Rsvps::Table.into_iden(),
                string_null(Rsvps::CheckInMethod).to_owned(),
            ),
            (
                Rsvps::Table.into_iden(),
                timestamp_with_time_zone_null(Rsvps::CheckedInAt).to_owned(),
            ),
            (
                Users::Table.into_iden(),
                timestamp_with_time_zone_null(Users::BannedAt).to_owned(),
            ),
            (
                Users::Table.into_iden(),
                boolean(Users::Trusted).default(false).to_owned(),
            ),
        ];
        for (table, mut column) in columns {
            manager
                .alter_table(
                    Table::alter()
                        .table(table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(MeetingTokens::Table)
                    .col(uuid(MeetingTokens::Id).primary_key())
                    .col(uuid(MeetingTokens::EventId))
                    .col(uuid(MeetingTokens::SubjectId))
                    .col(string(MeetingTokens::CodeHash).unique_key())
                    .col(timestamp_with_time_zone(MeetingTokens::ExpiresAt))
                    .col(timestamp_with_time_zone(MeetingTokens::CreatedAt))
                    .foreign_key(&mut to_event(
                        "fk_meeting_tokens_event",
                        (MeetingTokens::Table, MeetingTokens::EventId),
                    ))
                    .foreign_key(&mut to_user(
                        "fk_meeting_tokens_subject",
                        (MeetingTokens::Table, MeetingTokens::SubjectId),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(MeetingConfirmations::Table)
                    .col(uuid(MeetingConfirmations::Id).primary_key())
                    .col(uuid(MeetingConfirmations::EventId))
                    .col(uuid(MeetingConfirmations::ScannerId))
                    .col(uuid(MeetingConfirmations::SubjectId))
                    .col(uuid(MeetingConfirmations::UserLow))
                    .col(uuid(MeetingConfirmations::UserHigh))
                    // One confirmation per token: a used token is refused by the database.
                    .col(uuid(MeetingConfirmations::TokenId).unique_key())
                    .col(string(MeetingConfirmations::Status))
                    .col(timestamp_with_time_zone(MeetingConfirmations::CreatedAt))
                    .col(timestamp_with_time_zone_null(
                        MeetingConfirmations::RespondedAt,
                    ))
                    .col(timestamp_with_time_zone_null(
                        MeetingConfirmations::WithdrawnAt,
                    ))
                    .foreign_key(&mut to_event(
                        "fk_meeting_confirmations_event",
                        (MeetingConfirmations::Table, MeetingConfirmations::EventId),
                    ))
                    .foreign_key(&mut to_user(
                        "fk_meeting_confirmations_scanner",
                        (MeetingConfirmations::Table, MeetingConfirmations::ScannerId),
                    ))
                    .foreign_key(&mut to_user(
                        "fk_meeting_confirmations_subject",
                        (MeetingConfirmations::Table, MeetingConfirmations::SubjectId),
                    ))
                    .to_owned(),
            )
            .await?;
        // One confirmation per pair (in either direction) per event.
        manager
            .create_index(
                Index::create()
                    .name("uq_meeting_confirmations_pair")
                    .table(MeetingConfirmations::Table)
                    .col(MeetingConfirmations::EventId)
                    .col(MeetingConfirmations::UserLow)
                    .col(MeetingConfirmations::UserHigh)
                    .unique()
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            (
                "idx_meeting_confirmations_low",
                MeetingConfirmations::UserLow,
            ),
            (
                "idx_meeting_confirmations_high",
                MeetingConfirmations::UserHigh,
            ),
            (
                "idx_meeting_confirmations_subject",
                MeetingConfirmations::SubjectId,
            ),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(MeetingConfirmations::Table)
                        .col(column)
                        .col(MeetingConfirmations::Status)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(Reports::Table)
                    .col(uuid(Reports::Id).primary_key())
                    .col(uuid(Reports::ReporterId))
                    .col(uuid(Reports::ReportedId))
                    .col(uuid_null(Reports::EventId))
                    .col(text(Reports::Reason))
                    .col(timestamp_with_time_zone(Reports::CreatedAt))
                    .col(timestamp_with_time_zone_null(Reports::ResolvedAt))
                    .foreign_key(&mut to_user(
                        "fk_reports_reporter",
                        (Reports::Table, Reports::ReporterId),
                    ))
                    .foreign_key(&mut to_user(
                        "fk_reports_reported",
                        (Reports::Table, Reports::ReportedId),
                    ))
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            ("idx_reports_reporter", Reports::ReporterId),
            ("idx_reports_reported", Reports::ReportedId),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Reports::Table)
                        .col(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Reports::Table.into_iden(),
            MeetingConfirmations::Table.into_iden(),
            MeetingTokens::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        for (table, column) in [
            (Users::Table.into_iden(), Users::Trusted.into_iden()),
            (Users::Table.into_iden(), Users::BannedAt.into_iden()),
            (Rsvps::Table.into_iden(), Rsvps::CheckedInAt.into_iden()),
            (Rsvps::Table.into_iden(), Rsvps::CheckInMethod.into_iden()),
        ] {
            manager
                .alter_table(Table::alter().table(table).drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}
