use sea_orm::entity::prelude::*;

/// One processed upload: the names of its three stored files (content-derived, so two rows
/// may name the same files) and what the API tells of it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "images")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Who uploaded it; null once their account is gone (a group's or event's photo stays).
    pub owner_id: Option<Uuid>,
    /// Fits 160 px.
    pub small_name: String,
    /// Fits 640 px.
    pub medium_name: String,
    /// Fits 1,600 px.
    pub large_name: String,
    /// Of the upright picture, as stored at LARGE.
    pub width: i32,
    pub height: i32,
    pub blurhash: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
