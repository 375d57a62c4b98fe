//! Amplification under attack: the worst admissible requests found by the attacker-minded
//! review, each timed alone, then sent in a loop by ONE attacker connection while a normal
//! member asks for their home screen one request at a time.
//!
//! ```sh
//! cargo bench --bench abuse                                                   # SQLite
//! cargo bench --bench abuse -- --postgres postgres://postgres@127.0.0.1:5432/test
//! cargo bench --bench abuse -- --seconds 5 --only 2,6     # the 2nd and 6th attacks only
//! ```
//!
//! The server is the release `kith` binary in its own process (production mode) on a fresh
//! database: SQLite in a temporary folder, or `kith_bench_abuse` made (and dropped after)
//! from the `--postgres` URL; its log goes to `target/bench/abuse-server.log`. Data:
//! `kith seed --synthetic` (20,000 groups, 2,000 members, 20,000 events, seed 1), then one
//! group given 1,000 organisers with a short bio, an attacker with 30 interests, a home in
//! Berlin, memberships and RSVPs, and a normal member going to five events. Access tokens
//! are minted with the bench's secret for real sessions.
//!
//! The attacks, one query each:
//! - 1: 300 × `group(id: <unknown>) { members(first: 2147483647) { nodes { user {
//!   interests { name } } } } }`;
//! - 1b: the overflow behind it: 2,000 × the no-match search of 2 (complexity 4,000) plus
//!   two aliases of `group(id: <unknown>)` whose nested `members(first:)` make
//!   async-graphql's complexity sum, in the release build's wrapping arithmetic, come to
//!   exactly 100;
//! - 2: 1,000 × `searchGroups(filter: {near: Berlin, radiusKm: 200, query:
//!   "zzzz-no-match"}, first: 1) { nodes { id } }` (complexity exactly 2,000);
//! - 3a, 3b: 1,000 × `recommendedGroups(first: 1) { nodes { id } }`, 2,000 × `exportMyData`;
//! - 4: 400 × `group(id: X) { organizers { id displayName bio } }` over the group with 1,000
//!   organisers (490, as first reported, cost 2,450 and are refused: 400 is the most the
//!   limit admits).
//!
//! For each the bench reports the request alone (HTTP status, size of the answer, time, SQL
//! statements from `/metrics`, the error when refused) and, while the attacker sends it in
//! a loop for `--seconds` (15), the normal member's p50, p99 and max latency, their failed
//! answers, and the server's largest RSS; the first line is the member with no attack. A
//! refused attack is measured like any other answer. The target: the member's p99 under
//! 100 ms whatever the attacker sends.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::Utc;
use kith::auth::{AccessTokens, Keys};
use kith::graphql::ids::{self, Kind};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, Database, DatabaseConnection, EntityTrait, QueryFilter,
    QuerySelect, Set,
};
use serde_json::{Value, json};
use uuid::Uuid;

const SECRET: &str = "an abuse bench secret, long enough for HS256 keys";
const GROUPS: u64 = 20_000;
const USERS: u64 = 2_000;
const EVENTS: u64 = 20_000;
const ORGANISERS: usize = 1_000;
/// What a normal member's app asks for when it opens.
const HOME: &str = "query Home { viewer { user { displayName } upcomingEvents(first: 5) { nodes { title startsAt } } } }";

struct Args {
    postgres: Option<String>,
    seconds: u64,
    only: Option<Vec<usize>>,
}

fn args() -> Args {
    let mut args = Args {
        postgres: None,
        seconds: 15,
        only: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--postgres" => args.postgres = it.next(),
            "--seconds" => {
                args.seconds = it.next().and_then(|v| v.parse().ok()).expect("--seconds N")
            }
            "--only" => {
                args.only = Some(
                    it.next()
                        .expect("--only 1,2,...")
                        .split(',')
                        .map(|n| n.trim().parse().expect("an attack number"))
                        .collect(),
                )
            }
            _ => {} // cargo bench passes --bench
        }
    }
    args
}

/// `count` aliases of `field`, as one query.
fn aliased(count: usize, field: &str) -> String {
    let mut query = String::from("query Attack {");
    for i in 0..count {
        query.push_str(&format!(" a{i}: {field}"));
    }
    query.push_str(" }");
    query
}

struct Attack {
    name: String,
    query: String,
}

/// `group(id:)` with `members(first:) { nodes { group { ... } } }` nested once per entry of
/// `firsts`, ending in `nodes { id }`.
fn nested(group: &str, firsts: &[u64]) -> String {
    let mut inner = "id".to_owned();
    for (i, first) in firsts.iter().rev().enumerate() {
        inner = format!("members(first: {first}) {{ nodes {{ {inner} }} }}");
        if i + 1 < firsts.len() {
            inner = format!("group {{ {inner} }}");
        }
    }
    format!("group(id: \"{group}\") {{ {inner} }}")
}

/// The complexity async-graphql computes for `nested`, in the release build's wrapping
/// arithmetic: 1 per field, `first` times the children for `members`.
fn nested_complexity(firsts: &[u64]) -> u64 {
    let mut children: u64 = 2; // nodes { id }
    for (i, first) in firsts.iter().rev().enumerate() {
        let members = first.wrapping_mul(children);
        if i + 1 == firsts.len() {
            return 1u64.wrapping_add(members); // group(id:) { members }
        }
        children = 2u64.wrapping_add(members); // nodes { group { members } }
    }
    unreachable!("at least one level")
}

/// 2,000 × searchGroups (complexity 4,000, twice the limit) and two aliases of `group(id:)`
/// on an unknown group whose `first` arguments make the sum wrap around 2^64 to 100. The
/// unknown group is null, so those two cost one read; the searches all run.
fn wrapped(unknown_group: &str) -> String {
    const SEARCHES: u64 = 2000;
    let real = 2 * SEARCHES;
    // 14329 × 599479 = 2^33 − 1, so with 2^31 below them the term is −2^31 plus a little.
    let minus = [14_329, 599_479, (1 << 30) - 1];
    let wrap = nested_complexity(&minus);
    // A plain two-level term, 1 + 2(1 + b), brings the sum to exactly 100.
    let b = 100u64.wrapping_sub(real).wrapping_sub(wrap).wrapping_sub(1) / 2 - 1;
    assert!(b <= i32::MAX as u64, "no i32 for the second term: {b}");
    let plus = [1, b];
    let total = real
        .wrapping_add(wrap)
        .wrapping_add(nested_complexity(&plus));
    assert_eq!(total, 100, "the terms do not wrap the sum to 100");
    let mut query = aliased(
        SEARCHES as usize,
        "searchGroups(filter: { near: { lat: 52.52, lng: 13.405 }, radiusKm: 200, query: \"zzzz-no-match\" }, first: 1) { nodes { id } }",
    );
    query.truncate(query.len() - 1);
    query.push_str(&format!(
        "w1: {} w2: {} }}",
        nested(unknown_group, &minus),
        nested(unknown_group, &plus)
    ));
    query
}

fn attacks(unknown_group: &str, big_group: &str) -> Vec<Attack> {
    vec![
        Attack {
            name: "1. 300 x group(unknown) { members(first: 2147483647) {...} }".into(),
            query: aliased(
                300,
                &nested(unknown_group, &[2147483647])
                    .replace("nodes { id }", "nodes { user { interests { name } } }"),
            ),
        },
        Attack {
            name: "1b. 2,000 x searchGroups + 2 terms wrapping the complexity to 100".into(),
            query: wrapped(unknown_group),
        },
        Attack {
            name: "2. 1,000 x searchGroups(200 km, no match, first: 1)".into(),
            query: aliased(
                1000,
                "searchGroups(filter: { near: { lat: 52.52, lng: 13.405 }, radiusKm: 200, query: \"zzzz-no-match\" }, first: 1) { nodes { id } }",
            ),
        },
        Attack {
            name: "3a. 1,000 x recommendedGroups(first: 1)".into(),
            query: aliased(1000, "recommendedGroups(first: 1) { nodes { id } }"),
        },
        Attack {
            name: "3b. 2,000 x exportMyData".into(),
            query: aliased(2000, "exportMyData"),
        },
        Attack {
            // 490 aliases cost 2,450 > 2,000 here: the most the limit lets through.
            name: "4. 400 x group { organizers { id displayName bio } } (1,000 organisers)".into(),
            query: aliased(
                400,
                &format!("group(id: \"{big_group}\") {{ organizers {{ id displayName bio }} }}"),
            ),
        },
    ]
}

/// One answer, as the client saw it.
struct Answer {
    status: u16,
    bytes: usize,
    took: Duration,
    /// The first error's code, when there are errors; `timeout` or `transport` when no
    /// answer came.
    code: Option<String>,
    /// Whether the answer has data (partial data counts).
    data: bool,
    /// The first error's message.
    message: String,
}

async fn post(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    query: &str,
    limit: Duration,
) -> Answer {
    let started = Instant::now();
    let sent = client
        .post(url)
        .bearer_auth(token)
        .json(&json!({ "query": query }))
        .timeout(limit)
        .send()
        .await;
    let failed = |err: reqwest::Error, status: u16| Answer {
        status,
        bytes: 0,
        took: started.elapsed(),
        code: Some(
            if err.is_timeout() {
                "timeout"
            } else {
                "transport"
            }
            .to_owned(),
        ),
        data: false,
        message: err.without_url().to_string(),
    };
    let response = match sent {
        Ok(response) => response,
        Err(err) => return failed(err, 0),
    };
    let status = response.status().as_u16();
    let body = match response.bytes().await {
        Ok(body) => body,
        Err(err) => return failed(err, status),
    };
    let took = started.elapsed();
    let json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let error = &json["errors"][0];
    Answer {
        status,
        bytes: body.len(),
        took,
        code: error["extensions"]["code"]
            .as_str()
            .map(str::to_owned)
            .or_else(|| json.is_null().then(|| "not JSON".to_owned())),
        data: json["data"]
            .as_object()
            .is_some_and(|d| d.values().any(|v| !v.is_null())),
        message: error["message"].as_str().unwrap_or("").to_owned(),
    }
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.split_whitespace().next())
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

async fn sql_statements(client: &reqwest::Client, base: &str) -> Option<f64> {
    let text = client
        .get(format!("{base}/metrics"))
        .send()
        .await
        .ok()?
        .text()
        .await
        .ok()?;
    text.lines()
        .find(|l| l.starts_with("kith_sql_statements_total"))
        .and_then(|l| l.split_whitespace().last())
        .and_then(|n| n.parse().ok())
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn size(bytes: usize) -> String {
    match bytes {
        b if b >= 1 << 20 => format!("{:.1} MB", b as f64 / (1 << 20) as f64),
        b if b >= 1 << 10 => format!("{:.1} KB", b as f64 / 1024.0),
        b => format!("{b} B"),
    }
}

/// What the normal member saw while (or without) an attack.
struct UnderAttack {
    member: Vec<f64>,
    member_failed: usize,
    attacks_sent: u64,
    attack_codes: String,
    rss_max_mib: f64,
    drained: Duration,
}

/// The member asks for the home screen one request at a time for `seconds`, while the
/// attacker (if any) sends its query in a loop on one connection.
async fn under_attack(
    server_pid: u32,
    url: &str,
    member_token: &str,
    attacker: Option<(&str, &str)>,
    seconds: u64,
) -> UnderAttack {
    // `stop` ends the attacker's loop; `sampled` ends the memory sampling, after the
    // attacker's last request has come back.
    let stop = Arc::new(AtomicBool::new(false));
    let sampled = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicU64::new(0));
    let attacker_task = attacker.map(|(token, query)| {
        let (stop, sent) = (stop.clone(), sent.clone());
        let (url, token, query) = (url.to_owned(), token.to_owned(), query.to_owned());
        tokio::spawn(async move {
            // One connection, one request after another.
            let client = reqwest::Client::builder()
                .pool_max_idle_per_host(1)
                .build()
                .unwrap();
            let mut codes = std::collections::BTreeMap::<String, u64>::new();
            while !stop.load(Ordering::Relaxed) {
                let answer = post(&client, &url, &token, &query, Duration::from_secs(300)).await;
                sent.fetch_add(1, Ordering::Relaxed);
                let key = match &answer.code {
                    Some(code) => format!("{} {code}", answer.status),
                    None => format!("{}", answer.status),
                };
                *codes.entry(key).or_default() += 1;
                if answer.status == 0 {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
            codes
                .iter()
                .map(|(k, n)| format!("{n}x HTTP {k}"))
                .collect::<Vec<_>>()
                .join(", ")
        })
    });
    let rss = {
        let sampled = sampled.clone();
        tokio::spawn(async move {
            let mut max = 0;
            while !sampled.load(Ordering::Relaxed) {
                max = max.max(rss_kib(server_pid));
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            max
        })
    };
    // Let the attack get going before measuring.
    if attacker.is_some() {
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let client = reqwest::Client::new();
    let mut member = Vec::new();
    let mut member_failed = 0;
    let until = Instant::now() + Duration::from_secs(seconds);
    while Instant::now() < until {
        let answer = post(&client, url, member_token, HOME, Duration::from_secs(60)).await;
        member.push(answer.took.as_secs_f64() * 1000.0);
        if answer.status != 200 || answer.code.is_some() || !answer.data {
            member_failed += 1;
        }
    }
    stop.store(true, Ordering::Relaxed);
    let drain = Instant::now();
    // Wait for the attacker's request in flight, so the next phase starts clean.
    let attack_codes = match attacker_task {
        Some(task) => task.await.unwrap_or_default(),
        None => String::new(),
    };
    let drained = drain.elapsed();
    sampled.store(true, Ordering::Relaxed);
    let rss_max = rss.await.unwrap_or(0);
    member.sort_by(f64::total_cmp);
    UnderAttack {
        member,
        member_failed,
        attacks_sent: sent.load(Ordering::Relaxed),
        attack_codes,
        rss_max_mib: rss_max as f64 / 1024.0,
        drained,
    }
}

/// Sets up what the attacks need; returns (attacker, member, organiser group).
async fn seed(db: &DatabaseConnection) -> (Uuid, Uuid, Uuid) {
    use entity::membership::{MembershipStatus, Role};
    use entity::{group, membership, user};

    let users: Vec<Uuid> = user::Entity::find()
        .select_only()
        .column(user::Column::Id)
        .into_tuple()
        .all(db)
        .await
        .unwrap();
    let group = group::Entity::find()
        .filter(group::Column::City.eq("Berlin"))
        .one(db)
        .await
        .unwrap()
        .expect("a group in Berlin");
    let already: Vec<Uuid> = membership::Entity::find()
        .filter(membership::Column::GroupId.eq(group.id))
        .select_only()
        .column(membership::Column::UserId)
        .into_tuple()
        .all(db)
        .await
        .unwrap();
    let now = Utc::now();
    let organisers: Vec<Uuid> = users
        .iter()
        .copied()
        .filter(|u| !already.contains(u))
        .take(ORGANISERS - already.len())
        .collect();
    for chunk in organisers.chunks(500) {
        membership::Entity::insert_many(chunk.iter().map(|&user_id| membership::ActiveModel {
            id: Set(Uuid::now_v7()),
            group_id: Set(group.id),
            user_id: Set(user_id),
            role: Set(Role::Organizer),
            status: Set(MembershipStatus::Active),
            created_at: Set(now),
            joined_at: Set(Some(now)),
        }))
        .exec(db)
        .await
        .unwrap();
    }
    user::Entity::update_many()
        .col_expr(
            user::Column::Bio,
            Expr::value("Organiser of board game nights; ask me about Carcassonne."),
        )
        .filter(user::Column::Id.is_in(organisers.iter().copied()))
        .exec(db)
        .await
        .unwrap();
    group::Entity::update_many()
        .col_expr(group::Column::MemberCount, Expr::value(ORGANISERS as i32))
        .filter(group::Column::Id.eq(group.id))
        .exec(db)
        .await
        .unwrap();
    // The attacker and the member are not among the organisers.
    let rest: Vec<Uuid> = users
        .iter()
        .copied()
        .filter(|u| !organisers.contains(u) && !already.contains(u))
        .collect();
    (rest[0], rest[1], group.id)
}

/// Through the API, as the apps do: the attacker picks interests, a home, joins groups and
/// answers events (so recommendations and the export have something to work on); the
/// member goes to a few events (their home screen is not empty).
async fn seed_through_api(client: &reqwest::Client, url: &str, attacker: &str, member: &str) {
    let call = |token: &str, query: &str, variables: Value| {
        client
            .post(url)
            .bearer_auth(token)
            .json(&json!({ "query": query, "variables": variables }))
            .send()
    };
    let body: Value = call(
        attacker,
        "{ interests(first: 40) { nodes { id } } }",
        json!({}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let interests: Vec<Value> = body["data"]["interests"]["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .map(|n| n["id"].clone())
        .collect();
    for (query, variables) in [
        (
            "mutation($ids: [ID!]!) { setInterests(input: { interestIds: $ids }) { id } }",
            json!({ "ids": &interests[..30.min(interests.len())] }),
        ),
        (
            "mutation { updateProfile(input: { homeLocation: { lat: 52.52, lng: 13.405 } }) { id } }",
            json!({}),
        ),
    ] {
        let body: Value = call(attacker, query, variables)
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(body["errors"].is_null(), "{body}");
    }
    let body: Value = call(
        member,
        "{ searchEvents(filter: { near: { lat: 52.52, lng: 13.405 }, radiusKm: 25 }, first: 40) { nodes { id group { id joinPolicy } } } }",
        json!({}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let events: Vec<(String, String)> = body["data"]["searchEvents"]["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .filter(|e| e["group"]["joinPolicy"] == "OPEN")
        .map(|e| {
            (
                e["id"].as_str().unwrap().to_owned(),
                e["group"]["id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let join = "mutation($g: ID!) { joinGroup(input: { groupId: $g }) { id } }";
    let rsvp = "mutation($e: ID!) { rsvp(input: { eventId: $e, response: YES }) { id } }";
    for (i, (event, group)) in events.iter().enumerate() {
        let who: &[&str] = if i < 5 {
            &[attacker, member]
        } else {
            &[attacker]
        };
        for token in who {
            for (query, variables) in [(join, json!({ "g": group })), (rsvp, json!({ "e": event }))]
            {
                let body: Value = call(token, query, variables)
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                assert!(body["errors"].is_null(), "{body}");
            }
        }
    }
}

async fn fresh_database(args: &Args, dir: &std::path::Path) -> String {
    match &args.postgres {
        None => format!("sqlite://{}/abuse.db?mode=rwc", dir.display()),
        Some(base) => {
            let admin = Database::connect(base.as_str()).await.unwrap();
            admin
                .execute_unprepared("DROP DATABASE IF EXISTS kith_bench_abuse WITH (FORCE)")
                .await
                .unwrap();
            admin
                .execute_unprepared("CREATE DATABASE kith_bench_abuse")
                .await
                .unwrap();
            let mut url = url::Url::parse(base).unwrap();
            url.set_path("kith_bench_abuse");
            url.to_string()
        }
    }
}

#[tokio::main]
async fn main() {
    let args = args();
    let backend = if args.postgres.is_some() {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    let dir = tempfile::tempdir().unwrap();
    let database_url = fresh_database(&args, dir.path()).await;
    let kith = env!("CARGO_BIN_EXE_kith");

    let started = Instant::now();
    let seeded = std::process::Command::new(kith)
        .args(["seed", "--synthetic", "--seed", "1"])
        .args(["--groups", &GROUPS.to_string()])
        .args(["--users", &USERS.to_string()])
        .args(["--events", &EVENTS.to_string()])
        .env("DATABASE_URL", &database_url)
        .env("RUST_LOG", "warn")
        .status()
        .unwrap();
    assert!(seeded.success());
    let db = Database::connect(&database_url).await.unwrap();
    let (attacker, member, big_group) = seed(&db).await;
    if args.postgres.is_some() {
        db.execute_unprepared("ANALYZE").await.unwrap();
    }
    let tokens = AccessTokens::new(&Keys::derive(SECRET.as_bytes()).access_token);
    let mut sessions = std::collections::HashMap::new();
    for user in [attacker, member] {
        let started = kith::domain::sessions::start(&db, user, None, Utc::now())
            .await
            .unwrap();
        sessions.insert(user, started.session_id);
    }
    // Tokens live 15 minutes: each phase gets fresh ones.
    let token_of = |user: Uuid| tokens.issue(user, sessions[&user], Utc::now()).unwrap().0;

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let url = format!("{base}/graphql");
    // The server's errors (a pool that times out...) go to a file, not over the table.
    let log = concat!(env!("CARGO_MANIFEST_DIR"), "/target/bench/abuse-server.log");
    std::fs::create_dir_all(std::path::Path::new(log).parent().unwrap()).unwrap();
    let mut server = std::process::Command::new(kith)
        .env("DATABASE_URL", &database_url)
        .env("KITH_ENV", "production")
        .env("KITH_JWT_SECRET", SECRET)
        .env("KITH_LISTEN", format!("127.0.0.1:{port}"))
        .env("RUST_LOG", "error")
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .unwrap();
    let http = reqwest::Client::new();
    for _ in 0..300 {
        if http
            .get(format!("{base}/readyz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    seed_through_api(&http, &url, &token_of(attacker), &token_of(member)).await;
    eprintln!(
        "seeded {GROUPS} groups, {USERS} members, {EVENTS} events, a group with {ORGANISERS} organisers in {:.1?}",
        started.elapsed()
    );
    // Warm up: the member's query, a few times.
    for _ in 0..20 {
        post(
            &http,
            &url,
            &token_of(member),
            HOME,
            Duration::from_secs(10),
        )
        .await;
    }

    let unknown = ids::encode(Kind::Group, Uuid::now_v7()).0;
    let big = ids::encode(Kind::Group, big_group).0;
    let pid = server.id();

    println!(
        "abuse bench, {backend}: {GROUPS} groups, {USERS} members, {EVENTS} events; one attacker connection in a loop for {} s while a normal member sends `viewer {{ user {{ displayName }} upcomingEvents(first: 5) {{ nodes {{ title startsAt }} }} }}` one at a time",
        args.seconds
    );
    println!();
    println!(
        "{:<72} | {:<44} | {:>7} {:>7} {:>8} {:>8} {:>9} {:>8}",
        "attack",
        "alone: HTTP, answer, time, SQL, error",
        "attacks",
        "p50 ms",
        "p99 ms",
        "max ms",
        "failed",
        "RSS MiB"
    );
    let baseline = under_attack(pid, &url, &token_of(member), None, args.seconds).await;
    print_row("no attack", "", &baseline);

    for (i, attack) in attacks(&unknown, &big).into_iter().enumerate() {
        if args
            .only
            .as_ref()
            .is_some_and(|only| !only.contains(&(i + 1)))
        {
            continue;
        }
        let token = token_of(attacker);
        let before = sql_statements(&http, &base).await;
        let alone = post(&http, &url, &token, &attack.query, Duration::from_secs(300)).await;
        let after = sql_statements(&http, &base).await;
        let statements = match (before, after) {
            // Less the /metrics read itself, which runs none.
            (Some(b), Some(a)) => format!("{:.0}", a - b),
            _ => "?".into(),
        };
        let outcome = match (&alone.code, alone.data) {
            (None, _) => "ok".to_owned(),
            (Some(code), true) => format!("partly {code}"),
            (Some(code), false) => format!("refused {code}"),
        };
        let alone_text = format!(
            "{} {} {:.2} s {} SQL {}",
            alone.status,
            size(alone.bytes),
            alone.took.as_secs_f64(),
            statements,
            outcome
        );
        let measured = under_attack(
            pid,
            &url,
            &token_of(member),
            Some((&token, &attack.query)),
            args.seconds,
        )
        .await;
        print_row(&attack.name, &alone_text, &measured);
        if !alone.message.is_empty() {
            println!("    alone, first error: {}", alone.message);
        }
        println!(
            "    the attacker's answers in the loop: {}; its last one came {:.1?} after the member stopped",
            measured.attack_codes, measured.drained
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
    }

    let _ = server.kill();
    let _ = server.wait();
    println!("(the server's log: {log})");
    db.close().await.ok();
    if let Some(base) = &args.postgres {
        let admin = Database::connect(base.as_str()).await.unwrap();
        admin
            .execute_unprepared("DROP DATABASE IF EXISTS kith_bench_abuse WITH (FORCE)")
            .await
            .ok();
    }
}

fn print_row(name: &str, alone: &str, m: &UnderAttack) {
    println!(
        "{:<72} | {:<44} | {:>7} {:>7.1} {:>8.1} {:>8.1} {:>9} {:>8.0}",
        name,
        alone,
        if alone.is_empty() {
            "-".to_owned()
        } else {
            m.attacks_sent.to_string()
        },
        percentile(&m.member, 0.5),
        percentile(&m.member, 0.99),
        m.member.last().copied().unwrap_or(f64::NAN),
        format!("{}/{}", m.member_failed, m.member.len()),
        m.rss_max_mib,
    );
}
