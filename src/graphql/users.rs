//! Members as others see them (`User`) and as they see themselves (`Viewer`).

use async_graphql::{Context, Enum, ID, Object, SimpleObject};
use chrono::Utc;
use entity::user;

use async_graphql::connection::EmptyFields;
use uuid::Uuid;

use crate::domain::events::{self, EndKey, StartKey};
use crate::domain::saved_events::{self, SavedKey};
use crate::domain::{accounts, blocks, meetings, memberships, sessions};
use crate::domain::{calendars, notifications};
use crate::domain::{devices, preferences};
use crate::error::AppError;
use crate::graphql::context::{loaders, optional_member, state};
use crate::graphql::events::{Event, EventConnection, event_page, past_page};
use crate::graphql::geo::GeoPoint;
use crate::graphql::groups::{Membership, MembershipConnection};
use crate::graphql::ids::{self, Kind};
use crate::graphql::interests::Interest;
use crate::graphql::limits;
use crate::graphql::loaders::{InterestsOfUser, VerificationOf};
use crate::graphql::meetings::{MeetingConfirmation, MeetingConfirmationConnection};
use crate::graphql::notifications::{Notification, NotificationConnection};
use crate::graphql::pagination::{PageRequest, TotalCount, connection};
use crate::graphql::push::{Device, NotificationSetting};
use crate::graphql::scalars::Time;
use crate::graphql::sessions::Session;

// Pages of upcoming events kept per process (`domain::kept_pages`) hold their hosts' rows and
// are renewed only when `display_name`, `bio` or `avatar_image_id` change (`HOST_COLUMNS` in
// migration m20261130_000024_group_versions): a field here that reads another column of the
// row needs that column added there, in a migration of its own.
pub struct User(pub user::Model);

/// A member's public profile. Email, home location and time zone are never shown here.
#[Object]
impl User {
    /// Opaque, stable ID.
    pub async fn id(&self) -> ID {
        ids::encode(Kind::User, self.0.id)
    }

    /// The member's share link, `KITH_PUBLIC_URL` + `/u/{id}`, where `{id}` is this `id`
    /// unchanged: its page (name, bio, avatar; nothing else) shows a preview in chat apps
    /// and opens the apps where they are installed, which pass the last path segment to
    /// `user(id:)` or `node(id:)`. A banned member's page is not found.
    async fn url(&self, ctx: &Context<'_>) -> String {
        format!(
            "{}{}",
            state(ctx).config.public_url,
            crate::links::user_path(self.0.id)
        )
    }

    /// The name the member chose, 1–60 characters.
    async fn display_name(&self) -> &str {
        &self.0.display_name
    }

    /// A few words about the member, up to 2,000 characters; null when none.
    async fn bio(&self) -> Option<&str> {
        self.0.bio.as_deref()
    }

    /// The member's picture (`setAvatar`); null when none.
    async fn avatar(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<crate::graphql::images::Image>> {
        crate::graphql::images::image_of(ctx, self.0.avatar_image_id).await
    }

    /// The member's interests, by name.
    async fn interests(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Interest>> {
        Ok(loaders(ctx)
            .load_one(InterestsOfUser(self.0.id))
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(Interest)
            .collect())
    }

    /// When the account was made.
    async fn member_since(&self) -> Time {
        Time(self.0.created_at)
    }

    /// How far the profile is shown to belong to a real person. Anyone may see this; who
    /// confirmed meeting whom is visible only to those two people.
    async fn verification(&self, ctx: &Context<'_>) -> async_graphql::Result<Verification> {
        let v = loaders(ctx)
            .load_one(VerificationOf(self.0.id))
            .await?
            .ok_or(AppError::NotFound("user"))?;
        Ok(Verification {
            email_verified: v.email_verified,
            in_person_count: v.in_person_count,
            level: v.level.into(),
        })
    }
}

/// How far a profile is verified.
#[derive(SimpleObject)]
pub struct Verification {
    /// The member proved they read mail at their address.
    pub email_verified: bool,
    /// Distinct people with a confirmed, unwithdrawn in-person meeting with this member.
    pub in_person_count: i32,
    /// The level reached.
    pub level: VerificationLevel,
}

/// Verification levels, each including the ones before.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "crate::domain::verification::Level")]
pub enum VerificationLevel {
    /// Nothing is verified yet.
    Unverified,
    /// The email address is verified.
    Email,
    /// And at least one in-person meeting confirmed at an event where a host checked both
    /// people in.
    InPerson,
    /// And reached by trust flowing from established organisers (the ORGANIZER of a group
    /// with at least 3 past events over 3 weeks and 12 members with verified addresses
    /// checked in by a host) through confirmed meetings, each person passing on only a
    /// limited amount (the nearer an organiser, the more). Accounts that only confirm one
    /// another never get there, however many; a banned member's meetings count for no one.
    /// Recomputed every minute.
    Trusted,
}

pub struct Viewer(pub user::Model);

/// The signed-in member, with what only they may see.
#[Object]
impl Viewer {
    /// The member's `User` ID: a normalised cache keeps one `Viewer` per member.
    async fn id(&self) -> ID {
        ids::encode(Kind::User, self.0.id)
    }

    /// How many of the viewer's notifications are unread (the app's badge).
    async fn unread_notification_count(&self, ctx: &Context<'_>) -> async_graphql::Result<u64> {
        Ok(notifications::unread_count(&state(ctx).db, self.0.id).await?)
    }

    /// The viewer's public profile, as others see it.
    async fn user(&self) -> User {
        User(self.0.clone())
    }

    /// The viewer's email address (trimmed and lower-cased).
    async fn email(&self) -> &str {
        &self.0.email
    }

    /// The viewer's home, used to rank what is near; private, never shown to anyone else.
    async fn home_location(&self) -> Option<GeoPoint> {
        match (self.0.home_lat, self.0.home_lng) {
            (Some(lat), Some(lng)) => Some(GeoPoint { lat, lng }),
            _ => None,
        }
    }

    /// The viewer's IANA time zone (`Europe/Berlin`), if set.
    async fn time_zone(&self) -> Option<&str> {
        self.0.time_zone.as_deref()
    }

    /// The viewer's language as a canonical BCP 47 tag (`de-AT`), if set; notifications,
    /// pushes and mail are written in it (English, German or Spanish; English for the rest
    /// and when unset).
    async fn locale(&self) -> Option<&str> {
        self.0.locale.as_deref()
    }

    /// The viewer's devices that receive pushes, oldest first: those registered by a session
    /// that has not ended (at most 5 per session and 20 in all: registering more forgets the
    /// one seen longest ago).
    async fn devices(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Device>> {
        Ok(devices::of_user(&state(ctx).db, self.0.id)
            .await?
            .into_iter()
            .map(Device)
            .collect())
    }

    /// How the viewer hears of each kind of notification: one entry per `NotificationKind`.
    /// In-app notifications are always stored; these choose push and mail. Defaults: every
    /// kind by push; every kind by mail except EVENT_REMINDER, COMMENT_REPLY and EVENT_COMMENT.
    async fn notification_settings(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<NotificationSetting>> {
        Ok(preferences::of_user(&state(ctx).db, self.0.id)
            .await?
            .into_iter()
            .map(NotificationSetting::from)
            .collect())
    }

    /// Events that have not ended which the viewer is GOING or WAITLISTED to, soonest first
    /// (cancelled ones included, with status CANCELLED).
    #[graphql(complexity = "limits::page(first, child_complexity)")]
    async fn upcoming_events(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<EventConnection> {
        let page = PageRequest::<StartKey>::parse(first, after)?;
        let rows = events::upcoming_for_member(
            &state(ctx).db,
            self.0.id,
            page.after,
            page.fetch_limit(),
            Utc::now(),
        )
        .await?;
        Ok(event_page(&page, rows))
    }

    /// The viewer's feed, soonest first (ties by ID): events that have not ended of the
    /// groups the viewer is an ACTIVE member of, and those the viewer is GOING or
    /// WAITLISTED to in any group; cancelled ones stay, with status CANCELLED, as in
    /// `upcomingEvents`.
    #[graphql(complexity = "limits::page(first, child_complexity)")]
    async fn feed(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<EventConnection> {
        let page = PageRequest::<StartKey>::parse(first, after)?;
        let rows = crate::domain::discovery::feed(
            &state(ctx).db,
            self.0.id,
            page.after,
            page.fetch_limit(),
            Utc::now(),
        )
        .await?;
        Ok(event_page(&page, rows))
    }

    /// Events that have ended which the viewer was GOING to, most recently ended first
    /// (cancelled ones left out); `Rsvp.attended` on `viewerRsvp` tells whether they came.
    #[graphql(complexity = "limits::page(first, child_complexity)")]
    async fn past_events(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<EventConnection> {
        let page = PageRequest::<EndKey>::parse(first, after)?;
        let rows = events::past_for_member(
            &state(ctx).db,
            self.0.id,
            page.after,
            page.fetch_limit(),
            Utc::now(),
        )
        .await?;
        Ok(past_page(&page, rows))
    }

    /// The events the viewer saved (`saveEvent`), most recently saved first, whatever their
    /// status or time (at most 1,000 are kept).
    #[graphql(complexity = "limits::page(first, child_complexity)")]
    async fn saved_events(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<EventConnection> {
        let page = PageRequest::<SavedKey>::parse(first, after)?;
        let rows =
            saved_events::of_member(&state(ctx).db, self.0.id, page.after, page.fetch_limit())
                .await?;
        Ok(connection(
            &page,
            rows,
            |(key, _)| *key,
            |(_, e)| (Event(e), EmptyFields),
            EmptyFields,
        ))
    }

    /// The members the viewer blocked, most recent first: the `first` of them (1 to 100,
    /// default 20).
    #[graphql(complexity = "limits::page(first, child_complexity)")]
    async fn blocked_users(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
    ) -> async_graphql::Result<Vec<User>> {
        let page = PageRequest::<()>::parse(first, None)?;
        Ok(blocks::blocked_by(&state(ctx).db, self.0.id, page.first)
            .await?
            .into_iter()
            .map(User)
            .collect())
    }

    /// The viewer's signed-in devices, most recently used first: the `first` of them (1 to
    /// 100, default 20); `current` marks this one. `revokeSession` ends one.
    #[graphql(complexity = "limits::page(first, child_complexity)")]
    async fn sessions(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
    ) -> async_graphql::Result<Vec<Session>> {
        let viewer = crate::graphql::context::member(ctx)?;
        let page = PageRequest::<()>::parse(first, None)?;
        Ok(
            sessions::active_of(&state(ctx).db, self.0.id, page.first, chrono::Utc::now())
                .await?
                .into_iter()
                .map(|row| Session {
                    current: row.id == viewer.sid,
                    row,
                })
                .collect(),
        )
    }

    /// Meeting confirmations awaiting the viewer's answer (`respondToMeeting`), newest
    /// first: someone scanned the viewer's token and says they met.
    #[graphql(complexity = "limits::page(first, child_complexity)")]
    async fn pending_meeting_confirmations(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<MeetingConfirmationConnection> {
        let db = &state(ctx).db;
        let page = PageRequest::<Uuid>::parse(first, after)?;
        let rows = meetings::pending_for(db, self.0.id, page.after, page.fetch_limit()).await?;
        let total_count = meetings::pending_count(db, self.0.id).await?;
        Ok(connection(
            &page,
            rows,
            |c| c.id,
            |c| (MeetingConfirmation(c), EmptyFields),
            TotalCount { total_count },
        ))
    }

    /// The viewer's private conversations, latest activity first, leaving out those with a
    /// member either of them blocked. `first` is 1–100 (default 20). A conversation that
    /// moves up while the app pages (a new message) may show again on a later page or be
    /// passed over: the first page is always the latest.
    #[graphql(complexity = "limits::page(first, child_complexity)")]
    async fn conversations(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<crate::graphql::messages::ConversationConnection> {
        crate::graphql::messages::of_viewer(ctx, self.0.id, first, after).await
    }

    /// What the viewer was told, newest first; `unreadOnly` keeps the unread ones.
    #[graphql(complexity = "limits::page(first, child_complexity)")]
    async fn notifications(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        #[graphql(default)] unread_only: bool,
    ) -> async_graphql::Result<NotificationConnection> {
        let page = PageRequest::<Uuid>::parse(first, after)?;
        let rows = notifications::of_user(
            &state(ctx).db,
            self.0.id,
            unread_only,
            page.after,
            page.fetch_limit(),
        )
        .await?;
        Ok(connection(
            &page,
            rows,
            |n| n.id,
            |n| (Notification(n), EmptyFields),
            EmptyFields,
        ))
    }

    /// The viewer's private calendar feed (iCalendar): every event they are GOING or
    /// WAITLISTED to, cancellations included, so a calendar app that subscribes follows
    /// changes. Anyone with the URL can read it: `resetCalendarFeed` replaces it.
    async fn calendar_feed_url(&self, ctx: &Context<'_>) -> async_graphql::Result<String> {
        let state = state(ctx);
        let token = calendars::feed_token(&state.db, &self.0).await?;
        Ok(format!("{}/calendar/{token}.ics", state.config.public_url))
    }

    /// The viewer's memberships, ACTIVE and PENDING, in the order they were made.
    #[graphql(complexity = "limits::page(first, child_complexity)")]
    async fn memberships(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<MembershipConnection> {
        let db = &state(ctx).db;
        let page = PageRequest::<Uuid>::parse(first, after)?;
        let rows = memberships::of_user(db, self.0.id, page.after, page.fetch_limit()).await?;
        Ok(connection(
            &page,
            rows,
            |m| m.id,
            |m| (Membership(m), EmptyFields),
            EmptyFields,
        ))
    }
}

#[derive(Default)]
pub struct UserQuery;

#[Object]
impl UserQuery {
    /// The signed-in member; null when no access token is sent. An invalid or expired token
    /// is UNAUTHENTICATED (refresh the session and try again).
    async fn viewer(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Viewer>> {
        let Some(claims) = optional_member(ctx)? else {
            return Ok(None);
        };
        let user = accounts::get_viewer(&state(ctx).db, claims.sub).await?;
        Ok(Some(Viewer(user)))
    }

    /// A member's public profile; null when there is no such member.
    async fn user(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<User>> {
        let id = ids::decode(Kind::User, "id", &id)?;
        Ok(accounts::find(&state(ctx).db, id).await?.map(User))
    }
}
