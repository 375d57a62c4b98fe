//! What the apps' standard tooling relies on at the HTTP layer (API.md, "Apps that just work
//! with standard client tooling"): persisted queries, trusted documents, GraphQL over HTTP,
//! compression, request IDs, client addresses behind proxies, idempotent retries.

use std::io::Read;

use chrono::Utc;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::helpers::*;

const SERVER_INFO: &str = "query ServerInfo { serverInfo { maxPageSize } }";

fn sha256(document: &str) -> String {
    hex::encode(Sha256::digest(document.as_bytes()))
}

fn persisted(document: &str) -> Value {
    json!({ "persistedQuery": { "version": 1, "sha256Hash": sha256(document) } })
}

/// What a client sees of one answer.
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
}

impl TestApp {
    /// POSTs `body` (JSON) with `headers`.
    async fn post_with(&self, headers: &[(&str, &str)], body: &Value) -> Answer {
        let mut request = self.client.post(self.url("/graphql")).json(body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        answer(request.send().await.unwrap()).await
    }

    /// GETs `/graphql` with these URL parameters.
    async fn get_with(&self, params: &[(&str, &str)]) -> Answer {
        let request = self.client.get(self.url("/graphql")).query(params);
        answer(request.send().await.unwrap()).await
    }
}

async fn answer(response: reqwest::Response) -> Answer {
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"));
    Answer {
        status,
        headers,
        body,
    }
}

// ---- Automatic persisted queries ----

#[tokio::test]
async fn a_persisted_query_is_missed_registered_and_hit_over_post_and_get() {
    let app = spawn_app().await;
    let hash_only = json!({ "extensions": persisted(SERVER_INFO) });

    // Unknown: HTTP 200 (Apollo's clients read no body of anything else), one error.
    let miss = app.post_with(&[], &hash_only).await;
    assert_eq!(miss.status, StatusCode::OK);
    assert_eq!(
        miss.body["errors"].as_array().unwrap().len(),
        1,
        "{}",
        miss.body
    );
    assert_eq!(miss.body["errors"][0]["message"], "PersistedQueryNotFound");
    assert_eq!(error_code(&miss.body), "PERSISTED_QUERY_NOT_FOUND");
    let extensions = persisted(SERVER_INFO).to_string();
    let miss = app.get_with(&[("extensions", &extensions)]).await;
    assert_eq!(miss.status, StatusCode::OK);
    assert_eq!(error_code(&miss.body), "PERSISTED_QUERY_NOT_FOUND");

    // The client sends the document with its hash: it runs and is kept.
    let register = app
        .post_with(
            &[],
            &json!({ "query": SERVER_INFO, "extensions": persisted(SERVER_INFO) }),
        )
        .await;
    assert_eq!(
        register.body["data"]["serverInfo"]["maxPageSize"], 100,
        "{}",
        register.body
    );

    // From now on the hash alone runs it, over POST and over GET (a CDN can cache that).
    let hit = app.post_with(&[], &hash_only).await;
    assert_eq!(hit.body, register.body);
    let hit = app
        .get_with(&[("extensions", &extensions), ("operationName", "ServerInfo")])
        .await;
    assert_eq!(hit.status, StatusCode::OK);
    assert_eq!(hit.body, register.body);
}

#[tokio::test]
async fn a_persisted_query_whose_hash_does_not_match_is_refused() {
    let app = spawn_app().await;
    let wrong = app
        .post_with(
            &[],
            &json!({ "query": SERVER_INFO, "extensions": persisted("{ __typename }") }),
        )
        .await;
    assert_eq!(error_code(&wrong.body), "BAD_USER_INPUT", "{}", wrong.body);
    // Nothing was kept under that hash.
    let miss = app
        .post_with(&[], &json!({ "extensions": persisted("{ __typename }") }))
        .await;
    assert_eq!(error_code(&miss.body), "PERSISTED_QUERY_NOT_FOUND");
}

#[tokio::test]
async fn a_hash_only_mutation_over_get_is_still_refused() {
    let app = spawn_app().await;
    let mutation = "mutation { logOut }";
    app.post_with(
        &[],
        &json!({ "query": mutation, "extensions": persisted(mutation) }),
    )
    .await;
    let extensions = persisted(mutation).to_string();
    let response = app.get_with(&[("extensions", &extensions)]).await;
    assert_eq!(
        response.status,
        StatusCode::METHOD_NOT_ALLOWED,
        "{}",
        response.body
    );
}

// ---- Trusted documents ----

#[tokio::test]
async fn trusted_documents_admit_the_listed_operation_and_refuse_another() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("manifest.json");
    std::fs::write(
        &manifest,
        json!({
            "format": "apollo-persisted-query-manifest",
            "version": 1,
            "operations": [
                { "id": sha256(SERVER_INFO), "name": "ServerInfo", "type": "query", "body": SERVER_INFO }
            ]
        })
        .to_string(),
    )
    .unwrap();
    let app = spawn_app_with(&[("KITH_TRUSTED_DOCUMENTS", &manifest.display().to_string())]).await;

    // By id alone, and by the listed document.
    let by_id = app
        .post_with(&[], &json!({ "extensions": persisted(SERVER_INFO) }))
        .await;
    assert_eq!(
        by_id.body["data"]["serverInfo"]["maxPageSize"], 100,
        "{}",
        by_id.body
    );
    let by_query = app.post_with(&[], &json!({ "query": SERVER_INFO })).await;
    assert_eq!(by_query.body, by_id.body);

    // Anything else, however it comes, does not run; nor does it become "known".
    let other = "query Other { __typename }";
    for body in [
        json!({ "query": other }),
        json!({ "query": other, "extensions": persisted(other) }),
        json!({ "extensions": persisted(other) }),
    ] {
        let refused = app.post_with(&[], &body).await;
        assert_eq!(refused.status, StatusCode::OK);
        assert_eq!(
            error_code(&refused.body),
            "PERSISTED_QUERY_NOT_FOUND",
            "{body}"
        );
        assert!(refused.body["data"].is_null(), "{}", refused.body);
    }
}

// ---- GraphQL over HTTP ----

const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";

#[tokio::test]
async fn graphql_response_json_gets_the_specs_status_codes() {
    let app = spawn_app().await;
    let accept = [("accept", GRAPHQL_RESPONSE)];
    let ok = app
        .post_with(&accept, &json!({ "query": "{ __typename }" }))
        .await;
    assert_eq!(ok.status, StatusCode::OK);
    assert!(
        ok.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with(GRAPHQL_RESPONSE),
        "{:?}",
        ok.headers
    );
    assert_eq!(ok.body["data"]["__typename"], "Query");

    // Request errors: 400, and no `data` entry at all.
    for query in ["{ __typename", "{ noSuchField }"] {
        let bad = app.post_with(&accept, &json!({ "query": query })).await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{query}: {}", bad.body);
        assert!(bad.body.get("data").is_none(), "{}", bad.body);
        assert_eq!(error_code(&bad.body), "BAD_USER_INPUT");
    }
    // A field error is not a request error: 200 with data.
    let field_error = app
        .post_with(&accept, &json!({ "query": "{ viewer { email } }" }))
        .await;
    assert_eq!(field_error.status, StatusCode::OK, "{}", field_error.body);

    // application/json, or no Accept at all: as before, 200 with the errors.
    for headers in [&[("accept", "application/json")][..], &[]] {
        let legacy = app
            .post_with(headers, &json!({ "query": "{ __typename" }))
            .await;
        assert_eq!(legacy.status, StatusCode::OK, "{headers:?}");
        assert_eq!(
            legacy.headers["content-type"].to_str().unwrap(),
            "application/json"
        );
        assert_eq!(error_code(&legacy.body), "BAD_USER_INPUT");
    }

    // A body that is not declared JSON is refused (a browser form cannot post one).
    let plain = app
        .client
        .post(app.url("/graphql"))
        .header("content-type", "text/plain")
        .body(r#"{"query": "{ __typename }"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(plain.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

/// The `graphql-http` audit (tests/audit) against a running server: every MUST and every
/// SHOULD passes. Needs Node.js; without it this test fails rather than pass unseen.
#[tokio::test]
async fn the_graphql_over_http_audit_passes_every_must_and_should() {
    let audit_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/audit");
    let found = tokio::process::Command::new("node")
        .arg("--version")
        .output()
        .await;
    assert!(
        found.is_ok_and(|o| o.status.success()),
        "`node` is not on PATH: install Node.js (18 or later) to run the GraphQL-over-HTTP audit"
    );
    if !audit_dir.join("node_modules/graphql-http").exists() {
        let installed = tokio::process::Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--prefix"])
            .arg(&audit_dir)
            .status()
            .await
            .expect("`npm` is not on PATH: it installs the audit's packages");
        assert!(installed.success(), "npm ci --prefix tests/audit failed");
    }
    let app = spawn_app().await;
    let output = tokio::process::Command::new("node")
        .arg(audit_dir.join("audit.mjs"))
        .arg(app.url("/graphql"))
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the audit found MUST or SHOULD not passed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains(" 0 MUST/SHOULD not passed"), "{stdout}");
}

// ---- Compression ----

/// Large enough to be compressed: the names of every type.
const BIG: &str = "{ __schema { types { name description } } }";

async fn raw(app: &TestApp, encoding: &str, query: &str) -> (HeaderMap, Vec<u8>) {
    let response = app
        .client
        .post(app.url("/graphql"))
        .header("accept-encoding", encoding)
        .json(&json!({ "query": query }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers().clone();
    (headers, response.bytes().await.unwrap().to_vec())
}

#[tokio::test]
async fn large_responses_come_gzip_or_br_and_small_ones_plain() {
    let app = spawn_app().await;
    let (headers, plain) = raw(&app, "identity", BIG).await;
    assert!(headers.get("content-encoding").is_none());
    assert!(plain.len() > 1024, "{}", plain.len());
    let plain: Value = serde_json::from_slice(&plain).unwrap();

    let (headers, gzipped) = raw(&app, "gzip", BIG).await;
    assert_eq!(headers["content-encoding"], "gzip");
    let mut text = Vec::new();
    flate2::read::GzDecoder::new(&gzipped[..])
        .read_to_end(&mut text)
        .unwrap();
    assert_eq!(serde_json::from_slice::<Value>(&text).unwrap(), plain);

    let (headers, brotli_bytes) = raw(&app, "br", BIG).await;
    assert_eq!(headers["content-encoding"], "br");
    let mut text = Vec::new();
    brotli::Decompressor::new(&brotli_bytes[..], 4096)
        .read_to_end(&mut text)
        .unwrap();
    assert_eq!(serde_json::from_slice::<Value>(&text).unwrap(), plain);
    assert!(brotli_bytes.len() < text.len() / 2);

    // Under 1 KiB: as it is.
    let (headers, small) = raw(&app, "gzip, br", "{ __typename }").await;
    assert!(headers.get("content-encoding").is_none(), "{headers:?}");
    assert_eq!(
        serde_json::from_slice::<Value>(&small).unwrap()["data"]["__typename"],
        "Query"
    );
}

// ---- Request IDs ----

#[tokio::test]
async fn a_request_id_is_kept_when_sane_made_otherwise_and_sent_back() {
    let app = spawn_app().await;
    let query = json!({ "query": "{ __typename }" });
    let kept = app
        .post_with(&[("x-request-id", "app-7f3e.retry_2")], &query)
        .await;
    assert_eq!(kept.headers["x-request-id"], "app-7f3e.retry_2");

    let long = "x".repeat(129);
    for unfit in ["has spaces", "quote\"d", long.as_str()] {
        let made = app.post_with(&[("x-request-id", unfit)], &query).await;
        let id = made.headers["x-request-id"].to_str().unwrap();
        assert_ne!(id, unfit);
        assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");
    }
    let made = app.post_with(&[], &query).await;
    let id = made.headers["x-request-id"].to_str().unwrap();
    assert_eq!(uuid::Uuid::parse_str(id).unwrap().get_version_num(), 7);
}

#[tokio::test]
async fn an_internal_error_names_its_request_id() {
    let app = spawn_app().await;
    app.state.db.close_by_ref().await.unwrap();
    let log_in = "mutation { logIn(input: { email: \"x@example.com\", password: \"correct horse battery\" }) { accessToken } }";
    let answer = app
        .post_with(
            &[("x-request-id", "bug-report-42")],
            &json!({ "query": log_in }),
        )
        .await;
    assert_eq!(
        error_code(&answer.body),
        "INTERNAL_SERVER_ERROR",
        "{}",
        answer.body
    );
    assert_eq!(
        answer.body["errors"][0]["extensions"]["requestId"],
        "bug-report-42"
    );
    assert_eq!(answer.headers["x-request-id"], "bug-report-42");
}

// ---- Client addresses behind a proxy ----

const SIGN_UP: &str = "mutation($e: String!) { signUp(input: { email: $e, password: \"correct horse battery\", displayName: \"X\" }) { accessToken } }";

async fn sign_up_via(app: &TestApp, forwarded_for: &str, email: &str) -> Value {
    app.post_with(
        &[("x-forwarded-for", forwarded_for)],
        &json!({ "query": SIGN_UP, "variables": { "e": email } }),
    )
    .await
    .body
}

#[tokio::test]
async fn forwarded_for_is_ignored_without_trusted_proxies() {
    let app = spawn_app_with(&[("KITH_SIGN_UPS_PER_HOUR", "1")]).await;
    let first = sign_up_via(&app, "203.0.113.1", "a@example.com").await;
    assert!(
        first["data"]["signUp"]["accessToken"].is_string(),
        "{first}"
    );
    // Another claimed address, the same TCP peer: the same client.
    let second = sign_up_via(&app, "203.0.113.2", "b@example.com").await;
    assert_eq!(error_code(&second), "RATE_LIMITED", "{second}");
}

#[tokio::test]
async fn forwarded_for_from_a_trusted_proxy_names_the_client() {
    let app = spawn_app_with(&[
        ("KITH_SIGN_UPS_PER_HOUR", "1"),
        ("KITH_TRUSTED_PROXIES", "127.0.0.1/32"),
    ])
    .await;
    // Two phones behind the one proxy: each has its own limit.
    let first = sign_up_via(&app, "203.0.113.1", "a@example.com").await;
    assert!(
        first["data"]["signUp"]["accessToken"].is_string(),
        "{first}"
    );
    let second = sign_up_via(&app, "203.0.113.2", "b@example.com").await;
    assert!(
        second["data"]["signUp"]["accessToken"].is_string(),
        "{second}"
    );
    // And each one's limit counts.
    let again = sign_up_via(&app, "203.0.113.1", "c@example.com").await;
    assert_eq!(error_code(&again), "RATE_LIMITED", "{again}");
    // A forged entry left of the proxy's own changes nothing: the proxy appended the
    // address it saw, which is the one counted.
    let forged = sign_up_via(&app, "198.51.100.9, 203.0.113.2", "d@example.com").await;
    assert_eq!(error_code(&forged), "RATE_LIMITED", "{forged}");
    // IPv6 clients count by their /64.
    let v6 = sign_up_via(&app, "2001:db8:1:2::a", "e@example.com").await;
    assert!(v6["data"]["signUp"]["accessToken"].is_string(), "{v6}");
    let same_64 = sign_up_via(&app, "2001:db8:1:2::b", "f@example.com").await;
    assert_eq!(error_code(&same_64), "RATE_LIMITED", "{same_64}");
}

// ---- Idempotent retries ----

async fn create_group_with_key(app: &TestApp, member: &Member, key: &str, name: &str) -> Answer {
    app.post_with(
        &[
            ("authorization", &format!("Bearer {}", member.access_token)),
            ("idempotency-key", key),
        ],
        &json!({ "query": CREATE_GROUP, "variables": { "input": group_input(name, 52.52, 13.405) } }),
    )
    .await
}

async fn groups(app: &TestApp) -> u64 {
    entity::group::Entity::find()
        .count(&app.state.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_retry_with_the_same_key_gets_the_same_answer_and_changes_nothing() {
    let app = spawn_app().await;
    let member = app.verified_member("org@example.com", "Org").await;
    let first = create_group_with_key(&app, &member, "retry-1", "Repair Café").await;
    assert!(
        first.body["data"]["createGroup"]["id"].is_string(),
        "{}",
        first.body
    );
    assert!(first.headers.get("idempotent-replayed").is_none());

    let again = create_group_with_key(&app, &member, "retry-1", "Repair Café").await;
    assert_eq!(again.body, first.body);
    assert_eq!(again.status, first.status);
    assert_eq!(again.headers["idempotent-replayed"], "true");
    assert_eq!(groups(&app).await, 1);

    // The same key with another request: CONFLICT, and nothing runs.
    let other = create_group_with_key(&app, &member, "retry-1", "Knitting").await;
    assert_eq!(error_code(&other.body), "CONFLICT", "{}", other.body);
    assert_eq!(groups(&app).await, 1);

    // Keys are the member's own: another member's same key runs.
    let someone = app.verified_member("else@example.com", "Else").await;
    let theirs = create_group_with_key(&app, &someone, "retry-1", "Chess").await;
    assert!(
        theirs.body["data"]["createGroup"]["id"].is_string(),
        "{}",
        theirs.body
    );
    assert_eq!(groups(&app).await, 2);

    // A key that is not 1–255 visible ASCII characters is refused before anything runs.
    let long = "k".repeat(256);
    for bad in ["has space", long.as_str()] {
        let refused = create_group_with_key(&app, &member, bad, "Bad").await;
        assert_eq!(
            error_code(&refused.body),
            "BAD_USER_INPUT",
            "{}",
            refused.body
        );
    }
    assert_eq!(groups(&app).await, 2);
}

#[tokio::test]
async fn requests_with_one_key_at_once_run_once() {
    let app = spawn_app().await;
    let member = app.verified_member("org@example.com", "Org").await;
    let answers = futures::future::join_all(
        (0..8).map(|_| create_group_with_key(&app, &member, "at-once", "Board Games")),
    )
    .await;
    assert_eq!(groups(&app).await, 1);
    let ran: Vec<&Answer> = answers
        .iter()
        .filter(|a| a.body["data"]["createGroup"]["id"].is_string())
        .collect();
    assert!(!ran.is_empty());
    // Every answer is the one run's, or CONFLICT (it was still running).
    for answer in &answers {
        if answer.body["data"]["createGroup"].is_object() {
            assert_eq!(answer.body, ran[0].body);
        } else {
            assert_eq!(error_code(&answer.body), "CONFLICT", "{}", answer.body);
        }
    }
}

#[tokio::test]
async fn the_background_loop_prunes_expired_rows() {
    let app = spawn_app().await;
    let member = app.verified_member("org@example.com", "Org").await;
    create_group_with_key(&app, &member, "old", "Repair Café").await;
    // A sign-up counted in the rate-limit table; a refresh token was stored.
    let db = &app.state.db;
    assert!(entity::rate_limit::Entity::find().count(db).await.unwrap() > 0);
    assert!(
        entity::refresh_token::Entity::find()
            .count(db)
            .await
            .unwrap()
            > 0
    );

    // Nothing is due yet.
    let now = Utc::now();
    let pruned = kith::domain::housekeeping::prune(db, now).await.unwrap();
    assert_eq!(pruned.total(), 0, "{pruned:?}");

    // A day and more later the key is gone: the same key runs again.
    let later = now + chrono::Duration::hours(25);
    let pruned = kith::domain::housekeeping::prune(db, later).await.unwrap();
    assert_eq!(pruned.idempotency_keys, 1, "{pruned:?}");
    assert!(pruned.rate_limits > 0, "{pruned:?}");
    assert_eq!(
        entity::idempotency_key::Entity::find()
            .count(db)
            .await
            .unwrap(),
        0
    );
    let reused = create_group_with_key(&app, &member, "old", "Knitting").await;
    assert!(
        reused.body["data"]["createGroup"]["id"].is_string(),
        "{}",
        reused.body
    );

    // Refresh tokens past their lifetime go too.
    let much_later = now + chrono::Duration::days(31);
    let pruned = kith::domain::housekeeping::prune(db, much_later)
        .await
        .unwrap();
    assert!(pruned.refresh_tokens > 0, "{pruned:?}");
    assert_eq!(
        entity::refresh_token::Entity::find()
            .count(db)
            .await
            .unwrap(),
        0
    );
}

#[tokio::test]
async fn an_answer_that_ran_nothing_is_not_kept_so_the_retry_runs() {
    let app = spawn_app_with(&[("KITH_SIGN_UPS_PER_HOUR", "1")]).await;
    let app = &app;
    let sign_up = |email: &str, key: &str| {
        let body = json!({ "query": SIGN_UP, "variables": { "e": email } });
        let key = key.to_owned();
        async move { app.post_with(&[("idempotency-key", &key)], &body).await }
    };
    let first = sign_up("a@example.com", "first").await;
    assert!(
        first.body["data"]["signUp"]["accessToken"].is_string(),
        "{}",
        first.body
    );

    // Turned away by a limit: nothing ran, so nothing is kept under the key.
    for _ in 0..2 {
        let limited = sign_up("b@example.com", "second").await;
        assert_eq!(
            error_code(&limited.body),
            "RATE_LIMITED",
            "{}",
            limited.body
        );
        assert!(limited.headers.get("idempotent-replayed").is_none());
    }
    // Nor a document that does not validate: the fixed request may use the same key.
    let broken = app
        .post_with(
            &[("idempotency-key", "third")],
            &json!({ "query": "mutation { signUp(input: {}) { nope } }" }),
        )
        .await;
    assert_eq!(
        error_code(&broken.body),
        "BAD_USER_INPUT",
        "{}",
        broken.body
    );
    let fixed = sign_up("c@example.com", "third").await;
    assert_eq!(error_code(&fixed.body), "RATE_LIMITED", "{}", fixed.body);

    let kept = entity::idempotency_key::Entity::find()
        .all(&app.state.db)
        .await
        .unwrap();
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!(kept[0].key, "first");
}
