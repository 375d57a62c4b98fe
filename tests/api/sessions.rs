//! Signed-in devices: listing them, ending one, and a password change that signs out
//! every other device.

use serde_json::{Value, json};

use crate::helpers::*;

const SESSIONS: &str = "{ viewer { sessions { id createdAt lastUsedAt userAgent current } } }";
const REVOKE: &str =
    "mutation($id: ID!) { revokeSession(input: { sessionId: $id }) { revokedSessionId } }";
const CHANGE: &str = "mutation($c: String!, $n: String!) { changePassword(input: { currentPassword: $c, newPassword: $n }) }";

async fn sessions_of(app: &TestApp, access_token: &str) -> Vec<Value> {
    let body = app.graphql(Some(access_token), SESSIONS, json!({})).await;
    body["data"]["viewer"]["sessions"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .clone()
}

#[tokio::test]
async fn members_see_their_devices_and_end_one() {
    let app = spawn_app().await;
    let ann = app.sign_up("ann@example.com", "Ann").await;
    let Member {
        access_token: phone,
        refresh_token: phone_refresh,
        ..
    } = app
        .log_in_from("ann@example.com", PASSWORD, "Kith/1.0 (Pixel 8)")
        .await;
    let tablet = app
        .log_in_from("ann@example.com", PASSWORD, "Kith/1.0 (iPad)")
        .await
        .access_token;

    let seen = sessions_of(&app, &tablet).await;
    assert_eq!(seen.len(), 3, "sign-up and two log-ins: {seen:?}");
    let current: Vec<&Value> = seen.iter().filter(|s| s["current"] == true).collect();
    assert_eq!(current.len(), 1);
    assert_eq!(current[0]["userAgent"], "Kith/1.0 (iPad)");
    let phone_session = seen
        .iter()
        .find(|s| s["userAgent"] == "Kith/1.0 (Pixel 8)")
        .unwrap()["id"]
        .clone();

    // Someone else cannot see or end it.
    let bo = app.sign_up("bo@example.com", "Bo").await;
    let body = app
        .graphql(
            Some(&bo.access_token),
            REVOKE,
            json!({ "id": phone_session }),
        )
        .await;
    assert_eq!(error_code(&body), "NOT_FOUND", "{body}");
    let body = app
        .graphql(
            Some(&bo.access_token),
            "query($id: ID!) { node(id: $id) { id } }",
            json!({ "id": phone_session }),
        )
        .await;
    assert!(body["data"]["node"].is_null(), "{body}");

    // Ann ends the phone's session from the tablet: its refresh token is refused at once.
    let body = app
        .graphql(Some(&tablet), REVOKE, json!({ "id": phone_session }))
        .await;
    assert_eq!(
        body["data"]["revokeSession"]["revokedSessionId"], phone_session,
        "{body}"
    );
    let body = app
        .graphql(None, REFRESH, json!({ "t": phone_refresh }))
        .await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
    assert_eq!(sessions_of(&app, &tablet).await.len(), 2);
    // Its access token is refused at once too, although it has minutes left to run.
    let body = app.graphql(Some(&phone), SESSIONS, json!({})).await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
    // Ending it again changes nothing. The other devices go on.
    let body = app
        .graphql(Some(&tablet), REVOKE, json!({ "id": phone_session }))
        .await;
    assert_eq!(
        body["data"]["revokeSession"]["revokedSessionId"], phone_session,
        "{body}"
    );
    assert_eq!(sessions_of(&app, &ann.access_token).await.len(), 2);
}

#[tokio::test]
async fn a_password_change_signs_out_every_other_device() {
    let app = spawn_app().await;
    let ann = app.sign_up("ann@example.com", "Ann").await;
    let phone_refresh = app
        .log_in_from("ann@example.com", PASSWORD, "phone")
        .await
        .refresh_token;
    let Member {
        access_token: laptop,
        refresh_token: laptop_refresh,
        ..
    } = app.log_in_from("ann@example.com", PASSWORD, "laptop").await;

    let body = app
        .graphql(
            Some(&laptop),
            CHANGE,
            json!({ "c": "not my password", "n": "a brand new secret" }),
        )
        .await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
    let body = app
        .graphql(
            Some(&laptop),
            CHANGE,
            json!({ "c": PASSWORD, "n": "short" }),
        )
        .await;
    assert_eq!(error_field(&body), "input.newPassword", "{body}");

    let body = app
        .graphql(
            Some(&laptop),
            CHANGE,
            json!({ "c": PASSWORD, "n": "a brand new secret" }),
        )
        .await;
    assert_eq!(body["data"]["changePassword"], true, "{body}");
    // The other devices are signed out, access tokens included; this one goes on.
    for refresh in [&phone_refresh, &ann.refresh_token] {
        let body = app.graphql(None, REFRESH, json!({ "t": refresh })).await;
        assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
    }
    let body = app
        .graphql(Some(&ann.access_token), SESSIONS, json!({}))
        .await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
    assert_eq!(sessions_of(&app, &laptop).await.len(), 1);
    let body = app
        .graphql(None, REFRESH, json!({ "t": laptop_refresh }))
        .await;
    assert!(
        body["data"]["refreshSession"]["accessToken"].is_string(),
        "{body}"
    );
    // Only the new password opens the account.
    assert_eq!(
        error_code(&app.log_in("ann@example.com", PASSWORD).await),
        "UNAUTHENTICATED"
    );
    let body = app.log_in("ann@example.com", "a brand new secret").await;
    assert!(body["data"]["logIn"]["accessToken"].is_string(), "{body}");
}
