//! Which pooled connections may be handed out again.
//!
//! The pool asks when a connection comes back (`after_release`) and before an idle one is
//! handed out (`before_acquire`); `false` closes it (SQLite and PostgreSQL both roll back a
//! transaction still open on a closed connection) and the pool opens a fresh one when it
//! needs one. A connection is refused when
//! - it was opened before the latest failed COMMIT or ROLLBACK ([`retire_open_connections`]):
//!   sea-orm gives the failing connection back to the pool before `Tx` hears of the failure,
//!   so `Tx` cannot single it out, and retires every connection open at that moment instead;
//! - sqlx counts it inside a transaction (a ROLLBACK failed, typically because SQLite had
//!   already ended the transaction): the next `begin` on it would only open a savepoint;
//! - SQLite says it is inside a transaction, whatever sqlx believes: it would hold the write
//!   lock and take the next transaction in as a savepoint. This is asked on return only,
//!   since it costs a round trip to the connection's thread and an idle connection cannot
//!   start a transaction.
//!
//! None of this relies on the pool's own ping (`test_before_acquire`), which may be turned off.

use std::sync::LazyLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use sea_orm::sqlx::pool::PoolConnectionMetadata;
use sea_orm::sqlx::postgres::PgConnection;
use sea_orm::sqlx::sqlite::SqliteConnection;
use sea_orm::sqlx::{self, Connection};

/// The origin of the times below.
static ORIGIN: LazyLock<Instant> = LazyLock::new(Instant::now);

/// When a COMMIT or ROLLBACK last failed, in nanoseconds after `ORIGIN`; 0 for never.
///
/// One for the process: a process has one pool (tests run several, which then reopen some
/// connections for nothing, and no harm).
static LAST_FAILURE: AtomicU64 = AtomicU64::new(0);

/// Fixes the origin of time before any connection opens.
pub(super) fn start_clock() {
    LazyLock::force(&ORIGIN);
}

/// A COMMIT or ROLLBACK just failed: no connection open now is handed out again.
pub(super) fn retire_open_connections() {
    LAST_FAILURE.fetch_max(nanos(ORIGIN.elapsed()).max(1), Ordering::SeqCst);
}

fn nanos(since_origin: Duration) -> u64 {
    u64::try_from(since_origin.as_nanos()).unwrap_or(u64::MAX)
}

/// Whether the connection was opened before the latest failure. Its opening is placed at
/// "now minus its age", a little later than it really was: only a connection opened within
/// microseconds before a failure could be misplaced, and the one whose COMMIT failed was
/// opened before its whole transaction.
fn opened_before_last_failure(meta: &PoolConnectionMetadata) -> bool {
    let failed_at = LAST_FAILURE.load(Ordering::SeqCst);
    failed_at != 0 && nanos(ORIGIN.elapsed().saturating_sub(meta.age)) < failed_at
}

fn refuse(reason: &'static str) -> Result<bool, sqlx::Error> {
    tracing::warn!(reason, "closing a pooled connection instead of reusing it");
    Ok(false)
}

/// The checks that cost nothing, for either database.
fn reusable(conn: &impl Connection, meta: &PoolConnectionMetadata) -> Result<bool, sqlx::Error> {
    if opened_before_last_failure(meta) {
        return refuse("opened before a COMMIT or ROLLBACK failed");
    }
    if conn.is_in_transaction() {
        return refuse("sqlx counts it inside a transaction (its ROLLBACK failed)");
    }
    Ok(true)
}

/// Before an idle SQLite connection is handed out.
pub(super) async fn sqlite_on_acquire(
    conn: &mut SqliteConnection,
    meta: PoolConnectionMetadata,
) -> Result<bool, sqlx::Error> {
    reusable(conn, &meta)
}

/// When a SQLite connection comes back to the pool.
pub(super) async fn sqlite_on_release(
    conn: &mut SqliteConnection,
    meta: PoolConnectionMetadata,
) -> Result<bool, sqlx::Error> {
    // Locking the handle waits for the connection's thread to finish what was sent before,
    // such as the ROLLBACK of a dropped transaction: what follows is the state after it.
    let in_transaction = {
        let mut handle = conn.lock_handle().await?;
        // SAFETY: the handle is a live connection, locked away from its thread while this
        // runs; sqlite3_get_autocommit only reads a flag.
        unsafe { libsqlite3_sys::sqlite3_get_autocommit(handle.as_raw_handle().as_ptr()) == 0 }
    };
    if !reusable(conn, &meta)? {
        return Ok(false);
    }
    if in_transaction {
        return refuse("SQLite has a transaction open on it");
    }
    Ok(true)
}

/// Before an idle PostgreSQL connection is handed out, and when one comes back. The server
/// ends a transaction whose COMMIT failed (a ROLLBACK after it is only a warning), and sqlx
/// does not expose what the server last said about the transaction, so sqlx's count is what
/// is checked.
pub(super) async fn postgres(
    conn: &mut PgConnection,
    meta: PoolConnectionMetadata,
) -> Result<bool, sqlx::Error> {
    reusable(conn, &meta)
}
