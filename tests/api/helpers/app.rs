//! Starting the app and speaking to it as a client would.

use std::collections::HashMap;
use std::path::PathBuf;

use kith::config::Config;
use kith::state::AppState;
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};
use tempfile::TempDir;
use tokio::sync::oneshot;

use super::Member;

pub const TEST_SECRET: &str = "a test secret that is long enough for HS256 keys";
pub const PASSWORD: &str = "correct horse battery";

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub state: AppState,
    pub mail_dir: PathBuf,
    /// Where photos' files are stored.
    pub media_dir: PathBuf,
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
    let media_dir = tempfile::tempdir().unwrap();
    let mut env: HashMap<String, String> = HashMap::from([
        ("DATABASE_URL".into(), database_url),
        ("KITH_JWT_SECRET".into(), TEST_SECRET.into()),
        (
            "KITH_MAIL_DIR".into(),
            mail_dir.path().display().to_string(),
        ),
        (
            "KITH_MEDIA_DIR".into(),
            media_dir.path().display().to_string(),
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
        media_dir: media_dir.path().to_owned(),
        database_url,
        _dirs: vec![db_dir, mail_dir, media_dir],
        stop: Some(stop),
    }
}

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

    /// The text of `/metrics`.
    pub async fn metrics(&self) -> String {
        self.client
            .get(self.url("/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// Runs an operation as `member` that must succeed, and returns its `data`.
    pub async fn data_as(&self, member: &Member, query: &str, variables: Value) -> Value {
        let body = self
            .graphql(Some(&member.access_token), query, variables)
            .await;
        assert!(body["errors"].is_null(), "{query}: {body}");
        body["data"].clone()
    }

    /// POSTs one operation and returns the JSON body.
    pub async fn graphql(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        self.graphql_via(&self.client, token, query, variables)
            .await
    }

    /// As `graphql`, from another client (see `client_from`).
    pub async fn graphql_via(
        &self,
        client: &reqwest::Client,
        token: Option<&str>,
        query: &str,
        variables: Value,
    ) -> Value {
        let mut request = client
            .post(self.url("/graphql"))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        response.json().await.unwrap()
    }
}

/// The `kith` binary with nothing of the test's environment but `PATH`.
pub fn kith_command() -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_kith"));
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    command
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

/// A client whose requests come from another loopback address (`127.0.0.2`, ...): to the
/// server, another device on another network.
pub fn client_from(address: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(address.parse::<std::net::IpAddr>().unwrap())
        .build()
        .unwrap()
}
