//! Notifications: written in the same transaction as the change they report, so a change
//! that rolls back leaves none; mailed only after that transaction commits, and retried
//! (`retry_mail`) until sent, so a failed send or a crash does not lose the mail.

use chrono::{DateTime, Duration, Utc};
use entity::{notification, rsvp, user};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use crate::domain::rsvps;
use crate::error::AppResult;
use crate::notify::{Mail, Mailer};

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    WaitlistPromoted,
    EventChanged,
    EventCancelled,
    MeetingRequested,
    GroupHandedOver,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::WaitlistPromoted => "WAITLIST_PROMOTED",
            Kind::EventChanged => "EVENT_CHANGED",
            Kind::EventCancelled => "EVENT_CANCELLED",
            Kind::MeetingRequested => "MEETING_REQUESTED",
            Kind::GroupHandedOver => "GROUP_HANDED_OVER",
        }
    }

    pub fn of(row: &notification::Model) -> Self {
        match row.kind.as_str() {
            "WAITLIST_PROMOTED" => Kind::WaitlistPromoted,
            "EVENT_CANCELLED" => Kind::EventCancelled,
            "MEETING_REQUESTED" => Kind::MeetingRequested,
            "GROUP_HANDED_OVER" => Kind::GroupHandedOver,
            _ => Kind::EventChanged,
        }
    }
}

/// Notifications written by a change, to be mailed once it commits.
#[must_use = "mail the notifications after the transaction commits"]
#[derive(Debug, Default)]
pub struct Outbox(Vec<notification::Model>);

impl Outbox {
    /// The notifications written.
    pub fn notifications(&self) -> &[notification::Model] {
        &self.0
    }

    pub fn extend(&mut self, other: Outbox) {
        self.0.extend(other.0);
    }

    /// Mails each notification to its member, marking those sent. A mail that fails stays
    /// owed, and `retry_mail` sends it later; so does one lost to a crash before this ran.
    pub async fn deliver(self, db: &impl ConnectionTrait, mailer: &Mailer) {
        if self.0.is_empty() {
            return;
        }
        let ids: Vec<Uuid> = self.0.iter().map(|n| n.user_id).collect();
        let users = match user::Entity::find()
            .filter(user::Column::Id.is_in(ids))
            .all(db)
            .await
        {
            Ok(users) => users,
            Err(err) => {
                tracing::error!(error = %err, "notification mail: cannot load members");
                return;
            }
        };
        let mut sent = Vec::with_capacity(self.0.len());
        for n in self.0 {
            let Some(u) = users.iter().find(|u| u.id == n.user_id) else {
                // The member is gone: nothing to send, nothing owed.
                sent.push(n.id);
                continue;
            };
            let mail = Mail {
                to: u.email.clone(),
                subject: format!("Kith: {}", n.message),
                body: format!("Hello {},\n\n{}\n", u.display_name, n.message),
            };
            match mailer.send(mail).await {
                Ok(()) => sent.push(n.id),
                Err(err) => {
                    tracing::warn!(error = %err, notification = %n.id, "notification mail not sent; will retry")
                }
            }
        }
        let marked = notification::Entity::update_many()
            .col_expr(
                notification::Column::MailDueAt,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .filter(notification::Column::Id.is_in(sent))
            .exec(db)
            .await;
        if let Err(err) = marked {
            tracing::warn!(error = %err, "notification mail sent but not marked; it may be sent again");
        }
    }
}

/// How long after its commit a notification's mail is left to the send that follows the
/// commit, before `retry_mail` may take it over.
pub const MAIL_GRACE: Duration = Duration::minutes(2);
/// Attempts before a notification's mail is given up (the notification itself stays).
pub const MAIL_ATTEMPTS: i32 = 5;

/// Sends the notification mail that is owed as of `now` (failed or lost sends), at most 100
/// at a time; returns how many it tried. Each mail is claimed with a conditional update
/// before it is sent, so processes sharing a database do not send the same one at once;
/// a failed attempt is tried again ten minutes later.
pub async fn retry_mail(
    db: &impl ConnectionTrait,
    mailer: &Mailer,
    now: DateTime<Utc>,
) -> AppResult<usize> {
    let due: Vec<Uuid> = notification::Entity::find()
        .select_only()
        .column(notification::Column::Id)
        .filter(notification::Column::MailDueAt.lte(now))
        .filter(notification::Column::MailAttempts.lt(MAIL_ATTEMPTS))
        .order_by_asc(notification::Column::MailDueAt)
        .limit(100)
        .into_tuple()
        .all(db)
        .await?;
    if due.is_empty() {
        return Ok(0);
    }
    let claimed = notification::Entity::update_many()
        .col_expr(
            notification::Column::MailAttempts,
            Expr::col(notification::Column::MailAttempts).add(1),
        )
        .col_expr(
            notification::Column::MailDueAt,
            Expr::value(now + MAIL_GRACE * 5),
        )
        .filter(notification::Column::Id.is_in(due))
        .filter(notification::Column::MailDueAt.lte(now))
        .exec_with_returning(db)
        .await?;
    let tried = claimed.len();
    Outbox(claimed).deliver(db, mailer).await;
    Ok(tried)
}

/// What a notification is about.
#[derive(Debug, Clone, Copy)]
pub enum About {
    Event(Uuid),
    Group(Uuid),
}

/// Writes one notification per member, inside the caller's transaction.
pub async fn record(
    db: &impl ConnectionTrait,
    user_ids: &[Uuid],
    kind: Kind,
    message: &str,
    about: About,
    now: DateTime<Utc>,
) -> AppResult<Outbox> {
    let (event_id, group_id) = match about {
        About::Event(id) => (Some(id), None),
        About::Group(id) => (None, Some(id)),
    };
    if user_ids.is_empty() {
        return Ok(Outbox::default());
    }
    let rows: Vec<notification::Model> = user_ids
        .iter()
        .map(|user_id| notification::Model {
            id: Uuid::now_v7(),
            user_id: *user_id,
            kind: kind.as_str().to_owned(),
            message: message.to_owned(),
            event_id,
            group_id,
            created_at: now,
            read_at: None,
            mail_due_at: Some(now + MAIL_GRACE),
            mail_attempts: 0,
        })
        .collect();
    notification::Entity::insert_many(rows.iter().cloned().map(|n| notification::ActiveModel {
        id: Set(n.id),
        user_id: Set(n.user_id),
        kind: Set(n.kind),
        message: Set(n.message),
        event_id: Set(n.event_id),
        group_id: Set(n.group_id),
        created_at: Set(n.created_at),
        read_at: Set(None),
        mail_due_at: Set(n.mail_due_at),
        mail_attempts: Set(0),
    }))
    .exec(db)
    .await?;
    Ok(Outbox(rows))
}

/// The members GOING or WAITLISTED to an event.
pub async fn attendees(db: &impl ConnectionTrait, event_id: Uuid) -> AppResult<Vec<Uuid>> {
    Ok(rsvp::Entity::find()
        .select_only()
        .column(rsvp::Column::UserId)
        .filter(rsvp::Column::EventId.eq(event_id))
        .filter(rsvp::Column::Status.is_in([
            rsvps::Status::Going.as_str(),
            rsvps::Status::Waitlisted.as_str(),
        ]))
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

/// Marks the member's own notifications among `ids` read; others' ids are ignored.
pub async fn mark_read(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    ids: &[Uuid],
    now: DateTime<Utc>,
) -> AppResult<()> {
    notification::Entity::update_many()
        .col_expr(notification::Column::ReadAt, Expr::value(now))
        .filter(notification::Column::UserId.eq(user_id))
        .filter(notification::Column::Id.is_in(ids.to_vec()))
        .filter(notification::Column::ReadAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

pub async fn find(db: &impl ConnectionTrait, id: Uuid) -> AppResult<Option<notification::Model>> {
    Ok(notification::Entity::find_by_id(id).one(db).await?)
}
