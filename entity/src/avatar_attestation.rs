use sea_orm::entity::prelude::*;

/// One of a meeting's two people saying the other's avatar of that moment (`image_id`) is
/// the person they met. It counts while the meeting is CONFIRMED and the attester is not
/// banned.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "avatar_attestations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub meeting_id: Uuid,
    /// Who attests.
    pub attester_id: Uuid,
    /// Whose avatar it was.
    pub subject_id: Uuid,
    /// The exact image: a new avatar is a new image, attested by no one yet.
    pub image_id: Uuid,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
