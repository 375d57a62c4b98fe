//! The APNs and FCM providers against local stand-ins that check what Apple and Google
//! check: the provider token or OAuth assertion, the headers, the payload, and the answers
//! for dead tokens and throttling.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, SubsecRound, Utc};
use kith::notify::push::apns::Apns;
use kith::notify::push::fcm::Fcm;
use kith::notify::push::{Address, Outcome, Provider, Push};
use serde_json::json;

use crate::helpers::apns::{APNS_TOPIC, ApnsAnswer, ApnsStandIn};
use crate::helpers::fcm::{FCM_PROJECT_ID, FcmAnswer, FcmStandIn};

fn push(collapse_key: Option<&str>, expires_at: DateTime<Utc>) -> Push {
    Push {
        title: "Picnic moved".into(),
        body: "Now at 15:00 in the park".into(),
        badge: 4,
        collapse_key: collapse_key.map(str::to_owned),
        data: BTreeMap::from([
            ("notificationId".to_owned(), "n-1".to_owned()),
            ("kind".to_owned(), "EVENT_CHANGED".to_owned()),
            ("eventId".to_owned(), "e-1".to_owned()),
        ]),
        expires_at,
    }
}

const DEVICE: &str = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90";

#[tokio::test]
async fn apns_sends_an_alert_signed_with_the_team_key_over_http2() {
    let apple = ApnsStandIn::start().await;
    let apns = Apns::new(apple.settings());
    let expires_at = Utc::now().trunc_subsecs(0) + chrono::Duration::hours(4);

    let outcome = apns
        .send(
            Address::Apns { token: DEVICE },
            &push(Some("event:e-1"), expires_at),
        )
        .await;
    assert_eq!(outcome, Outcome::Sent);
    let outcome = apns
        .send(Address::Apns { token: DEVICE }, &push(None, expires_at))
        .await;
    assert_eq!(outcome, Outcome::Sent);

    let requests = apple.requests();
    assert_eq!(requests.len(), 2);
    for request in &requests {
        assert!(request.problems.is_empty(), "{:?}", request.problems);
        assert_eq!(request.version, axum::http::Version::HTTP_2);
        assert_eq!(request.device, DEVICE);
        let header = |name: &str| request.headers.get(name).map(|v| v.to_str().unwrap());
        assert_eq!(header("apns-topic"), Some(APNS_TOPIC));
        assert_eq!(header("apns-push-type"), Some("alert"));
        assert_eq!(header("apns-priority"), Some("10"));
        assert_eq!(
            header("apns-expiration"),
            Some(expires_at.timestamp().to_string().as_str())
        );
        assert_eq!(
            request.payload,
            json!({
                "aps": {
                    "alert": { "title": "Picnic moved", "body": "Now at 15:00 in the park" },
                    "badge": 4,
                    "sound": "default",
                },
                "notificationId": "n-1",
                "kind": "EVENT_CHANGED",
                "eventId": "e-1",
            })
        );
    }
    assert_eq!(
        requests[0].headers.get("apns-collapse-id").unwrap(),
        "event:e-1"
    );
    assert!(requests[1].headers.get("apns-collapse-id").is_none());
    assert_eq!(
        apple.provider_tokens().len(),
        1,
        "one provider token serves both sends"
    );

    // The stand-in speaks HTTP/2 only, as Apple does: HTTP/1.1 gets nowhere.
    let http1 = reqwest::Client::builder().http1_only().build().unwrap();
    assert!(
        http1
            .post(format!("{}/3/device/{DEVICE}", apple.url))
            .send()
            .await
            .is_err()
    );
}

#[tokio::test]
async fn apns_dead_tokens_are_gone_and_throttling_is_retried_when_apple_says() {
    let apple = ApnsStandIn::start().await;
    let apns = Apns::new(apple.settings());
    let p = push(None, Utc::now() + chrono::Duration::hours(1));
    apple.answer("aa", ApnsAnswer::Unregistered);
    apple.answer("bb", ApnsAnswer::BadDeviceToken);
    apple.answer("cc", ApnsAnswer::TooManyRequests { retry_after: 30 });
    apple.answer("dd", ApnsAnswer::ExpiredProviderToken);

    assert_eq!(
        apns.send(Address::Apns { token: "aa" }, &p).await,
        Outcome::Gone
    );
    assert_eq!(
        apns.send(Address::Apns { token: "bb" }, &p).await,
        Outcome::Gone
    );
    assert!(matches!(
        apns.send(Address::Apns { token: "cc" }, &p).await,
        Outcome::Retry { after: Some(after), .. } if after == Duration::from_secs(30)
    ));
    assert!(matches!(
        apns.send(Address::Apns { token: "dd" }, &p).await,
        Outcome::Retry { after: None, .. }
    ));
    // Not a device token at all: never sent.
    assert_eq!(
        apns.send(Address::Apns { token: "../x" }, &p).await,
        Outcome::Gone
    );
    // Another platform's address is not APNs's to send.
    assert!(matches!(
        apns.send(Address::Fcm { token: "aa" }, &p).await,
        Outcome::Refused(_)
    ));
    let requests = apple.requests();
    assert_eq!(requests.len(), 4);
    assert!(requests.iter().all(|r| r.problems.is_empty()));
}

#[tokio::test]
async fn fcm_fetches_one_access_token_for_two_sends() {
    let google = FcmStandIn::start().await;
    let dir = tempfile::tempdir().unwrap();
    let account = dir.path().join("service-account.json");
    std::fs::write(&account, google.service_account_json()).unwrap();
    let fcm = Fcm::new(google.settings(account.to_str().unwrap()));
    let expires_at = Utc::now() + chrono::Duration::hours(2);

    let outcome = fcm
        .send(
            Address::Fcm { token: "device-1" },
            &push(Some("event:e-1"), expires_at),
        )
        .await;
    assert_eq!(outcome, Outcome::Sent);
    let outcome = fcm
        .send(Address::Fcm { token: "device-2" }, &push(None, expires_at))
        .await;
    assert_eq!(outcome, Outcome::Sent);

    assert!(google.problems().is_empty(), "{:?}", google.problems());
    assert_eq!(google.tokens_issued(), 1);
    let sends = google.sends();
    assert_eq!(sends.len(), 2);
    assert!(sends.iter().all(|s| s.project == FCM_PROJECT_ID));
    assert_eq!(sends[0].access_token, sends[1].access_token);
    let first = &sends[0].message;
    assert_eq!(first["token"], "device-1");
    assert_eq!(
        first["notification"],
        json!({ "title": "Picnic moved", "body": "Now at 15:00 in the park" })
    );
    assert_eq!(
        first["data"],
        json!({ "notificationId": "n-1", "kind": "EVENT_CHANGED", "eventId": "e-1" })
    );
    assert_eq!(first["android"]["collapse_key"], "event:e-1");
    assert_eq!(first["android"]["priority"], "HIGH");
    let ttl: i64 = first["android"]["ttl"]
        .as_str()
        .unwrap()
        .strip_suffix('s')
        .unwrap()
        .parse()
        .unwrap();
    assert!((7100..=7200).contains(&ttl), "ttl {ttl}");
    assert_eq!(sends[1].message["token"], "device-2");
    assert!(sends[1].message["android"].get("collapse_key").is_none());
}

#[tokio::test]
async fn fcm_dead_tokens_are_gone_throttling_is_retried_and_a_refused_token_is_replaced() {
    let google = FcmStandIn::start().await;
    // The JSON itself rather than a path.
    let fcm = Fcm::new(google.settings(&google.service_account_json()));
    let p = push(None, Utc::now() + chrono::Duration::hours(1));
    google.answer("dead", FcmAnswer::Unregistered);
    google.answer("busy", FcmAnswer::QuotaExceeded { retry_after: 20 });

    assert_eq!(
        fcm.send(Address::Fcm { token: "dead" }, &p).await,
        Outcome::Gone
    );
    assert!(matches!(
        fcm.send(Address::Fcm { token: "busy" }, &p).await,
        Outcome::Retry { after: Some(after), .. } if after == Duration::from_secs(20)
    ));
    assert_eq!(google.tokens_issued(), 1);

    // A token FCM no longer takes is dropped: that send is retried, the next one fetches
    // another token and goes through.
    google.revoke_tokens();
    assert!(matches!(
        fcm.send(Address::Fcm { token: "live" }, &p).await,
        Outcome::Retry { after: None, .. }
    ));
    assert_eq!(
        fcm.send(Address::Fcm { token: "live" }, &p).await,
        Outcome::Sent
    );
    assert_eq!(google.tokens_issued(), 2);
    assert!(google.problems().is_empty(), "{:?}", google.problems());
}

#[tokio::test]
async fn the_stand_ins_refuse_credentials_that_are_not_the_accounts() {
    let apple = ApnsStandIn::start().await;
    let stranger = ApnsStandIn::start().await;
    let mut settings = stranger.settings();
    settings.url = apple.url.clone();
    let p = push(None, Utc::now() + chrono::Duration::hours(1));
    assert!(matches!(
        Apns::new(settings).send(Address::Apns { token: DEVICE }, &p).await,
        Outcome::Refused(reason) if reason.contains("InvalidProviderToken")
    ));
    assert!(
        apple.requests()[0]
            .problems
            .iter()
            .any(|p| p.contains("not by the team's key")),
        "{:?}",
        apple.requests()[0].problems
    );

    let google = FcmStandIn::start().await;
    let mut settings = google.settings(&google.service_account_json());
    settings.client_email = "someone@else.iam.gserviceaccount.com".into();
    assert!(matches!(
        Fcm::new(settings).send(Address::Fcm { token: "device-1" }, &p).await,
        Outcome::Refused(reason) if reason.contains("invalid_grant")
    ));
    assert_eq!(google.tokens_issued(), 0);
    assert_eq!(google.problems().len(), 1);
}
