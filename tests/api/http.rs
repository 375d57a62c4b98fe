//! The HTTP surface: methods, limits, health, metrics.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

#[tokio::test]
async fn health_and_readiness() {
    let app = spawn_app().await;
    let health = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::OK);

    // The database stops answering: readiness says so, liveness does not.
    app.state.db.close_by_ref().await.unwrap();
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    let health = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);

    // And a request that needs the database is an internal error that tells nothing.
    let body = app.log_in("x@example.com", PASSWORD).await;
    assert_eq!(error_code(&body), "INTERNAL_SERVER_ERROR", "{body}");
    assert_eq!(body["errors"][0]["message"], "internal server error");
}

#[tokio::test]
async fn readiness_fails_while_shutting_down() {
    let mut app = spawn_app_with(&[("KITH_SHUTDOWN_GRACE_SECONDS", "3")]).await;
    app.shut_down();
    // During the grace period the server still answers, and says it is going away.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    let health = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_batch_is_refused_with_a_clear_error() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(app.url("/graphql"))
        .json(&json!([{ "query": "{ viewer { email } }" }, { "query": "{ viewer { email } }" }]))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.unwrap();
    assert_eq!(error_code(&body), "BAD_USER_INPUT");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("batch"),
        "{body}"
    );
}

#[tokio::test]
async fn malformed_bodies_are_bad_requests() {
    let app = spawn_app().await;
    for body in ["{not json", "{\"variables\": {}}", "42"] {
        let response = app
            .client
            .post(app.url("/graphql"))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{body}");
        let json: Value = response.json().await.unwrap();
        assert_eq!(error_code(&json), "BAD_USER_INPUT");
    }
}

#[tokio::test]
async fn get_runs_queries_but_never_mutations() {
    let app = spawn_app().await;
    let query = app
        .client
        .get(app.url("/graphql"))
        .query(&[("query", "{ viewer { email } }")])
        .send()
        .await
        .unwrap();
    assert_eq!(query.status(), StatusCode::OK);
    let body: Value = query.json().await.unwrap();
    assert!(body["data"]["viewer"].is_null(), "{body}");

    let mutation = "mutation { signUp(input: { email: \"g@example.com\", password: \"0123456789ab\", displayName: \"G\" }) { accessToken } }";
    let refused = app
        .client
        .get(app.url("/graphql"))
        .query(&[("query", mutation)])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::METHOD_NOT_ALLOWED);
    // Nothing happened: the address is still free.
    app.sign_up("g@example.com", "G").await;

    // Also when the mutation hides behind an operation name.
    let named =
        "query Q { viewer { email } } mutation M { logOut(input: { refreshToken: \"x\" }) }";
    let refused = app
        .client
        .get(app.url("/graphql"))
        .query(&[("query", named), ("operationName", "M")])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn graphiql_for_browsers_in_development_only() {
    let app = spawn_app().await;
    let page = app
        .client
        .get(app.url("/graphql"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(
        page.text()
            .await
            .unwrap()
            .to_lowercase()
            .contains("graphiql")
    );

    let prod = spawn_app_with(&[("KITH_ENV", "production")]).await;
    let page = prod
        .client
        .get(prod.url("/graphql"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_ne!(page.status(), StatusCode::OK);
    assert!(
        !page
            .text()
            .await
            .unwrap()
            .to_lowercase()
            .contains("graphiql")
    );
}

#[tokio::test]
async fn production_hides_introspection_and_suggestions() {
    let introspect = "{ __schema { queryType { name } } }";
    let dev = spawn_app().await;
    let body = dev.graphql(None, introspect, json!({})).await;
    assert_eq!(
        body["data"]["__schema"]["queryType"]["name"], "Query",
        "{body}"
    );
    let typo = dev.graphql(None, "{ viewr { email } }", json!({})).await;
    assert!(
        typo["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("viewer"),
        "{typo}"
    );

    let prod = spawn_app_with(&[("KITH_ENV", "production")]).await;
    let body = prod.graphql(None, introspect, json!({})).await;
    assert!(
        body["data"].is_null() || body["data"]["__schema"].is_null(),
        "{body}"
    );
    let typo = prod.graphql(None, "{ viewr { email } }", json!({})).await;
    assert!(
        !typo["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("viewer"),
        "{typo}"
    );
}

#[tokio::test]
async fn deep_queries_are_refused() {
    let app = spawn_app().await;
    let mut query = String::from("name");
    for _ in 0..16 {
        query = format!("ofType {{ {query} }}");
    }
    let query = format!("{{ __schema {{ types {{ {query} }} }} }}");
    let body = app.graphql(None, &query, json!({})).await;
    assert!(body["data"].is_null(), "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("deep"),
        "{body}"
    );
}

#[tokio::test]
async fn bodies_over_one_mebibyte_are_refused() {
    let app = spawn_app().await;
    let padding = " ".repeat(1024 * 1024);
    let response = app
        .client
        .post(app.url("/graphql"))
        .header("content-type", "application/json")
        .body(format!(
            "{{\"query\": \"{{ viewer {{ email }} }}{padding}\"}}"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body: Value = response.json().await.unwrap();
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
}

#[tokio::test]
async fn errors_found_before_execution_carry_a_code_too() {
    let app = spawn_app().await;
    for query in [
        "{ viewer { email ",
        "{ nosuchfield }",
        "query($n: Int!) { interests(first: $n) { totalCount } }",
    ] {
        let body = app
            .graphql(None, query, json!({ "n": "not a number" }))
            .await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{query}: {body}");
    }
}

#[tokio::test]
async fn costly_queries_are_refused() {
    let app = spawn_app().await;
    let one = "interests(first: 100) { nodes { id slug name category } }";
    let cheap = app
        .graphql(None, &format!("{{ a: {one} }}"), json!({}))
        .await;
    assert!(cheap["errors"].is_null(), "{cheap}");
    let costly: String = (0..6).map(|i| format!("a{i}: {one} ")).collect();
    let body = app
        .graphql(None, &format!("{{ {costly} }}"), json!({}))
        .await;
    assert!(body["data"].is_null(), "{body}");
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("complex"),
        "{body}"
    );
}

#[tokio::test]
async fn metrics_count_requests_per_operation() {
    let app = spawn_app().await;
    app.graphql(None, "query HomeScreen { viewer { email } }", json!({}))
        .await;
    app.graphql(None, "query HomeScreen { viewer { email } }", json!({}))
        .await;
    let text = app.metrics().await;
    assert!(
        text.contains("kith_graphql_requests_total{operation=\"HomeScreen\",outcome=\"ok\"} 2"),
        "{text}"
    );
    assert!(
        text.contains("kith_graphql_request_duration_seconds_count{operation=\"HomeScreen\"} 2"),
        "{text}"
    );
}
