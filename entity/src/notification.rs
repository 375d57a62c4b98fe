use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notifications")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: Uuid,
    /// `WAITLIST_PROMOTED`, `EVENT_CHANGED` or `EVENT_CANCELLED`.
    pub kind: String,
    pub message: String,
    pub event_id: Option<Uuid>,
    /// The group it is about, when it is about a group rather than an event.
    pub group_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub read_at: Option<DateTimeUtc>,
    /// When its mail is owed: set when written (a little after, so the send that follows the
    /// commit goes first), pushed back on each attempt, cleared once sent or given up.
    pub mail_due_at: Option<DateTimeUtc>,
    pub mail_attempts: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
