//! The database pool: SQLite (embedded default) or PostgreSQL, chosen by `DATABASE_URL`.
//!
//! # When a COMMIT or ROLLBACK fails
//!
//! sea-orm's `DatabaseTransaction` owns a pooled sqlx connection. When COMMIT fails, its
//! `commit` returns the error and its `Drop` sends a ROLLBACK without waiting for the answer
//! (`start_rollback`); the connection then goes back to the pool, whose ping on return says
//! nothing about transactions. sqlx counts transactions itself (`transaction_depth`) and
//! lowers the count only when its COMMIT or ROLLBACK succeeds (on SQLite; PostgreSQL's
//! `start_rollback` lowers it before the answer).
//!
//! SQLite ends a transaction by itself when writing or committing fails with a full disk or
//! an I/O error (`sqlite3VdbeHalt` rolls everything back); it keeps it open after a deferred
//! foreign key or a busy lock stops COMMIT. In the first case the ROLLBACK fails ("no
//! transaction is active"), sqlx keeps counting one transaction, and the connection is pooled
//! in that state. sea-orm then begins the next transaction on it as `SAVEPOINT` (plain, not
//! `BEGIN IMMEDIATE`), which SQLite runs as a new deferred transaction. Its commit is a
//! `RELEASE`, which commits only while that savepoint is the outermost; once a transaction on
//! that connection rolls back (`ROLLBACK TO` keeps SQLite's transaction, and its write lock,
//! open), every later "commit" on it only releases a nested savepoint: acknowledged, never
//! committed, lost on close, while every other connection waits for the lock and fails with
//! "database is locked". So a full disk once lost hundreds of acknowledged sign-ups and
//! stopped every write until a restart.
//!
//! PostgreSQL ends a transaction whose COMMIT failed, and a ROLLBACK outside a transaction
//! is only a warning, so its connections came back usable; but a transaction in which a
//! statement failed is aborted, and COMMIT answers it with ROLLBACK, not with an error.
//!
//! So (see `reuse`): a connection is never handed out again after a COMMIT or ROLLBACK
//! failed, nor while sqlx or SQLite counts it inside a transaction; and a `Tx` in which a
//! statement failed never commits. A `Tx` dropped without committing rolls back in sea-orm's
//! `Drop`, whose failure nobody hears of: the checks on return catch what it leaves.

pub mod keyset;
mod reuse;
pub mod sql;

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::postgres::PgSslMode;
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend,
    DbErr, ExecResult, QueryResult, SqliteTransactionMode, Statement, TransactionOptions,
    TransactionTrait,
};

use crate::effects::Effects;

/// Opens a pool for `url` and checks that the database answers.
///
/// SQLite runs in WAL mode (readers never wait for the writer) with `synchronous=FULL`,
/// so a commit acknowledged to a client is on disk: it survives `kill -9` and power loss.
/// Reads go through a memory map and a larger page cache, so a big database is not read
/// with a system call per page.
pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    connect_counting(url, || {}).await
}

/// As [`connect`], calling `count` once for every SQL statement the pool runs
/// (`kith_sql_statements_total` in `/metrics`).
pub async fn connect_counting(
    url: &str,
    count: impl Fn() + Send + Sync + 'static,
) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(url);
    options
        .sqlx_logging(false)
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(10))
        // A busy, healthy pool pings nothing: a ping on every acquire was a round trip per
        // statement. A connection idle this long is pinged before use.
        .test_before_acquire_if_idle_for(IDLE_BEFORE_PING);
    reuse::start_clock();
    if url.starts_with("sqlite:") {
        options
            .max_connections(8)
            .min_connections(1)
            .map_sqlx_sqlite_opts(|o| {
                o.journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Full)
                    .foreign_keys(true)
                    .busy_timeout(Duration::from_secs(10))
                    .pragma("mmap_size", "1073741824")
                    .pragma("cache_size", "-32768")
            })
            .map_sqlx_sqlite_before_acquire(|conn, meta| {
                Box::pin(reuse::sqlite_on_acquire(conn, meta))
            })
            .map_sqlx_sqlite_pool_opts(|pool| {
                pool.after_connect(|conn, _| Box::pin(sqlite_plans_stably(conn)))
                    .after_release(|conn, meta| Box::pin(reuse::sqlite_on_release(conn, meta)))
            });
    } else {
        // One closure: sea-orm keeps only the last one given.
        let plain = plain_text_by_default(url);
        options.map_sqlx_postgres_opts(move |o| {
            // Kith's statements have stable shapes and are prepared once per connection; a
            // generic plan is made once, where a custom plan was made again at every
            // execution (2.6 ms of planning for the event search, more than running it). A
            // partial index is then used only by a statement that writes its condition
            // literally, as the event search does.
            //
            // Index reads are costed as reads from memory or SSD (`random_page_cost` 1.1, not
            // the default 4, which prices a disk seek): at 4 the hosts of 21 events were
            // joined by hashing the whole users table on every request (0.75 ms of
            // PostgreSQL's time, where 21 index lookups took 0.1 ms).
            let o = o.options([
                ("plan_cache_mode", "force_generic_plan"),
                ("random_page_cost", "1.1"),
            ]);
            // TLS to a server on this machine protects nothing and cost a fifth of the
            // server's CPU; a URL with its own `sslmode` is obeyed.
            if plain {
                o.ssl_mode(PgSslMode::Disable)
            } else {
                o
            }
        });
        options
            .max_connections(16)
            .min_connections(1)
            .map_sqlx_postgres_before_acquire(|conn, meta| Box::pin(reuse::postgres(conn, meta)))
            .map_sqlx_postgres_pool_opts(|pool| {
                pool.after_release(|conn, meta| Box::pin(reuse::postgres(conn, meta)))
            });
    }
    let mut db = Database::connect(options).await?;
    db.set_metric_callback(move |_| count());
    db.execute_unprepared("SELECT 1").await?;
    Ok(db)
}

/// Makes a new SQLite connection plan statements without looking at the values bound to
/// them (SQLite's query planner stability guarantee, `SQLITE_DBCONFIG_ENABLE_QPSG`).
///
/// Without it SQLite reads a bound `LIMIT` while planning, and binding a new value to a
/// parameter the plan read expires the statement: every paged list (`LIMIT ?`) was parsed
/// and planned again at every run, a seventh of the server's CPU for the home screen
/// (`sqlite3Reprepare` in a profile). Kith's statements write literally what a plan may
/// depend on (the partial index's `status = 'SCHEDULED'`), as PostgreSQL's generic plans
/// need too.
async fn sqlite_plans_stably(
    conn: &mut sea_orm::sqlx::SqliteConnection,
) -> Result<(), sea_orm::sqlx::Error> {
    let mut handle = conn.lock_handle().await?;
    // SAFETY: the handle is a live connection, locked away from its thread while this runs;
    // the call sets a flag of the connection.
    let rc = unsafe {
        libsqlite3_sys::sqlite3_db_config(
            handle.as_raw_handle().as_ptr(),
            libsqlite3_sys::SQLITE_DBCONFIG_ENABLE_QPSG,
            1 as std::ffi::c_int,
            std::ptr::null_mut::<std::ffi::c_int>(),
        )
    };
    if rc != libsqlite3_sys::SQLITE_OK {
        return Err(sea_orm::sqlx::Error::Configuration(
            format!("SQLite refused the query planner stability guarantee (error {rc})").into(),
        ));
    }
    Ok(())
}

/// How long a pooled connection may sit idle before it is pinged on its next use.
const IDLE_BEFORE_PING: Duration = Duration::from_secs(60);

/// Whether a PostgreSQL URL names a server on this machine and says nothing of `sslmode`.
fn plain_text_by_default(url: &str) -> bool {
    let Ok(parsed) = url::Url::parse(url) else {
        return false;
    };
    // `postgres:` is not a scheme the URL standard knows, so its host is opaque text:
    // `127.0.0.1` arrives as a domain, not as an address.
    let local = match parsed.host() {
        None => true,
        Some(url::Host::Domain(name)) => {
            // An empty host is the default Unix socket.
            name.is_empty()
                || name == "localhost"
                || name
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        }
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
    };
    local && !parsed.query_pairs().any(|(key, _)| key == "sslmode")
}

/// Applies pending migrations. On PostgreSQL, under an advisory lock: processes starting at
/// once (replicas in a rolling deploy) would otherwise apply the same migration together,
/// and all but one fail (`duplicate key value violates unique constraint
/// "pg_type_typname_nsp_index"` when two create the same table). The others wait, then find
/// nothing pending. SQLite serves one process, so nothing races there.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    if db.get_database_backend() != DbBackend::Postgres {
        return Migrator::up(db, None).await;
    }
    let lock = MigrationLock::acquire(db).await?;
    let applied = Migrator::up(db, None).await;
    lock.release().await;
    applied
}

/// The key of the advisory lock migrations run under (the trust computation uses 7120551).
const MIGRATION_LOCK_KEY: i64 = 7_120_552;

/// A session-level advisory lock held on a connection of its own, taken out of the pool.
/// An error, a panic or a cancelled future between `acquire` and `release` drops the
/// connection, which ends its session and so releases the lock; a connection returned to
/// the pool would have kept the lock for as long as the pool kept the connection.
struct MigrationLock(sea_orm::sqlx::PgConnection);

impl MigrationLock {
    async fn acquire(db: &DatabaseConnection) -> Result<MigrationLock, DbErr> {
        use sea_orm::sqlx;
        let mut connection = db
            .get_postgres_connection_pool()
            .acquire()
            .await
            .map_err(|e| DbErr::Conn(sqlx_error(e)))?
            .detach();
        let free: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
            .bind(MIGRATION_LOCK_KEY)
            .fetch_one(&mut connection)
            .await
            .map_err(|e| DbErr::Query(sqlx_error(e)))?;
        if !free {
            tracing::info!("another process is applying migrations; waiting for it to finish");
            sqlx::query("SELECT pg_advisory_lock($1)")
                .bind(MIGRATION_LOCK_KEY)
                .execute(&mut connection)
                .await
                .map_err(|e| DbErr::Exec(sqlx_error(e)))?;
        }
        Ok(MigrationLock(connection))
    }

    /// Unlocks and closes the connection (closing alone would release the lock; unlocking
    /// first says so, and does not rely on the server noticing).
    async fn release(self) {
        use sea_orm::sqlx::{self, Connection};
        let mut connection = self.0;
        if let Err(err) = sqlx::query("SELECT pg_advisory_unlock($1)")
            .bind(MIGRATION_LOCK_KEY)
            .execute(&mut connection)
            .await
        {
            tracing::warn!("unlocking migrations: {err}; closing the connection releases the lock");
        }
        let _ = connection.close().await;
    }
}

fn sqlx_error(err: sea_orm::sqlx::Error) -> sea_orm::RuntimeErr {
    sea_orm::RuntimeErr::SqlxError(std::sync::Arc::new(err))
}

/// A write transaction, and what must happen once it commits (see `effects`).
///
/// On SQLite it takes the write lock at `BEGIN` (`BEGIN IMMEDIATE`): a deferred transaction
/// that reads and then writes fails with "database is locked" when another writer got in
/// between, whereas an immediate one waits its turn under the busy timeout.
pub struct Tx {
    txn: DatabaseTransaction,
    effects: Effects,
    /// A statement failed: the transaction may be gone or aborted, and must not commit.
    failed: AtomicBool,
}

impl Tx {
    pub async fn begin(db: &DatabaseConnection) -> Result<Tx, DbErr> {
        let txn = db
            .begin_with_options(TransactionOptions {
                sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                ..Default::default()
            })
            .await?;
        Ok(Tx {
            txn,
            effects: Effects::default(),
            failed: AtomicBool::new(false),
        })
    }

    /// What the change so far asks to happen after the commit.
    pub fn effects(&mut self) -> &mut Effects {
        &mut self.effects
    }

    /// Commits, and hands over the effects, which only now may happen. An error means
    /// nothing was committed (or, if the database failed while answering, that it cannot be
    /// known): the caller must not report success.
    ///
    /// After a statement failed it rolls back instead and says so: the caller may have gone
    /// on past the error, and what it would commit is not the change it meant.
    pub async fn commit(self) -> Result<Effects, DbErr> {
        let Tx {
            txn,
            effects,
            failed,
        } = self;
        if failed.into_inner() {
            if let Err(err) = txn.rollback().await {
                connection_failed("ROLLBACK", &err);
            }
            return Err(DbErr::Custom(
                "a statement of the transaction failed: rolled back, not committed".to_owned(),
            ));
        }
        if let Err(err) = txn.commit().await {
            connection_failed("COMMIT", &err);
            return Err(err);
        }
        Ok(effects)
    }

    /// Passes a result through, remembering a failure (see `commit`).
    fn noted<T>(&self, result: Result<T, DbErr>) -> Result<T, DbErr> {
        if result.is_err() {
            self.failed.store(true, Ordering::Relaxed);
        }
        result
    }
}

/// The connection's state is unknown after `what` failed, and sea-orm has already given it
/// back to the pool: every connection open now is closed instead of reused (`reuse`).
fn connection_failed(what: &'static str, err: &DbErr) {
    reuse::retire_open_connections();
    tracing::warn!(error = %err, "{what} failed; the pool's connections open now will be closed, not reused");
}

#[async_trait::async_trait]
impl ConnectionTrait for Tx {
    fn get_database_backend(&self) -> DbBackend {
        self.txn.get_database_backend()
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        self.noted(self.txn.execute_raw(stmt).await)
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.noted(self.txn.execute_unprepared(sql).await)
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        self.noted(self.txn.query_one_raw(stmt).await)
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.noted(self.txn.query_all_raw(stmt).await)
    }

    fn support_returning(&self) -> bool {
        self.txn.support_returning()
    }
}

#[cfg(test)]
mod tests {
    use super::{connect, plain_text_by_default};

    #[tokio::test]
    async fn sqlite_connections_plan_without_reading_bound_values() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("k.db").display());
        let db = connect(&url).await.unwrap();
        let mut conn = db.get_sqlite_connection_pool().acquire().await.unwrap();
        let mut handle = conn.lock_handle().await.unwrap();
        let mut on: std::ffi::c_int = -1;
        // SAFETY: a live connection locked for this call; -1 asks for the setting only.
        let rc = unsafe {
            libsqlite3_sys::sqlite3_db_config(
                handle.as_raw_handle().as_ptr(),
                libsqlite3_sys::SQLITE_DBCONFIG_ENABLE_QPSG,
                -1 as std::ffi::c_int,
                &mut on as *mut std::ffi::c_int,
            )
        };
        assert_eq!(rc, libsqlite3_sys::SQLITE_OK);
        assert_eq!(on, 1);
    }

    #[test]
    fn a_server_on_this_machine_is_reached_without_tls_unless_the_url_asks() {
        for url in [
            "postgres://postgres@127.0.0.1:5432/kith",
            "postgres://postgres@localhost/kith",
            "postgres://postgres@[::1]:5432/kith",
            "postgresql://kith:secret@127.0.0.1/kith?application_name=kith",
            "postgres:///kith?host=/run/postgresql",
        ] {
            assert!(plain_text_by_default(url), "{url}");
        }
        for url in [
            "postgres://postgres@127.0.0.1:5432/kith?sslmode=require",
            "postgres://postgres@db.example.com/kith",
            "postgres://postgres@10.0.0.5/kith",
        ] {
            assert!(!plain_text_by_default(url), "{url}");
        }
    }
}
