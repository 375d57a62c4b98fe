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
    pub status: MeetingStatus,
    pub created_at: DateTimeUtc,
    pub responded_at: Option<DateTimeUtc>,
    pub withdrawn_at: Option<DateTimeUtc>,
}

/// Where a meeting confirmation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum MeetingStatus {
    /// Scanned; the subject has not answered.
    #[sea_orm(string_value = "PENDING")]
    Pending,
    /// Both confirmed it: it counts for both.
    #[sea_orm(string_value = "CONFIRMED")]
    Confirmed,
    /// The subject declined it.
    #[sea_orm(string_value = "DECLINED")]
    Declined,
    /// One of the two took it back.
    #[sea_orm(string_value = "WITHDRAWN")]
    Withdrawn,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
