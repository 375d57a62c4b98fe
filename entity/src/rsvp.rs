use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "rsvps")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub event_id: Uuid,
    pub user_id: Uuid,
    /// `GOING`, `WAITLISTED` or `NOT_GOING`.
    pub status: String,
    /// The waitlist ticket while WAITLISTED: lower is earlier in the queue.
    pub waitlist_seq: Option<i64>,
    pub checked_in: bool,
    /// How: `HOST` (a host checked them in) or `LOCATION` (their phone was at the venue).
    pub check_in_method: Option<String>,
    pub checked_in_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
