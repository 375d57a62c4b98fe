use sea_orm::entity::prelude::*;

/// A member's comment under an event, or a reply to one (one level deep). A deleted
/// comment keeps its row, with `body` null and `deleted_at` set; a comment of a deleted
/// account also loses its author.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "comments")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub event_id: Uuid,
    pub author_id: Option<Uuid>,
    /// The comment replied to; None for a comment at the top.
    pub parent_id: Option<Uuid>,
    pub body: Option<String>,
    pub created_at: DateTimeUtc,
    pub edited_at: Option<DateTimeUtc>,
    pub deleted_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
