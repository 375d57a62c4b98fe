//! Blocking: two members of whom either blocked the other never see each other in attendee
//! lists, member lists or people to meet, and cannot confirm meetings with each other.
//! Blocking is silent: the blocked member is not told.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use entity::{block, user};
use sea_orm::sea_query::{Expr, ExprTrait, IntoColumnRef, Query};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use crate::domain::accounts;
use crate::error::{AppError, AppResult};

/// Blocks `other` and returns them; blocking again changes nothing.
pub async fn block(
    db: &impl ConnectionTrait,
    actor: Uuid,
    other: Uuid,
    now: DateTime<Utc>,
) -> AppResult<user::Model> {
    if actor == other {
        return Err(AppError::bad_input("userId", "you cannot block yourself"));
    }
    let blocked = accounts::find(db, other)
        .await?
        .ok_or(AppError::NotFound("user"))?;
    block::Entity::insert(block::ActiveModel {
        blocker_id: Set(actor),
        blocked_id: Set(other),
        created_at: Set(now),
    })
    .on_conflict_do_nothing_on([block::Column::BlockerId, block::Column::BlockedId])
    .exec(db)
    .await?;
    Ok(blocked)
}

/// Unblocks `other` and returns them; unblocking someone not blocked changes nothing.
pub async fn unblock(
    db: &impl ConnectionTrait,
    actor: Uuid,
    other: Uuid,
) -> AppResult<user::Model> {
    let unblocked = accounts::find(db, other)
        .await?
        .ok_or(AppError::NotFound("user"))?;
    block::Entity::delete_many()
        .filter(block::Column::BlockerId.eq(actor))
        .filter(block::Column::BlockedId.eq(other))
        .exec(db)
        .await?;
    Ok(unblocked)
}

/// The `limit` members `actor` blocked most recently, most recent first.
pub async fn blocked_by(
    db: &impl ConnectionTrait,
    actor: Uuid,
    limit: u64,
) -> AppResult<Vec<user::Model>> {
    let ids: Vec<Uuid> = block::Entity::find()
        .filter(block::Column::BlockerId.eq(actor))
        .order_by_desc(block::Column::CreatedAt)
        .order_by_desc(block::Column::BlockedId)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(|b| b.blocked_id)
        .collect();
    let mut users = accounts::find_many(db, &ids).await?;
    users.sort_by_key(|u| ids.iter().position(|id| *id == u.id));
    Ok(users)
}

/// Members blocked by `user_id` or who blocked them.
pub async fn either_way(db: &impl ConnectionTrait, user_id: Uuid) -> AppResult<HashSet<Uuid>> {
    Ok(block::Entity::find()
        .filter(
            Condition::any()
                .add(block::Column::BlockerId.eq(user_id))
                .add(block::Column::BlockedId.eq(user_id)),
        )
        .all(db)
        .await?
        .into_iter()
        .map(|b| {
            if b.blocker_id == user_id {
                b.blocked_id
            } else {
                b.blocker_id
            }
        })
        .collect())
}

/// True when either blocked the other.
pub async fn between(db: &impl ConnectionTrait, a: Uuid, b: Uuid) -> AppResult<bool> {
    Ok(block::Entity::find()
        .filter(
            Condition::any()
                .add(
                    Condition::all()
                        .add(block::Column::BlockerId.eq(a))
                        .add(block::Column::BlockedId.eq(b)),
                )
                .add(
                    Condition::all()
                        .add(block::Column::BlockerId.eq(b))
                        .add(block::Column::BlockedId.eq(a)),
                ),
        )
        .one(db)
        .await?
        .is_some())
}

/// A condition keeping only rows whose `column` (a member id) is not blocked with `viewer`,
/// either way; for lists paged in SQL.
pub fn not_blocked_with(column: impl IntoColumnRef + Copy, viewer: Uuid) -> Condition {
    let blocked = Query::select()
        .column(block::Column::BlockedId)
        .from(block::Entity)
        .and_where(block::Column::BlockerId.eq(viewer))
        .to_owned();
    let blockers = Query::select()
        .column(block::Column::BlockerId)
        .from(block::Entity)
        .and_where(block::Column::BlockedId.eq(viewer))
        .to_owned();
    Condition::all()
        .add(Expr::col(column).not_in_subquery(blocked))
        .add(Expr::col(column).not_in_subquery(blockers))
}
