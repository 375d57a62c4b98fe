//! Faces attested in person: whoever confirms a meeting may say that the other person's
//! avatar of that moment is the person in front of them (API.md, Photos ★).
//!
//! An attestation names the exact image, so a new avatar starts again from none, as a
//! safety number resets when a key changes. It is recorded with the step that gives it (the
//! scanner's `confirmMeeting`, the subject's accepting `respondToMeeting`) but counts only
//! while that meeting is CONFIRMED, and only for attesters who are not banned: both are
//! decided when counting, so a withdrawal or a ban takes effect at once, without touching
//! the attestations themselves.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::meeting_confirmation::{self as confirmation, MeetingStatus};
use entity::{avatar_attestation as attestation, user};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func, JoinType, Query};
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use crate::error::AppResult;

/// Inside the meeting's transaction: `attester` says `subject`'s current avatar is the
/// person they met. Nothing is recorded when the subject has no avatar (the meeting itself
/// stands), nor a second time for the same meeting and attester.
pub async fn attest(
    db: &impl ConnectionTrait,
    meeting_id: Uuid,
    attester: Uuid,
    subject: Uuid,
    now: DateTime<Utc>,
) -> AppResult<Option<attestation::Model>> {
    // Shared lock on the subject's row: a new avatar (which locks it exclusively) waits, so
    // the image attested is not released before this commits.
    let avatar = user::Entity::find_by_id(subject)
        .lock_shared()
        .one(db)
        .await?
        .and_then(|u| u.avatar_image_id);
    let Some(image_id) = avatar else {
        return Ok(None);
    };
    let already = attestation::Entity::find()
        .filter(attestation::Column::MeetingId.eq(meeting_id))
        .filter(attestation::Column::AttesterId.eq(attester))
        .one(db)
        .await?;
    if already.is_some() {
        return Ok(None);
    }
    Ok(Some(
        attestation::ActiveModel {
            id: Set(Uuid::now_v7()),
            meeting_id: Set(meeting_id),
            attester_id: Set(attester),
            subject_id: Set(subject),
            image_id: Set(image_id),
            created_at: Set(now),
        }
        .insert(db)
        .await?,
    ))
}

/// Deletes what was attested through a meeting (a declined one).
pub async fn forget_of_meeting(db: &impl ConnectionTrait, meeting_id: Uuid) -> AppResult<()> {
    attestation::Entity::delete_many()
        .filter(attestation::Column::MeetingId.eq(meeting_id))
        .exec(db)
        .await?;
    Ok(())
}

/// For each of `images`, how many distinct members attested it through a meeting that is
/// CONFIRMED, leaving out banned attesters; images with none are absent. One statement.
pub async fn counts(db: &impl ConnectionTrait, images: &[Uuid]) -> AppResult<HashMap<Uuid, i64>> {
    if images.is_empty() {
        return Ok(HashMap::new());
    }
    let (a, m, u) = (Alias::new("a"), Alias::new("m"), Alias::new("u"));
    let select = Query::select()
        .column((a.clone(), attestation::Column::ImageId))
        .expr_as(
            Func::count_distinct(Expr::col((a.clone(), attestation::Column::AttesterId))),
            Alias::new("n"),
        )
        .from_as(attestation::Entity, a.clone())
        .join_as(
            JoinType::InnerJoin,
            confirmation::Entity,
            m.clone(),
            Expr::col((m.clone(), confirmation::Column::Id))
                .equals((a.clone(), attestation::Column::MeetingId)),
        )
        .join_as(
            JoinType::InnerJoin,
            user::Entity,
            u.clone(),
            Expr::col((u.clone(), user::Column::Id))
                .equals((a.clone(), attestation::Column::AttesterId)),
        )
        .and_where(Expr::col((a.clone(), attestation::Column::ImageId)).is_in(images.to_vec()))
        .and_where(
            Expr::col((m.clone(), confirmation::Column::Status))
                .eq(MeetingStatus::Confirmed.to_value()),
        )
        .and_where(Expr::col((u.clone(), user::Column::BannedAt)).is_null())
        .group_by_col((a, attestation::Column::ImageId))
        .to_owned();
    let statement = db.get_database_backend().build(&select);
    let mut found = HashMap::with_capacity(images.len());
    for row in db.query_all_raw(statement).await? {
        let image: Uuid = row.try_get("", "image_id")?;
        let n: i64 = row.try_get("", "n")?;
        found.insert(image, n);
    }
    Ok(found)
}

/// Attestations the member gave or received, oldest first (`exportMyData`).
pub async fn involving(
    db: &impl ConnectionTrait,
    user_id: Uuid,
) -> AppResult<Vec<attestation::Model>> {
    Ok(attestation::Entity::find()
        .filter(
            Condition::any()
                .add(attestation::Column::AttesterId.eq(user_id))
                .add(attestation::Column::SubjectId.eq(user_id)),
        )
        .order_by_asc(attestation::Column::CreatedAt)
        .order_by_asc(attestation::Column::Id)
        .all(db)
        .await?)
}
