//! Member accounts: users, signed-in sessions with their rotating refresh tokens,
//! one-time codes sent by mail, and the counters behind rate limits.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    Email,
    EmailVerifiedAt,
    PasswordHash,
    DisplayName,
    Bio,
    HomeLat,
    HomeLng,
    TimeZone,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    Id,
    UserId,
    UserAgent,
    CreatedAt,
    LastUsedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum RefreshTokens {
    Table,
    TokenHash,
    SessionId,
    CreatedAt,
    ReplacedAt,
}

#[derive(DeriveIden)]
enum OneTimeCodes {
    Table,
    Id,
    UserId,
    Purpose,
    SentTo,
    CodeHash,
    Attempts,
    ExpiresAt,
    CreatedAt,
    ConsumedAt,
}

#[derive(DeriveIden)]
enum RateLimits {
    Table,
    Key,
    WindowStartedAt,
    Count,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .col(uuid(Users::Id).primary_key())
                    .col(string_uniq(Users::Email))
                    .col(timestamp_with_time_zone_null(Users::EmailVerifiedAt))
                    .col(string(Users::PasswordHash))
                    .col(string(Users::DisplayName))
                    .col(text_null(Users::Bio))
                    .col(double_null(Users::HomeLat))
                    .col(double_null(Users::HomeLng))
                    .col(string_null(Users::TimeZone))
                    .col(timestamp_with_time_zone(Users::CreatedAt))
                    .col(timestamp_with_time_zone(Users::UpdatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Sessions::Table)
                    .col(uuid(Sessions::Id).primary_key())
                    .col(uuid(Sessions::UserId))
                    .col(string_null(Sessions::UserAgent))
                    .col(timestamp_with_time_zone(Sessions::CreatedAt))
                    .col(timestamp_with_time_zone(Sessions::LastUsedAt))
                    .col(timestamp_with_time_zone_null(Sessions::RevokedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_sessions_user")
                            .from(Sessions::Table, Sessions::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_sessions_user")
                    .table(Sessions::Table)
                    .col(Sessions::UserId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(RefreshTokens::Table)
                    .col(string(RefreshTokens::TokenHash).primary_key())
                    .col(uuid(RefreshTokens::SessionId))
                    .col(timestamp_with_time_zone(RefreshTokens::CreatedAt))
                    .col(timestamp_with_time_zone_null(RefreshTokens::ReplacedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_refresh_tokens_session")
                            .from(RefreshTokens::Table, RefreshTokens::SessionId)
                            .to(Sessions::Table, Sessions::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_refresh_tokens_session")
                    .table(RefreshTokens::Table)
                    .col(RefreshTokens::SessionId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(OneTimeCodes::Table)
                    .col(uuid(OneTimeCodes::Id).primary_key())
                    .col(uuid(OneTimeCodes::UserId))
                    .col(string(OneTimeCodes::Purpose))
                    .col(string(OneTimeCodes::SentTo))
                    .col(string(OneTimeCodes::CodeHash))
                    .col(integer(OneTimeCodes::Attempts).default(0))
                    .col(timestamp_with_time_zone(OneTimeCodes::ExpiresAt))
                    .col(timestamp_with_time_zone(OneTimeCodes::CreatedAt))
                    .col(timestamp_with_time_zone_null(OneTimeCodes::ConsumedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_one_time_codes_user")
                            .from(OneTimeCodes::Table, OneTimeCodes::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_one_time_codes_user_purpose")
                    .table(OneTimeCodes::Table)
                    .col(OneTimeCodes::UserId)
                    .col(OneTimeCodes::Purpose)
                    .col(OneTimeCodes::CreatedAt)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(RateLimits::Table)
                    .col(string(RateLimits::Key).primary_key())
                    .col(timestamp_with_time_zone(RateLimits::WindowStartedAt))
                    .col(integer(RateLimits::Count))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            RateLimits::Table.into_iden(),
            OneTimeCodes::Table.into_iden(),
            RefreshTokens::Table.into_iden(),
            Sessions::Table.into_iden(),
            Users::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
