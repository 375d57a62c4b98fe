//! What an attacker-minded pass found: connections that never finish a request, and a
//! flood of connections.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
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
