//! What must happen once a change has committed, and the one place where it happens.
//!
//! A domain operation records what follows its change in the transaction it runs in
//! ([`Tx::effects`](crate::db::Tx::effects)): notifications written (their members hear of
//! them live, and their mail was queued), events changed, sessions ended, mail to send. It
//! returns its result as a [`Committed`] value, which only [`Outlets::deliver`] opens: a
//! resolver cannot take the result without the change bus, the mailer and whatever comes
//! next hearing of it. A rolled-back transaction drops its effects with it.
//!
//! Mail follows one of two rules:
//! - **Mail that must not be lost** (notification mail, the word to an old address) is
//!   written to `mail_outbox` in the change's own transaction, sent right after the commit,
//!   and retried by the background loop until it is sent (`notify::outbox`). A crash or a
//!   failing mail server delays it; nothing loses it. It may, rarely, arrive twice.
//! - **Mail that carries a one-time code** is never stored (the code is a secret): it is sent
//!   once, after the commit, in the background, and a failure is logged. A member whose code
//!   does not arrive asks for a new one.
//!
//! Everything here runs after the answer is on its way: the client waits for none of it.

use futures::future::BoxFuture;
use sea_orm::DatabaseConnection;
use uuid::Uuid;

use crate::live::{Bus, Change, EventChange};
use crate::notify::push::{self, Providers};
use crate::notify::{Mail, Mailer, outbox};

/// Work that follows the answer and must not shape it, such as the look-up behind a password
/// reset, whose time would otherwise tell whether the address has an account.
pub type FollowUp = Box<dyn FnOnce(Outlets) -> BoxFuture<'static, ()> + Send + Sync>;

/// What must happen after a transaction commits. Built up while the transaction runs;
/// dropped unheard when it rolls back.
#[must_use = "effects happen only through `Outlets::deliver`: return them in `Committed`"]
#[derive(Default)]
pub struct Effects {
    changes: Vec<Change>,
    queued_mail: Vec<Uuid>,
    queued_push: Vec<Uuid>,
    code_mail: Vec<Mail>,
    follow_ups: Vec<FollowUp>,
}

impl std::fmt::Debug for Effects {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Effects")
            .field("changes", &self.changes)
            .field("queued_mail", &self.queued_mail)
            .field("queued_push", &self.queued_push.len())
            .field("code_mail", &self.code_mail.len())
            .field("follow_ups", &self.follow_ups.len())
            .finish()
    }
}

impl Effects {
    /// An event changed: its subscribers hear `kind`.
    pub fn event_changed(&mut self, id: Uuid, kind: EventChange) {
        self.change(Change::Event { id, kind });
    }

    /// Sessions of the member ended: their open connections check theirs and close.
    pub fn sessions_ended(&mut self, user_id: Uuid) {
        self.change(Change::SessionsEnded { user_id });
    }

    /// A comment was added under an event: the event's `commentAdded` subscribers hear it.
    pub fn comment_added(&mut self, id: Uuid, event_id: Uuid) {
        self.change(Change::Comment { id, event_id });
    }

    /// A private message was sent: its recipient's `messageReceived` subscribers hear it,
    /// and the sender's.
    pub fn message_sent(&mut self, id: Uuid, from: Uuid, to: Uuid) {
        self.change(Change::Message { id, from, to });
    }

    /// A notification was written for the member: they hear of it live.
    pub fn notified(&mut self, id: Uuid, user_id: Uuid) {
        self.change(Change::Notification { id, user_id });
    }

    /// A mail was written to the outbox: it is sent right after the commit.
    pub fn mail_queued(&mut self, outbox_id: Uuid) {
        self.queued_mail.push(outbox_id);
    }

    /// Pushes were written to the push outbox: they are sent right after the commit.
    pub fn push_queued(&mut self, outbox_ids: Vec<Uuid>) {
        self.queued_push.extend(outbox_ids);
    }

    /// A mail carrying a one-time code: sent once after the commit, never stored.
    pub fn mail_code(&mut self, mail: Mail) {
        self.code_mail.push(mail);
    }

    /// Work to run after the answer (see [`FollowUp`]).
    pub fn follow_up(&mut self, work: FollowUp) {
        self.follow_ups.push(work);
    }

    fn is_empty(&self) -> bool {
        self.changes.is_empty()
            && self.queued_mail.is_empty()
            && self.queued_push.is_empty()
            && self.code_mail.is_empty()
            && self.follow_ups.is_empty()
    }

    /// For a change that has nothing to tell: a debug build fails loudly when it had.
    pub fn expect_none(self) {
        debug_assert!(self.is_empty(), "effects dropped: {self:?}");
        if !self.is_empty() {
            tracing::error!(effects = ?self, "effects dropped");
        }
    }

    /// One change is told once, however often it was recorded.
    fn change(&mut self, change: Change) {
        if !self.changes.contains(&change) {
            self.changes.push(change);
        }
    }

    async fn apply(self, outlets: Outlets) {
        outlets.bus.publish(self.changes).await;
        push::outbox::send(&outlets.db, &outlets.push, &self.queued_push).await;
        outbox::send(&outlets.db, &outlets.mailer, &self.queued_mail).await;
        for mail in self.code_mail {
            outlets.mailer.send_or_log(mail).await;
        }
        for work in self.follow_ups {
            work(outlets.clone()).await;
        }
    }
}

/// The result of a committed change, with what must follow it. Only [`Outlets::deliver`]
/// takes the value out, and it sets the effects going on the way.
#[must_use = "take the value with `Outlets::deliver`, which sets the effects going"]
pub struct Committed<T> {
    value: T,
    effects: Effects,
}

impl<T> Committed<T> {
    pub fn new(value: T, effects: Effects) -> Self {
        Committed { value, effects }
    }
}

/// Where effects go: the change bus, the mailer, the push providers and the database the
/// outboxes live in.
#[derive(Clone)]
pub struct Outlets {
    pub db: DatabaseConnection,
    pub bus: Bus,
    pub mailer: Mailer,
    pub push: Providers,
}

impl Outlets {
    /// Takes the value of a committed change and sets its effects going, in the background:
    /// the change bus first (live updates), then pushes, then mail, then follow-ups.
    pub fn deliver<T>(&self, committed: Committed<T>) -> T {
        let Committed { value, effects } = committed;
        if !effects.is_empty() {
            tokio::spawn(effects.apply(self.clone()));
        }
        value
    }

    /// As `deliver`, waiting until every effect has run (the command line, which exits
    /// right after).
    pub async fn deliver_now<T>(&self, committed: Committed<T>) -> T {
        let Committed { value, effects } = committed;
        effects.apply(self.clone()).await;
        value
    }
}
