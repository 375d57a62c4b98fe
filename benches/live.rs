//! Subscriptions under load: memory per idle subscription, and how long a change takes to
//! reach many subscribers.
//!
//! ```sh
//! cargo bench --bench live                      # SQLite, 10,000 idle and 1,000 live subscribers
//! cargo bench --bench live -- --postgres postgres://postgres@127.0.0.1:5432/kith_bench_live
//! cargo bench --bench live -- --idle 2000 --live 500 --changes 20
//! ```
//!
//! The server is the real `kith` binary (release build) in its own process, so its memory
//! is measured alone (VmRSS from /proc). Members and an event come from `kith seed
//! --synthetic`; their access tokens are minted with the bench's own secret. Each
//! connection subscribes to `eventChanged` of one event (10 connections per member, the
//! per-member cap).
//!
//! Reported:
//! - RSS of the server before and after opening the idle connections, and the difference per
//!   connection;
//! - for each change (an `updateEvent` over HTTP), the delay from sending the mutation to
//!   each subscriber's receipt of the change, p50 and p99 over all subscribers and changes,
//!   and the mutation's own latency (the commit happens within it), so the delay after the
//!   commit is at most the first figure and at least it minus the second.

use std::time::{Duration, Instant};

use chrono::Utc;
use futures::{SinkExt, StreamExt};
use kith::auth::{AccessTokens, Keys};
use kith::graphql::ids::{self, Kind};
use sea_orm::{Database, EntityTrait, QuerySelect};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use uuid::Uuid;

const SECRET: &str = "a bench secret that is long enough for HS256 keys";
const PER_MEMBER: usize = 10;
const SUBSCRIBE: &str =
    "subscription($id: ID!) { eventChanged(eventId: $id) { kind event { id title } } }";
const UPDATE: &str =
    "mutation($id: ID!, $t: String!) { updateEvent(input: { eventId: $id, title: $t }) { id } }";

struct Args {
    postgres: Option<String>,
    idle: usize,
    live: usize,
    changes: usize,
}

fn args() -> Args {
    let mut args = Args {
        postgres: None,
        idle: 10_000,
        live: 1_000,
        changes: 20,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--postgres" => args.postgres = it.next(),
            "--idle" => args.idle = it.next().and_then(|v| v.parse().ok()).expect("--idle N"),
            "--live" => args.live = it.next().and_then(|v| v.parse().ok()).expect("--live N"),
            "--changes" => {
                args.changes = it.next().and_then(|v| v.parse().ok()).expect("--changes N")
            }
            _ => {} // cargo bench passes --bench
        }
    }
    args
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A connection subscribed to the event's changes.
async fn subscriber(address: &str, token: &str, event: &str) -> Ws {
    let mut request = format!("ws://{address}/graphql/ws")
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let init = json!({ "type": "connection_init", "payload": { "accessToken": token } });
    ws.send(Message::Text(init.to_string().into()))
        .await
        .unwrap();
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(t))) if t.contains("connection_ack") => break,
            Some(Ok(Message::Text(_))) => continue,
            other => panic!("no ack: {other:?}"),
        }
    }
    let subscribe = json!({ "type": "subscribe", "id": "1", "payload": { "query": SUBSCRIBE, "variables": { "id": event } } });
    ws.send(Message::Text(subscribe.to_string().into()))
        .await
        .unwrap();
    ws
}

#[tokio::main]
async fn main() {
    let args = args();
    let dir = tempfile::tempdir().unwrap();
    let database_url = args
        .postgres
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}/live.db?mode=rwc", dir.path().display()));
    let members = (args.idle.max(args.live)).div_ceil(PER_MEMBER) as u64 + 1;
    let kith = env!("CARGO_BIN_EXE_kith");
    let seeded = std::process::Command::new(kith)
        .args(["seed", "--synthetic", "--groups", "10", "--events", "1"])
        .args(["--users", &members.to_string()])
        .env("DATABASE_URL", &database_url)
        .env("RUST_LOG", "warn")
        .status()
        .unwrap();
    assert!(seeded.success());

    let db = Database::connect(&database_url).await.unwrap();
    let users: Vec<Uuid> = entity::user::Entity::find()
        .select_only()
        .column(entity::user::Column::Id)
        .into_tuple()
        .all(&db)
        .await
        .unwrap();
    let event = entity::event::Entity::find()
        .one(&db)
        .await
        .unwrap()
        .expect("an event");
    let tokens = AccessTokens::new(&Keys::derive(SECRET.as_bytes()).access_token);
    // A token is honoured only while its session lasts: one real session per member.
    let mut sessions = std::collections::HashMap::new();
    for &user in users.iter().chain([&event.created_by]) {
        let started = kith::domain::sessions::start(&db, user, None, Utc::now())
            .await
            .unwrap();
        sessions.insert(user, started.session_id);
    }
    let token_of = |user: Uuid| tokens.issue(user, sessions[&user], Utc::now()).unwrap().0;
    let event_id = ids::encode(Kind::Event, event.id).0;

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let address = format!("127.0.0.1:{port}");
    let mut server = std::process::Command::new(kith)
        .env("DATABASE_URL", &database_url)
        .env("KITH_JWT_SECRET", SECRET)
        .env("KITH_LISTEN", &address)
        .env("RUST_LOG", "warn")
        .spawn()
        .unwrap();
    let http = reqwest::Client::new();
    for _ in 0..300 {
        if http
            .get(format!("http://{address}/readyz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;

    // Memory per idle subscription.
    let before = rss_kib(server.id());
    let started = Instant::now();
    let mut idle = Vec::with_capacity(args.idle);
    for i in 0..args.idle {
        idle.push(subscriber(&address, &token_of(users[i / PER_MEMBER]), &event_id).await);
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = rss_kib(server.id());
    println!(
        "idle: {} connections, each subscribed, opened in {:.1?}; server RSS {} KiB before, {} KiB after: {:.1} KiB per subscription",
        args.idle,
        started.elapsed(),
        before,
        after,
        (after.saturating_sub(before)) as f64 / args.idle as f64
    );
    drop(idle);
    tokio::time::sleep(Duration::from_secs(2)).await;

    // Delay to many subscribers: each reports when it hears change number n.
    let (heard, mut arrivals) = mpsc::unbounded_channel::<(usize, Instant)>();
    let mut live = Vec::new();
    for i in 0..args.live {
        let mut ws = subscriber(&address, &token_of(users[i / PER_MEMBER]), &event_id).await;
        let heard = heard.clone();
        live.push(tokio::spawn(async move {
            while let Some(Ok(message)) = ws.next().await {
                if let Message::Text(text) = message {
                    let value: Value = serde_json::from_str(&text).unwrap();
                    if value["type"] == "ping" {
                        let pong = json!({ "type": "pong" }).to_string();
                        let _ = ws.send(Message::Text(pong.into())).await;
                        continue;
                    }
                    if let Some(title) =
                        value["payload"]["data"]["eventChanged"]["event"]["title"].as_str()
                        && let Some(n) = title.strip_prefix("Change ")
                    {
                        let _ = heard.send((n.parse().unwrap(), Instant::now()));
                    }
                }
            }
        }));
    }
    drop(heard);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let organiser = token_of(event.created_by);
    let mut delays = Vec::new();
    let mut mutation = Vec::new();
    for n in 0..args.changes {
        let sent = Instant::now();
        let body: Value = http
            .post(format!("http://{address}/graphql"))
            .bearer_auth(&organiser)
            .json(&json!({ "query": UPDATE, "variables": { "id": event_id, "t": format!("Change {n}") } }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(body["errors"].is_null(), "{body}");
        mutation.push(sent.elapsed().as_secs_f64() * 1000.0);
        let mut got = 0;
        while got < args.live {
            match tokio::time::timeout(Duration::from_secs(30), arrivals.recv()).await {
                Ok(Some((m, at))) if m == n => {
                    delays.push((at - sent).as_secs_f64() * 1000.0);
                    got += 1;
                }
                Ok(Some(_)) => {}
                _ => panic!("change {n} reached only {got} of {} subscribers", args.live),
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    delays.sort_by(f64::total_cmp);
    mutation.sort_by(f64::total_cmp);
    println!(
        "delay: {} subscribers x {} changes: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms (from sending the mutation); the mutation itself p50 {:.1} ms, p99 {:.1} ms",
        args.live,
        args.changes,
        percentile(&delays, 0.5),
        percentile(&delays, 0.99),
        delays.last().unwrap(),
        percentile(&mutation, 0.5),
        percentile(&mutation, 0.99),
    );
    for task in live {
        task.abort();
    }
    let _ = server.kill();
    let _ = server.wait();
}
