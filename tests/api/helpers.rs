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
    ]);
    for (key, value) in settings {
        if value.is_empty() {
            env.remove(*key);
        } else {
            env.insert(key.to_string(), value.to_string());
        }
    }
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

    /// Asks for a verification code and reads it from the mail.
    pub async fn request_code(&self, member: &Member) -> String {
        let body = self
            .graphql(
                Some(&member.access_token),
                "mutation { requestEmailVerification }",
                json!({}),
            )
            .await;
        assert_eq!(body["data"]["requestEmailVerification"], true, "{body}");
        let mail = self.mails().pop().expect("a mail was written");
        assert!(mail.contains(&format!("To: {}", member.email)), "{mail}");
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
