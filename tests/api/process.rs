//! The `kith` binary as an operator runs it: bad configuration, signals, `kill -9`.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::*;

/// Runs `kith` with `env` and returns its exit status and standard error.
fn run_failing(env: &[(&str, &str)]) -> (i32, String) {
    let mut command = kith_command();
    command.env("KITH_LISTEN", "127.0.0.1:0");
    for (k, v) in env {
        command.env(k, v);
    }
    let output = command.output().unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn bad_configuration_stops_start_up_naming_the_setting() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = format!("sqlite://{}/k.db?mode=rwc", dir.path().display());
    let manifest = dir.path().join("manifest.json");
    std::fs::write(
        &manifest,
        r#"{"format": "apollo-persisted-query-manifest", "version": 2, "operations": []}"#,
    )
    .unwrap();
    let manifest = manifest.display().to_string();
    let cases: &[(&[(&str, &str)], &str)] = &[
        (
            &[("DATABASE_URL", "mysql://localhost/kith")],
            "DATABASE_URL",
        ),
        (
            &[("DATABASE_URL", "postgres://postgres@127.0.0.1:1/nothing")],
            "DATABASE_URL",
        ),
        (
            &[("DATABASE_URL", &sqlite), ("KITH_LISTEN", "nowhere")],
            "KITH_LISTEN",
        ),
        (
            &[("DATABASE_URL", &sqlite), ("KITH_ENV", "production")],
            "KITH_JWT_SECRET",
        ),
        (
            &[("DATABASE_URL", &sqlite), ("KITH_ENV", "prod")],
            "KITH_ENV",
        ),
        (
            &[
                ("DATABASE_URL", &sqlite),
                ("KITH_TRUSTED_DOCUMENTS", &manifest),
            ],
            "KITH_TRUSTED_DOCUMENTS",
        ),
        (
            &[
                ("DATABASE_URL", &sqlite),
                ("KITH_TRUSTED_PROXIES", "10.0.0.0/8,lb"),
            ],
            "KITH_TRUSTED_PROXIES",
        ),
    ];
    for (env, setting) in cases {
        let (code, stderr) = run_failing(env);
        assert_ne!(code, 0, "{env:?} started: {stderr}");
        let last = stderr.lines().last().unwrap_or("");
        assert!(
            last.starts_with("kith: ") && last.contains(setting),
            "{env:?}: {stderr}"
        );
    }
}

/// A running `kith serve`, the address it listens on, and the lines it has logged.
struct Server {
    child: Child,
    address: String,
    log: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

fn start_server(database_url: &str) -> Server {
    let mut child = kith_command()
        .env("DATABASE_URL", database_url)
        .env("KITH_LISTEN", "127.0.0.1:0")
        .env("KITH_JWT_SECRET", TEST_SECRET)
        .env("RUST_LOG", "info")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let lines = log.clone();
    std::thread::spawn(move || {
        let mut sent = false;
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if !sent && let Some(at) = line.find("listening on ") {
                let _ = tx.send(line[at + "listening on ".len()..].trim().to_owned());
                sent = true;
            }
            lines.lock().unwrap().push(line);
        }
    });
    let address = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("kith starts listening");
    Server {
        child,
        address,
        log,
    }
}

async fn post(address: &str, query: &str, variables: serde_json::Value) -> serde_json::Value {
    reqwest::Client::new()
        .post(format!("{address}/graphql"))
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn acknowledged_sign_ups_survive_kill_9() {
    let (url, _dir) = fresh_database().await;
    let mut server = start_server(&url);
    let sign_up = "mutation($input: SignUpInput!) { signUp(input: $input) { user { id } } }";
    let count = 20;
    for i in 0..count {
        let body = post(
            &server.address,
            sign_up,
            json!({ "input": { "email": format!("m{i}@example.com"), "password": PASSWORD, "displayName": format!("M{i}") } }),
        )
        .await;
        assert!(body["data"]["signUp"]["user"]["id"].is_string(), "{body}");
    }
    server.child.kill().unwrap(); // SIGKILL: no chance to flush anything
    server.child.wait().unwrap();

    let mut server = start_server(&url);
    for i in 0..count {
        let body = post(
            &server.address,
            "mutation($input: LogInInput!) { logIn(input: $input) { user { displayName } } }",
            json!({ "input": { "email": format!("m{i}@example.com"), "password": PASSWORD } }),
        )
        .await;
        assert_eq!(
            body["data"]["logIn"]["user"]["displayName"],
            format!("M{i}"),
            "{body}"
        );
    }
    server.child.kill().unwrap();
    server.child.wait().unwrap();
}

#[tokio::test]
async fn sigterm_stops_the_server_cleanly() {
    let (url, _dir) = fresh_database().await;
    let mut server = start_server(&url);
    let health = reqwest::get(format!("{}/healthz", server.address))
        .await
        .unwrap();
    assert!(health.status().is_success());
    let status = Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let started = Instant::now();
    loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            assert!(status.success(), "exit status {status}");
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "kith did not stop on SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn log_lines_of_a_request_carry_its_request_id() {
    let (url, _dir) = fresh_database().await;
    let mut server = start_server(&url);
    let signed_up = post(
        &server.address,
        &format!("mutation($input: SignUpInput!) {{ signUp(input: $input) {{ {AUTH_FIELDS} }} }}"),
        json!({ "input": { "email": "a@example.com", "password": PASSWORD, "displayName": "A" } }),
    )
    .await;
    let first = signed_up["data"]["signUp"]["refreshToken"]
        .as_str()
        .unwrap();
    let second = post(&server.address, REFRESH, json!({ "t": first })).await;
    let second = second["data"]["refreshSession"]["refreshToken"]
        .as_str()
        .unwrap();
    post(&server.address, REFRESH, json!({ "t": second })).await;
    // Presenting the first token again is reuse: the server logs a warning, in the span of
    // the request that did it.
    reqwest::Client::new()
        .post(format!("{}/graphql", server.address))
        .header("x-request-id", "reuse-report-7")
        .json(&json!({ "query": REFRESH, "variables": { "t": first } }))
        .send()
        .await
        .unwrap();
    let mut found = None;
    for _ in 0..50 {
        found = server
            .log
            .lock()
            .unwrap()
            .iter()
            .find(|line| line.contains("refresh token reused"))
            .cloned();
        if found.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    let line = found.expect("the reuse is logged");
    assert!(line.contains("request_id=reuse-report-7"), "{line}");
}
