use sea_orm::entity::prelude::*;

/// One person (the scanner) confirming they met another (the subject) at an event.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "meeting_confirmations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub event_id: Uuid,
    pub scanner_id: Uuid,
    pub subject_id: Uuid,
    /// The pair in a fixed order, for the one-per-pair-per-event unique index.
    pub user_low: Uuid,
    pub user_high: Uuid,
    /// The token used: unique, so each token confirms once.
    pub token_id: Uuid,
    /// `PENDING`, `CONFIRMED`, `DECLINED` or `WITHDRAWN`.
    pub status: String,
    pub created_at: DateTimeUtc,
    pub responded_at: Option<DateTimeUtc>,
    pub withdrawn_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
