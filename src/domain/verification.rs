//! How far a profile is verified, each level including the ones before:
//!
//! - `EMAIL`: the member proved they read mail at their address.
//! - `IN_PERSON`: and at least one confirmed meeting at an event where a host checked both
//!   people in.
//! - `TRUSTED`: and the trust flow (`domain::trust`) reaches them from seed members:
//!   the ORGANIZERs of groups with a real history (`SEED_RULE`). Computed from the whole
//!   meeting graph by the background loop every minute (and at once after a ban), and
//!   stored as `users.trusted`: a change to the graph shows in TRUSTED within a minute.
//!
//! `inPersonCount` is the number of distinct people with a confirmed, unwithdrawn meeting
//! with the member, banned members left out.

use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};

use chrono::{DateTime, Duration, Utc};
use entity::{meeting_confirmation, membership, rsvp, user};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection, EntityTrait, QueryFilter,
    QuerySelect, Statement,
};
use uuid::Uuid;

use crate::db::Tx;
use crate::domain::checkins;
use crate::domain::meetings;
use crate::domain::trust::{self, MeetingGraph};
use crate::error::{AppError, AppResult};
use entity::meeting_confirmation::MeetingStatus;
use entity::membership::{MembershipStatus, Role};
use entity::rsvp::CheckInMethod;

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
    let mut event_ids: Vec<Uuid> = confirmed.iter().map(|c| c.event_id).collect();
    event_ids.sort_unstable();
    event_ids.dedup();
    let mut involved: Vec<Uuid> = confirmed
        .iter()
        .flat_map(|c| [c.user_low, c.user_high])
        .collect();
    involved.sort_unstable();
    involved.dedup();
    let host_checked: HashSet<(Uuid, Uuid)> = if event_ids.is_empty() {
        HashSet::new()
    } else {
        rsvp::Entity::find()
            .select_only()
            .column(rsvp::Column::EventId)
            .column(rsvp::Column::UserId)
            .filter(rsvp::Column::EventId.is_in(event_ids))
            .filter(rsvp::Column::UserId.is_in(involved))
            .filter(rsvp::Column::CheckInMethod.eq(CheckInMethod::Host))
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

/// The ORGANIZERs of groups that meet `SEED_RULE` as of `now`. Only what happened counts:
/// check-ins a host made during an event's check-in window, of members with a verified
/// address who are not banned; events cannot be moved once started or into the past, so a
/// group earns its history in real time.
pub async fn seeds(db: &impl ConnectionTrait, now: DateTime<Utc>) -> AppResult<Vec<Uuid>> {
    let backend = db.get_database_backend();
    let now_param = if backend == DatabaseBackend::Postgres {
        "$1"
    } else {
        "?"
    };
    let sql = format!(
        "SELECT e.group_id, e.id, e.starts_at, e.ends_at, r.user_id, r.checked_in_at \
         FROM rsvps r \
         JOIN events e ON e.id = r.event_id \
         JOIN users u ON u.id = r.user_id \
         WHERE e.ends_at < {now_param} AND e.status = 'SCHEDULED' \
           AND r.status = 'GOING' AND r.checked_in AND r.check_in_method = 'HOST' \
           AND u.email_verified_at IS NOT NULL AND u.banned_at IS NULL"
    );
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(backend, sql, [now.into()]))
        .await?;
    struct GroupHistory {
        events: HashMap<Uuid, DateTime<Utc>>,
        attendees: HashSet<Uuid>,
    }
    let mut groups: HashMap<Uuid, GroupHistory> = HashMap::new();
    for row in rows {
        let group: Uuid = row.try_get("", "group_id")?;
        let event: Uuid = row.try_get("", "id")?;
        let starts_at: DateTime<Utc> = row.try_get("", "starts_at")?;
        let ends_at: DateTime<Utc> = row.try_get("", "ends_at")?;
        let user: Uuid = row.try_get("", "user_id")?;
        let at: Option<DateTime<Utc>> = row.try_get("", "checked_in_at")?;
        let in_window = at.is_some_and(|at| {
            at >= starts_at - checkins::OPENS_BEFORE_START
                && at <= ends_at + checkins::HOSTS_UNTIL_AFTER_END
        });
        if !in_window {
            continue;
        }
        let history = groups.entry(group).or_insert_with(|| GroupHistory {
            events: HashMap::new(),
            attendees: HashSet::new(),
        });
        history.events.insert(event, starts_at);
        history.attendees.insert(user);
    }
    let seed_groups: Vec<Uuid> = groups
        .into_iter()
        .filter(|(_, h)| {
            let first = h.events.values().min();
            let last = h.events.values().max();
            h.events.len() as u64 >= SEED_RULE.past_events
                && h.attendees.len() >= SEED_RULE.checked_in_attendees
                && matches!((first, last), (Some(f), Some(l)) if *l - *f >= SEED_RULE.spanning)
        })
        .map(|(group, _)| group)
        .collect();
    if seed_groups.is_empty() {
        return Ok(Vec::new());
    }
    Ok(membership::Entity::find()
        .select_only()
        .column(membership::Column::UserId)
        .filter(membership::Column::GroupId.is_in(seed_groups))
        .filter(membership::Column::Status.eq(MembershipStatus::Active))
        .filter(membership::Column::Role.eq(Role::Organizer))
        .into_tuple()
        .all(db)
        .await?)
}

/// The PostgreSQL advisory lock a recomputation of TRUSTED holds, so one process at a time
/// runs it.
pub const TRUST_LOCK: i64 = 7_120_551;

/// When a recomputation of TRUSTED runs.
pub enum When<'a> {
    /// Now, whatever changed, waiting for another process's run to finish (after a ban, in
    /// tests).
    Now,
    /// The background loop's tick: skipped when another process is at it, or when nothing
    /// it reads changed since this process last ran it.
    IfChanged(&'a mut LastInputs),
}

/// What this process last computed TRUSTED from: a digest of the inputs' summary.
#[derive(Debug, Default)]
pub struct LastInputs(Option<u64>);

/// What one recomputation did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrustRun {
    /// Another process holds the lock: it is doing this work.
    Busy,
    /// Nothing TRUSTED depends on changed since the last run.
    Unchanged,
    /// Computed: this many members are trusted, this many changed.
    Computed { trusted: usize, changed: usize },
}

/// Recomputes who is trusted from the whole meeting graph and stores the difference.
///
/// Before reading the graph (large: one row per confirmed meeting), a summary of
/// everything the result depends on is read (the seeds, the count and latest changes of
/// meetings and bans); a tick whose summary is the one of this process's last run does
/// nothing. The flow itself runs on the blocking pool, off the async workers.
///
/// On PostgreSQL one process at a time runs it: the whole run holds a transaction-scoped
/// advisory lock, which a tick only tries to take (another process at it means skip). On
/// SQLite (one process per file) the graph is read outside any transaction and the
/// difference written in a short one, so writers wait only for that.
pub async fn recompute_trust(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    when: When<'_>,
) -> AppResult<TrustRun> {
    let (mut last, waits) = match when {
        When::Now => (None, true),
        When::IfChanged(last) => (Some(last), false),
    };
    if db.get_database_backend() != DatabaseBackend::Postgres {
        let Some((digest, trusted)) = compute(db, now, last.as_deref()).await? else {
            return Ok(TrustRun::Unchanged);
        };
        let tx = Tx::begin(db).await?;
        let changed = store(&tx, &trusted).await?;
        tx.commit().await?.expect_none();
        if let Some(last) = last.as_mut() {
            last.0 = Some(digest);
        }
        return Ok(TrustRun::Computed {
            trusted: trusted.len(),
            changed,
        });
    }
    let tx = Tx::begin(db).await?;
    let lock = if waits {
        format!("SELECT true AS locked FROM (SELECT pg_advisory_xact_lock({TRUST_LOCK})) AS l")
    } else {
        format!("SELECT pg_try_advisory_xact_lock({TRUST_LOCK}) AS locked")
    };
    let locked: bool = match tx
        .query_one_raw(Statement::from_string(DatabaseBackend::Postgres, lock))
        .await?
    {
        Some(row) => row.try_get("", "locked")?,
        None => false,
    };
    if !locked {
        return Ok(TrustRun::Busy);
    }
    let Some((digest, trusted)) = compute(&tx, now, last.as_deref()).await? else {
        return Ok(TrustRun::Unchanged);
    };
    let changed = store(&tx, &trusted).await?;
    tx.commit().await?.expect_none();
    if let Some(last) = last.as_mut() {
        last.0 = Some(digest);
    }
    Ok(TrustRun::Computed {
        trusted: trusted.len(),
        changed,
    })
}

/// The trusted members and the digest of what they were computed from; `None` when the
/// digest is `last`'s.
async fn compute(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    last: Option<&LastInputs>,
) -> AppResult<Option<(u64, HashSet<Uuid>)>> {
    let mut seeds = seeds(db, now).await?;
    seeds.sort_unstable();
    seeds.dedup();
    let digest = inputs_digest(db, &seeds).await?;
    if last.is_some_and(|last| last.0 == Some(digest)) {
        return Ok(None);
    }
    let meetings: Vec<(Uuid, Uuid)> = meeting_confirmation::Entity::find()
        .select_only()
        .column(meeting_confirmation::Column::UserLow)
        .column(meeting_confirmation::Column::UserHigh)
        .filter(meeting_confirmation::Column::Status.eq(MeetingStatus::Confirmed))
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
        seeds,
        meetings,
        banned,
    };
    let trusted = tokio::task::spawn_blocking(move || trust::trusted(&graph))
        .await
        .map_err(|err| AppError::Internal(anyhow::anyhow!("trust flow: {err}")))?;
    Ok(Some((digest, trusted)))
}

/// A digest of everything TRUSTED depends on: the seeds (they change with time, check-ins
/// and roles), and of meetings and bans counts and the latest change. Confirming a meeting
/// sets `responded_at`, withdrawing sets `withdrawn_at` (each counted, so a clock that
/// steps back cannot hide one), deleting an account removes rows: each moves one of these.
async fn inputs_digest(db: &impl ConnectionTrait, seeds: &[Uuid]) -> AppResult<u64> {
    let backend = db.get_database_backend();
    let sql = "SELECT \
        (SELECT COUNT(*) FROM meeting_confirmations WHERE status = 'CONFIRMED') AS confirmed, \
        (SELECT COUNT(*) FROM meeting_confirmations) AS meetings, \
        (SELECT COUNT(responded_at) FROM meeting_confirmations) AS answered, \
        (SELECT COUNT(withdrawn_at) FROM meeting_confirmations) AS withdrawals, \
        (SELECT MAX(responded_at) FROM meeting_confirmations) AS responded, \
        (SELECT MAX(withdrawn_at) FROM meeting_confirmations) AS withdrawn, \
        (SELECT COUNT(*) FROM users WHERE banned_at IS NOT NULL) AS banned, \
        (SELECT MAX(banned_at) FROM users) AS last_ban";
    let row = db
        .query_one_raw(Statement::from_string(backend, sql))
        .await?
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("the trust summary read no row")))?;
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    for column in ["confirmed", "meetings", "answered", "withdrawals", "banned"] {
        row.try_get::<i64>("", column)?.hash(&mut hasher);
    }
    for column in ["responded", "withdrawn", "last_ban"] {
        row.try_get::<Option<DateTime<Utc>>>("", column)?
            .hash(&mut hasher);
    }
    seeds.hash(&mut hasher);
    Ok(hasher.finish())
}

/// Writes `users.trusted` where it differs from `trusted`; returns how many changed.
async fn store(tx: &Tx, trusted: &HashSet<Uuid>) -> AppResult<usize> {
    let was_trusted: HashSet<Uuid> = user::Entity::find()
        .select_only()
        .column(user::Column::Id)
        .filter(user::Column::Trusted.eq(true))
        .into_tuple::<Uuid>()
        .all(tx)
        .await?
        .into_iter()
        .collect();
    let gained: Vec<Uuid> = trusted.difference(&was_trusted).copied().collect();
    let lost: Vec<Uuid> = was_trusted.difference(trusted).copied().collect();
    let changed = gained.len() + lost.len();
    for (ids, value) in [(gained, true), (lost, false)] {
        for chunk in ids.chunks(500) {
            user::Entity::update_many()
                .col_expr(user::Column::Trusted, Expr::value(value))
                .filter(user::Column::Id.is_in(chunk.to_vec()))
                .exec(tx)
                .await?;
        }
    }
    Ok(changed)
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
