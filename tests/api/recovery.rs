//! Getting back into an account, and moving it to another address. Reset codes are mailed
//! after the answer, the answer never tells whether an address has an account, and the
//! limits treat every address alike; a reset ends every session there was; a new address
//! must be proved again, and the old one is told.

use chrono::{Duration, Utc};
use entity::one_time_code;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
use serde_json::{Value, json};

use crate::helpers::*;

const REQUEST: &str = "mutation($e: String!) { requestPasswordReset(input: { email: $e }) }";
const RESET: &str = "mutation($e: String!, $c: String!, $p: String!) { resetPassword(input: { email: $e, code: $c, newPassword: $p }) { accessToken refreshToken user { id } } }";
const CHANGE_EMAIL: &str = "mutation($e: String!, $p: String!) { changeEmail(input: { newEmail: $e, password: $p }) { email user { id verification { emailVerified } } } }";
const VERIFY: &str =
    "mutation($c: String!) { verifyEmail(input: { code: $c }) { verification { emailVerified } } }";
const VIEWER: &str = "{ viewer { email user { id verification { emailVerified } } } }";

const NEW_PASSWORD: &str = "a brand new secret";

async fn request_reset(app: &TestApp, email: &str) -> Value {
    app.graphql(None, REQUEST, json!({ "e": email })).await
}

/// Asks for a reset code for `email` and reads it from the mail that follows the answer.
async fn reset_code(app: &TestApp, email: &str) -> String {
    let before = app.mails_to(email).len();
    let body = request_reset(app, email).await;
    assert_eq!(body["data"]["requestPasswordReset"], true, "{body}");
    code_in(&app.wait_for_mail_to(email, before).await)
}

async fn reset(app: &TestApp, email: &str, code: &str, password: &str) -> Value {
    app.graphql(None, RESET, json!({ "e": email, "c": code, "p": password }))
        .await
}

async fn viewer(app: &TestApp, access_token: &str) -> Value {
    app.graphql(Some(access_token), VIEWER, json!({})).await
}

/// Logs in again, as another device would: a member with a session of its own.
async fn another_device(app: &TestApp, email: &str) -> Member {
    let body = app.log_in(email, PASSWORD).await;
    member_from(&body["data"]["logIn"], email).unwrap_or_else(|| panic!("log-in failed: {body}"))
}

#[tokio::test]
async fn asking_for_a_reset_tells_nothing_about_whether_the_address_has_an_account() {
    let app = spawn_app().await;
    app.sign_up("ann@example.com", "Ann").await;
    let ann_before = app.mails_to("ann@example.com").len();
    let all_before = app.mails().len();

    // The same answer for an address without an account and for one with.
    let unknown = request_reset(&app, "nobody@example.com").await;
    let known = request_reset(&app, "ann@example.com").await;
    assert_eq!(known["data"]["requestPasswordReset"], true, "{known}");
    assert_eq!(unknown, known, "the answers differ");

    // Only the account's address gets a code. The unknown address was asked for first, so
    // once Ann's mail is there, any mail for it would be too.
    let mail = app.wait_for_mail_to("ann@example.com", ann_before).await;
    let code = code_in(&mail);
    assert_eq!(code.len(), 6, "{mail}");
    assert_eq!(
        app.mails().len(),
        all_before + 1,
        "one mail, for the known address only"
    );
    assert!(app.mails_to("nobody@example.com").is_empty());

    // A malformed address is the only thing an answer tells.
    let body = request_reset(&app, "not an address").await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    assert_eq!(error_field(&body), "input.email", "{body}");

    // Five requests an hour for each address, known or not; the sixth is refused alike.
    for round in 1..5 {
        let unknown = request_reset(&app, "nobody@example.com").await;
        let known = request_reset(&app, "ann@example.com").await;
        assert_eq!(known["data"]["requestPasswordReset"], true, "{known}");
        assert_eq!(unknown, known, "round {round}");
        app.wait_for_mail_to("ann@example.com", ann_before + round)
            .await;
    }
    let unknown = request_reset(&app, "nobody@example.com").await;
    let known = request_reset(&app, "ann@example.com").await;
    for body in [&unknown, &known] {
        assert_eq!(error_code(body), "RATE_LIMITED", "{body}");
        assert!(
            body["errors"][0]["extensions"]["retryAfterSeconds"]
                .as_u64()
                .is_some_and(|s| s >= 1),
            "{body}"
        );
    }
    assert_eq!(app.mails_to("ann@example.com").len(), ann_before + 5);
    assert!(app.mails_to("nobody@example.com").is_empty());
}

#[tokio::test]
async fn one_client_asking_for_many_addresses_is_limited() {
    let app = spawn_app().await;
    app.sign_up("ann@example.com", "Ann").await;
    // Twenty addresses from one client, none with an account: answered as always.
    for i in 0..20 {
        let body = request_reset(&app, &format!("visitor{i}@example.com")).await;
        assert_eq!(body["data"]["requestPasswordReset"], true, "{i}: {body}");
    }
    // The twenty-first is refused, even for an address asked for the first time.
    let body = request_reset(&app, "ann@example.com").await;
    assert_eq!(error_code(&body), "RATE_LIMITED", "{body}");
}

#[tokio::test]
async fn a_reset_signs_in_and_ends_every_session_there_was() {
    let app = spawn_app().await;
    let ann = app.sign_up("ann@example.com", "Ann").await;
    let phone = another_device(&app, "ann@example.com").await;
    let laptop = another_device(&app, "ann@example.com").await;
    let body = viewer(&app, &laptop.access_token).await;
    assert_eq!(
        body["data"]["viewer"]["user"]["verification"]["emailVerified"], false,
        "{body}"
    );

    let code = reset_code(&app, "ann@example.com").await;
    let body = reset(&app, "ann@example.com", &code, NEW_PASSWORD).await;
    let payload = &body["data"]["resetPassword"];
    assert_eq!(payload["user"]["id"], ann.id.as_str(), "{body}");
    let fresh = member_from(payload, "ann@example.com").unwrap_or_else(|| panic!("{body}"));

    // Every device that was signed in is signed out, access tokens included, at once.
    for device in [&ann, &phone, &laptop] {
        let body = viewer(&app, &device.access_token).await;
        assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
        let body = app
            .graphql(None, REFRESH, json!({ "t": device.refresh_token }))
            .await;
        assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
    }

    // The new session works; the mailed code proved the address.
    let body = viewer(&app, &fresh.access_token).await;
    assert_eq!(body["data"]["viewer"]["email"], "ann@example.com", "{body}");
    assert_eq!(
        body["data"]["viewer"]["user"]["verification"]["emailVerified"], true,
        "{body}"
    );
    let body = app
        .graphql(None, REFRESH, json!({ "t": fresh.refresh_token }))
        .await;
    assert!(
        body["data"]["refreshSession"]["accessToken"].is_string(),
        "{body}"
    );

    // Only the new password opens the account.
    let body = app.log_in("ann@example.com", PASSWORD).await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
    let body = app.log_in("ann@example.com", NEW_PASSWORD).await;
    assert_eq!(
        body["data"]["logIn"]["user"]["id"],
        ann.id.as_str(),
        "{body}"
    );
}

#[tokio::test]
async fn reset_codes_are_newest_only_single_use_and_die_after_five_wrong_tries() {
    let app = spawn_app().await;
    let bo = app.sign_up("bo@example.com", "Bo").await;

    // No code asked for, and no account: one answer for both.
    let no_code = reset(&app, "bo@example.com", "123456", NEW_PASSWORD).await;
    let no_account = reset(&app, "nobody@example.com", "123456", NEW_PASSWORD).await;
    for body in [&no_code, &no_account] {
        assert_eq!(error_code(body), "BAD_USER_INPUT", "{body}");
        assert_eq!(error_field(body), "input.code", "{body}");
    }
    assert_eq!(
        no_code["errors"][0]["message"], no_account["errors"][0]["message"],
        "{no_code} {no_account}"
    );

    // Only the newest code counts.
    let first = reset_code(&app, "bo@example.com").await;
    let second = reset_code(&app, "bo@example.com").await;
    if first != second {
        let body = reset(&app, "bo@example.com", &first, NEW_PASSWORD).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
        assert_eq!(error_field(&body), "input.code", "{body}");
    }
    // A short password is refused, and the code still holds.
    let body = reset(&app, "bo@example.com", &second, "short").await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    assert_eq!(error_field(&body), "input.newPassword", "{body}");
    let body = reset(&app, "bo@example.com", &second, NEW_PASSWORD).await;
    assert_eq!(
        body["data"]["resetPassword"]["user"]["id"],
        bo.id.as_str(),
        "{body}"
    );
    // Used once. Used again, it gets the very answer a stranger's guess at an address
    // without an account gets: a CONFLICT would say that this address reset its password.
    let used = reset(&app, "bo@example.com", &second, "yet another secret").await;
    assert_eq!(error_code(&used), "BAD_USER_INPUT", "{used}");
    assert_eq!(error_field(&used), "input.code", "{used}");
    let stranger = reset(&app, "nobody@example.com", &second, "yet another secret").await;
    assert_eq!(
        used["errors"][0]["message"], stranger["errors"][0]["message"],
        "{used} {stranger}"
    );

    // Four wrong tries are told so; the fifth kills the code, and then the right one fails.
    let third = reset_code(&app, "bo@example.com").await;
    for _ in 0..4 {
        let body = reset(
            &app,
            "bo@example.com",
            &wrong_code(&third),
            "yet another secret",
        )
        .await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
        assert_eq!(error_field(&body), "input.code", "{body}");
    }
    let body = reset(
        &app,
        "bo@example.com",
        &wrong_code(&third),
        "yet another secret",
    )
    .await;
    assert_eq!(error_code(&body), "RATE_LIMITED", "{body}");
    let body = reset(&app, "bo@example.com", &third, "yet another secret").await;
    assert_eq!(error_code(&body), "RATE_LIMITED", "{body}");

    // The password is the one the used code set.
    let body = app.log_in("bo@example.com", "yet another secret").await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
    let body = app.log_in("bo@example.com", NEW_PASSWORD).await;
    assert_eq!(
        body["data"]["logIn"]["user"]["id"],
        bo.id.as_str(),
        "{body}"
    );
}

#[tokio::test]
async fn change_email_needs_the_password_and_an_address_of_ones_own() {
    let app = spawn_app().await;
    let ann = app.sign_up("ann@example.com", "Ann").await;
    app.sign_up("bo@example.com", "Bo").await;
    let token = Some(ann.access_token.as_str());

    let body = app
        .graphql(
            None,
            CHANGE_EMAIL,
            json!({ "e": "ann.new@example.com", "p": PASSWORD }),
        )
        .await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
    let body = app
        .graphql(
            token,
            CHANGE_EMAIL,
            json!({ "e": "ann.new@example.com", "p": "not my password" }),
        )
        .await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");

    for bad in ["not an address", "ann@example.com", "ANN@example.com"] {
        let body = app
            .graphql(token, CHANGE_EMAIL, json!({ "e": bad, "p": PASSWORD }))
            .await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{bad}: {body}");
        assert_eq!(error_field(&body), "input.newEmail", "{bad}: {body}");
    }
    for taken in ["bo@example.com", "BO@example.com"] {
        let body = app
            .graphql(token, CHANGE_EMAIL, json!({ "e": taken, "p": PASSWORD }))
            .await;
        assert_eq!(error_code(&body), "CONFLICT", "{taken}: {body}");
    }

    // Nothing changed.
    let body = viewer(&app, &ann.access_token).await;
    assert_eq!(body["data"]["viewer"]["email"], "ann@example.com", "{body}");
    let body = app.log_in("ann@example.com", PASSWORD).await;
    assert_eq!(
        body["data"]["logIn"]["user"]["id"],
        ann.id.as_str(),
        "{body}"
    );
    assert!(app.mails_to("bo@example.com").is_empty());
}

#[tokio::test]
async fn a_new_address_is_proved_again_and_the_old_one_is_told() {
    let app = spawn_app().await;
    let ann = app.verified_member("ann@example.com", "Ann").await;
    let token = Some(ann.access_token.as_str());
    let old_before = app.mails_to("ann@example.com").len();

    let body = app
        .graphql(
            token,
            CHANGE_EMAIL,
            json!({ "e": "ann.new@example.com", "p": PASSWORD }),
        )
        .await;
    let changed = &body["data"]["changeEmail"];
    assert_eq!(changed["email"], "ann.new@example.com", "{body}");
    assert_eq!(changed["user"]["id"], ann.id.as_str(), "{body}");
    assert_eq!(
        changed["user"]["verification"]["emailVerified"], false,
        "{body}"
    );
    let body = viewer(&app, &ann.access_token).await;
    assert_eq!(
        body["data"]["viewer"]["email"], "ann.new@example.com",
        "{body}"
    );

    // A code goes to the new address; the old one hears of the change, without the code.
    let code = code_in(&app.wait_for_mail_to("ann.new@example.com", 0).await);
    let notice = mail_text(&app.wait_for_mail_to("ann@example.com", old_before).await);
    assert!(notice.contains("ann.new@example.com"), "{notice}");
    assert!(!notice.contains(&code), "{notice}");

    let body = app.graphql(token, VERIFY, json!({ "c": code })).await;
    assert_eq!(
        body["data"]["verifyEmail"]["verification"]["emailVerified"], true,
        "{body}"
    );

    // The account answers to the new address only, which is taken now.
    let body = app.log_in("ann@example.com", PASSWORD).await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
    let body = app.log_in("ann.new@example.com", PASSWORD).await;
    assert_eq!(
        body["data"]["logIn"]["user"]["id"],
        ann.id.as_str(),
        "{body}"
    );
    let body = app
        .graphql(
            None,
            &format!(
                "mutation($input: SignUpInput!) {{ signUp(input: $input) {{ {AUTH_FIELDS} }} }}"
            ),
            json!({ "input": { "email": "ann.new@example.com", "password": PASSWORD, "displayName": "Other Ann" } }),
        )
        .await;
    assert_eq!(error_code(&body), "CONFLICT", "{body}");
}

#[tokio::test]
async fn guessing_codes_locks_every_address_alike_member_or_not() {
    let app = spawn_app().await;
    app.sign_up("bo@example.com", "Bo").await;
    app.sign_up("cy@example.com", "Cy").await;
    // Bo asked for a code; Cy did not; nobody@ has no account. A stranger guessing at each
    // sees the same: four wrong tries are told so, the fifth locks the address for the
    // same time, and the lock holds even for the right code.
    let code = reset_code(&app, "bo@example.com").await;
    let addresses = ["bo@example.com", "cy@example.com", "nobody@example.com"];
    for round in 1..=4 {
        let answers: Vec<Value> = try_each(&app, &addresses, &wrong_code(&code)).await;
        for body in &answers {
            assert_eq!(error_code(body), "BAD_USER_INPUT", "round {round}: {body}");
            assert_eq!(error_field(body), "input.code", "{body}");
            assert_eq!(
                body["errors"][0]["message"],
                answers[0]["errors"][0]["message"]
            );
        }
    }
    let locked: Vec<Value> = try_each(&app, &addresses, &wrong_code(&code)).await;
    let waits: Vec<i64> = locked
        .iter()
        .map(|body| {
            assert_eq!(error_code(body), "RATE_LIMITED", "{body}");
            body["errors"][0]["extensions"]["retryAfterSeconds"]
                .as_i64()
                .unwrap_or_else(|| panic!("{body}"))
        })
        .collect();
    for wait in &waits {
        assert!((wait - waits[0]).abs() <= 2, "waits differ: {waits:?}");
        assert!(*wait > 60, "locked for the rest of the window: {waits:?}");
    }
    let body = reset(&app, "bo@example.com", &code, NEW_PASSWORD).await;
    assert_eq!(error_code(&body), "RATE_LIMITED", "{body}");
    // Another address is not held up by it; and asking for a new code starts the count
    // again, for Bo as for an address without an account.
    let body = reset(&app, "someone@example.com", "123456", NEW_PASSWORD).await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    let fresh = reset_code(&app, "bo@example.com").await;
    assert_eq!(
        request_reset(&app, "nobody@example.com").await["data"]["requestPasswordReset"],
        true
    );
    let body = reset(&app, "nobody@example.com", "123456", NEW_PASSWORD).await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    let body = reset(&app, "bo@example.com", &fresh, NEW_PASSWORD).await;
    assert!(
        body["data"]["resetPassword"]["accessToken"].is_string(),
        "{body}"
    );
}

/// One reset try for each address, in order.
async fn try_each(app: &TestApp, addresses: &[&str], code: &str) -> Vec<Value> {
    let mut answers = Vec::new();
    for address in addresses {
        answers.push(reset(app, address, code, NEW_PASSWORD).await);
    }
    answers
}

#[tokio::test]
async fn a_reset_code_lasts_fifteen_minutes() {
    let app = spawn_app().await;
    app.sign_up("bo@example.com", "Bo").await;
    let code = reset_code(&app, "bo@example.com").await;
    // Sixteen minutes pass.
    one_time_code::Entity::update_many()
        .col_expr(
            one_time_code::Column::ExpiresAt,
            Expr::value(Utc::now() - Duration::minutes(1)),
        )
        .filter(one_time_code::Column::Purpose.eq("reset_password"))
        .exec(&app.state.db)
        .await
        .unwrap();
    let body = reset(&app, "bo@example.com", &code, NEW_PASSWORD).await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    assert_eq!(error_field(&body), "input.code", "{body}");
    let body = app.log_in("bo@example.com", NEW_PASSWORD).await;
    assert_eq!(
        error_code(&body),
        "UNAUTHENTICATED",
        "the password stayed: {body}"
    );
}
