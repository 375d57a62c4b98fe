//! What an attacker-minded pass found: connections that never finish a request, a flood of
//! connections, `/metrics` on the public port, and processes racing in the migrations.

use std::process::Stdio;
use std::time::Duration;

use migration::MigratorTrait;
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Database, Statement};
use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::helpers::*;

/// How long a test waits for something the server does within a second or two of its
/// settings, before calling it a failure rather than hanging.
const GUARD: Duration = Duration::from_secs(60);
/// How long a connection beyond the limit is watched to show that it is not answered.
const NOT_ANSWERED_WITHIN: Duration = Duration::from_millis(500);

/// `host:port` of an `http://host:port` address.
fn host(address: &str) -> &str {
    address.trim_start_matches("http://")
}

/// Reads until the server closes the connection (an end of file or a reset) and returns
/// what it sent before.
async fn until_closed(stream: &mut TcpStream) -> String {
    let mut received = Vec::new();
    let closed = tokio::time::timeout(GUARD, async {
        let mut buffer = [0u8; 4096];
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(n) => received.extend_from_slice(&buffer[..n]),
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "the server kept the connection open");
    String::from_utf8_lossy(&received).into_owned()
}

/// A connection that has asked for `/healthz` and closes after the answer.
async fn asking_for_health(address: &str) -> TcpStream {
    let mut stream = TcpStream::connect(host(address)).await.unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: kith\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    stream
}

/// Whether the server leaves `stream` unanswered for a while.
async fn unanswered(stream: &mut TcpStream) -> bool {
    let mut byte = [0u8; 1];
    tokio::time::timeout(NOT_ANSWERED_WITHIN, stream.read(&mut byte))
        .await
        .is_err()
}

/// `/healthz` on a connection of its own: a pooled one, idle past a short header timeout,
/// may be closed by the server just as it is reused (hyper's IncompleteMessage, seen once on
/// a loaded machine).
async fn health(app: &TestApp) -> StatusCode {
    reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap()
        .get(app.url("/healthz"))
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn silent_half_sent_and_idle_connections_are_closed_after_the_header_timeout() {
    let app = spawn_app_with(&[("KITH_HEADER_TIMEOUT_SECONDS", "1")]).await;
    let mut silent = TcpStream::connect(host(&app.address)).await.unwrap();
    let mut half_sent = TcpStream::connect(host(&app.address)).await.unwrap();
    half_sent
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: kith\r\nX-Slow: ")
        .await
        .unwrap();
    let mut kept_alive = TcpStream::connect(host(&app.address)).await.unwrap();
    kept_alive
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: kith\r\n\r\n")
        .await
        .unwrap();

    // Meanwhile everyone else is served.
    assert_eq!(health(&app).await, StatusCode::OK);

    assert_eq!(until_closed(&mut silent).await, "");
    assert_eq!(until_closed(&mut half_sent).await, "");
    // Answered, then closed for sending nothing more.
    let answer = until_closed(&mut kept_alive).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        !answer.to_lowercase().contains("connection: close"),
        "{answer}"
    );
    assert_eq!(health(&app).await, StatusCode::OK);
}

#[tokio::test]
async fn a_body_that_does_not_arrive_in_time_gets_408() {
    let app = spawn_app_with(&[("KITH_BODY_TIMEOUT_SECONDS", "1")]).await;
    let mut slow = TcpStream::connect(host(&app.address)).await.unwrap();
    slow.write_all(
        b"POST /graphql HTTP/1.1\r\nHost: kith\r\nContent-Type: application/json\r\n\
          Content-Length: 100\r\n\r\n{\"query\": \"{ viewer",
    )
    .await
    .unwrap();
    let answer = until_closed(&mut slow).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("BAD_USER_INPUT"), "{answer}");

    // A body sent at once is still read, and one over the limit still refused.
    let body = app.graphql(None, "{ viewer { email } }", json!({})).await;
    assert!(body["data"]["viewer"].is_null(), "{body}");
    let too_big = app
        .client
        .post(app.url("/graphql"))
        .header("content-type", "application/json")
        .body(" ".repeat(2 * 1024 * 1024))
        .send()
        .await
        .unwrap();
    assert_eq!(too_big.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn connections_beyond_the_limit_wait_until_one_closes() {
    let app = spawn_app_with(&[("KITH_MAX_CONNECTIONS", "3")]).await;
    let mut idle = Vec::new();
    for _ in 0..3 {
        idle.push(TcpStream::connect(host(&app.address)).await.unwrap());
    }
    let mut waiting = asking_for_health(&app.address).await;
    assert!(
        unanswered(&mut waiting).await,
        "answered while every connection slot was taken"
    );

    drop(idle.pop());
    let answer = until_closed(&mut waiting).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");

    drop(idle);
    assert_eq!(health(&app).await, StatusCode::OK);
    let body = app.graphql(None, "{ viewer { email } }", json!({})).await;
    assert!(body["data"]["viewer"].is_null(), "{body}");
}

#[tokio::test]
async fn a_websocket_keeps_its_connection_slot_until_it_closes() {
    let app = spawn_app_with(&[("KITH_MAX_CONNECTIONS", "2")]).await;
    let url = format!("ws://{}/graphql/ws", host(&app.address));
    let mut request = url.into_client_request().unwrap();
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    let (ws, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let idle = TcpStream::connect(host(&app.address)).await.unwrap();
    let mut waiting = asking_for_health(&app.address).await;
    assert!(
        unanswered(&mut waiting).await,
        "answered while a WebSocket and an idle connection held both slots"
    );

    drop(ws);
    let answer = until_closed(&mut waiting).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    drop(idle);
}

/// The app with its own settings, and where it serves `/metrics` on a listener of its own.
struct Served {
    address: String,
    metrics_address: Option<String>,
    _stop: oneshot::Sender<()>,
    _dir: tempfile::TempDir,
}

async fn serve_with(settings: &[(&str, &str)]) -> Served {
    let (database_url, dir) = fresh_database().await;
    let mut env = std::collections::HashMap::from([
        ("DATABASE_URL".to_owned(), database_url),
        ("KITH_JWT_SECRET".to_owned(), TEST_SECRET.to_owned()),
    ]);
    for (key, value) in settings {
        env.insert(key.to_string(), value.to_string());
    }
    let config =
        kith::config::Config::from_lookup(|k| env.get(k).cloned()).expect("valid test config");
    let app = kith::start(config).await.expect("app starts");
    let metrics_address = app.metrics_address().map(|a| format!("http://{a}"));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(kith::serve(app, listener, async move {
        let _ = stopped.await;
    }));
    Served {
        address,
        metrics_address,
        _stop: stop,
        _dir: dir,
    }
}

async fn get(url: String) -> (StatusCode, String) {
    let response = reqwest::get(url).await.unwrap();
    (response.status(), response.text().await.unwrap())
}

#[tokio::test]
async fn metrics_are_off_the_api_port_in_production() {
    let dev = serve_with(&[]).await;
    assert_eq!(dev.metrics_address, None);
    let (status, _) = get(format!("{}/metrics", dev.address)).await;
    assert_eq!(status, StatusCode::OK);

    let prod = serve_with(&[("KITH_ENV", "production")]).await;
    assert_eq!(prod.metrics_address, None);
    let (status, _) = get(format!("{}/metrics", prod.address)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = get(format!("{}/healthz", prod.address)).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn the_metrics_listener_serves_metrics_and_nothing_else() {
    for mode in ["production", "development"] {
        let app = serve_with(&[("KITH_ENV", mode), ("KITH_METRICS_LISTEN", "127.0.0.1:0")]).await;
        let metrics = app.metrics_address.clone().expect("a metrics listener");
        let answer: serde_json::Value = reqwest::Client::new()
            .post(format!("{}/graphql", app.address))
            .json(&json!({ "query": "query Probe { viewer { email } }" }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(answer["errors"].is_null(), "{answer}");

        let (status, text) = get(format!("{metrics}/metrics")).await;
        assert_eq!(status, StatusCode::OK, "{mode}");
        assert!(
            text.contains("kith_graphql_requests_total{operation=\"Probe\",outcome=\"ok\"} 1"),
            "{mode}: {text}"
        );
        for path in ["/graphql", "/healthz"] {
            let (status, _) = get(format!("{metrics}{path}")).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{mode}: {path}");
        }
        let (status, _) = get(format!("{}/metrics", app.address)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{mode}");
    }
}

/// `kith` with a clean environment, as an operator runs it.
fn kith(database_url: &str) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_kith"));
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", database_url)
        .env("KITH_JWT_SECRET", TEST_SECRET)
        .env("KITH_LISTEN", "127.0.0.1:0")
        .kill_on_drop(true);
    command
}

/// Several processes on one database is a PostgreSQL arrangement: SQLite serves one.
fn on_postgres() -> bool {
    std::env::var("TEST_DATABASE_URL").is_ok_and(|url| !url.is_empty())
}

#[tokio::test]
async fn three_processes_migrating_an_empty_database_at_once_all_succeed() {
    if !on_postgres() {
        return;
    }
    let (url, _dir) = fresh_database().await;
    let runs: Vec<_> = (0..3)
        .map(|_| {
            kith(&url)
                .arg("migrate")
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for run in runs {
        let output = run.wait_with_output().await.unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    let db = Database::connect(&url).await.unwrap();
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT version FROM seaql_migrations ORDER BY version",
        ))
        .await
        .unwrap();
    let applied: Vec<String> = rows
        .iter()
        .map(|row| row.try_get("", "version").unwrap())
        .collect();
    let mut all: Vec<String> = migration::Migrator::migrations()
        .iter()
        .map(|m| m.name().to_owned())
        .collect();
    all.sort();
    assert_eq!(applied, all);
    db.close().await.unwrap();
}

#[tokio::test]
async fn three_servers_starting_at_once_on_an_empty_database_all_serve() {
    if !on_postgres() {
        return;
    }
    let (url, _dir) = fresh_database().await;
    let mut servers = Vec::new();
    for _ in 0..3 {
        let child = kith(&url)
            .arg("serve")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        servers.push(child);
    }
    let mut addresses = Vec::new();
    for server in &mut servers {
        addresses.push(listening_address(server.stderr.take().unwrap()));
    }
    for address in addresses {
        let address = tokio::time::timeout(GUARD, address)
            .await
            .expect("a server starts within the guard")
            .unwrap()
            .unwrap_or_else(|log| panic!("a server stopped before listening: {log:#?}"));
        let (status, _) = get(format!("{address}/healthz")).await;
        assert_eq!(status, StatusCode::OK);
    }
    for mut server in servers {
        server.kill().await.unwrap();
    }
}

/// The address a starting `kith serve` logs, or (as the error) its log when it stops
/// before listening.
fn listening_address(
    stderr: tokio::process::ChildStderr,
) -> oneshot::Receiver<Result<String, Vec<String>>> {
    let (tx, rx) = oneshot::channel();
    tokio::spawn(async move {
        let mut lines = tokio::io::BufReader::new(stderr).lines();
        let mut log = Vec::new();
        let mut tx = Some(tx);
        // Read to the end, so the server never blocks on a full pipe.
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some(at) = line.find("listening on ")
                && let Some(tx) = tx.take()
            {
                let _ = tx.send(Ok(line[at + "listening on ".len()..].trim().to_owned()));
            }
            log.push(line);
        }
        if let Some(tx) = tx {
            let _ = tx.send(Err(log));
        }
    });
    rx
}
