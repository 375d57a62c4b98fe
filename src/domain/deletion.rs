//! Deleting an account: everything about the member goes at once, in one transaction, and
//! what others relied on is handed on rather than left broken.

use chrono::{DateTime, Utc};
use entity::{event, group, membership, rsvp, user};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use crate::auth::PasswordHasher;
use crate::db::Tx;
use crate::domain::accounts::{check_own_password, get_viewer};
use crate::domain::{comments, images, memberships, rsvps};
use crate::effects::Committed;
use crate::error::{AppError, AppResult};

/// Deletes the member's account after checking their password (UNAUTHENTICATED when
/// wrong). In one transaction: their memberships are removed (handing over or closing
/// groups they alone organised), their RSVPs withdrawn (promoting waitlists), and their
/// row deleted, which takes with it, through the foreign keys, their sessions, codes,
/// interests, notifications, meeting tokens and confirmations, avatar attestations they
/// gave or received, reports and blocks, and every conversation they had, with all its
/// messages (the other side's too: a conversation with no one on the other side can be
/// neither shown nor answered). Their
/// comments keep their place, blanked: no body, no author, deleted. The address is free to
/// sign up again. Every session ends with it. Their images go too, except group and event
/// photos they set (those belong to the group); the files of the images gone are returned,
/// to delete after the commit.
pub async fn delete_account(
    db: &DatabaseConnection,
    hasher: &PasswordHasher,
    user_id: Uuid,
    password: String,
    now: DateTime<Utc>,
) -> AppResult<Committed<Vec<String>>> {
    let user = get_viewer(db, user_id).await?;
    check_own_password(db, hasher, &user, password, now).await?;
    let mut tx = Tx::begin(db).await?;
    // Locks in the order the rest of Kith takes them: the events the member answered and
    // the groups they belong to (each in id order), then their own row last. Someone who
    // holds an event and adds a row pointing at the member (a notification of a promotion)
    // then never waits on us while we wait on them. Once the row is locked, a request of
    // the member that would add a row pointing at them waits, then finds them gone.
    let events: Vec<Uuid> = rsvp::Entity::find()
        .select_only()
        .column(rsvp::Column::EventId)
        .filter(rsvp::Column::UserId.eq(user_id))
        .into_tuple()
        .all(&tx)
        .await?;
    event::Entity::find()
        .filter(event::Column::Id.is_in(events))
        .order_by_asc(event::Column::Id)
        .lock_exclusive()
        .all(&tx)
        .await?;
    let groups: Vec<Uuid> = membership::Entity::find()
        .select_only()
        .column(membership::Column::GroupId)
        .filter(membership::Column::UserId.eq(user_id))
        .into_tuple()
        .all(&tx)
        .await?;
    group::Entity::find()
        .filter(group::Column::Id.is_in(groups))
        .order_by_asc(group::Column::Id)
        .lock_exclusive()
        .all(&tx)
        .await?;
    user::Entity::find_by_id(user_id)
        .lock_exclusive()
        .one(&tx)
        .await?
        .ok_or(AppError::Unauthenticated("the account no longer exists"))?;
    // Groups first: an event cancelled because its group closes frees no place, so nobody
    // is told of a place that is gone a moment later.
    memberships::remove_all_of(&mut tx, user_id, now).await?;
    rsvps::withdraw_all(&mut tx, user_id, now).await?;
    comments::blank_all_of(&tx, user_id, now).await?;
    let files = images::release_all_of(&tx, user_id).await?;
    user::Entity::delete_by_id(user_id).exec(&tx).await?;
    tx.effects().sessions_ended(user_id);
    let effects = tx.commit().await?;
    Ok(Committed::new(files, effects))
}
