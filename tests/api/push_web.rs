//! The Web Push provider against a local push service that checks each message as a real
//! service and browser would: VAPID signed for its origin, the body decrypted with the
//! subscription's keys, TTL and Topic set; and the service's answers as outcomes.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::Utc;
use kith::notify::push::web::{VapidSettings, WebPush};
use kith::notify::push::{Address, Outcome, Provider, Push};
use serde_json::json;

use crate::helpers::web_push::{WebPushService, generate_vapid_key};

fn provider() -> WebPush {
    let key = generate_vapid_key();
    let settings = VapidSettings::from_lookup(&|name: &str| match name {
        "KITH_VAPID_PRIVATE_KEY" => Some(key.clone()),
        "KITH_VAPID_SUBJECT" => Some("mailto:ops@kith.example".to_owned()),
        _ => None,
    })
    .unwrap()
    .expect("both settings given");
    WebPush::new(settings)
}

fn push(collapse_key: Option<&str>, expires_in: chrono::Duration) -> Push {
    Push {
        title: "Board games night".into(),
        body: "Starts in one hour — bring snacks".into(),
        badge: 3,
        collapse_key: collapse_key.map(str::to_owned),
        data: BTreeMap::from([
            ("notificationId".to_owned(), "0190d1a8-1111".to_owned()),
            ("kind".to_owned(), "EVENT_REMINDER".to_owned()),
            ("eventId".to_owned(), "0190d1a8-2222".to_owned()),
        ]),
        expires_at: Utc::now() + expires_in,
    }
}

async fn send(provider: &WebPush, service: &WebPushService, push: &Push) -> Outcome {
    let (endpoint, p256dh, auth) = service.subscription();
    provider
        .send(
            Address::WebPush {
                endpoint: &endpoint,
                p256dh: &p256dh,
                auth: &auth,
            },
            push,
        )
        .await
}

#[tokio::test]
async fn push_web_arrives_signed_and_encrypted() {
    let service = WebPushService::start().await;
    let provider = provider();

    let first = push(Some("event:0190d1a8-2222"), chrono::Duration::hours(1));
    assert_eq!(send(&provider, &service, &first).await, Outcome::Sent);
    let expired = push(None, chrono::Duration::minutes(-5));
    assert_eq!(send(&provider, &service, &expired).await, Outcome::Sent);

    let received = service.wait_for(2, Duration::from_secs(5)).await;
    for got in &received {
        assert!(got.problems.is_empty(), "{:?}", got.problems);
        assert_eq!(
            got.vapid_key.as_deref(),
            Some(provider.public_key().as_str())
        );
        let claims = got.claims.as_ref().unwrap();
        assert_eq!(claims["aud"], json!(service.origin()));
        assert_eq!(claims["sub"], "mailto:ops@kith.example");
        let exp = claims["exp"].as_i64().unwrap();
        let hours = (exp - Utc::now().timestamp()) as f64 / 3600.0;
        assert!((11.9..=12.0).contains(&hours), "{hours} h");
        assert_eq!(got.headers["content-encoding"], "aes128gcm");
        assert_eq!(got.headers["content-type"], "application/octet-stream");
        assert_eq!(got.headers["urgency"], "normal");
        assert_eq!(
            got.payload.as_ref().unwrap(),
            &json!({
                "title": "Board games night",
                "body": "Starts in one hour — bring snacks",
                "badge": 3,
                "data": {
                    "notificationId": "0190d1a8-1111",
                    "kind": "EVENT_REMINDER",
                    "eventId": "0190d1a8-2222",
                },
            })
        );
    }
    let ttl: u64 = received[0].headers["ttl"].parse().unwrap();
    assert!((3590..=3600).contains(&ttl), "TTL {ttl}");
    assert_eq!(received[0].headers["topic"].len(), 32);
    // Past its expiry a push is still handed over, for the service to drop at once.
    assert_eq!(received[1].headers["ttl"], "0");
    assert!(!received[1].headers.contains_key("topic"));
    // The same token serves both: it is signed once per push service for hours.
    assert_eq!(
        received[0].headers["authorization"],
        received[1].headers["authorization"]
    );

    // The same collapse key gives the same Topic, another key another.
    send(&provider, &service, &first).await;
    send(
        &provider,
        &service,
        &push(Some("event:0190d1a8-3333"), chrono::Duration::hours(1)),
    )
    .await;
    let received = service.wait_for(4, Duration::from_secs(5)).await;
    assert_eq!(received[2].headers["topic"], received[0].headers["topic"]);
    assert_ne!(received[3].headers["topic"], received[0].headers["topic"]);
}

#[tokio::test]
async fn push_web_answers_become_outcomes() {
    let service = WebPushService::start().await;
    let provider = provider();
    let push = push(Some("event:1"), chrono::Duration::hours(1));

    service.answer_next(410, None);
    service.answer_next(404, None);
    service.answer_next(429, Some(3));
    service.answer_next(503, None);
    service.answer_next(413, None);
    assert_eq!(send(&provider, &service, &push).await, Outcome::Gone);
    assert_eq!(send(&provider, &service, &push).await, Outcome::Gone);
    match send(&provider, &service, &push).await {
        Outcome::Retry { after, .. } => assert_eq!(after, Some(Duration::from_secs(3))),
        other => panic!("429 gave {other:?}"),
    }
    match send(&provider, &service, &push).await {
        Outcome::Retry { after, .. } => assert_eq!(after, None),
        other => panic!("503 gave {other:?}"),
    }
    assert!(matches!(
        send(&provider, &service, &push).await,
        Outcome::Refused(_)
    ));
    assert_eq!(send(&provider, &service, &push).await, Outcome::Sent);
    let received = service.wait_for(6, Duration::from_secs(5)).await;
    assert!(received.iter().all(|got| got.problems.is_empty()));
}

#[tokio::test]
async fn push_web_to_the_wrong_keys_or_nowhere() {
    let service = WebPushService::start().await;
    let other = WebPushService::start().await;
    let provider = provider();
    let push = push(None, chrono::Duration::hours(1));

    // Encrypted to another subscription's keys: this service cannot read it and says so.
    let (endpoint, _, _) = service.subscription();
    let (_, p256dh, auth) = other.subscription();
    let outcome = provider
        .send(
            Address::WebPush {
                endpoint: &endpoint,
                p256dh: &p256dh,
                auth: &auth,
            },
            &push,
        )
        .await;
    assert!(matches!(outcome, Outcome::Refused(_)), "{outcome:?}");
    let received = service.wait_for(1, Duration::from_secs(5)).await;
    assert!(
        received[0]
            .problems
            .iter()
            .any(|p| p.contains("does not decrypt")),
        "{:?}",
        received[0].problems
    );

    // Keys that are not keys are refused before anything is sent.
    let outcome = provider
        .send(
            Address::WebPush {
                endpoint: &endpoint,
                p256dh: "not-a-key",
                auth: &auth,
            },
            &push,
        )
        .await;
    assert!(
        matches!(&outcome, Outcome::Refused(why) if why.contains("p256dh")),
        "{outcome:?}"
    );

    // A service that is not there is worth another try.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let outcome = provider
        .send(
            Address::WebPush {
                endpoint: &format!("http://127.0.0.1:{port}/push/gone"),
                p256dh: &p256dh,
                auth: &auth,
            },
            &push,
        )
        .await;
    assert!(
        matches!(outcome, Outcome::Retry { after: None, .. }),
        "{outcome:?}"
    );

    // Another platform's address is not this provider's.
    let outcome = provider.send(Address::Fcm { token: "x" }, &push).await;
    assert!(matches!(outcome, Outcome::Refused(_)), "{outcome:?}");
    assert_eq!(service.received().len(), 1);
}
