use sea_orm::entity::prelude::*;

/// A member reporting another to the moderators, perhaps for something they wrote.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "reports")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub reporter_id: Uuid,
    pub reported_id: Uuid,
    pub event_id: Option<Uuid>,
    pub reason: String,
    pub created_at: DateTimeUtc,
    pub resolved_at: Option<DateTimeUtc>,
    /// The comment reported, if it was one (it may since have gone).
    pub comment_id: Option<Uuid>,
    /// The message reported, if it was one (it may since have gone).
    pub message_id: Option<Uuid>,
    /// The reported comment's or message's text when it was reported.
    pub quoted: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
