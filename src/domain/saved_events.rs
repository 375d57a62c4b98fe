//! Saved events: the events a member keeps (a heart in the apps), newest saved first.
//! Saving is idempotent (saving again keeps the first time); at most [`MAX_SAVED`] per
//! member, so the list and the table stay bounded; deleting the event or the account takes
//! the saves along (foreign keys).

use chrono::{DateTime, Utc};
use entity::{event, saved_event};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use crate::db::{Tx, keyset};
use crate::error::{AppError, AppResult};

/// The most events one member may keep saved.
pub const MAX_SAVED: u64 = 1_000;

/// The keyset of saved events: by when saved, newest first, ties by event id (descending).
pub type SavedKey = (DateTime<Utc>, Uuid);

/// Saves the event for the member; NOT_FOUND when there is no such event, CONFLICT past
/// [`MAX_SAVED`]. Saving a saved event changes nothing.
pub async fn save(
    db: &DatabaseConnection,
    user_id: Uuid,
    event_id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<event::Model> {
    let tx = Tx::begin(db).await?;
    let event = event::Entity::find_by_id(event_id)
        .one(&tx)
        .await?
        .ok_or(AppError::NotFound("event"))?;
    let saved = saved_event::Entity::find()
        .filter(saved_event::Column::UserId.eq(user_id))
        .count(&tx)
        .await?;
    if saved >= MAX_SAVED && !is_saved(&tx, user_id, event_id).await? {
        return Err(AppError::conflict(format!(
            "at most {MAX_SAVED} events may be saved; unsave some first"
        )));
    }
    saved_event::Entity::insert(saved_event::ActiveModel {
        user_id: Set(user_id),
        event_id: Set(event_id),
        saved_at: Set(now),
    })
    .on_conflict(
        OnConflict::columns([saved_event::Column::UserId, saved_event::Column::EventId])
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(&tx)
    .await?;
    tx.commit().await?.expect_none();
    Ok(event)
}

/// Forgets the save (if any); NOT_FOUND when there is no such event.
pub async fn unsave(
    db: &DatabaseConnection,
    user_id: Uuid,
    event_id: Uuid,
) -> AppResult<event::Model> {
    let event = event::Entity::find_by_id(event_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("event"))?;
    saved_event::Entity::delete_many()
        .filter(saved_event::Column::UserId.eq(user_id))
        .filter(saved_event::Column::EventId.eq(event_id))
        .exec(db)
        .await?;
    Ok(event)
}

async fn is_saved(db: &impl ConnectionTrait, user_id: Uuid, event_id: Uuid) -> AppResult<bool> {
    Ok(saved_event::Entity::find_by_id((user_id, event_id))
        .one(db)
        .await?
        .is_some())
}

/// Which of `event_ids` the member saved, in one statement.
pub async fn saved_among(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    event_ids: &[Uuid],
) -> AppResult<Vec<Uuid>> {
    Ok(saved_event::Entity::find()
        .select_only()
        .column(saved_event::Column::EventId)
        .filter(saved_event::Column::UserId.eq(user_id))
        .filter(saved_event::Column::EventId.is_in(event_ids.to_vec()))
        .into_tuple()
        .all(db)
        .await?)
}

/// A page of the member's saved events, newest saved first, after the cursor.
pub async fn of_member(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    after: Option<SavedKey>,
    limit: u64,
) -> AppResult<Vec<(SavedKey, event::Model)>> {
    let mut query = saved_event::Entity::find().filter(saved_event::Column::UserId.eq(user_id));
    if let Some(cursor) = after {
        query = query.filter(keyset::before(
            (saved_event::Column::SavedAt, saved_event::Column::EventId),
            cursor,
        ));
    }
    let saves = query
        .order_by_desc(saved_event::Column::SavedAt)
        .order_by_desc(saved_event::Column::EventId)
        .limit(limit)
        .all(db)
        .await?;
    let ids: Vec<Uuid> = saves.iter().map(|s| s.event_id).collect();
    let mut events: std::collections::HashMap<Uuid, event::Model> = event::Entity::find()
        .filter(event::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|e| (e.id, e))
        .collect();
    Ok(saves
        .into_iter()
        .filter_map(|s| Some(((s.saved_at, s.event_id), events.remove(&s.event_id)?)))
        .collect())
}
