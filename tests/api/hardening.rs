//! What an attacker-minded pass found: connections that never finish a request, a flood of
//! connections, and `/metrics` on the public port.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
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

async fn health(app: &TestApp) -> StatusCode {
    app.client
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
