use sea_orm::entity::prelude::*;

/// One side of a conversation: what the member sees of it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "conversation_members")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub conversation_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: Uuid,
    /// The member on the other side.
    pub other_id: Uuid,
    /// When the latest message was sent, by either.
    pub last_message_at: DateTimeUtc,
    pub last_message_id: Option<Uuid>,
    /// Messages from the other since the member last read the conversation.
    pub unread_count: i32,
    pub read_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
