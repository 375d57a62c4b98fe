use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Trimmed and lower-cased before it is stored, so the unique index is case-insensitive.
    #[sea_orm(unique)]
    pub email: String,
    pub email_verified_at: Option<DateTimeUtc>,
    pub password_hash: String,
    pub display_name: String,
    pub bio: Option<String>,
    pub home_lat: Option<f64>,
    pub home_lng: Option<f64>,
    pub time_zone: Option<String>,
    /// The secret in the member's private calendar feed URL; made on first use.
    pub calendar_token: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// Banned by a moderator: their meetings count for no one's trust.
    pub banned_at: Option<DateTimeUtc>,
    /// Reached by the trust flow (see `domain::trust`), as last computed.
    pub trusted: bool,
    /// The member's language (BCP 47, canonical); None is English.
    pub locale: Option<String>,
    /// The avatar (`images.id`), if any.
    pub avatar_image_id: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::session::Entity")]
    Session,
}

impl Related<super::session::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Session.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
