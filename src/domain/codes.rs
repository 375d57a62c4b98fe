//! Six-digit codes mailed to a member: to verify an address, and to reset a password.
//!
//! A code is stored as an HMAC keyed by the server secret (a bare hash of a six-digit
//! number is reversed by trying a million values), lives 15 minutes, and only the newest
//! code of a purpose counts. Five wrong tries kill it; a member may ask for five codes an hour.

use chrono::{DateTime, Duration, Utc};
pub use entity::one_time_code::CodePurpose as Purpose;
use entity::one_time_code::{self, Column, Entity};
use rand::Rng;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, Set,
};
use uuid::Uuid;

use crate::auth::secrets::{hmac, hmac_matches, token_hash};
use crate::domain::rate_limit::{self, Limit};
use crate::error::{AppError, AppResult};

pub const LIFETIME: Duration = Duration::minutes(15);
pub const MAX_ATTEMPTS: i32 = 5;
pub const MAX_REQUESTS_PER_HOUR: i32 = 5;

/// The message whose MAC is stored: the code bound to its row, so a hash cannot be moved.
fn code_message(code_id: Uuid, code: &str) -> Vec<u8> {
    let mut message = code_id.as_bytes().to_vec();
    message.extend_from_slice(code.as_bytes());
    message
}

/// Code requests per member and purpose.
const REQUESTS: Limit = Limit {
    max: MAX_REQUESTS_PER_HOUR,
    window: Duration::hours(1),
};

fn requests_key(user_id: Uuid, purpose: Purpose) -> String {
    format!("code:{}:{user_id}", purpose.to_value())
}

/// Account mail (codes, the word to an old address) one address may receive in an hour,
/// whichever accounts ask for it: nobody can flood someone else's inbox by making accounts
/// with their address.
pub const MAIL_PER_ADDRESS: Limit = Limit {
    max: 10,
    window: Duration::hours(1),
};

/// Counts one account mail to `address`; the RATE_LIMITED error to give when it is one too
/// many.
pub async fn count_mail_to(
    db: &impl ConnectionTrait,
    address: &str,
    now: DateTime<Utc>,
) -> AppResult<Option<AppError>> {
    let key = format!("mail:to:{}", token_hash(address));
    rate_limit::hit(db, &key, MAIL_PER_ADDRESS, now).await
}

/// Makes a new code for `user_id`, to be mailed to `sent_to`. Returns the plain code.
/// Limited per member and purpose, and per address (`MAIL_PER_ADDRESS`).
pub async fn issue(
    db: &impl ConnectionTrait,
    key: &[u8],
    user_id: Uuid,
    purpose: Purpose,
    sent_to: &str,
    now: DateTime<Utc>,
) -> AppResult<String> {
    if let Some(limited) =
        rate_limit::hit(db, &requests_key(user_id, purpose), REQUESTS, now).await?
    {
        return Err(limited);
    }
    if let Some(limited) = count_mail_to(db, sent_to, now).await? {
        return Err(limited);
    }
    create(db, key, user_id, purpose, sent_to, now).await
}

/// Makes a new code without counting the request: for callers that limit requests
/// themselves (a password reset counts them per address, member or not).
pub async fn create(
    db: &impl ConnectionTrait,
    key: &[u8],
    user_id: Uuid,
    purpose: Purpose,
    sent_to: &str,
    now: DateTime<Utc>,
) -> AppResult<String> {
    let code = format!("{:06}", rand::rng().random_range(0..1_000_000));
    let id = Uuid::now_v7();
    one_time_code::ActiveModel {
        id: Set(id),
        user_id: Set(user_id),
        purpose: Set(purpose),
        sent_to: Set(sent_to.into()),
        code_hash: Set(hex::encode(hmac(key, &code_message(id, &code)))),
        attempts: Set(0),
        expires_at: Set(now + LIFETIME),
        created_at: Set(now),
        consumed_at: Set(None),
    }
    .insert(db)
    .await?;
    Ok(code)
}

/// Checks `code` against the newest code of `purpose` and uses it up when it matches.
/// `field` names the input for BAD_USER_INPUT. Call inside a write transaction.
pub async fn redeem(
    db: &impl ConnectionTrait,
    key: &[u8],
    user_id: Uuid,
    purpose: Purpose,
    code: &str,
    field: &str,
    now: DateTime<Utc>,
) -> AppResult<one_time_code::Model> {
    let Some(latest) = Entity::find()
        .filter(Column::UserId.eq(user_id))
        .filter(Column::Purpose.eq(purpose))
        .order_by_desc(Column::CreatedAt)
        .order_by_desc(Column::Id)
        .one(db)
        .await?
    else {
        return Err(AppError::bad_input(
            field,
            "no code was requested; request one first",
        ));
    };
    if latest.consumed_at.is_some() {
        return Err(AppError::conflict(
            "this code has already been used; request a new one",
        ));
    }
    if latest.expires_at <= now {
        return Err(AppError::bad_input(
            field,
            "the code has expired; request a new one",
        ));
    }
    // Take an attempt before comparing, atomically, and learn how many have been taken:
    // concurrent guesses can neither share an attempt nor go past the fifth.
    let taken = Entity::update_many()
        .col_expr(Column::Attempts, Expr::col(Column::Attempts).add(1))
        .filter(Column::Id.eq(latest.id))
        .filter(Column::Attempts.lt(MAX_ATTEMPTS))
        .exec_with_returning(db)
        .await?
        .first()
        .map(|row| row.attempts);
    let locked = || async {
        // A dead code can only be replaced: say when a new one may be requested.
        let wait =
            rate_limit::retry_after(db, &requests_key(user_id, purpose), REQUESTS, now).await?;
        Err(AppError::RateLimited {
            retry_after_seconds: wait.unwrap_or(1),
        })
    };
    let Some(attempts) = taken else {
        return locked().await;
    };
    if !hmac_matches(
        key,
        &code_message(latest.id, code.trim()),
        &latest.code_hash,
    ) {
        return if attempts >= MAX_ATTEMPTS {
            locked().await
        } else {
            Err(AppError::bad_input(field, "wrong code"))
        };
    }
    Entity::update_many()
        .col_expr(Column::ConsumedAt, Expr::value(now))
        .filter(Column::Id.eq(latest.id))
        .exec(db)
        .await?;
    Ok(latest)
}
