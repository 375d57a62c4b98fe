//! Access tokens are accepted only when they are exactly what the server issued.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{Duration, Utc};
use jsonwebtoken::{Algorithm, Header};
use kith::auth::{AccessTokens, Keys};
use serde_json::{Value, json};

use crate::helpers::*;

/// The session the member's access token was issued for: a token is honoured only while
/// its session lasts, so forged tokens name a real one.
fn session_of(member: &Member) -> uuid::Uuid {
    claims_of(&member.access_token)["sid"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

fn claims(member: &Member) -> Value {
    let now = Utc::now().timestamp();
    json!({
        "iss": "kith", "aud": "kith:access", "sub": uuid_of(&member.id),
        "sid": session_of(member), "iat": now, "exp": now + 600,
    })
}

fn access_header() -> Header {
    header_of_type("at+jwt")
}

async fn viewer_code(app: &TestApp, token: &str) -> String {
    let body = app
        .graphql(Some(token), "{ viewer { email } }", json!({}))
        .await;
    error_code(&body).to_owned()
}

#[tokio::test]
async fn a_forged_token_made_like_ours_is_accepted_only_with_our_key() {
    let app = spawn_app().await;
    let ann = app.sign_up("ann@example.com", "Ann").await;
    let key = Keys::derive(TEST_SECRET.as_bytes()).access_token;

    // Control: the exact recipe with the server's key works, so the refusals below are
    // about the one thing each one changes.
    let good = sign(access_header(), &claims(&ann), &key);
    let body = app
        .graphql(Some(&good), "{ viewer { email } }", json!({}))
        .await;
    assert_eq!(body["data"]["viewer"]["email"], "ann@example.com", "{body}");

    // Signed with our key, but for a session that never was: refused.
    let mut no_session = claims(&ann);
    no_session["sid"] = json!(uuid::Uuid::now_v7());
    let unknown = sign(access_header(), &no_session, &key);
    assert_eq!(viewer_code(&app, &unknown).await, "UNAUTHENTICATED");

    let wrong_key = sign(
        access_header(),
        &claims(&ann),
        b"some other secret, also long enough",
    );
    assert_eq!(viewer_code(&app, &wrong_key).await, "UNAUTHENTICATED");

    let mut wrong_typ = Header::new(Algorithm::HS256);
    wrong_typ.typ = Some("JWT".into());
    assert_eq!(
        viewer_code(&app, &sign(wrong_typ, &claims(&ann), &key)).await,
        "UNAUTHENTICATED"
    );

    let mut other_audience = claims(&ann);
    other_audience["aud"] = json!("kith:meeting");
    assert_eq!(
        viewer_code(&app, &sign(access_header(), &other_audience, &key)).await,
        "UNAUTHENTICATED"
    );

    let mut other_issuer = claims(&ann);
    other_issuer["iss"] = json!("someone-else");
    assert_eq!(
        viewer_code(&app, &sign(access_header(), &other_issuer, &key)).await,
        "UNAUTHENTICATED"
    );

    let mut no_expiry = claims(&ann);
    no_expiry.as_object_mut().unwrap().remove("exp");
    assert_eq!(
        viewer_code(&app, &sign(access_header(), &no_expiry, &key)).await,
        "UNAUTHENTICATED"
    );

    let mut hs512 = Header::new(Algorithm::HS512);
    hs512.typ = Some("at+jwt".into());
    assert_eq!(
        viewer_code(&app, &sign(hs512, &claims(&ann), &key)).await,
        "UNAUTHENTICATED"
    );
}

#[tokio::test]
async fn an_expired_token_is_refused() {
    let app = spawn_app().await;
    let bo = app.sign_up("bo@example.com", "Bo").await;
    let tokens = AccessTokens::new(&Keys::derive(TEST_SECRET.as_bytes()).access_token);
    // Issued 16 minutes ago: expired a minute ago, well past the 5 s leeway.
    let (expired, _) = tokens
        .issue(
            uuid_of(&bo.id),
            session_of(&bo),
            Utc::now() - Duration::minutes(16),
        )
        .unwrap();
    assert_eq!(viewer_code(&app, &expired).await, "UNAUTHENTICATED");
    // Expired 7 s ago: past the 5 s leeway.
    let (late, _) = tokens
        .issue(
            uuid_of(&bo.id),
            session_of(&bo),
            Utc::now() - Duration::minutes(15) - Duration::seconds(7),
        )
        .unwrap();
    assert_eq!(viewer_code(&app, &late).await, "UNAUTHENTICATED");
    // Expired 2 s ago: within the leeway that absorbs clock skew between machines.
    let (skewed, _) = tokens
        .issue(
            uuid_of(&bo.id),
            session_of(&bo),
            Utc::now() - Duration::minutes(15) - Duration::seconds(2),
        )
        .unwrap();
    let body = app
        .graphql(Some(&skewed), "{ viewer { email } }", json!({}))
        .await;
    assert_eq!(body["data"]["viewer"]["email"], "bo@example.com", "{body}");
    // Issued 14 minutes ago: still good.
    let (fresh, _) = tokens
        .issue(
            uuid_of(&bo.id),
            session_of(&bo),
            Utc::now() - Duration::minutes(14),
        )
        .unwrap();
    let body = app
        .graphql(Some(&fresh), "{ viewer { email } }", json!({}))
        .await;
    assert_eq!(body["data"]["viewer"]["email"], "bo@example.com", "{body}");
}

#[tokio::test]
async fn a_tampered_token_is_refused() {
    let app = spawn_app().await;
    let cy = app.sign_up("cy@example.com", "Cy").await;
    let dee = app.sign_up("dee@example.com", "Dee").await;
    let parts: Vec<&str> = cy.access_token.split('.').collect();
    let mut payload: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    payload["sub"] = json!(uuid_of(&dee.id));
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&payload).unwrap()),
        parts[2]
    );
    assert_eq!(viewer_code(&app, &tampered).await, "UNAUTHENTICATED");
}

#[tokio::test]
async fn alg_none_is_refused() {
    let app = spawn_app().await;
    let di = app.sign_up("di@example.com", "Di").await;
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"at+jwt"}"#);
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims(&di)).unwrap());
    for token in [
        format!("{header}.{payload}."),
        format!("{header}.{payload}"),
    ] {
        assert_eq!(viewer_code(&app, &token).await, "UNAUTHENTICATED");
    }
}

#[tokio::test]
async fn a_refresh_token_is_not_an_access_token() {
    let app = spawn_app().await;
    let ed = app.sign_up("ed@example.com", "Ed").await;
    assert_eq!(
        viewer_code(&app, &ed.refresh_token).await,
        "UNAUTHENTICATED"
    );
    // And the reverse: an access token cannot refresh.
    let body = app
        .graphql(
            None,
            "mutation($t: String!) { refreshSession(input: { refreshToken: $t }) { accessToken } }",
            json!({ "t": ed.access_token }),
        )
        .await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
}

#[tokio::test]
async fn the_bearer_scheme_is_case_insensitive() {
    let app = spawn_app().await;
    let fe = app.sign_up("fe@example.com", "Fe").await;
    for scheme in ["Bearer", "bearer", "BEARER"] {
        let body: Value = app
            .client
            .post(app.url("/graphql"))
            .header("authorization", format!("{scheme} {}", fe.access_token))
            .json(&json!({ "query": "{ viewer { email } }" }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            body["data"]["viewer"]["email"], "fe@example.com",
            "{scheme}: {body}"
        );
    }
}

#[tokio::test]
async fn a_garbled_authorization_header_is_unauthenticated() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(app.url("/graphql"))
        .header("authorization", "Basic dXNlcjpwYXNz")
        .json(&json!({ "query": "{ viewer { email } }" }))
        .send()
        .await
        .unwrap();
    let body: Value = response.json().await.unwrap();
    assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
}
