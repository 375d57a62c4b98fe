//! Sign-up, log-in, sessions and the profile, as a phone app uses them.

use serde_json::{Value, json};

use crate::helpers::*;

const VIEWER: &str = "{ viewer { email timeZone homeLocation { lat lng } user { id displayName bio memberSince verification { emailVerified inPersonCount level } } } }";

#[tokio::test]
async fn sign_up_signs_in_and_shows_the_viewer() {
    let app = spawn_app().await;
    let body = app
        .graphql(
            None,
            &format!("mutation($input: SignUpInput!) {{ signUp(input: $input) {{ {AUTH_FIELDS} }} }}"),
            json!({ "input": { "email": "  Ann@Example.COM ", "password": PASSWORD, "displayName": "  Ann  " } }),
        )
        .await;
    let expires: chrono::DateTime<chrono::Utc> = body["data"]["signUp"]["accessTokenExpiresAt"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let lifetime = expires - chrono::Utc::now();
    assert!(
        lifetime > chrono::Duration::minutes(14) && lifetime <= chrono::Duration::minutes(15),
        "{body}"
    );
    let ann = member_from(&body["data"]["signUp"], "ann@example.com").unwrap();

    let body = app
        .graphql(Some(&ann.access_token), VIEWER, json!({}))
        .await;
    let viewer = &body["data"]["viewer"];
    assert_eq!(viewer["email"], "ann@example.com", "{body}");
    assert_eq!(viewer["user"]["id"], ann.id.as_str());
    assert_eq!(viewer["user"]["displayName"], "Ann");
    assert_eq!(viewer["user"]["verification"]["level"], "UNVERIFIED");
    assert_eq!(viewer["user"]["verification"]["emailVerified"], false);
    assert_eq!(viewer["user"]["verification"]["inPersonCount"], 0);
    assert!(viewer["homeLocation"].is_null());
}

#[tokio::test]
async fn viewer_is_null_without_a_token() {
    let app = spawn_app().await;
    let body = app.graphql(None, "{ viewer { email } }", json!({})).await;
    assert!(body["data"]["viewer"].is_null(), "{body}");
    assert!(body["errors"].is_null(), "{body}");
}

#[tokio::test]
async fn a_taken_email_is_a_conflict_whatever_its_case() {
    let app = spawn_app().await;
    app.sign_up("bob@example.com", "Bob").await;
    let body = app
        .graphql(
            None,
            "mutation($input: SignUpInput!) { signUp(input: $input) { accessToken } }",
            json!({ "input": { "email": " BOB@example.com", "password": PASSWORD, "displayName": "Bob 2" } }),
        )
        .await;
    assert_eq!(error_code(&body), "CONFLICT", "{body}");
}

#[tokio::test]
async fn sign_up_rules_name_the_broken_field() {
    let app = spawn_app().await;
    let long_name = "x".repeat(61);
    let cases = [
        (
            json!({ "email": "not-an-email", "password": PASSWORD, "displayName": "Ann" }),
            "input.email",
        ),
        // A zero-width space would make an address that looks like another member's.
        (
            json!({ "email": "ann\u{200b}@example.com", "password": PASSWORD, "displayName": "Ann" }),
            "input.email",
        ),
        (
            json!({ "email": "ann@example.com", "password": "123456789", "displayName": "Ann" }),
            "input.password",
        ),
        (
            json!({ "email": "ann@example.com", "password": PASSWORD, "displayName": "   " }),
            "input.displayName",
        ),
        (
            json!({ "email": "ann@example.com", "password": PASSWORD, "displayName": long_name }),
            "input.displayName",
        ),
    ];
    for (input, field) in cases {
        let body = app
            .graphql(
                None,
                "mutation($input: SignUpInput!) { signUp(input: $input) { accessToken } }",
                json!({ "input": input }),
            )
            .await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
        assert_eq!(error_field(&body), field, "{body}");
    }
    // Nothing was stored: the address is still free.
    app.sign_up("ann@example.com", "Ann").await;
}

#[tokio::test]
async fn log_in_answers_the_same_for_unknown_email_and_wrong_password() {
    let app = spawn_app().await;
    app.sign_up("cat@example.com", "Cat").await;

    let ok = app.log_in("CAT@example.com", PASSWORD).await;
    assert!(ok["data"]["logIn"]["accessToken"].is_string(), "{ok}");

    let wrong_password = app.log_in("cat@example.com", "not the password").await;
    let unknown_email = app.log_in("nobody@example.com", PASSWORD).await;
    assert_eq!(error_code(&wrong_password), "UNAUTHENTICATED");
    assert_eq!(error_code(&unknown_email), "UNAUTHENTICATED");
    assert_eq!(
        wrong_password["errors"][0]["message"],
        unknown_email["errors"][0]["message"]
    );
}

#[tokio::test]
async fn repeated_failed_log_ins_are_rate_limited() {
    let app = spawn_app().await;
    app.sign_up("dan@example.com", "Dan").await;
    for _ in 0..10 {
        let body = app.log_in("dan@example.com", "wrong password!").await;
        assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
    }
    // Even the right password waits now: the limit protects the account, not the guess.
    let body = app.log_in("dan@example.com", PASSWORD).await;
    assert_eq!(error_code(&body), "RATE_LIMITED", "{body}");
    let retry = body["errors"][0]["extensions"]["retryAfterSeconds"]
        .as_u64()
        .unwrap();
    assert!(retry > 0 && retry <= 15 * 60, "{body}");
}

#[tokio::test]
async fn failed_log_ins_sent_at_once_are_counted_all_the_same() {
    let app = spawn_app().await;
    app.sign_up("fin@example.com", "Fin").await;
    let tries = (0..30).map(|_| app.log_in("fin@example.com", "wrong password!"));
    let results = futures::future::join_all(tries).await;
    let judged = results
        .iter()
        .filter(|r| error_code(r) == "UNAUTHENTICATED")
        .count();
    let limited = results
        .iter()
        .filter(|r| error_code(r) == "RATE_LIMITED")
        .count();
    assert!(judged <= 10, "{judged} passwords were checked");
    assert_eq!(judged + limited, 30);
}

#[tokio::test]
async fn absurdly_long_credentials_are_just_wrong() {
    let app = spawn_app().await;
    let long_email = format!("{}@example.com", "a".repeat(40_000));
    let body = app.log_in(&long_email, PASSWORD).await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
    let body = app.log_in("someone@example.com", &"p".repeat(5000)).await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
}

#[tokio::test]
async fn a_flood_of_failures_from_one_client_is_rate_limited() {
    let app = spawn_app().await;
    app.sign_up("eve@example.com", "Eve").await;
    // Many different addresses, one client: the per-client limit (50) applies.
    for i in 0..50 {
        let body = app
            .log_in(&format!("guess{i}@example.com"), "wrong password!")
            .await;
        assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
    }
    let body = app.log_in("eve@example.com", PASSWORD).await;
    assert_eq!(error_code(&body), "RATE_LIMITED", "{body}");
}

/// The `refreshSession` payload's new `(accessToken, refreshToken)`.
fn pair_in(body: &Value) -> (String, String) {
    let payload = &body["data"]["refreshSession"];
    (
        payload["accessToken"]
            .as_str()
            .unwrap_or_else(|| panic!("{body}"))
            .to_owned(),
        payload["refreshToken"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn refresh_rotates_and_reuse_revokes_the_session() {
    let app = spawn_app().await;
    let fay = app.sign_up("fay@example.com", "Fay").await;

    let first = app
        .graphql(None, REFRESH, json!({ "t": fay.refresh_token }))
        .await;
    let (access, rotated) = pair_in(&first);
    assert_ne!(rotated, fay.refresh_token);
    assert_eq!(
        first["data"]["refreshSession"]["user"]["id"],
        fay.id.as_str()
    );
    let viewer = app
        .graphql(Some(&access), "{ viewer { email } }", json!({}))
        .await;
    assert_eq!(viewer["data"]["viewer"]["email"], "fay@example.com");

    // The new token is used; the old one again is reuse. The whole family ends, the
    // newest token included.
    let (_, newest) = pair_in(&app.graphql(None, REFRESH, json!({ "t": rotated })).await);
    let reused = app
        .graphql(None, REFRESH, json!({ "t": fay.refresh_token }))
        .await;
    assert_eq!(error_code(&reused), "UNAUTHENTICATED", "{reused}");
    let after = app.graphql(None, REFRESH, json!({ "t": newest })).await;
    assert_eq!(error_code(&after), "UNAUTHENTICATED", "{after}");

    // Other sessions of the member are untouched.
    let other = app.log_in("fay@example.com", PASSWORD).await;
    let token = other["data"]["logIn"]["refreshToken"].as_str().unwrap();
    let again = app.graphql(None, REFRESH, json!({ "t": token })).await;
    assert!(
        again["data"]["refreshSession"]["refreshToken"].is_string(),
        "{again}"
    );
}

#[tokio::test]
async fn a_refresh_whose_answer_was_lost_is_answered_again_within_30_seconds() {
    let app = spawn_app().await;
    let gus = app.sign_up("gus@example.com", "Gus").await;
    let first = pair_in(
        &app.graphql(None, REFRESH, json!({ "t": gus.refresh_token }))
            .await,
    );
    // The answer was lost in a tunnel: the app sends the same token again, and gets the
    // very same pair.
    let retried = pair_in(
        &app.graphql(None, REFRESH, json!({ "t": gus.refresh_token }))
            .await,
    );
    assert_eq!(retried, first);
    let (access, next) = first;
    let body = app
        .graphql(Some(&access), "{ viewer { email } }", json!({}))
        .await;
    assert_eq!(body["data"]["viewer"]["email"], "gus@example.com", "{body}");
    assert!(pair_in(&app.graphql(None, REFRESH, json!({ "t": next })).await).1 != next);

    // Past the 30 seconds, the old token again is reuse, as before.
    let hal = app.sign_up("hal@example.com", "Hal").await;
    let (_, successor) = pair_in(
        &app.graphql(None, REFRESH, json!({ "t": hal.refresh_token }))
            .await,
    );
    let hash = kith::auth::secrets::token_hash(&hal.refresh_token);
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
    entity::refresh_token::Entity::update_many()
        .col_expr(
            entity::refresh_token::Column::ReplacedAt,
            Expr::value(chrono::Utc::now() - chrono::Duration::seconds(31)),
        )
        .filter(entity::refresh_token::Column::TokenHash.eq(hash))
        .exec(&app.state.db)
        .await
        .unwrap();
    let late = app
        .graphql(None, REFRESH, json!({ "t": hal.refresh_token }))
        .await;
    assert_eq!(error_code(&late), "UNAUTHENTICATED", "{late}");
    let after = app.graphql(None, REFRESH, json!({ "t": successor })).await;
    assert_eq!(
        error_code(&after),
        "UNAUTHENTICATED",
        "the session ended: {after}"
    );
}

#[tokio::test]
async fn concurrent_refreshes_with_one_token_all_get_the_one_successor() {
    let app = spawn_app().await;
    let gus = app.sign_up("gus@example.com", "Gus").await;
    let tries = (0..8).map(|_| app.graphql(None, REFRESH, json!({ "t": gus.refresh_token })));
    let results = futures::future::join_all(tries).await;
    let pairs: Vec<(String, String)> = results.iter().map(pair_in).collect();
    // Eight sends of one token are one refresh, retried: one successor, one session.
    assert!(pairs.iter().all(|p| *p == pairs[0]), "{results:?}");
    let (_, next) = &pairs[0];
    let body = app.graphql(None, REFRESH, json!({ "t": next })).await;
    assert!(
        body["data"]["refreshSession"]["refreshToken"].is_string(),
        "{body}"
    );
}

#[tokio::test]
async fn log_out_ends_the_session() {
    let app = spawn_app().await;
    let hal = app.sign_up("hal@example.com", "Hal").await;
    let logout = "mutation($t: String!) { logOut(input: { refreshToken: $t }) }";
    let body = app
        .graphql(None, logout, json!({ "t": hal.refresh_token }))
        .await;
    assert_eq!(body["data"]["logOut"], true, "{body}");
    let refresh = app
        .graphql(None, REFRESH, json!({ "t": hal.refresh_token }))
        .await;
    assert_eq!(error_code(&refresh), "UNAUTHENTICATED");
    let again = app
        .graphql(None, logout, json!({ "t": hal.refresh_token }))
        .await;
    assert_eq!(again["data"]["logOut"], false, "{again}");
}

const UPDATE: &str =
    "mutation($input: UpdateProfileInput!) { updateProfile(input: $input) { id displayName bio } }";

#[tokio::test]
async fn update_profile_changes_only_what_is_given() {
    let app = spawn_app().await;
    let ivy = app.sign_up("ivy@example.com", "Ivy").await;
    let token = Some(ivy.access_token.as_str());

    let body = app
        .graphql(
            token,
            UPDATE,
            json!({ "input": { "bio": "Climbs on Sundays.", "homeLocation": { "lat": 52.52, "lng": 13.405 }, "timeZone": "Europe/Berlin" } }),
        )
        .await;
    assert_eq!(
        body["data"]["updateProfile"]["bio"], "Climbs on Sundays.",
        "{body}"
    );
    assert_eq!(body["data"]["updateProfile"]["displayName"], "Ivy");

    let body = app
        .graphql(
            token,
            UPDATE,
            json!({ "input": { "displayName": " Ivy K. " } }),
        )
        .await;
    assert_eq!(
        body["data"]["updateProfile"]["displayName"], "Ivy K.",
        "{body}"
    );
    let viewer = app.graphql(token, VIEWER, json!({})).await;
    let v = &viewer["data"]["viewer"];
    assert_eq!(v["user"]["bio"], "Climbs on Sundays.", "{viewer}");
    assert_eq!(v["timeZone"], "Europe/Berlin");
    assert_eq!(v["homeLocation"]["lat"], 52.52);
    assert_eq!(v["homeLocation"]["lng"], 13.405);

    // null clears.
    app.graphql(
        token,
        UPDATE,
        json!({ "input": { "bio": null, "homeLocation": null } }),
    )
    .await;
    let viewer = app.graphql(token, VIEWER, json!({})).await;
    assert!(
        viewer["data"]["viewer"]["user"]["bio"].is_null(),
        "{viewer}"
    );
    assert!(
        viewer["data"]["viewer"]["homeLocation"].is_null(),
        "{viewer}"
    );
    assert_eq!(viewer["data"]["viewer"]["timeZone"], "Europe/Berlin");
}

#[tokio::test]
async fn update_profile_rejects_bad_input_and_keeps_the_old_values() {
    let app = spawn_app().await;
    let jo = app.sign_up("jo@example.com", "Jo").await;
    let token = Some(jo.access_token.as_str());
    let cases = [
        (json!({ "timeZone": "Mars/Olympus" }), "input.timeZone"),
        (
            json!({ "homeLocation": { "lat": 91.0, "lng": 0.0 } }),
            "input.homeLocation.lat",
        ),
        (
            json!({ "homeLocation": { "lat": 0.0, "lng": 180.5 } }),
            "input.homeLocation.lng",
        ),
        (json!({ "displayName": "" }), "input.displayName"),
        (
            json!({ "bio": "b".repeat(2001), "displayName": "Changed" }),
            "input.bio",
        ),
    ];
    for (input, field) in cases {
        let body = app.graphql(token, UPDATE, json!({ "input": input })).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
        assert_eq!(error_field(&body), field, "{body}");
    }
    let viewer = app.graphql(token, VIEWER, json!({})).await;
    assert_eq!(
        viewer["data"]["viewer"]["user"]["displayName"], "Jo",
        "{viewer}"
    );
}

#[tokio::test]
async fn acting_as_a_member_needs_a_token() {
    let app = spawn_app().await;
    let body = app
        .graphql(None, UPDATE, json!({ "input": { "bio": "hi" } }))
        .await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
    let body = app
        .graphql(None, "mutation { requestEmailVerification }", json!({}))
        .await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
}

#[tokio::test]
async fn others_see_the_public_profile_by_id_and_node() {
    let app = spawn_app().await;
    let kim = app.sign_up("kim@example.com", "Kim").await;
    let body = app
        .graphql(
            None,
            "query($id: ID!) { user(id: $id) { id displayName verification { level } } node(id: $id) { id ... on User { displayName } } }",
            json!({ "id": kim.id }),
        )
        .await;
    assert_eq!(body["data"]["user"]["displayName"], "Kim", "{body}");
    assert_eq!(body["data"]["node"]["id"], kim.id.as_str(), "{body}");
    assert_eq!(body["data"]["node"]["displayName"], "Kim", "{body}");

    // A member's email is not part of the public profile at all.
    let body = app
        .graphql(
            None,
            "query($id: ID!) { user(id: $id) { email } }",
            json!({ "id": kim.id }),
        )
        .await;
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("email"),
        "{body}"
    );

    let missing = app
        .graphql(None, "{ node(id: \"bm9wZQ\") { id } }", json!({}))
        .await;
    assert!(missing["data"]["node"].is_null(), "{missing}");
    let bad = app
        .graphql(None, "{ user(id: \"garbage\") { id } }", json!({}))
        .await;
    assert_eq!(error_code(&bad), "BAD_USER_INPUT", "{bad}");
}
