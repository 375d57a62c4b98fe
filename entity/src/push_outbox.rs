use sea_orm::entity::prelude::*;

/// A push owed to one device, written in the transaction of the change it tells of and
/// deleted once the provider took it (or the device is gone).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "push_outbox")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub device_id: Uuid,
    pub notification_id: Option<Uuid>,
    pub title: String,
    pub body: String,
    /// Kith's data for the app, a JSON object of strings.
    pub data: String,
    pub collapse_key: Option<String>,
    pub badge: i32,
    pub expires_at: DateTimeUtc,
    /// When it may be claimed: a little after it is written, so the send that follows the
    /// commit goes first; pushed back by each claim (a lease) and each retry; None once
    /// given up.
    pub due_at: Option<DateTimeUtc>,
    pub attempts: i32,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::device::Entity",
        from = "Column::DeviceId",
        to = "super::device::Column::Id",
        on_delete = "Cascade"
    )]
    Device,
}

impl Related<super::device::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Device.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
