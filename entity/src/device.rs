use sea_orm::entity::prelude::*;

/// Where a member's pushes go: one phone app or browser, tied to the session that
/// registered it. One row per token: registering a token again moves it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "devices")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: Uuid,
    /// The session that registered it: when it ends, the device hears nothing more.
    pub session_id: Uuid,
    pub platform: Platform,
    /// The APNs device token, the FCM registration token, or the Web Push endpoint.
    pub token: String,
    /// Web Push only: the subscription's public key and auth secret (base64url).
    pub p256dh: Option<String>,
    pub auth: Option<String>,
    pub app_version: Option<String>,
    pub created_at: DateTimeUtc,
    pub last_seen_at: DateTimeUtc,
}

/// The push service a device is reached through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum Platform {
    /// Apple Push Notification service.
    #[sea_orm(string_value = "IOS")]
    Ios,
    /// Firebase Cloud Messaging (HTTP v1).
    #[sea_orm(string_value = "ANDROID")]
    Android,
    /// RFC 8030 Web Push with RFC 8291 encryption and RFC 8292 VAPID.
    #[sea_orm(string_value = "WEB_PUSH")]
    WebPush,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::session::Entity",
        from = "Column::SessionId",
        to = "super::session::Column::Id",
        on_delete = "Cascade"
    )]
    Session,
}

impl Related<super::session::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Session.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
