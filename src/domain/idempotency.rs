//! `Idempotency-Key`: a mutation retried with the same key runs once. The key is claimed
//! by an INSERT that fails on conflict before anything runs, so of two requests with one
//! key exactly one runs, whichever processes they reached; its response is kept for
//! [`KEPT_FOR`] and given again to a repeat of the same request.

use chrono::{DateTime, Duration, Utc};
use entity::idempotency_key::{self, Column, Entity};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, TryInsertResult,
};

use crate::error::{AppError, AppResult};

/// How long a response is kept for retries.
pub const KEPT_FOR: Duration = Duration::hours(24);
/// A claim with no response after this long belongs to a request that will never answer
/// (its process ended): the key may run again. Well over the request time budget.
pub const ABANDONED_AFTER: Duration = Duration::minutes(2);
/// The longest key accepted.
pub const MAX_KEY_LEN: usize = 255;

/// A key as the client sent it: 1–255 visible ASCII characters.
pub fn parse_key(raw: &[u8]) -> AppResult<String> {
    if raw.is_empty() || raw.len() > MAX_KEY_LEN || !raw.iter().all(u8::is_ascii_graphic) {
        return Err(AppError::bad_input(
            "Idempotency-Key",
            "the Idempotency-Key header must be 1 to 255 visible ASCII characters",
        ));
    }
    Ok(String::from_utf8_lossy(raw).into_owned())
}

/// What to do with a request that carries a key.
#[derive(Debug)]
pub enum Claim {
    /// The key is ours: run the request, then `keep` or `release`.
    Run,
    /// The same request ran before: give its response again.
    Replay { status: u16, body: String },
}

/// Claims `key` in `scope` for the request whose hash is `request_hash`. CONFLICT when the
/// key was used for another request, or when its first request is still running.
pub async fn claim(
    db: &impl ConnectionTrait,
    scope: &str,
    key: &str,
    request_hash: &str,
    now: DateTime<Utc>,
) -> AppResult<Claim> {
    // Twice at most: a second time only after removing an expired or abandoned claim.
    for _ in 0..2 {
        let inserted = Entity::insert(idempotency_key::ActiveModel {
            scope: Set(scope.to_owned()),
            key: Set(key.to_owned()),
            request_hash: Set(request_hash.to_owned()),
            status_code: Set(None),
            response: Set(None),
            created_at: Set(now),
        })
        .on_conflict_do_nothing_on([Column::Scope, Column::Key])
        .exec_without_returning(db)
        .await?;
        if matches!(inserted, TryInsertResult::Inserted(n) if n > 0) {
            return Ok(Claim::Run);
        }
        let Some(row) = Entity::find_by_id((scope.to_owned(), key.to_owned()))
            .one(db)
            .await?
        else {
            continue; // released in between: try again
        };
        let expired = row.created_at <= now - KEPT_FOR;
        let abandoned = row.response.is_none() && row.created_at <= now - ABANDONED_AFTER;
        if expired || abandoned {
            // Only that very claim: if another request took the key over meanwhile, its
            // claim stays and the INSERT above conflicts again.
            Entity::delete_many()
                .filter(Column::Scope.eq(scope))
                .filter(Column::Key.eq(key))
                .filter(Column::CreatedAt.eq(row.created_at))
                .exec(db)
                .await?;
            continue;
        }
        if row.request_hash != request_hash {
            return Err(AppError::conflict(
                "this Idempotency-Key was used for another request; use a new key for a new request",
            ));
        }
        return match (row.status_code, row.response) {
            (Some(status), Some(body)) => Ok(Claim::Replay {
                status: u16::try_from(status).unwrap_or(200),
                body,
            }),
            _ => Err(AppError::conflict(
                "a request with this Idempotency-Key is still running; retry in a moment",
            )),
        };
    }
    Err(AppError::conflict(
        "this Idempotency-Key is being claimed by another request; retry in a moment",
    ))
}

/// Keeps the response of a claimed request, for repeats.
pub async fn keep(
    db: &impl ConnectionTrait,
    scope: &str,
    key: &str,
    status: u16,
    body: &str,
) -> AppResult<()> {
    Entity::update_many()
        .col_expr(Column::StatusCode, Expr::value(i32::from(status)))
        .col_expr(Column::Response, Expr::value(body.to_owned()))
        .filter(Column::Scope.eq(scope))
        .filter(Column::Key.eq(key))
        .exec(db)
        .await?;
    Ok(())
}

/// Gives a claim up (the request failed on the server's side), so a retry runs.
pub async fn release(db: &impl ConnectionTrait, scope: &str, key: &str) -> AppResult<()> {
    Entity::delete_many()
        .filter(Column::Scope.eq(scope))
        .filter(Column::Key.eq(key))
        .filter(Column::Response.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// Removes what is older than [`KEPT_FOR`]. Returns how many rows went.
pub async fn prune(db: &impl ConnectionTrait, now: DateTime<Utc>) -> AppResult<u64> {
    Ok(Entity::delete_many()
        .filter(Column::CreatedAt.lte(now - KEPT_FOR))
        .exec(db)
        .await?
        .rows_affected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_visible_ascii() {
        assert!(parse_key(b"a").is_ok());
        assert!(parse_key("k".repeat(255).as_bytes()).is_ok());
        assert!(parse_key(b"").is_err());
        assert!(parse_key("k".repeat(256).as_bytes()).is_err());
        assert!(parse_key(b"has space").is_err());
        assert!(parse_key("caf\u{e9}".as_bytes()).is_err());
    }
}
