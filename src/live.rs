//! The change bus: what subscribers hear (`eventChanged`, `notifications`).
//!
//! A change is published after the transaction that made it commits, never for one that
//! rolled back, and it carries ids only: each subscriber reloads what it is allowed to see.
//! With SQLite (one process) the bus is in memory. With PostgreSQL every change goes out
//! through `NOTIFY kith_changes` and every process `LISTEN`s, so a subscriber connected to
//! any process hears changes made through any other.
//!
//! Delivery is best effort: a subscriber too slow to keep up skips what it missed (it never
//! holds up anyone else), and a process that loses its database connection for a moment may
//! miss changes. Apps catch up through `Viewer.notifications` and by reloading the event.

use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, Statement};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;
use uuid::Uuid;

use crate::domain::notifications::Outbox;
use crate::state::AppState;

/// After a transaction commits: tells subscribers of `changes` and of the notifications in
/// `outbox`, then mails those notifications, in the background so the client does not wait.
pub fn after_commit(state: &AppState, outbox: Outbox, mut changes: Vec<Change>) {
    changes.extend(Change::of_outbox(&outbox));
    let (bus, db, mailer) = (state.bus.clone(), state.db.clone(), state.mailer.clone());
    tokio::spawn(async move {
        bus.publish(changes).await;
        outbox.deliver(&db, &mailer).await;
    });
}

/// The PostgreSQL channel changes travel on.
pub const CHANNEL: &str = "kith_changes";
/// Changes a subscriber may fall behind by before it skips some.
const BACKLOG: usize = 4096;

/// What changed about an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EventChange {
    /// Its details (time, place, capacity, text).
    Updated,
    Cancelled,
    /// Who is going or waiting, or checked in.
    RsvpsChanged,
}

/// One committed change, by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "t")]
pub enum Change {
    Event { id: Uuid, kind: EventChange },
    Notification { id: Uuid, user_id: Uuid },
}

impl Change {
    /// The notifications in `outbox`, as changes.
    pub fn of_outbox(outbox: &Outbox) -> Vec<Change> {
        outbox
            .notifications()
            .iter()
            .map(|n| Change::Notification {
                id: n.id,
                user_id: n.user_id,
            })
            .collect()
    }
}

#[derive(Clone)]
pub struct Bus {
    local: broadcast::Sender<Change>,
    db: DatabaseConnection,
}

impl Bus {
    pub fn new(db: DatabaseConnection) -> Self {
        let (local, _) = broadcast::channel(BACKLOG);
        Bus { local, db }
    }

    fn shared(&self) -> bool {
        self.db.get_database_backend() == DatabaseBackend::Postgres
    }

    /// Every change published from now on, in this process.
    pub fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.local.subscribe()
    }

    /// Publishes committed changes: to this process's subscribers, or through PostgreSQL to
    /// every process's. Failures are logged: a missed change is caught up by reloading.
    pub async fn publish(&self, changes: Vec<Change>) {
        if changes.is_empty() {
            return;
        }
        if !self.shared() {
            for change in changes {
                // No subscriber is no error.
                let _ = self.local.send(change);
            }
            return;
        }
        for change in changes {
            let payload = serde_json::to_string(&change).expect("a change serialises");
            let sent = self
                .db
                .execute_raw(Statement::from_sql_and_values(
                    DatabaseBackend::Postgres,
                    "SELECT pg_notify($1, $2)",
                    [CHANNEL.into(), payload.into()],
                ))
                .await;
            if let Err(err) = sent {
                tracing::warn!(error = %err, "change not published");
            }
        }
    }

    /// With PostgreSQL, listens for every process's changes and hands them to this one's
    /// subscribers, reconnecting when the connection drops. Nothing to do with SQLite.
    pub fn listen(&self) {
        if !self.shared() {
            return;
        }
        let bus = self.clone();
        tokio::spawn(async move {
            loop {
                if let Err(err) = bus.relay().await {
                    tracing::warn!(error = %err, "change listener lost its connection; reconnecting");
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        });
    }

    async fn relay(&self) -> Result<(), sea_orm::sqlx::Error> {
        use sea_orm::sqlx::postgres::PgListener;
        let pool = self.db.get_postgres_connection_pool();
        let mut listener = PgListener::connect_with(pool).await?;
        listener.listen(CHANNEL).await?;
        loop {
            let notice = listener.recv().await?;
            match serde_json::from_str::<Change>(notice.payload()) {
                Ok(change) => {
                    let _ = self.local.send(change);
                }
                Err(err) => tracing::warn!(error = %err, "unreadable change on {CHANNEL}"),
            }
        }
    }
}
