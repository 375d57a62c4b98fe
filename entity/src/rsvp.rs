use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "rsvps")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub event_id: Uuid,
    pub user_id: Uuid,
    pub status: RsvpStatus,
    /// The waitlist ticket while WAITLISTED: lower is earlier in the queue.
    pub waitlist_seq: Option<i64>,
    pub checked_in: bool,
    /// How they were checked in, while `checked_in`.
    pub check_in_method: Option<CheckInMethod>,
    pub checked_in_at: Option<DateTimeUtc>,
    /// Guests the member brings; each takes a place as the member does.
    pub guests: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// Where a member stands for an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum RsvpStatus {
    /// Has a place.
    #[sea_orm(string_value = "GOING")]
    Going,
    /// Waits for a place; `waitlist_seq` orders the queue.
    #[sea_orm(string_value = "WAITLISTED")]
    Waitlisted,
    /// Said no, or took back a yes.
    #[sea_orm(string_value = "NOT_GOING")]
    NotGoing,
}

/// How a member was checked in at an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum CheckInMethod {
    /// A host checked them in: both were in the room (the strong kind).
    #[sea_orm(string_value = "HOST")]
    Host,
    /// Their own phone was near the venue (the weaker kind).
    #[sea_orm(string_value = "LOCATION")]
    Location,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
