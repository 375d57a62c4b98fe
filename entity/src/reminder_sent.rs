use sea_orm::entity::prelude::*;

/// A reminder that went to a member for one start of an event: the primary key is what
/// makes it go once whatever the number of processes, and a moved event be reminded anew.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "reminders_sent")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub event_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: Uuid,
    /// How long before the start: 1440 or 120.
    #[sea_orm(primary_key, auto_increment = false)]
    pub lead_minutes: i32,
    #[sea_orm(primary_key, auto_increment = false)]
    pub starts_at: DateTimeUtc,
    pub sent_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
