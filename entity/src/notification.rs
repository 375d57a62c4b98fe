use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notifications")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: Uuid,
    pub kind: NotificationKind,
    pub message: String,
    pub event_id: Option<Uuid>,
    /// The group it is about, when it is about a group rather than an event.
    pub group_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub read_at: Option<DateTimeUtc>,
    // `mail_due_at` and `mail_attempts` are no longer read or written (mail goes through
    // `mail_outbox`); the columns stay one more release so that processes of the previous one
    // keep working during a rolling upgrade.
}

/// What a notification tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum NotificationKind {
    /// A place opened up and the member moved from the waitlist to GOING.
    #[sea_orm(string_value = "WAITLIST_PROMOTED")]
    WaitlistPromoted,
    /// An event the member answered changed its time or place.
    #[sea_orm(string_value = "EVENT_CHANGED")]
    EventChanged,
    /// An event the member answered was cancelled.
    #[sea_orm(string_value = "EVENT_CANCELLED")]
    EventCancelled,
    /// Someone says they met the member at an event.
    #[sea_orm(string_value = "MEETING_REQUESTED")]
    MeetingRequested,
    /// The member now organises a group whose organiser left Kith.
    #[sea_orm(string_value = "GROUP_HANDED_OVER")]
    GroupHandedOver,
    /// An event the member is going to starts in 24 hours, or in 2.
    #[sea_orm(string_value = "EVENT_REMINDER")]
    EventReminder,
    /// Someone replied to the member's comment.
    #[sea_orm(string_value = "COMMENT_REPLY")]
    CommentReply,
    /// Someone commented on an event the member hosts.
    #[sea_orm(string_value = "EVENT_COMMENT")]
    EventComment,
    /// An organiser (or an event's host) announced something to the group or the event.
    #[sea_orm(string_value = "ANNOUNCEMENT")]
    Announcement,
    /// Someone sent the member a private message.
    #[sea_orm(string_value = "MESSAGE")]
    Message,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
