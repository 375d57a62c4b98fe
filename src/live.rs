//! The change bus: what subscribers hear (`eventChanged`, `notifications`, `commentAdded`,
//! `messageReceived`), and this process's open subscription connections.
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

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use entity::event;
use tokio::sync::OnceCell;

use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, Statement};
use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, watch};
use uuid::Uuid;

use crate::domain::events;

/// The PostgreSQL channel changes travel on.
pub const CHANNEL: &str = "kith_changes";
/// Changes a subscriber may fall behind by before it skips some.
const BACKLOG: usize = 4096;
/// Events whose latest snapshot is kept before old ones are dropped.
const SNAPSHOTS: usize = 1024;

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
    Event {
        id: Uuid,
        kind: EventChange,
    },
    Notification {
        id: Uuid,
        user_id: Uuid,
    },
    /// Some of a member's sessions ended: their open WebSockets check theirs.
    SessionsEnded {
        user_id: Uuid,
    },
    /// A comment was added under an event.
    Comment {
        id: Uuid,
        event_id: Uuid,
    },
    /// A private message was sent: its recipient and its sender's other devices hear it.
    Message {
        id: Uuid,
        from: Uuid,
        to: Uuid,
    },
}

/// A change as this process heard it, numbered in the order heard.
#[derive(Debug, Clone, Copy)]
pub struct Heard {
    pub seq: u64,
    pub change: Change,
}

/// The event as it was right after a change, loaded once for all the subscribers of this
/// process however many they are.
type Snapshot = Arc<OnceCell<event::Model>>;

#[derive(Clone)]
pub struct Bus {
    local: broadcast::Sender<Heard>,
    db: DatabaseConnection,
    seq: Arc<AtomicU64>,
    /// The latest snapshot per event, with the number of the change it follows.
    snapshots: Arc<Mutex<HashMap<Uuid, (u64, Snapshot)>>>,
}

impl Bus {
    pub fn new(db: DatabaseConnection) -> Self {
        let (local, _) = broadcast::channel(BACKLOG);
        Bus {
            local,
            db,
            seq: Arc::default(),
            snapshots: Arc::default(),
        }
    }

    /// Hands a change to this process's subscribers.
    fn hand_out(&self, change: Change) {
        let seq = self.seq.fetch_add(1, Ordering::Relaxed);
        // No subscriber is no error.
        let _ = self.local.send(Heard { seq, change });
    }

    /// The event changed by `heard`, as it is now: read from the database by the first
    /// subscriber to ask, shared with the rest.
    pub async fn event_after(&self, heard: &Heard, id: Uuid) -> Option<event::Model> {
        let cell = {
            let mut snapshots = self.snapshots.lock().expect("not poisoned");
            if snapshots.len() > SNAPSHOTS {
                // Events changed long ago are not asked about again.
                let recent = heard.seq.saturating_sub(BACKLOG as u64);
                snapshots.retain(|_, (seq, _)| *seq >= recent);
            }
            let entry = snapshots
                .entry(id)
                .or_insert_with(|| (heard.seq, Snapshot::default()));
            if entry.0 < heard.seq {
                *entry = (heard.seq, Snapshot::default());
            }
            // A subscriber behind the latest change reads the newer snapshot: the event as
            // it is now, which is what it shows anyway.
            entry.1.clone()
        };
        cell.get_or_try_init(|| async { events::find(&self.db, id).await.ok().flatten().ok_or(()) })
            .await
            .ok()
            .cloned()
    }

    fn shared(&self) -> bool {
        self.db.get_database_backend() == DatabaseBackend::Postgres
    }

    /// Every change published from now on, in this process.
    pub fn subscribe(&self) -> broadcast::Receiver<Heard> {
        self.local.subscribe()
    }

    /// Publishes committed changes: to this process's subscribers, or through PostgreSQL to
    /// every process's. Failures are logged: a missed change is caught up by reloading. Only
    /// the after-commit path (`effects`) calls this.
    pub(crate) async fn publish(&self, changes: Vec<Change>) {
        if changes.is_empty() {
            return;
        }
        if !self.shared() {
            for change in changes {
                self.hand_out(change);
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
            // `try_recv` says when the connection dropped (and was made again): changes
            // sent in between are lost, which is logged; apps catch up as documented.
            let Some(notice) = listener.try_recv().await? else {
                tracing::warn!("change listener reconnected: changes in between were not heard");
                continue;
            };
            match serde_json::from_str::<Change>(notice.payload()) {
                Ok(change) => self.hand_out(change),
                Err(err) => tracing::warn!(error = %err, "unreadable change on {CHANNEL}"),
            }
        }
    }
}

/// Most open subscription connections one member may have in this process.
pub const MAX_CONNECTIONS_PER_MEMBER: usize = 10;

/// A member's open connections in this process, and the signal that some of their
/// sessions ended (a counter each connection watches).
struct Open {
    count: usize,
    sessions_ended: watch::Sender<u64>,
}

/// This process's open subscription connections, per member.
#[derive(Clone, Default)]
pub struct Connections {
    open: Arc<Mutex<HashMap<Uuid, Open>>>,
}

impl Connections {
    /// A place for one more connection of `member`; None past `MAX_CONNECTIONS_PER_MEMBER`.
    pub fn take(&self, member: Uuid) -> Option<Slot> {
        let mut open = self.open.lock().expect("not poisoned");
        let entry = open.entry(member).or_insert_with(|| Open {
            count: 0,
            sessions_ended: watch::channel(0).0,
        });
        if entry.count >= MAX_CONNECTIONS_PER_MEMBER {
            return None;
        }
        entry.count += 1;
        Some(Slot {
            connections: self.clone(),
            member,
            sessions_ended: entry.sessions_ended.subscribe(),
        })
    }

    /// Relays "sessions ended" from the bus to the connections of that member in this
    /// process, which then check their own session: one listener for all connections, so a
    /// change wakes only the connections it concerns. When changes were missed, every
    /// connection checks.
    pub fn watch(&self, bus: &Bus) {
        let mut heard = bus.subscribe();
        let connections = self.clone();
        tokio::spawn(async move {
            loop {
                let member = match heard.recv().await {
                    Ok(heard) => match heard.change {
                        Change::SessionsEnded { user_id } => Some(user_id),
                        _ => continue,
                    },
                    Err(broadcast::error::RecvError::Lagged(_)) => None,
                    Err(broadcast::error::RecvError::Closed) => return,
                };
                let open = connections.open.lock().expect("not poisoned");
                for (id, connections) in open.iter() {
                    if member.is_none_or(|m| m == *id) {
                        connections.sessions_ended.send_modify(|n| *n += 1);
                    }
                }
            }
        });
    }
}

/// One open connection of a member; gives its place back when dropped.
pub struct Slot {
    connections: Connections,
    member: Uuid,
    /// Changes when some session of the member ends.
    pub sessions_ended: watch::Receiver<u64>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.connections.open.lock().expect("not poisoned");
        if let Some(entry) = open.get_mut(&self.member) {
            entry.count -= 1;
            if entry.count == 0 {
                open.remove(&self.member);
            }
        }
    }
}
