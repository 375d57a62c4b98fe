//! Check-in: who was really at an event. A host checking in a GOING attendee is the strong
//! kind (`HOST`); a member checking in from their phone's location, near the venue around
//! the event's time, the weaker kind (`LOCATION`). The location decides and is forgotten:
//! only the method is stored.

use chrono::{DateTime, Duration, Utc};
use entity::{event, rsvp};
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use crate::db::begin_write;
use crate::domain::events::{self, Status as EventStatus};
use crate::domain::geo::GeoPoint;
use crate::domain::rsvps::Status as RsvpStatus;
use crate::error::{AppError, AppResult};

/// How early before the start a member may check in.
pub const OPENS_BEFORE_START: Duration = Duration::minutes(30);
/// How long after the end hosts may still check people in (signal at venues is poor).
pub const HOSTS_UNTIL_AFTER_END: Duration = Duration::hours(2);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Checked in by a host: both were in the room.
    Host,
    /// Checked in from the member's own phone, near the venue.
    Location,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Host => "HOST",
            Method::Location => "LOCATION",
        }
    }

    pub fn of(row: &rsvp::Model) -> Option<Self> {
        if !row.checked_in {
            return None;
        }
        Some(match row.check_in_method.as_deref() {
            Some("HOST") => Method::Host,
            _ => Method::Location,
        })
    }
}

/// Whom to check in, and how the caller vouches for it.
pub enum Who {
    /// A host checks in this attendee.
    Attendee(Uuid),
    /// The member checks themselves in from where their phone is.
    Myself(GeoPoint),
}

/// Checks a GOING attendee in; returns their RSVP and whether it changed. Checking in again
/// changes nothing, except
/// that a host's check-in replaces a member's own.
pub async fn check_in(
    db: &DatabaseConnection,
    actor: Uuid,
    event_id: Uuid,
    who: Who,
    radius_meters: f64,
    now: DateTime<Utc>,
) -> AppResult<(rsvp::Model, bool)> {
    let txn = begin_write(db).await?;
    let event = events::find(&txn, event_id)
        .await?
        .ok_or(AppError::NotFound("event"))?;
    let (user_id, method) = match who {
        Who::Attendee(user_id) => {
            if !events::is_manager(&txn, &event, actor).await? {
                return Err(AppError::forbidden(
                    "only the event's hosts and the group's organizers check others in",
                ));
            }
            check_open(&event, now, event.ends_at + HOSTS_UNTIL_AFTER_END)?;
            (user_id, Method::Host)
        }
        Who::Myself(at) => {
            check_open(&event, now, event.ends_at)?;
            let venue = match (event.venue_lat, event.venue_lng) {
                (Some(lat), Some(lng)) => GeoPoint::new(lat, lng)?,
                _ => {
                    return Err(AppError::forbidden(
                        "this event has no venue: ask a host to check you in",
                    ));
                }
            };
            if venue.distance_km(&at) * 1000.0 > radius_meters {
                return Err(AppError::forbidden(format!(
                    "you are not at the venue (check-in works within {radius_meters:.0} m of it)"
                )));
            }
            (actor, Method::Location)
        }
    };
    let row = rsvp::Entity::find()
        .filter(rsvp::Column::EventId.eq(event.id))
        .filter(rsvp::Column::UserId.eq(user_id))
        .one(&txn)
        .await?
        .filter(|r| RsvpStatus::of(r) == RsvpStatus::Going)
        .ok_or_else(|| AppError::forbidden("only people GOING to the event are checked in"))?;
    let already = Method::of(&row);
    if already == Some(Method::Host) || already == Some(method) {
        return Ok((row, false));
    }
    let mut change: rsvp::ActiveModel = row.into();
    change.checked_in = Set(true);
    change.check_in_method = Set(Some(method.as_str().to_owned()));
    change.checked_in_at = Set(Some(now));
    change.updated_at = Set(now);
    let row = change.update(&txn).await?;
    txn.commit().await?;
    Ok((row, true))
}

/// CONFLICT unless the event takes place and check-in is open: from 30 minutes before the
/// start until `closes`.
fn check_open(event: &event::Model, now: DateTime<Utc>, closes: DateTime<Utc>) -> AppResult<()> {
    if EventStatus::of(event) == EventStatus::Cancelled {
        return Err(AppError::conflict("the event is cancelled"));
    }
    if now < event.starts_at - OPENS_BEFORE_START || now > closes {
        return Err(AppError::conflict(
            "check-in is open from 30 minutes before the event until it ends",
        ));
    }
    Ok(())
}
