use sea_orm::entity::prelude::*;

/// A recurrence rule; its occurrences are rows of `events` with this `series_id`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "event_series")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub group_id: Uuid,
    /// The RRULE value, as `FREQ=WEEKLY;COUNT=8`.
    pub recurrence: String,
    /// The zone in which occurrences keep their wall-clock time.
    pub time_zone: String,
    pub created_at: DateTimeUtc,
    /// The rule gives no more occurrences: nothing left to top up.
    pub complete: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
