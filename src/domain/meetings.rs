//! Meeting confirmations: two members at an event confirm, face to face, that they met.
//!
//! One shows a meeting token (`auth::meeting_token`), the other scans it (or types its
//! code): that makes a PENDING confirmation, which the one who showed it accepts
//! (CONFIRMED: it counts for both) or declines. Either may later withdraw every meeting with
//! the other. Each token confirms once, and each pair once per event: both are unique
//! indexes, written in the confirmation's own transaction.

use chrono::{DateTime, Duration, Utc};
use entity::event::{self, EventStatus};
pub use entity::meeting_confirmation::MeetingStatus as Status;
use entity::rsvp::{self, CheckInMethod, RsvpStatus};
use entity::{meeting_confirmation as confirmation, meeting_token};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set, SqlErr,
};
use uuid::Uuid;

use crate::auth::MeetingTokens;
use crate::db::Tx;
use crate::domain::checkins;
use crate::domain::events;
use crate::domain::notifications::{self, About};
use crate::domain::rate_limit::{self, Limit};
use crate::domain::{accounts, attestations, blocks};
use crate::effects::Committed;
use crate::error::{AppError, AppResult};
use crate::notify::messages::Message;

/// Wrong codes a scanner may type before being made to wait.
pub const WRONG_CODES: Limit = Limit {
    max: 5,
    window: Duration::minutes(15),
};

/// A pair in a fixed order.
pub fn pair(a: Uuid, b: Uuid) -> (Uuid, Uuid) {
    if a <= b { (a, b) } else { (b, a) }
}

/// CONFLICT unless the event takes place and meetings may be confirmed now.
fn check_window(event: &event::Model, now: DateTime<Utc>) -> AppResult<()> {
    if event.status == EventStatus::Cancelled {
        return Err(AppError::conflict("the event is cancelled"));
    }
    // The same window as hosts' check-in: from 30 minutes before the start until 2 hours
    // after the end.
    if now < event.starts_at - checkins::OPENS_BEFORE_START
        || now > event.ends_at + checkins::HOSTS_UNTIL_AFTER_END
    {
        return Err(AppError::conflict(format!(
            "meetings are confirmed from {} minutes before the event until {} hours after it ends",
            checkins::OPENS_BEFORE_START.num_minutes(),
            checkins::HOSTS_UNTIL_AFTER_END.num_hours()
        )));
    }
    Ok(())
}

/// How the member was checked in at the event, if they were and are still GOING.
async fn check_in_of(
    db: &impl ConnectionTrait,
    event_id: Uuid,
    user_id: Uuid,
) -> AppResult<Option<CheckInMethod>> {
    Ok(rsvp::Entity::find()
        .filter(rsvp::Column::EventId.eq(event_id))
        .filter(rsvp::Column::UserId.eq(user_id))
        .filter(rsvp::Column::Status.eq(RsvpStatus::Going))
        .one(db)
        .await?
        .and_then(|r| checkins::method(&r)))
}

/// A token as handed to the member's phone.
pub struct IssuedToken {
    pub token: String,
    pub code: String,
    pub expires_at: DateTime<Utc>,
}

/// A meeting token for the member, checked in at the event, while meetings may be confirmed.
pub async fn create_token(
    db: &DatabaseConnection,
    tokens: &MeetingTokens,
    actor: Uuid,
    event_id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<IssuedToken> {
    let event = events::find(db, event_id)
        .await?
        .ok_or(AppError::NotFound("event"))?;
    if check_in_of(db, event.id, actor).await?.is_none() {
        return Err(AppError::forbidden(
            "check in at the event before confirming meetings",
        ));
    }
    check_window(&event, now)?;
    // A new token replaces the member's earlier ones for this event: one live code each.
    meeting_token::Entity::delete_many()
        .filter(meeting_token::Column::SubjectId.eq(actor))
        .filter(meeting_token::Column::EventId.eq(event.id))
        .exec(db)
        .await?;
    // A code is 40 random bits: a clash with a live one is unlikely, but possible.
    for _ in 0..3 {
        let (claims, token, code) = tokens.issue(actor, event.id, now)?;
        let expires_at = DateTime::from_timestamp(claims.exp, 0).unwrap_or(now);
        let stored = meeting_token::ActiveModel {
            id: Set(claims.jti),
            event_id: Set(event.id),
            subject_id: Set(actor),
            code_hash: Set(tokens.code_hash(&code)),
            expires_at: Set(expires_at),
            created_at: Set(now),
        }
        .insert(db)
        .await;
        match stored {
            Ok(_) => {
                return Ok(IssuedToken {
                    token,
                    code,
                    expires_at,
                });
            }
            Err(err) if matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {}
            Err(err) => return Err(err.into()),
        }
    }
    Err(AppError::internal(anyhow::anyhow!(
        "three meeting codes clashed in a row"
    )))
}

/// What the scanner presents: the scanned token, or its typed code.
pub enum Presented {
    Token(String),
    Code(String),
}

/// The token row that `presented` stands for. Every wrong code counts against the scanner,
/// and with too many even a right one is refused for a while (RATE_LIMITED).
async fn token_of(
    db: &DatabaseConnection,
    tokens: &MeetingTokens,
    scanner: Uuid,
    presented: &Presented,
    now: DateTime<Utc>,
) -> AppResult<meeting_token::Model> {
    match presented {
        Presented::Token(token) => {
            let claims = tokens.verify(token)?;
            meeting_token::Entity::find_by_id(claims.jti)
                .one(db)
                .await?
                .filter(|t| t.subject_id == claims.sub && t.event_id == claims.evt)
                .ok_or_else(|| AppError::bad_input("token", "not a valid meeting token"))
        }
        Presented::Code(code) => {
            // Counted before the lookup, so guesses sent at once cannot slip past the
            // limit; a right code gives its attempt back.
            let key = format!("meeting-code:{scanner}");
            if let Some(limited) = rate_limit::hit(db, &key, WRONG_CODES, now).await? {
                return Err(limited);
            }
            let found = meeting_token::Entity::find()
                .filter(meeting_token::Column::CodeHash.eq(tokens.code_hash(code)))
                .filter(meeting_token::Column::ExpiresAt.gt(now))
                .one(db)
                .await?;
            match found {
                Some(token) => {
                    rate_limit::release(db, &key).await?;
                    Ok(token)
                }
                None => Err(AppError::bad_input(
                    "code",
                    "no such code, or it has expired: ask for a fresh one",
                )),
            }
        }
    }
}

/// The scanner confirms meeting the token's subject: a PENDING confirmation, of which the
/// subject is told. With `attest_avatar`, the scanner also attests the subject's current
/// avatar (`attestations`), which counts once the subject accepts.
pub async fn confirm(
    db: &DatabaseConnection,
    tokens: &MeetingTokens,
    scanner: Uuid,
    presented: Presented,
    attest_avatar: bool,
    now: DateTime<Utc>,
) -> AppResult<Committed<confirmation::Model>> {
    let token = token_of(db, tokens, scanner, &presented, now).await?;
    if token.subject_id == scanner {
        return Err(AppError::forbidden(
            "that is your own token: the other person scans it",
        ));
    }
    if blocks::between(db, scanner, token.subject_id).await? {
        return Err(AppError::forbidden(
            "you cannot confirm a meeting with this person",
        ));
    }
    let mut tx = Tx::begin(db).await?;
    let event = events::find(&tx, token.event_id)
        .await?
        .ok_or(AppError::NotFound("event"))?;
    if check_in_of(&tx, event.id, scanner).await?.is_none() {
        return Err(AppError::forbidden(
            "check in at the event before confirming meetings",
        ));
    }
    if check_in_of(&tx, event.id, token.subject_id)
        .await?
        .is_none()
    {
        return Err(AppError::forbidden(
            "the other person is not checked in at this event",
        ));
    }
    check_window(&event, now)?;
    let used = || AppError::conflict("this token was used already: ask for a fresh one");
    if confirmation::Entity::find()
        .filter(confirmation::Column::TokenId.eq(token.id))
        .one(&tx)
        .await?
        .is_some()
    {
        return Err(used());
    }
    let (low, high) = pair(scanner, token.subject_id);
    let met_before = || AppError::conflict("you two have already confirmed meeting at this event");
    if confirmation::Entity::find()
        .filter(confirmation::Column::EventId.eq(event.id))
        .filter(confirmation::Column::UserLow.eq(low))
        .filter(confirmation::Column::UserHigh.eq(high))
        .one(&tx)
        .await?
        .is_some()
    {
        return Err(met_before());
    }
    let row = confirmation::ActiveModel {
        id: Set(Uuid::now_v7()),
        event_id: Set(event.id),
        scanner_id: Set(scanner),
        subject_id: Set(token.subject_id),
        user_low: Set(low),
        user_high: Set(high),
        token_id: Set(token.id),
        status: Set(Status::Pending),
        created_at: Set(now),
        responded_at: Set(None),
        withdrawn_at: Set(None),
    }
    .insert(&tx)
    .await
    .map_err(|err| match err.sql_err() {
        // Lost a race with the same token or the same pair: the database keeps it once.
        Some(SqlErr::UniqueConstraintViolation(_)) => {
            AppError::conflict("this token or this pair was confirmed already")
        }
        _ => err.into(),
    })?;
    if attest_avatar {
        attestations::attest(&tx, row.id, scanner, token.subject_id, now).await?;
    }
    let name = accounts::find(&tx, scanner)
        .await?
        .map(|u| u.display_name)
        .unwrap_or_default();
    notifications::record(
        &mut tx,
        &[token.subject_id],
        &Message::MeetingRequested {
            name,
            event: event.title.clone(),
        },
        About::Event(event.id),
        now,
    )
    .await?;
    let effects = tx.commit().await?;
    Ok(Committed::new(row, effects))
}

/// The subject answers a PENDING confirmation. Only they may; answering again the same way
/// changes nothing, answering otherwise is CONFLICT. With `attest_avatar`, the answer that
/// accepts also attests the scanner's current avatar (`attestations`); a decline attests
/// nothing, and forgets what the scanner attested.
pub async fn respond(
    db: &DatabaseConnection,
    actor: Uuid,
    id: Uuid,
    accept: bool,
    attest_avatar: bool,
    now: DateTime<Utc>,
) -> AppResult<confirmation::Model> {
    let tx = Tx::begin(db).await?;
    let row = confirmation::Entity::find_by_id(id)
        .one(&tx)
        .await?
        .ok_or(AppError::NotFound("meeting confirmation"))?;
    if row.subject_id != actor {
        return Err(if row.scanner_id == actor {
            AppError::forbidden("only the person who showed the token answers")
        } else {
            AppError::NotFound("meeting confirmation")
        });
    }
    let wanted = if accept {
        Status::Confirmed
    } else {
        Status::Declined
    };
    // Only a PENDING confirmation changes, in one conditional update: an answer racing a
    // withdrawal (or another answer) cannot undo it.
    let changed = confirmation::Entity::update_many()
        .col_expr(confirmation::Column::Status, Expr::value(wanted))
        .col_expr(confirmation::Column::RespondedAt, Expr::value(now))
        .filter(confirmation::Column::Id.eq(id))
        .filter(confirmation::Column::Status.eq(Status::Pending))
        .exec(&tx)
        .await?
        .rows_affected
        == 1;
    let row = confirmation::Entity::find_by_id(id)
        .one(&tx)
        .await?
        .ok_or(AppError::NotFound("meeting confirmation"))?;
    if changed && accept && attest_avatar {
        attestations::attest(&tx, row.id, actor, row.scanner_id, now).await?;
    }
    if changed && !accept {
        // What the scanner attested of a meeting that never was is kept for no one.
        attestations::forget_of_meeting(&tx, row.id).await?;
    }
    tx.commit().await?.expect_none();
    if !changed && row.status != wanted {
        return Err(AppError::conflict(format!(
            "this meeting is {} already",
            row.status.to_value()
        )));
    }
    Ok(row)
}

/// Takes back every pending or confirmed meeting between the two; returns those withdrawn,
/// oldest first.
pub async fn withdraw(
    db: &DatabaseConnection,
    actor: Uuid,
    other: Uuid,
    now: DateTime<Utc>,
) -> AppResult<Vec<confirmation::Model>> {
    let tx = Tx::begin(db).await?;
    accounts::find(&tx, other)
        .await?
        .ok_or(AppError::NotFound("user"))?;
    let (low, high) = pair(actor, other);
    let mut withdrawn = confirmation::Entity::update_many()
        .col_expr(confirmation::Column::Status, Expr::value(Status::Withdrawn))
        .col_expr(confirmation::Column::WithdrawnAt, Expr::value(now))
        .filter(confirmation::Column::UserLow.eq(low))
        .filter(confirmation::Column::UserHigh.eq(high))
        .filter(confirmation::Column::Status.is_in([Status::Pending, Status::Confirmed]))
        .exec_with_returning(&tx)
        .await?;
    tx.commit().await?.expect_none();
    withdrawn.sort_by_key(|c| c.id);
    Ok(withdrawn)
}

pub async fn find(db: &impl ConnectionTrait, id: Uuid) -> AppResult<Option<confirmation::Model>> {
    Ok(confirmation::Entity::find_by_id(id).one(db).await?)
}

/// PENDING confirmations awaiting the member's answer, newest first, before id `after`.
pub async fn pending_for(
    db: &impl ConnectionTrait,
    subject: Uuid,
    after: Option<Uuid>,
    limit: u64,
) -> AppResult<Vec<confirmation::Model>> {
    let mut select = confirmation::Entity::find()
        .filter(confirmation::Column::SubjectId.eq(subject))
        .filter(confirmation::Column::Status.eq(Status::Pending));
    if let Some(after) = after {
        select = select.filter(confirmation::Column::Id.lt(after));
    }
    Ok(select
        .order_by_desc(confirmation::Column::Id)
        .limit(limit)
        .all(db)
        .await?)
}

/// How many PENDING confirmations await the member.
pub async fn pending_count(db: &impl ConnectionTrait, subject: Uuid) -> AppResult<u64> {
    use sea_orm::PaginatorTrait;
    Ok(confirmation::Entity::find()
        .filter(confirmation::Column::SubjectId.eq(subject))
        .filter(confirmation::Column::Status.eq(Status::Pending))
        .count(db)
        .await?)
}

/// CONFIRMED meetings involving any of `users`.
pub async fn confirmed_involving(
    db: &impl ConnectionTrait,
    users: &[Uuid],
) -> AppResult<Vec<confirmation::Model>> {
    Ok(confirmation::Entity::find()
        .filter(confirmation::Column::Status.eq(Status::Confirmed))
        .filter(
            Condition::any()
                .add(confirmation::Column::UserLow.is_in(users.to_vec()))
                .add(confirmation::Column::UserHigh.is_in(users.to_vec())),
        )
        .all(db)
        .await?)
}

/// Forgets meeting tokens that expired over an hour ago (their confirmations stay).
pub async fn prune_tokens(db: &impl ConnectionTrait, now: DateTime<Utc>) -> AppResult<u64> {
    Ok(meeting_token::Entity::delete_many()
        .filter(meeting_token::Column::ExpiresAt.lt(now - Duration::hours(1)))
        .exec(db)
        .await?
        .rows_affected)
}
