//! The database pool: SQLite (embedded default) or PostgreSQL, chosen by `DATABASE_URL`.

use std::time::Duration;

use migration::{Migrator, MigratorTrait};
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
        .acquire_timeout(Duration::from_secs(10));
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
            });
    } else {
        options.max_connections(16).min_connections(1);
    }
    let mut db = Database::connect(options).await?;
    db.set_metric_callback(move |_| count());
    db.execute_unprepared("SELECT 1").await?;
    Ok(db)
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
        })
    }

    /// What the change so far asks to happen after the commit.
    pub fn effects(&mut self) -> &mut Effects {
        &mut self.effects
    }

    /// Commits, and hands over the effects, which only now may happen.
    pub async fn commit(self) -> Result<Effects, DbErr> {
        self.txn.commit().await?;
        Ok(self.effects)
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for Tx {
    fn get_database_backend(&self) -> DbBackend {
        self.txn.get_database_backend()
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        self.txn.execute_raw(stmt).await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.txn.execute_unprepared(sql).await
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        self.txn.query_one_raw(stmt).await
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.txn.query_all_raw(stmt).await
    }

    fn support_returning(&self) -> bool {
        self.txn.support_returning()
    }
}
