//! Starting the app and speaking to it as a client would.

use std::collections::HashMap;
use std::path::PathBuf;

use kith::config::Config;
use kith::state::AppState;
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};
use tempfile::TempDir;
use tokio::sync::oneshot;

pub const TEST_SECRET: &str = "a test secret that is long enough for HS256 keys";
pub const PASSWORD: &str = "correct horse battery";

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub state: AppState,
    pub mail_dir: PathBuf,
    /// The database this app runs on, for the command line in tests.
    pub database_url: String,
    _dirs: Vec<TempDir>,
    stop: Option<oneshot::Sender<()>>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// A database of its own for one test: a SQLite file, or a new PostgreSQL database made
/// from `TEST_DATABASE_URL`. Returns the URL and the folder to keep alive.
pub async fn fresh_database() -> (String, TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let url = match std::env::var("TEST_DATABASE_URL") {
        Ok(base) if !base.is_empty() => {
            let name = format!("kith_test_{}", uuid::Uuid::now_v7().simple());
            let admin = Database::connect(&base)
                .await
                .expect("TEST_DATABASE_URL answers");
            admin
                .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                .await
                .unwrap();
            admin.close().await.unwrap();
            let mut url = url::Url::parse(&base).unwrap();
            url.set_path(&name);
            url.to_string()
        }
        _ => format!("sqlite://{}/kith.db?mode=rwc", dir.path().display()),
    };
    (url, dir)
}

/// The app as `kith serve` runs it, in development mode, mail written to a folder.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

/// The app with extra settings (`("KITH_ENV", "production")`, ...).
pub async fn spawn_app_with(settings: &[(&str, &str)]) -> TestApp {
    let (database_url, db_dir) = fresh_database().await;
    let mail_dir = tempfile::tempdir().unwrap();
    let mut env: HashMap<String, String> = HashMap::from([
        ("DATABASE_URL".into(), database_url),
        ("KITH_JWT_SECRET".into(), TEST_SECRET.into()),
        (
            "KITH_MAIL_DIR".into(),
            mail_dir.path().display().to_string(),
        ),
        // Tests sign many members up from one address; the limit has tests of its own.
        ("KITH_SIGN_UPS_PER_HOUR".into(), "100000".into()),
    ]);
    for (key, value) in settings {
        if value.is_empty() {
            env.remove(*key);
        } else {
            env.insert(key.to_string(), value.to_string());
        }
    }
    let database_url = env["DATABASE_URL"].clone();
    let config = Config::from_lookup(|k| env.get(k).cloned()).expect("valid test config");
    let app = kith::start(config).await.expect("app starts");
    let state = app.state.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(kith::serve(app, listener, async move {
        let _ = stopped.await;
    }));
    TestApp {
        address,
        client: reqwest::Client::new(),
        state,
        mail_dir: mail_dir.path().to_owned(),
        database_url,
        _dirs: vec![db_dir, mail_dir],
        stop: Some(stop),
    }
}

/// A signed-in member.
#[derive(Debug, Clone)]
pub struct Member {
    pub id: String,
    pub email: String,
    pub access_token: String,
    pub refresh_token: String,
}

pub const AUTH_FIELDS: &str =
    "accessToken accessTokenExpiresAt refreshToken user { id displayName }";

impl TestApp {
    /// Starts a graceful shutdown, as SIGTERM does.
    pub fn shut_down(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// POSTs one operation and returns the JSON body.
    pub async fn graphql(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let mut request = self
            .client
            .post(self.url("/graphql"))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        response.json().await.unwrap()
    }

    pub async fn sign_up(&self, email: &str, name: &str) -> Member {
        let body = self
            .graphql(
                None,
                &format!(
                    "mutation($input: SignUpInput!) {{ signUp(input: $input) {{ {AUTH_FIELDS} }} }}"
                ),
                json!({ "input": { "email": email, "password": PASSWORD, "displayName": name } }),
            )
            .await;
        member_from(&body["data"]["signUp"], email)
            .unwrap_or_else(|| panic!("sign-up failed: {body}"))
    }

    pub async fn log_in(&self, email: &str, password: &str) -> Value {
        self.graphql(
            None,
            &format!(
                "mutation($input: LogInInput!) {{ logIn(input: $input) {{ {AUTH_FIELDS} }} }}"
            ),
            json!({ "input": { "email": email, "password": password } }),
        )
        .await
    }

    /// Logs in from a device that sends this `User-Agent`.
    pub async fn log_in_from(&self, email: &str, password: &str, agent: &str) -> Member {
        let body: Value = self
            .client
            .post(self.url("/graphql"))
            .header("User-Agent", agent)
            .json(&json!({
                "query": format!("mutation($input: LogInInput!) {{ logIn(input: $input) {{ {AUTH_FIELDS} }} }}"),
                "variables": { "input": { "email": email, "password": password } },
            }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        member_from(&body["data"]["logIn"], email).unwrap_or_else(|| panic!("{body}"))
    }

    /// Every mail written so far, oldest first, as raw RFC 5322 text.
    pub fn mails(&self) -> Vec<String> {
        let mut files: Vec<_> = std::fs::read_dir(&self.mail_dir)
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .collect();
        files.sort();
        files
            .into_iter()
            .map(|p| std::fs::read_to_string(p).unwrap())
            .collect()
    }

    /// Asks for a verification code and reads it from the mail, which goes out right after
    /// the answer.
    pub async fn request_code(&self, member: &Member) -> String {
        let before = self.mails_to(&member.email).len();
        let body = self
            .graphql(
                Some(&member.access_token),
                "mutation { requestEmailVerification }",
                json!({}),
            )
            .await;
        assert_eq!(body["data"]["requestEmailVerification"], true, "{body}");
        let mail = self.wait_for_mail_to(&member.email, before).await;
        code_in(&mail)
    }
}

pub fn member_from(payload: &Value, email: &str) -> Option<Member> {
    Some(Member {
        id: payload["user"]["id"].as_str()?.to_owned(),
        email: email.to_owned(),
        access_token: payload["accessToken"].as_str()?.to_owned(),
        refresh_token: payload["refreshToken"].as_str()?.to_owned(),
    })
}

/// The six-digit code in a mail's body.
pub fn code_in(mail: &str) -> String {
    let body = mail
        .split("\r\n\r\n")
        .skip(1)
        .collect::<Vec<_>>()
        .join("\n");
    regex_lite::Regex::new(r"\b(\d{6})\b")
        .unwrap()
        .captures(&body)
        .expect("a six-digit code in the mail")[1]
        .to_owned()
}

/// The `extensions.code` of the first error.
pub fn error_code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("expected an error: {body}"))
}

/// The `extensions.field` of the first error.
pub fn error_field(body: &Value) -> &str {
    body["errors"][0]["extensions"]["field"]
        .as_str()
        .unwrap_or_else(|| panic!("expected a field: {body}"))
}

// ---- Interests, groups and memberships ----

pub const VERIFY_EMAIL: &str =
    "mutation($code: String!) { verifyEmail(input: { code: $code }) { id } }";

pub const CREATE_GROUP: &str = "mutation($input: CreateGroupInput!) { createGroup(input: $input) { id slug name description city timeZone joinPolicy memberCount location { lat lng } interests { id name } organizers { id } viewerMembership { id role status } } }";

pub const JOIN_GROUP: &str = "mutation($id: ID!) { joinGroup(input: { groupId: $id }) { id role status joinedAt user { id } group { id memberCount } } }";

pub const LEAVE_GROUP: &str = "mutation($id: ID!) { leaveGroup(input: { groupId: $id }) }";

/// A valid `CreateGroupInput` for a group called `name` meeting at `(lat, lng)`.
pub fn group_input(name: &str, lat: f64, lng: f64) -> Value {
    json!({
        "name": name,
        "description": format!("{name}: we meet every week."),
        "location": { "lat": lat, "lng": lng },
        "city": "Berlin",
        "timeZone": "Europe/Berlin",
    })
}

/// `group_input` with the given fields replaced.
pub fn group_input_with(name: &str, lat: f64, lng: f64, changes: Value) -> Value {
    let mut input = group_input(name, lat, lng);
    for (key, value) in changes.as_object().expect("an object of changes") {
        input[key] = value.clone();
    }
    input
}

impl TestApp {
    /// Requests a code and enters it: the member's email is verified.
    pub async fn verify_email(&self, member: &Member) {
        let code = self.request_code(member).await;
        let body = self
            .graphql(
                Some(&member.access_token),
                VERIFY_EMAIL,
                json!({ "code": code }),
            )
            .await;
        assert_eq!(
            body["data"]["verifyEmail"]["id"],
            member.id.as_str(),
            "{body}"
        );
    }

    /// A signed-up member with a verified email, who may create groups.
    pub async fn verified_member(&self, email: &str, name: &str) -> Member {
        let member = self.sign_up(email, name).await;
        self.verify_email(&member).await;
        member
    }

    /// Creates a group (panics when refused) and returns the fields `CREATE_GROUP` asks for.
    pub async fn create_group(&self, organizer: &Member, input: Value) -> Value {
        let body = self
            .graphql(
                Some(&organizer.access_token),
                CREATE_GROUP,
                json!({ "input": input }),
            )
            .await;
        let group = body["data"]["createGroup"].clone();
        assert!(group["id"].is_string(), "createGroup failed: {body}");
        group
    }

    /// Joins a group and returns the whole answer.
    pub async fn join_group(&self, member: &Member, group_id: &str) -> Value {
        self.graphql(
            Some(&member.access_token),
            JOIN_GROUP,
            json!({ "id": group_id }),
        )
        .await
    }

    /// Every interest of the taxonomy, paged through 50 at a time.
    pub async fn all_interests(&self) -> Vec<Value> {
        let mut all = Vec::new();
        let mut after: Option<String> = None;
        loop {
            assert!(all.len() < 10_000, "paging through interests does not end");
            let body = self
                .graphql(
                    None,
                    "query($after: String) { interests(first: 50, after: $after) { nodes { id slug name category } pageInfo { hasNextPage endCursor } } }",
                    json!({ "after": after }),
                )
                .await;
            let page = &body["data"]["interests"];
            let nodes = page["nodes"].as_array().unwrap_or_else(|| panic!("{body}"));
            all.extend(nodes.iter().cloned());
            if page["pageInfo"]["hasNextPage"] != true {
                return all;
            }
            after = Some(page["pageInfo"]["endCursor"].as_str().unwrap().to_owned());
        }
    }

    /// The IDs of the interests with these exact names.
    pub async fn interest_ids(&self, names: &[&str]) -> Vec<String> {
        let mut ids = Vec::new();
        for name in names {
            let body = self
                .graphql(
                    None,
                    "query($q: String) { interests(query: $q, first: 100) { nodes { id name } } }",
                    json!({ "q": name }),
                )
                .await;
            let found = body["data"]["interests"]["nodes"]
                .as_array()
                .unwrap_or_else(|| panic!("{body}"))
                .iter()
                .find(|i| i["name"] == *name)
                .unwrap_or_else(|| panic!("no interest named {name}: {body}"));
            ids.push(found["id"].as_str().unwrap().to_owned());
        }
        ids
    }

    /// Replaces the member's interests (panics when refused).
    pub async fn set_interests(&self, member: &Member, ids: &[String]) {
        let body = self
            .graphql(
                Some(&member.access_token),
                "mutation($ids: [ID!]!) { setInterests(input: { interestIds: $ids }) { id } }",
                json!({ "ids": ids }),
            )
            .await;
        assert_eq!(
            body["data"]["setInterests"]["id"],
            member.id.as_str(),
            "{body}"
        );
    }
}

/// A well-formed ID of `kind` (`Interest`, `Group`, ...) that names nothing. IDs are opaque
/// to clients; this one is forged the way the server makes them, to reach the rules for
/// unknown objects rather than those for malformed IDs.
pub fn unknown_id(kind: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(format!("{kind}:{}", uuid::Uuid::now_v7()))
}

/// The UUID inside an opaque global ID (`base64url("Kind:uuid")`), for tests that reach
/// into the database.
pub fn uuid_of(global_id: &str) -> uuid::Uuid {
    use base64::Engine;
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(global_id)
        .unwrap();
    let text = String::from_utf8(raw).unwrap();
    text.split_once(':').unwrap().1.parse().unwrap()
}

pub fn unknown_interest_id() -> String {
    unknown_id("Interest")
}

/// Great-circle distance by the haversine formula, mean earth radius, in km.
pub fn haversine_km(a: (f64, f64), b: (f64, f64)) -> f64 {
    const R: f64 = 6371.0088;
    let (p1, p2) = (a.0.to_radians(), b.0.to_radians());
    let dp = p2 - p1;
    let dl = (b.1 - a.1).to_radians();
    let h = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * R * h.sqrt().min(1.0).asin()
}

/// The point `km` due north of `(lat, lng)` along its meridian (south when `km` < 0).
pub fn north_of(lat: f64, lng: f64, km: f64) -> (f64, f64) {
    (lat + km / (6371.0088 * std::f64::consts::PI / 180.0), lng)
}

// ---- Mail sent in the background, after the answer ----

/// Whether the mail's header says it goes to exactly this address.
fn is_to(mail: &str, to: &str) -> bool {
    let head = mail.split("\r\n\r\n").next().unwrap_or("");
    let wanted = format!("To: {to}");
    head.lines().any(|line| line.eq_ignore_ascii_case(&wanted))
}

impl TestApp {
    /// Every mail written so far to exactly this address, oldest first.
    pub fn mails_to(&self, to: &str) -> Vec<String> {
        self.mails().into_iter().filter(|m| is_to(m, to)).collect()
    }

    /// Waits (at most 5 s) until more than `count_before` mails to `to` were written, and
    /// returns the newest: some mail goes out after the answer, in the background.
    pub async fn wait_for_mail_to(&self, to: &str, count_before: usize) -> String {
        for _ in 0..250 {
            let mut mails = self.mails_to(to);
            if mails.len() > count_before {
                return mails.pop().unwrap();
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        panic!("no new mail to {to} within 5 s (there were {count_before} before)");
    }
}

/// A mail's body as text: decoded when it was sent quoted-printable (long lines are, and
/// their soft line breaks could split an address).
pub fn mail_text(mail: &str) -> String {
    let (head, body) = mail.split_once("\r\n\r\n").unwrap_or(("", mail));
    if !head
        .to_ascii_lowercase()
        .contains("content-transfer-encoding: quoted-printable")
    {
        return body.to_owned();
    }
    let joined = body.replace("=\r\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'=', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
