//! RSVPs: who is going, who waits, and the rules that never overbook.
//!
//! Every change locks the event's row first (`SELECT … FOR UPDATE` on PostgreSQL; SQLite's
//! write transactions are already one at a time), so answers to one event are applied one
//! after another. The places themselves are taken with a conditional update of the event's
//! `going_count` (`… WHERE going_count + n <= capacity`), and a CHECK constraint refuses any
//! row where `going_count > capacity`: the database, not a read in Rust, keeps the limit.
//!
//! An answer takes its places whole: the member and their guests together, or none (it then
//! waits whole), and the waitlist is promoted in order, an answer at a time, while the next
//! one fits whole.

use chrono::{DateTime, Utc};
use entity::event::{self, EventStatus};
use entity::rsvp::{self, RsvpStatus as Status};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use crate::db::Tx;
use crate::domain::notifications::{self, About};
use crate::domain::{blocks, memberships};
use crate::effects::Committed;
use crate::error::{AppError, AppResult};
use crate::live::EventChange;
use crate::notify::messages::Message;

/// A member's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Response {
    Yes,
    No,
}

/// The most guests an event may allow each answer.
pub const MAX_GUEST_LIMIT: i32 = 10;

/// The places an answer takes: the member and their guests.
fn places(row: &rsvp::Model) -> i32 {
    1 + row.guests
}

/// Takes `n` places if that many are free: true when taken (all of them).
async fn take_places(db: &impl ConnectionTrait, event_id: Uuid, n: i32) -> AppResult<bool> {
    let result = event::Entity::update_many()
        .col_expr(
            event::Column::GoingCount,
            Expr::col(event::Column::GoingCount).add(n),
        )
        .filter(event::Column::Id.eq(event_id))
        .filter(
            Condition::any().add(event::Column::Capacity.is_null()).add(
                Expr::col(event::Column::GoingCount)
                    .add(n)
                    .lte(Expr::col(event::Column::Capacity)),
            ),
        )
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

async fn adjust(
    db: &impl ConnectionTrait,
    event_id: Uuid,
    going: i32,
    waiting: i32,
) -> AppResult<()> {
    event::Entity::update_many()
        .col_expr(
            event::Column::GoingCount,
            Expr::col(event::Column::GoingCount).add(going),
        )
        .col_expr(
            event::Column::WaitlistCount,
            Expr::col(event::Column::WaitlistCount).add(waiting),
        )
        .filter(event::Column::Id.eq(event_id))
        .exec(db)
        .await?;
    Ok(())
}

/// The next waitlist ticket of an event.
async fn next_ticket(db: &impl ConnectionTrait, event_id: Uuid) -> AppResult<i64> {
    let rows = event::Entity::update_many()
        .col_expr(
            event::Column::WaitlistSeq,
            Expr::col(event::Column::WaitlistSeq).add(1),
        )
        .filter(event::Column::Id.eq(event_id))
        .exec_with_returning(db)
        .await?;
    rows.first()
        .map(|e| e.waitlist_seq)
        .ok_or(AppError::NotFound("event"))
}

/// Moves answers from the waitlist to GOING, first come first served, while the next one
/// fits whole (with its guests); an answer that does not fit keeps its turn, and those behind
/// it wait too. Returns the RSVPs promoted. Call inside a write transaction that locked the
/// event.
pub async fn fill_places(
    db: &impl ConnectionTrait,
    event_id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<Vec<rsvp::Model>> {
    let mut promoted = Vec::new();
    loop {
        let Some(first) = rsvp::Entity::find()
            .filter(rsvp::Column::EventId.eq(event_id))
            .filter(rsvp::Column::Status.eq(Status::Waitlisted))
            .order_by_asc(rsvp::Column::WaitlistSeq)
            .one(db)
            .await?
        else {
            return Ok(promoted);
        };
        if !take_places(db, event_id, places(&first)).await? {
            return Ok(promoted);
        }
        adjust(db, event_id, 0, -1).await?;
        let mut row: rsvp::ActiveModel = first.into();
        row.status = Set(Status::Going);
        row.waitlist_seq = Set(None);
        row.updated_at = Set(now);
        promoted.push(row.update(db).await?);
    }
}

/// Answers an event: YES (with `guests`, 0 to the event's guest limit) is GOING while
/// places remain for the member and all their guests, else WAITLISTED whole at the end of
/// the queue; NO frees the places, and the queue moves up at once. A new number of guests
/// on a YES already given: fewer free places (and may promote); more take them if free, or
/// are CONFLICT (the place held is kept); on the waitlist the turn is kept. Repeating an
/// answer changes nothing (and tells nobody). ACTIVE members of the group only; a cancelled
/// or ended event is CONFLICT, as is a new YES after the RSVP deadline.
pub async fn respond(
    db: &DatabaseConnection,
    user_id: Uuid,
    event_id: Uuid,
    (response, guests): (Response, i32),
    now: DateTime<Utc>,
) -> AppResult<Committed<rsvp::Model>> {
    let mut tx = Tx::begin(db).await?;
    let event = event::Entity::find_by_id(event_id)
        .lock_exclusive()
        .one(&tx)
        .await?
        .ok_or(AppError::NotFound("event"))?;
    if !memberships::is_active_member(&tx, event.group_id, user_id).await? {
        return Err(AppError::forbidden(
            "only active members of the group may answer",
        ));
    }
    if event.status == EventStatus::Cancelled {
        return Err(AppError::conflict("the event is cancelled"));
    }
    if event.ends_at <= now {
        return Err(AppError::conflict("the event is over"));
    }
    let existing = rsvp::Entity::find()
        .filter(rsvp::Column::EventId.eq(event_id))
        .filter(rsvp::Column::UserId.eq(user_id))
        .one(&tx)
        .await?;
    if response == Response::Yes && !(0..=event.guest_limit).contains(&guests) {
        return Err(AppError::bad_input(
            "guests",
            format!(
                "this event takes 0 to {} guests per answer",
                event.guest_limit
            ),
        ));
    }
    let guests = if response == Response::Yes { guests } else { 0 };
    let before = existing.as_ref().map_or(Status::NotGoing, |r| r.status);
    let had = existing.as_ref().map_or(0, |r| r.guests);
    let (status, ticket) = match (response, before) {
        (Response::Yes, Status::Going | Status::Waitlisted) | (Response::No, Status::NotGoing)
            if existing.is_some() && guests == had =>
        {
            let unchanged = existing.expect("checked just above");
            return Ok(Committed::new(unchanged, Default::default()));
        }
        (Response::Yes, Status::Going) => {
            let more = guests - had;
            if more > 0 && !take_places(&tx, event_id, more).await? {
                return Err(AppError::conflict(
                    "not enough places left for more guests; your place is kept",
                ));
            }
            if more < 0 {
                adjust(&tx, event_id, more, 0).await?;
            }
            (Status::Going, None)
        }
        (Response::Yes, Status::Waitlisted) => (
            Status::Waitlisted,
            existing.as_ref().and_then(|r| r.waitlist_seq),
        ),
        (Response::Yes, Status::NotGoing) => {
            if event.rsvp_closes_at.is_some_and(|closes| closes <= now) {
                return Err(AppError::conflict("RSVPs to this event have closed"));
            }
            // Nobody jumps the queue: while anyone waits, a new answer waits behind them.
            if event.waitlist_count == 0 && take_places(&tx, event_id, 1 + guests).await? {
                (Status::Going, None)
            } else {
                let ticket = next_ticket(&tx, event_id).await?;
                adjust(&tx, event_id, 0, 1).await?;
                (Status::Waitlisted, Some(ticket))
            }
        }
        (Response::No, Status::Going) => {
            adjust(&tx, event_id, -(1 + had), 0).await?;
            (Status::NotGoing, None)
        }
        (Response::No, Status::Waitlisted) => {
            adjust(&tx, event_id, 0, -1).await?;
            (Status::NotGoing, None)
        }
        (Response::No, Status::NotGoing) => (Status::NotGoing, None),
    };
    let answer = Answer {
        status,
        ticket,
        guests,
    };
    let row = store_answer(&tx, existing, (event_id, user_id), answer, now).await?;
    tx.effects()
        .event_changed(event_id, EventChange::RsvpsChanged);
    // Places freed, or a waiting answer made smaller or gone from the head of the queue, may
    // let the queue move.
    let freed = before == Status::Going && (status == Status::NotGoing || guests < had);
    let queue_changed =
        before == Status::Waitlisted && (status == Status::NotGoing || guests < had);
    if freed || queue_changed {
        let promoted = fill_places(&tx, event_id, now).await?;
        notify_promoted(&mut tx, &event, &promoted, now).await?;
    }
    let effects = tx.commit().await?;
    Ok(Committed::new(row, effects))
}

/// What an answer becomes.
struct Answer {
    status: Status,
    ticket: Option<i64>,
    guests: i32,
}

/// Writes the member's answer: a new RSVP, or the existing one changed.
async fn store_answer(
    tx: &Tx,
    existing: Option<rsvp::Model>,
    (event_id, user_id): (Uuid, Uuid),
    Answer {
        status,
        ticket,
        guests,
    }: Answer,
    now: DateTime<Utc>,
) -> AppResult<rsvp::Model> {
    Ok(match existing {
        Some(existing) => {
            let mut row: rsvp::ActiveModel = existing.into();
            if status != Status::Going {
                // Who leaves is no longer checked in: a check-in is for people there.
                row.checked_in = Set(false);
                row.check_in_method = Set(None);
                row.checked_in_at = Set(None);
            }
            row.status = Set(status);
            row.waitlist_seq = Set(ticket);
            row.guests = Set(guests);
            row.updated_at = Set(now);
            row.update(tx).await?
        }
        None => {
            rsvp::ActiveModel {
                id: Set(Uuid::now_v7()),
                event_id: Set(event_id),
                user_id: Set(user_id),
                status: Set(status),
                waitlist_seq: Set(ticket),
                checked_in: Set(false),
                check_in_method: Set(None),
                checked_in_at: Set(None),
                guests: Set(guests),
                created_at: Set(now),
                updated_at: Set(now),
            }
            .insert(tx)
            .await?
        }
    })
}

/// Withdraws every answer of a member leaving Kith, inside the caller's transaction. The
/// counts follow, and a place freed at an event still to come goes to the waitlist (with
/// notifications) as a NO would; the events' subscribers hear it.
pub async fn withdraw_all(tx: &mut Tx, user_id: Uuid, now: DateTime<Utc>) -> AppResult<()> {
    let rows = rsvp::Entity::find()
        .filter(rsvp::Column::UserId.eq(user_id))
        .order_by_asc(rsvp::Column::EventId)
        .all(&*tx)
        .await?;
    for listed in rows {
        // The event first, as `respond` does; then the answer is deleted as it is now, under
        // that lock (it may have changed since it was listed).
        let event = event::Entity::find_by_id(listed.event_id)
            .lock_exclusive()
            .one(&*tx)
            .await?
            .ok_or(AppError::NotFound("event"))?;
        let Some(row) = rsvp::Entity::delete_by_id(listed.id)
            .exec_with_returning(&*tx)
            .await?
        else {
            continue;
        };
        match row.status {
            Status::Going => adjust(&*tx, event.id, -places(&row), 0).await?,
            Status::Waitlisted => adjust(&*tx, event.id, 0, -1).await?,
            Status::NotGoing => continue,
        }
        tx.effects()
            .event_changed(event.id, EventChange::RsvpsChanged);
        // A waiting answer that goes may have held up smaller ones behind it.
        if event.status == EventStatus::Scheduled && event.ends_at > now {
            let promoted = fill_places(&*tx, event.id, now).await?;
            notify_promoted(tx, &event, &promoted, now).await?;
        }
    }
    Ok(())
}

/// Tells each promoted member they have a place (inside the caller's transaction).
pub async fn notify_promoted(
    tx: &mut Tx,
    event: &event::Model,
    promoted: &[rsvp::Model],
    now: DateTime<Utc>,
) -> AppResult<()> {
    let users: Vec<Uuid> = promoted.iter().map(|r| r.user_id).collect();
    let message = Message::WaitlistPromoted {
        event: event.title.clone(),
    };
    notifications::record(tx, &users, &message, About::Event(event.id), now).await
}

/// 1-based place in the queue of a WAITLISTED RSVP.
pub async fn waitlist_position(
    db: &impl ConnectionTrait,
    row: &rsvp::Model,
) -> AppResult<Option<u64>> {
    let Some(ticket) = row
        .waitlist_seq
        .filter(|_| row.status == Status::Waitlisted)
    else {
        return Ok(None);
    };
    let ahead = rsvp::Entity::find()
        .filter(rsvp::Column::EventId.eq(row.event_id))
        .filter(rsvp::Column::Status.eq(Status::Waitlisted))
        .filter(rsvp::Column::WaitlistSeq.lt(ticket))
        .count(db)
        .await?;
    Ok(Some(ahead + 1))
}

pub async fn find(db: &impl ConnectionTrait, id: Uuid) -> AppResult<Option<rsvp::Model>> {
    Ok(rsvp::Entity::find_by_id(id).one(db).await?)
}

/// The RSVPs among the (event, member) pairs asked for: one query per member asked about,
/// which for a page of events seen by one viewer is one query binding the viewer once.
pub async fn of_pairs(
    db: &impl ConnectionTrait,
    pairs: &[(Uuid, Uuid)],
) -> AppResult<Vec<rsvp::Model>> {
    let mut by_user: std::collections::BTreeMap<Uuid, Vec<Uuid>> = Default::default();
    for (event, user) in pairs {
        by_user.entry(*user).or_default().push(*event);
    }
    let mut found = Vec::new();
    for (user, events) in by_user {
        found.extend(
            rsvp::Entity::find()
                .filter(rsvp::Column::UserId.eq(user))
                .filter(rsvp::Column::EventId.is_in(events))
                .all(db)
                .await?,
        );
    }
    Ok(found)
}

/// A page of the people GOING, in the order they answered, after the RSVP id `after`.
pub async fn going(
    db: &impl ConnectionTrait,
    viewer: Uuid,
    event_id: Uuid,
    after: Option<Uuid>,
    limit: u64,
) -> AppResult<Vec<rsvp::Model>> {
    let mut select = rsvp::Entity::find()
        .filter(rsvp::Column::EventId.eq(event_id))
        .filter(rsvp::Column::Status.eq(Status::Going))
        .filter(blocks::not_blocked_with(rsvp::Column::UserId, viewer));
    if let Some(after) = after {
        select = select.filter(rsvp::Column::Id.gt(after));
    }
    Ok(select
        .order_by_asc(rsvp::Column::Id)
        .limit(limit)
        .all(db)
        .await?)
}
