use sea_orm::entity::prelude::*;

/// A short code mailed to a member (email verification, later password reset).
/// Stored as a keyed hash; only the newest code of a purpose counts.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "one_time_codes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: Uuid,
    pub purpose: CodePurpose,
    /// The address the code was mailed to: a code proves that address only.
    pub sent_to: String,
    pub code_hash: String,
    pub attempts: i32,
    pub expires_at: DateTimeUtc,
    pub created_at: DateTimeUtc,
    pub consumed_at: Option<DateTimeUtc>,
}

/// What a code is for; a code made for one purpose never serves another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum CodePurpose {
    /// Proves the member reads mail at the address.
    #[sea_orm(string_value = "verify_email")]
    VerifyEmail,
    /// Lets the member choose a new password.
    #[sea_orm(string_value = "reset_password")]
    ResetPassword,
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
}

impl ActiveModelBehavior for ActiveModel {}
