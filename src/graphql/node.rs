//! The `Node` interface and `node(id:)`.

use async_graphql::{Context, ID, Interface, Object};

use crate::domain::{accounts, events, groups, interests, memberships, rsvps, series};
use crate::domain::{meetings, notifications, sessions};
use crate::graphql::context::{optional_member, state};
use crate::graphql::events::{Event, EventSeries, Rsvp};
use crate::graphql::groups::{Group, Membership};
use crate::graphql::ids::{self, Kind};
use crate::graphql::interests::Interest;
use crate::graphql::meetings::MeetingConfirmation;
use crate::graphql::notifications::Notification;
use crate::graphql::sessions::Session;
use crate::graphql::users::User;

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
}

#[derive(Default)]
pub struct NodeQuery;

#[Object]
impl NodeQuery {
    /// Any object by its global ID; null when it does not exist or the viewer may not see it
    /// (a membership is visible to its member and to the group's ACTIVE members; a meeting
    /// confirmation to its two people).
    async fn node(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<Node>> {
        let Some((kind, uuid)) = ids::decode_any(&id) else {
            return Ok(None);
        };
        let db = &state(ctx).db;
        Ok(match kind {
            Kind::User => accounts::find(db, uuid).await?.map(|u| Node::User(User(u))),
            Kind::Interest => interests::find(db, uuid)
                .await?
                .map(|i| Node::Interest(Interest(i))),
            Kind::Group => groups::find(db, uuid).await?.map(|g| Node::Group(Group(g))),
            // Who belongs to a group is for its members (and the member) to see.
            Kind::Membership => match (memberships::find(db, uuid).await?, optional_member(ctx)?) {
                (Some(m), Some(viewer))
                    if m.user_id == viewer.sub
                        || memberships::is_active_member(db, m.group_id, viewer.sub).await? =>
                {
                    Some(Node::Membership(Membership(m)))
                }
                _ => None,
            },
            Kind::Event => events::find(db, uuid).await?.map(|e| Node::Event(Event(e))),
            Kind::EventSeries => series::find(db, uuid)
                .await?
                .map(|s| Node::EventSeries(EventSeries(s))),
            // Who confirmed meeting whom is for those two people alone.
            Kind::MeetingConfirmation => match optional_member(ctx)? {
                Some(viewer) => meetings::find_for(db, viewer.sub, uuid)
                    .await?
                    .map(|c| Node::MeetingConfirmation(MeetingConfirmation(c))),
                None => None,
            },
            // A member's devices are theirs alone.
            Kind::Session => match optional_member(ctx)? {
                Some(viewer) => sessions::find(db, uuid)
                    .await?
                    .filter(|s| s.user_id == viewer.sub)
                    .map(|row| {
                        Node::Session(Session {
                            current: row.id == viewer.sid,
                            row,
                        })
                    }),
                None => None,
            },
            Kind::Report => None,
            // Notifications are their member's alone.
            Kind::Notification => {
                match (notifications::find(db, uuid).await?, optional_member(ctx)?) {
                    (Some(n), Some(viewer)) if n.user_id == viewer.sub => {
                        Some(Node::Notification(Notification(n)))
                    }
                    _ => None,
                }
            }
            // An answer is for the member and the group's members to see, like the attendee list.
            Kind::Rsvp => match (rsvps::find(db, uuid).await?, optional_member(ctx)?) {
                (Some(r), Some(viewer)) if r.user_id == viewer.sub => Some(Node::Rsvp(Rsvp(r))),
                (Some(r), Some(viewer)) => match events::find(db, r.event_id).await? {
                    Some(e)
                        if memberships::is_active_member(db, e.group_id, viewer.sub).await? =>
                    {
                        Some(Node::Rsvp(Rsvp(r)))
                    }
                    _ => None,
                },
                _ => None,
            },
        })
    }
}
