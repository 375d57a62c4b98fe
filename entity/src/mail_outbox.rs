use sea_orm::entity::prelude::*;

/// A mail that must not be lost, written in the transaction of the change it tells of and
/// deleted once sent. Mail that carries a secret (a code) is never stored here.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "mail_outbox")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The member it is about; their mail goes with their account.
    pub user_id: Option<Uuid>,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    /// When it may be (re)tried: a little after it is written, so the send that follows the
    /// commit goes first; pushed back on each attempt; None once given up.
    pub due_at: Option<DateTimeUtc>,
    pub attempts: i32,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::user::Entity",
        from = "Column::UserId",
        to = "super::user::Column::Id",
        on_delete = "Cascade"
    )]
    User,
}

impl ActiveModelBehavior for ActiveModel {}
