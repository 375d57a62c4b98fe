//! Subscriptions, over WebSocket at `/graphql/ws` (see `http::ws`): what a member hears as
//! soon as it is committed.

use async_graphql::{Context, Enum, ID, SimpleObject, Subscription};
use futures::{Stream, StreamExt};
use tokio::sync::broadcast::error::RecvError;

use crate::domain::{comments, events, memberships, messages, notifications};
use crate::error::AppError;
use crate::graphql::comments::Comment;
use crate::graphql::context::{member_id, state};
use crate::graphql::events::Event;
use crate::graphql::ids::{self, Kind};
use crate::graphql::messages::Message;
use crate::graphql::notifications::Notification;
use crate::live::{Bus, Change, Heard};

/// What changed about an event.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "crate::live::EventChange")]
pub enum EventChangeKind {
    /// Its details: time, place, capacity, title or description.
    Updated,
    /// It was cancelled.
    Cancelled,
    /// Who is going or waiting (the counts), or who is checked in.
    RsvpsChanged,
}

/// A change to an event, with the event as it is now.
#[derive(SimpleObject)]
pub struct EventChange {
    /// What changed.
    pub kind: EventChangeKind,
    /// The event after the change.
    pub event: Event,
}

/// Every change published from now on, in order; a subscriber that falls behind skips
/// what it missed rather than holding up anyone.
fn changes(bus: &Bus) -> impl Stream<Item = Heard> + use<> {
    futures::stream::unfold(bus.subscribe(), |mut rx| async move {
        loop {
            match rx.recv().await {
                Ok(change) => return Some((change, rx)),
                Err(RecvError::Lagged(missed)) => {
                    tracing::debug!(missed, "a slow subscriber skipped changes");
                }
                Err(RecvError::Closed) => return None,
            }
        }
    })
}

#[derive(Default)]
pub struct Subscription;

/// What signed-in members hear live. Subscriptions run over WebSocket at `/graphql/ws`
/// (protocol `graphql-transport-ws`, access token in `connection_init`'s payload as
/// `{"accessToken": "..."}`). Delivery is best effort: a change made while the app was
/// disconnected, or that a slow connection skipped, is not replayed. An app that
/// (re)connects catches up by reading `Viewer.notifications` and the events it shows.
#[Subscription]
impl Subscription {
    /// Each committed change to the event: UPDATED, CANCELLED or RSVPS_CHANGED, with the
    /// event as it is after the change. NOT_FOUND for an unknown event.
    async fn event_changed(
        &self,
        ctx: &Context<'_>,
        event_id: ID,
    ) -> async_graphql::Result<impl Stream<Item = EventChange> + use<>> {
        member_id(ctx)?;
        let id = ids::decode(Kind::Event, "eventId", &event_id)?;
        let bus = state(ctx).bus().clone();
        events::find(&state(ctx).db, id)
            .await?
            .ok_or(AppError::NotFound("event"))?;
        Ok(changes(&bus.clone()).filter_map(move |heard| {
            let bus = bus.clone();
            async move {
                let Change::Event { id: changed, kind } = heard.change else {
                    return None;
                };
                if changed != id {
                    return None;
                }
                let event = bus.event_after(&heard, id).await?;
                Some(EventChange {
                    kind: kind.into(),
                    event: Event(event),
                })
            }
        }))
    }

    /// Each comment added to the event (a reply too) once it is committed, as the
    /// subscriber may see it: ACTIVE members of the group only (FORBIDDEN otherwise; a
    /// member who leaves hears no more), and nothing from anyone blocked either way.
    /// NOT_FOUND for an unknown event.
    async fn comment_added(
        &self,
        ctx: &Context<'_>,
        event_id: ID,
    ) -> async_graphql::Result<impl Stream<Item = Comment> + use<>> {
        let viewer = member_id(ctx)?;
        let id = ids::decode(Kind::Event, "eventId", &event_id)?;
        let db = state(ctx).db.clone();
        let event = events::find(&db, id)
            .await?
            .ok_or(AppError::NotFound("event"))?;
        if !memberships::is_active_member(&db, event.group_id, viewer).await? {
            return Err(AppError::forbidden(
                "only members of the group hear the comments on its events",
            )
            .into());
        }
        Ok(changes(state(ctx).bus()).filter_map(move |heard| {
            let db = db.clone();
            async move {
                let Change::Comment {
                    id: comment_id,
                    event_id,
                } = heard.change
                else {
                    return None;
                };
                if event_id != id {
                    return None;
                }
                let row = comments::find(&db, comment_id).await.ok().flatten()?;
                comments::visible(&db, &row, viewer)
                    .await
                    .ok()?
                    .then_some(Comment(row))
            }
        }))
    }

    /// Each private message sent to the signed-in member once it is committed, and each
    /// they sent (from any of their devices), so every device shows the conversation as it
    /// is. Nothing from or to a member blocked either way.
    async fn message_received(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<impl Stream<Item = Message> + use<>> {
        let viewer = member_id(ctx)?;
        let db = state(ctx).db.clone();
        Ok(changes(state(ctx).bus()).filter_map(move |heard| {
            let db = db.clone();
            async move {
                let Change::Message { id, from, to } = heard.change else {
                    return None;
                };
                if viewer != from && viewer != to {
                    return None;
                }
                let row = messages::find(&db, id).await.ok().flatten()?;
                messages::visible_side(&db, row.conversation_id, viewer)
                    .await
                    .ok()
                    .flatten()
                    .map(|_| Message(row))
            }
        }))
    }

    /// Each new notification of the signed-in member, as it is written.
    async fn notifications(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<impl Stream<Item = Notification> + use<>> {
        let viewer = member_id(ctx)?;
        let db = state(ctx).db.clone();
        Ok(changes(state(ctx).bus()).filter_map(move |heard| {
            let db = db.clone();
            async move {
                match heard.change {
                    Change::Notification { id, user_id } if user_id == viewer => {
                        notifications::find(&db, id)
                            .await
                            .ok()
                            .flatten()
                            .filter(|n| n.user_id == viewer)
                            .map(Notification)
                    }
                    _ => None,
                }
            }
        }))
    }
}
