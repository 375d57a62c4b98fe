//! Fixed-window attempt counters kept in the database, so that every `kith` process sharing
//! it counts the same attempts. An attempt is counted before the work it guards, in one
//! atomic statement, so concurrent attempts cannot slip past the limit together.

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

/// Counts one attempt for `key`, starting a new window when the last one has passed.
/// Returns the RATE_LIMITED error to give when this attempt is over the limit.
pub async fn hit(
    db: &impl ConnectionTrait,
    key: &str,
    limit: Limit,
    now: DateTime<Utc>,
) -> AppResult<Option<AppError>> {
    Entity::insert(rate_limit::ActiveModel {
        key: Set(key.to_owned()),
        window_started_at: Set(now),
        count: Set(0),
    })
    .on_conflict_do_nothing_on([Column::Key])
    .exec(db)
    .await?;

    let expired = Expr::col(Column::WindowStartedAt).lte(now - limit.window);
    let row = Entity::update_many()
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
        .exec_with_returning(db)
        .await?
        .pop()
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("rate limit row vanished")))?;
    Ok((row.count > limit.max).then(|| AppError::RateLimited {
        retry_after_seconds: seconds_until(row.window_started_at + limit.window, now),
    }))
}

/// Seconds until `key` may be tried again, when its attempts are used up now.
pub async fn retry_after(
    db: &impl ConnectionTrait,
    key: &str,
    limit: Limit,
    now: DateTime<Utc>,
) -> AppResult<Option<u64>> {
    let Some(row) = Entity::find_by_id(key.to_owned()).one(db).await? else {
        return Ok(None);
    };
    let resets_at = row.window_started_at + limit.window;
    Ok((resets_at > now && row.count >= limit.max).then(|| seconds_until(resets_at, now)))
}

/// Gives back one attempt of `key` (an attempt that turned out well).
pub async fn release(db: &impl ConnectionTrait, key: &str) -> AppResult<()> {
    Entity::update_many()
        .col_expr(Column::Count, Expr::col(Column::Count).sub(1))
        .filter(Column::Key.eq(key))
        .filter(Column::Count.gt(0))
        .exec(db)
        .await?;
    Ok(())
}

/// Notes that `key` happened at `now` (a client that signed in, say), to be asked about
/// with `remembered`. Kept in the same table, as a row that counts nothing.
pub async fn remember(db: &impl ConnectionTrait, key: &str, now: DateTime<Utc>) -> AppResult<()> {
    Entity::insert(rate_limit::ActiveModel {
        key: Set(key.to_owned()),
        window_started_at: Set(now),
        count: Set(0),
    })
    .on_conflict(
        sea_orm::sea_query::OnConflict::column(Column::Key)
            .update_column(Column::WindowStartedAt)
            .to_owned(),
    )
    .exec(db)
    .await?;
    Ok(())
}

/// Whether `key` was remembered since `since`.
pub async fn remembered(
    db: &impl ConnectionTrait,
    key: &str,
    since: DateTime<Utc>,
) -> AppResult<bool> {
    Ok(Entity::find_by_id(key.to_owned())
        .one(db)
        .await?
        .is_some_and(|row| row.window_started_at > since))
}

/// Forgets the attempts of `key`.
pub async fn clear(db: &impl ConnectionTrait, key: &str) -> AppResult<()> {
    Entity::delete_by_id(key.to_owned()).exec(db).await?;
    Ok(())
}

/// No limit's window is longer than this; a counter whose window started earlier counts
/// nothing any more.
pub const LONGEST_WINDOW: Duration = Duration::days(1);

/// Removes counters whose window ended (older than [`LONGEST_WINDOW`]), and remembered keys
/// (those starting with `remembered_prefix`) older than `remembered_for`. Returns how many
/// rows went.
pub async fn prune(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    remembered_prefix: &str,
    remembered_for: Duration,
) -> AppResult<u64> {
    let counters = Entity::delete_many()
        .filter(Column::WindowStartedAt.lte(now - LONGEST_WINDOW))
        .filter(Column::Key.not_like(format!("{remembered_prefix}%")))
        .exec(db)
        .await?
        .rows_affected;
    let remembered = Entity::delete_many()
        .filter(Column::WindowStartedAt.lte(now - remembered_for))
        .exec(db)
        .await?
        .rows_affected;
    Ok(counters + remembered)
}
