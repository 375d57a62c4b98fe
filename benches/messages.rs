//! Private messages at size (issue 18's closing note): `Viewer.conversations` and a
//! conversation's pages with 1,000 conversations and 100,000 messages.
//!
//! ```sh
//! cargo bench --bench messages                   # SQLite, 500 requests of each kind
//! cargo bench --bench messages -- --postgres postgres://postgres@127.0.0.1:5432/kith_bench_messages
//! cargo bench --bench messages -- --requests 200 --keep
//! ```
//!
//! The server is the real `kith` binary (release build) in its own process, in production
//! mode, without its background loops (their statements would count too), `/metrics` on a
//! port of its own. Members come from `kith seed --synthetic`; the rest is written directly
//! to the database in bulk, row for row as `domain::messages::send` would leave it: one
//! viewer with 1,000 conversations, each with another member; 100,000 messages one second
//! apart in a shuffled order, half of them (50,000) in one conversation, the rest spread
//! evenly (50 or 51 each), each sent by either side at random; each side's latest activity
//! and message, its unread count (the other's messages since its own latest) and `readAt`
//! (its own latest message). On PostgreSQL the database named in the URL is dropped and made
//! anew, ANALYZEd after seeding, and dropped at the end (kept with `--keep`, for EXPLAIN).
//!
//! Reported: p50/p99 over sequential requests (latency, not throughput) over HTTP of
//! - `viewer { conversations(first: 20) }` with each one's other member, latest message and
//!   unread count;
//! - the 50,000-message conversation's first page (`node(id:)`, `messages(first: 20)`),
//!   and its second page by the first's `endCursor`;
//! - a 50-message conversation's first page, for comparison;
//!
//! and the SQL statements per request, from `kith_sql_statements_total` before and after.

use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};
use entity::{conversation, conversation_member, message};
use kith::auth::{AccessTokens, Keys};
use kith::graphql::ids::{self, Kind};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use sea_orm::{
    ConnectionTrait, Database, DatabaseConnection, EntityTrait, QueryOrder, QuerySelect, Set,
    TransactionTrait,
};
use serde_json::{Value, json};
use uuid::Uuid;

const SECRET: &str = "a bench secret that is long enough for HS256 keys";
const CONVERSATIONS: usize = 1_000;
const MESSAGES: usize = 100_000;
const BIG: usize = 50_000;
/// Rows per INSERT: 5 columns × 1,000 stays under both databases' limits on parameters.
const CHUNK: usize = 1_000;

const LIST: &str = "{ viewer { conversations(first: 20) { nodes { id with { displayName } lastMessage { body createdAt } unreadCount } pageInfo { hasNextPage endCursor } } } }";
const PAGE: &str = "query($id: ID!, $after: String) { node(id: $id) { ... on Conversation { messages(first: 20, after: $after) { nodes { id body createdAt sender { displayName } } pageInfo { hasNextPage endCursor } } } } }";

struct Args {
    postgres: Option<String>,
    requests: usize,
    keep: bool,
}

fn args() -> Args {
    let mut args = Args {
        postgres: None,
        requests: 500,
        keep: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--postgres" => args.postgres = it.next(),
            "--requests" => {
                args.requests = it
                    .next()
                    .and_then(|v| v.parse().ok())
                    .expect("--requests N")
            }
            "--keep" => args.keep = true,
            _ => {} // cargo bench passes --bench
        }
    }
    args
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// The PostgreSQL URL's database, dropped and made anew, through the `postgres` database.
async fn fresh_postgres(url: &str) -> String {
    let mut admin_url = url::Url::parse(url).unwrap();
    let name = admin_url.path().trim_start_matches('/').to_owned();
    assert!(
        !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
        "--postgres needs a URL naming a database to make, not {url:?}"
    );
    admin_url.set_path("postgres");
    let admin = Database::connect(admin_url.as_str()).await.unwrap();
    admin
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .await
        .unwrap();
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    name
}

async fn drop_postgres(url: &str, name: &str) {
    let mut admin_url = url::Url::parse(url).unwrap();
    admin_url.set_path("postgres");
    let admin = Database::connect(admin_url.as_str()).await.unwrap();
    admin
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .await
        .ok();
}

/// A UUIDv7 of the message's own time, as `Uuid::now_v7()` would have made when it was sent.
fn v7_at(at: DateTime<Utc>) -> Uuid {
    let ts = uuid::Timestamp::from_unix(
        uuid::NoContext,
        at.timestamp() as u64,
        at.timestamp_subsec_nanos(),
    );
    Uuid::new_v7(ts)
}

/// What was seeded, for the requests and their checks.
struct Seeded {
    viewer: Uuid,
    big: Uuid,
    small: Uuid,
    /// The viewer's newest conversation: its id and unread count.
    newest: (Uuid, i32),
    /// The big conversation's newest message.
    big_newest: Uuid,
}

/// One side's view, built as the messages go by, as `send` keeps it.
#[derive(Clone)]
struct Side {
    last_message_at: DateTime<Utc>,
    last_message_id: Option<Uuid>,
    unread_count: i32,
    read_at: Option<DateTime<Utc>>,
}

/// A conversation as seeded so far: created at, started by, the viewer's side, the other's.
type Kept = (DateTime<Utc>, Uuid, Side, Side);

async fn seed(db: &DatabaseConnection) -> Seeded {
    let mut users: Vec<Uuid> = entity::user::Entity::find()
        .select_only()
        .column(entity::user::Column::Id)
        .order_by_asc(entity::user::Column::Id)
        .into_tuple()
        .all(db)
        .await
        .unwrap();
    assert!(users.len() > CONVERSATIONS, "too few members seeded");
    let viewer = users.remove(0);
    let others = &users[..CONVERSATIONS];
    let conversation_ids: Vec<Uuid> = (0..CONVERSATIONS).map(|_| Uuid::now_v7()).collect();

    // Which conversation each message goes to: BIG to the first, the rest evenly, shuffled.
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(18);
    let rest = MESSAGES - BIG;
    let mut order: Vec<usize> = vec![0; BIG];
    for i in 1..CONVERSATIONS {
        let n = rest / (CONVERSATIONS - 1) + usize::from(i - 1 < rest % (CONVERSATIONS - 1));
        order.extend(std::iter::repeat_n(i, n));
    }
    assert_eq!(order.len(), MESSAGES);
    order.shuffle(&mut rng);

    let start = Utc::now() - TimeDelta::seconds(MESSAGES as i64 + 60);
    let mut state: Vec<Option<Kept>> = vec![None; CONVERSATIONS];
    let mut rows = Vec::with_capacity(MESSAGES);
    for (k, &c) in order.iter().enumerate() {
        let at = start + TimeDelta::seconds(k as i64);
        let id = v7_at(at);
        let from_viewer = rng.random_bool(0.5);
        let sender = if from_viewer { viewer } else { others[c] };
        let fresh = Side {
            last_message_at: at,
            last_message_id: None,
            unread_count: 0,
            read_at: None,
        };
        let entry = state[c].get_or_insert_with(|| (at, sender, fresh.clone(), fresh));
        for (side, is_sender) in [(&mut entry.2, from_viewer), (&mut entry.3, !from_viewer)] {
            side.last_message_at = at;
            side.last_message_id = Some(id);
            if is_sender {
                side.unread_count = 0;
                side.read_at = Some(at);
            } else {
                side.unread_count += 1;
            }
        }
        rows.push(message::ActiveModel {
            id: Set(id),
            conversation_id: Set(conversation_ids[c]),
            sender_id: Set(sender),
            body: Set(format!(
                "Message {k}: shall we meet again at the café on Thursday?"
            )),
            created_at: Set(at),
        });
    }

    let tx = db.begin().await.unwrap();
    let mut conversations = Vec::with_capacity(CONVERSATIONS);
    let mut sides = Vec::with_capacity(2 * CONVERSATIONS);
    for (c, entry) in state.iter().enumerate() {
        let (created_at, started_by, mine, theirs) = entry.clone().expect("every one has some");
        let other = others[c];
        let (low, high) = kith::domain::meetings::pair(viewer, other);
        conversations.push(conversation::ActiveModel {
            id: Set(conversation_ids[c]),
            user_low: Set(low),
            user_high: Set(high),
            started_by: Set(started_by),
            created_at: Set(created_at),
            last_message_at: Set(mine.last_message_at),
        });
        for (user, other, side) in [(viewer, other, mine), (other, viewer, theirs)] {
            sides.push(conversation_member::ActiveModel {
                conversation_id: Set(conversation_ids[c]),
                user_id: Set(user),
                other_id: Set(other),
                last_message_at: Set(side.last_message_at),
                last_message_id: Set(side.last_message_id),
                unread_count: Set(side.unread_count),
                read_at: Set(side.read_at),
            });
        }
    }
    for chunk in conversations.chunks(CHUNK) {
        conversation::Entity::insert_many(chunk.to_vec())
            .exec(&tx)
            .await
            .unwrap();
    }
    for chunk in sides.chunks(CHUNK) {
        conversation_member::Entity::insert_many(chunk.to_vec())
            .exec(&tx)
            .await
            .unwrap();
    }
    for chunk in rows.chunks(CHUNK) {
        message::Entity::insert_many(chunk.to_vec())
            .exec(&tx)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();

    let newest = state
        .iter()
        .enumerate()
        .map(|(c, s)| {
            let side = &s.as_ref().unwrap().2;
            (side.last_message_at, conversation_ids[c], side.unread_count)
        })
        .max()
        .unwrap();
    Seeded {
        viewer,
        big: conversation_ids[0],
        small: conversation_ids[1],
        newest: (newest.1, newest.2),
        big_newest: state[0].as_ref().unwrap().2.last_message_id.unwrap(),
    }
}

async fn statements(http: &reqwest::Client, metrics: &str) -> f64 {
    let text = http
        .get(format!("{metrics}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find(|l| l.starts_with("kith_sql_statements_total"))
        .and_then(|l| l.split_whitespace().last())
        .and_then(|n| n.parse().ok())
        .expect("kith_sql_statements_total in /metrics")
}

struct Client {
    http: reqwest::Client,
    url: String,
    metrics: String,
    token: String,
}

impl Client {
    async fn post(&self, query: &str, variables: Value) -> Value {
        let body: Value = self
            .http
            .post(&self.url)
            .bearer_auth(&self.token)
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(body["errors"].is_null(), "{body}");
        body
    }

    /// `requests` sequential requests after 30 to warm up: p50, p99 (ms), and statements
    /// per request.
    async fn time(&self, requests: usize, query: &str, variables: Value) -> (f64, f64, f64) {
        for _ in 0..30 {
            self.post(query, variables.clone()).await;
        }
        let before = statements(&self.http, &self.metrics).await;
        let mut times = Vec::with_capacity(requests);
        for _ in 0..requests {
            let started = Instant::now();
            self.post(query, variables.clone()).await;
            times.push(started.elapsed().as_secs_f64() * 1000.0);
        }
        let after = statements(&self.http, &self.metrics).await;
        times.sort_by(f64::total_cmp);
        (
            percentile(&times, 0.5),
            percentile(&times, 0.99),
            (after - before) / requests as f64,
        )
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::main]
async fn main() {
    let args = args();
    let dir = tempfile::tempdir().unwrap();
    let (backend, database_url, pg_name) = match &args.postgres {
        None => (
            "SQLite",
            format!("sqlite://{}/messages.db?mode=rwc", dir.path().display()),
            None,
        ),
        Some(url) => ("PostgreSQL", url.clone(), Some(fresh_postgres(url).await)),
    };
    let kith = env!("CARGO_BIN_EXE_kith");
    let started = Instant::now();
    let seeded = std::process::Command::new(kith)
        .args([
            "seed",
            "--synthetic",
            "--seed",
            "1",
            "--groups",
            "1",
            "--events",
            "0",
        ])
        .args(["--users", &(CONVERSATIONS + 1).to_string()])
        .env("DATABASE_URL", &database_url)
        .env("RUST_LOG", "warn")
        .status()
        .unwrap();
    assert!(seeded.success());
    let db = Database::connect(&database_url).await.unwrap();
    let seeded = seed(&db).await;
    if args.postgres.is_some() {
        db.execute_unprepared("ANALYZE").await.unwrap();
    }
    eprintln!(
        "seeded {} members, {CONVERSATIONS} conversations, {MESSAGES} messages in {:.1?}",
        CONVERSATIONS + 1,
        started.elapsed()
    );
    let session = kith::domain::sessions::start(&db, seeded.viewer, None, Utc::now())
        .await
        .unwrap()
        .session_id;
    let token = AccessTokens::new(&Keys::derive(SECRET.as_bytes()).access_token)
        .issue(seeded.viewer, session, Utc::now())
        .unwrap()
        .0;

    let (port, metrics_port) = (free_port(), free_port());
    let mut server = std::process::Command::new(kith)
        .env("DATABASE_URL", &database_url)
        .env("KITH_ENV", "production")
        .env("KITH_JWT_SECRET", SECRET)
        .env("KITH_LISTEN", format!("127.0.0.1:{port}"))
        .env("KITH_METRICS_LISTEN", format!("127.0.0.1:{metrics_port}"))
        .env("KITH_BACKGROUND_JOBS", "off")
        .env("RUST_LOG", "warn")
        .spawn()
        .unwrap();
    let client = Client {
        http: reqwest::Client::new(),
        url: format!("http://127.0.0.1:{port}/graphql"),
        metrics: format!("http://127.0.0.1:{metrics_port}"),
        token,
    };
    for _ in 0..300 {
        if client
            .http
            .get(format!("http://127.0.0.1:{port}/readyz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // What the pages show is what was seeded.
    let list = client.post(LIST, json!({})).await;
    let nodes = list["data"]["viewer"]["conversations"]["nodes"]
        .as_array()
        .unwrap();
    assert_eq!(nodes.len(), 20, "{list}");
    assert_eq!(
        nodes[0]["id"],
        json!(ids::encode(Kind::Conversation, seeded.newest.0).0)
    );
    assert_eq!(nodes[0]["unreadCount"], json!(seeded.newest.1));
    let big = ids::encode(Kind::Conversation, seeded.big).0;
    let small = ids::encode(Kind::Conversation, seeded.small).0;
    let first = client.post(PAGE, json!({ "id": big })).await;
    let messages = &first["data"]["node"]["messages"];
    assert_eq!(messages["nodes"].as_array().unwrap().len(), 20, "{first}");
    assert_eq!(
        messages["nodes"][0]["id"],
        json!(ids::encode(Kind::Message, seeded.big_newest).0)
    );
    let cursor = messages["pageInfo"]["endCursor"]
        .as_str()
        .unwrap()
        .to_owned();
    let second = client
        .post(PAGE, json!({ "id": big, "after": cursor }))
        .await;
    assert_eq!(
        second["data"]["node"]["messages"]["nodes"]
            .as_array()
            .unwrap()
            .len(),
        20
    );

    println!(
        "messages bench, {backend}: 1 viewer, {CONVERSATIONS} conversations, {MESSAGES} messages ({BIG} in one); {} sequential requests each over HTTP",
        args.requests
    );
    println!(
        "{:<58} {:>8} {:>8} {:>12}",
        "request", "p50 ms", "p99 ms", "SQL/request"
    );
    let cases = [
        ("Viewer.conversations(first: 20)", LIST, json!({})),
        (
            "the 50,000-message conversation, messages(first: 20)",
            PAGE,
            json!({ "id": big }),
        ),
        (
            "the same, second page (after: endCursor)",
            PAGE,
            json!({ "id": big, "after": cursor }),
        ),
        (
            "a 50-message conversation, messages(first: 20)",
            PAGE,
            json!({ "id": small }),
        ),
    ];
    for (name, query, variables) in cases {
        let (p50, p99, sql) = client.time(args.requests, query, variables).await;
        println!("{name:<58} {p50:>8.2} {p99:>8.2} {sql:>12.1}");
    }

    let _ = server.kill();
    let _ = server.wait();
    db.close().await.ok();
    if let (Some(url), Some(name)) = (&args.postgres, pg_name) {
        if args.keep {
            println!("(kept the database {name})");
        } else {
            drop_postgres(url, &name).await;
        }
    }
}
