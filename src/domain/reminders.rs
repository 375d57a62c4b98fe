//! Reminders (`EVENT_REMINDER`): 24 hours and 2 hours before an event starts, to each member
//! GOING to it, once per member, start and lead, whatever the number of processes.
//!
//! Each sent reminder is a row of `reminders_sent` keyed by (event, member, lead, start),
//! written in the transaction of the notification it tells of: a second process's insert of
//! the same row does nothing, so it sends nothing. The start is part of the key, so moving
//! an event re-arms its reminders; a cancelled event and a member who no longer goes are
//! not reminded. A member who said yes (or got a place) after a reminder's time does not get
//! that one: a yes three hours before the start gets only the 2-hour reminder.

use std::collections::HashSet;

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
use crate::effects::{Committed, Effects};
use crate::error::AppResult;
use crate::notify::messages::Message;

/// How long before the start each reminder goes, in hours.
pub const LEADS_HOURS: [i64; 2] = [24, 2];
/// A reminder later than this (the servers were down) is not sent.
pub const CATCH_UP: Duration = Duration::minutes(30);
/// Events reminded of in one round, per lead.
const BATCH: u64 = 100;

/// Sends the reminders due as of `now`; answers how many members were reminded. What is
/// due is read first, without a transaction, so that a round with nothing to send takes no
/// write lock; the rows that make each reminder go once are written in the transaction.
pub async fn send_due(db: &DatabaseConnection, now: DateTime<Utc>) -> AppResult<Committed<usize>> {
    let due = due(db, now).await?;
    if due.is_empty() {
        return Ok(Committed::new(0, Effects::default()));
    }
    let mut tx = Tx::begin(db).await?;
    let mut reminded = 0;
    for (event, hours, members) in due {
        // Moved or cancelled since it was read: the next round sees it as it is now.
        let current = event::Entity::find_by_id(event.id).one(&tx).await?;
        if current.is_none_or(|c| c.starts_at != event.starts_at || c.status != event.status) {
            continue;
        }
        reminded += remind(&mut tx, &event, hours, members, now).await?;
    }
    let effects = tx.commit().await?;
    Ok(Committed::new(reminded, effects))
}

/// The events with a reminder due, each with its lead in hours and the members going to
/// it who have not had that reminder for this start.
async fn due(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
) -> AppResult<Vec<(event::Model, i64, Vec<Uuid>)>> {
    let mut due = Vec::new();
    for hours in LEADS_HOURS {
        let lead = Duration::hours(hours);
        let events = event::Entity::find()
            .filter(event::Column::Status.eq(EventStatus::Scheduled))
            .filter(event::Column::StartsAt.gt(now + lead - CATCH_UP))
            .filter(event::Column::StartsAt.lte(now + lead))
            .filter(event::Column::StartsAt.gt(now))
            .order_by_asc(event::Column::StartsAt)
            .limit(BATCH)
            .all(db)
            .await?;
        for event in events {
            let members = unreminded(db, &event, hours).await?;
            if !members.is_empty() {
                due.push((event, hours, members));
            }
        }
    }
    Ok(due)
}

/// The members going to `event` since before its `hours` reminder's time who have not had
/// it for this start.
async fn unreminded(
    db: &impl ConnectionTrait,
    event: &event::Model,
    hours: i64,
) -> AppResult<Vec<Uuid>> {
    let due_at = event.starts_at - Duration::hours(hours);
    let going: Vec<Uuid> = rsvp::Entity::find()
        .select_only()
        .column(rsvp::Column::UserId)
        .filter(rsvp::Column::EventId.eq(event.id))
        .filter(rsvp::Column::Status.eq(RsvpStatus::Going))
        .filter(rsvp::Column::UpdatedAt.lte(due_at))
        .into_tuple()
        .all(db)
        .await?;
    if going.is_empty() {
        return Ok(going);
    }
    let sent: HashSet<Uuid> = reminder_sent::Entity::find()
        .select_only()
        .column(reminder_sent::Column::UserId)
        .filter(reminder_sent::Column::EventId.eq(event.id))
        .filter(reminder_sent::Column::LeadMinutes.eq(lead_minutes(hours)))
        .filter(reminder_sent::Column::StartsAt.eq(event.starts_at))
        .into_tuple::<Uuid>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    Ok(going.into_iter().filter(|u| !sent.contains(u)).collect())
}

fn lead_minutes(hours: i64) -> i32 {
    (hours * 60) as i32
}

/// Reminds `members` of `event`: each whose row is new here (not written meanwhile by
/// another process) gets the notification.
async fn remind(
    tx: &mut Tx,
    event: &event::Model,
    hours: i64,
    members: Vec<Uuid>,
    now: DateTime<Utc>,
) -> AppResult<usize> {
    let mut fresh = Vec::with_capacity(members.len());
    for user_id in members {
        let row = reminder_sent::ActiveModel {
            event_id: Set(event.id),
            user_id: Set(user_id),
            lead_minutes: Set(lead_minutes(hours)),
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
