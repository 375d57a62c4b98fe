//! Push delivery under load: how long a change takes to reach 1,000 devices by Web Push, and
//! what the push outbox costs the change that writes it.
//!
//! ```sh
//! cargo bench --bench push                       # SQLite, 1,000 devices, 5 changes
//! cargo bench --bench push -- --postgres postgres://postgres@127.0.0.1:5432/kith_bench_push
//! cargo bench --bench push -- --devices 200 --changes 3
//! ```
//!
//! The server is the real `kith` binary (release build) in its own process, with a VAPID key,
//! so every push is really encrypted (RFC 8291) and signed (RFC 8292). Members and an event
//! come from `kith seed --synthetic`; each member gets a session, a WEB_PUSH device whose
//! endpoint is this bench's own receiver (one subscription key pair for all), and a GOING
//! RSVP, written directly to the database. The receiver answers 201 and notes when each push
//! arrived; it does not decrypt (the tests do).
//!
//! Reported, for each change (an `updateEvent` moving the start, over HTTP):
//! - the delay from sending the mutation to each device's push arriving, p50 and p99 over
//!   all devices and changes;
//! - the mutation's own latency with the devices, and again after they are unregistered
//!   (same notifications and mail, no pushes): the difference over the number of devices is
//!   the outbox's cost per pushed notification, paid inside the change's transaction.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::StatusCode;
use axum::routing::post;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use entity::{device, rsvp};
use kith::auth::{AccessTokens, Keys};
use kith::graphql::ids::{self, Kind};
use sea_orm::{ActiveModelTrait, Database, EntityTrait, QuerySelect, Set};
use serde_json::{Value, json};
use uuid::Uuid;

const SECRET: &str = "a bench secret that is long enough for HS256 keys";
const MOVE: &str = "mutation($id: ID!, $s: DateTime!, $e: DateTime!) { updateEvent(input: { eventId: $id, startsAt: $s, endsAt: $e }) { id } }";

struct Args {
    postgres: Option<String>,
    devices: usize,
    changes: usize,
}

fn args() -> Args {
    let mut args = Args {
        postgres: None,
        devices: 1_000,
        changes: 5,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--postgres" => args.postgres = it.next(),
            "--devices" => {
                args.devices = it.next().and_then(|v| v.parse().ok()).expect("--devices N")
            }
            "--changes" => {
                args.changes = it.next().and_then(|v| v.parse().ok()).expect("--changes N")
            }
            _ => {} // cargo bench passes --bench
        }
    }
    args
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// The times pushes arrived, since the bench began.
type Arrivals = Arc<Mutex<Vec<Instant>>>;

async fn receiver(arrivals: Arrivals) -> String {
    let app = Router::new().route(
        "/push/{device}",
        post(move || {
            let arrivals = arrivals.clone();
            async move {
                arrivals.lock().unwrap().push(Instant::now());
                StatusCode::CREATED
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{address}")
}

/// Waits until `count` pushes have arrived (or 60 s pass); answers their delays after `sent`.
async fn wait_for(arrivals: &Arrivals, count: usize, sent: Instant) -> Vec<f64> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        {
            let got = arrivals.lock().unwrap();
            if got.len() >= count || Instant::now() > deadline {
                assert!(
                    got.len() >= count,
                    "only {} of {count} pushes arrived",
                    got.len()
                );
                return got
                    .iter()
                    .map(|at| (*at - sent).as_secs_f64() * 1000.0)
                    .collect();
            }
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::main]
async fn main() {
    let args = args();
    let dir = tempfile::tempdir().unwrap();
    let database_url = args
        .postgres
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}/push.db?mode=rwc", dir.path().display()));
    let kith = env!("CARGO_BIN_EXE_kith");
    let seeded = std::process::Command::new(kith)
        .args(["seed", "--synthetic", "--groups", "1", "--events", "1"])
        .args(["--users", &(args.devices + 1).to_string()])
        .env("DATABASE_URL", &database_url)
        .env("RUST_LOG", "warn")
        .status()
        .unwrap();
    assert!(seeded.success());

    let arrivals: Arrivals = Arc::default();
    let endpoint = receiver(arrivals.clone()).await;
    // One subscription key pair for every device: what matters is the server's work.
    let subscriber = p256::SecretKey::random(&mut p256::elliptic_curve::rand_core::OsRng);
    let p256dh =
        URL_SAFE_NO_PAD.encode(p256::EncodedPoint::from(subscriber.public_key()).as_bytes());
    let auth = URL_SAFE_NO_PAD.encode([7u8; 16]);
    let vapid = URL_SAFE_NO_PAD
        .encode(p256::SecretKey::random(&mut p256::elliptic_curve::rand_core::OsRng).to_bytes());

    let db = Database::connect(&database_url).await.unwrap();
    let users: Vec<Uuid> = entity::user::Entity::find()
        .select_only()
        .column(entity::user::Column::Id)
        .into_tuple()
        .all(&db)
        .await
        .unwrap();
    let mut event = entity::event::Entity::find()
        .one(&db)
        .await
        .unwrap()
        .expect("an event");
    let now = Utc::now();
    let mut devices = 0;
    for (i, &user) in users.iter().enumerate() {
        if user == event.created_by || devices == args.devices {
            continue;
        }
        let session = kith::domain::sessions::start(&db, user, None, now)
            .await
            .unwrap()
            .session_id;
        device::ActiveModel {
            id: Set(Uuid::now_v7()),
            user_id: Set(user),
            session_id: Set(session),
            platform: Set(device::Platform::WebPush),
            token: Set(format!("{endpoint}/push/{i}")),
            p256dh: Set(Some(p256dh.clone())),
            auth: Set(Some(auth.clone())),
            app_version: Set(None),
            created_at: Set(now),
            last_seen_at: Set(now),
        }
        .insert(&db)
        .await
        .unwrap();
        rsvp::ActiveModel {
            id: Set(Uuid::now_v7()),
            event_id: Set(event.id),
            user_id: Set(user),
            status: Set(rsvp::RsvpStatus::Going),
            waitlist_seq: Set(None),
            checked_in: Set(false),
            check_in_method: Set(None),
            checked_in_at: Set(None),
            guests: Set(0),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&db)
        .await
        .unwrap();
        devices += 1;
    }
    let organiser_session = kith::domain::sessions::start(&db, event.created_by, None, now)
        .await
        .unwrap()
        .session_id;
    let tokens = AccessTokens::new(&Keys::derive(SECRET.as_bytes()).access_token);
    let organiser = tokens
        .issue(event.created_by, organiser_session, now)
        .unwrap()
        .0;
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
        .env("KITH_VAPID_PRIVATE_KEY", &vapid)
        .env("KITH_VAPID_SUBJECT", "mailto:bench@kith.invalid")
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

    let mut change = async |n: usize| -> (f64, Instant) {
        event.starts_at += chrono::Duration::hours(1);
        event.ends_at += chrono::Duration::hours(1);
        let time = |t: chrono::DateTime<Utc>| t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string();
        let sent = Instant::now();
        let body: Value = http
            .post(format!("http://{address}/graphql"))
            .bearer_auth(&organiser)
            .json(&json!({ "query": MOVE, "variables": {
                "id": event_id, "s": time(event.starts_at), "e": time(event.ends_at) } }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(body["errors"].is_null(), "change {n}: {body}");
        (sent.elapsed().as_secs_f64() * 1000.0, sent)
    };

    let mut delays = Vec::new();
    let mut with_push = Vec::new();
    for n in 0..args.changes {
        arrivals.lock().unwrap().clear();
        let (took, sent) = change(n).await;
        with_push.push(took);
        delays.extend(wait_for(&arrivals, devices, sent).await);
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    device::Entity::delete_many().exec(&db).await.unwrap();
    let mut without_push = Vec::new();
    for n in 0..args.changes {
        without_push.push(change(args.changes + n).await.0);
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    delays.sort_by(f64::total_cmp);
    with_push.sort_by(f64::total_cmp);
    without_push.sort_by(f64::total_cmp);
    let median = |v: &[f64]| percentile(v, 0.5);
    println!(
        "delivery: {devices} devices x {} changes: p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms from sending the mutation",
        args.changes,
        percentile(&delays, 0.5),
        percentile(&delays, 0.99),
        delays.last().unwrap(),
    );
    println!(
        "the change itself (p50): {:.1} ms with {devices} pushes queued, {:.1} ms with none: {:.1} µs of outbox per pushed notification",
        median(&with_push),
        median(&without_push),
        (median(&with_push) - median(&without_push)) * 1000.0 / devices as f64,
    );
    let _ = server.kill();
    let _ = server.wait();
}
