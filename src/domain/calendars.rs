//! Calendars (RFC 5545): one event, and each member's private feed of the events they are
//! GOING or WAITLISTED to. UIDs are stable, SEQUENCE rises with every change and a
//! cancelled event says STATUS:CANCELLED, so a calendar app that subscribed follows along.
//! Times are written in UTC (unambiguous); the event's own zone rides along as X-KITH-TZID.

use chrono::Utc;
use entity::event::EventStatus as Status;
use entity::rsvp::RsvpStatus;
use entity::{event, rsvp, user};
use icalendar::{Calendar, Component, EventLike, EventStatus};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use crate::auth::secrets::random_token;
use crate::error::{AppError, AppResult};

/// Text as iCalendar lines carry it: line breaks only as `\n`, which the writer escapes
/// in text properties. A bare CR would otherwise end the line and start one the member's
/// text chose, such as `BEGIN:VEVENT`.
fn text(value: &str) -> String {
    value.replace("\r\n", "\n").replace('\r', "\n")
}

/// A value for a property the writer does not escape (the calendar's `NAME`), escaped as
/// RFC 5545 escapes TEXT.
fn escaped(value: &str) -> String {
    text(value)
        .replace('\\', "\\\\")
        .replace(',', "\\,")
        .replace(';', "\\;")
        .replace('\n', "\\n")
}

fn vevent(e: &event::Model) -> icalendar::Event {
    let mut out = icalendar::Event::new();
    out.uid(&format!("{}@kith", e.id))
        .summary(&text(&e.title))
        .description(&text(&e.description))
        .starts(e.starts_at)
        .ends(e.ends_at)
        .sequence(e.sequence.max(0) as u32)
        .timestamp(e.updated_at)
        .last_modified(e.updated_at)
        .add_property("X-KITH-TZID", e.time_zone.as_str());
    match (&e.venue_name, &e.venue_address) {
        (Some(name), Some(address)) if !address.is_empty() => {
            out.location(&text(&format!("{name}, {address}")));
        }
        (Some(name), _) => {
            out.location(&text(name));
        }
        _ => {}
    }
    if let Some(url) = &e.online_url {
        out.url(&text(url));
    }
    out.status(match e.status {
        Status::Scheduled => EventStatus::Confirmed,
        Status::Cancelled => EventStatus::Cancelled,
    });
    out.done()
}

fn calendar(name: &str, events: &[event::Model]) -> String {
    let mut cal = Calendar::new();
    cal.name(&escaped(name));
    for e in events {
        cal.push(vevent(e));
    }
    cal.done().to_string()
}

/// One event as iCalendar.
pub fn event_ics(e: &event::Model) -> String {
    calendar(&e.title, std::slice::from_ref(e))
}

/// The feed behind `token`: every event its member is GOING or WAITLISTED to, cancelled
/// ones included (so calendars remove them). None for an unknown token.
pub async fn feed_ics(db: &impl ConnectionTrait, token: &str) -> AppResult<Option<String>> {
    let Some(member) = user::Entity::find()
        .filter(user::Column::CalendarToken.eq(token))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let ids: Vec<Uuid> = rsvp::Entity::find()
        .filter(rsvp::Column::UserId.eq(member.id))
        .filter(rsvp::Column::Status.is_in([RsvpStatus::Going, RsvpStatus::Waitlisted]))
        .all(db)
        .await?
        .into_iter()
        .map(|r| r.event_id)
        .collect();
    let events = event::Entity::find()
        .filter(event::Column::Id.is_in(ids))
        .order_by_asc(event::Column::StartsAt)
        .all(db)
        .await?;
    Ok(Some(calendar(
        &format!("Kith: {}", member.display_name),
        &events,
    )))
}

/// The member's feed token, made now if they have none.
pub async fn feed_token(db: &impl ConnectionTrait, member: &user::Model) -> AppResult<String> {
    if let Some(token) = &member.calendar_token {
        return Ok(token.clone());
    }
    // Two first reads at once: the one that writes first wins, the other reads it back.
    user::Entity::update_many()
        .col_expr(user::Column::CalendarToken, Expr::value(random_token()))
        .col_expr(user::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(user::Column::Id.eq(member.id))
        .filter(user::Column::CalendarToken.is_null())
        .exec(db)
        .await?;
    user::Entity::find_by_id(member.id)
        .one(db)
        .await?
        .and_then(|u| u.calendar_token)
        .ok_or(AppError::Unauthenticated("the account no longer exists"))
}

/// Replaces the member's feed token: the old feed URL stops working at once.
pub async fn replace_feed_token(db: &impl ConnectionTrait, member_id: Uuid) -> AppResult<()> {
    user::Entity::update_many()
        .col_expr(user::Column::CalendarToken, Expr::value(random_token()))
        .filter(user::Column::Id.eq(member_id))
        .exec(db)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_title_cannot_start_lines_of_its_own() {
        let name = "Evil\r\nBEGIN:VEVENT\r\nSUMMARY:injected;x,y\\";
        let ics = calendar(name, &[]);
        assert!(!ics.contains("\r\nBEGIN:VEVENT"), "{ics}");
        assert!(
            ics.contains("NAME:Evil\\nBEGIN:VEVENT\\nSUMMARY:injected\\;x\\,y\\\\"),
            "{ics}"
        );
    }
}
