//! Fixed-window attempt counters kept in the database, so that every `kith` process sharing
//! it counts the same attempts.

use chrono::{DateTime, Duration, Utc};
use entity::rate_limit::{self, Column, Entity};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

use crate::error::{AppError, AppResult};

/// At most `max` attempts in each `window`.
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    pub max: i32,
    pub window: Duration,
}

/// Whole seconds from `now` until `at`, at least 1: what `retryAfterSeconds` says.
pub fn seconds_until(at: DateTime<Utc>, now: DateTime<Utc>) -> u64 {
    std::cmp::max((at - now).num_seconds(), 1) as u64
}

/// RATE_LIMITED when `key` has used up its attempts in the current window.
pub async fn check(
    db: &impl ConnectionTrait,
    key: &str,
    limit: Limit,
    now: DateTime<Utc>,
) -> AppResult<()> {
    if let Some(row) = Entity::find_by_id(key.to_owned()).one(db).await? {
        let resets_at = row.window_started_at + limit.window;
        if resets_at > now && row.count >= limit.max {
            return Err(AppError::RateLimited {
                retry_after_seconds: seconds_until(resets_at, now),
            });
        }
    }
    Ok(())
}

/// Counts one attempt for `key`, starting a new window when the last one has passed.
/// Both statements are atomic, so concurrent attempts are all counted.
pub async fn record(
    db: &impl ConnectionTrait,
    key: &str,
    limit: Limit,
    now: DateTime<Utc>,
) -> AppResult<()> {
    Entity::insert(rate_limit::ActiveModel {
        key: Set(key.to_owned()),
        window_started_at: Set(now),
        count: Set(0),
    })
    .on_conflict_do_nothing_on([Column::Key])
    .exec(db)
    .await?;

    let expired = Expr::col(Column::WindowStartedAt).lte(now - limit.window);
    Entity::update_many()
        .col_expr(
            Column::Count,
            Expr::case(expired.clone(), 1)
                .finally(Expr::col(Column::Count).add(1))
                .into(),
        )
        .col_expr(
            Column::WindowStartedAt,
            Expr::case(expired, now)
                .finally(Expr::col(Column::WindowStartedAt))
                .into(),
        )
        .filter(Column::Key.eq(key))
        .exec(db)
        .await?;
    Ok(())
}

/// Forgets the attempts of `key` (after a success).
pub async fn clear(db: &impl ConnectionTrait, key: &str) -> AppResult<()> {
    Entity::delete_by_id(key.to_owned()).exec(db).await?;
    Ok(())
}
