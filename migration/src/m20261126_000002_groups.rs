//! Interests (with the shipped taxonomy), groups, their interests, members' interests and
//! memberships.

use sea_orm_migration::{prelude::*, schema::*};

use crate::interests::{TAXONOMY, id, slug};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Interests {
    Table,
    Id,
    Slug,
    Name,
    Category,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum UserInterests {
    Table,
    UserId,
    InterestId,
}

#[derive(DeriveIden)]
enum Groups {
    Table,
    Id,
    Slug,
    Name,
    Description,
    Lat,
    Lng,
    Cell,
    City,
    TimeZone,
    JoinPolicy,
    SearchText,
    MemberCount,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum GroupInterests {
    Table,
    GroupId,
    InterestId,
}

#[derive(DeriveIden)]
enum Memberships {
    Table,
    Id,
    GroupId,
    UserId,
    Role,
    Status,
    CreatedAt,
    JoinedAt,
}

fn fk(
    name: &str,
    from: (impl IntoIden, impl IntoIden),
    to: (impl IntoIden, impl IntoIden),
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(from.0, from.1)
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
                    .table(Interests::Table)
                    .col(uuid(Interests::Id).primary_key())
                    .col(string_uniq(Interests::Slug))
                    .col(string(Interests::Name))
                    .col(string(Interests::Category))
                    .to_owned(),
            )
            .await?;
        let mut insert = Query::insert()
            .into_table(Interests::Table)
            .columns([
                Interests::Id,
                Interests::Slug,
                Interests::Name,
                Interests::Category,
            ])
            .to_owned();
        for (category, names) in TAXONOMY {
            for name in *names {
                let slug = slug(name);
                insert.values_panic([
                    id(&slug).into(),
                    slug.into(),
                    (*name).into(),
                    (*category).into(),
                ]);
            }
        }
        manager.exec_stmt(insert).await?;

        manager
            .create_table(
                Table::create()
                    .table(UserInterests::Table)
                    .col(uuid(UserInterests::UserId))
                    .col(uuid(UserInterests::InterestId))
                    .primary_key(
                        Index::create()
                            .col(UserInterests::UserId)
                            .col(UserInterests::InterestId),
                    )
                    .foreign_key(&mut fk(
                        "fk_user_interests_user",
                        (UserInterests::Table, UserInterests::UserId),
                        (Users::Table, Users::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_user_interests_interest",
                        (UserInterests::Table, UserInterests::InterestId),
                        (Interests::Table, Interests::Id),
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Groups::Table)
                    .col(uuid(Groups::Id).primary_key())
                    .col(string_uniq(Groups::Slug))
                    .col(string(Groups::Name))
                    .col(text(Groups::Description))
                    .col(double(Groups::Lat))
                    .col(double(Groups::Lng))
                    .col(big_integer(Groups::Cell))
                    .col(string(Groups::City))
                    .col(string(Groups::TimeZone))
                    .col(string(Groups::JoinPolicy))
                    .col(text(Groups::SearchText))
                    .col(integer(Groups::MemberCount).default(0))
                    .col(timestamp_with_time_zone(Groups::CreatedAt))
                    .col(timestamp_with_time_zone(Groups::UpdatedAt))
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
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(GroupInterests::Table)
                    .col(uuid(GroupInterests::GroupId))
                    .col(uuid(GroupInterests::InterestId))
                    .primary_key(
                        Index::create()
                            .col(GroupInterests::GroupId)
                            .col(GroupInterests::InterestId),
                    )
                    .foreign_key(&mut fk(
                        "fk_group_interests_group",
                        (GroupInterests::Table, GroupInterests::GroupId),
                        (Groups::Table, Groups::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_group_interests_interest",
                        (GroupInterests::Table, GroupInterests::InterestId),
                        (Interests::Table, Interests::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_group_interests_interest")
                    .table(GroupInterests::Table)
                    .col(GroupInterests::InterestId)
                    .col(GroupInterests::GroupId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Memberships::Table)
                    .col(uuid(Memberships::Id).primary_key())
                    .col(uuid(Memberships::GroupId))
                    .col(uuid(Memberships::UserId))
                    .col(string(Memberships::Role))
                    .col(string(Memberships::Status))
                    .col(timestamp_with_time_zone(Memberships::CreatedAt))
                    .col(timestamp_with_time_zone_null(Memberships::JoinedAt))
                    .foreign_key(&mut fk(
                        "fk_memberships_group",
                        (Memberships::Table, Memberships::GroupId),
                        (Groups::Table, Groups::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_memberships_user",
                        (Memberships::Table, Memberships::UserId),
                        (Users::Table, Users::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_memberships_group_user")
                    .table(Memberships::Table)
                    .col(Memberships::GroupId)
                    .col(Memberships::UserId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_memberships_user")
                    .table(Memberships::Table)
                    .col(Memberships::UserId)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Memberships::Table.into_iden(),
            GroupInterests::Table.into_iden(),
            Groups::Table.into_iden(),
            UserInterests::Table.into_iden(),
            Interests::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
