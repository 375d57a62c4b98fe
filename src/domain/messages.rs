//! Private messages: only people who met can start a conversation.
//!
//! A member may write to another when the two have a CONFIRMED in-person meeting (a
//! withdrawn one does not count), or when the other is an ORGANIZER or CO_ORGANIZER of a
//! group the writer is an ACTIVE member of, or hosts (hosted) one of its events. Either may
//! always answer in a conversation the other started. Two members of whom either blocked
//! the other never write to each other, and neither sees their conversation. A stranger
//! cannot write at all, so a newcomer's inbox stays free of unwanted approaches.
//!
//! Each pair has one conversation; each side of it (`conversation_members`) keeps the
//! member's own view: the latest activity, the latest message, and how many messages from
//! the other are unread (a counter, so reading it costs nothing however long the
//! conversation). A member's conversations and a conversation's messages are keyset pages
//! of indexes, newest first.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use entity::conversation::{self, Entity as Conversations};
use entity::conversation_member::{self as side, Entity as Sides};
use entity::meeting_confirmation::{self as meeting, MeetingStatus};
use entity::membership::{self, MembershipStatus, Role};
use entity::message::{self, Entity as Messages};
use entity::{event, event_host};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, TryInsertResult,
};
use uuid::Uuid;

use crate::db::{Tx, keyset};
use crate::domain::notifications::{self, About};
use crate::domain::rate_limit::{self, Limit};
use crate::domain::{accounts, blocks, meetings, text};
use crate::effects::Committed;
use crate::error::{AppError, AppResult};
use crate::notify::messages::Message;

/// A message's body, trimmed: 1 to this many characters.
pub const MAX_BODY_CHARS: usize = 2_000;
/// Messages one member may send per minute, to anyone: a quick exchange fits, a flood not.
pub const MESSAGES_PER_MINUTE: Limit = Limit {
    max: 30,
    window: Duration::minutes(1),
};
/// Messages one member may send per hour, to anyone.
pub const MESSAGES_PER_HOUR: Limit = Limit {
    max: 300,
    window: Duration::hours(1),
};
/// Conversations one member may start (first messages to someone new) per day.
pub const NEW_CONVERSATIONS_PER_DAY: Limit = Limit {
    max: 20,
    window: Duration::days(1),
};

/// The keyset of `Viewer.conversations`: latest activity, then conversation id; both
/// descending.
pub type ActivityKey = (DateTime<Utc>, Uuid);
/// The keyset of a conversation's messages: sent at, then id; both descending.
pub type MessageKey = (DateTime<Utc>, Uuid);

pub async fn find(db: &impl ConnectionTrait, id: Uuid) -> AppResult<Option<message::Model>> {
    Ok(Messages::find_by_id(id).one(db).await?)
}

pub async fn find_many(db: &impl ConnectionTrait, ids: &[Uuid]) -> AppResult<Vec<message::Model>> {
    Ok(Messages::find()
        .filter(message::Column::Id.is_in(ids.to_vec()))
        .all(db)
        .await?)
}

/// The member's side of the conversation; None when they are not one of its two.
pub async fn side_of(
    db: &impl ConnectionTrait,
    conversation_id: Uuid,
    user_id: Uuid,
) -> AppResult<Option<side::Model>> {
    Ok(Sides::find_by_id((conversation_id, user_id))
        .one(db)
        .await?)
}

/// The viewer's side of the conversation when they may see it: one of its two, and not
/// blocked either way with the other.
pub async fn visible_side(
    db: &impl ConnectionTrait,
    conversation_id: Uuid,
    viewer: Uuid,
) -> AppResult<Option<side::Model>> {
    let Some(side) = side_of(db, conversation_id, viewer).await? else {
        return Ok(None);
    };
    if blocks::between(db, viewer, side.other_id).await? {
        return Ok(None);
    }
    Ok(Some(side))
}

/// A page of the viewer's conversations, latest activity first, leaving out those with a
/// member blocked either way.
pub async fn conversations_of(
    db: &impl ConnectionTrait,
    viewer: Uuid,
    after: Option<ActivityKey>,
    limit: u64,
) -> AppResult<Vec<side::Model>> {
    let mut select = Sides::find()
        .filter(side::Column::UserId.eq(viewer))
        .filter(blocks::not_blocked_with(side::Column::OtherId, viewer));
    if let Some((at, id)) = after {
        select = select.filter(keyset::before(
            (side::Column::LastMessageAt, side::Column::ConversationId),
            (at, id),
        ));
    }
    Ok(select
        .order_by_desc(side::Column::LastMessageAt)
        .order_by_desc(side::Column::ConversationId)
        .limit(limit)
        .all(db)
        .await?)
}

/// A page of a conversation's messages, newest first.
pub async fn messages_of(
    db: &impl ConnectionTrait,
    conversation_id: Uuid,
    after: Option<MessageKey>,
    limit: u64,
) -> AppResult<Vec<message::Model>> {
    let mut select = Messages::find().filter(message::Column::ConversationId.eq(conversation_id));
    if let Some((at, id)) = after {
        select = select.filter(keyset::before(
            (message::Column::CreatedAt, message::Column::Id),
            (at, id),
        ));
    }
    Ok(select
        .order_by_desc(message::Column::CreatedAt)
        .order_by_desc(message::Column::Id)
        .limit(limit)
        .all(db)
        .await?)
}

async fn find_pair(
    db: &impl ConnectionTrait,
    (low, high): (Uuid, Uuid),
) -> AppResult<Option<conversation::Model>> {
    Ok(Conversations::find()
        .filter(conversation::Column::UserLow.eq(low))
        .filter(conversation::Column::UserHigh.eq(high))
        .one(db)
        .await?)
}

/// Whether `actor` may write to `to` (blocks aside): `to` started their conversation, or the
/// two met in person (CONFIRMED), or `to` organises a group `actor` is an ACTIVE member of
/// (ORGANIZER or CO_ORGANIZER) or hosts one of its events, past or upcoming.
async fn may_write(
    db: &impl ConnectionTrait,
    actor: Uuid,
    to: Uuid,
    conversation: Option<&conversation::Model>,
) -> AppResult<bool> {
    if conversation.is_some_and(|c| c.started_by == to) {
        return Ok(true);
    }
    let (low, high) = meetings::pair(actor, to);
    let met = meeting::Entity::find()
        .filter(meeting::Column::UserLow.eq(low))
        .filter(meeting::Column::UserHigh.eq(high))
        .filter(meeting::Column::Status.eq(MeetingStatus::Confirmed))
        .one(db)
        .await?
        .is_some();
    if met {
        return Ok(true);
    }
    let actors_groups = Query::select()
        .column(membership::Column::GroupId)
        .from(membership::Entity)
        .and_where(membership::Column::UserId.eq(actor))
        .and_where(membership::Column::Status.eq(MembershipStatus::Active))
        .to_owned();
    let organises = membership::Entity::find()
        .filter(membership::Column::UserId.eq(to))
        .filter(membership::Column::Status.eq(MembershipStatus::Active))
        .filter(membership::Column::Role.is_in([Role::Organizer, Role::CoOrganizer]))
        .filter(membership::Column::GroupId.in_subquery(actors_groups.clone()))
        .one(db)
        .await?
        .is_some();
    if organises {
        return Ok(true);
    }
    let their_events = Query::select()
        .column(event::Column::Id)
        .from(event::Entity)
        .and_where(event::Column::GroupId.in_subquery(actors_groups))
        .to_owned();
    Ok(event_host::Entity::find()
        .filter(event_host::Column::UserId.eq(to))
        .filter(event_host::Column::EventId.in_subquery(their_events))
        .one(db)
        .await?
        .is_some())
}

/// The pair's conversation, made (with its two sides) when there is none yet. Two first
/// messages at once make one: the unique index on the pair turns the second insert into
/// nothing, and it then reads the first's.
async fn open(
    tx: &Tx,
    actor: Uuid,
    to: Uuid,
    now: DateTime<Utc>,
) -> AppResult<conversation::Model> {
    let pair = meetings::pair(actor, to);
    let id = Uuid::now_v7();
    let inserted = Conversations::insert(conversation::ActiveModel {
        id: Set(id),
        user_low: Set(pair.0),
        user_high: Set(pair.1),
        started_by: Set(actor),
        created_at: Set(now),
        last_message_at: Set(now),
    })
    .on_conflict_do_nothing_on([
        conversation::Column::UserLow,
        conversation::Column::UserHigh,
    ])
    .exec_without_returning(tx)
    .await?;
    if matches!(inserted, TryInsertResult::Inserted(n) if n > 0) {
        let sides = [(actor, to), (to, actor)].map(|(user, other)| side::ActiveModel {
            conversation_id: Set(id),
            user_id: Set(user),
            other_id: Set(other),
            last_message_at: Set(now),
            last_message_id: Set(None),
            unread_count: Set(0),
            read_at: Set(None),
        });
        Sides::insert_many(sides).exec(tx).await?;
    }
    find_pair(tx, pair)
        .await?
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("a conversation vanished")))
}

/// Sends a private message. Counted first against the sender's limits (per minute, per
/// hour, and, for a first message to someone, new conversations per day): RATE_LIMITED
/// beyond, refused attempts included. Then: `body` 1–2,000 characters (BAD_USER_INPUT
/// `body`), not to oneself (BAD_USER_INPUT `toUserId`), an existing member (NOT_FOUND), and
/// FORBIDDEN unless [`may_write`] allows it, and when either blocked the other, or either is
/// banned. The recipient is told (MESSAGE) and hears it live, as do the sender's other
/// devices. Sending marks the conversation read for the sender.
pub async fn send(
    db: &DatabaseConnection,
    actor: Uuid,
    to: Uuid,
    body: &str,
    now: DateTime<Utc>,
) -> AppResult<Committed<message::Model>> {
    for (key, limit) in [
        (format!("message:{actor}"), MESSAGES_PER_MINUTE),
        (format!("message-hour:{actor}"), MESSAGES_PER_HOUR),
    ] {
        if let Some(limited) = rate_limit::hit(db, &key, limit, now).await? {
            return Err(limited);
        }
    }
    let body = text::body("body", body, MAX_BODY_CHARS)?;
    if actor == to {
        return Err(AppError::bad_input(
            "toUserId",
            "you cannot send a message to yourself",
        ));
    }
    if find_pair(db, meetings::pair(actor, to)).await?.is_none()
        && let Some(limited) = rate_limit::hit(
            db,
            &format!("conversation:{actor}"),
            NEW_CONVERSATIONS_PER_DAY,
            now,
        )
        .await?
    {
        return Err(limited);
    }

    let mut tx = Tx::begin(db).await?;
    let sender = accounts::find(&tx, actor)
        .await?
        .ok_or(AppError::Unauthenticated("the account no longer exists"))?;
    let recipient = accounts::find(&tx, to)
        .await?
        .ok_or(AppError::NotFound("user"))?;
    if sender.banned_at.is_some() || recipient.banned_at.is_some() {
        return Err(AppError::forbidden(
            "a banned member sends and receives no messages",
        ));
    }
    if blocks::between(&tx, actor, to).await? {
        return Err(AppError::forbidden(
            "no messages between members of whom either blocked the other",
        ));
    }
    let existing = find_pair(&tx, meetings::pair(actor, to)).await?;
    if !may_write(&tx, actor, to, existing.as_ref()).await? {
        return Err(AppError::forbidden(
            "you may write to members you met in person (a CONFIRMED meeting), to the organizers \
             and hosts of your groups, and answer those who wrote to you",
        ));
    }
    let conversation = match existing {
        Some(conversation) => conversation,
        None => open(&tx, actor, to, now).await?,
    };
    let message = Messages::insert(message::ActiveModel {
        id: Set(Uuid::now_v7()),
        conversation_id: Set(conversation.id),
        sender_id: Set(actor),
        body: Set(body),
        created_at: Set(now),
    })
    .exec_with_returning(&tx)
    .await?;

    // A message that committed after a later one (two sends at once) does not move the
    // activity back in time.
    let newer = Expr::col(side::Column::LastMessageAt).gt(now);
    Sides::update_many()
        .col_expr(
            side::Column::LastMessageId,
            Expr::case(newer.clone(), Expr::col(side::Column::LastMessageId))
                .finally(Expr::val(message.id))
                .into(),
        )
        .col_expr(
            side::Column::LastMessageAt,
            Expr::case(newer, Expr::col(side::Column::LastMessageAt))
                .finally(Expr::val(now))
                .into(),
        )
        .col_expr(
            side::Column::UnreadCount,
            Expr::case(
                Expr::col(side::Column::UserId).eq(to),
                Expr::col(side::Column::UnreadCount).add(1),
            )
            .finally(0)
            .into(),
        )
        .col_expr(
            side::Column::ReadAt,
            Expr::case(
                Expr::col(side::Column::UserId).eq(actor),
                Expr::val(Some(now)),
            )
            .finally(Expr::col(side::Column::ReadAt))
            .into(),
        )
        .filter(side::Column::ConversationId.eq(conversation.id))
        .exec(&tx)
        .await?;
    Conversations::update_many()
        .col_expr(conversation::Column::LastMessageAt, Expr::val(now))
        .filter(conversation::Column::Id.eq(conversation.id))
        .filter(conversation::Column::LastMessageAt.lte(now))
        .exec(&tx)
        .await?;

    let notice = Message::PrivateMessage {
        name: sender.display_name,
    };
    notifications::record(
        &mut tx,
        &[to],
        &notice,
        About::Conversation(conversation.id),
        now,
    )
    .await?;
    tx.effects().message_sent(message.id, actor, to);
    let effects = tx.commit().await?;
    Ok(Committed::new(message, effects))
}

/// Marks the conversation read for the viewer: no message of it counts as unread any more.
/// NOT_FOUND when the viewer may not see it.
pub async fn mark_read(
    db: &impl ConnectionTrait,
    viewer: Uuid,
    conversation_id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<side::Model> {
    visible_side(db, conversation_id, viewer)
        .await?
        .ok_or(AppError::NotFound("conversation"))?;
    Sides::update_many()
        .col_expr(side::Column::UnreadCount, Expr::val(0))
        .col_expr(side::Column::ReadAt, Expr::val(Some(now)))
        .filter(side::Column::ConversationId.eq(conversation_id))
        .filter(side::Column::UserId.eq(viewer))
        .exec(db)
        .await?;
    side_of(db, conversation_id, viewer)
        .await?
        .ok_or(AppError::NotFound("conversation"))
}

/// Deletes every conversation of a member (with every message in it, theirs and the
/// other's), inside the caller's transaction: a banned member's messages leave the inboxes
/// they reached. (Deleting an account does the same through the foreign keys.)
pub async fn delete_all_of(tx: &Tx, user_id: Uuid) -> AppResult<()> {
    Conversations::delete_many()
        .filter(
            Condition::any()
                .add(conversation::Column::UserLow.eq(user_id))
                .add(conversation::Column::UserHigh.eq(user_id)),
        )
        .exec(tx)
        .await?;
    Ok(())
}

/// A message the member sent, with whom it went to.
pub struct Sent {
    pub message: message::Model,
    pub to: Uuid,
}

/// Every message the member sent, oldest first (for `exportMyData`).
pub async fn sent_by(db: &impl ConnectionTrait, user_id: Uuid) -> AppResult<Vec<Sent>> {
    let others: HashMap<Uuid, Uuid> = Sides::find()
        .filter(side::Column::UserId.eq(user_id))
        .all(db)
        .await?
        .into_iter()
        .map(|s| (s.conversation_id, s.other_id))
        .collect();
    Ok(Messages::find()
        .filter(message::Column::SenderId.eq(user_id))
        .order_by_asc(message::Column::CreatedAt)
        .order_by_asc(message::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .filter_map(|message| {
            let to = *others.get(&message.conversation_id)?;
            Some(Sent { message, to })
        })
        .collect())
}
