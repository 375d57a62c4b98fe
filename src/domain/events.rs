//! Events: who may create and change them, the rules their fields follow, and the lists
//! and search that find them. Recurring series are in `series`.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use entity::event::{self, EventStatus};
use entity::membership::{MembershipStatus, Role};
use entity::rsvp::{self, RsvpStatus};
use entity::{event_host, event_series, group, user};
use sea_orm::sea_query::{Expr, ExprTrait, Query, SimpleExpr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, QueryTrait, SelectThreeModel, SelectorTrait, Set,
};
use uuid::Uuid;

use crate::db::sql::Shape;
use crate::db::{Tx, keyset};
use crate::domain::Patch;
use crate::domain::geo::{GeoPoint, index_cell};
use crate::domain::memberships;
use crate::domain::notifications::{self, About};
use crate::domain::zones::parse_time_zone;
use crate::domain::{groups, rsvps, series, text};
use crate::effects::Committed;
use crate::error::{AppError, AppResult};
use crate::live::EventChange;
use crate::notify::messages::Message;

pub const TITLE_CHARS: std::ops::RangeInclusive<usize> = 3..=120;
pub const MAX_DESCRIPTION_CHARS: usize = 20_000;
pub const MAX_LENGTH: Duration = Duration::days(14);
pub const MAX_REASON_CHARS: usize = 1_000;
/// Most hosts an event has: they are listed whole wherever the event is.
pub const MAX_HOSTS: usize = 10;
pub const MAX_VENUE_NAME_CHARS: usize = 120;
pub const MAX_ADDRESS_CHARS: usize = 300;

/// A venue as given: name, address and where it is.
#[derive(Debug, Clone)]
pub struct Venue {
    pub name: String,
    pub address: String,
    pub location: (f64, f64),
}

fn parse_title(raw: &str) -> AppResult<String> {
    text::one_line("title", "a title", raw, &TITLE_CHARS)
}

fn parse_description(raw: &str) -> AppResult<String> {
    text::description(raw, MAX_DESCRIPTION_CHARS)
}

fn parse_online_url(raw: &str) -> AppResult<String> {
    let parsed = url::Url::parse(raw.trim())
        .ok()
        .filter(|u| matches!(u.scheme(), "https" | "http") && u.host().is_some())
        .ok_or_else(|| {
            AppError::bad_input(
                "onlineUrl",
                "an http(s) URL such as https://meet.example/abc",
            )
        })?;
    Ok(parsed.to_string())
}

/// The stored columns of a venue, checked.
fn parse_venue(venue: &Venue) -> AppResult<(String, String, GeoPoint)> {
    let name = venue.name.trim();
    if name
        .chars()
        .chain(venue.address.chars())
        .any(char::is_control)
    {
        return Err(AppError::bad_input(
            "venue",
            "a venue's name and address may not contain line breaks or other control characters",
        ));
    }
    if name.is_empty() || name.chars().count() > MAX_VENUE_NAME_CHARS {
        return Err(AppError::bad_input(
            "venue.name",
            format!("a venue name has 1 to {MAX_VENUE_NAME_CHARS} characters"),
        ));
    }
    let address = venue.address.trim();
    if address.chars().count() > MAX_ADDRESS_CHARS {
        return Err(AppError::bad_input(
            "venue.address",
            format!("an address has at most {MAX_ADDRESS_CHARS} characters"),
        ));
    }
    let point =
        GeoPoint::new(venue.location.0, venue.location.1).map_err(|e| e.under("venue.location"))?;
    Ok((name.to_owned(), address.to_owned(), point))
}

fn check_times(starts_at: DateTime<Utc>, ends_at: DateTime<Utc>) -> AppResult<()> {
    if ends_at <= starts_at {
        return Err(AppError::bad_input(
            "endsAt",
            "an event ends after it starts",
        ));
    }
    if ends_at - starts_at > MAX_LENGTH {
        return Err(AppError::bad_input(
            "endsAt",
            format!("an event lasts at most {} days", MAX_LENGTH.num_days()),
        ));
    }
    Ok(())
}

fn check_capacity(capacity: Option<i32>) -> AppResult<()> {
    if capacity.is_some_and(|c| c < 1) {
        return Err(AppError::bad_input(
            "capacity",
            "capacity is at least 1, or null for no limit",
        ));
    }
    Ok(())
}

pub struct NewEvent {
    pub group_id: Uuid,
    pub title: String,
    pub description: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub time_zone: Option<String>,
    pub venue: Option<Venue>,
    pub online_url: Option<String>,
    pub capacity: Option<i32>,
    /// An RFC 5545 RRULE value: makes a series of occurrences.
    pub recurrence: Option<String>,
    /// After it, new YES answers are refused; at or before `starts_at`. In a series, each
    /// occurrence closes as long before its start.
    pub rsvp_closes_at: Option<DateTime<Utc>>,
    /// Guests each answer may bring, 0 to `rsvps::MAX_GUEST_LIMIT`.
    pub guest_limit: i32,
}

/// BAD_USER_INPUT on `guestLimit` outside 0 to `rsvps::MAX_GUEST_LIMIT`.
fn check_guest_limit(limit: i32) -> AppResult<i32> {
    if (0..=rsvps::MAX_GUEST_LIMIT).contains(&limit) {
        Ok(limit)
    } else {
        Err(AppError::bad_input(
            "guestLimit",
            format!("guestLimit is 0 to {}", rsvps::MAX_GUEST_LIMIT),
        ))
    }
}

/// BAD_USER_INPUT on `rsvpClosesAt` unless it is at or before the start.
fn check_deadline(closes: Option<DateTime<Utc>>, starts_at: DateTime<Utc>) -> AppResult<()> {
    if closes.is_some_and(|closes| closes > starts_at) {
        return Err(AppError::bad_input(
            "rsvpClosesAt",
            "RSVPs close at or before the start",
        ));
    }
    Ok(())
}

/// Creates an event (or, with a recurrence, a series of them: the first is returned); ORGANIZER, CO_ORGANIZER or EVENT_HOST of the group, who becomes its
/// host. Field names in errors are relative to the input.
pub async fn create(
    db: &DatabaseConnection,
    actor: Uuid,
    input: NewEvent,
    now: DateTime<Utc>,
) -> AppResult<event::Model> {
    let tx = Tx::begin(db).await?;
    let group = groups::find(&tx, input.group_id)
        .await?
        .ok_or(AppError::NotFound("group"))?;
    memberships::require_role(
        &tx,
        group.id,
        actor,
        &[Role::Organizer, Role::CoOrganizer, Role::EventHost],
    )
    .await?;
    groups::require_open(&group)?;
    let title = parse_title(&input.title)?;
    let description = parse_description(&input.description)?;
    if input.starts_at <= now {
        return Err(AppError::bad_input(
            "startsAt",
            "an event starts in the future",
        ));
    }
    check_times(input.starts_at, input.ends_at)?;
    check_deadline(input.rsvp_closes_at, input.starts_at)?;
    check_guest_limit(input.guest_limit)?;
    let time_zone = match input.time_zone {
        Some(zone) => parse_time_zone("timeZone", &zone)?.name().to_owned(),
        None => group.time_zone.clone(),
    };
    if input.venue.is_none() && input.online_url.is_none() {
        return Err(AppError::bad_input(
            "venue",
            "give a venue, an onlineUrl, or both",
        ));
    }
    let venue = input.venue.as_ref().map(parse_venue).transpose()?;
    let online_url = input
        .online_url
        .as_deref()
        .map(parse_online_url)
        .transpose()?;
    check_capacity(input.capacity)?;
    let tz = parse_time_zone("timeZone", &time_zone)?;
    let (series_id, starts) = occurrence_starts(
        &tx,
        input.recurrence.as_deref(),
        input.starts_at,
        (group.id, time_zone.as_str(), tz),
        now,
    )
    .await?;
    // Where search finds it: its venue, or the place its group meets.
    let place = match &venue {
        Some(v) => v.2,
        None => GeoPoint::new(group.lat, group.lng)?,
    };
    let template = event::Model {
        id: Uuid::nil(),
        group_id: group.id,
        series_id,
        title,
        description,
        starts_at: input.starts_at,
        ends_at: input.ends_at,
        time_zone,
        venue_name: venue.as_ref().map(|v| v.0.clone()),
        venue_address: venue.as_ref().map(|v| v.1.clone()),
        venue_lat: venue.as_ref().map(|v| v.2.lat()),
        venue_lng: venue.as_ref().map(|v| v.2.lng()),
        venue_cell: venue.as_ref().map(|v| index_cell(&v.2)),
        online_url,
        place_cell: Some(index_cell(&place)),
        place_lat: Some(place.lat()),
        place_lng: Some(place.lng()),
        capacity: input.capacity,
        status: EventStatus::Scheduled,
        cancel_reason: None,
        going_count: 0,
        waitlist_count: 0,
        waitlist_seq: 0,
        sequence: 0,
        created_by: actor,
        created_at: now,
        updated_at: now,
        photo_image_id: None,
        rsvp_closes_at: input.rsvp_closes_at,
        guest_limit: input.guest_limit,
    };
    let made = series::insert_occurrences(&tx, &template, &starts, &[actor], now).await?;
    tx.commit().await?.expect_none();
    made.into_iter()
        .next()
        .ok_or_else(|| AppError::bad_input("recurrence", "the rule gives no occurrence"))
}

/// One start per occurrence: the event's own, or every date of its recurrence rule, for
/// which a series is made in the group (with its time zone).
async fn occurrence_starts(
    tx: &Tx,
    recurrence: Option<&str>,
    starts_at: DateTime<Utc>,
    (group_id, time_zone, tz): (Uuid, &str, chrono_tz::Tz),
    now: DateTime<Utc>,
) -> AppResult<(Option<Uuid>, Vec<DateTime<Utc>>)> {
    let Some(rule) = recurrence.map(str::trim).filter(|r| !r.is_empty()) else {
        return Ok((None, vec![starts_at]));
    };
    let starts = series::occurrences(rule, starts_at, tz)?;
    let row = event_series::ActiveModel {
        id: Set(Uuid::now_v7()),
        group_id: Set(group_id),
        recurrence: Set(series::normalise(rule)?),
        time_zone: Set(time_zone.to_owned()),
        created_at: Set(now),
        complete: Set(false),
    }
    .insert(tx)
    .await?;
    Ok((Some(row.id), starts))
}

pub async fn find_many(db: &impl ConnectionTrait, ids: &[Uuid]) -> AppResult<Vec<event::Model>> {
    Ok(event::Entity::find()
        .filter(event::Column::Id.is_in(ids.to_vec()))
        .all(db)
        .await?)
}

pub async fn find(db: &impl ConnectionTrait, id: Uuid) -> AppResult<Option<event::Model>> {
    Ok(event::Entity::find_by_id(id).one(db).await?)
}

/// The event and its group, in one statement.
pub async fn find_with_group(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> AppResult<Option<(event::Model, Option<group::Model>)>> {
    Ok(event::Entity::find_by_id(id)
        .find_also_related(group::Entity)
        .one(db)
        .await?)
}

/// An event and its hosts (at most `MAX_HOSTS`, by member id), as a page shows them.
pub type WithHosts = (event::Model, Vec<user::Model>);

/// The event, its group and its hosts: one statement, a row per host.
static WITH_GROUP_AND_HOSTS: Shape = Shape::new(|backend| {
    event::Entity::find_by_id(Uuid::nil())
        .find_also_related(group::Entity)
        .find_also_related(user::Entity)
        .order_by_asc(user::Column::Id)
        .build(backend)
});

/// The event, its group and its hosts, in one statement (a row per host).
pub async fn find_with_group_and_hosts(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> AppResult<Option<(event::Model, Option<group::Model>, Vec<user::Model>)>> {
    let statement = WITH_GROUP_AND_HOSTS.with(db.get_database_backend(), [id.into()]);
    let mut rows =
        db.query_all_raw(statement).await?.into_iter().map(
            SelectThreeModel::<event::Model, group::Model, user::Model>::from_raw_query_result,
        );
    let Some((event, group, host)) = rows.next().transpose()? else {
        return Ok(None);
    };
    let mut hosts: Vec<user::Model> = host.into_iter().collect();
    for row in rows {
        hosts.extend(row?.2);
    }
    hosts.truncate(MAX_HOSTS);
    Ok(Some((event, group, hosts)))
}

/// Rows of events joined with their hosts (a row per host, an event's rows together, hosts
/// by id) as one entry per event, in the rows' order.
fn gather_hosts(rows: Vec<(event::Model, Option<user::Model>)>) -> Vec<WithHosts> {
    let mut events: Vec<WithHosts> = Vec::new();
    for (event, host) in rows {
        match events.last_mut() {
            Some((last, hosts)) if last.id == event.id => hosts.extend(host),
            _ => events.push((event, host.into_iter().collect())),
        }
    }
    for (_, hosts) in &mut events {
        hosts.truncate(MAX_HOSTS);
    }
    events
}

/// The event, locked for change by its hosts and the group's organisers; FORBIDDEN for others.
async fn find_for_change(
    db: &impl ConnectionTrait,
    actor: Uuid,
    event_id: Uuid,
) -> AppResult<event::Model> {
    let event = find(db, event_id)
        .await?
        .ok_or(AppError::NotFound("event"))?;
    if !is_manager(db, &event, actor).await? {
        return Err(AppError::forbidden(
            "only the event's hosts and the group's organizers may change it",
        ));
    }
    Ok(event)
}

/// True for those who run the event: its group's ACTIVE ORGANIZERs and CO_ORGANIZERs, and
/// its hosts while they are ACTIVE EVENT_HOSTs of the group. A host who left the group or
/// lost the role no longer runs the events they hosted.
pub async fn is_manager(
    db: &impl ConnectionTrait,
    event: &event::Model,
    actor: Uuid,
) -> AppResult<bool> {
    let Some(membership) = memberships::of(db, event.group_id, actor).await? else {
        return Ok(false);
    };
    if membership.status != MembershipStatus::Active {
        return Ok(false);
    }
    Ok(match membership.role {
        Role::Organizer | Role::CoOrganizer => true,
        Role::EventHost => event_host::Entity::find_by_id((event.id, actor))
            .one(db)
            .await?
            .is_some(),
        Role::Member => false,
    })
}

#[derive(Default, Clone)]
pub struct EventUpdate {
    pub title: Patch<String>,
    pub description: Patch<String>,
    pub starts_at: Patch<DateTime<Utc>>,
    pub ends_at: Patch<DateTime<Utc>>,
    pub time_zone: Patch<String>,
    pub venue: Patch<Option<Venue>>,
    pub online_url: Patch<Option<String>>,
    pub capacity: Patch<Option<i32>>,
    pub rsvp_closes_at: Patch<Option<DateTime<Utc>>>,
    pub guest_limit: Patch<i32>,
}

/// Changes an event (with `ThisAndFollowing`, also the later occurrences of its series);
/// returns it, the ids of every event changed, and the notifications to send. Raising the capacity promotes the waitlist in
/// order; lowering it below the people going is BAD_USER_INPUT.
pub async fn update(
    db: &DatabaseConnection,
    actor: Uuid,
    event_id: Uuid,
    update: EventUpdate,
    scope: Scope,
    now: DateTime<Utc>,
) -> AppResult<Committed<event::Model>> {
    let mut tx = Tx::begin(db).await?;
    let event = find_for_change(&tx, actor, event_id).await?;
    if event.status == EventStatus::Cancelled {
        return Err(AppError::conflict("a cancelled event cannot be changed"));
    }
    let following = match (scope, event.series_id) {
        (Scope::ThisAndFollowing, Some(series_id)) => {
            event::Entity::find()
                .filter(event::Column::SeriesId.eq(series_id))
                .filter(event::Column::StartsAt.gt(event.starts_at))
                .filter(event::Column::Status.eq(EventStatus::Scheduled))
                .order_by_asc(event::Column::StartsAt)
                .all(&tx)
                .await?
        }
        _ => Vec::new(),
    };
    for later in following {
        let shifted = update.shifted(&event, &later);
        apply(&mut tx, actor, later, shifted, now).await?;
    }
    let event = apply(&mut tx, actor, event, update, now).await?;
    let effects = tx.commit().await?;
    Ok(Committed::new(event, effects))
}

/// Which events of a series a change reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scope {
    #[default]
    ThisEvent,
    ThisAndFollowing,
}

/// Adds the wall-clock difference `to - from` (in `tz`) to `at`, so that "an hour later"
/// stays an hour later on the clock across daylight-saving changes.
fn shift_local(
    at: DateTime<Utc>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    tz: chrono_tz::Tz,
) -> DateTime<Utc> {
    use chrono::TimeZone;
    let delta = to.with_timezone(&tz).naive_local() - from.with_timezone(&tz).naive_local();
    let local = at.with_timezone(&tz).naive_local() + delta;
    tz.from_local_datetime(&local)
        .earliest()
        .map(|d| d.with_timezone(&Utc))
        .unwrap_or(at + delta)
}

impl EventUpdate {
    /// This change as it applies to a later occurrence of the same series: new times move
    /// it by the same wall-clock amount as they move `this`.
    fn shifted(&self, this: &event::Model, later: &event::Model) -> EventUpdate {
        let tz: chrono_tz::Tz = later.time_zone.parse().unwrap_or(chrono_tz::UTC);
        let move_by = |new: &Patch<DateTime<Utc>>, old: DateTime<Utc>, at: DateTime<Utc>| match new
        {
            Patch::Set(new) => Patch::Set(shift_local(at, old, *new, tz)),
            Patch::Keep => Patch::Keep,
        };
        let starts_at = move_by(&self.starts_at, this.starts_at, later.starts_at);
        // A new deadline closes each later occurrence as long before its start.
        let this_start = self.starts_at.clone().or(this.starts_at);
        let later_start = starts_at.clone().or(later.starts_at);
        let rsvp_closes_at = match &self.rsvp_closes_at {
            Patch::Set(closes) => {
                Patch::Set(closes.map(|closes| later_start - (this_start - closes)))
            }
            Patch::Keep => Patch::Keep,
        };
        EventUpdate {
            starts_at,
            ends_at: move_by(&self.ends_at, this.ends_at, later.ends_at),
            rsvp_closes_at,
            ..self.clone()
        }
    }
}

/// One event's part of a change, inside the caller's transaction: its subscribers hear it,
/// a raised capacity promotes the waitlist, and its attendees are told of a new time or
/// place.
async fn apply(
    tx: &mut Tx,
    actor: Uuid,
    event: event::Model,
    update: EventUpdate,
    now: DateTime<Utc>,
) -> AppResult<event::Model> {
    let mut row: event::ActiveModel = event.clone().into();
    if let Patch::Set(title) = update.title {
        row.title = Set(parse_title(&title)?);
    }
    if let Patch::Set(description) = update.description {
        row.description = Set(parse_description(&description)?);
    }
    if let Patch::Set(zone) = update.time_zone {
        row.time_zone = Set(parse_time_zone("timeZone", &zone)?.name().to_owned());
    }
    let starts_at = update.starts_at.clone().or(event.starts_at);
    patch_times(&mut row, &event, update.starts_at, update.ends_at, now)?;
    let closes = update.rsvp_closes_at.or(event.rsvp_closes_at);
    check_deadline(closes, starts_at)?;
    row.rsvp_closes_at = Set(closes);
    if let Patch::Set(limit) = update.guest_limit {
        row.guest_limit = Set(check_guest_limit(limit)?);
    }
    // An event that goes online-only is found where its group meets.
    let group_place = match &update.venue {
        Patch::Set(None) => groups::find(&*tx, event.group_id)
            .await?
            .map(|g| GeoPoint::new(g.lat, g.lng))
            .transpose()?,
        _ => None,
    };
    patch_place(
        &mut row,
        &event,
        update.venue,
        update.online_url,
        group_place,
    )?;
    let raised = patch_capacity(&mut row, &event, update.capacity)?;
    row.sequence = Set(event.sequence + 1);
    row.updated_at = Set(now);
    let updated = row.update(&*tx).await?;
    tx.effects().event_changed(event.id, EventChange::Updated);
    if raised {
        let promoted = rsvps::fill_places(&*tx, event.id, now).await?;
        rsvps::notify_promoted(tx, &updated, &promoted, now).await?;
    }
    if moved(&event, &updated) {
        let told: Vec<Uuid> = notifications::attendees(&*tx, event.id)
            .await?
            .into_iter()
            .filter(|u| *u != actor)
            .collect();
        let message = Message::EventChanged {
            event: updated.clone(),
        };
        notifications::record(tx, &told, &message, About::Event(event.id), now).await?;
    }
    find(&*tx, event.id)
        .await?
        .ok_or(AppError::NotFound("event"))
}

/// Whether attendees must hear of the change: its time or its place moved.
fn moved(before: &event::Model, after: &event::Model) -> bool {
    after.starts_at != before.starts_at
        || after.ends_at != before.ends_at
        || after.time_zone != before.time_zone
        || after.venue_name != before.venue_name
        || after.venue_address != before.venue_address
        || after.venue_lat != before.venue_lat
        || after.venue_lng != before.venue_lng
        || after.online_url != before.online_url
}

/// New times, checked. Past events are history (they make a group's organisers seeds of
/// trust): an event that has started keeps its times, and none is moved into the past.
fn patch_times(
    row: &mut event::ActiveModel,
    event: &event::Model,
    starts_at: Patch<DateTime<Utc>>,
    ends_at: Patch<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let starts_at = starts_at.or(event.starts_at);
    let ends_at = ends_at.or(event.ends_at);
    check_times(starts_at, ends_at)?;
    if (starts_at, ends_at) != (event.starts_at, event.ends_at) {
        if event.starts_at <= now {
            return Err(AppError::conflict(
                "an event that has started keeps its times",
            ));
        }
        if starts_at <= now {
            return Err(AppError::bad_input(
                "startsAt",
                "an event starts in the future",
            ));
        }
    }
    row.starts_at = Set(starts_at);
    row.ends_at = Set(ends_at);
    Ok(())
}

/// A new venue or online link, checked: an event keeps at least one of them.
fn patch_place(
    row: &mut event::ActiveModel,
    event: &event::Model,
    venue: Patch<Option<Venue>>,
    online_url: Patch<Option<String>>,
    group_place: Option<GeoPoint>,
) -> AppResult<()> {
    let mut has_venue = event.venue_name.is_some();
    if let Patch::Set(venue) = venue {
        let venue = venue.as_ref().map(parse_venue).transpose()?;
        has_venue = venue.is_some();
        row.venue_name = Set(venue.as_ref().map(|v| v.0.clone()));
        row.venue_address = Set(venue.as_ref().map(|v| v.1.clone()));
        row.venue_lat = Set(venue.as_ref().map(|v| v.2.lat()));
        row.venue_lng = Set(venue.as_ref().map(|v| v.2.lng()));
        row.venue_cell = Set(venue.as_ref().map(|v| index_cell(&v.2)));
        if let Some(place) = venue.as_ref().map(|v| v.2).or(group_place) {
            set_place(row, &place);
        }
    }
    let mut has_online = event.online_url.is_some();
    if let Patch::Set(url) = online_url {
        let url = url.as_deref().map(parse_online_url).transpose()?;
        has_online = url.is_some();
        row.online_url = Set(url);
    }
    if !has_venue && !has_online {
        return Err(AppError::bad_input(
            "venue",
            "an event keeps a venue, an onlineUrl, or both",
        ));
    }
    Ok(())
}

/// Where search finds the event.
pub fn set_place(row: &mut event::ActiveModel, place: &GeoPoint) {
    row.place_cell = Set(Some(index_cell(place)));
    row.place_lat = Set(Some(place.lat()));
    row.place_lng = Set(Some(place.lng()));
}

/// A new capacity, checked: never below the people going. True when it rose (or the limit
/// went), so the waitlist moves up.
fn patch_capacity(
    row: &mut event::ActiveModel,
    event: &event::Model,
    capacity: Patch<Option<i32>>,
) -> AppResult<bool> {
    let Patch::Set(capacity) = capacity else {
        return Ok(false);
    };
    check_capacity(capacity)?;
    if capacity.is_some_and(|c| c < event.going_count) {
        return Err(AppError::bad_input(
            "capacity",
            format!(
                "{} people are going: capacity cannot go below that",
                event.going_count
            ),
        ));
    }
    row.capacity = Set(capacity);
    Ok(match (event.capacity, capacity) {
        (Some(old), Some(new)) => new > old,
        (Some(_), None) => true,
        _ => false,
    })
}

/// Cancels an event, keeping everything about it. Cancelling twice changes nothing (and
/// tells nobody again).
pub async fn cancel(
    db: &DatabaseConnection,
    actor: Uuid,
    event_id: Uuid,
    reason: Option<String>,
    now: DateTime<Utc>,
) -> AppResult<Committed<event::Model>> {
    let mut tx = Tx::begin(db).await?;
    let event = find_for_change(&tx, actor, event_id).await?;
    if event.status == EventStatus::Cancelled {
        return Ok(Committed::new(event, Default::default()));
    }
    let reason = reason
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty());
    if reason
        .as_ref()
        .is_some_and(|r| r.chars().count() > MAX_REASON_CHARS)
    {
        return Err(AppError::bad_input(
            "reason",
            format!("a reason has at most {MAX_REASON_CHARS} characters"),
        ));
    }
    cancel_in(&mut tx, &event, Some(actor), reason, now).await?;
    let event = find(&tx, event.id)
        .await?
        .ok_or(AppError::NotFound("event"))?;
    let effects = tx.commit().await?;
    Ok(Committed::new(event, effects))
}

/// Marks a scheduled event cancelled inside the caller's transaction: its subscribers hear
/// it, and everyone GOING or WAITLISTED (but `actor`, who did it) is told.
pub async fn cancel_in(
    tx: &mut Tx,
    event: &event::Model,
    actor: Option<Uuid>,
    reason: Option<String>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    event::Entity::update_many()
        .col_expr(event::Column::Status, Expr::value(EventStatus::Cancelled))
        .col_expr(event::Column::CancelReason, Expr::value(reason.clone()))
        .col_expr(
            event::Column::Sequence,
            Expr::col(event::Column::Sequence).add(1),
        )
        .col_expr(event::Column::UpdatedAt, Expr::value(now))
        .filter(event::Column::Id.eq(event.id))
        .exec(&*tx)
        .await?;
    tx.effects().event_changed(event.id, EventChange::Cancelled);
    let told: Vec<Uuid> = notifications::attendees(&*tx, event.id)
        .await?
        .into_iter()
        .filter(|u| Some(*u) != actor)
        .collect();
    let message = Message::EventCancelled {
        event: event.title.clone(),
        reason: reason.clone(),
    };
    notifications::record(tx, &told, &message, About::Event(event.id), now).await
}

/// The hosts of each event (at most `MAX_HOSTS`, by member id), in one statement.
pub async fn hosts_of(
    db: &impl ConnectionTrait,
    event_ids: &[Uuid],
) -> AppResult<HashMap<Uuid, Vec<user::Model>>> {
    let rows = event_host::Entity::find()
        .filter(event_host::Column::EventId.is_in(event_ids.to_vec()))
        .find_also_related(user::Entity)
        .all(db)
        .await?;
    let mut by_event: HashMap<Uuid, Vec<user::Model>> = HashMap::new();
    for (link, host) in rows {
        if let Some(host) = host {
            by_event.entry(link.event_id).or_default().push(host);
        }
    }
    for hosts in by_event.values_mut() {
        hosts.sort_by_key(|u| u.id);
        hosts.truncate(MAX_HOSTS);
    }
    Ok(by_event)
}

/// The keyset of event lists: by start, ties by id.
pub type StartKey = (DateTime<Utc>, Uuid);

fn upcoming(now: DateTime<Utc>, after: Option<StartKey>) -> Condition {
    let mut condition = Condition::all().add(event::Column::EndsAt.gt(now));
    if let Some(cursor) = after {
        condition = condition.add(after_start(cursor));
    }
    condition
}

/// A group's events that have not ended, soonest first (cancelled ones included), with
/// their hosts, in one statement.
pub async fn upcoming_in_group(
    db: &impl ConnectionTrait,
    group_id: Uuid,
    after: Option<StartKey>,
    limit: u64,
    now: DateTime<Utc>,
) -> AppResult<Vec<WithHosts>> {
    let page = event::Entity::find()
        .select_only()
        .column(event::Column::Id)
        .filter(event::Column::GroupId.eq(group_id))
        .filter(upcoming(now, after))
        .order_by_asc(event::Column::StartsAt)
        .order_by_asc(event::Column::Id)
        .limit(limit)
        .into_query();
    let rows = event::Entity::find()
        .filter(event::Column::Id.in_subquery(page))
        .find_also_related(user::Entity)
        .order_by_asc(event::Column::StartsAt)
        .order_by_asc(event::Column::Id)
        .order_by_asc(user::Column::Id)
        .all(db)
        .await?;
    Ok(gather_hosts(rows))
}

/// The keyset of past-event lists: by end, most recent first, ties by id (descending).
pub type EndKey = (DateTime<Utc>, Uuid);

/// Events that ended before `now`, most recently ended first, after the cursor.
fn past(now: DateTime<Utc>, after: Option<EndKey>) -> Condition {
    let mut condition = Condition::all().add(event::Column::EndsAt.lte(now));
    if let Some(cursor) = after {
        condition = condition.add(keyset::before(
            (event::Column::EndsAt, event::Column::Id),
            cursor,
        ));
    }
    condition
}

/// A group's events that have ended, most recently ended first (cancelled ones included).
pub async fn past_in_group(
    db: &impl ConnectionTrait,
    group_id: Uuid,
    after: Option<EndKey>,
    limit: u64,
    now: DateTime<Utc>,
) -> AppResult<Vec<event::Model>> {
    Ok(event::Entity::find()
        .filter(event::Column::GroupId.eq(group_id))
        .filter(past(now, after))
        .order_by_desc(event::Column::EndsAt)
        .order_by_desc(event::Column::Id)
        .limit(limit)
        .all(db)
        .await?)
}

/// Events that have ended which the member was GOING to, most recently ended first.
pub async fn past_for_member(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    after: Option<EndKey>,
    limit: u64,
    now: DateTime<Utc>,
) -> AppResult<Vec<event::Model>> {
    let went = Query::select()
        .column(rsvp::Column::EventId)
        .from(rsvp::Entity)
        .and_where(Expr::col(rsvp::Column::UserId).eq(user_id))
        .and_where(Expr::col(rsvp::Column::Status).eq(RsvpStatus::Going))
        .to_owned();
    Ok(event::Entity::find()
        .filter(event::Column::Id.in_subquery(went))
        .filter(event::Column::Status.eq(EventStatus::Scheduled))
        .filter(past(now, after))
        .order_by_desc(event::Column::EndsAt)
        .order_by_desc(event::Column::Id)
        .limit(limit)
        .all(db)
        .await?)
}

/// Events that have not ended which the member is GOING or WAITLISTED to, soonest first.
pub async fn upcoming_for_member(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    after: Option<StartKey>,
    limit: u64,
    now: DateTime<Utc>,
) -> AppResult<Vec<event::Model>> {
    let answered = Query::select()
        .column(rsvp::Column::EventId)
        .from(rsvp::Entity)
        .and_where(Expr::col(rsvp::Column::UserId).eq(user_id))
        .and_where(
            Expr::col(rsvp::Column::Status).is_in([RsvpStatus::Going, RsvpStatus::Waitlisted]),
        )
        .to_owned();
    Ok(event::Entity::find()
        .filter(event::Column::Id.in_subquery(answered))
        .filter(upcoming(now, after))
        .order_by_asc(event::Column::StartsAt)
        .order_by_asc(event::Column::Id)
        .limit(limit)
        .all(db)
        .await?)
}

/// Events after `(starts_at, id)` in start order.
pub(crate) fn after_start(cursor: StartKey) -> SimpleExpr {
    keyset::after((event::Column::StartsAt, event::Column::Id), cursor)
}

/// An event titled `title` from `starts_at` to `ends_at`, scheduled, without a venue, every id
/// nil: for unit tests, which change what they need.
#[cfg(test)]
pub fn example(title: &str, starts_at: DateTime<Utc>, ends_at: DateTime<Utc>) -> event::Model {
    event::Model {
        id: Uuid::nil(),
        group_id: Uuid::nil(),
        series_id: None,
        title: title.into(),
        description: String::new(),
        starts_at,
        ends_at,
        time_zone: "Europe/Berlin".into(),
        venue_name: None,
        venue_address: None,
        venue_lat: None,
        venue_lng: None,
        venue_cell: None,
        online_url: None,
        place_cell: None,
        place_lat: None,
        place_lng: None,
        capacity: None,
        status: EventStatus::Scheduled,
        cancel_reason: None,
        going_count: 0,
        waitlist_count: 0,
        waitlist_seq: 0,
        sequence: 0,
        created_by: Uuid::nil(),
        created_at: starts_at,
        updated_at: starts_at,
        photo_image_id: None,
        rsvp_closes_at: None,
        guest_limit: 0,
    }
}
