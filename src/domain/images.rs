//! Images shown by members, groups and events: the rows naming the stored files, who may
//! set which, and which files are no longer named by anyone (to be deleted after the
//! commit; see `media`).
//!
//! An image row is always inserted in the transaction that makes something show it, and
//! deleted in the one that stops the last thing showing it. Files are written before that
//! transaction and deleted after it, so a process that dies in between leaves files (or,
//! never, rows) that nothing names: [`sweep`] removes them.

use std::collections::HashSet;
use std::time::SystemTime;

use chrono::{DateTime, Duration, Utc};
use entity::event::EventStatus;
use entity::{event, group, image, user};
use sea_orm::sea_query::Query;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use crate::db::Tx;
use crate::domain::memberships::{self, Role};
use crate::domain::rate_limit::{self, Limit};
use crate::domain::{events, groups};
use crate::effects::Committed;
use crate::error::{AppError, AppResult};
use crate::live::EventChange;
use crate::media::{Media, Stored};

/// Files younger than this are left by the sweep: their upload may still be on its way to
/// its transaction.
pub const SWEEP_GRACE: Duration = Duration::hours(1);

/// Uploads one member may have processed in an hour: processing costs a core for a second
/// or two, so this is what stops one member from keeping the server's cores busy.
pub const UPLOADS_PER_HOUR: Limit = Limit {
    max: 60,
    window: Duration::hours(1),
};

/// Counts one upload of the member's, before it is processed; RATE_LIMITED over
/// [`UPLOADS_PER_HOUR`].
pub async fn count_upload(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<()> {
    match rate_limit::hit(db, &format!("upload:{user_id}"), UPLOADS_PER_HOUR, now).await? {
        Some(limited) => Err(limited),
        None => Ok(()),
    }
}

/// A change's result, and the files its old image had (to delete once no row names them).
pub struct Replaced<T> {
    pub value: T,
    pub dropped_files: Vec<String>,
}

pub async fn find_many(db: &impl ConnectionTrait, ids: &[Uuid]) -> AppResult<Vec<image::Model>> {
    Ok(image::Entity::find()
        .filter(image::Column::Id.is_in(ids.to_vec()))
        .all(db)
        .await?)
}

/// The images a member uploaded, oldest first (`exportMyData`).
pub async fn owned_by(db: &impl ConnectionTrait, user_id: Uuid) -> AppResult<Vec<image::Model>> {
    Ok(image::Entity::find()
        .filter(image::Column::OwnerId.eq(user_id))
        .order_by_asc(image::Column::CreatedAt)
        .order_by_asc(image::Column::Id)
        .all(db)
        .await?)
}

async fn insert(
    tx: &Tx,
    owner: Uuid,
    stored: &Stored,
    now: DateTime<Utc>,
) -> AppResult<image::Model> {
    Ok(image::ActiveModel {
        id: Set(Uuid::now_v7()),
        owner_id: Set(Some(owner)),
        small_name: Set(stored.small.clone()),
        medium_name: Set(stored.medium.clone()),
        large_name: Set(stored.large.clone()),
        width: Set(i32::try_from(stored.width).unwrap_or(i32::MAX)),
        height: Set(i32::try_from(stored.height).unwrap_or(i32::MAX)),
        blurhash: Set(stored.blurhash.clone()),
        created_at: Set(now),
    }
    .insert(tx)
    .await?)
}

/// Whether any member, group or event shows the image.
async fn is_shown(db: &impl ConnectionTrait, image_id: Uuid) -> AppResult<bool> {
    let users = user::Entity::find()
        .filter(user::Column::AvatarImageId.eq(image_id))
        .count(db)
        .await?;
    let groups = group::Entity::find()
        .filter(group::Column::PhotoImageId.eq(image_id))
        .count(db)
        .await?;
    let events = event::Entity::find()
        .filter(event::Column::PhotoImageId.eq(image_id))
        .count(db)
        .await?;
    Ok(users + groups + events > 0)
}

/// Deletes the image's row when nothing shows it any more; its files are returned, to be
/// deleted after the commit if no other row names them.
async fn release(db: &impl ConnectionTrait, image_id: Option<Uuid>) -> AppResult<Vec<String>> {
    let Some(image_id) = image_id else {
        return Ok(Vec::new());
    };
    if is_shown(db, image_id).await? {
        return Ok(Vec::new());
    }
    let Some(row) = image::Entity::find_by_id(image_id).one(db).await? else {
        return Ok(Vec::new());
    };
    image::Entity::delete_by_id(image_id).exec(db).await?;
    Ok(vec![row.small_name, row.medium_name, row.large_name])
}

/// Of `names`, those no image row names (after a commit: the files to delete).
pub async fn unnamed(db: &impl ConnectionTrait, names: &[String]) -> AppResult<Vec<String>> {
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let mut named = HashSet::new();
    for chunk in names.chunks(300) {
        let rows = image::Entity::find()
            .filter(
                Condition::any()
                    .add(image::Column::SmallName.is_in(chunk.to_vec()))
                    .add(image::Column::MediumName.is_in(chunk.to_vec()))
                    .add(image::Column::LargeName.is_in(chunk.to_vec())),
            )
            .all(db)
            .await?;
        for row in rows {
            named.insert(row.small_name);
            named.insert(row.medium_name);
            named.insert(row.large_name);
        }
    }
    Ok(names
        .iter()
        .filter(|n| !named.contains(*n))
        .cloned()
        .collect())
}

/// Deletes the files of `names` that no row names. Run after the commit that stopped
/// naming them; a failure is logged and left to the sweep.
pub async fn delete_unnamed_files(db: &DatabaseConnection, media: &Media, names: &[String]) {
    match unnamed(db, names).await {
        Ok(unnamed) => media.delete_files(&unnamed).await,
        Err(err) => {
            tracing::warn!(error = ?err.into_anyhow(), "finding files to delete; the sweep will");
        }
    }
}

/// Sets the member's avatar to a stored upload; the old one goes.
pub async fn set_avatar(
    db: &DatabaseConnection,
    user_id: Uuid,
    stored: &Stored,
    now: DateTime<Utc>,
) -> AppResult<Replaced<user::Model>> {
    let tx = Tx::begin(db).await?;
    let user = user::Entity::find_by_id(user_id)
        .lock_exclusive()
        .one(&tx)
        .await?
        .ok_or(AppError::Unauthenticated("the account no longer exists"))?;
    let old = user.avatar_image_id;
    let image = insert(&tx, user_id, stored, now).await?;
    let mut row: user::ActiveModel = user.into();
    row.avatar_image_id = Set(Some(image.id));
    row.updated_at = Set(now);
    let user = row.update(&tx).await?;
    let dropped_files = release(&tx, old).await?;
    tx.commit().await?.expect_none();
    Ok(Replaced {
        value: user,
        dropped_files,
    })
}

/// Removes the member's avatar (nothing changes when there is none).
pub async fn remove_avatar(
    db: &DatabaseConnection,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<Replaced<user::Model>> {
    let tx = Tx::begin(db).await?;
    let user = user::Entity::find_by_id(user_id)
        .lock_exclusive()
        .one(&tx)
        .await?
        .ok_or(AppError::Unauthenticated("the account no longer exists"))?;
    let Some(old) = user.avatar_image_id else {
        return Ok(Replaced {
            value: user,
            dropped_files: Vec::new(),
        });
    };
    let mut row: user::ActiveModel = user.into();
    row.avatar_image_id = Set(None);
    row.updated_at = Set(now);
    let user = row.update(&tx).await?;
    let dropped_files = release(&tx, Some(old)).await?;
    tx.commit().await?.expect_none();
    Ok(Replaced {
        value: user,
        dropped_files,
    })
}

/// NOT_FOUND, FORBIDDEN (not an ORGANIZER or CO_ORGANIZER) or CONFLICT (closed) for who may
/// not set the group's photo. Checked before an upload is processed, and again inside the
/// change.
pub async fn check_group_photo(
    db: &impl ConnectionTrait,
    actor: Uuid,
    group_id: Uuid,
) -> AppResult<group::Model> {
    let group = groups::find(db, group_id)
        .await?
        .ok_or(AppError::NotFound("group"))?;
    memberships::require_role(db, group.id, actor, &[Role::Organizer, Role::CoOrganizer]).await?;
    groups::require_open(&group)?;
    Ok(group)
}

/// Sets the group's photo; ORGANIZER or CO_ORGANIZER.
pub async fn set_group_photo(
    db: &DatabaseConnection,
    actor: Uuid,
    group_id: Uuid,
    stored: &Stored,
    now: DateTime<Utc>,
) -> AppResult<Replaced<group::Model>> {
    let tx = Tx::begin(db).await?;
    groups::lock(&tx, group_id).await?;
    let group = check_group_photo(&tx, actor, group_id).await?;
    let old = group.photo_image_id;
    let image = insert(&tx, actor, stored, now).await?;
    let mut row: group::ActiveModel = group.into();
    row.photo_image_id = Set(Some(image.id));
    row.updated_at = Set(now);
    let group = row.update(&tx).await?;
    let dropped_files = release(&tx, old).await?;
    tx.commit().await?.expect_none();
    Ok(Replaced {
        value: group,
        dropped_files,
    })
}

/// NOT_FOUND, FORBIDDEN (not one of its hosts or its group's organisers) or CONFLICT
/// (cancelled) for who may not set the event's photo.
pub async fn check_event_photo(
    db: &impl ConnectionTrait,
    actor: Uuid,
    event_id: Uuid,
) -> AppResult<event::Model> {
    let event = events::find(db, event_id)
        .await?
        .ok_or(AppError::NotFound("event"))?;
    if !events::is_manager(db, &event, actor).await? {
        return Err(AppError::forbidden(
            "only the event's hosts and the group's organizers may change it",
        ));
    }
    if event.status == EventStatus::Cancelled {
        return Err(AppError::conflict("a cancelled event cannot be changed"));
    }
    Ok(event)
}

/// Sets the event's photo; its hosts and its group's organisers. Its subscribers hear the
/// change (`eventChanged`), as for any other change of the event.
pub async fn set_event_photo(
    db: &DatabaseConnection,
    actor: Uuid,
    event_id: Uuid,
    stored: &Stored,
    now: DateTime<Utc>,
) -> AppResult<Committed<Replaced<event::Model>>> {
    let mut tx = Tx::begin(db).await?;
    event::Entity::find_by_id(event_id)
        .lock_exclusive()
        .one(&tx)
        .await?;
    let event = check_event_photo(&tx, actor, event_id).await?;
    let old = event.photo_image_id;
    let image = insert(&tx, actor, stored, now).await?;
    let mut row: event::ActiveModel = event.into();
    row.photo_image_id = Set(Some(image.id));
    row.updated_at = Set(now);
    let event = row.update(&tx).await?;
    let dropped_files = release(&tx, old).await?;
    tx.effects().event_changed(event.id, EventChange::Updated);
    let effects = tx.commit().await?;
    Ok(Committed::new(
        Replaced {
            value: event,
            dropped_files,
        },
        effects,
    ))
}

/// Inside an account's deletion, before its row goes: deletes the rows of the member's
/// images that nothing but the member shows (their avatar, and any left unshown); returns
/// their files. Group and event photos they uploaded stay, with no owner.
pub async fn release_all_of(db: &impl ConnectionTrait, user_id: Uuid) -> AppResult<Vec<String>> {
    let owned = owned_by(db, user_id).await?;
    let mut files = Vec::new();
    for image in owned {
        let by_others = group::Entity::find()
            .filter(group::Column::PhotoImageId.eq(image.id))
            .count(db)
            .await?
            + event::Entity::find()
                .filter(event::Column::PhotoImageId.eq(image.id))
                .count(db)
                .await?
            + user::Entity::find()
                .filter(user::Column::AvatarImageId.eq(image.id))
                .filter(user::Column::Id.ne(user_id))
                .count(db)
                .await?;
        if by_others == 0 {
            image::Entity::delete_by_id(image.id).exec(db).await?;
            files.extend([image.small_name, image.medium_name, image.large_name]);
        }
    }
    Ok(files)
}

/// What one sweep removed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Swept {
    pub rows: u64,
    pub files: u64,
}

/// Removes image rows nothing shows and files no row names, both older than
/// [`SWEEP_GRACE`]: what a process that died between storing and committing, or between
/// committing and deleting, left behind. Safe in several processes at once.
pub async fn sweep(db: &DatabaseConnection, media: &Media, now: DateTime<Utc>) -> AppResult<Swept> {
    let cutoff = now - SWEEP_GRACE;
    let unshown = image::Entity::find()
        .filter(image::Column::CreatedAt.lt(cutoff))
        .filter(
            image::Column::Id.not_in_subquery(
                Query::select()
                    .column(user::Column::AvatarImageId)
                    .from(user::Entity)
                    .and_where(user::Column::AvatarImageId.is_not_null())
                    .to_owned(),
            ),
        )
        .filter(
            image::Column::Id.not_in_subquery(
                Query::select()
                    .column(group::Column::PhotoImageId)
                    .from(group::Entity)
                    .and_where(group::Column::PhotoImageId.is_not_null())
                    .to_owned(),
            ),
        )
        .filter(
            image::Column::Id.not_in_subquery(
                Query::select()
                    .column(event::Column::PhotoImageId)
                    .from(event::Entity)
                    .and_where(event::Column::PhotoImageId.is_not_null())
                    .to_owned(),
            ),
        )
        .limit(1000)
        .all(db)
        .await?;
    let mut swept = Swept::default();
    for image in unshown {
        // Deleted only if still unshown: a change may have picked it up meanwhile (never
        // happens today, since rows are inserted shown; cheap to be sure).
        let tx = Tx::begin(db).await?;
        let files = release(&tx, Some(image.id)).await?;
        tx.commit().await?.expect_none();
        if !files.is_empty() {
            swept.rows += 1;
        }
        delete_unnamed_files(db, media, &files).await;
    }
    let cutoff = SystemTime::from(cutoff);
    let old_files: Vec<String> = media
        .store
        .list()
        .await
        .map_err(AppError::internal)?
        .into_iter()
        .filter(|f| f.modified < cutoff)
        .map(|f| f.name)
        .collect();
    let unnamed = unnamed(db, &old_files).await?;
    swept.files = unnamed.len() as u64;
    media.delete_files(&unnamed).await;
    Ok(swept)
}
