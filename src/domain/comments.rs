//! Conversation under events: comments with one level of replies, and announcements.
//!
//! Only ACTIVE members of an event's group read and write its comments. A deleted comment
//! keeps its place (its body goes, `deleted_at` is set) so that its replies still read in
//! order; deleting an account does the same to every comment of the member and forgets
//! who wrote them. Two members of whom either blocked the other do not see each other's
//! comments (nor the replies under them): lists leave them out, `node(id:)` finds nothing.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use entity::comment::{self, Column, Entity};
use entity::membership::{self, MembershipStatus, Role};
use entity::{announcement, event_host, user};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use crate::db::Tx;
use crate::domain::notifications::{self, About};
use crate::domain::rate_limit::{self, Limit};
use crate::domain::text::body as text;
use crate::domain::{blocks, events, groups, memberships};
use crate::effects::Committed;
use crate::error::{AppError, AppResult};
use crate::notify::messages::Message;

/// A comment's body, trimmed: 1 to this many characters.
pub const MAX_BODY_CHARS: usize = 2_000;
/// An announcement's message, trimmed: 1 to this many characters.
pub const MAX_MESSAGE_CHARS: usize = 2_000;
/// Comments one member may add per minute, across events.
pub const COMMENTS_PER_MINUTE: Limit = Limit {
    max: 20,
    window: Duration::minutes(1),
};
/// Announcements one group may send in any 24 hours.
pub const ANNOUNCEMENTS_PER_DAY: u64 = 3;

pub async fn find(db: &impl ConnectionTrait, id: Uuid) -> AppResult<Option<comment::Model>> {
    Ok(Entity::find_by_id(id).one(db).await?)
}

/// True when the viewer may see the comment: an ACTIVE member of its event's group, not
/// blocked either way with its author.
pub async fn visible(
    db: &impl ConnectionTrait,
    row: &comment::Model,
    viewer: Uuid,
) -> AppResult<bool> {
    let Some(event) = events::find(db, row.event_id).await? else {
        return Ok(false);
    };
    if !memberships::is_active_member(db, event.group_id, viewer).await? {
        return Ok(false);
    }
    Ok(match row.author_id {
        Some(author) if author != viewer => !blocks::between(db, viewer, author).await?,
        _ => true,
    })
}

/// Rows the viewer may see in a list: no comment of a member blocked either way. A comment
/// whose author is gone (deleted account) stays.
fn not_blocked(viewer: Uuid) -> Condition {
    Condition::any()
        .add(Column::AuthorId.is_null())
        .add(blocks::not_blocked_with(Column::AuthorId, viewer))
}

/// A page of an event's comments at the top (not replies), oldest first, after the comment
/// id `after`.
pub async fn of_event(
    db: &impl ConnectionTrait,
    viewer: Uuid,
    event_id: Uuid,
    after: Option<Uuid>,
    limit: u64,
) -> AppResult<Vec<comment::Model>> {
    let mut select = Entity::find()
        .filter(Column::EventId.eq(event_id))
        .filter(Column::ParentId.is_null())
        .filter(not_blocked(viewer));
    if let Some(after) = after {
        select = select.filter(Column::Id.gt(after));
    }
    Ok(select.order_by_asc(Column::Id).limit(limit).all(db).await?)
}

/// A page of the replies to a comment, oldest first.
pub async fn replies(
    db: &impl ConnectionTrait,
    viewer: Uuid,
    parent: &comment::Model,
    after: Option<Uuid>,
    limit: u64,
) -> AppResult<Vec<comment::Model>> {
    let mut select = Entity::find()
        .filter(Column::EventId.eq(parent.event_id))
        .filter(Column::ParentId.eq(parent.id))
        .filter(not_blocked(viewer));
    if let Some(after) = after {
        select = select.filter(Column::Id.gt(after));
    }
    Ok(select.order_by_asc(Column::Id).limit(limit).all(db).await?)
}

/// How many replies to each of `parents` the viewer sees (deleted ones included: they keep
/// their place), in one statement per 500; a comment without replies is absent.
pub async fn reply_counts(
    db: &impl ConnectionTrait,
    viewer: Uuid,
    parents: &[Uuid],
) -> AppResult<HashMap<Uuid, u64>> {
    let mut counts = HashMap::with_capacity(parents.len());
    for chunk in parents.chunks(500) {
        let rows: Vec<(Option<Uuid>, i64)> = Entity::find()
            .select_only()
            .column(Column::ParentId)
            .column_as(Column::Id.count(), "replies")
            .filter(Column::ParentId.is_in(chunk.to_vec()))
            .filter(not_blocked(viewer))
            .group_by(Column::ParentId)
            .into_tuple()
            .all(db)
            .await?;
        counts.extend(
            rows.into_iter()
                .filter_map(|(parent, n)| parent.map(|p| (p, u64::try_from(n).unwrap_or(0)))),
        );
    }
    Ok(counts)
}

/// What `addComment` asks.
pub struct NewComment {
    pub event_id: Uuid,
    pub body: String,
    pub reply_to: Option<Uuid>,
}

/// Adds a comment (or a reply). The attempt is counted against the member's limit first;
/// then: ACTIVE members of the event's group only (FORBIDDEN), a body of 1–2,000
/// characters (BAD_USER_INPUT `body`), a reply only to a comment at the top of the same
/// event (BAD_USER_INPUT `replyToId`). Tells the author replied to (COMMENT_REPLY) and the
/// event's hosts (EVENT_COMMENT), never the commenter, nobody blocked either way with them.
pub async fn add(
    db: &DatabaseConnection,
    actor: Uuid,
    new: NewComment,
    now: DateTime<Utc>,
) -> AppResult<Committed<comment::Model>> {
    // Counted on its own, before anything else and whatever follows: refused attempts count.
    if let Some(limited) =
        rate_limit::hit(db, &format!("comment:{actor}"), COMMENTS_PER_MINUTE, now).await?
    {
        return Err(limited);
    }
    let mut tx = Tx::begin(db).await?;
    let event = events::find(&tx, new.event_id)
        .await?
        .ok_or(AppError::NotFound("event"))?;
    if !memberships::is_active_member(&tx, event.group_id, actor).await? {
        return Err(AppError::forbidden(
            "only ACTIVE members of the group comment on its events",
        ));
    }
    let body = text("body", &new.body, MAX_BODY_CHARS)?;
    let parent = match new.reply_to {
        None => None,
        Some(parent_id) => {
            let parent = find(&tx, parent_id)
                .await?
                .filter(|p| p.event_id == event.id)
                .ok_or_else(|| {
                    AppError::bad_input("replyToId", "no such comment under this event")
                })?;
            if parent.parent_id.is_some() {
                return Err(AppError::bad_input(
                    "replyToId",
                    "a reply cannot be replied to: reply to the comment it answers",
                ));
            }
            if let Some(author) = parent.author_id
                && author != actor
                && blocks::between(&tx, actor, author).await?
            {
                return Err(AppError::bad_input(
                    "replyToId",
                    "no such comment under this event",
                ));
            }
            Some(parent)
        }
    };
    let row = comment::ActiveModel {
        id: Set(Uuid::now_v7()),
        event_id: Set(event.id),
        author_id: Set(Some(actor)),
        parent_id: Set(parent.as_ref().map(|p| p.id)),
        body: Set(Some(body)),
        created_at: Set(now),
        edited_at: Set(None),
        deleted_at: Set(None),
    };
    let comment = Entity::insert(row).exec_with_returning(&tx).await?;
    let name = user::Entity::find_by_id(actor)
        .one(&tx)
        .await?
        .map(|u| u.display_name)
        .unwrap_or_default();
    let blocked = blocks::either_way(&tx, actor).await?;
    let replied_to = parent
        .as_ref()
        .and_then(|p| p.author_id)
        .filter(|a| *a != actor && !blocked.contains(a));
    if let Some(author) = replied_to {
        let message = Message::CommentReply {
            name: name.clone(),
            event: event.title.clone(),
        };
        notifications::record(&mut tx, &[author], &message, About::Event(event.id), now).await?;
    }
    let hosts: Vec<Uuid> = event_host::Entity::find()
        .filter(event_host::Column::EventId.eq(event.id))
        .all(&tx)
        .await?
        .into_iter()
        .map(|h| h.user_id)
        .filter(|h| *h != actor && Some(*h) != replied_to && !blocked.contains(h))
        .collect();
    let message = Message::EventComment {
        name,
        event: event.title.clone(),
    };
    notifications::record(&mut tx, &hosts, &message, About::Event(event.id), now).await?;
    tx.effects().comment_added(comment.id, event.id);
    let effects = tx.commit().await?;
    Ok(Committed::new(comment, effects))
}

/// Changes the body of one's own comment (FORBIDDEN for anyone else, or once the author is
/// no longer an ACTIVE member); a deleted comment is CONFLICT.
pub async fn edit(
    db: &DatabaseConnection,
    actor: Uuid,
    comment_id: Uuid,
    body: &str,
    now: DateTime<Utc>,
) -> AppResult<comment::Model> {
    let tx = Tx::begin(db).await?;
    let row = find(&tx, comment_id)
        .await?
        .ok_or(AppError::NotFound("comment"))?;
    let event = events::find(&tx, row.event_id)
        .await?
        .ok_or(AppError::NotFound("event"))?;
    if row.author_id != Some(actor)
        || !memberships::is_active_member(&tx, event.group_id, actor).await?
    {
        return Err(AppError::forbidden("only its author edits a comment"));
    }
    if row.deleted_at.is_some() {
        return Err(AppError::conflict("a deleted comment cannot be edited"));
    }
    let body = text("body", body, MAX_BODY_CHARS)?;
    Entity::update_many()
        .col_expr(Column::Body, Expr::value(body))
        .col_expr(Column::EditedAt, Expr::value(now))
        .filter(Column::Id.eq(row.id))
        .exec(&tx)
        .await?;
    let row = find(&tx, row.id)
        .await?
        .ok_or(AppError::NotFound("comment"))?;
    tx.commit().await?.expect_none();
    Ok(row)
}

/// Deletes a comment, keeping its place: its author, the event's hosts and the group's
/// organisers (see `events::is_manager`); FORBIDDEN for others. Deleting again changes
/// nothing.
pub async fn delete(
    db: &DatabaseConnection,
    actor: Uuid,
    comment_id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<comment::Model> {
    let tx = Tx::begin(db).await?;
    let row = find(&tx, comment_id)
        .await?
        .ok_or(AppError::NotFound("comment"))?;
    let event = events::find(&tx, row.event_id)
        .await?
        .ok_or(AppError::NotFound("event"))?;
    let own = row.author_id == Some(actor)
        && memberships::is_active_member(&tx, event.group_id, actor).await?;
    if !own && !events::is_manager(&tx, &event, actor).await? {
        return Err(AppError::forbidden(
            "only its author, the event's hosts and the group's organizers delete a comment",
        ));
    }
    if row.deleted_at.is_none() {
        Entity::update_many()
            .col_expr(Column::Body, Expr::value(Option::<String>::None))
            .col_expr(Column::DeletedAt, Expr::value(now))
            .filter(Column::Id.eq(row.id))
            .exec(&tx)
            .await?;
    }
    let row = find(&tx, row.id)
        .await?
        .ok_or(AppError::NotFound("comment"))?;
    tx.commit().await?.expect_none();
    Ok(row)
}

/// Blanks every comment of a member whose account goes, inside the deletion's
/// transaction: each keeps its place, without body or author.
pub async fn blank_all_of(tx: &Tx, user_id: Uuid, now: DateTime<Utc>) -> AppResult<()> {
    Entity::update_many()
        .col_expr(Column::DeletedAt, Expr::value(now))
        .filter(Column::AuthorId.eq(user_id))
        .filter(Column::DeletedAt.is_null())
        .exec(tx)
        .await?;
    Entity::update_many()
        .col_expr(Column::Body, Expr::value(Option::<String>::None))
        .col_expr(Column::AuthorId, Expr::value(Option::<Uuid>::None))
        .filter(Column::AuthorId.eq(user_id))
        .exec(tx)
        .await?;
    Ok(())
}

/// Deletes every comment of a banned member inside the ban's transaction: each keeps its
/// place, `body` null and deleted, as if its author had deleted it.
pub async fn delete_all_of(tx: &Tx, user_id: Uuid, now: DateTime<Utc>) -> AppResult<()> {
    Entity::update_many()
        .col_expr(Column::Body, Expr::value(Option::<String>::None))
        .col_expr(Column::DeletedAt, Expr::value(now))
        .filter(Column::AuthorId.eq(user_id))
        .filter(Column::DeletedAt.is_null())
        .exec(tx)
        .await?;
    Ok(())
}

/// A member's own comments, oldest first (for `exportMyData`).
pub async fn by_author(db: &impl ConnectionTrait, user_id: Uuid) -> AppResult<Vec<comment::Model>> {
    Ok(Entity::find()
        .filter(Column::AuthorId.eq(user_id))
        .order_by_asc(Column::Id)
        .all(db)
        .await?)
}

/// What `announce` asks.
pub struct NewAnnouncement {
    pub group_id: Uuid,
    pub event_id: Option<Uuid>,
    pub message: String,
}

/// Sends an announcement: ANNOUNCEMENT notifications to every ACTIVE member of the group,
/// or, with an event, to its GOING and WAITLISTED; never to the announcer. The group's
/// ORGANIZER or CO_ORGANIZER may, and with an event those who run it (`is_manager`);
/// FORBIDDEN for others. At most [`ANNOUNCEMENTS_PER_DAY`] per group in any 24 hours
/// (RATE_LIMITED beyond), counted under the group's row lock inside the transaction that
/// writes the announcement, so calls at once never exceed it.
pub async fn announce(
    db: &DatabaseConnection,
    actor: Uuid,
    new: NewAnnouncement,
    now: DateTime<Utc>,
) -> AppResult<Committed<()>> {
    let message = text("message", &new.message, MAX_MESSAGE_CHARS)?;
    let mut tx = Tx::begin(db).await?;
    let group = groups::lock(&tx, new.group_id).await?;
    let event = match new.event_id {
        None => None,
        Some(id) => Some(
            events::find(&tx, id)
                .await?
                .filter(|e| e.group_id == group.id)
                .ok_or_else(|| AppError::bad_input("eventId", "no such event in this group"))?,
        ),
    };
    match &event {
        Some(event) => {
            if !events::is_manager(&tx, event, actor).await? {
                return Err(AppError::forbidden(
                    "only the event's hosts and the group's organizers announce to it",
                ));
            }
        }
        None => {
            memberships::require_role(&tx, group.id, actor, &[Role::Organizer, Role::CoOrganizer])
                .await?;
        }
    }
    let since = now - Duration::days(1);
    let recent: Vec<DateTime<Utc>> = announcement::Entity::find()
        .select_only()
        .column(announcement::Column::CreatedAt)
        .filter(announcement::Column::GroupId.eq(group.id))
        .filter(announcement::Column::CreatedAt.gt(since))
        .order_by_asc(announcement::Column::CreatedAt)
        .into_tuple()
        .all(&tx)
        .await?;
    if recent.len() as u64 >= ANNOUNCEMENTS_PER_DAY {
        let frees_at = recent[recent.len() - ANNOUNCEMENTS_PER_DAY as usize] + Duration::days(1);
        return Err(AppError::RateLimited {
            retry_after_seconds: rate_limit::seconds_until(frees_at, now),
        });
    }
    announcement::Entity::insert(announcement::ActiveModel {
        id: Set(Uuid::now_v7()),
        group_id: Set(group.id),
        event_id: Set(event.as_ref().map(|e| e.id)),
        author_id: Set(Some(actor)),
        message: Set(message.clone()),
        created_at: Set(now),
    })
    .exec(&tx)
    .await?;
    let recipients: Vec<Uuid> = match &event {
        Some(event) => notifications::attendees(&tx, event.id).await?,
        None => {
            membership::Entity::find()
                .select_only()
                .column(membership::Column::UserId)
                .filter(membership::Column::GroupId.eq(group.id))
                .filter(membership::Column::Status.eq(MembershipStatus::Active))
                .into_tuple()
                .all(&tx)
                .await?
        }
    };
    let recipients: Vec<Uuid> = recipients.into_iter().filter(|u| *u != actor).collect();
    let name = user::Entity::find_by_id(actor)
        .one(&tx)
        .await?
        .map(|u| u.display_name)
        .unwrap_or_default();
    let about = match &event {
        Some(event) => About::Event(event.id),
        None => About::Group(group.id),
    };
    let notice = Message::Announcement {
        name,
        group: group.name.clone(),
        message,
    };
    notifications::record(&mut tx, &recipients, &notice, about, now).await?;
    let effects = tx.commit().await?;
    Ok(Committed::new((), effects))
}
