use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "memberships")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub group_id: Uuid,
    pub user_id: Uuid,
    pub role: Role,
    pub status: MembershipStatus,
    pub created_at: DateTimeUtc,
    /// When the membership became ACTIVE.
    pub joined_at: Option<DateTimeUtc>,
}

/// A member's role in a group, from most to least powerful.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum Role {
    /// Runs the group and names roles.
    #[sea_orm(string_value = "ORGANIZER")]
    Organizer,
    /// Changes the group, approves members, creates and changes events.
    #[sea_orm(string_value = "CO_ORGANIZER")]
    CoOrganizer,
    /// Creates events and changes the ones they host.
    #[sea_orm(string_value = "EVENT_HOST")]
    EventHost,
    /// Takes part.
    #[sea_orm(string_value = "MEMBER")]
    Member,
}

/// Where a membership stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum MembershipStatus {
    /// A member of the group.
    #[sea_orm(string_value = "ACTIVE")]
    Active,
    /// Asked to join an APPROVAL group; no organiser has decided yet.
    #[sea_orm(string_value = "PENDING")]
    Pending,
    /// Never stored: the answer to a declined request, which is removed.
    #[sea_orm(string_value = "DECLINED")]
    Declined,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::user::Entity",
        from = "Column::UserId",
        to = "super::user::Column::Id",
        on_delete = "Cascade"
    )]
    User,
    #[sea_orm(
        belongs_to = "super::group::Entity",
        from = "Column::GroupId",
        to = "super::group::Column::Id",
        on_delete = "Cascade"
    )]
    Group,
}

impl Related<super::user::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::User.def()
    }
}

impl Related<super::group::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Group.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
