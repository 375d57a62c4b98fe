//! Durability when the database refuses a write: a COMMIT that fails, a transaction the
//! database ended by itself (so that the ROLLBACK after it fails too), a statement that
//! failed inside a transaction, and a full disk. Whatever fails, the client hears an error,
//! every write it was told succeeded is on disk when the database is opened afresh, and the
//! writes after it neither nest inside a leftover transaction nor wait on its lock.

use std::collections::HashSet;
use std::fs::File;
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use futures::future::join_all;
use kith::db::Tx;
use sea_orm::sqlx::{self, pool::PoolConnection};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement};
use serde_json::json;
use tempfile::TempDir;

use crate::helpers::*;

const SIGN_UP: &str =
    "mutation($input: SignUpInput!) { signUp(input: $input) { accessToken user { id } } }";

/// Signs `email` up: `Ok` when the server answered with tokens, else the error's code.
async fn sign_up_outcome(app: &TestApp, email: &str) -> Result<(), String> {
    let body = app
        .graphql(
            None,
            SIGN_UP,
            json!({ "input": { "email": email, "password": PASSWORD, "displayName": "Durable" } }),
        )
        .await;
    if body["data"]["signUp"]["accessToken"].is_string() {
        return Ok(());
    }
    Err(error_code(&body).to_owned())
}

/// New sign-ups, each followed by one with the address just taken (a transaction that rolls
/// back), one at a time so that they pass over the pooled connections in turn; then eight at
/// once. Each new one must be acknowledged and each repeat be CONFLICT: a write that nested
/// inside a leftover transaction, or waited on its lock ("database is locked"), shows here
/// or when the database is reopened. Returns the acknowledged addresses.
async fn sign_ups_with_rollbacks(app: &TestApp, tag: &str) -> Vec<String> {
    let mut acknowledged = Vec::new();
    for i in 0..12 {
        let email = format!("{tag}-{i}@example.com");
        assert_eq!(sign_up_outcome(app, &email).await, Ok(()), "{email}");
        let again = sign_up_outcome(app, &email).await;
        assert_eq!(again, Err("CONFLICT".to_owned()), "{email} again");
        acknowledged.push(email);
    }
    let batch: Vec<String> = (12..20).map(|i| format!("{tag}-{i}@example.com")).collect();
    let outcomes = join_all(batch.iter().map(|email| sign_up_outcome(app, email))).await;
    for (email, outcome) in batch.iter().zip(outcomes) {
        assert_eq!(outcome, Ok(()), "{email}");
    }
    acknowledged.extend(batch);
    acknowledged
}

/// Stops the app as SIGTERM does, closes its pool (a transaction still open on it is rolled
/// back, as a crash would lose it) and opens the database afresh: what this connection sees
/// is what a restarted server finds.
async fn stop_and_reopen(app: &mut TestApp) -> DatabaseConnection {
    app.shut_down();
    app.state.db.close_by_ref().await.unwrap();
    Database::connect(&app.database_url).await.unwrap()
}

async fn stored_emails(db: &DatabaseConnection) -> HashSet<String> {
    let sql = Statement::from_string(db.get_database_backend(), "SELECT email FROM users");
    db.query_all_raw(sql)
        .await
        .unwrap()
        .iter()
        .map(|row| row.try_get::<String>("", "email").unwrap())
        .collect()
}

/// Every acknowledged sign-up is in the reopened database.
async fn assert_all_stored(db: &DatabaseConnection, acknowledged: &[String]) {
    let stored = stored_emails(db).await;
    let lost: Vec<&String> = acknowledged
        .iter()
        .filter(|email| !stored.contains(*email))
        .collect();
    assert!(
        lost.is_empty(),
        "{} of {} acknowledged sign-ups are lost: {lost:?}",
        lost.len(),
        acknowledged.len()
    );
}

async fn probe_ids(db: &DatabaseConnection) -> Vec<i64> {
    let sql = Statement::from_string(
        db.get_database_backend(),
        "SELECT CAST(id AS BIGINT) AS id FROM durability_probe ORDER BY id",
    );
    db.query_all_raw(sql)
        .await
        .unwrap()
        .iter()
        .map(|row| row.try_get::<i64>("", "id").unwrap())
        .collect()
}

/// Marks the connection `tx` runs on, to tell it from the pool's others later: on SQLite by a
/// page-cache size no other connection has (a setting of the connection, which no rollback
/// undoes), on PostgreSQL by its server process.
async fn mark_connection(tx: &Tx, mark: i64) -> i64 {
    if tx.get_database_backend() == DbBackend::Sqlite {
        let pragma = format!("PRAGMA cache_size = {mark}");
        tx.execute_unprepared(&pragma).await.unwrap();
        return mark;
    }
    let sql = Statement::from_string(
        DbBackend::Postgres,
        "SELECT pg_backend_pid()::bigint AS pid",
    );
    let row = tx.query_one_raw(sql).await.unwrap().unwrap();
    row.try_get("", "pid").unwrap()
}

/// The marks of every connection the pool hands out now.
async fn pooled_marks(db: &DatabaseConnection) -> Vec<i64> {
    let mut marks = Vec::new();
    if db.get_database_backend() == DbBackend::Sqlite {
        for mut conn in take_all(db.get_sqlite_connection_pool()).await {
            let mark = sqlx::query_scalar::<_, i64>("PRAGMA cache_size")
                .fetch_one(&mut *conn)
                .await
                .unwrap();
            marks.push(mark);
        }
        return marks;
    }
    for mut conn in take_all(db.get_postgres_connection_pool()).await {
        let pid = sqlx::query_scalar::<_, i64>("SELECT pg_backend_pid()::bigint")
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        marks.push(pid);
    }
    marks
}

/// Connections from the pool, all held at once, until it has given as many as it may open or
/// has none to give for a while (the change bus's listener keeps one on PostgreSQL): so every
/// idle one is taken, and goes through the pool's checks.
async fn take_all<DB: sqlx::Database>(pool: &sqlx::Pool<DB>) -> Vec<PoolConnection<DB>> {
    let mut held = Vec::new();
    while held.len() < pool.options().get_max_connections() as usize {
        match tokio::time::timeout(Duration::from_secs(2), pool.acquire()).await {
            Ok(conn) => held.push(conn.unwrap()),
            Err(_) => break,
        }
    }
    held
}

fn assert_none_reused(pooled: &[i64], failed: &[i64]) {
    let reused: Vec<&i64> = pooled.iter().filter(|m| failed.contains(m)).collect();
    assert!(
        reused.is_empty(),
        "connections whose transaction failed are back in the pool: {reused:?} (failed {failed:?}, pooled {pooled:?})"
    );
}

#[tokio::test]
async fn a_commit_that_fails_is_an_error_and_its_connection_is_not_used_again() {
    let mut app = spawn_app().await;
    let db = app.state.db.clone();
    // A row whose parent must exist by COMMIT: COMMIT itself fails. On SQLite the
    // transaction stays open after it; PostgreSQL ends it.
    db.execute_unprepared("CREATE TABLE durability_parent (id INTEGER PRIMARY KEY)")
        .await
        .unwrap();
    db.execute_unprepared(
        "CREATE TABLE durability_probe (id INTEGER PRIMARY KEY, parent_id INTEGER NOT NULL \
         REFERENCES durability_parent (id) DEFERRABLE INITIALLY DEFERRED)",
    )
    .await
    .unwrap();
    let mut failed = Vec::new();
    for round in 0..3 {
        let tx = Tx::begin(&db).await.unwrap();
        failed.push(mark_connection(&tx, -1001 - round).await);
        let orphan = format!("INSERT INTO durability_probe (id, parent_id) VALUES ({round}, 404)");
        tx.execute_unprepared(&orphan)
            .await
            .expect("a deferred key is checked at COMMIT");
        assert!(tx.commit().await.is_err(), "an orphan row was committed");
    }
    assert_none_reused(&pooled_marks(&db).await, &failed);

    let acknowledged = sign_ups_with_rollbacks(&app, "after-commit").await;
    let reopened = stop_and_reopen(&mut app).await;
    assert_all_stored(&reopened, &acknowledged).await;
    assert_eq!(probe_ids(&reopened).await, Vec::<i64>::new());
}

/// SQLite ends a transaction by itself on some errors: a full disk or an I/O error while
/// writing or committing, or RAISE(ROLLBACK) in a trigger, used here. sqlx still counts the
/// transaction as open, so the ROLLBACK (or COMMIT) after it fails.
#[tokio::test]
async fn a_transaction_sqlite_ended_by_itself_leaves_no_connection_behind() {
    let mut app = spawn_app().await;
    let db = app.state.db.clone();
    if db.get_database_backend() != DbBackend::Sqlite {
        eprintln!("skipped: PostgreSQL never ends a transaction behind its client's back");
        return;
    }
    db.execute_unprepared("CREATE TABLE durability_probe (id INTEGER PRIMARY KEY)")
        .await
        .unwrap();
    db.execute_unprepared(
        "CREATE TRIGGER durability_probe_rollback BEFORE INSERT ON durability_probe \
         WHEN NEW.id < 0 BEGIN SELECT RAISE(ROLLBACK, 'injected'); END",
    )
    .await
    .unwrap();
    let mut failed = Vec::new();
    // Dropped after the failure, as a domain function returning its error drops it.
    let tx = Tx::begin(&db).await.unwrap();
    failed.push(mark_connection(&tx, -2001).await);
    tx.execute_unprepared("INSERT INTO durability_probe (id) VALUES (1)")
        .await
        .unwrap();
    let ended = tx.execute_unprepared("INSERT INTO durability_probe (id) VALUES (-1)");
    assert!(ended.await.is_err());
    drop(tx);
    // Committed after the failure: nothing is left to commit.
    let tx = Tx::begin(&db).await.unwrap();
    failed.push(mark_connection(&tx, -2002).await);
    let ended = tx.execute_unprepared("INSERT INTO durability_probe (id) VALUES (-2)");
    assert!(ended.await.is_err());
    assert!(
        tx.commit().await.is_err(),
        "a rolled-back transaction committed"
    );
    assert_none_reused(&pooled_marks(&db).await, &failed);

    let acknowledged = sign_ups_with_rollbacks(&app, "after-rollback").await;
    let reopened = stop_and_reopen(&mut app).await;
    assert_all_stored(&reopened, &acknowledged).await;
    assert_eq!(probe_ids(&reopened).await, Vec::<i64>::new());
}

/// A caller that ignores a failed statement and commits anyway must hear an error: on
/// PostgreSQL the transaction is aborted and COMMIT would answer ROLLBACK without an error
/// (an acknowledged write that is not there); on SQLite only the statement was undone and
/// the rest would commit, half a change.
#[tokio::test]
async fn a_transaction_in_which_a_statement_failed_does_not_commit() {
    let mut app = spawn_app().await;
    let db = app.state.db.clone();
    db.execute_unprepared("CREATE TABLE durability_probe (id INTEGER PRIMARY KEY)")
        .await
        .unwrap();
    db.execute_unprepared("INSERT INTO durability_probe (id) VALUES (1)")
        .await
        .unwrap();
    let tx = Tx::begin(&db).await.unwrap();
    let duplicate = tx.execute_unprepared("INSERT INTO durability_probe (id) VALUES (1)");
    assert!(duplicate.await.is_err(), "the key is taken");
    let _ = tx
        .execute_unprepared("INSERT INTO durability_probe (id) VALUES (2)")
        .await;
    assert!(tx.commit().await.is_err(), "committed after a failure");

    let acknowledged = sign_ups_with_rollbacks(&app, "after-statement").await;
    let reopened = stop_and_reopen(&mut app).await;
    assert_all_stored(&reopened, &acknowledged).await;
    assert_eq!(probe_ids(&reopened).await, vec![1]);
}

/// A tmpfs of its own, unmounted when dropped.
struct Tmpfs {
    dir: TempDir,
}

impl Tmpfs {
    /// Mounts a tmpfs of `size` (as `mount` takes it: `6m`), or says why it cannot.
    fn mount(size: &str) -> Result<Tmpfs, String> {
        let dir = tempfile::tempdir().unwrap();
        let output = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .output()
            .map_err(|e| e.to_string())?;
        if !output.status.success() {
            return Err(String::from_utf8_lossy(&output.stderr).trim().to_owned());
        }
        Ok(Tmpfs { dir })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

/// Fills the file system with one file, then gives `headroom` bytes of it back.
fn fill_leaving(dir: &Path, headroom: u64) -> PathBuf {
    let path = dir.join("filler");
    let mut file = File::create(&path).unwrap();
    let chunk = vec![0xA5_u8; 64 * 1024];
    loop {
        match file.write(&chunk) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::StorageFull => break,
            Err(e) => panic!("filling {}: {e}", path.display()),
        }
    }
    let len = file.metadata().unwrap().len();
    file.set_len(len.saturating_sub(headroom)).unwrap();
    path
}

/// One client signing up again and again until the server has refused it `enough` times
/// (or `cap` attempts). Returns the acknowledged addresses and the number refused.
async fn sign_up_until_refused(
    app: &TestApp,
    client: usize,
    enough: usize,
    cap: usize,
) -> (Vec<String>, usize) {
    let mut acknowledged = Vec::new();
    let mut refused = 0;
    for n in 0..cap {
        if refused >= enough {
            break;
        }
        let email = format!("full-{client}-{n}@example.com");
        match sign_up_outcome(app, &email).await {
            Ok(()) => acknowledged.push(email),
            Err(code) => {
                assert_eq!(code, "INTERNAL_SERVER_ERROR", "{email}");
                refused += 1;
            }
        }
    }
    (acknowledged, refused)
}

#[tokio::test]
async fn a_full_disk_loses_no_acknowledged_sign_up_and_writes_resume_when_space_returns() {
    if std::env::var("TEST_DATABASE_URL").is_ok_and(|url| !url.is_empty()) {
        eprintln!(
            "skipped: a full disk is tested on SQLite (PostgreSQL's own disk is out of reach)"
        );
        return;
    }
    let tmpfs = match Tmpfs::mount("6m") {
        Ok(tmpfs) => tmpfs,
        Err(why) => {
            eprintln!("skipped: cannot mount a tmpfs to fill ({why}); run the tests as root");
            return;
        }
    };
    let url = format!("sqlite://{}/kith.db?mode=rwc", tmpfs.path().display());
    let mut app = spawn_app_with(&[("DATABASE_URL", &url)]).await;
    // About forty sign-ups' worth of write-ahead log left, then the disk is full.
    let filler = fill_leaving(tmpfs.path(), 1024 * 1024);

    let clients = join_all((0..8).map(|client| sign_up_until_refused(&app, client, 5, 300))).await;
    let refused: usize = clients.iter().map(|(_, refused)| refused).sum();
    assert!(refused > 0, "the disk never filled");
    let mut acknowledged: Vec<String> = clients.into_iter().flat_map(|(ok, _)| ok).collect();

    std::fs::remove_file(filler).unwrap();
    acknowledged.extend(sign_ups_with_rollbacks(&app, "space-again").await);

    let reopened = stop_and_reopen(&mut app).await;
    let check = Statement::from_string(DbBackend::Sqlite, "PRAGMA integrity_check");
    let row = reopened.query_one_raw(check).await.unwrap().unwrap();
    assert_eq!(row.try_get::<String>("", "integrity_check").unwrap(), "ok");
    assert_all_stored(&reopened, &acknowledged).await;
    reopened.close().await.unwrap();
    drop(app);
}
