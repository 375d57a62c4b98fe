use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "groups")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Made from the name at creation; never changes.
    #[sea_orm(unique)]
    pub slug: String,
    pub name: String,
    pub description: String,
    pub lat: f64,
    pub lng: f64,
    /// The H3 cell (resolution 11) holding the location: the spatial index (see `domain::geo`).
    pub cell: i64,
    pub city: String,
    pub time_zone: String,
    pub join_policy: JoinPolicy,
    /// ACTIVE members, kept in step by the membership rules.
    pub member_count: i32,
    /// Set when the group closed (its only organiser left Kith with no co-organiser to take
    /// over): it takes no members or events, and its `cell` is `CLOSED_CELL`, so no search
    /// finds it.
    pub closed_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// The group's photo (`images.id`), if any.
    pub photo_image_id: Option<Uuid>,
}

/// How people join a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum JoinPolicy {
    /// Anyone may join at once.
    #[sea_orm(string_value = "OPEN")]
    Open,
    /// An organiser approves each request.
    #[sea_orm(string_value = "APPROVAL")]
    Approval,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl Related<super::group_version::Entity> for Entity {
    fn to() -> RelationDef {
        super::group_version::Relation::Group.def().rev()
    }
}

impl ActiveModelBehavior for ActiveModel {}
