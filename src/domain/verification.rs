//! How far a profile is verified, each level including the ones before:
//!
//! - `EMAIL`: the member proved they read mail at their address.
//! - `IN_PERSON`: and at least one confirmed meeting at an event where a host checked both
//!   people in.
//! - `TRUSTED`: and the trust flow (`domain::trust`) reaches them from seed members:
//!   organisers of groups with a real history (`SEED_RULE`). Computed from the whole meeting
//!   graph whenever it changes (a meeting accepted or withdrawn, a ban) and hourly, as
//!   events pass and groups earn their history; stored as `users.trusted`.
//!
//! `inPersonCount` is the number of distinct people with a confirmed, unwithdrawn meeting
//! with the member, banned members left out.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};
use entity::{event, meeting_confirmation, membership, rsvp, user};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait, QueryFilter, QuerySelect, Statement,
};
use uuid::Uuid;

use crate::domain::checkins::Method;
use crate::domain::events::Status as EventStatus;
use crate::domain::meetings::{self, Status as MeetingStatus};
use crate::domain::memberships::{Role, Status as MembershipStatus};
use crate::domain::trust::{self, MeetingGraph};
use crate::error::AppResult;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Unverified,
    Email,
    InPerson,
    Trusted,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verification {
    pub email_verified: bool,
    pub in_person_count: i32,
    pub level: Level,
}

/// What makes a group's organisers seeds of trust: a history no fresh ring of accounts has.
pub struct SeedRule {
    /// Past events that took place (not cancelled).
    pub past_events: u64,
    /// Between the first and the last of them.
    pub spanning: Duration,
    /// Distinct members a host checked in across them.
    pub checked_in_attendees: usize,
}

pub const SEED_RULE: SeedRule = SeedRule {
    past_events: 3,
    spanning: Duration::days(21),
    checked_in_attendees: 12,
};

/// The level a member reaches, from what is known of them.
pub fn level(email_verified: bool, met_in_person: bool, trusted: bool) -> Level {
    match (email_verified, met_in_person, trusted) {
        (false, _, _) => Level::Unverified,
        (true, false, _) => Level::Email,
        (true, true, false) => Level::InPerson,
        (true, true, true) => Level::Trusted,
    }
}

/// The verification of each of `users`.
pub async fn of_many(
    db: &impl ConnectionTrait,
    users: &[user::Model],
) -> AppResult<HashMap<Uuid, Verification>> {
    let ids: Vec<Uuid> = users.iter().map(|u| u.id).collect();
    let confirmed = meetings::confirmed_involving(db, &ids).await?;
    let mut partner_ids: Vec<Uuid> = confirmed
        .iter()
        .flat_map(|c| [c.user_low, c.user_high])
        .collect();
    partner_ids.sort_unstable();
    partner_ids.dedup();
    let banned: HashSet<Uuid> = if partner_ids.is_empty() {
        HashSet::new()
    } else {
        user::Entity::find()
            .select_only()
            .column(user::Column::Id)
            .filter(user::Column::Id.is_in(partner_ids))
            .filter(user::Column::BannedAt.is_not_null())
            .into_tuple::<Uuid>()
            .all(db)
            .await?
            .into_iter()
            .collect()
    };
    let confirmed: Vec<_> = confirmed
        .into_iter()
        .filter(|c| !banned.contains(&c.user_low) && !banned.contains(&c.user_high))
        .collect();
    // Who a host checked in at the events of these meetings.
    let event_ids: Vec<Uuid> = confirmed.iter().map(|c| c.event_id).collect();
    let host_checked: HashSet<(Uuid, Uuid)> = if event_ids.is_empty() {
        HashSet::new()
    } else {
        rsvp::Entity::find()
            .select_only()
            .column(rsvp::Column::EventId)
            .column(rsvp::Column::UserId)
            .filter(rsvp::Column::EventId.is_in(event_ids))
            .filter(rsvp::Column::CheckInMethod.eq(Method::Host.as_str()))
            .filter(rsvp::Column::CheckedIn.eq(true))
            .into_tuple::<(Uuid, Uuid)>()
            .all(db)
            .await?
            .into_iter()
            .collect()
    };
    let mut partners: HashMap<Uuid, HashSet<Uuid>> = HashMap::new();
    let mut strong: HashSet<Uuid> = HashSet::new();
    for c in &confirmed {
        partners.entry(c.user_low).or_default().insert(c.user_high);
        partners.entry(c.user_high).or_default().insert(c.user_low);
        if host_checked.contains(&(c.event_id, c.user_low))
            && host_checked.contains(&(c.event_id, c.user_high))
        {
            strong.insert(c.user_low);
            strong.insert(c.user_high);
        }
    }
    Ok(users
        .iter()
        .map(|u| {
            let email_verified = u.email_verified_at.is_some();
            let met = strong.contains(&u.id);
            let count = partners.get(&u.id).map_or(0, |p| p.len()) as i32;
            (
                u.id,
                Verification {
                    email_verified,
                    in_person_count: count,
                    level: level(email_verified, met, u.trusted && u.banned_at.is_none()),
                },
            )
        })
        .collect())
}

/// The organisers (ORGANIZER and CO_ORGANIZER) of groups that meet `SEED_RULE` as of `now`.
pub async fn seeds(db: &impl ConnectionTrait, now: DateTime<Utc>) -> AppResult<Vec<Uuid>> {
    let past: Vec<(Uuid, Uuid, DateTime<Utc>)> = event::Entity::find()
        .select_only()
        .column(event::Column::Id)
        .column(event::Column::GroupId)
        .column(event::Column::StartsAt)
        .filter(event::Column::EndsAt.lt(now))
        .filter(event::Column::Status.eq(EventStatus::Scheduled.as_str()))
        .filter(
            event::Column::Id.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(rsvp::Column::EventId)
                    .from(rsvp::Entity)
                    .and_where(rsvp::Column::CheckInMethod.eq(Method::Host.as_str()))
                    .to_owned(),
            ),
        )
        .into_tuple()
        .all(db)
        .await?;
    let mut by_group: HashMap<Uuid, Vec<(Uuid, DateTime<Utc>)>> = HashMap::new();
    for (id, group, starts_at) in past {
        by_group.entry(group).or_default().push((id, starts_at));
    }
    by_group.retain(|_, events| {
        let first = events.iter().map(|e| e.1).min();
        let last = events.iter().map(|e| e.1).max();
        events.len() as u64 >= SEED_RULE.past_events
            && matches!((first, last), (Some(f), Some(l)) if l - f >= SEED_RULE.spanning)
    });
    let mut seed_groups = Vec::new();
    for (group, events) in by_group {
        let ids: Vec<Uuid> = events.iter().map(|e| e.0).collect();
        let attendees: HashSet<Uuid> = rsvp::Entity::find()
            .select_only()
            .column(rsvp::Column::UserId)
            .filter(rsvp::Column::EventId.is_in(ids))
            .filter(rsvp::Column::CheckInMethod.eq(Method::Host.as_str()))
            .into_tuple::<Uuid>()
            .all(db)
            .await?
            .into_iter()
            .collect();
        if attendees.len() >= SEED_RULE.checked_in_attendees {
            seed_groups.push(group);
        }
    }
    if seed_groups.is_empty() {
        return Ok(Vec::new());
    }
    Ok(membership::Entity::find()
        .select_only()
        .column(membership::Column::UserId)
        .filter(membership::Column::GroupId.is_in(seed_groups))
        .filter(membership::Column::Status.eq(MembershipStatus::Active.as_str()))
        .filter(
            membership::Column::Role.is_in([Role::Organizer.as_str(), Role::CoOrganizer.as_str()]),
        )
        .into_tuple()
        .all(db)
        .await?)
}

/// Recomputes who is trusted from the whole meeting graph and stores it, inside the
/// caller's write transaction. On PostgreSQL a transaction-scoped advisory lock makes
/// concurrent recomputations take turns, so the last one sees every committed change;
/// SQLite's write transactions already do.
pub async fn recompute_trust(db: &impl ConnectionTrait, now: DateTime<Utc>) -> AppResult<usize> {
    if db.get_database_backend() == DatabaseBackend::Postgres {
        db.execute_raw(Statement::from_string(
            DatabaseBackend::Postgres,
            "SELECT pg_advisory_xact_lock(7120551)",
        ))
        .await?;
    }
    let meetings: Vec<(Uuid, Uuid)> = meeting_confirmation::Entity::find()
        .select_only()
        .column(meeting_confirmation::Column::UserLow)
        .column(meeting_confirmation::Column::UserHigh)
        .filter(meeting_confirmation::Column::Status.eq(MeetingStatus::Confirmed.as_str()))
        .into_tuple()
        .all(db)
        .await?;
    let banned: HashSet<Uuid> = user::Entity::find()
        .select_only()
        .column(user::Column::Id)
        .filter(user::Column::BannedAt.is_not_null())
        .into_tuple::<Uuid>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let graph = MeetingGraph {
        seeds: seeds(db, now).await?,
        meetings,
        banned,
    };
    let now_trusted = trust::trusted(&graph);
    let was_trusted: HashSet<Uuid> = user::Entity::find()
        .select_only()
        .column(user::Column::Id)
        .filter(user::Column::Trusted.eq(true))
        .into_tuple::<Uuid>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let gained: Vec<Uuid> = now_trusted.difference(&was_trusted).copied().collect();
    let lost: Vec<Uuid> = was_trusted.difference(&now_trusted).copied().collect();
    for (ids, value) in [(gained, true), (lost, false)] {
        for chunk in ids.chunks(500) {
            user::Entity::update_many()
                .col_expr(user::Column::Trusted, Expr::value(value))
                .filter(user::Column::Id.is_in(chunk.to_vec()))
                .exec(db)
                .await?;
        }
    }
    Ok(now_trusted.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_level_includes_the_ones_before() {
        assert_eq!(level(false, true, true), Level::Unverified);
        assert_eq!(level(true, false, true), Level::Email);
        assert_eq!(level(true, true, false), Level::InPerson);
        assert_eq!(level(true, true, true), Level::Trusted);
    }
}
