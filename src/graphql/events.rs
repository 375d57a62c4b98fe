//! Events and RSVPs.

use async_graphql::connection::EmptyFields;
use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::Utc;
use entity::{event, rsvp};
use uuid::Uuid;

use crate::connection_name;
use crate::domain::event_search::{self, EventSearch, EventSearchKey};
use crate::domain::events::{self, EndKey, EventUpdate, NewEvent, StartKey, Venue as DomainVenue};
use crate::domain::rsvps;
use crate::domain::saved_events;
use crate::domain::{series, visibility};
use crate::error::AppError;
use crate::graphql::context::{deliver, loaders, member_id, optional_member, state};
use crate::graphql::geo::{GeoPoint, GeoPointInput};
use crate::graphql::groups::Group;
use crate::graphql::ids::{self, Kind};
use crate::graphql::inputs::{keep_or_set, nullable};
use crate::graphql::limits;
use crate::graphql::loaders::{EventById, GroupById, HostsOf, RsvpOf, SavedBy, UserById};
use crate::graphql::meetings::{PersonToMeet, people_to_meet};
use crate::graphql::pagination::{Conn, PageRequest, connection};
use crate::graphql::scalars::Time;
use crate::graphql::users::User;

/// Whether an event takes place.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::event::EventStatus")]
pub enum EventStatus {
    /// It takes place as described.
    Scheduled,
    /// It was called off (see `cancelReason`); nothing about it was deleted.
    Cancelled,
}

/// Where a member stands for an event.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::rsvp::RsvpStatus")]
pub enum RsvpStatus {
    /// Has a place.
    Going,
    /// Waits for a place; `waitlistPosition` says where in the queue.
    Waitlisted,
    /// Said no (or took back a yes).
    NotGoing,
}

/// A member's answer to an event.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "crate::domain::rsvps::Response")]
pub enum RsvpResponse {
    /// Going: a place while places remain, else the end of the waitlist.
    Yes,
    /// Not going: frees the place, which the first on the waitlist gets at once.
    No,
}

/// Where an event takes place; a public place.
#[derive(SimpleObject)]
pub struct Venue {
    /// The venue's name.
    pub name: String,
    /// Its street address.
    pub address: String,
    /// Where it is.
    pub location: GeoPoint,
}

pub struct Event(pub event::Model);

/// Something a group does together, at a time and a place (or online).
#[Object]
impl Event {
    /// Opaque, stable ID.
    pub async fn id(&self) -> ID {
        ids::encode(Kind::Event, self.0.id)
    }

    /// The event's photo, set by its hosts and organisers (`setEventPhoto`); null when none.
    async fn photo(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<crate::graphql::images::Image>> {
        crate::graphql::images::image_of(ctx, self.0.photo_image_id).await
    }

    /// The group that holds it.
    async fn group(&self, ctx: &Context<'_>) -> async_graphql::Result<Group> {
        let group = loaders(ctx)
            .load_one(GroupById(self.0.group_id))
            .await?
            .ok_or(AppError::NotFound("group"))?;
        Ok(Group(group))
    }

    /// 3–120 characters.
    async fn title(&self) -> &str {
        &self.0.title
    }

    /// Up to 20,000 characters.
    async fn description(&self) -> &str {
        &self.0.description
    }

    /// When it starts (UTC).
    async fn starts_at(&self) -> Time {
        Time(self.0.starts_at)
    }

    /// When it ends (UTC); at most 14 days after the start.
    async fn ends_at(&self) -> Time {
        Time(self.0.ends_at)
    }

    /// The IANA time zone in which its wall-clock time is kept.
    async fn time_zone(&self) -> &str {
        &self.0.time_zone
    }

    /// Where it takes place; null for an online-only event.
    async fn venue(&self) -> Option<Venue> {
        let e = &self.0;
        match (&e.venue_name, e.venue_lat, e.venue_lng) {
            (Some(name), Some(lat), Some(lng)) => Some(Venue {
                name: name.clone(),
                address: e.venue_address.clone().unwrap_or_default(),
                location: GeoPoint { lat, lng },
            }),
            _ => None,
        }
    }

    /// Where to join online; null when it is in person only.
    async fn online_url(&self) -> Option<&str> {
        self.0.online_url.as_deref()
    }

    /// How many guests each member may bring (`rsvp` input `guests`); 0 for none.
    async fn guest_limit(&self) -> i32 {
        self.0.guest_limit
    }

    /// How many places there are, guests included; null for no limit.
    async fn capacity(&self) -> Option<i32> {
        self.0.capacity
    }

    /// Whether it takes place.
    async fn status(&self) -> EventStatus {
        self.0.status.into()
    }

    /// Why it was cancelled, when the organisers said.
    async fn cancel_reason(&self) -> Option<&str> {
        self.0.cancel_reason.as_deref()
    }

    /// Places taken: the people GOING and their guests; never more than `capacity`.
    async fn going_count(&self) -> i32 {
        self.0.going_count
    }

    /// People WAITLISTED.
    async fn waitlist_count(&self) -> i32 {
        self.0.waitlist_count
    }

    /// The members who host it (at most 10).
    #[graphql(complexity = "limits::bounded(events::MAX_HOSTS, child_complexity)")]
    async fn hosts(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<User>> {
        Ok(loaders(ctx)
            .load_one(HostsOf(self.0.id))
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(User)
            .collect())
    }

    /// When answering YES closes (`rsvp` answers YES with CONFLICT after it); null when
    /// answers are taken until the event ends.
    async fn rsvp_closes_at(&self) -> Option<Time> {
        self.0.rsvp_closes_at.map(Time)
    }

    /// Whether the viewer saved the event (`saveEvent`); null when signed out.
    async fn viewer_saved(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<bool>> {
        let Some(viewer) = optional_member(ctx)? else {
            return Ok(None);
        };
        Ok(Some(
            loaders(ctx)
                .load_one(SavedBy(self.0.id, viewer.sub))
                .await?
                .is_some(),
        ))
    }

    /// The viewer's answer; null when signed out or not answered.
    async fn viewer_rsvp(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Rsvp>> {
        let Some(viewer) = optional_member(ctx)? else {
            return Ok(None);
        };
        Ok(loaders(ctx)
            .load_one(RsvpOf(self.0.id, viewer.sub))
            .await?
            .map(Rsvp))
    }

    /// The recurring series this event is an occurrence of; null for a one-off.
    async fn series(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<EventSeries>> {
        let Some(id) = self.0.series_id else {
            return Ok(None);
        };
        Ok(series::find(&state(ctx).db, id).await?.map(EventSeries))
    }

    /// The event's share link, `KITH_PUBLIC_URL` + `/e/{id}`, where `{id}` is this `id`
    /// unchanged: its page shows a preview in chat apps and opens the apps where they are
    /// installed, which pass the last path segment to `event(id:)` or `node(id:)`.
    async fn url(&self, ctx: &Context<'_>) -> String {
        format!(
            "{}{}",
            state(ctx).config.public_url,
            crate::links::event_path(self.0.id)
        )
    }

    /// This event as iCalendar (RFC 5545), for "add to calendar".
    async fn calendar_url(&self, ctx: &Context<'_>) -> String {
        format!(
            "{}/events/{}.ics",
            state(ctx).config.public_url,
            ids::encode(Kind::Event, self.0.id).0
        )
    }

    /// For a member GOING to the event: the other people GOING, those sharing the most
    /// interests with the viewer first (each with the interests shared), at most `first`
    /// (1 to 100, default 20). Never the viewer, never someone who reported the viewer or
    /// whom the viewer reported, never someone blocked either way. For anyone not GOING it
    /// is null, with one error at its path (FORBIDDEN, or UNAUTHENTICATED when signed out).
    #[graphql(complexity = "limits::page_with(limits::SEARCH_COST, first, child_complexity)")]
    async fn people_to_meet(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
    ) -> async_graphql::Result<Option<Vec<PersonToMeet>>> {
        people_to_meet(ctx, self.0.id, first).await.map(Some)
    }

    /// The comments on the event at the top (replies are under each, in `replies`), oldest
    /// first, without those of anyone blocked either way. Only ACTIVE members of the group
    /// may read them: for anyone else it is null, with one error at its path (FORBIDDEN, or
    /// UNAUTHENTICATED when signed out).
    #[graphql(complexity = "limits::page(first, child_complexity)")]
    async fn comments(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Option<crate::graphql::comments::CommentConnection>> {
        crate::graphql::comments::of_event(ctx, &self.0, first, after)
            .await
            .map(Some)
    }

    /// The people GOING, in the order they answered, without anyone blocked either way. Only
    /// ACTIVE members of the group may see this list: for anyone else it is null, with one
    /// error at its path (FORBIDDEN, or UNAUTHENTICATED when signed out).
    #[graphql(complexity = "limits::page(first, child_complexity)")]
    async fn attendees(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Option<RsvpConnection>> {
        let db = &state(ctx).db;
        let viewer = member_id(ctx)?;
        visibility::attendees(db, &self.0, viewer).await?;
        let page = PageRequest::<Uuid>::parse(first, after)?;
        let rows = rsvps::going(db, viewer, self.0.id, page.after, page.fetch_limit()).await?;
        Ok(Some(connection(
            &page,
            rows,
            |r| r.id,
            |r| (Rsvp(r), EmptyFields),
            EmptyFields,
        )))
    }
}

pub struct EventSeries(pub entity::event_series::Model);

/// A recurring series of events.
#[Object]
impl EventSeries {
    /// Opaque, stable ID.
    pub async fn id(&self) -> ID {
        ids::encode(Kind::EventSeries, self.0.id)
    }

    /// The RFC 5545 RRULE, as `FREQ=WEEKLY;COUNT=8`.
    async fn recurrence(&self) -> &str {
        &self.0.recurrence
    }
}

pub struct Rsvp(pub rsvp::Model);

/// A member's answer to an event.
#[Object]
impl Rsvp {
    /// Opaque, stable ID.
    pub async fn id(&self) -> ID {
        ids::encode(Kind::Rsvp, self.0.id)
    }

    /// The event.
    async fn event(&self, ctx: &Context<'_>) -> async_graphql::Result<Event> {
        let event = loaders(ctx)
            .load_one(EventById(self.0.event_id))
            .await?
            .ok_or(AppError::NotFound("event"))?;
        Ok(Event(event))
    }

    /// The member.
    async fn user(&self, ctx: &Context<'_>) -> async_graphql::Result<User> {
        let user = loaders(ctx)
            .load_one(UserById(self.0.user_id))
            .await?
            .ok_or(AppError::NotFound("user"))?;
        Ok(User(user))
    }

    /// Where the member stands.
    async fn status(&self) -> RsvpStatus {
        self.0.status.into()
    }

    /// 1-based place in the waitlist, first come first served; null unless WAITLISTED.
    async fn waitlist_position(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<u64>> {
        Ok(rsvps::waitlist_position(&state(ctx).db, &self.0).await?)
    }

    /// The guests coming with the member (each takes a place); 0 unless YES said so.
    async fn guests(&self) -> i32 {
        self.0.guests
    }

    /// Whether the member was checked in at the event.
    async fn checked_in(&self) -> bool {
        self.0.checked_in
    }

    /// Once the event has ended: true when the member was checked in, false when GOING and
    /// not checked in; null before the end, and for answers other than GOING.
    async fn attended(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<bool>> {
        if self.0.checked_in {
            // Only someone GOING is checked in; the event may still be on.
        } else if self.0.status != rsvp::RsvpStatus::Going {
            return Ok(None);
        }
        let event = loaders(ctx)
            .load_one(EventById(self.0.event_id))
            .await?
            .ok_or(AppError::NotFound("event"))?;
        Ok((event.ends_at <= Utc::now()).then_some(self.0.checked_in))
    }

    /// When the answer last changed.
    async fn updated_at(&self) -> Time {
        Time(self.0.updated_at)
    }
}

connection_name!(RsvpConnectionName, "RsvpConnection", "RsvpEdge");
connection_name!(EventConnectionName, "EventConnection", "EventEdge");
pub type EventConnection = Conn<Event, EventConnectionName>;

/// A page of events that have ended, most recently ended first.
pub fn past_page(page: &PageRequest<EndKey>, rows: Vec<event::Model>) -> EventConnection {
    connection(
        page,
        rows,
        |e| (e.ends_at, e.id),
        |e| (Event(e), EmptyFields),
        EmptyFields,
    )
}

/// Hands the hosts read with the events to the request's loader (`Event.hosts` finds them
/// there), and gives back the events.
pub async fn feed_hosts(ctx: &Context<'_>, rows: Vec<events::WithHosts>) -> Vec<event::Model> {
    let (events, hosts): (Vec<_>, Vec<_>) = rows
        .into_iter()
        .map(|(event, hosts)| {
            let key = HostsOf(event.id);
            (event, (key, hosts))
        })
        .unzip();
    loaders(ctx).feed_many(hosts).await;
    events
}

/// A page of events in (startsAt, id) order.
pub fn event_page(page: &PageRequest<StartKey>, rows: Vec<event::Model>) -> EventConnection {
    connection(
        page,
        rows,
        |e| (e.starts_at, e.id),
        |e| (Event(e), EmptyFields),
        EmptyFields,
    )
}
pub type RsvpConnection = Conn<Rsvp, RsvpConnectionName>;

/// A venue: name, address and location.
#[derive(InputObject)]
pub struct VenueInput {
    /// 1–120 characters.
    pub name: String,
    /// Up to 300 characters.
    #[graphql(default)]
    pub address: String,
    /// Where it is.
    pub location: GeoPointInput,
}

impl From<VenueInput> for DomainVenue {
    fn from(v: VenueInput) -> Self {
        DomainVenue {
            name: v.name,
            address: v.address,
            location: (v.location.lat, v.location.lng),
        }
    }
}

/// A new event. A venue, an `onlineUrl`, or both.
#[derive(InputObject)]
pub struct CreateEventInput {
    /// The group holding it.
    pub group_id: ID,
    /// 3–120 characters.
    pub title: String,
    /// Up to 20,000 characters.
    #[graphql(default)]
    pub description: String,
    /// In the future.
    pub starts_at: Time,
    /// After `startsAt`, at most 14 days later.
    pub ends_at: Time,
    /// An IANA time zone; the group's when absent.
    pub time_zone: Option<String>,
    /// Where it takes place.
    pub venue: Option<VenueInput>,
    /// An http(s) link to join online.
    pub online_url: Option<String>,
    /// At least 1; null or absent for no limit.
    pub capacity: Option<i32>,
    /// An RFC 5545 RRULE (`FREQ=WEEKLY;COUNT=8`) making a series: each occurrence is an
    /// event of its own, with its own RSVPs, keeping the first one's wall-clock time in
    /// `timeZone` across daylight-saving changes. Occurrences exist up to a year ahead (at
    /// most 52 future ones); the server adds more as time passes, continuing from the latest
    /// occurrence (with its details, so THIS_AND_FOLLOWING edits carry on). The answer is the
    /// first occurrence.
    pub recurrence: Option<String>,
    /// When answering YES closes: at or before `startsAt`; after it, a new YES is CONFLICT
    /// (NO is always allowed). In a series, each occurrence closes as long before its own
    /// start. Absent: answers are taken until the event ends.
    pub rsvp_closes_at: Option<Time>,
    /// How many guests each member may bring (`rsvp` input `guests`), 0 to 10; 0 unless
    /// given. Guests take places: `goingCount` and `capacity` count them.
    #[graphql(default)]
    pub guest_limit: i32,
}

/// Changes to an event; absent fields stay as they are, null clears `venue`, `onlineUrl`
/// (one of them must remain) and `capacity`.
#[derive(InputObject)]
pub struct UpdateEventInput {
    /// The event to change.
    pub event_id: ID,
    /// 3–120 characters.
    pub title: Option<String>,
    /// Up to 20,000 characters.
    pub description: Option<String>,
    /// A new start.
    pub starts_at: Option<Time>,
    /// A new end, after the start, at most 14 days later.
    pub ends_at: Option<Time>,
    /// An IANA time zone.
    pub time_zone: Option<String>,
    /// A new venue, or null for online only.
    pub venue: async_graphql::MaybeUndefined<VenueInput>,
    /// A new link, or null for in person only.
    pub online_url: async_graphql::MaybeUndefined<String>,
    /// Raising it promotes the waitlist in order; below `goingCount` is BAD_USER_INPUT; null
    /// removes the limit.
    pub capacity: async_graphql::MaybeUndefined<i32>,
    /// A new deadline for YES answers, at or before the (new) start, or null for none. With
    /// THIS_AND_FOLLOWING, each later occurrence closes as long before its start. An event
    /// moved to start before its deadline is BAD_USER_INPUT on `rsvpClosesAt`.
    pub rsvp_closes_at: async_graphql::MaybeUndefined<Time>,
    /// A new guest limit, 0 to 10; answers already given keep their guests.
    pub guest_limit: Option<i32>,
    /// Which occurrences of a series to change: this one (the default) or this and every
    /// later one. New times move each later occurrence by the same wall-clock amount.
    #[graphql(default_with = "EditScope::ThisEvent")]
    pub scope: EditScope,
}

/// Which occurrences of a series a change reaches.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "crate::domain::events::Scope")]
pub enum EditScope {
    /// Only this event.
    ThisEvent,
    /// This event and every later occurrence of its series.
    ThisAndFollowing,
}

/// The event to cancel.
#[derive(InputObject)]
pub struct CancelEventInput {
    /// The event.
    pub event_id: ID,
    /// Why, for the attendees (up to 1,000 characters).
    pub reason: Option<String>,
}

/// An answer to an event.
#[derive(InputObject)]
pub struct RsvpInput {
    /// The event.
    pub event_id: ID,
    /// YES or NO.
    pub response: RsvpResponse,
    /// With YES: how many guests come along, 0 to the event's `guestLimit` (0 when absent).
    /// Each takes a place; an answer that does not fit whole waits whole.
    #[graphql(default)]
    pub guests: i32,
}

/// The event to save or unsave.
#[derive(InputObject)]
pub struct SaveEventInput {
    /// The event.
    pub event_id: ID,
}

/// Where, when and what to look for: events near a place (`near` with `radiusKm`), events
/// matching words (`query`), or both. Without `near`, `query` must hold a word.
#[derive(InputObject)]
pub struct EventSearchInput {
    /// The centre of the search; optional when `query` is given. With it, events come
    /// soonest first.
    pub near: Option<GeoPointInput>,
    /// How far from `near`, in km: above 0 and at most 200; required with `near`, refused
    /// without it. An event counts when its venue is this near; an online-only event, when
    /// its group meets this near.
    pub radius_km: Option<f64>,
    /// Full-text search of the title and description: every word must begin a word of
    /// either, in any order, accents and case ignored (`cafe` finds "Repair Café").
    /// Without `near`, events come best match first (of the first 2,000 matches found; a word in the title counts more than
    /// one in the description). Letters and digits are the words; at most 100 characters,
    /// and 8 words count.
    pub query: Option<String>,
    /// Keep events of groups with at least one of these interests.
    #[graphql(default)]
    pub interest_ids: Vec<ID>,
    /// Events starting at or after this time; now when absent.
    pub starts_after: Option<Time>,
    /// Events starting before this time.
    pub starts_before: Option<Time>,
}

/// A found event and how far it is.
#[derive(SimpleObject)]
pub struct EventSearchEdgeFields {
    /// Great-circle distance from `near` to the venue, in km; null for an online-only event
    /// and when the search had no `near`.
    pub distance_km: Option<f64>,
}

connection_name!(EventSearchName, "EventSearchConnection", "EventSearchEdge");
pub type EventSearchConnection = Conn<Event, EventSearchName, EmptyFields, EventSearchEdgeFields>;

#[derive(Default)]
pub struct EventQuery;

#[Object]
impl EventQuery {
    /// An event by ID; null when there is none.
    async fn event(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<Event>> {
        let id = ids::decode(Kind::Event, "id", &id)?;
        let Some((event, group, hosts)) =
            events::find_with_group_and_hosts(&state(ctx).db, id).await?
        else {
            return Ok(None);
        };
        // Its group and hosts are read already: `Event.group` and `Event.hosts` find them in
        // the loaders.
        if let Some(group) = group {
            loaders(ctx).feed_one(GroupById(group.id), group).await;
        }
        loaders(ctx).feed_one(HostsOf(event.id), hosts).await;
        Ok(Some(Event(event)))
    }

    /// Scheduled events near a place, soonest first (ties by ID), optionally matching words;
    /// or, without `filter.near`, scheduled events matching `filter.query`, best match first
    /// (ties by ID). Cancelled events are left out. A radius outside (0, 200] is
    /// BAD_USER_INPUT (`filter.radiusKm`), as are `near` without a radius and neither `near`
    /// nor a word to search for (`filter.near`). A cursor is good only for the same kind of
    /// search.
    #[graphql(complexity = "limits::page_with(limits::SEARCH_COST, first, child_complexity)")]
    async fn search_events(
        &self,
        ctx: &Context<'_>,
        filter: EventSearchInput,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<EventSearchConnection> {
        let page = PageRequest::<EventSearchKey>::parse(first, after)?;
        if let Some(key) = &page.after
            && matches!(key, EventSearchKey::Soonest(_)) != filter.near.is_some()
        {
            return Err(crate::domain::search::wrong_cursor().into());
        }
        let search = EventSearch {
            near: filter.near.map(|p| (p.lat, p.lng)),
            radius_km: filter.radius_km,
            query: filter.query,
            interest_ids: ids::decode_all(
                Kind::Interest,
                "filter.interestIds",
                &filter.interest_ids,
            )?,
            starts_after: filter.starts_after.map(|t| t.0),
            starts_before: filter.starts_before.map(|t| t.0),
        };
        let found = event_search::search(
            &state(ctx).db,
            search,
            page.after,
            page.fetch_limit(),
            Utc::now(),
        )
        .await
        .map_err(|e| e.under("filter"))?;
        Ok(connection(
            &page,
            found,
            |f| f.key,
            |f| {
                (
                    Event(f.event),
                    EventSearchEdgeFields {
                        distance_km: f.distance_km,
                    },
                )
            },
            EmptyFields,
        ))
    }
}

#[derive(Default)]
pub struct EventMutation;

#[Object]
impl EventMutation {
    /// Creates an event; ORGANIZER, CO_ORGANIZER or EVENT_HOST of the group, who becomes its
    /// host. Each broken rule is BAD_USER_INPUT naming the field.
    async fn create_event(
        &self,
        ctx: &Context<'_>,
        input: CreateEventInput,
    ) -> async_graphql::Result<Event> {
        let viewer = member_id(ctx)?;
        let new = NewEvent {
            group_id: ids::decode(Kind::Group, "input.groupId", &input.group_id)?,
            title: input.title,
            description: input.description,
            starts_at: input.starts_at.0,
            ends_at: input.ends_at.0,
            time_zone: input.time_zone,
            venue: input.venue.map(Into::into),
            online_url: input.online_url,
            capacity: input.capacity,
            recurrence: input.recurrence,
            rsvp_closes_at: input.rsvp_closes_at.map(|t| t.0),
            guest_limit: input.guest_limit,
        };
        let event = events::create(&state(ctx).db, viewer, new, Utc::now())
            .await
            .map_err(|e| e.under("input"))?;
        Ok(Event(event))
    }

    /// Changes this event; the group's ORGANIZER or CO_ORGANIZER, and its hosts while they are
    /// ACTIVE EVENT_HOSTs of the group (FORBIDDEN for others).
    async fn update_event(
        &self,
        ctx: &Context<'_>,
        input: UpdateEventInput,
    ) -> async_graphql::Result<Event> {
        let viewer = member_id(ctx)?;
        let event_id = ids::decode(Kind::Event, "input.eventId", &input.event_id)?;
        let update = EventUpdate {
            title: keep_or_set(input.title),
            description: keep_or_set(input.description),
            starts_at: keep_or_set(input.starts_at.map(|t| t.0)),
            ends_at: keep_or_set(input.ends_at.map(|t| t.0)),
            time_zone: keep_or_set(input.time_zone),
            venue: nullable(input.venue, Into::into),
            online_url: nullable(input.online_url, |u| u),
            capacity: nullable(input.capacity, |c| c),
            rsvp_closes_at: nullable(input.rsvp_closes_at, |t| t.0),
            guest_limit: keep_or_set(input.guest_limit),
        };
        let updated = events::update(
            &state(ctx).db,
            viewer,
            event_id,
            update,
            input.scope.into(),
            Utc::now(),
        )
        .await
        .map_err(|e| e.under("input"))?;
        Ok(Event(deliver(ctx, updated)))
    }

    /// Cancels an event (status CANCELLED, with the reason); nothing is deleted. Its hosts
    /// and the group's ORGANIZER or CO_ORGANIZER.
    async fn cancel_event(
        &self,
        ctx: &Context<'_>,
        input: CancelEventInput,
    ) -> async_graphql::Result<Event> {
        let viewer = member_id(ctx)?;
        let event_id = ids::decode(Kind::Event, "input.eventId", &input.event_id)?;
        let cancelled = events::cancel(&state(ctx).db, viewer, event_id, input.reason, Utc::now())
            .await
            .map_err(|e| e.under("input"))?;
        Ok(Event(deliver(ctx, cancelled)))
    }

    /// Keeps the event in the viewer's `savedEvents` (saving again changes nothing); at most
    /// 1,000 saved events (CONFLICT beyond). NOT_FOUND for no such event.
    async fn save_event(
        &self,
        ctx: &Context<'_>,
        input: SaveEventInput,
    ) -> async_graphql::Result<Event> {
        let viewer = member_id(ctx)?;
        let event_id = ids::decode(Kind::Event, "input.eventId", &input.event_id)?;
        let event = saved_events::save(&state(ctx).db, viewer, event_id, Utc::now()).await?;
        Ok(Event(event))
    }

    /// Takes the event out of the viewer's `savedEvents` (changes nothing when not saved).
    /// NOT_FOUND for no such event.
    async fn unsave_event(
        &self,
        ctx: &Context<'_>,
        input: SaveEventInput,
    ) -> async_graphql::Result<Event> {
        let viewer = member_id(ctx)?;
        let event_id = ids::decode(Kind::Event, "input.eventId", &input.event_id)?;
        let event = saved_events::unsave(&state(ctx).db, viewer, event_id).await?;
        Ok(Event(event))
    }

    /// Answers an event. ACTIVE members of the group only (FORBIDDEN); a cancelled or ended
    /// event is CONFLICT, as is a new YES after `rsvpClosesAt`. YES (with `guests`) is GOING
    /// while places remain for the member and every guest, else WAITLISTED, whole, at the
    /// end of the queue; NO frees the places and the queue moves up at once, an answer at a
    /// time in order while the next fits whole. A new number of guests on a YES already given
    /// takes or frees places (more than are free is CONFLICT, the place held kept; on the
    /// waitlist the turn is kept). Repeating an answer changes nothing. Capacity is never
    /// exceeded, however many answer at once.
    async fn rsvp(&self, ctx: &Context<'_>, input: RsvpInput) -> async_graphql::Result<Rsvp> {
        let viewer = member_id(ctx)?;
        let event_id = ids::decode(Kind::Event, "input.eventId", &input.event_id)?;
        let answered = rsvps::respond(
            &state(ctx).db,
            viewer,
            event_id,
            (input.response.into(), input.guests),
            Utc::now(),
        )
        .await
        .map_err(|e| e.under("input"))?;
        Ok(Rsvp(deliver(ctx, answered)))
    }
}
