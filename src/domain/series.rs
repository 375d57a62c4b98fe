//! Recurring series: an RFC 5545 RRULE whose occurrences are real events, each with its own
//! RSVPs. A series is created up to a horizon (a year ahead, at most 52 future occurrences)
//! and topped up as time passes by `top_up_all`, which the server runs in the background.
//!
//! Top-up continues from the latest occurrence, copying it (so THIS_AND_FOLLOWING edits
//! carry on into new occurrences) and keeping its wall-clock time in the series' zone. A
//! `COUNT` rule never makes more occurrences than its count in all.

use chrono::{DateTime, Duration, Utc};
use entity::{event, event_host, event_series};
use sea_orm::sea_query::{Expr, LockType};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use crate::db::Tx;
use crate::domain::zones::parse_time_zone;
use crate::error::{AppError, AppResult};
use entity::event::EventStatus;

/// Most future occurrences a series holds at once.
pub const MAX_OCCURRENCES: usize = 52;
/// How far ahead a series holds occurrences.
pub const HORIZON: Duration = Duration::days(366);

fn bad_rule() -> AppError {
    AppError::bad_input(
        "recurrence",
        "an RFC 5545 RRULE such as FREQ=WEEKLY;COUNT=8",
    )
}

/// The rule as stored: without an `RRULE:` prefix or surrounding space. Refuses a rule that
/// smuggles in other lines or its own DTSTART.
pub fn normalise(rule: &str) -> AppResult<String> {
    let rule = rule.trim().trim_start_matches("RRULE:");
    if rule.contains(['\n', '\r']) || rule.to_uppercase().contains("DTSTART") {
        return Err(bad_rule());
    }
    Ok(rule.to_owned())
}

/// The dates of `rule` starting at `start`, in order, keeping its wall-clock time in `tz`
/// across daylight-saving changes. `start` itself is the first when the rule matches it.
fn dates(
    rule: &str,
    start: DateTime<Utc>,
    tz: chrono_tz::Tz,
) -> AppResult<impl Iterator<Item = DateTime<Utc>>> {
    let text = format!(
        "DTSTART;TZID={}:{}\nRRULE:{rule}",
        tz.name(),
        start.with_timezone(&tz).format("%Y%m%dT%H%M%S")
    );
    let set: rrule::RRuleSet = text.parse().map_err(|_| bad_rule())?;
    Ok(set.into_iter().map(|d| d.with_timezone(&Utc)))
}

/// The starts of a new series from `first`: at most 52, within a year.
pub fn occurrences(
    rule: &str,
    first: DateTime<Utc>,
    tz: chrono_tz::Tz,
) -> AppResult<Vec<DateTime<Utc>>> {
    let rule = normalise(rule)?;
    let horizon = first + HORIZON;
    let starts: Vec<_> = dates(&rule, first, tz)?
        .take_while(|d| *d < horizon)
        .take(MAX_OCCURRENCES)
        .collect();
    if starts.is_empty() {
        return Err(AppError::bad_input(
            "recurrence",
            "the rule gives no occurrence",
        ));
    }
    Ok(starts)
}

/// The rule continued from one of its occurrences, after `made` occurrences exist: a
/// `COUNT` shrinks by what is already made (the occurrence itself counting again as the
/// new start). None when the count is used up.
fn continued(rule: &str, made: u64) -> Option<String> {
    let mut parts = Vec::new();
    for part in rule.split(';') {
        match part.split_once('=') {
            Some((key, value)) if key.eq_ignore_ascii_case("COUNT") => {
                let count: u64 = value.trim().parse().ok()?;
                let left = count.checked_sub(made)?;
                if left == 0 {
                    return None;
                }
                parts.push(format!("COUNT={}", left + 1));
            }
            _ => parts.push(part.to_owned()),
        }
    }
    Some(parts.join(";"))
}

/// A new occurrence of a series: `template`'s details at `starts_at`, scheduled and empty.
pub fn occurrence(
    template: &event::Model,
    starts_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> event::ActiveModel {
    event::ActiveModel {
        id: Set(Uuid::now_v7()),
        group_id: Set(template.group_id),
        series_id: Set(template.series_id),
        title: Set(template.title.clone()),
        description: Set(template.description.clone()),
        starts_at: Set(starts_at),
        ends_at: Set(starts_at + (template.ends_at - template.starts_at)),
        time_zone: Set(template.time_zone.clone()),
        venue_name: Set(template.venue_name.clone()),
        venue_address: Set(template.venue_address.clone()),
        venue_lat: Set(template.venue_lat),
        venue_lng: Set(template.venue_lng),
        venue_cell: Set(template.venue_cell),
        online_url: Set(template.online_url.clone()),
        place_cell: Set(template.place_cell),
        place_lat: Set(template.place_lat),
        place_lng: Set(template.place_lng),
        capacity: Set(template.capacity),
        status: Set(EventStatus::Scheduled),
        cancel_reason: Set(None),
        going_count: Set(0),
        waitlist_count: Set(0),
        waitlist_seq: Set(0),
        sequence: Set(0),
        created_by: Set(template.created_by),
        created_at: Set(now),
        updated_at: Set(now),
        photo_image_id: Set(template.photo_image_id),
        // As long before its start as the template's was before its own.
        rsvp_closes_at: Set(template
            .rsvp_closes_at
            .map(|closes| starts_at - (template.starts_at - closes))),
        guest_limit: Set(template.guest_limit),
    }
}

/// Inserts occurrences at `starts`, each hosted by `hosts`.
pub async fn insert_occurrences(
    tx: &impl ConnectionTrait,
    template: &event::Model,
    starts: &[DateTime<Utc>],
    hosts: &[Uuid],
    now: DateTime<Utc>,
) -> AppResult<Vec<event::Model>> {
    let mut made = Vec::with_capacity(starts.len());
    for starts_at in starts {
        let event = occurrence(template, *starts_at, now).insert(tx).await?;
        for host in hosts {
            event_host::ActiveModel {
                event_id: Set(event.id),
                user_id: Set(*host),
            }
            .insert(tx)
            .await?;
        }
        made.push(event);
    }
    Ok(made)
}

pub async fn find(db: &impl ConnectionTrait, id: Uuid) -> AppResult<Option<event_series::Model>> {
    Ok(event_series::Entity::find_by_id(id).one(db).await?)
}

/// Tops up every unfinished series as of `now`; returns how many occurrences it made.
/// Each series is its own transaction, with its row locked, so processes sharing a
/// database may run this at the same time without making an occurrence twice. A series
/// that fails is logged and skipped: it never stops the others.
pub async fn top_up_all(db: &DatabaseConnection, now: DateTime<Utc>) -> AppResult<usize> {
    let ids: Vec<Uuid> = event_series::Entity::find()
        .select_only()
        .column(event_series::Column::Id)
        .filter(event_series::Column::Complete.eq(false))
        .into_tuple()
        .all(db)
        .await?;
    let mut made = 0;
    for id in ids {
        match top_up(db, id, now).await {
            Ok(count) => made += count,
            Err(err) => {
                tracing::error!(series = %id, error = ?err.into_anyhow(), "series not topped up")
            }
        }
    }
    Ok(made)
}

/// Tops up one series: occurrences after its latest, until a year past `now` or 52 future
/// ones. Marks the series complete when its rule has no more dates, which includes a rule
/// that cannot go on from where its latest occurrence was moved (past its `UNTIL`, say).
pub async fn top_up(db: &DatabaseConnection, id: Uuid, now: DateTime<Utc>) -> AppResult<usize> {
    let tx = Tx::begin(db).await?;
    let Some(series) = event_series::Entity::find_by_id(id)
        .lock(LockType::Update)
        .one(&tx)
        .await?
    else {
        return Ok(0);
    };
    if series.complete {
        return Ok(0);
    }
    let of_series = || event::Entity::find().filter(event::Column::SeriesId.eq(id));
    let Some(latest) = of_series()
        .order_by_desc(event::Column::StartsAt)
        .one(&tx)
        .await?
    else {
        return Ok(0);
    };
    let horizon = now + HORIZON;
    let future = of_series()
        .filter(event::Column::StartsAt.gt(now))
        .count(&tx)
        .await? as usize;
    let room = MAX_OCCURRENCES.saturating_sub(future);
    if room == 0 || latest.starts_at >= horizon {
        return Ok(0);
    }
    let made = of_series().count(&tx).await?;
    let tz = parse_time_zone("timeZone", &series.time_zone)?;
    let (exhausted, starts) = match continued(&series.recurrence, made) {
        None => (true, Vec::new()),
        Some(rule) => match dates(&rule, latest.starts_at, tz) {
            Err(_) => (true, Vec::new()),
            Ok(dates) => {
                let mut next = dates.filter(|d| *d > latest.starts_at).peekable();
                let exhausted = next.peek().is_none();
                (
                    exhausted,
                    next.take_while(|d| *d < horizon).take(room).collect(),
                )
            }
        },
    };
    if exhausted {
        event_series::Entity::update_many()
            .col_expr(event_series::Column::Complete, Expr::value(true))
            .filter(event_series::Column::Id.eq(id))
            .exec(&tx)
            .await?;
        tx.commit().await?.expect_none();
        return Ok(0);
    }
    if starts.is_empty() {
        return Ok(0);
    }
    let hosts: Vec<Uuid> = event_host::Entity::find()
        .select_only()
        .column(event_host::Column::UserId)
        .filter(event_host::Column::EventId.eq(latest.id))
        .into_tuple()
        .all(&tx)
        .await?;
    let made = insert_occurrences(&tx, &latest, &starts, &hosts, now).await?;
    tx.commit().await?.expect_none();
    Ok(made.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_count_continues_with_what_is_left() {
        assert_eq!(
            continued("FREQ=WEEKLY;COUNT=60", 52).as_deref(),
            Some("FREQ=WEEKLY;COUNT=9")
        );
        assert_eq!(continued("FREQ=WEEKLY;COUNT=52", 52), None);
        assert_eq!(
            continued("FREQ=WEEKLY;BYDAY=TU", 52).as_deref(),
            Some("FREQ=WEEKLY;BYDAY=TU")
        );
    }

    #[test]
    fn continuing_from_an_occurrence_gives_the_rest_of_the_rule() {
        let tz = chrono_tz::Europe::Berlin;
        let first: DateTime<Utc> = "2027-01-07T18:00:00Z".parse().unwrap();
        let all: Vec<_> = dates("FREQ=WEEKLY;COUNT=10", first, tz).unwrap().collect();
        assert_eq!(all.len(), 10);
        let rule = continued("FREQ=WEEKLY;COUNT=10", 4).unwrap();
        let rest: Vec<_> = dates(&rule, all[3], tz)
            .unwrap()
            .filter(|d| *d > all[3])
            .collect();
        assert_eq!(rest, all[4..].to_vec());
    }
}
