//! Reports: a member tells the moderators about another, or about a comment or a message
//! they wrote (the report keeps a copy of its text). Stored for people to read
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
use crate::domain::{accounts, comments, events, messages, sessions, verification};
use crate::effects::Committed;
use crate::error::{AppError, AppResult};

pub const MAX_REASON_CHARS: usize = 2_000;

/// A report's reason, trimmed: 1 to [`MAX_REASON_CHARS`] characters (BAD_USER_INPUT).
fn reason(raw: &str) -> AppResult<String> {
    let reason = raw.trim();
    if reason.is_empty() || reason.chars().count() > MAX_REASON_CHARS {
        return Err(AppError::bad_input(
            "reason",
            format!("say what happened, in 1 to {MAX_REASON_CHARS} characters"),
        ));
    }
    Ok(reason.to_owned())
}

/// What a report is about besides the member: something they wrote, with a copy of its
/// text for the moderators (the original may be edited or deleted later).
#[derive(Default)]
struct About {
    event_id: Option<Uuid>,
    comment_id: Option<Uuid>,
    message_id: Option<Uuid>,
    quoted: Option<String>,
}

async fn insert(
    db: &impl ConnectionTrait,
    reporter: Uuid,
    reported: Uuid,
    reason: String,
    about: About,
    now: DateTime<Utc>,
) -> AppResult<report::Model> {
    Ok(report::ActiveModel {
        id: Set(Uuid::now_v7()),
        reporter_id: Set(reporter),
        reported_id: Set(reported),
        event_id: Set(about.event_id),
        reason: Set(reason),
        created_at: Set(now),
        resolved_at: Set(None),
        comment_id: Set(about.comment_id),
        message_id: Set(about.message_id),
        quoted: Set(about.quoted),
    }
    .insert(db)
    .await?)
}

/// Stores a report of `reported` by `reporter`, perhaps about something at `event_id`.
pub async fn report(
    db: &DatabaseConnection,
    reporter: Uuid,
    reported: Uuid,
    reason: &str,
    event_id: Option<Uuid>,
    now: DateTime<Utc>,
) -> AppResult<report::Model> {
    let reason = self::reason(reason)?;
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
    let about = About {
        event_id,
        ..About::default()
    };
    insert(db, reporter, reported, reason, about, now).await
}

/// Reports a comment's author for it, keeping a copy of its text. Only someone who may see
/// the comment reports it (NOT_FOUND otherwise, as for a comment that does not exist); a
/// deleted comment has nothing left to report (CONFLICT); one's own is BAD_USER_INPUT.
pub async fn report_comment(
    db: &DatabaseConnection,
    reporter: Uuid,
    comment_id: Uuid,
    reason: &str,
    now: DateTime<Utc>,
) -> AppResult<report::Model> {
    let reason = self::reason(reason)?;
    let comment = comments::find(db, comment_id)
        .await?
        .ok_or(AppError::NotFound("comment"))?;
    if !comments::visible(db, &comment, reporter).await? {
        return Err(AppError::NotFound("comment"));
    }
    let (Some(author), Some(body)) = (comment.author_id, comment.body) else {
        return Err(AppError::conflict("the comment was deleted"));
    };
    if author == reporter {
        return Err(AppError::bad_input(
            "commentId",
            "you cannot report your own comment",
        ));
    }
    let about = About {
        event_id: Some(comment.event_id),
        comment_id: Some(comment.id),
        quoted: Some(body),
        ..About::default()
    };
    insert(db, reporter, author, reason, about, now).await
}

/// Reports a message's sender for it, keeping a copy of its text. Only its recipient may
/// (NOT_FOUND for anyone else, as for a message that does not exist; BAD_USER_INPUT for its
/// sender), even after blocking the sender.
pub async fn report_message(
    db: &DatabaseConnection,
    reporter: Uuid,
    message_id: Uuid,
    reason: &str,
    now: DateTime<Utc>,
) -> AppResult<report::Model> {
    let reason = self::reason(reason)?;
    let message = messages::find(db, message_id)
        .await?
        .ok_or(AppError::NotFound("message"))?;
    if messages::side_of(db, message.conversation_id, reporter)
        .await?
        .is_none()
    {
        return Err(AppError::NotFound("message"));
    }
    if message.sender_id == reporter {
        return Err(AppError::bad_input(
            "messageId",
            "you cannot report your own message",
        ));
    }
    let about = About {
        message_id: Some(message.id),
        quoted: Some(message.body),
        ..About::default()
    };
    insert(db, reporter, message.sender_id, reason, about, now).await
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
/// deleted (each keeps its place, without its body), their conversations are deleted with
/// every message in them (the reports keep copies of those reported), and the reports about
/// them are resolved. False when there is no such member.
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
    comments::delete_all_of(&tx, user_id, now).await?;
    messages::delete_all_of(&tx, user_id).await?;
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
