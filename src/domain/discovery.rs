//! What a member finds without searching: their feed (the upcoming events of their groups
//! and those they answered) and recommended events (ranked like `recommendedGroups`), with
//! the people they met in person who are going.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};
use entity::event::{self, EventStatus};
use entity::meeting_confirmation::{self as confirmation, MeetingStatus};
use entity::membership::{self, MembershipStatus};
use entity::rsvp::{self, RsvpStatus};
use entity::{group, group_interest, user};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use crate::domain::events::{StartKey, after_start};
use crate::domain::geo::{GeoPoint, cover};
use crate::domain::search::{self, RECOMMENDATION_RADIUS_KM, ScoreKey};
use crate::domain::{accounts, blocks, events, interests};
use crate::error::AppResult;

/// How far ahead recommendations look: events starting within the next 90 days.
pub const RECOMMENDATION_HORIZON: Duration = Duration::days(90);
/// The most candidate events read to rank recommendations (the soonest ones): ranking
/// reads at most this many rows, however many events there are.
pub const MAX_CANDIDATES: u64 = 500;
/// The most people listed in `peopleYouMetGoing` for one event.
pub const MAX_MET_GOING: usize = 10;

/// The member's feed after the cursor, soonest first: events that have not ended of the
/// groups they are an ACTIVE member of, and those they are GOING or WAITLISTED to (of any
/// group). Cancelled ones stay, with status CANCELLED, as in `upcomingEvents`. One
/// statement: the subqueries read the member's memberships and answers by their user
/// indexes; the events come from `idx_events_group_starts` or `idx_events_starts` as the
/// planner chooses (not yet checked with EXPLAIN on a large database).
pub async fn feed(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    after: Option<StartKey>,
    limit: u64,
    now: DateTime<Utc>,
) -> AppResult<Vec<event::Model>> {
    let my_groups = Query::select()
        .column(membership::Column::GroupId)
        .from(membership::Entity)
        .and_where(Expr::col(membership::Column::UserId).eq(user_id))
        .and_where(Expr::col(membership::Column::Status).eq(MembershipStatus::Active))
        .to_owned();
    let answered = Query::select()
        .column(rsvp::Column::EventId)
        .from(rsvp::Entity)
        .and_where(Expr::col(rsvp::Column::UserId).eq(user_id))
        .and_where(
            Expr::col(rsvp::Column::Status).is_in([RsvpStatus::Going, RsvpStatus::Waitlisted]),
        )
        .to_owned();
    let mut condition = Condition::all().add(event::Column::EndsAt.gt(now)).add(
        Condition::any()
            .add(event::Column::GroupId.in_subquery(my_groups))
            .add(event::Column::Id.in_subquery(answered)),
    );
    if let Some(cursor) = after {
        condition = condition.add(after_start(cursor));
    }
    Ok(event::Entity::find()
        .filter(condition)
        .order_by_asc(event::Column::StartsAt)
        .order_by_asc(event::Column::Id)
        .limit(limit)
        .all(db)
        .await?)
}

/// A recommended event and why.
pub struct EventRecommendation {
    pub event: event::Model,
    pub score: f64,
    /// The interests the event's group shares with the member, sorted.
    pub shared_interest_ids: Vec<Uuid>,
}

/// Scheduled events that have not ended and start within [`RECOMMENDATION_HORIZON`],
/// whose group (not closed) shares at least one interest with the member, which the member
/// has not answered (any answer), within 100 km of `place` when there is one (the venue,
/// or for an online-only event the group's place); best score first (see
/// `search::score`), ties by id, after the cursor. Only the [`MAX_CANDIDATES`] soonest such
/// events are ranked.
pub async fn recommended_events(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    place: Option<GeoPoint>,
    after: Option<ScoreKey>,
    limit: u64,
    now: DateTime<Utc>,
) -> AppResult<Vec<EventRecommendation>> {
    let mine = interests::ids_of_user(db, user_id).await?;
    if mine.is_empty() {
        return Ok(Vec::new());
    }
    let sharing_groups = Query::select()
        .column(group_interest::Column::GroupId)
        .from(group_interest::Entity)
        .and_where(Expr::col(group_interest::Column::InterestId).is_in(mine.clone()))
        .to_owned();
    let closed_groups = Query::select()
        .column(group::Column::Id)
        .from(group::Entity)
        .and_where(Expr::col(group::Column::ClosedAt).is_not_null())
        .to_owned();
    let answered = Query::select()
        .column(rsvp::Column::EventId)
        .from(rsvp::Entity)
        .and_where(Expr::col(rsvp::Column::UserId).eq(user_id))
        .to_owned();
    let mut condition = Condition::all()
        .add(event::Column::Status.eq(EventStatus::Scheduled))
        .add(event::Column::EndsAt.gt(now))
        .add(event::Column::StartsAt.lt(now + RECOMMENDATION_HORIZON))
        .add(event::Column::GroupId.in_subquery(sharing_groups))
        .add(event::Column::GroupId.not_in_subquery(closed_groups))
        .add(event::Column::Id.not_in_subquery(answered));
    if let Some(place) = &place {
        let mut in_cover = Condition::any();
        for (lo, hi) in cover(place, RECOMMENDATION_RADIUS_KM) {
            in_cover = in_cover.add(event::Column::PlaceCell.between(lo, hi));
        }
        condition = condition.add(in_cover);
    }
    let candidates: Vec<(Uuid, Uuid, Option<f64>, Option<f64>)> = event::Entity::find()
        .select_only()
        .columns([
            event::Column::Id,
            event::Column::GroupId,
            event::Column::PlaceLat,
            event::Column::PlaceLng,
        ])
        .filter(condition)
        .order_by_asc(event::Column::StartsAt)
        .order_by_asc(event::Column::Id)
        .limit(MAX_CANDIDATES)
        .into_tuple()
        .all(db)
        .await?;
    if candidates.is_empty() {
        return Ok(Vec::new());
    }
    let mut group_ids: Vec<Uuid> = candidates.iter().map(|c| c.1).collect();
    group_ids.sort_unstable();
    group_ids.dedup();
    let mut shared: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for (group_id, interest_id) in group_interest::Entity::find()
        .select_only()
        .columns([
            group_interest::Column::GroupId,
            group_interest::Column::InterestId,
        ])
        .filter(group_interest::Column::GroupId.is_in(group_ids))
        .filter(group_interest::Column::InterestId.is_in(mine))
        .into_tuple::<(Uuid, Uuid)>()
        .all(db)
        .await?
    {
        shared.entry(group_id).or_default().push(interest_id);
    }
    let ranked = search::rank(
        candidates
            .into_iter()
            .filter_map(|(id, group_id, lat, lng)| {
                let interests = shared.get(&group_id)?.clone();
                Some((id, lat.zip(lng), interests))
            }),
        place.as_ref(),
        after,
        limit,
    );
    let ids: Vec<Uuid> = ranked.iter().map(|((_, id), _)| *id).collect();
    let mut by_id: HashMap<Uuid, event::Model> = events::find_many(db, &ids)
        .await?
        .into_iter()
        .map(|e| (e.id, e))
        .collect();
    Ok(ranked
        .into_iter()
        .filter_map(|((score, id), mut shared_interest_ids)| {
            shared_interest_ids.sort_unstable();
            Some(EventRecommendation {
                event: by_id.remove(&id)?,
                score,
                shared_interest_ids,
            })
        })
        .collect())
}

/// For each of `event_ids`: the members GOING to it with whom `viewer` has a CONFIRMED
/// in-person meeting (withdrawn or declined ones do not count), without anyone blocked
/// either way; at most [`MAX_MET_GOING`] per event, by id. Two statements for all events.
pub async fn met_going(
    db: &impl ConnectionTrait,
    viewer: Uuid,
    event_ids: &[Uuid],
) -> AppResult<HashMap<Uuid, Vec<user::Model>>> {
    if event_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let met_as_low = Query::select()
        .column(confirmation::Column::UserHigh)
        .from(confirmation::Entity)
        .and_where(Expr::col(confirmation::Column::UserLow).eq(viewer))
        .and_where(Expr::col(confirmation::Column::Status).eq(MeetingStatus::Confirmed))
        .to_owned();
    let met_as_high = Query::select()
        .column(confirmation::Column::UserLow)
        .from(confirmation::Entity)
        .and_where(Expr::col(confirmation::Column::UserHigh).eq(viewer))
        .and_where(Expr::col(confirmation::Column::Status).eq(MeetingStatus::Confirmed))
        .to_owned();
    let rows: Vec<(Uuid, Uuid)> = rsvp::Entity::find()
        .select_only()
        .columns([rsvp::Column::EventId, rsvp::Column::UserId])
        .filter(rsvp::Column::EventId.is_in(event_ids.to_vec()))
        .filter(rsvp::Column::Status.eq(RsvpStatus::Going))
        .filter(rsvp::Column::UserId.ne(viewer))
        .filter(
            Condition::any()
                .add(rsvp::Column::UserId.in_subquery(met_as_low))
                .add(rsvp::Column::UserId.in_subquery(met_as_high)),
        )
        .filter(blocks::not_blocked_with(rsvp::Column::UserId, viewer))
        .order_by_asc(rsvp::Column::EventId)
        .order_by_asc(rsvp::Column::UserId)
        .into_tuple()
        .all(db)
        .await?;
    let mut per_event: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for (event_id, user_id) in rows {
        let list = per_event.entry(event_id).or_default();
        if list.len() < MAX_MET_GOING {
            list.push(user_id);
        }
    }
    let wanted: HashSet<Uuid> = per_event.values().flatten().copied().collect();
    let wanted: Vec<Uuid> = wanted.into_iter().collect();
    let users: HashMap<Uuid, user::Model> = accounts::find_many(db, &wanted)
        .await?
        .into_iter()
        .map(|u| (u.id, u))
        .collect();
    Ok(per_event
        .into_iter()
        .map(|(event_id, ids)| {
            let people = ids.iter().filter_map(|id| users.get(id).cloned()).collect();
            (event_id, people)
        })
        .collect())
}
