//! Email verification codes: mailed, hashed, short-lived, newest only, five tries.

use chrono::{Duration, Utc};
use entity::one_time_code;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use crate::helpers::*;

const VERIFY: &str = "mutation($code: String!) { verifyEmail(input: { code: $code }) { verification { emailVerified level } } }";

#[tokio::test]
async fn the_mailed_code_verifies_the_email() {
    let app = spawn_app().await;
    let ann = app.sign_up("ann@example.com", "Ann").await;
    let code = app.request_code(&ann).await;

    let body = app
        .graphql(Some(&ann.access_token), VERIFY, json!({ "code": code }))
        .await;
    assert_eq!(
        body["data"]["verifyEmail"]["verification"]["emailVerified"], true,
        "{body}"
    );
    assert_eq!(
        body["data"]["verifyEmail"]["verification"]["level"],
        "EMAIL"
    );

    // Used once; and a verified address needs no new code.
    let again = app
        .graphql(Some(&ann.access_token), VERIFY, json!({ "code": code }))
        .await;
    assert_eq!(error_code(&again), "CONFLICT", "{again}");
    let request = app
        .graphql(
            Some(&ann.access_token),
            "mutation { requestEmailVerification }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&request), "CONFLICT", "{request}");
}

#[tokio::test]
async fn codes_are_not_stored_in_the_clear() {
    let app = spawn_app().await;
    let bea = app.sign_up("bea@example.com", "Bea").await;
    let code = app.request_code(&bea).await;
    let rows = one_time_code::Entity::find()
        .all(&app.state.db)
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert!(!rows[0].code_hash.contains(&code));
    assert_eq!(rows[0].code_hash.len(), 64);
}

#[tokio::test]
async fn only_the_newest_code_counts() {
    let app = spawn_app().await;
    let cy = app.sign_up("cy@example.com", "Cy").await;
    let first = app.request_code(&cy).await;
    let second = app.request_code(&cy).await;
    if first != second {
        let body = app
            .graphql(Some(&cy.access_token), VERIFY, json!({ "code": first }))
            .await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
        assert_eq!(error_field(&body), "input.code", "{body}");
    }
    let body = app
        .graphql(Some(&cy.access_token), VERIFY, json!({ "code": second }))
        .await;
    assert_eq!(
        body["data"]["verifyEmail"]["verification"]["level"], "EMAIL",
        "{body}"
    );
}

#[tokio::test]
async fn five_wrong_tries_kill_the_code() {
    let app = spawn_app().await;
    let dee = app.sign_up("dee@example.com", "Dee").await;
    let code = app.request_code(&dee).await;
    let token = Some(dee.access_token.as_str());
    for _ in 0..4 {
        let body = app
            .graphql(token, VERIFY, json!({ "code": wrong_code(&code) }))
            .await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    }
    let fifth = app
        .graphql(token, VERIFY, json!({ "code": wrong_code(&code) }))
        .await;
    assert_eq!(error_code(&fifth), "RATE_LIMITED", "{fifth}");
    assert!(
        fifth["errors"][0]["extensions"]["retryAfterSeconds"]
            .as_u64()
            .unwrap()
            >= 1
    );
    // The right code no longer helps.
    let right = app.graphql(token, VERIFY, json!({ "code": code })).await;
    assert_eq!(error_code(&right), "RATE_LIMITED", "{right}");
    // A new code does.
    let fresh = app.request_code(&dee).await;
    let body = app.graphql(token, VERIFY, json!({ "code": fresh })).await;
    assert_eq!(
        body["data"]["verifyEmail"]["verification"]["level"], "EMAIL",
        "{body}"
    );
}

#[tokio::test]
async fn concurrent_guesses_get_five_tries_in_all() {
    let app = spawn_app().await;
    let eli = app.sign_up("eli@example.com", "Eli").await;
    let code = app.request_code(&eli).await;
    let guesses = (1..=20).map(|i| {
        let guess = format!("{:06}", (code.parse::<u32>().unwrap() + i) % 1_000_000);
        let app = &app;
        let token = eli.access_token.clone();
        async move {
            app.graphql(Some(&token), VERIFY, json!({ "code": guess }))
                .await
        }
    });
    let results = futures::future::join_all(guesses).await;
    let judged = results
        .iter()
        .filter(|r| error_code(r) == "BAD_USER_INPUT")
        .count();
    assert!(judged <= 4, "{judged} guesses were judged: {results:?}");
    assert!(
        results
            .iter()
            .all(|r| ["BAD_USER_INPUT", "RATE_LIMITED"].contains(&error_code(r)))
    );
}

#[tokio::test]
async fn an_expired_code_is_refused() {
    let app = spawn_app().await;
    let flo = app.sign_up("flo@example.com", "Flo").await;
    let code = app.request_code(&flo).await;
    // Sixteen minutes pass.
    one_time_code::Entity::update_many()
        .col_expr(
            one_time_code::Column::ExpiresAt,
            Expr::value(Utc::now() - Duration::minutes(1)),
        )
        .filter(one_time_code::Column::Purpose.eq("verify_email"))
        .exec(&app.state.db)
        .await
        .unwrap();
    let body = app
        .graphql(Some(&flo.access_token), VERIFY, json!({ "code": code }))
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("expired"),
        "{body}"
    );
}

#[tokio::test]
async fn code_requests_are_limited_per_account() {
    let app = spawn_app().await;
    let gil = app.sign_up("gil@example.com", "Gil").await;
    for _ in 0..5 {
        app.request_code(&gil).await;
    }
    let body = app
        .graphql(
            Some(&gil.access_token),
            "mutation { requestEmailVerification }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&body), "RATE_LIMITED", "{body}");
    let retry = body["errors"][0]["extensions"]["retryAfterSeconds"]
        .as_u64()
        .unwrap();
    assert!(retry > 3500 && retry <= 3600, "{body}");
    assert_eq!(app.mails().len(), 5);
}

/// A minimal SMTP server: accepts one message and hands over its DATA.
async fn smtp_listener() -> (u16, tokio::sync::oneshot::Receiver<String>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let (socket, _) = listener.accept().await.unwrap();
        let (read, mut write) = socket.into_split();
        let mut lines = BufReader::new(read).lines();
        write.write_all(b"220 test ESMTP\r\n").await.unwrap();
        let mut data = String::new();
        let mut in_data = false;
        let mut tx = Some(tx);
        while let Ok(Some(line)) = lines.next_line().await {
            if in_data {
                if line == "." {
                    in_data = false;
                    write.write_all(b"250 queued\r\n").await.unwrap();
                    if let Some(tx) = tx.take() {
                        let _ = tx.send(data.clone());
                    }
                } else {
                    data.push_str(&line);
                    data.push('\n');
                }
                continue;
            }
            let verb = line
                .split_whitespace()
                .next()
                .unwrap_or("")
                .to_ascii_uppercase();
            let reply: &[u8] = match verb.as_str() {
                "EHLO" | "HELO" => b"250 test\r\n",
                "DATA" => {
                    in_data = true;
                    b"354 go ahead\r\n"
                }
                "QUIT" => {
                    write.write_all(b"221 bye\r\n").await.unwrap();
                    break;
                }
                _ => b"250 ok\r\n",
            };
            write.write_all(reply).await.unwrap();
        }
    });
    (port, rx)
}

#[tokio::test]
async fn codes_go_out_over_smtp_when_configured() {
    let (port, received) = smtp_listener().await;
    let smtp = format!("smtp://127.0.0.1:{port}");
    let app = spawn_app_with(&[("KITH_MAIL_DIR", ""), ("KITH_SMTP_URL", &smtp)]).await;
    let hugo = app.sign_up("hugo@example.com", "Hugo").await;
    let body = app
        .graphql(
            Some(&hugo.access_token),
            "mutation { requestEmailVerification }",
            json!({}),
        )
        .await;
    assert_eq!(body["data"]["requestEmailVerification"], true, "{body}");
    let message = tokio::time::timeout(std::time::Duration::from_secs(10), received)
        .await
        .unwrap()
        .unwrap();
    assert!(message.contains("To: hugo@example.com"), "{message}");
    let code = code_in(&message.replace('\n', "\r\n"));
    let verified = app
        .graphql(Some(&hugo.access_token), VERIFY, json!({ "code": code }))
        .await;
    assert_eq!(
        verified["data"]["verifyEmail"]["verification"]["level"], "EMAIL",
        "{verified}"
    );
}
