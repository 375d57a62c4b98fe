//! Finding scheduled events near a place, soonest first.
//!
//! Each event has one place for search (`place_cell`, `place_lat`, `place_lng`): its venue,
//! or for an online-only event the place its group meets. A partial index holds, for
//! scheduled events in start order, exactly what the search filters on, so the database
//! walks the index from the start time asked for, keeps the entries whose cell lies in the
//! cells covering the circle (see `domain::geo`), and reads from the table only the rows it
//! keeps: a page of 20 reads some 40 rows, not the hundreds of rows starting in between
//! elsewhere. The exact great-circle distance then decides, here.
//!
//! The SQL has a stable shape for a given number of cell ranges (padded to a power of two),
//! so the database's prepared statements are reused rather than planned again.
//!
//! Without a place, a search by words (see `full_text`) lists events best match first.

use std::collections::HashMap;
use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use entity::event;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, IdenStatic, Iterable, QueryFilter,
    Statement,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::db::sql::Sql;
use crate::domain::events::StartKey;
use crate::domain::full_text::{self, MatchKey, Searched, Words};
use crate::domain::geo::{GeoPoint, cover};
use crate::domain::interests;
use crate::domain::search::{Around, around, push_interests, wrong_cursor};
use crate::error::{AppError, AppResult};

/// What an event search asks for; field names in errors are relative to the filter.
pub struct EventSearch {
    pub near: Option<(f64, f64)>,
    pub radius_km: Option<f64>,
    pub query: Option<String>,
    pub interest_ids: Vec<Uuid>,
    pub starts_after: Option<DateTime<Utc>>,
    pub starts_before: Option<DateTime<Utc>>,
}

/// A found event and how far its venue is (None for an online-only event, or a search
/// without a place).
pub struct FoundEvent {
    pub event: event::Model,
    pub distance_km: Option<f64>,
    pub key: EventSearchKey,
}

/// Where a page of an event search ends: soonest first with `near`, best match first
/// without.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub enum EventSearchKey {
    Soonest(StartKey),
    Match(MatchKey),
}

/// Scheduled events within the radius, soonest first, after the cursor `(startsAt, id)`.
/// An event counts when its venue is within the radius; an online-only event, when its
/// group meets within the radius. Without a place, the events matching the words, best
/// match first.
pub async fn search(
    db: &impl ConnectionTrait,
    filter: EventSearch,
    after: Option<EventSearchKey>,
    limit: u64,
    now: DateTime<Utc>,
) -> AppResult<Vec<FoundEvent>> {
    let (around, words) = around(filter.near, filter.radius_km, filter.query.as_deref())?;
    let interest_ids = interests::known_ids(db, &filter.interest_ids, "interestIds").await?;
    let starts_after = filter.starts_after.unwrap_or(now);
    if filter
        .starts_before
        .is_some_and(|before| before <= starts_after)
    {
        return Err(AppError::bad_input(
            "startsBefore",
            "startsBefore must be after startsAfter",
        ));
    }
    let (near, radius) = match around {
        Around::Circle(near, radius) => (near, radius),
        Around::Nowhere => {
            let (Some(words), after) = (words, after) else {
                return Err(wrong_cursor());
            };
            let after = match after {
                None => None,
                Some(EventSearchKey::Match(key)) => Some(key),
                Some(EventSearchKey::Soonest(_)) => return Err(wrong_cursor()),
            };
            let window = Window {
                starts_after,
                starts_before: filter.starts_before,
            };
            return best_matching(db, &words, &interest_ids, window, after, limit).await;
        }
    };
    let after = match after {
        None => None,
        Some(EventSearchKey::Soonest(key)) => Some(key),
        Some(EventSearchKey::Match(_)) => return Err(wrong_cursor()),
    };
    let ranges = cover(&near, radius);
    // Most candidates in the cover's cells are in the circle: a batch a half larger than the
    // page usually fills it at once, and a short one is followed by the next.
    let batch = limit + limit / 2 + 1;
    let mut found = Vec::new();
    let mut cursor = after;
    loop {
        let query = Candidates {
            ranges: &ranges,
            starts_after,
            starts_before: filter.starts_before,
            words: words.as_ref(),
            interest_ids: &interest_ids,
            cursor,
            batch,
        };
        let rows = event::Entity::find()
            .from_raw_sql(query.statement(db.get_database_backend()))
            .all(db)
            .await?;
        let exhausted = (rows.len() as u64) < batch;
        for event in rows {
            cursor = Some((event.starts_at, event.id));
            let Some(distance) = distance_to(&near, &event).filter(|d| *d <= radius) else {
                continue;
            };
            let distance_km = event.venue_cell.is_some().then_some(distance);
            let key = EventSearchKey::Soonest((event.starts_at, event.id));
            found.push(FoundEvent {
                event,
                distance_km,
                key,
            });
            if found.len() as u64 >= limit {
                return Ok(found);
            }
        }
        if exhausted {
            return Ok(found);
        }
    }
}

/// Great-circle distance from `near` to where the event is for search.
fn distance_to(near: &GeoPoint, event: &event::Model) -> Option<f64> {
    let place = GeoPoint::new(event.place_lat?, event.place_lng?).ok()?;
    Some(near.distance_km(&place))
}

/// The event's columns by name: `*` would also carry PostgreSQL's `search_vector` (see
/// `full_text`), which no page shows.
static EVENT_COLUMNS: LazyLock<String> = LazyLock::new(|| {
    event::Column::iter()
        .map(|c| c.as_str().to_owned())
        .collect::<Vec<_>>()
        .join(", ")
});

/// One batch of candidates, as SQL.
struct Candidates<'a> {
    ranges: &'a [(i64, i64)],
    starts_after: DateTime<Utc>,
    starts_before: Option<DateTime<Utc>>,
    words: Option<&'a Words>,
    interest_ids: &'a [Uuid],
    cursor: Option<StartKey>,
    batch: u64,
}

impl Candidates<'_> {
    fn statement(&self, backend: DbBackend) -> Statement {
        let mut sql = Sql::new(backend);
        // The status is written, not bound: only then may the partial index be used.
        sql.push("SELECT ");
        sql.push(&EVENT_COLUMNS);
        sql.push(" FROM events WHERE id IN (SELECT id FROM events WHERE status = 'SCHEDULED' AND starts_at >= ");
        sql.bind(self.starts_after);
        if let Some(before) = self.starts_before {
            sql.push(" AND starts_at < ");
            sql.bind(before);
        }
        sql.push(" AND (");
        for (i, (lo, hi)) in padded(self.ranges).into_iter().enumerate() {
            sql.push(if i == 0 {
                "place_cell BETWEEN "
            } else {
                " OR place_cell BETWEEN "
            });
            sql.bind(lo);
            sql.push(" AND ");
            sql.bind(hi);
        }
        sql.push(")");
        if let Some((starts_at, id)) = self.cursor {
            sql.push(" AND (starts_at > ");
            sql.bind(starts_at);
            sql.push(" OR (starts_at = ");
            sql.bind(starts_at);
            sql.push(" AND id > ");
            sql.bind(id);
            sql.push("))");
        }
        if let Some(words) = self.words {
            let (text, value) = full_text::condition(backend, Searched::Events, words);
            sql.push(" AND ");
            sql.push_with(&text, [value]);
        }
        push_interests(&mut sql, "group_id", self.interest_ids);
        sql.push(" ORDER BY starts_at, id LIMIT ");
        sql.bind(self.batch as i64);
        sql.push(") ORDER BY starts_at, id");
        sql.finish()
    }
}

/// The start times a search keeps: from `starts_after`, before `starts_before`.
#[derive(Clone, Copy)]
struct Window {
    starts_after: DateTime<Utc>,
    starts_before: Option<DateTime<Utc>>,
}

/// Scheduled events in the window matching the words, best match first, after the cursor.
async fn best_matching(
    db: &impl ConnectionTrait,
    words: &Words,
    interest_ids: &[Uuid],
    window: Window,
    after: Option<MatchKey>,
    limit: u64,
) -> AppResult<Vec<FoundEvent>> {
    let backend = db.get_database_backend();
    let mut sql = Sql::new(backend);
    sql.push("SELECT m.id, m.score FROM ");
    full_text::push_ranked(&mut sql, backend, Searched::Events, words, |sql| {
        sql.push(" AND t.status = 'SCHEDULED' AND t.starts_at >= ");
        sql.bind(window.starts_after);
        if let Some(before) = window.starts_before {
            sql.push(" AND t.starts_at < ");
            sql.bind(before);
        }
        push_interests(sql, "t.group_id", interest_ids);
    });
    sql.push(" m WHERE 1 = 1");
    full_text::push_after(&mut sql, after);
    sql.push(" ORDER BY m.score DESC, m.id LIMIT ");
    sql.bind(limit as i64);
    let hits = full_text::ranked_ids(db, sql).await?;
    let ids: Vec<Uuid> = hits.iter().map(|(_, id)| *id).collect();
    let mut rows: HashMap<Uuid, event::Model> = event::Entity::find()
        .filter(event::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|e| (e.id, e))
        .collect();
    Ok(hits
        .into_iter()
        .filter_map(|(score, id)| {
            Some(FoundEvent {
                event: rows.remove(&id)?,
                distance_km: None,
                key: EventSearchKey::Match((score, id)),
            })
        })
        .collect())
}

/// The ranges, repeated up to a power of two (at least 8): a handful of statement shapes
/// rather than one per circle.
fn padded(ranges: &[(i64, i64)]) -> Vec<(i64, i64)> {
    let slots = ranges.len().max(8).next_power_of_two();
    let last = ranges.last().copied().unwrap_or((0, -1));
    let mut padded = ranges.to_vec();
    padded.resize(slots, last);
    padded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_pad_to_a_few_shapes() {
        assert_eq!(padded(&[(1, 2)]).len(), 8);
        assert_eq!(padded(&[(1, 2); 9]).len(), 16);
        assert_eq!(padded(&[(1, 2), (5, 6)])[7], (5, 6));
        let statement = Candidates {
            ranges: &[(1, 2), (5, 6)],
            starts_after: Utc::now(),
            starts_before: None,
            words: Words::parse("chess").as_ref(),
            interest_ids: &[],
            cursor: None,
            batch: 50,
        }
        .statement(DbBackend::Postgres);
        assert!(
            statement.sql.contains("status = 'SCHEDULED'"),
            "{}",
            statement.sql
        );
        assert_eq!(statement.values.unwrap().0.len(), 1 + 16 + 1 + 1);
    }
}
