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

use chrono::{DateTime, Utc};
use entity::event;
use sea_orm::{ConnectionTrait, DbBackend, EntityTrait, Statement, Value};
use uuid::Uuid;

use crate::domain::events::StartKey;
use crate::domain::geo::{GeoPoint, cover};
use crate::domain::interests::{self, like_pattern};
use crate::domain::search::{check_query, check_radius};
use crate::error::{AppError, AppResult};

/// What an event search asks for; field names in errors are relative to the filter.
pub struct EventSearch {
    pub near: (f64, f64),
    pub radius_km: f64,
    pub query: Option<String>,
    pub interest_ids: Vec<Uuid>,
    pub starts_after: Option<DateTime<Utc>>,
    pub starts_before: Option<DateTime<Utc>>,
}

/// A found event and how far its venue is (None for an online-only event).
pub struct FoundEvent {
    pub event: event::Model,
    pub distance_km: Option<f64>,
}

/// Scheduled events within the radius, soonest first, after the cursor `(startsAt, id)`.
/// An event counts when its venue is within the radius; an online-only event, when its
/// group meets within the radius.
pub async fn search(
    db: &impl ConnectionTrait,
    filter: EventSearch,
    after: Option<StartKey>,
    limit: u64,
    now: DateTime<Utc>,
) -> AppResult<Vec<FoundEvent>> {
    let near = GeoPoint::new(filter.near.0, filter.near.1).map_err(|e| e.under("near"))?;
    check_query("query", filter.query.as_deref())?;
    let radius = check_radius(filter.radius_km)?;
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
            text: filter
                .query
                .as_deref()
                .map(str::trim)
                .filter(|q| !q.is_empty()),
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
            found.push(FoundEvent { event, distance_km });
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

/// One batch of candidates, as SQL.
struct Candidates<'a> {
    ranges: &'a [(i64, i64)],
    starts_after: DateTime<Utc>,
    starts_before: Option<DateTime<Utc>>,
    text: Option<&'a str>,
    interest_ids: &'a [Uuid],
    cursor: Option<StartKey>,
    batch: u64,
}

impl Candidates<'_> {
    fn statement(&self, backend: DbBackend) -> Statement {
        let mut sql = Sql::new(backend);
        // The status is written, not bound: only then may the partial index be used.
        sql.push("SELECT * FROM events WHERE id IN (SELECT id FROM events WHERE status = 'SCHEDULED' AND starts_at >= ");
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
        if let Some(text) = self.text {
            let pattern = like_pattern(text);
            sql.push(" AND (lower(title) LIKE ");
            sql.bind(pattern.clone());
            sql.push(" ESCAPE '\\' OR lower(description) LIKE ");
            sql.bind(pattern);
            sql.push(" ESCAPE '\\')");
        }
        if !self.interest_ids.is_empty() {
            sql.push(
                " AND group_id IN (SELECT group_id FROM group_interests WHERE interest_id IN (",
            );
            for (i, id) in self.interest_ids.iter().enumerate() {
                if i > 0 {
                    sql.push(", ");
                }
                sql.bind(*id);
            }
            sql.push("))");
        }
        sql.push(" ORDER BY starts_at, id LIMIT ");
        sql.bind(self.batch as i64);
        sql.push(") ORDER BY starts_at, id");
        sql.finish()
    }
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

/// SQL text with its values, numbered as the backend numbers them.
struct Sql {
    backend: DbBackend,
    text: String,
    values: Vec<Value>,
}

impl Sql {
    fn new(backend: DbBackend) -> Self {
        Sql {
            backend,
            text: String::with_capacity(1024),
            values: Vec::with_capacity(48),
        }
    }

    fn push(&mut self, text: &str) {
        self.text.push_str(text);
    }

    fn bind(&mut self, value: impl Into<Value>) {
        self.values.push(value.into());
        match self.backend {
            DbBackend::Postgres => {
                self.text.push('$');
                self.text.push_str(&self.values.len().to_string());
            }
            _ => self.text.push('?'),
        }
    }

    fn finish(self) -> Statement {
        Statement::from_sql_and_values(self.backend, self.text, self.values)
    }
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
            text: Some("chess"),
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
        assert_eq!(statement.values.unwrap().0.len(), 1 + 16 + 2 + 1);
    }
}
