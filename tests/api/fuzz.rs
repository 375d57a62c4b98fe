//! A seeded fuzzer over the contract: operations built from `kith::graphql::sdl()` itself,
//! with valid-looking and hostile arguments, sent to the real app as anonymous and signed-in
//! members, over POST and GET, plus broken documents and broken bodies. Whatever it sends,
//! the server must never answer with HTTP 5xx or an `INTERNAL_SERVER_ERROR`, and every error
//! must carry an `extensions.code`.
//!
//! How a request is made: the SDL is parsed into a model of types, fields and arguments, so
//! a new field is fuzzed the day it is added. A request picks 1–4 root fields of Query (or
//! 1–2 of Mutation), aliases some, fills their arguments, and selects random fields of the
//! output types down to a random depth, with inline fragments on `Node`'s implementors,
//! named fragments and `@include`/`@skip`. Arguments are literals or variables (declared
//! with the argument's type), and their values are chosen by the argument's name: IDs of
//! objects made while setting up (a group with events, memberships, RSVPs, a meeting
//! confirmation...), forged IDs of unknown objects, and garbage; times on both sides of now
//! and at the edges of time; coordinates in and out of range; cursors the server gave out,
//! altered, and forged; and strings that are empty, 100 KB long, unicode, control
//! characters and NUL, or SQL and LIKE metacharacters. One request in five also breaks
//! GraphQL's rules (unknown fields and arguments, values of the wrong type, undeclared
//! variables), one in fourteen is a broken document, and one in thirty a broken body. Signed
//! in, requests come from a member who organises a group (so mutations reach deep code) or
//! one who belongs to it.
//!
//! Each run picks a seed from the clock (printed); request `i` is generated from
//! `(seed, i)` alone, so a failure replays:
//!
//! ```sh
//! KITH_FUZZ_SEED=1234 cargo test --test api fuzz -- --nocapture          # the same requests
//! KITH_FUZZ_SEED=1234 KITH_FUZZ_ONLY=17,230 cargo test --test api fuzz   # only these ones
//! KITH_FUZZ_REQUESTS=20000 KITH_FUZZ_CONCURRENCY=4 cargo test --test api fuzz
//! KITH_FUZZ_LOG=error ...       # and the server's log, which names the cause of a failure
//! KITH_FUZZ_VERBOSE=1 ...       # and a tally of every error message, the slowest requests
//! ```
//!
//! Requests run 8 at a time (`KITH_FUZZ_CONCURRENCY`), so the order in which they reach the
//! database varies between runs; with `KITH_FUZZ_CONCURRENCY=1` a replay is exact (apart
//! from the IDs the server makes while setting up).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;
use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

use async_graphql::parser::types::{BaseType, Type, TypeKind, TypeSystemDefinition};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use futures::StreamExt;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

use crate::helpers::*;

const DEFAULT_REQUESTS: usize = 5000;
/// `KITH_FUZZ_VERBOSE=1`: the tally counts each error message too.
static VERBOSE: LazyLock<bool> = LazyLock::new(|| std::env::var_os("KITH_FUZZ_VERBOSE").is_some());
const DEFAULT_CONCURRENCY: usize = 8;

/// CPU time of this process (the client and the server in it), from /proc; 0 elsewhere.
fn cpu_seconds() -> f64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|stat| {
            let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
            let ticks: f64 =
                fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
            Some(ticks / 100.0)
        })
        .unwrap_or(0.0)
}

fn env_number(name: &str) -> Option<u64> {
    let value = std::env::var(name).ok()?;
    Some(
        value
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name} must be a number, not {value:?}")),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_request_built_from_the_schema_fails_the_server() {
    let seed = env_number("KITH_FUZZ_SEED").unwrap_or_else(|| {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        (nanos as u64) % 1_000_000_000
    });
    let count = env_number("KITH_FUZZ_REQUESTS").unwrap_or(DEFAULT_REQUESTS as u64) as usize;
    let concurrency = env_number("KITH_FUZZ_CONCURRENCY")
        .unwrap_or(DEFAULT_CONCURRENCY as u64)
        .max(1) as usize;
    let only: Option<Vec<usize>> = std::env::var("KITH_FUZZ_ONLY").ok().map(|list| {
        list.split(',')
            .map(|i| {
                i.trim()
                    .parse()
                    .expect("KITH_FUZZ_ONLY: indices, comma-separated")
            })
            .collect()
    });
    let database = if std::env::var("TEST_DATABASE_URL").is_ok_and(|u| !u.is_empty()) {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    println!(
        "fuzz: seed {seed} ({database}); replay with KITH_FUZZ_SEED={seed} cargo test --test api fuzz"
    );

    if let Ok(filter) = std::env::var("KITH_FUZZ_LOG") {
        // The server's own account of a failure (`KITH_FUZZ_LOG=error`).
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
            .with_writer(std::io::stderr)
            .try_init();
    }
    let app = spawn_app().await;
    let world = Arc::new(World::build(&app).await);
    let schema = Arc::new(SchemaModel::load());
    let indices: Vec<usize> = only.unwrap_or_else(|| (0..count).collect());
    let total = indices.len();

    let started = Instant::now();
    let cpu_before = cpu_seconds();
    let outcomes: Vec<Outcome> = futures::stream::iter(indices)
        .map(|index| {
            let request = Generator::new(seed, index, &schema, &world).request();
            send(&app, &world, request)
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    let elapsed = started.elapsed();
    let cpu = cpu_seconds() - cpu_before;

    let mut tally: BTreeMap<String, usize> = BTreeMap::new();
    let mut failures: BTreeMap<String, Vec<&Outcome>> = BTreeMap::new();
    for outcome in &outcomes {
        for label in &outcome.labels {
            *tally.entry(label.clone()).or_default() += 1;
        }
        if let Some(cause) = &outcome.failure {
            failures.entry(cause.clone()).or_default().push(outcome);
        }
    }
    println!(
        "fuzz: {total} requests in {:.1} s on {database} ({concurrency} at a time; {cpu:.1} s of CPU for client and server), seed {seed}",
        elapsed.as_secs_f64()
    );
    for (label, n) in &tally {
        println!("  {label:<40} {n:>6}");
    }
    let mut slowest: Vec<&Outcome> = outcomes.iter().collect();
    slowest.sort_by_key(|o| std::cmp::Reverse(o.took));
    let times: Vec<String> = slowest
        .iter()
        .take(5)
        .map(|o| {
            format!(
                "#{} {} ms ({})",
                o.request.index,
                o.took.as_millis(),
                o.request.shape
            )
        })
        .collect();
    println!("  slowest: {}", times.join(", "));
    if *VERBOSE {
        let mut by_shape: BTreeMap<&str, (usize, Duration)> = BTreeMap::new();
        for o in &outcomes {
            let entry = by_shape.entry(o.request.shape).or_default();
            entry.0 += 1;
            entry.1 += o.took;
        }
        for (shape, (n, took)) in by_shape {
            println!(
                "  {shape:<30} {n:>6} requests, {:>8.1} s in all",
                took.as_secs_f64()
            );
        }
        for o in slowest.iter().take(5) {
            println!("  slow: {}", clip(&o.request.describe(), 600));
        }
    }
    if failures.is_empty() {
        return;
    }
    let mut report = format!(
        "{} of {total} requests failed the server, {} distinct causes (seed {seed}; replay one with \
         KITH_FUZZ_SEED={seed} KITH_FUZZ_ONLY=<index> cargo test --test api fuzz):\n",
        failures.values().map(Vec::len).sum::<usize>(),
        failures.len()
    );
    for (cause, all) in &failures {
        let first = all.iter().min_by_key(|o| o.request.index).unwrap();
        let indices: Vec<String> = all
            .iter()
            .map(|o| o.request.index.to_string())
            .take(12)
            .collect();
        let _ = write!(
            report,
            "\n=== {cause}: {} requests (#{}{})\n{}\n--- response: HTTP {}\n{}\n",
            all.len(),
            indices.join(", #"),
            if all.len() > 12 { ", ..." } else { "" },
            first.request.describe(),
            first.status,
            response_summary(&first.body),
        );
    }
    panic!("{report}");
}

// ---------------------------------------------------------------------------------------
// The schema, as the generator walks it.

#[derive(Clone)]
struct FieldDef {
    name: String,
    args: Vec<ArgDef>,
    ty: Type,
}

#[derive(Clone)]
struct ArgDef {
    name: String,
    ty: Type,
    has_default: bool,
}

enum Def {
    Scalar,
    Enum(Vec<String>),
    Object(Vec<FieldDef>),
    /// Fields and the object types implementing it (or a union's members, with no fields).
    Abstract(Vec<FieldDef>, Vec<String>),
    Input(Vec<ArgDef>),
}

struct SchemaModel {
    types: HashMap<String, Def>,
}

fn args_of(
    values: &[async_graphql::Positioned<async_graphql::parser::types::InputValueDefinition>],
) -> Vec<ArgDef> {
    values
        .iter()
        .map(|v| ArgDef {
            name: v.node.name.node.to_string(),
            ty: v.node.ty.node.clone(),
            has_default: v.node.default_value.is_some(),
        })
        .collect()
}

fn fields_of(
    fields: &[async_graphql::Positioned<async_graphql::parser::types::FieldDefinition>],
) -> Vec<FieldDef> {
    fields
        .iter()
        .map(|f| FieldDef {
            name: f.node.name.node.to_string(),
            args: args_of(&f.node.arguments),
            ty: f.node.ty.node.clone(),
        })
        .collect()
}

impl SchemaModel {
    fn load() -> Self {
        let doc =
            async_graphql::parser::parse_schema(kith::graphql::sdl()).expect("the SDL parses");
        let mut types = HashMap::new();
        let mut implementors: HashMap<String, Vec<String>> = HashMap::new();
        for definition in doc.definitions {
            let TypeSystemDefinition::Type(def) = definition else {
                continue;
            };
            let def = def.node;
            let name = def.name.node.to_string();
            let model = match def.kind {
                TypeKind::Scalar => Def::Scalar,
                TypeKind::Enum(e) => Def::Enum(
                    e.values
                        .iter()
                        .map(|v| v.node.value.node.to_string())
                        .collect(),
                ),
                TypeKind::Object(o) => {
                    for interface in &o.implements {
                        implementors
                            .entry(interface.node.to_string())
                            .or_default()
                            .push(name.clone());
                    }
                    Def::Object(fields_of(&o.fields))
                }
                TypeKind::Interface(i) => Def::Abstract(fields_of(&i.fields), Vec::new()),
                TypeKind::Union(u) => Def::Abstract(
                    Vec::new(),
                    u.members.iter().map(|m| m.node.to_string()).collect(),
                ),
                TypeKind::InputObject(i) => Def::Input(args_of(&i.fields)),
            };
            types.insert(name, model);
        }
        for (interface, objects) in implementors {
            if let Some(Def::Abstract(_, members)) = types.get_mut(&interface) {
                members.extend(objects);
            }
        }
        for root in ["Query", "Mutation", "Subscription"] {
            assert!(
                matches!(types.get(root), Some(Def::Object(_))),
                "the SDL has no {root} type"
            );
        }
        SchemaModel { types }
    }

    fn root_fields(&self, root: &str) -> &[FieldDef] {
        match self.types.get(root) {
            Some(Def::Object(fields)) => fields,
            _ => &[],
        }
    }

    /// Whether a field of this type needs a selection set.
    fn is_composite(&self, named: &str) -> bool {
        matches!(
            self.types.get(named),
            Some(Def::Object(_) | Def::Abstract(..))
        )
    }
}

fn named_type(ty: &Type) -> &str {
    match &ty.base {
        BaseType::Named(name) => name.as_str(),
        BaseType::List(inner) => named_type(inner),
    }
}

// ---------------------------------------------------------------------------------------
// What the fuzzer knows of the app: members, their tokens, and real IDs to aim at.

struct World {
    owner: Member,
    member: Member,
    /// IDs by type name (`Group`, `Event`, ...) of objects made while setting up.
    ids: HashMap<&'static str, Vec<String>>,
    /// Cursors the server gave out.
    cursors: Vec<String>,
    /// Strings worth aiming at particular arguments: a live meeting token and its code, a
    /// refresh token of a spare session, a real slug.
    tokens: Vec<String>,
    codes: Vec<String>,
    refresh_tokens: Vec<String>,
    slugs: Vec<String>,
    emails: Vec<String>,
    now: DateTime<Utc>,
}

const CREATE_EVENT: &str =
    "mutation($input: CreateEventInput!) { createEvent(input: $input) { id series { id } } }";

impl World {
    async fn build(app: &TestApp) -> World {
        let now = Utc::now();
        let owner = app
            .verified_member("fuzz.owner@example.com", "Fuzz Owner")
            .await;
        let member = app.sign_up("fuzz.member@example.com", "Fuzz Member").await;
        let pending = app
            .sign_up("fuzz.pending@example.com", "Fuzz Pending")
            .await;
        let spare = app
            .log_in_from(&owner.email, PASSWORD, "fuzz spare device")
            .await;

        let interests: Vec<String> = app
            .all_interests()
            .await
            .iter()
            .take(8)
            .map(|i| i["id"].as_str().unwrap().to_owned())
            .collect();
        app.set_interests(&owner, &interests[..3]).await;
        app.set_interests(&member, &interests[1..4]).await;

        let group = app
            .create_group(
                &owner,
                group_input_with(
                    "Fuzz Club",
                    52.52,
                    13.405,
                    json!({ "interestIds": &interests[..2] }),
                ),
            )
            .await;
        let approval = app
            .create_group(
                &owner,
                group_input_with(
                    "Fuzz Approval Circle",
                    52.50,
                    13.39,
                    json!({ "joinPolicy": "APPROVAL", "interestIds": &interests[2..5] }),
                ),
            )
            .await;
        let group_id = group.id.clone();
        let approval_id = approval.id.clone();

        let joined = app.join_group(&member, &group_id).await;
        let member_membership = joined["data"]["joinGroup"]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("{joined}"))
            .to_owned();
        let asked = app.join_group(&pending, &approval_id).await;
        let pending_membership = asked["data"]["joinGroup"]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("{asked}"))
            .to_owned();
        let owner_membership = group.viewer_membership.clone().unwrap().id;

        // Events: one starting in ten minutes (check-in and meeting tokens work now), a
        // small one, a weekly series, an online one, and one in the approval group.
        let venue = json!({ "name": "c-base", "address": "Rungestraße 20", "location": { "lat": 52.5129, "lng": 13.4201 } });
        let at = |minutes: i64| (now + chrono::Duration::minutes(minutes)).to_rfc3339();
        let inputs = [
            json!({ "groupId": group_id, "title": "Fuzz Now", "startsAt": at(10), "endsAt": at(180), "venue": venue }),
            json!({ "groupId": group_id, "title": "Fuzz Small", "startsAt": at(60 * 24 * 3), "endsAt": at(60 * 24 * 3 + 120), "venue": venue, "capacity": 1 }),
            json!({ "groupId": group_id, "title": "Fuzz Weekly", "startsAt": at(60 * 24 * 5), "endsAt": at(60 * 24 * 5 + 90), "venue": venue, "recurrence": "FREQ=WEEKLY;COUNT=4", "timeZone": "Europe/Berlin" }),
            json!({ "groupId": group_id, "title": "Fuzz Online", "startsAt": at(60 * 24 * 9), "endsAt": at(60 * 24 * 9 + 60), "onlineUrl": "https://meet.example/fuzz" }),
            json!({ "groupId": approval_id, "title": "Fuzz Approval Night", "startsAt": at(60 * 24 * 2), "endsAt": at(60 * 24 * 2 + 60), "venue": venue }),
        ];
        let mut events = Vec::new();
        let mut series = Vec::new();
        for input in inputs {
            let body = app
                .graphql(
                    Some(&owner.access_token),
                    CREATE_EVENT,
                    json!({ "input": input }),
                )
                .await;
            let event = &body["data"]["createEvent"];
            events.push(
                event["id"]
                    .as_str()
                    .unwrap_or_else(|| panic!("{body}"))
                    .to_owned(),
            );
            if let Some(id) = event["series"]["id"].as_str() {
                series.push(id.to_owned());
            }
        }

        let rsvp = "mutation($id: ID!) { rsvp(input: { eventId: $id, response: YES }) { id } }";
        let mut rsvps = Vec::new();
        for (who, event) in [
            (&owner, &events[0]),
            (&member, &events[0]),
            (&member, &events[1]),
            (&owner, &events[1]),
            (&member, &events[2]),
        ] {
            let body = app
                .graphql(Some(&who.access_token), rsvp, json!({ "id": event }))
                .await;
            rsvps.push(
                body["data"]["rsvp"]["id"]
                    .as_str()
                    .unwrap_or_else(|| panic!("{body}"))
                    .to_owned(),
            );
        }
        // Both checked in by the host at the event starting now: meetings can be confirmed.
        let check_in = "mutation($e: ID!, $u: ID!) { checkIn(input: { eventId: $e, userId: $u }) { checkedIn } }";
        let body = app
            .graphql(
                Some(&owner.access_token),
                check_in,
                json!({ "e": events[0], "u": member.id }),
            )
            .await;
        assert_eq!(body["data"]["checkIn"]["checkedIn"], true, "{body}");
        // No host checks themselves in as a host: the owner checks in by location.
        app.self_checks_in(&owner, &events[0]).await;
        let token =
            "mutation($e: ID!) { createMeetingToken(input: { eventId: $e }) { token code } }";
        let confirm =
            "mutation($t: String!) { confirmMeeting(input: { token: $t }) { id status } }";
        let first = app
            .graphql(Some(&member.access_token), token, json!({ "e": events[0] }))
            .await;
        let first_token = first["data"]["createMeetingToken"]["token"]
            .as_str()
            .unwrap_or_else(|| panic!("{first}"));
        let confirmed = app
            .graphql(
                Some(&owner.access_token),
                confirm,
                json!({ "t": first_token }),
            )
            .await;
        let confirmation = confirmed["data"]["confirmMeeting"]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("{confirmed}"))
            .to_owned();
        let mut tokens = Vec::new();
        let mut codes = Vec::new();
        for who in [&member, &owner] {
            let body = app
                .graphql(Some(&who.access_token), token, json!({ "e": events[0] }))
                .await;
            let made = &body["data"]["createMeetingToken"];
            tokens.push(
                made["token"]
                    .as_str()
                    .unwrap_or_else(|| panic!("{body}"))
                    .to_owned(),
            );
            codes.push(made["code"].as_str().unwrap().to_owned());
        }

        let sessions = app
            .graphql(
                Some(&spare.access_token),
                "{ viewer { sessions { id current } } }",
                json!({}),
            )
            .await;
        let spare_session = sessions["data"]["viewer"]["sessions"]
            .as_array()
            .unwrap_or_else(|| panic!("{sessions}"))
            .iter()
            .find(|s| s["current"] == true)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let notes = app
            .graphql(
                Some(&pending.access_token),
                "{ viewer { notifications(first: 5) { nodes { id } } } }",
                json!({}),
            )
            .await;
        let mut notifications: Vec<String> = notes["data"]["viewer"]["notifications"]["nodes"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|n| n["id"].as_str().map(str::to_owned))
            .collect();
        notifications.push(unknown_id("Notification"));

        // Cursors the server gave out, for `after`.
        let mut cursors = Vec::new();
        let pages = [
            (None, "{ interests(first: 2) { pageInfo { endCursor } } }".to_owned()),
            (
                Some(&owner),
                format!("{{ group(id: \"{group_id}\") {{ members(first: 1) {{ pageInfo {{ endCursor }} }} upcomingEvents(first: 1) {{ pageInfo {{ endCursor }} }} }} }}"),
            ),
            (
                Some(&member),
                "{ viewer { upcomingEvents(first: 1) { pageInfo { endCursor } } memberships(first: 1) { pageInfo { endCursor } } } recommendedGroups(first: 1) { pageInfo { endCursor } } }".to_owned(),
            ),
            (
                None,
                "{ searchGroups(filter: { near: { lat: 52.52, lng: 13.4 }, radiusKm: 50 }, first: 1) { pageInfo { endCursor } } searchEvents(filter: { near: { lat: 52.52, lng: 13.4 }, radiusKm: 50 }, first: 1) { pageInfo { endCursor } } }".to_owned(),
            ),
        ];
        for (who, query) in pages {
            let body = app
                .graphql(who.map(|m| m.access_token.as_str()), &query, json!({}))
                .await;
            collect_cursors(&body, &mut cursors);
        }
        assert!(cursors.len() >= 5, "too few cursors: {cursors:?}");

        let mut ids: HashMap<&'static str, Vec<String>> = HashMap::new();
        ids.insert(
            "User",
            vec![owner.id.clone(), member.id.clone(), pending.id.clone()],
        );
        ids.insert("Group", vec![group_id, approval_id]);
        ids.insert("Event", events);
        ids.insert("EventSeries", series);
        ids.insert(
            "Membership",
            vec![owner_membership, member_membership, pending_membership],
        );
        ids.insert("Rsvp", rsvps);
        ids.insert("Interest", interests);
        ids.insert("MeetingConfirmation", vec![confirmation]);
        // Only the spare session: revoking the fuzzer's own sessions would end the run.
        ids.insert("Session", vec![spare_session]);
        ids.insert("Notification", notifications);

        World {
            owner,
            member,
            ids,
            cursors,
            tokens,
            codes,
            refresh_tokens: vec![spare.refresh_token],
            slugs: vec![group.slug.clone(), approval.slug.clone()],
            emails: vec![
                "fuzz.owner@example.com".into(),
                "fuzz.member@example.com".into(),
                "FUZZ.PENDING@EXAMPLE.COM".into(),
            ],
            now,
        }
    }
}

fn collect_cursors(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, value) in map {
                match (key.as_str(), value) {
                    ("endCursor", Value::String(cursor)) => out.push(cursor.clone()),
                    _ => collect_cursors(value, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_cursors(v, out)),
        _ => {}
    }
}

// ---------------------------------------------------------------------------------------
// Values: what an argument receives, as a GraphQL literal or as JSON in `variables`.

#[derive(Clone, Debug)]
enum V {
    Null,
    Int(i64),
    Float(f64),
    Str(String),
    Bool(bool),
    Enum(String),
    List(Vec<V>),
    Obj(Vec<(String, V)>),
    /// Literal text that has no JSON form (or is not GraphQL at all); as JSON, a string.
    Raw(&'static str),
}

/// Literal junk: values no type accepts, and some that are not even GraphQL.
const RAW: &[&str] = &[
    "NaN",
    "Infinity",
    "-Infinity",
    "1e999",
    "-1e999",
    "0x1F",
    "01",
    ".5",
    "1.",
    "-",
    "$undefinedVariable",
    "\"\\uD800\"",
    "\"\\uDFFF\\uD800\"",
    "\"\\u{1F600}\"",
    "\"\\x41\"",
    "\"\\u0000\"",
    "\"\"\"block \\\"\"\" string\"\"\"",
    "[[[[[[[[[[1]]]]]]]]]]",
    "{}",
    "{ a: 1, a: 2 }",
    "true false",
    "null null",
    "99999999999999999999999999999999999999",
];

fn escape_graphql(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

impl V {
    fn literal(&self, out: &mut String) {
        match self {
            V::Null => out.push_str("null"),
            V::Int(i) => {
                let _ = write!(out, "{i}");
            }
            V::Float(f) => {
                // Debug keeps a fraction or an exponent (`200.0`, `1e308`, `-0.0`).
                let _ = write!(out, "{f:?}");
            }
            V::Str(s) => escape_graphql(s, out),
            V::Bool(b) => {
                let _ = write!(out, "{b}");
            }
            V::Enum(e) => out.push_str(e),
            V::List(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    item.literal(out);
                }
                out.push(']');
            }
            V::Obj(fields) => {
                out.push('{');
                for (i, (name, value)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    out.push_str(name);
                    out.push_str(": ");
                    value.literal(out);
                }
                out.push('}');
            }
            V::Raw(raw) => out.push_str(raw),
        }
    }

    fn json(&self) -> Value {
        match self {
            V::Null => Value::Null,
            V::Int(i) => json!(i),
            V::Float(f) => serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number),
            V::Str(s) | V::Enum(s) => json!(s),
            V::Raw(s) => json!(s),
            V::Bool(b) => json!(b),
            V::List(items) => Value::Array(items.iter().map(V::json).collect()),
            V::Obj(fields) => {
                Value::Object(fields.iter().map(|(k, v)| (k.clone(), v.json())).collect())
            }
        }
    }
}

/// Strings no validation expects: empty, huge, unicode, line breaks, NUL and other control
/// characters, SQL and LIKE metacharacters, look-alikes of other types.
static HOSTILE: LazyLock<Vec<String>> = LazyLock::new(hostile_strings);
/// The 100 KB ones, kept apart so GET requests (whose URLs have limits) can leave them out.
static HUGE: LazyLock<Vec<String>> = LazyLock::new(|| {
    vec![
        "y".repeat(100_000),
        "ß".repeat(50_000),
        "\u{0}".repeat(1000) + &"z".repeat(99_000),
        "%_".repeat(50_000),
    ]
});

fn hostile_strings() -> Vec<String> {
    let mut all: Vec<String> = [
        "",
        " ",
        "   \t  ",
        "a",
        "Zoë 🚀 東京 עברית",
        "\u{202e}evil\u{202c}",
        "e\u{301}\u{301}\u{301}",
        "\u{200b}\u{feff}",
        "\u{1F468}\u{200D}\u{1F469}\u{200D}\u{1F467}",
        "line one\r\nline two\n\rline three",
        "\r\n",
        "\u{0}",
        "nul\u{0}inside",
        "\u{1b}[31mred\u{1b}[0m",
        "\u{7f}\u{1}\u{2}\u{8}",
        "\u{fffd}\u{fffe}\u{ffff}",
        "%",
        "_",
        "\\",
        "'",
        "\"",
        "%_\\'\"",
        "' OR '1'='1",
        "'); DROP TABLE users; --",
        "%%%%%%%%",
        "____",
        "\\%\\_",
        "[a-z]*",
        "*",
        "null",
        "undefined",
        "NaN",
        "-0",
        "1e308",
        "true",
        "<script>alert(1)</script>",
        "../../../../etc/passwd",
        "${jndi:ldap://x}",
        "{{7*7}}",
        "%s%s%s%n",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    for n in [61, 81, 101, 121, 301, 1001, 2001, 5001, 20_001] {
        all.push("x".repeat(n));
    }
    all.push("é".repeat(2001));
    all.push("🚀".repeat(1001));
    all.push("%".repeat(5000));
    all
}

const TIME_ZONES: &[&str] = &[
    "Europe/Berlin",
    "UTC",
    "America/New_York",
    "Pacific/Kiritimati",
    "Etc/GMT+12",
    "Etc/GMT-14",
    "America/Argentina/ComodRivadavia",
    "Asia/Kathmandu",
    "Australia/Lord_Howe",
    "Not/AZone",
    "europe/berlin",
    "+02:00",
    "CET",
    "EST5EDT",
    "Europe/Berlin\u{0}",
    "../../etc/localtime",
];

const RRULES: &[&str] = &[
    "FREQ=WEEKLY;COUNT=3",
    "FREQ=DAILY;COUNT=2",
    "FREQ=WEEKLY",
    "FREQ=MONTHLY;BYMONTHDAY=31;COUNT=5",
    "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29",
    "FREQ=DAILY;COUNT=1000000",
    "FREQ=SECONDLY;COUNT=60",
    "FREQ=MINUTELY",
    "FREQ=HOURLY;COUNT=52",
    "FREQ=WEEKLY;COUNT=0",
    "FREQ=WEEKLY;INTERVAL=0",
    "FREQ=DAILY;INTERVAL=2147483647",
    "FREQ=WEEKLY;UNTIL=99991231T000000Z",
    "FREQ=WEEKLY;UNTIL=00010101T000000Z",
    "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR,SA,SU;COUNT=400",
    "FREQ=MONTHLY;BYDAY=-1FR",
    "FREQ=YEARLY;BYWEEKNO=53;BYDAY=MO",
    "FREQ=MONTHLY;BYSETPOS=-366;BYDAY=MO",
    "RRULE:FREQ=WEEKLY;COUNT=2",
    "DTSTART:20200101T000000Z\nRRULE:FREQ=DAILY",
    "FREQ=WEEKLY;COUNT=3;COUNT=4",
    "FREQ=FORTNIGHTLY",
    "COUNT=3",
    "FREQ=DAILY;BYHOUR=25",
    "FREQ=DAILY;COUNT=-1",
    "FREQ=DAILY;COUNT=99999999999999999999",
];

const URLS: &[&str] = &[
    "https://meet.example/x",
    "http://meet.example/room?id=1#top",
    "https://[::1]:8080/",
    "javascript:alert(1)",
    "data:text/html,<b>x</b>",
    "ftp://example.com/x",
    "https://",
    "https://exa mple.com",
    "https://example.com/\u{0}",
    "//example.com",
    "mailto:a@b.c",
];

const BAD_EMAILS: &[&str] = &[
    "a@b",
    "@",
    "no-at-sign",
    "a@@example.com",
    "a@example..com",
    " spaced@example.com ",
    "ANN@EXAMPLE.COM",
    "a\u{0}@example.com",
    "a\r\nBcc: x@example.com@example.com",
    "\"quoted local\"@example.com",
    "ünïcödé@exämple.com",
    "a@[127.0.0.1]",
];

/// Times the DateTime scalar accepts, at the edges.
const DATES: &[&str] = &[
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59Z",
    "9999-12-31T23:59:59.999999999Z",
    "1970-01-01T00:00:00Z",
    "1969-12-31T23:59:59.999999999Z",
    "2016-12-31T23:59:60Z",
    "2024-01-01T00:00:00+14:00",
    "2024-01-01T00:00:00-23:59",
    "2038-01-19T03:14:08Z",
    "2100-01-01T00:00:00.123456789+05:45",
    "0001-01-01T00:00:00+23:59",
    "9999-12-31T23:59:59-23:59",
];

/// Times it refuses (out of range or not RFC 3339).
const BAD_DATES: &[&str] = &[
    "+275760-09-13T00:00:00Z",
    "-271821-04-20T00:00:00Z",
    "+262143-12-31T23:59:59Z",
    "2024-02-30T00:00:00Z",
    "2024-01-01T00:00:00",
    "2024-01-01",
    "now",
    "",
    "1e308",
];

/// The type name inside a hint (`groupId` → `Group`), or None for any.
fn id_kind(hint: &str) -> Option<&'static str> {
    let hint = hint.to_ascii_lowercase();
    [
        ("confirmation", "MeetingConfirmation"),
        ("membership", "Membership"),
        ("group", "Group"),
        ("event", "Event"),
        ("user", "User"),
        ("interest", "Interest"),
        ("session", "Session"),
        ("ids", "Notification"),
    ]
    .iter()
    .find(|(part, _)| hint.contains(part))
    .map(|(_, kind)| *kind)
}

const KINDS: &[&str] = &[
    "User",
    "Group",
    "Event",
    "Membership",
    "Rsvp",
    "Interest",
    "EventSeries",
    "Notification",
    "MeetingConfirmation",
    "Session",
    "Report",
];

// ---------------------------------------------------------------------------------------
// The generator: one request from (seed, index).

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Who {
    Anonymous,
    Owner,
    Member,
    /// An Authorization header that is no valid token.
    BadToken(usize),
}

#[derive(Clone, Debug)]
enum Transport {
    Post,
    Get,
    /// A body sent as is (not necessarily JSON), with its content type.
    Raw(Vec<u8>, &'static str),
}

#[derive(Clone, Debug)]
struct Request {
    index: usize,
    who: Who,
    transport: Transport,
    /// What kind of request the generator meant (for the tally).
    shape: &'static str,
    query: String,
    variables: Value,
    operation_name: Option<String>,
}

fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let head: String = text.chars().take(max).collect();
    format!("{head}… ({} characters in all)", text.chars().count())
}

impl Request {
    fn describe(&self) -> String {
        let mut out = format!(
            "request #{} {:?} as {:?}",
            self.index,
            self.transport_name(),
            self.who
        );
        match &self.transport {
            Transport::Raw(body, content_type) => {
                let _ = write!(
                    out,
                    "\ncontent-type: {content_type}\nbody: {}",
                    clip(&String::from_utf8_lossy(body), 3000)
                );
            }
            _ => {
                let _ = write!(
                    out,
                    "\nquery: {}\nvariables: {}\noperationName: {:?}",
                    clip(&self.query, 4000),
                    clip(&self.variables.to_string(), 3000),
                    self.operation_name
                );
            }
        }
        out
    }

    fn transport_name(&self) -> &'static str {
        match self.transport {
            Transport::Post => "POST",
            Transport::Get => "GET",
            Transport::Raw(..) => "POST (raw body)",
        }
    }
}

struct Generator<'a> {
    rng: ChaCha8Rng,
    index: usize,
    schema: &'a SchemaModel,
    world: &'a World,
    /// Variable definitions (`$v1: Int!`) and their values.
    definitions: Vec<String>,
    variables: serde_json::Map<String, Value>,
    fragments: Vec<String>,
    counter: usize,
    max_depth: usize,
    /// Whether this request may also break GraphQL's rules (unknown fields, values of the
    /// wrong type, undeclared variables...), which stops it before any resolver runs. The
    /// others are valid GraphQL whose values are hostile, and reach the resolvers.
    mischievous: bool,
    /// Every `first` of this request is huge (`2147483647`): nested connections multiply
    /// them in the complexity count.
    huge_first: bool,
    /// Strings stay small in GET requests, whose URL the server may refuse to read.
    small: bool,
    /// The start of the event this request may create or move: start and end agree.
    anchor: DateTime<Utc>,
}

impl<'a> Generator<'a> {
    fn new(seed: u64, index: usize, schema: &'a SchemaModel, world: &'a World) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(index as u64);
        // Mostly the weeks ahead; sometimes the edges of time, start and end together.
        let anchor = if rng.random_bool(0.08) {
            let edge = *[
                "9999-12-31T20:00:00Z",
                "9999-12-20T00:00:00Z",
                "0001-01-01T00:00:00Z",
                "1970-01-01T00:00:00Z",
                "2038-01-19T03:00:00Z",
            ]
            .choose(&mut rng)
            .unwrap();
            edge.parse().unwrap()
        } else {
            world.now
                + chrono::Duration::hours(rng.random_range(1..24 * 60))
                + chrono::Duration::minutes(rng.random_range(0..4) * 15)
        };
        Generator {
            rng,
            index,
            schema,
            world,
            definitions: Vec::new(),
            variables: serde_json::Map::new(),
            fragments: Vec::new(),
            counter: 0,
            max_depth: 3,
            mischievous: false,
            huge_first: false,
            small: false,
            anchor,
        }
    }

    fn chance(&mut self, p: f64) -> bool {
        self.rng.random_bool(p)
    }

    /// `chance(p)` in a mischievous request, never in the others.
    fn mischief(&mut self, p: f64) -> bool {
        self.mischievous && self.rng.random_bool(p)
    }

    fn pick<T: Clone>(&mut self, items: &[T]) -> T {
        items
            .choose(&mut self.rng)
            .expect("a non-empty list")
            .clone()
    }

    fn next_name(&mut self) -> usize {
        self.counter += 1;
        self.counter
    }

    fn request(mut self) -> Request {
        let roll = self.rng.random_range(0..100);
        // Queries two times in three; GET for some of them.
        let operation = match self.rng.random_range(0..100) {
            0..64 => "query",
            64..98 => "mutation",
            _ => "subscription",
        };
        // Most mutations signed in, so that they get past UNAUTHENTICATED.
        let anonymous = if operation == "query" { 35 } else { 12 };
        let who = match self.rng.random_range(0..100) {
            n if n < anonymous => Who::Anonymous,
            n if n < anonymous + (95 - anonymous) * 6 / 10 => Who::Owner,
            n if n < 95 => Who::Member,
            _ => Who::BadToken(self.rng.random_range(0..BAD_AUTHORIZATION.len())),
        };
        if roll < 3 {
            return self.raw_body(who);
        }
        let get = match operation {
            "query" => self.chance(0.2),
            _ => self.chance(0.03),
        };
        self.small = get;
        self.mischievous = self.chance(0.2);
        self.huge_first = self.chance(0.05);
        self.max_depth = match self.rng.random_range(0..100) {
            _ if self.huge_first => 9,
            0..30 => 2,
            30..60 => 3,
            60..85 => 4,
            85..97 => 6,
            _ => 9,
        };
        let (mut query, operation_name) = self.operation(operation);
        let mut shape = match (operation, get) {
            ("query", false) => "query over POST",
            ("query", true) => "query over GET",
            ("mutation", false) => "mutation over POST",
            ("mutation", true) => "mutation over GET",
            _ => "subscription over HTTP",
        };
        if roll < 10 {
            query = self.break_document(query);
            shape = "broken document";
        }
        // A URL has limits of its own (the client's and the server's): long ones go by POST.
        let get = get
            && query.len()
                + self
                    .variables
                    .iter()
                    .map(|(_, v)| v.to_string().len())
                    .sum::<usize>()
                < 16_000;
        Request {
            index: self.index,
            who,
            transport: if get { Transport::Get } else { Transport::Post },
            shape,
            query,
            variables: Value::Object(std::mem::take(&mut self.variables)),
            operation_name,
        }
    }

    /// The document text and the operation name to send.
    fn operation(&mut self, kind: &str) -> (String, Option<String>) {
        let root = match kind {
            "query" => "Query",
            "mutation" => "Mutation",
            _ => "Subscription",
        };
        let fields: Vec<FieldDef> = self.schema.root_fields(root).to_vec();
        let count = match kind {
            "query" => self.rng.random_range(1..=4),
            "mutation" => self.rng.random_range(1..=2),
            _ => 1,
        };
        let mut parts = Vec::new();
        let mut keys = HashSet::new();
        for _ in 0..count {
            if kind == "query" && self.chance(0.04) {
                parts.push(self.pick(INTROSPECTION).to_owned());
                continue;
            }
            let field = self.pick_root(kind, &fields);
            parts.push(self.field(&field, 1, &mut keys));
        }
        let name = self.chance(0.5).then(|| format!("Fuzz{}", self.index));
        let mut document = String::new();
        let shorthand = kind == "query" && name.is_none() && self.definitions.is_empty();
        if !shorthand || self.chance(0.3) {
            document.push_str(kind);
            if let Some(name) = &name {
                document.push(' ');
                document.push_str(name);
            }
            if !self.definitions.is_empty() {
                let _ = write!(document, "({})", self.definitions.join(", "));
            }
            document.push(' ');
        }
        let _ = write!(document, "{{ {} }}", parts.join(" "));
        for fragment in &self.fragments {
            document.push(' ');
            document.push_str(fragment);
        }
        let sent_name = if self.mischief(0.1) {
            Some("NoSuchOperation".to_owned())
        } else if self.chance(0.8) {
            name
        } else {
            None
        };
        (document, sent_name)
    }

    /// A mutation, seldom one that hashes a password (those cost tens of milliseconds) or
    /// one that ends what the rest of the run aims at.
    fn pick_root(&mut self, kind: &str, fields: &[FieldDef]) -> FieldDef {
        loop {
            let field = self.pick(fields);
            if kind != "mutation" {
                return field;
            }
            let weight = match field.name.as_str() {
                "signUp" | "logIn" | "changePassword" | "changeEmail" | "deleteAccount"
                | "resetPassword" => 0.15,
                "cancelEvent" | "leaveGroup" | "setMemberRole" | "blockUser" => 0.3,
                _ => 1.0,
            };
            if self.chance(weight) {
                return field;
            }
        }
    }

    /// One field with its arguments and selection, maybe aliased.
    fn field(&mut self, field: &FieldDef, depth: usize, keys: &mut HashSet<String>) -> String {
        let mut out = String::new();
        if self.chance(0.3) || keys.contains(&field.name) {
            let alias = format!("{}_{}", field.name, self.next_name());
            let _ = write!(out, "{alias}: ");
            keys.insert(alias);
        } else {
            keys.insert(field.name.clone());
        }
        out.push_str(&field.name);
        let mut args = Vec::new();
        for arg in &field.args {
            let required = !arg.ty.nullable && !arg.has_default;
            let include = if required {
                !self.mischief(0.05)
            } else {
                self.chance(0.5)
            };
            if !include {
                continue;
            }
            // `group(id:)` aims at groups, `node(id:)` at anything.
            let hint = if arg.name == "id" {
                field.name.as_str()
            } else {
                arg.name.as_str()
            };
            let value = self.argument(&arg.ty, hint, 0);
            args.push(format!("{}: {value}", arg.name));
        }
        if self.mischief(0.03) {
            args.push("noSuchArgument: 1".to_owned());
        }
        if !args.is_empty() {
            let _ = write!(out, "({})", args.join(", "));
        }
        if self.chance(0.04) {
            out.push_str(&self.directive());
        }
        let named = named_type(&field.ty).to_owned();
        let composite = self.schema.is_composite(&named);
        if composite && !self.mischief(0.02) {
            let selection = self.selection(&named, depth + 1);
            let _ = write!(out, " {{ {selection} }}");
        } else if !composite && self.mischief(0.02) {
            out.push_str(" { id }");
        }
        out
    }

    fn directive(&mut self) -> String {
        let name = if self.chance(0.5) { "include" } else { "skip" };
        let condition = match self.rng.random_range(0..5) {
            0 => "true".to_owned(),
            1 => "false".to_owned(),
            2 if self.mischievous => "null".to_owned(),
            _ => {
                let var = format!("b{}", self.next_name());
                self.definitions.push(format!("${var}: Boolean!"));
                let value = self.rng.random_bool(0.5);
                self.variables.insert(var.clone(), json!(value));
                format!("${var}")
            }
        };
        format!(" @{name}(if: {condition})")
    }

    /// A selection set for an object, interface or union type.
    fn selection(&mut self, type_name: &str, depth: usize) -> String {
        let schema = self.schema;
        let mut keys = HashSet::new();
        let mut parts = Vec::new();
        match schema.types.get(type_name) {
            Some(Def::Object(fields)) => {
                let count = self.rng.random_range(1..=4);
                for _ in 0..count {
                    match self.rng.random_range(0..100) {
                        0..4 if depth < self.max_depth => {
                            let inner = self.selection(type_name, depth + 1);
                            let condition = if self.chance(0.5) {
                                format!("on {type_name} ")
                            } else {
                                String::new()
                            };
                            parts.push(format!("... {condition}{{ {inner} }}"));
                            continue;
                        }
                        4..7 if depth < self.max_depth => {
                            parts.push(self.fragment(type_name, depth));
                            continue;
                        }
                        7..10 => {
                            parts.push("__typename".to_owned());
                            continue;
                        }
                        10..13 if self.mischievous => {
                            parts.push("noSuchField".to_owned());
                            continue;
                        }
                        _ => {}
                    }
                    let candidates: Vec<&FieldDef> = fields
                        .iter()
                        .filter(|f| {
                            depth < self.max_depth || !schema.is_composite(named_type(&f.ty))
                        })
                        .collect();
                    if candidates.is_empty() {
                        parts.push("__typename".to_owned());
                        continue;
                    }
                    let field = (*candidates.choose(&mut self.rng).unwrap()).clone();
                    parts.push(self.field(&field, depth, &mut keys));
                }
            }
            Some(Def::Abstract(fields, members)) => {
                if !fields.is_empty() && self.chance(0.8) {
                    let field = self.pick(fields);
                    parts.push(self.field(&field, depth, &mut keys));
                }
                if self.chance(0.3) {
                    parts.push("__typename".to_owned());
                }
                let count = if depth < self.max_depth {
                    self.rng.random_range(1..=3)
                } else {
                    0
                };
                for _ in 0..count {
                    if members.is_empty() {
                        break;
                    }
                    let member = self.pick(members);
                    if self.chance(0.25) {
                        parts.push(self.fragment(&member, depth));
                    } else {
                        let inner = self.selection(&member, depth + 1);
                        parts.push(format!("... on {member} {{ {inner} }}"));
                    }
                }
                if self.mischief(0.1) {
                    // A type that does not implement it: a validation error.
                    parts.push("... on PageInfo { hasNextPage }".to_owned());
                }
                if parts.is_empty() {
                    parts.push("__typename".to_owned());
                }
            }
            _ => parts.push("__typename".to_owned()),
        }
        parts.join(" ")
    }

    fn fragment(&mut self, on: &str, depth: usize) -> String {
        let name = format!("F{}", self.next_name());
        let body = self.selection(on, depth + 1);
        self.fragments
            .push(format!("fragment {name} on {on} {{ {body} }}"));
        format!("...{name}")
    }

    /// An argument's text: a literal, a variable, or an input object of both.
    fn argument(&mut self, ty: &Type, hint: &str, depth: usize) -> String {
        let schema = self.schema;
        if self.chance(0.3) {
            let value = self.value(ty, hint, depth);
            if !contains_raw(&value) {
                return self.variable(ty, value);
            }
        }
        if let BaseType::Named(name) = &ty.base
            && let Some(Def::Input(fields)) = schema.types.get(name.as_str())
            && depth < 4
            && !self.chance(0.05)
        {
            let mut parts = Vec::new();
            for field in fields {
                let required = !field.ty.nullable && !field.has_default;
                let include = if required {
                    !self.mischief(0.05)
                } else {
                    self.chance(0.5)
                };
                if include {
                    let value = self.argument(&field.ty, &field.name, depth + 1);
                    parts.push(format!("{}: {value}", field.name));
                }
            }
            if self.mischief(0.05) {
                parts.push("noSuchField: \"x\"".to_owned());
            }
            return format!("{{{}}}", parts.join(", "));
        }
        let mut out = String::new();
        self.value(ty, hint, depth).literal(&mut out);
        out
    }

    /// Declares `$vN` for the value and returns its name; sometimes declared with another
    /// type, with a default and no value, or with no value at all.
    fn variable(&mut self, ty: &Type, value: V) -> String {
        let name = format!("v{}", self.next_name());
        let declared = if self.mischief(0.1) {
            self.pick(&[
                "String",
                "Int!",
                "[ID]",
                "Boolean",
                "GeoPointInput",
                "NoSuchType",
                "ID!",
                "[[Float!]!]",
            ])
            .to_owned()
        } else {
            ty.to_string()
        };
        let nullable_or_mischief = ty.nullable || self.mischievous;
        match self.rng.random_range(0..100) {
            0..4 => {
                let mut default = String::new();
                value.literal(&mut default);
                self.definitions
                    .push(format!("${name}: {declared} = {default}"));
            }
            // No value: null for a nullable type, an error for the others.
            4..7 if nullable_or_mischief => self.definitions.push(format!("${name}: {declared}")),
            _ => {
                self.definitions.push(format!("${name}: {declared}"));
                self.variables.insert(name.clone(), value.json());
            }
        }
        format!("${name}")
    }

    fn value(&mut self, ty: &Type, hint: &str, depth: usize) -> V {
        let schema = self.schema;
        if ty.nullable && self.chance(0.1) {
            return V::Null;
        }
        if !ty.nullable && self.mischief(0.03) {
            return V::Null;
        }
        if self.mischief(0.06) {
            return self.wrong_kind();
        }
        if self.mischief(0.02) {
            return V::Raw(self.pick(RAW));
        }
        match &ty.base {
            BaseType::List(inner) => {
                if self.chance(0.05) {
                    // One value where a list goes: input coercion makes it a list of one.
                    return self.value(inner, hint, depth + 1);
                }
                let length = match self.rng.random_range(0..100) {
                    0..20 => 0,
                    20..93 => self.rng.random_range(1..=3),
                    93..99 => self.rng.random_range(29..=40),
                    _ => {
                        if self.small {
                            100
                        } else {
                            1000
                        }
                    }
                };
                let item = self.value(inner, hint, depth + 1);
                let mut items = vec![item];
                for _ in 1..length {
                    if self.chance(0.3) {
                        // Repeats: duplicates are their own test.
                        items.push(items[0].clone());
                    } else {
                        items.push(self.value(inner, hint, depth + 1));
                    }
                }
                items.truncate(length);
                V::List(items)
            }
            BaseType::Named(name) => match name.as_str() {
                "Int" => self.int(hint),
                "Float" => self.float(hint),
                "String" => V::Str(self.string(hint)),
                "Boolean" => V::Bool(self.chance(0.5)),
                "ID" => V::Str(self.id(hint)),
                "DateTime" => V::Str(self.datetime(hint)),
                other => match schema.types.get(other) {
                    Some(Def::Enum(values)) => {
                        if !self.mischief(0.3) {
                            V::Enum(self.pick(values))
                        } else {
                            V::Enum(
                                self.pick(&["UNKNOWN", "yes", "Organizer", "true", "null_", "ÄÖÜ"])
                                    .to_owned(),
                            )
                        }
                    }
                    Some(Def::Input(fields)) => {
                        let fields = fields.clone();
                        let mut out = Vec::new();
                        for field in fields {
                            let required = !field.ty.nullable && !field.has_default;
                            let include = if depth > 5 {
                                required
                            } else if required {
                                self.chance(0.96)
                            } else {
                                self.chance(0.5)
                            };
                            if include {
                                let value = self.value(&field.ty, &field.name, depth + 1);
                                out.push((field.name.clone(), value));
                            }
                        }
                        if self.mischief(0.05) {
                            out.push(("noSuchField".to_owned(), V::Int(1)));
                        }
                        V::Obj(out)
                    }
                    _ => V::Str(self.string(hint)),
                },
            },
        }
    }

    fn wrong_kind(&mut self) -> V {
        match self.rng.random_range(0..7) {
            0 => V::Int(self.pick(&[0, -1, 1, i64::MAX, i64::MIN])),
            1 => V::Float(self.pick(&[0.5, -1.5e300, f64::MIN_POSITIVE])),
            2 => V::Str(self.pick(&HOSTILE)),
            3 => V::Bool(true),
            4 => V::List(vec![V::Int(1), V::Str("two".into()), V::Null]),
            5 => V::Obj(vec![("lat".into(), V::Int(1)), ("x".into(), V::Null)]),
            _ => V::Enum("SOME_ENUM".into()),
        }
    }

    fn int(&mut self, hint: &str) -> V {
        let hint = hint.to_ascii_lowercase();
        if hint == "first" && self.huge_first {
            return V::Int(self.pick(&[i32::MAX as i64, i32::MAX as i64 - 1, 1 << 30]));
        }
        if self.chance(0.6) {
            return V::Int(match hint.as_str() {
                "first" => self.rng.random_range(1..=5),
                "capacity" => self.rng.random_range(1..=20),
                _ => self.rng.random_range(0..=10),
            });
        }
        if self.mischief(0.3) {
            // Out of Int's range: refused while parsing the arguments.
            return V::Int(self.pick(&[
                i32::MAX as i64 + 1,
                i32::MIN as i64 - 1,
                1 << 53,
                i64::MAX,
            ]));
        }
        V::Int(self.pick(&[
            0,
            -1,
            1,
            20,
            100,
            101,
            1000,
            i32::MAX as i64,
            i32::MIN as i64,
        ]))
    }

    fn float(&mut self, hint: &str) -> V {
        let hint = hint.to_ascii_lowercase();
        let hostile = [
            0.0,
            -0.0,
            1e308,
            -1e308,
            5e-324,
            -5e-324,
            1e16,
            90.0,
            -90.0,
            90.000001,
            -90.5,
            180.0,
            -180.0,
            180.000001,
            360.0,
            200.0,
            200.000001,
            -1.0,
            1e-9,
            f64::MAX,
            f64::EPSILON,
        ];
        if self.chance(0.35) {
            return if self.chance(0.1) {
                V::Int(self.pick(&[0, 90, -180, 200, i32::MAX as i64]))
            } else {
                V::Float(self.pick(&hostile))
            };
        }
        V::Float(match hint.as_str() {
            "lat" => 52.52 + self.rng.random_range(-0.05..0.05),
            "lng" => 13.405 + self.rng.random_range(-0.05..0.05),
            "radiuskm" => self.pick(&[0.5, 1.0, 5.0, 25.0, 100.0, 200.0]),
            _ => self.rng.random_range(-10.0..10.0),
        })
    }

    fn big_string(&mut self) -> String {
        if self.small {
            "q".repeat(4000)
        } else {
            self.pick(&HUGE)
        }
    }

    fn string(&mut self, hint: &str) -> String {
        let world = self.world;
        if self.chance(0.03) {
            return self.big_string();
        }
        let hint = hint.to_ascii_lowercase();
        if hint == "after" {
            return self.cursor();
        }
        if self.chance(0.4) {
            let mut s = self.pick(&HOSTILE);
            if self.small && s.len() > 2000 {
                s.truncate(2000);
            }
            return s;
        }
        let n = self.rng.random_range(0..1_000_000);
        match hint.as_str() {
            "email" | "newemail" => {
                if self.chance(0.3) {
                    self.pick(&world.emails)
                } else if self.chance(0.3) {
                    self.pick(BAD_EMAILS).to_owned()
                } else {
                    format!("fuzz{n}@example.com")
                }
            }
            "password" | "currentpassword" | "newpassword" => self
                .pick(&[
                    "fuzzing password 1",
                    "0123456789",
                    "short",
                    "",
                    "パスワードパスワード",
                    "          ",
                ])
                .to_owned(),
            "displayname" | "name" | "title" | "city" => {
                format!(
                    "Fuzz {} {n}",
                    self.pick(&["Club", "Night", "Walk", "Ann", "Köln"])
                )
            }
            "description" | "bio" | "reason" => {
                format!("Fuzzed words {n}: we meet, we talk, we play.")
            }
            "timezone" => self.pick(TIME_ZONES).to_owned(),
            "onlineurl" => self.pick(URLS).to_owned(),
            "recurrence" => self.pick(RRULES).to_owned(),
            "code" => {
                if self.chance(0.3) {
                    self.pick(&world.codes)
                } else {
                    self.pick(&[
                        "123456",
                        "000000",
                        "99999",
                        "1234567",
                        "ABCD-EFGH",
                        "abcdefgh",
                        "O0I1L-2345",
                        "  12 34 56  ",
                    ])
                    .to_owned()
                }
            }
            "token" => {
                if self.chance(0.4) {
                    self.pick(&world.tokens)
                } else {
                    self.pick(BAD_TOKENS).to_owned()
                }
            }
            "refreshtoken" => {
                if self.chance(0.3) {
                    self.pick(&world.refresh_tokens)
                } else {
                    self.pick(BAD_TOKENS).to_owned()
                }
            }
            "slug" => {
                if self.chance(0.6) {
                    self.pick(&world.slugs)
                } else {
                    format!("fuzz-club-{n}")
                }
            }
            "query" => self
                .pick(&[
                    "club",
                    "Fuzz",
                    "berlin",
                    "zzzz-no-match",
                    "ART",
                    "e",
                    "Board Games",
                ])
                .to_owned(),
            "address" => "Rungestraße 20, 10179 Berlin".to_owned(),
            _ => format!("fuzz {n}"),
        }
    }

    fn id(&mut self, hint: &str) -> String {
        let kind = id_kind(hint);
        let uuid = uuid::Builder::from_random_bytes(self.rng.random()).into_uuid();
        match self.rng.random_range(0..100) {
            0..60 => {
                let pool = kind
                    .and_then(|k| self.world.ids.get(k))
                    .filter(|ids| !ids.is_empty());
                match pool {
                    Some(ids) => self.pick(ids),
                    None => self.any_id(),
                }
            }
            60..70 => self.any_id(),
            70..85 => {
                let kind = match kind {
                    Some(kind) if self.chance(0.7) => kind,
                    _ => self.pick(KINDS),
                };
                let text = match self.rng.random_range(0..10) {
                    0 => format!("{kind}:{}", uuid::Uuid::nil()),
                    1 => format!("{kind}:{}", uuid::Uuid::max()),
                    2 => format!("{}:{uuid}", kind.to_lowercase()),
                    3 => format!("{kind}:{uuid}:extra"),
                    4 => format!("{kind}:{}", uuid.simple()),
                    5 => format!("{kind}:{}", uuid.urn()),
                    6 => format!("{kind}:not-a-uuid"),
                    _ => format!("{kind}:{uuid}"),
                };
                URL_SAFE_NO_PAD.encode(text)
            }
            _ => {
                let valid = self.any_id();
                match self.rng.random_range(0..12) {
                    0 => String::new(),
                    1 => "1".to_owned(),
                    2 => "-1".to_owned(),
                    3 => STANDARD.encode(format!("User:{uuid}")),
                    4 => format!("User:{uuid}"),
                    5 => format!("{valid}="),
                    6 => valid.to_uppercase(),
                    7 => {
                        let mut chars: Vec<char> = valid.chars().collect();
                        let at = self.rng.random_range(0..chars.len());
                        chars[at] = if chars[at] == 'A' { 'B' } else { 'A' };
                        chars.into_iter().collect()
                    }
                    8 => URL_SAFE_NO_PAD.encode([0xff, 0xfe, 0x00, 0x3a, 0x80]),
                    9 => self.big_string(),
                    10 => uuid.to_string(),
                    _ => self.pick(&HOSTILE),
                }
            }
        }
    }

    fn any_id(&mut self) -> String {
        let all: Vec<&String> = self.world.ids.values().flatten().collect();
        (*all.choose(&mut self.rng).unwrap()).clone()
    }

    fn datetime(&mut self, hint: &str) -> String {
        let hint = hint.to_ascii_lowercase();
        if self.mischief(0.3) {
            return self.pick(BAD_DATES).to_owned();
        }
        if self.chance(0.3) {
            return self.pick(DATES).to_owned();
        }
        let at = match hint.as_str() {
            "endsat" => match self.rng.random_range(0..10) {
                0 => self.anchor + chrono::Duration::days(14) + chrono::Duration::seconds(1),
                1 => self.anchor - chrono::Duration::hours(1),
                2 => self.anchor,
                _ => self.anchor + chrono::Duration::hours(2),
            },
            "startsbefore" => self.anchor + chrono::Duration::days(30),
            _ if self.chance(0.1) => self.world.now - chrono::Duration::days(3),
            _ => self.anchor,
        };
        at.to_rfc3339()
    }

    fn cursor(&mut self) -> String {
        let world = self.world;
        match self.rng.random_range(0..10) {
            0..3 => self.pick(&world.cursors),
            3..5 => {
                // A real cursor, decoded, changed and encoded again.
                let real = self.pick(&world.cursors);
                let decoded = URL_SAFE_NO_PAD
                    .decode(&real)
                    .ok()
                    .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
                    .unwrap_or(Value::Null);
                let changed = self.mangle_json(decoded);
                URL_SAFE_NO_PAD.encode(changed.to_string())
            }
            5..8 => {
                let key = self.forged_key();
                URL_SAFE_NO_PAD.encode(key.to_string())
            }
            _ => self
                .pick(&[
                    "",
                    "bogus",
                    "YXJyYXljb25uZWN0aW9uOjA",
                    "0",
                    "-1",
                    "99999999999999999999",
                    "====",
                    "e30",
                    "bnVsbA",
                    "W10",
                    "IiI",
                ])
                .to_owned(),
        }
    }

    fn hostile_scalar(&mut self) -> Value {
        match self.rng.random_range(0..8) {
            0 => json!(self.pick(&[1e308, -1e308, 0.0, -0.0, 5e-324, 1e16, -1.0])),
            1 => json!(self.pick(&[i64::MAX, i64::MIN, 0, -1])),
            2 => json!(u64::MAX),
            3 => json!(self.pick(&[DATES, BAD_DATES].concat())),
            4 => json!(self.pick(&HOSTILE)),
            5 => json!(self.pick(&[
                "00000000-0000-0000-0000-000000000000",
                "ffffffff-ffff-ffff-ffff-ffffffffffff",
                "not-a-uuid",
                "00000000000000000000000000000000",
            ])),
            6 => Value::Null,
            _ => json!(true),
        }
    }

    /// A sort key shaped like the server's (`[distance, id]`, `[startsAt, id]`,
    /// `[name, id]`, `id`) with hostile parts.
    fn forged_key(&mut self) -> Value {
        let uuid = uuid::Builder::from_random_bytes(self.rng.random())
            .into_uuid()
            .to_string();
        let part = self.hostile_scalar();
        match self.rng.random_range(0..9) {
            0 => json!([part, uuid]),
            1 => json!([self.pick(&[DATES, BAD_DATES].concat()), uuid]),
            2 => json!([self.pick(&HOSTILE), uuid]),
            3 => json!(uuid),
            4 => json!([uuid, part]),
            5 => json!([part]),
            6 => json!([part, uuid, 1]),
            7 => json!({ "id": uuid }),
            _ => part,
        }
    }

    fn mangle_json(&mut self, value: Value) -> Value {
        match value {
            Value::Array(mut items) if !items.is_empty() => {
                let at = self.rng.random_range(0..items.len());
                items[at] = self.hostile_scalar();
                Value::Array(items)
            }
            _ => self.hostile_scalar(),
        }
    }

    /// Breaks a document the way a buggy client or an attacker would.
    fn break_document(&mut self, document: String) -> String {
        let chars: Vec<char> = document.chars().collect();
        let at = self.rng.random_range(0..=chars.len());
        let head: String = chars[..at].iter().collect();
        let tail: String = chars[at..].iter().collect();
        match self.rng.random_range(0..16) {
            0 => head,
            1 => format!(
                "{head}{}{tail}",
                self.pick(&[
                    "{", "}", "(", ")", "[", "]", ":", "$", "@", "!", "\"", "\\", "#", "...", "=",
                    "|", "&", "\u{0}", "\u{feff}"
                ])
            ),
            2 => format!(
                "{head}{}",
                chars
                    .get(at + 1..)
                    .map(|c| c.iter().collect::<String>())
                    .unwrap_or_default()
            ),
            3 => format!("{document} {document}"),
            4 => format!(
                "{}{}",
                "{ a: __typename ".repeat(self.rng.random_range(20..3000)),
                "}".repeat(3)
            ),
            5 => format!(
                "{{{}}}",
                "__typename ".repeat(self.rng.random_range(1000..5000))
            ),
            6 => {
                let n = self.rng.random_range(500..2000);
                format!(
                    "{{ {} }}",
                    (0..n)
                        .map(|i| format!("a{i}: __typename"))
                        .collect::<Vec<_>>()
                        .join(" ")
                )
            }
            7 => format!(
                "query {{ viewer {{ user {{ {} }} }} }}",
                "interests { ".repeat(self.rng.random_range(5..200))
            ),
            8 => "\u{feff}{ __typename }".to_owned(),
            9 => format!("{document} query Other {{ __typename }}"),
            10 => "{ __typename } { __typename }".to_owned(),
            11 => self
                .pick(&[
                    "",
                    " ",
                    "query",
                    "mutation",
                    "{}",
                    "{ }",
                    "fragment F on Query { __typename }",
                    "subscription",
                    "#",
                    "\"\"\"",
                    "query ($: Int) { __typename }",
                    "{ node(id: \"x\") { ...F } }",
                    "query Q($a: Int, $a: Int) { __typename }",
                    "{ __typename @nosuch }",
                    "{ __typename @skip(if: true) @skip(if: false) }",
                ])
                .to_owned(),
            12 => {
                let bytes: Vec<u8> = (0..self.rng.random_range(1..200))
                    .map(|_| self.rng.random())
                    .collect();
                String::from_utf8_lossy(&bytes).into_owned()
            }
            13 => format!("{head}{}", "{".repeat(self.rng.random_range(100..5000))),
            // A fragment that spreads itself.
            14 => "{ ...F } fragment F on Query { __typename ...F }".to_owned(),
            _ => document.replacen(' ', "\u{0}", 1),
        }
    }

    /// A body that is not a well-formed GraphQL request.
    fn raw_body(mut self, who: Who) -> Request {
        let n = self.rng.random_range(0..18);
        let (body, content_type): (Vec<u8>, &'static str) = match n {
            0 => (Vec::new(), "application/json"),
            1 => (b"null".to_vec(), "application/json"),
            2 => (b"[]".to_vec(), "application/json"),
            3 => (br#"[{"query":"{ __typename }"}]"#.to_vec(), "application/json"),
            4 => (br#"{"query": 5}"#.to_vec(), "application/json"),
            5 => (br#"{"query":"{ __typename }","variables":"x"}"#.to_vec(), "application/json"),
            6 => (br#"{"query":"{ __typename }","variables":[1,2]}"#.to_vec(), "application/json"),
            7 => (br#"{"query":"{ __typename }","operationName":7}"#.to_vec(), "application/json"),
            8 => (br#"{"query":"{ __typename }","extensions":{"persistedQuery":{"version":1,"sha256Hash":"abc"}}}"#.to_vec(), "application/json"),
            9 => (br#"{"query":"{ __typename }","query":"{ viewer { email } }"}"#.to_vec(), "application/json"),
            10 => (b"{\"query\":\"{ __typename }\xff\xfe\"}".to_vec(), "application/json"),
            11 => (b"query { __typename }".to_vec(), "application/graphql"),
            12 => (br#"{"query":"{ __typename }"}"#.to_vec(), "text/plain"),
            13 => {
                let mut body = br#"{"query":"{ __typename }","variables":{"x":""#.to_vec();
                body.extend(std::iter::repeat_n(b'a', 2 * 1024 * 1024));
                body.extend(br#""}}"#);
                (body, "application/json")
            }
            14 => (format!("{{\"query\":\"{{ __typename }}\",\"variables\":{}}}", "[".repeat(10_000) + &"]".repeat(10_000)).into_bytes(), "application/json"),
            15 => (br#"{"query":"query($n: Float) { __typename }","variables":{"n":1e400}}"#.to_vec(), "application/json"),
            16 => (br#"{"query":"{ __typename }"} trailing"#.to_vec(), "application/json"),
            _ => (br#"{"query":"{ __typename }","variables":null,"operationName":null}"#.to_vec(), "application/json"),
        };
        Request {
            index: self.index,
            who,
            transport: Transport::Raw(body, content_type),
            shape: "raw body",
            query: String::new(),
            variables: Value::Null,
            operation_name: None,
        }
    }
}

fn contains_raw(value: &V) -> bool {
    match value {
        V::Raw(_) => true,
        V::List(items) => items.iter().any(contains_raw),
        V::Obj(fields) => fields.iter().any(|(_, v)| contains_raw(v)),
        _ => false,
    }
}

const INTROSPECTION: &[&str] = &[
    "__typename",
    "__schema { queryType { name } mutationType { fields { name args { name type { name kind ofType { name } } } } } }",
    "__type(name: \"Group\") { name fields { name type { kind name ofType { kind name } } } }",
    "__type(name: \"NoSuchType\") { name }",
    "__type(name: \"\") { name }",
    "__schema { types { name kind possibleTypes { name } enumValues(includeDeprecated: true) { name } inputFields { name defaultValue } } }",
    "__schema { directives { name locations args { name } } }",
];

const BAD_TOKENS: &[&str] = &[
    "",
    "garbage",
    "a.b.c",
    "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.",
    "eyJhbGciOiJIUzI1NiIsInR5cCI6Im1lZXQrand0In0.e30.AAAA",
    "..",
];

const BAD_AUTHORIZATION: &[&str] = &[
    "Bearer garbage",
    "Bearer ",
    "Bearer",
    "Basic dXNlcjpwYXNz",
    "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.",
    "bearer {owner}",
    "Bearer {owner}x",
    "Bearer {owner} {member}",
    "Token {member}",
];

// ---------------------------------------------------------------------------------------
// Sending, and what counts as a failure.

struct Outcome {
    request: Request,
    took: Duration,
    status: u16,
    body: String,
    /// For the tally: the request's shape and each error code (or OK).
    labels: Vec<String>,
    /// The cause, when the server failed: the same cause gives the same text.
    failure: Option<String>,
}

fn authorization(world: &World, who: Who) -> Option<String> {
    match who {
        Who::Anonymous => None,
        Who::Owner => Some(format!("Bearer {}", world.owner.access_token)),
        Who::Member => Some(format!("Bearer {}", world.member.access_token)),
        Who::BadToken(i) => Some(
            BAD_AUTHORIZATION[i]
                .replace("{owner}", &world.owner.access_token)
                .replace("{member}", &world.member.access_token),
        ),
    }
}

async fn send(app: &TestApp, world: &World, request: Request) -> Outcome {
    let url = app.url("/graphql");
    let mut builder = match &request.transport {
        Transport::Post => {
            let mut body = json!({ "query": request.query, "variables": request.variables });
            if let Some(name) = &request.operation_name {
                body["operationName"] = json!(name);
            }
            app.client.post(&url).json(&body)
        }
        Transport::Get => {
            let mut params = vec![("query", request.query.clone())];
            if request.variables.as_object().is_some_and(|v| !v.is_empty()) {
                params.push(("variables", request.variables.to_string()));
            }
            if let Some(name) = &request.operation_name {
                params.push(("operationName", name.clone()));
            }
            app.client.get(&url).query(&params)
        }
        Transport::Raw(body, content_type) => app
            .client
            .post(&url)
            .header("content-type", *content_type)
            .body(body.clone()),
    };
    if let Some(value) = authorization(world, request.who) {
        builder = builder.header("authorization", value);
    }
    let started = Instant::now();
    let mut retried = false;
    let (status, body) = loop {
        let again = builder.try_clone();
        match exchange(builder).await {
            // A connection the server closed after answering an earlier request (a 413 to a
            // body it would not read) can fail the next request sent on it: once more, on a
            // new connection. A server that drops this very request fails again.
            Err(_) if !retried && again.is_some() => {
                retried = true;
                builder = again.unwrap();
            }
            Err(problem) => break (0, problem),
            Ok(answer) => break answer,
        }
    };
    let took = started.elapsed();
    let mut labels = vec![format!("{} (HTTP {status})", request.shape)];
    if retried {
        labels.push("sent twice (transport error)".to_owned());
    }
    let failure = judge(status, &body, &mut labels);
    Outcome {
        request,
        took,
        status,
        body,
        labels,
        failure,
    }
}

/// Sends one request: the status and body, or what went wrong on the way.
async fn exchange(builder: reqwest::RequestBuilder) -> Result<(u16, String), String> {
    match tokio::time::timeout(Duration::from_secs(60), builder.send()).await {
        Ok(Ok(response)) => {
            let status = response.status().as_u16();
            let bytes = response.bytes().await.unwrap_or_default();
            Ok((status, String::from_utf8_lossy(&bytes).into_owned()))
        }
        Ok(Err(err)) => {
            let mut chain = Vec::new();
            let mut source: Option<&dyn std::error::Error> = Some(&err.without_url());
            while let Some(e) = source {
                chain.push(e.to_string());
                source = e.source();
            }
            Err(format!("no answer: {}", chain.join(": ")))
        }
        Err(_) => Err("no answer within 60 s".to_owned()),
    }
}

/// The errors in full, and the start of the data (which can be long).
fn response_summary(body: &str) -> String {
    match serde_json::from_str::<Value>(body) {
        Ok(json) => format!(
            "errors: {}\ndata: {}",
            clip(&json["errors"].to_string(), 3000),
            clip(&json["data"].to_string(), 300)
        ),
        Err(_) => clip(body, 2000),
    }
}

/// A path with aliases (`group_12`) and list indices taken out, so one cause dedupes.
fn field_path(error: &Value) -> String {
    error["path"]
        .as_array()
        .map(|path| {
            path.iter()
                .filter_map(Value::as_str)
                .map(|p| match p.rsplit_once('_') {
                    Some((field, n)) if n.chars().all(|c| c.is_ascii_digit()) => field,
                    _ => p,
                })
                .collect::<Vec<_>>()
                .join(".")
        })
        .unwrap_or_default()
}

fn judge(status: u16, body: &str, labels: &mut Vec<String>) -> Option<String> {
    if status == 0 {
        return Some(format!("no HTTP answer ({})", clip(body, 80)));
    }
    let json: Option<Value> = serde_json::from_str(body).ok();
    if status >= 500 {
        let message = json
            .as_ref()
            .and_then(|j| j["errors"][0]["message"].as_str())
            .unwrap_or("");
        return Some(format!("HTTP {status}: {message}"));
    }
    let Some(json) = json else {
        return Some(format!("HTTP {status} with a body that is not JSON"));
    };
    // Errors found before execution have no path; a resolver's error has one.
    let executed = json["data"].is_object()
        || json["errors"]
            .as_array()
            .is_some_and(|errors| errors.iter().any(|e| e["path"].is_array()));
    labels.push(
        if executed {
            "executed"
        } else {
            "refused before execution"
        }
        .to_owned(),
    );
    let errors = json["errors"].as_array().cloned().unwrap_or_default();
    if errors.is_empty() {
        labels.push("code: none (data only)".to_owned());
    }
    let mut failure = None;
    for error in &errors {
        match error["extensions"]["code"].as_str() {
            None => {
                labels.push("code: MISSING".to_owned());
                failure.get_or_insert_with(|| {
                    format!(
                        "an error without extensions.code: {}",
                        clip(error["message"].as_str().unwrap_or(""), 120)
                    )
                });
            }
            Some(code) => {
                labels.push(format!("code: {code}"));
                if *VERBOSE {
                    let message: String = error["message"]
                        .as_str()
                        .unwrap_or("")
                        .chars()
                        .take(70)
                        .collect();
                    labels.push(format!("  {code}: {message}"));
                }
                if code == "INTERNAL_SERVER_ERROR" {
                    failure.get_or_insert_with(|| {
                        format!("INTERNAL_SERVER_ERROR at `{}`", field_path(error))
                    });
                }
            }
        }
    }
    failure
}
