//! Reminders (`EVENT_REMINDER`): 24 hours and 2 hours before an event starts, to each member
//! GOING to it, once per member, start and lead, whatever the number of processes.
//!
//! Each sent reminder is a row of `reminders_sent` keyed by (event, member, lead, start),
//! written in the transaction of the notification it tells of: a second process's insert of
//! the same row does nothing, so it sends nothing. The start is part of the key, so moving
//! an event re-arms its reminders; a cancelled event and a member who no longer goes are
//! not reminded. A member who said yes (or got a place) after a reminder's time does not get
//! that one: a yes three hours before the start gets only the 2-hour reminder.

use chrono::{DateTime, Duration, Utc};
use entity::event::{self, EventStatus};
use entity::reminder_sent;
use entity::rsvp::{self, RsvpStatus};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use uuid::Uuid;

use crate::db::Tx;
use crate::domain::notifications::{self, About};
use crate::effects::Committed;
use crate::error::AppResult;
use crate::notify::messages::Message;

/// How long before the start each reminder goes, in hours.
pub const LEADS_HOURS: [i64; 2] = [24, 2];
/// A reminder later than this (the servers were down) is not sent.
pub const CATCH_UP: Duration = Duration::minutes(30);
/// Events reminded of in one round, per lead.
const BATCH: u64 = 100;

/// Sends the reminders due as of `now`; answers how many members were reminded.
pub async fn send_due(db: &DatabaseConnection, now: DateTime<Utc>) -> AppResult<Committed<usize>> {
    let mut tx = Tx::begin(db).await?;
    let mut reminded = 0;
    for hours in LEADS_HOURS {
        let lead = Duration::hours(hours);
        let events = event::Entity::find()
            .filter(event::Column::Status.eq(EventStatus::Scheduled))
            .filter(event::Column::StartsAt.gt(now + lead - CATCH_UP))
            .filter(event::Column::StartsAt.lte(now + lead))
            .filter(event::Column::StartsAt.gt(now))
            .order_by_asc(event::Column::StartsAt)
            .limit(BATCH)
            .all(&tx)
            .await?;
        for event in events {
            reminded += remind(&mut tx, &event, hours, now).await?;
        }
    }
    let effects = tx.commit().await?;
    Ok(Committed::new(reminded, effects))
}

/// Reminds the members going to `event` who have not had this reminder for this start.
async fn remind(
    tx: &mut Tx,
    event: &event::Model,
    hours: i64,
    now: DateTime<Utc>,
) -> AppResult<usize> {
    let due_at = event.starts_at - Duration::hours(hours);
    let going: Vec<Uuid> = rsvp::Entity::find()
        .select_only()
        .column(rsvp::Column::UserId)
        .filter(rsvp::Column::EventId.eq(event.id))
        .filter(rsvp::Column::Status.eq(RsvpStatus::Going))
        .filter(rsvp::Column::UpdatedAt.lte(due_at))
        .into_tuple()
        .all(&*tx)
        .await?;
    let lead_minutes = (hours * 60) as i32;
    let mut fresh = Vec::with_capacity(going.len());
    for user_id in going {
        let row = reminder_sent::ActiveModel {
            event_id: Set(event.id),
            user_id: Set(user_id),
            lead_minutes: Set(lead_minutes),
            starts_at: Set(event.starts_at),
            sent_at: Set(now),
        };
        let inserted = reminder_sent::Entity::insert(row)
            .on_conflict(
                OnConflict::columns([
                    reminder_sent::Column::EventId,
                    reminder_sent::Column::UserId,
                    reminder_sent::Column::LeadMinutes,
                    reminder_sent::Column::StartsAt,
                ])
                .do_nothing()
                .to_owned(),
            )
            .exec_without_returning(&*tx)
            .await?;
        if inserted > 0 {
            fresh.push(user_id);
        }
    }
    let message = Message::EventReminder {
        event: event.clone(),
        hours,
    };
    notifications::record(tx, &fresh, &message, About::Event(event.id), now).await?;
    Ok(fresh.len())
}

/// Forgets reminders of starts that are past (their rows only kept them from going twice).
pub async fn prune(db: &impl ConnectionTrait, now: DateTime<Utc>) -> AppResult<u64> {
    Ok(reminder_sent::Entity::delete_many()
        .filter(reminder_sent::Column::StartsAt.lt(now - Duration::days(1)))
        .exec(db)
        .await?
        .rows_affected)
}
