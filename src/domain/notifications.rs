//! Notifications: written in the same transaction as the change they report, so a change
//! that rolls back leaves none. Each member hears of theirs live once the change commits; its
//! pushes and its mail, as the member's settings ask, go through the outboxes
//! (`notify::push::outbox`, `notify::outbox`), so a failed send or a crash does not lose them.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use entity::notification;
use entity::rsvp::{self, RsvpStatus};
use entity::user;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveEnum, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    Set,
};
use uuid::Uuid;

use crate::db::Tx;
use crate::domain::devices;
use crate::domain::preferences::{self, Setting};
use crate::error::AppResult;
use crate::graphql::ids::{self, Kind};
use crate::notify::messages::{self, Lang, Message, Text};
use crate::notify::outbox;
use crate::notify::push::{self, Push, outbox::Owed};

/// What a notification is about.
#[derive(Debug, Clone, Copy)]
pub enum About {
    Event(Uuid),
    Group(Uuid),
    /// A private conversation: only a push names it (the stored notification points at
    /// neither an event nor a group).
    Conversation(Uuid),
}

impl About {
    /// The app's data about it in a push: the ID it opens, and the collapse key that makes
    /// a burst of pushes about one thing show once.
    fn push_data(self) -> ((&'static str, String), String) {
        match self {
            About::Event(id) => (
                ("eventId", ids::encode(Kind::Event, id).to_string()),
                format!("event:{id}"),
            ),
            About::Group(id) => (
                ("groupId", ids::encode(Kind::Group, id).to_string()),
                format!("group:{id}"),
            ),
            About::Conversation(id) => (
                (
                    "conversationId",
                    ids::encode(Kind::Conversation, id).to_string(),
                ),
                format!("conversation:{id}"),
            ),
        }
    }
}

/// Writes one notification per member inside `tx`, each in the member's language, and
/// queues what their settings ask for: a push to each of their live devices, a mail. After
/// the commit each member hears of theirs live, by push and by mail.
pub async fn record(
    tx: &mut Tx,
    user_ids: &[Uuid],
    message: &Message,
    about: About,
    now: DateTime<Utc>,
) -> AppResult<()> {
    if user_ids.is_empty() {
        return Ok(());
    }
    let kind = message.kind();
    let (event_id, group_id) = match about {
        About::Event(id) => (Some(id), None),
        About::Group(id) => (None, Some(id)),
        About::Conversation(_) => (None, None),
    };
    let members = user::Entity::find()
        .filter(user::Column::Id.is_in(user_ids.to_vec()))
        .all(&*tx)
        .await?;
    let settings = preferences::for_kind(&*tx, user_ids, kind).await?;
    let mut texts: HashMap<Lang, Text> = HashMap::new();
    let mut written = Vec::with_capacity(members.len());
    for member in &members {
        let lang = Lang::of(member.locale.as_deref());
        let text = texts
            .entry(lang)
            .or_insert_with(|| message.render(lang))
            .clone();
        written.push((member, lang, text, Uuid::now_v7()));
    }
    let rows: Vec<notification::ActiveModel> = written
        .iter()
        .map(|(member, _, text, id)| notification::ActiveModel {
            id: Set(*id),
            user_id: Set(member.id),
            kind: Set(kind),
            message: Set(text.body.clone()),
            event_id: Set(event_id),
            group_id: Set(group_id),
            created_at: Set(now),
            read_at: Set(None),
        })
        .collect();
    for (member, _, _, id) in &written {
        tx.effects().notified(*id, member.id);
    }
    for chunk in rows.chunks(500) {
        notification::Entity::insert_many(chunk.to_vec())
            .exec(&*tx)
            .await?;
    }
    let wants =
        |member: &user::Model, by: fn(&Setting) -> bool| settings.get(&member.id).is_some_and(by);
    let mails = written
        .iter()
        .filter(|(member, ..)| wants(member, |s| s.email))
        .map(|(member, lang, text, _)| {
            let mail = messages::mail(*lang, &member.email, &member.display_name, text);
            (Some(member.id), mail)
        })
        .collect();
    outbox::queue(tx, mails, now).await?;
    let pushed: Vec<_> = written
        .iter()
        .filter(|(member, ..)| wants(member, |s| s.push))
        .collect();
    if pushed.is_empty() {
        return Ok(());
    }
    let pushed_ids: Vec<Uuid> = pushed.iter().map(|(member, ..)| member.id).collect();
    let devices = devices::live_of(&*tx, &pushed_ids).await?;
    if devices.is_empty() {
        return Ok(());
    }
    let unread = unread_counts(&*tx, &pushed_ids).await?;
    let ((about_key, about_id), collapse_key) = about.push_data();
    let expires_at = message.expires_at(now);
    let mut owed = Vec::with_capacity(devices.len());
    for (member, _, text, id) in pushed {
        let data = BTreeMap::from([
            (
                "notificationId".to_owned(),
                ids::encode(Kind::Notification, *id).to_string(),
            ),
            ("kind".to_owned(), kind.to_value()),
            (about_key.to_owned(), about_id.clone()),
        ]);
        for device in devices.iter().filter(|d| d.user_id == member.id) {
            owed.push(Owed {
                device_id: device.id,
                notification_id: Some(*id),
                push: Push {
                    title: text.title.clone(),
                    body: text.body.clone(),
                    badge: unread.get(&member.id).copied().unwrap_or(0),
                    collapse_key: Some(collapse_key.clone()),
                    data: data.clone(),
                    expires_at,
                },
            });
        }
    }
    push::outbox::queue(tx, owed, now).await
}

/// How many unread notifications each of `user_ids` has, in one statement per 500.
async fn unread_counts(
    db: &impl ConnectionTrait,
    user_ids: &[Uuid],
) -> AppResult<HashMap<Uuid, u32>> {
    let mut counts = HashMap::with_capacity(user_ids.len());
    for chunk in user_ids.chunks(500) {
        let rows: Vec<(Uuid, i64)> = notification::Entity::find()
            .select_only()
            .column(notification::Column::UserId)
            .column_as(notification::Column::Id.count(), "unread")
            .filter(notification::Column::UserId.is_in(chunk.to_vec()))
            .filter(notification::Column::ReadAt.is_null())
            .group_by(notification::Column::UserId)
            .into_tuple()
            .all(db)
            .await?;
        counts.extend(
            rows.into_iter()
                .map(|(id, n)| (id, u32::try_from(n).unwrap_or(u32::MAX))),
        );
    }
    Ok(counts)
}

/// The members GOING or WAITLISTED to an event.
pub async fn attendees(db: &impl ConnectionTrait, event_id: Uuid) -> AppResult<Vec<Uuid>> {
    Ok(rsvp::Entity::find()
        .select_only()
        .column(rsvp::Column::UserId)
        .filter(rsvp::Column::EventId.eq(event_id))
        .filter(rsvp::Column::Status.is_in([RsvpStatus::Going, RsvpStatus::Waitlisted]))
        .into_tuple()
        .all(db)
        .await?)
}

/// A page of a member's notifications, newest first, before the notification id `after`.
pub async fn of_user(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    unread_only: bool,
    after: Option<Uuid>,
    limit: u64,
) -> AppResult<Vec<notification::Model>> {
    let mut select = notification::Entity::find().filter(notification::Column::UserId.eq(user_id));
    if unread_only {
        select = select.filter(notification::Column::ReadAt.is_null());
    }
    if let Some(after) = after {
        select = select.filter(notification::Column::Id.lt(after));
    }
    Ok(select
        .order_by_desc(notification::Column::Id)
        .limit(limit)
        .all(db)
        .await?)
}

/// Marks the member's own notifications among `ids` read (all of them for None); others'
/// ids are ignored.
pub async fn mark_read(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    ids: Option<&[Uuid]>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let mut update = notification::Entity::update_many()
        .col_expr(notification::Column::ReadAt, Expr::value(now))
        .filter(notification::Column::UserId.eq(user_id))
        .filter(notification::Column::ReadAt.is_null());
    if let Some(ids) = ids {
        update = update.filter(notification::Column::Id.is_in(ids.to_vec()));
    }
    update.exec(db).await?;
    Ok(())
}

/// How many of the member's notifications are unread.
pub async fn unread_count(db: &impl ConnectionTrait, user_id: Uuid) -> AppResult<u64> {
    use sea_orm::PaginatorTrait;
    Ok(notification::Entity::find()
        .filter(notification::Column::UserId.eq(user_id))
        .filter(notification::Column::ReadAt.is_null())
        .count(db)
        .await?)
}

pub async fn find(db: &impl ConnectionTrait, id: Uuid) -> AppResult<Option<notification::Model>> {
    Ok(notification::Entity::find_by_id(id).one(db).await?)
}
