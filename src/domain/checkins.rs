//! Check-in: who was really at an event. A host checking in a GOING attendee is the strong
//! kind (`HOST`); a member checking in from their phone's location, near the venue around
//! the event's time, the weaker kind (`LOCATION`). The location decides and is forgotten:
//! only the method is stored.

use chrono::{DateTime, Duration, Utc};
use entity::event::{self, EventStatus};
use entity::rsvp::{self, CheckInMethod, RsvpStatus};
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use crate::db::Tx;
use crate::domain::events;
use crate::domain::geo::GeoPoint;
use crate::effects::Committed;
use crate::error::{AppError, AppResult};
use crate::live::EventChange;

/// How early before the start a member may check in.
pub const OPENS_BEFORE_START: Duration = Duration::minutes(30);
/// How long after the end hosts may still check people in (signal at venues is poor).
pub const HOSTS_UNTIL_AFTER_END: Duration = Duration::hours(2);

/// How the member was checked in, when they are.
pub fn method(row: &rsvp::Model) -> Option<CheckInMethod> {
    row.check_in_method.filter(|_| row.checked_in)
}

/// Whom to check in, and how the caller vouches for it.
pub enum Who {
    /// A host checks in this attendee.
    Attendee(Uuid),
    /// The member checks themselves in from where their phone is.
    Myself(GeoPoint),
}

/// Checks a GOING attendee in; returns their RSVP. Checking in again changes nothing (and
/// tells nobody), except that a host's check-in replaces a member's own.
pub async fn check_in(
    db: &DatabaseConnection,
    actor: Uuid,
    event_id: Uuid,
    who: Who,
    radius_meters: f64,
    now: DateTime<Utc>,
) -> AppResult<Committed<rsvp::Model>> {
    let mut tx = Tx::begin(db).await?;
    let event = events::find(&tx, event_id)
        .await?
        .ok_or(AppError::NotFound("event"))?;
    let (user_id, method) = match who {
        Who::Attendee(user_id) => {
            if user_id == actor {
                return Err(AppError::forbidden(
                    "a host checks in others: check yourself in with your location",
                ));
            }
            if !events::is_manager(&tx, &event, actor).await? {
                return Err(AppError::forbidden(
                    "only the event's hosts and the group's organizers check others in",
                ));
            }
            check_open(&event, now, event.ends_at + HOSTS_UNTIL_AFTER_END)?;
            (user_id, CheckInMethod::Host)
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
            (actor, CheckInMethod::Location)
        }
    };
    let row = rsvp::Entity::find()
        .filter(rsvp::Column::EventId.eq(event.id))
        .filter(rsvp::Column::UserId.eq(user_id))
        .one(&tx)
        .await?
        .filter(|r| r.status == RsvpStatus::Going)
        .ok_or_else(|| AppError::forbidden("only people GOING to the event are checked in"))?;
    let already = self::method(&row);
    if already == Some(CheckInMethod::Host) || already == Some(method) {
        return Ok(Committed::new(row, Default::default()));
    }
    let mut change: rsvp::ActiveModel = row.into();
    change.checked_in = Set(true);
    change.check_in_method = Set(Some(method));
    change.checked_in_at = Set(Some(now));
    change.updated_at = Set(now);
    let row = change.update(&tx).await?;
    tx.effects()
        .event_changed(event_id, EventChange::RsvpsChanged);
    let effects = tx.commit().await?;
    Ok(Committed::new(row, effects))
}

/// CONFLICT unless the event takes place and check-in is open: from 30 minutes before the
/// start until `closes`.
fn check_open(event: &event::Model, now: DateTime<Utc>, closes: DateTime<Utc>) -> AppResult<()> {
    if event.status == EventStatus::Cancelled {
        return Err(AppError::conflict("the event is cancelled"));
    }
    if now < event.starts_at - OPENS_BEFORE_START || now > closes {
        return Err(AppError::conflict(format!(
            "check-in is open from {} minutes before the event until it ends",
            OPENS_BEFORE_START.num_minutes()
        )));
    }
    Ok(())
}
