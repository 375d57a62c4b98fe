//! Reports: a member tells the moderators about another. Stored for people to read
//! (`kith reports`); a member who reported someone, or was reported by them, is never
//! suggested to them as someone to meet. Moderators ban with `kith ban`.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use entity::{report, user};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use crate::db::Tx;
use crate::domain::{accounts, events, sessions, verification};
use crate::effects::Committed;
use crate::error::{AppError, AppResult};

pub const MAX_REASON_CHARS: usize = 2_000;

/// Stores a report of `reported` by `reporter`, perhaps about something at `event_id`.
pub async fn report(
    db: &DatabaseConnection,
    reporter: Uuid,
    reported: Uuid,
    reason: &str,
    event_id: Option<Uuid>,
    now: DateTime<Utc>,
) -> AppResult<report::Model> {
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > MAX_REASON_CHARS {
        return Err(AppError::bad_input(
            "reason",
            format!("say what happened, in 1 to {MAX_REASON_CHARS} characters"),
        ));
    }
    if reporter == reported {
        return Err(AppError::bad_input("userId", "you cannot report yourself"));
    }
    accounts::find(db, reported)
        .await?
        .ok_or(AppError::NotFound("user"))?;
    if let Some(event_id) = event_id {
        events::find(db, event_id)
            .await?
            .ok_or(AppError::NotFound("event"))?;
    }
    Ok(report::ActiveModel {
        id: Set(Uuid::now_v7()),
        reporter_id: Set(reporter),
        reported_id: Set(reported),
        event_id: Set(event_id),
        reason: Set(reason.to_owned()),
        created_at: Set(now),
        resolved_at: Set(None),
    }
    .insert(db)
    .await?)
}

/// Members who reported `user_id` or whom they reported.
pub async fn reported_either_way(
    db: &impl ConnectionTrait,
    user_id: Uuid,
) -> AppResult<HashSet<Uuid>> {
    let rows: Vec<(Uuid, Uuid)> = report::Entity::find()
        .select_only()
        .column(report::Column::ReporterId)
        .column(report::Column::ReportedId)
        .filter(
            Condition::any()
                .add(report::Column::ReporterId.eq(user_id))
                .add(report::Column::ReportedId.eq(user_id)),
        )
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(a, b)| if a == user_id { b } else { a })
        .collect())
}

/// Open reports, oldest first.
pub async fn open(db: &impl ConnectionTrait) -> AppResult<Vec<report::Model>> {
    Ok(report::Entity::find()
        .filter(report::Column::ResolvedAt.is_null())
        .order_by_asc(report::Column::Id)
        .all(db)
        .await?)
}

/// Bans a member: their sessions end (they cannot sign in again, and their open
/// connections close), their meetings stop counting for anyone's trust, their comments are
/// deleted (each keeps its place, without its body), and the reports about them are
/// resolved. False when there is no such member.
pub async fn ban(
    db: &DatabaseConnection,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<Committed<bool>> {
    let mut tx = Tx::begin(db).await?;
    if accounts::find(&tx, user_id).await?.is_none() {
        return Ok(Committed::new(false, Default::default()));
    }
    user::Entity::update_many()
        .col_expr(user::Column::BannedAt, Expr::value(now))
        .filter(user::Column::Id.eq(user_id))
        .filter(user::Column::BannedAt.is_null())
        .exec(&tx)
        .await?;
    sessions::revoke_all(&tx, user_id, now).await?;
    crate::domain::comments::delete_all_of(&tx, user_id, now).await?;
    report::Entity::update_many()
        .col_expr(report::Column::ResolvedAt, Expr::value(now))
        .filter(report::Column::ReportedId.eq(user_id))
        .filter(report::Column::ResolvedAt.is_null())
        .exec(&tx)
        .await?;
    tx.effects().sessions_ended(user_id);
    let effects = tx.commit().await?;
    verification::recompute_trust(db, now, verification::When::Now).await?;
    Ok(Committed::new(true, effects))
}
