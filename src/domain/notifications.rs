//! Notifications: written in the same transaction as the change they report, so a change
//! that rolls back leaves none. Each member hears of theirs live once the change commits, and
//! its mail goes through the outbox (`notify::outbox`), so a failed send or a crash does not
//! lose it.

use chrono::{DateTime, Utc};
use entity::notification::{self, NotificationKind};
use entity::rsvp::{self, RsvpStatus};
use entity::user;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use crate::db::Tx;
use crate::error::AppResult;
use crate::notify::{Mail, outbox};

/// What a notification is about.
#[derive(Debug, Clone, Copy)]
pub enum About {
    Event(Uuid),
    Group(Uuid),
}

/// The mail that carries a notification to its member.
fn mail_of(member: &user::Model, message: &str) -> Mail {
    Mail {
        to: member.email.clone(),
        subject: format!("Kith: {message}"),
        body: format!("Hello {},\n\n{message}\n", member.display_name),
    }
}

/// Writes one notification per member inside `tx`, and queues its mail: after the commit
/// each member hears of theirs live and is mailed.
pub async fn record(
    tx: &mut Tx,
    user_ids: &[Uuid],
    kind: NotificationKind,
    message: &str,
    about: About,
    now: DateTime<Utc>,
) -> AppResult<()> {
    if user_ids.is_empty() {
        return Ok(());
    }
    let (event_id, group_id) = match about {
        About::Event(id) => (Some(id), None),
        About::Group(id) => (None, Some(id)),
    };
    let rows: Vec<notification::ActiveModel> = user_ids
        .iter()
        .map(|user_id| notification::ActiveModel {
            id: Set(Uuid::now_v7()),
            user_id: Set(*user_id),
            kind: Set(kind),
            message: Set(message.to_owned()),
            event_id: Set(event_id),
            group_id: Set(group_id),
            created_at: Set(now),
            read_at: Set(None),
        })
        .collect();
    for row in &rows {
        tx.effects()
            .notified(*row.id.as_ref(), *row.user_id.as_ref());
    }
    notification::Entity::insert_many(rows).exec(&*tx).await?;
    let members = user::Entity::find()
        .filter(user::Column::Id.is_in(user_ids.to_vec()))
        .all(&*tx)
        .await?;
    let mails = members
        .iter()
        .map(|member| (Some(member.id), mail_of(member, message)))
        .collect();
    outbox::queue(tx, mails, now).await
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
