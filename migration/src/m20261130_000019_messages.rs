//! Conversation (issue 18), last slice: private messages, and reports of what was written.
//! - `conversations`: one per unordered pair of members, the pair stored ordered as
//!   (`user_low`, `user_high`) under a unique index, so two first messages sent at once
//!   still make one conversation; `started_by` says who wrote first (the other may always
//!   answer).
//! - `conversation_members`: each side of a conversation, the member's own view of it: the
//!   other member, the latest activity, the latest message, how many messages from the
//!   other are unread and when the member last read it. `Viewer.conversations` is one keyset
//!   scan of `(user_id, last_message_at, conversation_id)`, whichever side the member is on
//!   (a `user_low OR user_high` query on `conversations` could not read one index in
//!   order), and the unread count is a column, however long the conversation.
//! - `messages`: keyset pages of `(conversation_id, created_at, id)`, newest first.
//!
//! Every row goes with either member's account (foreign keys, ON DELETE CASCADE): a
//! conversation with no one on the other side can be neither shown nor answered.
//!
//! `reports` learns what a report is about: a comment or a message (by id, without a foreign
//! key, since the report outlives them) and a copy of its text at the time of the report.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Conversations {
    Table,
    Id,
    UserLow,
    UserHigh,
    StartedBy,
    CreatedAt,
    LastMessageAt,
}

#[derive(DeriveIden)]
enum ConversationMembers {
    Table,
    ConversationId,
    UserId,
    OtherId,
    LastMessageAt,
    LastMessageId,
    UnreadCount,
    ReadAt,
}

#[derive(DeriveIden)]
enum Messages {
    Table,
    Id,
    ConversationId,
    SenderId,
    Body,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Reports {
    Table,
    CommentId,
    MessageId,
    Quoted,
}

fn cascade(
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

async fn index(
    manager: &SchemaManager<'_>,
    name: &str,
    table: impl IntoIden,
    columns: Vec<(DynIden, Option<IndexOrder>)>,
    unique: bool,
) -> Result<(), DbErr> {
    let mut index = Index::create();
    index.name(name).table(table);
    if unique {
        index.unique();
    }
    for (column, order) in columns {
        match order {
            Some(order) => index.col((column, order)),
            None => index.col(column),
        };
    }
    manager.create_index(index.to_owned()).await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Conversations::Table)
                    .col(uuid(Conversations::Id).primary_key())
                    .col(uuid(Conversations::UserLow))
                    .col(uuid(Conversations::UserHigh))
                    .col(uuid(Conversations::StartedBy))
                    .col(timestamp_with_time_zone(Conversations::CreatedAt))
                    .col(timestamp_with_time_zone(Conversations::LastMessageAt))
                    .foreign_key(&mut cascade(
                        "fk_conversations_low",
                        (Conversations::Table, Conversations::UserLow),
                        (Users::Table, Users::Id),
                    ))
                    .foreign_key(&mut cascade(
                        "fk_conversations_high",
                        (Conversations::Table, Conversations::UserHigh),
                        (Users::Table, Users::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_conversations_pair",
            Conversations::Table,
            vec![
                (Conversations::UserLow.into_iden(), None),
                (Conversations::UserHigh.into_iden(), None),
            ],
            true,
        )
        .await?;
        // For deleting the conversations of a member on the high side (the unique index
        // serves the low side).
        index(
            manager,
            "idx_conversations_high",
            Conversations::Table,
            vec![(Conversations::UserHigh.into_iden(), None)],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(ConversationMembers::Table)
                    .col(uuid(ConversationMembers::ConversationId))
                    .col(uuid(ConversationMembers::UserId))
                    .col(uuid(ConversationMembers::OtherId))
                    .col(timestamp_with_time_zone(ConversationMembers::LastMessageAt))
                    .col(uuid_null(ConversationMembers::LastMessageId))
                    .col(integer(ConversationMembers::UnreadCount).default(0))
                    .col(timestamp_with_time_zone_null(ConversationMembers::ReadAt))
                    .primary_key(
                        Index::create()
                            .col(ConversationMembers::ConversationId)
                            .col(ConversationMembers::UserId),
                    )
                    .foreign_key(&mut cascade(
                        "fk_conversation_members_conversation",
                        (
                            ConversationMembers::Table,
                            ConversationMembers::ConversationId,
                        ),
                        (Conversations::Table, Conversations::Id),
                    ))
                    .foreign_key(&mut cascade(
                        "fk_conversation_members_user",
                        (ConversationMembers::Table, ConversationMembers::UserId),
                        (Users::Table, Users::Id),
                    ))
                    .foreign_key(&mut cascade(
                        "fk_conversation_members_other",
                        (ConversationMembers::Table, ConversationMembers::OtherId),
                        (Users::Table, Users::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_conversation_members_activity",
            ConversationMembers::Table,
            vec![
                (ConversationMembers::UserId.into_iden(), None),
                (
                    ConversationMembers::LastMessageAt.into_iden(),
                    Some(IndexOrder::Desc),
                ),
                (
                    ConversationMembers::ConversationId.into_iden(),
                    Some(IndexOrder::Desc),
                ),
            ],
            false,
        )
        .await?;
        index(
            manager,
            "idx_conversation_members_other",
            ConversationMembers::Table,
            vec![(ConversationMembers::OtherId.into_iden(), None)],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Messages::Table)
                    .col(uuid(Messages::Id).primary_key())
                    .col(uuid(Messages::ConversationId))
                    .col(uuid(Messages::SenderId))
                    .col(text(Messages::Body))
                    .col(timestamp_with_time_zone(Messages::CreatedAt))
                    .foreign_key(&mut cascade(
                        "fk_messages_conversation",
                        (Messages::Table, Messages::ConversationId),
                        (Conversations::Table, Conversations::Id),
                    ))
                    .foreign_key(&mut cascade(
                        "fk_messages_sender",
                        (Messages::Table, Messages::SenderId),
                        (Users::Table, Users::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_messages_conversation",
            Messages::Table,
            vec![
                (Messages::ConversationId.into_iden(), None),
                (Messages::CreatedAt.into_iden(), None),
                (Messages::Id.into_iden(), None),
            ],
            false,
        )
        .await?;
        // For a member's own messages (the export) and the foreign key's deletes.
        index(
            manager,
            "idx_messages_sender",
            Messages::Table,
            vec![(Messages::SenderId.into_iden(), None)],
            false,
        )
        .await?;

        // One column per statement: SQLite alters a table one change at a time.
        for column in [
            uuid_null(Reports::CommentId),
            uuid_null(Reports::MessageId),
            text_null(Reports::Quoted),
        ] {
            let mut column = column;
            manager
                .alter_table(
                    Table::alter()
                        .table(Reports::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [Reports::Quoted, Reports::MessageId, Reports::CommentId] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Reports::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        for table in [
            Messages::Table.into_iden(),
            ConversationMembers::Table.into_iden(),
            Conversations::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
