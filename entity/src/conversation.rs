use sea_orm::entity::prelude::*;

/// Private messages between two members: one conversation per pair, stored in a fixed
/// order (`user_low` < `user_high`) so that a pair has one row whoever wrote first.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "conversations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_low: Uuid,
    pub user_high: Uuid,
    /// Who sent the first message: the other may always answer.
    pub started_by: Uuid,
    pub created_at: DateTimeUtc,
    pub last_message_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
