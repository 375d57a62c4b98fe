//! The `Node` interface and `node(id:)`.

use async_graphql::{Context, ID, Interface, Object};

use crate::domain::{accounts, comments, events, groups, interests, memberships, rsvps, series};
use crate::domain::{devices, meetings, messages, notifications, sessions, visibility};
use crate::error::{AppError, AppResult};
use crate::graphql::comments::Comment;
use crate::graphql::context::{optional_member, state};
use crate::graphql::events::{Event, EventSeries, Rsvp};
use crate::graphql::groups::{Group, Membership};
use crate::graphql::ids::{self, Kind};
use crate::graphql::interests::Interest;
use crate::graphql::limits;
use crate::graphql::meetings::MeetingConfirmation;
use crate::graphql::messages::{Conversation, Message};
use crate::graphql::notifications::Notification;
use crate::graphql::pagination::MAX_PAGE_SIZE;
use crate::graphql::push::Device;
use crate::graphql::sessions::Session;
use crate::graphql::users::User;
use futures::StreamExt;

/// An object with a global ID, which `node(id:)` finds again.
#[derive(Interface)]
#[graphql(field(name = "id", ty = "ID", desc = "Opaque ID, unique across all types."))]
pub enum Node {
    User(User),
    Interest(Interest),
    Group(Group),
    Membership(Membership),
    Event(Event),
    Rsvp(Rsvp),
    Notification(Notification),
    EventSeries(EventSeries),
    MeetingConfirmation(MeetingConfirmation),
    Session(Session),
    Device(Device),
    Comment(Comment),
    Conversation(Conversation),
    Message(Message),
}

#[derive(Default)]
pub struct NodeQuery;

#[Object]
impl NodeQuery {
    /// Any object by its global ID; null when it does not exist or the viewer may not see it:
    /// a membership is visible to its member and to the group's ACTIVE members, an RSVP to
    /// its member and to the group's ACTIVE members, each unless the two blocked each other
    /// (as in `Group.members` and `Event.attendees`); a meeting confirmation to its two
    /// people; a notification and a session to their member; a comment to the ACTIVE members
    /// of its event's group, unless they and its author blocked each other; a conversation and
    /// its messages to its two members, unless either blocks the other. Profiles, groups, events,
    /// series and interests are public.
    async fn node(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<Node>> {
        Ok(find(ctx, &id).await?)
    }

    /// Objects by their global IDs, at most 100, in the order asked: each as `node(id:)`
    /// finds it, null where it does not exist or the viewer may not see it.
    #[graphql(complexity = "limits::bounded(ids.len(), child_complexity)")]
    async fn nodes(
        &self,
        ctx: &Context<'_>,
        ids: Vec<ID>,
    ) -> async_graphql::Result<Vec<Option<Node>>> {
        if ids.len() > MAX_PAGE_SIZE as usize {
            return Err(
                AppError::bad_input("ids", format!("at most {MAX_PAGE_SIZE} IDs at once")).into(),
            );
        }
        // A few at a time: a hundred IDs must not take the whole pool.
        let lookups: Vec<_> = ids.iter().map(|id| find(ctx, id)).collect();
        let found: Vec<AppResult<Option<Node>>> = futures::stream::iter(lookups)
            .buffered(limits::ROOT_FIELDS_AT_ONCE)
            .collect()
            .await;
        Ok(found.into_iter().collect::<AppResult<_>>()?)
    }
}

/// One object by its global ID, as the viewer may see it (see `visibility`).
async fn find(ctx: &Context<'_>, id: &ID) -> AppResult<Option<Node>> {
    let Some((kind, uuid)) = ids::decode_any(id) else {
        return Ok(None);
    };
    let db = &state(ctx).db;
    let viewer = optional_member(ctx)?;
    let viewer_id = viewer.map(|v| v.sub);
    Ok(match kind {
        Kind::User => accounts::find(db, uuid).await?.map(|u| Node::User(User(u))),
        Kind::Interest => interests::find(db, uuid)
            .await?
            .map(|i| Node::Interest(Interest(i))),
        Kind::Group => groups::find(db, uuid).await?.map(|g| Node::Group(Group(g))),
        Kind::Event => events::find(db, uuid).await?.map(|e| Node::Event(Event(e))),
        Kind::EventSeries => series::find(db, uuid)
            .await?
            .map(|s| Node::EventSeries(EventSeries(s))),
        Kind::Membership => match memberships::find(db, uuid).await? {
            Some(m) if visibility::membership(db, &m, viewer_id).await? => {
                Some(Node::Membership(Membership(m)))
            }
            _ => None,
        },
        Kind::Rsvp => match rsvps::find(db, uuid).await? {
            Some(r) if visibility::rsvp(db, &r, viewer_id).await? => Some(Node::Rsvp(Rsvp(r))),
            _ => None,
        },
        Kind::MeetingConfirmation => meetings::find(db, uuid)
            .await?
            .filter(|c| visibility::meeting_confirmation(c, viewer_id))
            .map(|c| Node::MeetingConfirmation(MeetingConfirmation(c))),
        Kind::Notification => notifications::find(db, uuid)
            .await?
            .filter(|n| visibility::notification(n, viewer_id))
            .map(|n| Node::Notification(Notification(n))),
        Kind::Session => sessions::find(db, uuid)
            .await?
            .filter(|s| visibility::session(s, viewer_id))
            .map(|row| {
                Node::Session(Session {
                    current: viewer.is_some_and(|v| v.sid == row.id),
                    row,
                })
            }),
        Kind::Device => match viewer_id {
            Some(viewer) => devices::of_user(db, viewer)
                .await?
                .into_iter()
                .find(|d| d.id == uuid)
                .map(|d| Node::Device(Device(d))),
            None => None,
        },
        Kind::Comment => match comments::find(db, uuid).await? {
            Some(c) if visibility::comment(db, &c, viewer_id).await? => {
                Some(Node::Comment(Comment(c)))
            }
            _ => None,
        },
        Kind::Conversation => match viewer_id {
            Some(viewer) => messages::visible_side(db, uuid, viewer)
                .await?
                .map(|side| Node::Conversation(Conversation(side))),
            None => None,
        },
        Kind::Message => match (viewer_id, messages::find(db, uuid).await?) {
            (Some(viewer), Some(m))
                if messages::visible_side(db, m.conversation_id, viewer)
                    .await?
                    .is_some() =>
            {
                Some(Node::Message(Message(m)))
            }
            _ => None,
        },
        Kind::Report | Kind::Image => None,
    })
}
