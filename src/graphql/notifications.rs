//! What a member is told: a waitlist promotion, a moved or cancelled event.

use async_graphql::{Context, Enum, ID, InputObject, Object};
use chrono::Utc;
use entity::notification;

use crate::connection_name;
use crate::domain::{accounts, notifications};
use crate::error::AppError;
use crate::graphql::context::{loaders, member_id, state};
use crate::graphql::events::Event;
use crate::graphql::groups::Group;
use crate::graphql::ids::{self, Kind};
use crate::graphql::loaders::{EventById, GroupById};
use crate::graphql::pagination::Conn;
use crate::graphql::pagination::MAX_PAGE_SIZE;
use crate::graphql::scalars::Time;
use crate::graphql::users::Viewer;

/// What happened.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::notification::NotificationKind")]
pub enum NotificationKind {
    /// A place opened up and the member moved from the waitlist to GOING.
    WaitlistPromoted,
    /// An event the member is GOING or WAITLISTED to changed its time or place.
    EventChanged,
    /// An event the member is GOING or WAITLISTED to was cancelled.
    EventCancelled,
    /// Someone says they met the member at an event: confirm or decline it
    /// (`Viewer.pendingMeetingConfirmations`).
    MeetingRequested,
    /// The group's organiser deleted their account and the member, its longest-standing
    /// co-organiser, now organises it.
    GroupHandedOver,
    /// An event the member is GOING to starts in 24 hours (for those who said yes before
    /// then), or in 2 hours.
    EventReminder,
    /// Someone replied to the member's comment (`event` is where).
    CommentReply,
    /// Someone commented on an event the member hosts.
    EventComment,
    /// An organiser or an event's host announced something to the group (`group`) or to the
    /// people GOING and WAITLISTED to an event (`event`); the message is theirs.
    Announcement,
    /// Someone sent the member a private message (`Viewer.conversations`; a push carries
    /// the `conversationId`). By push, not by mail, unless the member chooses otherwise.
    Message,
}

pub struct Notification(pub notification::Model);

/// Something the member was told, written in the member's language (`Viewer.locale`). It is
/// always stored; it is also pushed to the member's devices and mailed as their
/// `notificationSettings` ask, after the change that caused it is committed (never for a
/// change that rolled back).
#[Object]
impl Notification {
    /// Opaque, stable ID.
    pub async fn id(&self) -> ID {
        ids::encode(Kind::Notification, self.0.id)
    }

    /// What happened.
    async fn kind(&self) -> NotificationKind {
        self.0.kind.into()
    }

    /// A sentence for the member.
    async fn message(&self) -> &str {
        &self.0.message
    }

    /// The event it is about.
    async fn event(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Event>> {
        let Some(id) = self.0.event_id else {
            return Ok(None);
        };
        Ok(loaders(ctx).load_one(EventById(id)).await?.map(Event))
    }

    /// The group it is about (GROUP_HANDED_OVER); null for the others.
    async fn group(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Group>> {
        let Some(id) = self.0.group_id else {
            return Ok(None);
        };
        Ok(loaders(ctx).load_one(GroupById(id)).await?.map(Group))
    }

    /// When it was made.
    async fn created_at(&self) -> Time {
        Time(self.0.created_at)
    }

    /// When the member marked it read; null while unread.
    async fn read_at(&self) -> Option<Time> {
        self.0.read_at.map(Time)
    }
}

connection_name!(
    NotificationConnectionName,
    "NotificationConnection",
    "NotificationEdge"
);
pub type NotificationConnection = Conn<Notification, NotificationConnectionName>;

/// The notifications to mark read.
#[derive(InputObject)]
pub struct MarkNotificationsReadInput {
    /// Notification IDs of the viewer (others' are ignored).
    pub ids: Vec<ID>,
}

#[derive(Default)]
pub struct NotificationMutation;

#[Object]
impl NotificationMutation {
    /// Marks the viewer's notifications read (at most 100 IDs at once) and answers the
    /// viewer, with the new `unreadNotificationCount`. IDs that are not the viewer's
    /// notifications change nothing.
    async fn mark_notifications_read(
        &self,
        ctx: &Context<'_>,
        input: MarkNotificationsReadInput,
    ) -> async_graphql::Result<Viewer> {
        let viewer = member_id(ctx)?;
        if input.ids.len() > MAX_PAGE_SIZE as usize {
            return Err(AppError::bad_input(
                "input.ids",
                format!("at most {MAX_PAGE_SIZE} notifications at once"),
            )
            .into());
        }
        let ids = ids::decode_all(Kind::Notification, "input.ids", &input.ids)?;
        let db = &state(ctx).db;
        notifications::mark_read(db, viewer, Some(&ids), Utc::now()).await?;
        Ok(Viewer(accounts::get_viewer(db, viewer).await?))
    }

    /// Marks every notification of the viewer read (the app's badge goes to 0) and answers
    /// the viewer.
    async fn mark_all_notifications_read(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Viewer> {
        let viewer = member_id(ctx)?;
        let db = &state(ctx).db;
        notifications::mark_read(db, viewer, None, Utc::now()).await?;
        Ok(Viewer(accounts::get_viewer(db, viewer).await?))
    }
}
