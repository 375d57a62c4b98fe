//! Push end to end: the app over HTTP as a client sees it, and the push services (local
//! stand-ins for APNs, FCM and a Web Push service, each checking what the real one checks)
//! as they see it: registering devices, what is pushed and in which words, preferences,
//! sessions that end, dead tokens, throttling, two processes, and reminders.

use std::future::Future;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use crate::helpers::apns::{ApnsAnswer, ApnsRequest, ApnsStandIn};
use crate::helpers::fcm::{FcmAnswer, FcmSend, FcmStandIn};
use crate::helpers::web_push::{
    Received, WebPushService, generate_vapid_key, vapid_env, vapid_public_key,
};
use crate::helpers::*;

const SERVER_INFO: &str = "{ serverInfo { pushPlatforms vapidPublicKey } }";
const REGISTER: &str = "mutation($input: RegisterDeviceInput!) { registerDevice(input: $input) { id platform appVersion } }";
const UNREGISTER: &str = "mutation($id: ID!) { unregisterDevice(input: { deviceId: $id }) }";
const DEVICES: &str = "{ viewer { devices { id platform appVersion } } }";
const SETTINGS: &str = "{ viewer { notificationSettings { kind push email } } }";
const UPDATE_SETTINGS: &str = "mutation($s: [NotificationSettingInput!]!) { updateNotificationSettings(input: { settings: $s }) { notificationSettings { kind push email } } }";
const KINDS: &str = "{ __type(name: \"NotificationKind\") { enumValues { name } } }";
const SET_LOCALE: &str = "mutation($l: String) { updateProfile(input: { locale: $l }) { id } }";
const VIEWER: &str = "{ viewer { locale unreadNotificationCount } }";
const LOG_OUT: &str = "mutation($t: String!) { logOut(input: { refreshToken: $t }) }";
const SESSIONS: &str = "{ viewer { sessions { id current } } }";
const REVOKE: &str =
    "mutation($id: ID!) { revokeSession(input: { sessionId: $id }) { revokedSessionId } }";

/// How long a push made in the background (after the answer, or by the push loop every
/// 10 s) may take to arrive.
const WITHIN: Duration = Duration::from_secs(30);
/// How long nothing more may arrive once the pushes expected have.
const QUIET: Duration = Duration::from_secs(3);
/// Longer than one round of the push loop (every 10 s), for what it would send wrongly.
const A_ROUND: Duration = Duration::from_secs(12);

/// The three push services, and a VAPID key for Web Push.
struct Services {
    apple: ApnsStandIn,
    google: FcmStandIn,
    web: WebPushService,
    vapid_key: String,
}

impl Services {
    async fn start() -> Services {
        Services {
            apple: ApnsStandIn::start().await,
            google: FcmStandIn::start().await,
            web: WebPushService::start().await,
            vapid_key: generate_vapid_key(),
        }
    }

    /// The settings that give the app credentials for all three, pointed at the stand-ins.
    fn env(&self) -> Vec<(&'static str, String)> {
        let mut env = self.apple.env();
        env.extend(self.google.env());
        env.extend(vapid_env(&self.vapid_key));
        env
    }

    async fn app(&self) -> TestApp {
        self.app_with(&[]).await
    }

    async fn app_with(&self, extra: &[(&str, &str)]) -> TestApp {
        let env = self.env();
        let mut settings: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        settings.extend_from_slice(extra);
        spawn_app_with(&settings).await
    }
}

/// Waits (at most `within`) until `check` gives something, and returns it.
async fn until<T, F, Fut>(what: &str, within: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if let Some(found) = check().await {
            return found;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not within {within:?}: {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until APNs got `count` requests for `device`, checks that no more come for a
/// while, and returns them.
async fn apns_requests(apple: &ApnsStandIn, device: &str, count: usize) -> Vec<ApnsRequest> {
    until(
        &format!("{count} APNs request(s) for {device}"),
        WITHIN,
        || async { Some(()).filter(|_| apple.requests_for(device).len() >= count) },
    )
    .await;
    tokio::time::sleep(QUIET).await;
    let requests = apple.requests_for(device);
    assert_eq!(
        requests.len(),
        count,
        "APNs requests for {device}: {requests:#?}"
    );
    for request in &requests {
        assert!(request.problems.is_empty(), "{:?}", request.problems);
    }
    requests
}

/// Waits until FCM got `count` sends to `device`, checks that no more come for a while, and
/// returns them.
async fn fcm_sends(google: &FcmStandIn, device: &str, count: usize) -> Vec<FcmSend> {
    let to = |google: &FcmStandIn| -> Vec<FcmSend> {
        google
            .sends()
            .into_iter()
            .filter(|s| s.message["token"] == device)
            .collect()
    };
    until(
        &format!("{count} FCM send(s) to {device}"),
        WITHIN,
        || async { Some(()).filter(|_| to(google).len() >= count) },
    )
    .await;
    tokio::time::sleep(QUIET).await;
    let sends = to(google);
    assert_eq!(sends.len(), count, "FCM sends to {device}: {sends:#?}");
    assert!(google.problems().is_empty(), "{:?}", google.problems());
    sends
}

/// Waits until the Web Push service got `count` pushes, checks that no more come for a
/// while, and returns them.
async fn web_pushes(web: &WebPushService, count: usize) -> Vec<Received> {
    web.wait_for(count, WITHIN).await;
    tokio::time::sleep(QUIET).await;
    let received = web.received();
    assert_eq!(received.len(), count, "Web Push messages: {received:#?}");
    for got in &received {
        assert!(got.problems.is_empty(), "{:?}", got.problems);
    }
    received
}

/// A fresh APNs device token: 32 bytes in hex.
fn apns_token() -> String {
    format!(
        "{:032x}{:032x}",
        rand::random::<u128>(),
        rand::random::<u128>()
    )
}

fn ios(token: &str) -> Value {
    json!({ "platform": "IOS", "token": token, "appVersion": "2.1.0 (iOS)" })
}

fn android(token: &str) -> Value {
    json!({ "platform": "ANDROID", "token": token, "appVersion": "2.1.0 (Android)" })
}

fn web_push(service: &WebPushService) -> Value {
    let (endpoint, p256dh, auth) = service.subscription();
    json!({ "platform": "WEB_PUSH", "webPush": { "endpoint": endpoint, "p256dh": p256dh, "auth": auth } })
}

impl TestApp {
    async fn register_device(&self, member: &Member, input: Value) -> Value {
        self.graphql(
            Some(&member.access_token),
            REGISTER,
            json!({ "input": input }),
        )
        .await
    }

    /// Registers a device of the member's session and returns its ID.
    async fn device(&self, member: &Member, input: Value) -> String {
        let body = self.register_device(member, input).await;
        body["data"]["registerDevice"]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("registerDevice failed: {body}"))
            .to_owned()
    }

    /// `Viewer.devices` as `member`'s session sees them: (id, platform).
    async fn devices(&self, member: &Member) -> Vec<(String, String)> {
        let data = self.data_as(member, DEVICES, json!({})).await;
        data["viewer"]["devices"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                (
                    d["id"].as_str().unwrap().to_owned(),
                    d["platform"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    }

    async fn unread_count(&self, member: &Member) -> u64 {
        let data = self.data_as(member, VIEWER, json!({})).await;
        data["viewer"]["unreadNotificationCount"].as_u64().unwrap()
    }

    /// The organiser moves the event to start `from_now` from now (two hours long), and
    /// answers the new start.
    async fn move_event(
        &self,
        organiser: &Member,
        event_id: &str,
        from_now: chrono::Duration,
    ) -> DateTime<Utc> {
        let starts = Utc::now() + from_now;
        let body = self
            .graphql(
                Some(&organiser.access_token),
                UPDATE_EVENT,
                json!({ "input": {
                    "eventId": event_id,
                    "startsAt": starts.to_rfc3339(),
                    "endsAt": (starts + chrono::Duration::hours(2)).to_rfc3339(),
                } }),
            )
            .await;
        assert!(body["errors"].is_null(), "updateEvent: {body}");
        starts
    }

    /// A member's notifications of `kind`, newest first.
    async fn notifications_of(&self, member: &Member, kind: &str) -> Vec<Notification> {
        self.notifications(member, false)
            .await
            .into_iter()
            .filter(|n| n.kind == kind)
            .collect()
    }

    /// The text of every mail to `to` that contains `text` (after decoding).
    fn mails_saying(&self, to: &str, text: &str) -> Vec<String> {
        self.mails_to(to)
            .iter()
            .map(|m| mail_text(m))
            .filter(|m| m.contains(text))
            .collect()
    }
}

/// "Thu 3 Dec 2026, 19:00 CET" in Berlin, as the English messages write a start.
fn english_start(at: DateTime<Utc>) -> String {
    at.with_timezone(&chrono_tz::Europe::Berlin)
        .format("%a %-d %b %Y, %H:%M %Z")
        .to_string()
}

/// "Do, 3. Dez 2026, 19:00 CET", as the German ones do.
fn german_start(at: DateTime<Utc>) -> String {
    at.with_timezone(&chrono_tz::Europe::Berlin)
        .format_localized("%a, %-d. %b %Y, %H:%M %Z", chrono::Locale::de_DE)
        .to_string()
}

/// What `locales/en.ftl` says of a change of the test's event (`event_input`'s).
fn changed_in_english(starts: DateTime<Utc>) -> String {
    format!(
        "“Thursday Hack Night” has changed: {} at c-base.",
        english_start(starts)
    )
}

/// What `locales/de.ftl` says of it.
fn changed_in_german(starts: DateTime<Utc>) -> String {
    format!(
        "„Thursday Hack Night“ wurde geändert: {}, c-base.",
        german_start(starts)
    )
}

#[tokio::test]
async fn server_info_offers_the_configured_platforms_and_the_vapid_key() {
    let services = Services::start().await;
    let app = services.app().await;
    let body = app.graphql(None, SERVER_INFO, json!({})).await;
    assert_eq!(
        body["data"]["serverInfo"],
        json!({
            "pushPlatforms": ["IOS", "ANDROID", "WEB_PUSH"],
            "vapidPublicKey": vapid_public_key(&services.vapid_key),
        }),
        "{body}"
    );

    let bare = spawn_app().await;
    let body = bare.graphql(None, SERVER_INFO, json!({})).await;
    assert_eq!(
        body["data"]["serverInfo"],
        json!({ "pushPlatforms": [], "vapidPublicKey": null }),
        "{body}"
    );
    let ann = bare.sign_up("ann@example.com", "Ann").await;
    for input in [
        ios(&apns_token()),
        android("fcm-token-1"),
        web_push(&services.web),
    ] {
        let body = bare.register_device(&ann, input).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
        assert_eq!(error_field(&body), "input.platform", "{body}");
    }
    assert!(bare.devices(&ann).await.is_empty());
}

#[tokio::test]
async fn a_token_is_one_device_and_malformed_ones_name_their_field() {
    let services = Services::start().await;
    let app = services.app().await;
    let ann = app.sign_up("ann@example.com", "Ann").await;
    let token = apns_token();
    let first = app.device(&ann, ios(&token)).await;
    assert_eq!(app.device(&ann, ios(&token)).await, first);
    // The same token from another session of the member (and in capitals) is that device.
    let body = app.log_in(&ann.email, PASSWORD).await;
    let phone = member_from(&body["data"]["logIn"], &ann.email).unwrap();
    assert_eq!(
        app.device(&phone, ios(&token.to_ascii_uppercase())).await,
        first
    );
    for session in [&ann, &phone] {
        assert_eq!(
            app.devices(session).await,
            [(first.clone(), "IOS".to_owned())]
        );
    }

    let (endpoint, p256dh, auth) = services.web.subscription();
    let subscription = |endpoint: &str, p256dh: &str, auth: &str| json!({ "platform": "WEB_PUSH", "webPush": { "endpoint": endpoint, "p256dh": p256dh, "auth": auth } });
    // The key with one character of its x coordinate changed: 65 bytes, not on the curve.
    let mut not_a_point = p256dh.clone();
    let other = if &p256dh[10..11] == "A" { "B" } else { "A" };
    not_a_point.replace_range(10..11, other);
    let cases = [
        (ios("not hex at all"), "input.token"),
        (ios("abcd"), "input.token"),
        (json!({ "platform": "IOS" }), "input.token"),
        (json!({ "platform": "ANDROID", "token": "" }), "input.token"),
        (
            json!({ "platform": "ANDROID", "token": "t", "webPush": { "endpoint": endpoint, "p256dh": p256dh, "auth": auth } }),
            "input.webPush",
        ),
        (json!({ "platform": "WEB_PUSH" }), "input.webPush"),
        (
            subscription(&endpoint, "AAAA", &auth),
            "input.webPush.p256dh",
        ),
        (
            subscription(&endpoint, &not_a_point, &auth),
            "input.webPush.p256dh",
        ),
        (
            subscription(&endpoint, &p256dh, "AAAA"),
            "input.webPush.auth",
        ),
        (
            subscription("ftp://push.example/x", &p256dh, &auth),
            "input.webPush.endpoint",
        ),
    ];
    for (input, field) in cases {
        let body = app.register_device(&ann, input.clone()).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{input}: {body}");
        assert_eq!(error_field(&body), field, "{input}: {body}");
    }
    assert_eq!(app.devices(&ann).await.len(), 1);

    let bob = app.sign_up("bob@example.com", "Bob").await;
    let body = app
        .graphql(Some(&bob.access_token), UNREGISTER, json!({ "id": first }))
        .await;
    assert_eq!(error_code(&body), "NOT_FOUND", "{body}");
    assert_eq!(app.devices(&ann).await.len(), 1);

    let data = app.data_as(&ann, UNREGISTER, json!({ "id": first })).await;
    assert_eq!(data["unregisterDevice"], first.as_str());
    assert!(app.devices(&ann).await.is_empty());
    assert!(app.devices(&phone).await.is_empty());
    let body = app
        .graphql(Some(&ann.access_token), UNREGISTER, json!({ "id": first }))
        .await;
    assert_eq!(error_code(&body), "NOT_FOUND", "{body}");
    // A session keeps its five devices seen last: a sixth forgets the one seen longest ago.
    let mut registered = Vec::new();
    for i in 0..6 {
        registered.push(app.device(&ann, android(&format!("fcm-{i}"))).await);
    }
    let kept: Vec<String> = app.devices(&ann).await.into_iter().map(|d| d.0).collect();
    assert_eq!(kept, registered[1..]);
}

#[tokio::test]
async fn a_member_keeps_the_twenty_devices_seen_last_whatever_the_sessions() {
    let services = Services::start().await;
    let app = services.app().await;
    let ann = app.sign_up("ann@example.com", "Ann").await;
    let mut sessions = vec![ann.clone()];
    for i in 1..5 {
        let agent = format!("phone {i}");
        sessions.push(app.log_in_from("ann@example.com", PASSWORD, &agent).await);
    }
    let mut registered = Vec::new();
    for (s, session) in sessions.iter().enumerate() {
        for d in 0..5 {
            let token = format!("fcm-{s}-{d}");
            registered.push(app.device(session, android(&token)).await);
        }
    }
    let more = app.log_in_from("ann@example.com", PASSWORD, "tablet").await;
    registered.push(app.device(&more, android("fcm-tablet")).await);
    let kept: Vec<String> = app.devices(&ann).await.into_iter().map(|d| d.0).collect();
    assert_eq!(kept.len(), 20);
    assert_eq!(kept, registered[registered.len() - 20..]);
}

#[tokio::test]
async fn a_change_reaches_each_device_once_with_its_notification() {
    let services = Services::start().await;
    let app = services.app().await;
    let (ann, group_id, event) = app.organiser_with_event(json!({})).await;
    let bob = app.member_of(&group_id, "bob@example.com").await;
    app.going(&bob, &event.id).await;
    let token = apns_token();
    app.device(&bob, ios(&token)).await;
    app.device(&bob, android("fcm-bob")).await;
    app.device(&bob, web_push(&services.web)).await;
    let vapid =
        app.graphql(None, SERVER_INFO, json!({})).await["data"]["serverInfo"]["vapidPublicKey"]
            .clone();

    let mut collapse_keys: Option<(String, String, String)> = None;
    for (round, days) in [(1, 8), (2, 9)] {
        let starts = app
            .move_event(&ann, &event.id, chrono::Duration::days(days))
            .await;
        let apns = apns_requests(&services.apple, &token, round).await;
        let fcm = fcm_sends(&services.google, "fcm-bob", round).await;
        let web = web_pushes(&services.web, round).await;

        let notifications = app.notifications_of(&bob, "EVENT_CHANGED").await;
        assert_eq!(notifications.len(), round);
        let told = &notifications[0];
        assert_eq!(told.message, changed_in_english(starts));
        assert_eq!(told.event.as_ref().unwrap().id, event.id);
        let badge = app.unread_count(&bob).await;
        assert_eq!(badge, round as u64);
        let data =
            json!({ "notificationId": told.id, "kind": "EVENT_CHANGED", "eventId": event.id });

        let apns = apns.last().unwrap();
        assert_eq!(
            apns.payload,
            json!({
                "aps": {
                    "alert": { "title": "Event changed", "body": told.message },
                    "badge": badge,
                    "sound": "default",
                },
                "notificationId": told.id,
                "kind": "EVENT_CHANGED",
                "eventId": event.id,
            })
        );
        let fcm = &fcm.last().unwrap().message;
        assert_eq!(
            fcm["notification"],
            json!({ "title": "Event changed", "body": told.message })
        );
        assert_eq!(fcm["data"], data);
        let web = web.last().unwrap();
        assert_eq!(
            web.payload.as_ref().unwrap(),
            &json!({ "title": "Event changed", "body": told.message, "badge": badge, "data": data })
        );
        assert_eq!(web.vapid_key.as_deref(), vapid.as_str());

        // One collapse key per event: the second change replaces the first on the device.
        let keys = (
            apns.headers["apns-collapse-id"]
                .to_str()
                .unwrap()
                .to_owned(),
            fcm["android"]["collapse_key"].as_str().unwrap().to_owned(),
            web.headers["topic"].clone(),
        );
        match &collapse_keys {
            None => collapse_keys = Some(keys),
            Some(first) => assert_eq!(&keys, first),
        }
    }
}

#[tokio::test]
async fn the_members_language_writes_the_notification_its_push_and_its_mail() {
    let services = Services::start().await;
    let app = services.app().await;
    let (ann, group_id, event) = app.organiser_with_event(json!({})).await;
    let bob = app
        .new_member_of(&group_id, "bob@example.com", "Bob", Address::Verified)
        .await;
    app.going(&bob, &event.id).await;
    app.device(&bob, web_push(&services.web)).await;

    let body = app
        .graphql(
            Some(&bob.access_token),
            SET_LOCALE,
            json!({ "l": "not a tag!" }),
        )
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    assert_eq!(error_field(&body), "input.locale", "{body}");
    app.data_as(&bob, SET_LOCALE, json!({ "l": "de" })).await;
    let data = app.data_as(&bob, VIEWER, json!({})).await;
    assert_eq!(data["viewer"]["locale"], "de");

    let starts = app
        .move_event(&ann, &event.id, chrono::Duration::days(8))
        .await;
    let pushed = web_pushes(&services.web, 1).await;
    let german = changed_in_german(starts);
    let told = &app.notifications_of(&bob, "EVENT_CHANGED").await[0];
    assert_eq!(told.message, german);
    let payload = pushed[0].payload.as_ref().unwrap();
    assert_eq!(payload["title"], "Termin geändert");
    assert_eq!(payload["body"], german.as_str());
    let mail = until("a German mail to Bob", WITHIN, || async {
        app.mails_saying(&bob.email, &german).pop()
    })
    .await;
    assert!(mail.contains("Hallo Bob,"), "{mail}");

    // A language Kith does not write is kept, and English is written.
    app.data_as(&bob, SET_LOCALE, json!({ "l": "fr" })).await;
    let data = app.data_as(&bob, VIEWER, json!({})).await;
    assert_eq!(data["viewer"]["locale"], "fr");
    let starts = app
        .move_event(&ann, &event.id, chrono::Duration::days(9))
        .await;
    let pushed = web_pushes(&services.web, 2).await;
    let english = changed_in_english(starts);
    let told = &app.notifications_of(&bob, "EVENT_CHANGED").await[0];
    assert_eq!(told.message, english);
    let payload = pushed[1].payload.as_ref().unwrap();
    assert_eq!(payload["title"], "Event changed");
    assert_eq!(payload["body"], english.as_str());
    let mail = until("an English mail to Bob", WITHIN, || async {
        app.mails_saying(&bob.email, &english).pop()
    })
    .await;
    assert!(mail.contains("Hello Bob,"), "{mail}");
}

#[tokio::test]
async fn settings_choose_push_and_mail_for_each_kind() {
    let services = Services::start().await;
    let app = services.app().await;
    let (ann, group_id, event) = app.organiser_with_event(json!({})).await;
    let bob = app
        .new_member_of(&group_id, "bob@example.com", "Bob", Address::Verified)
        .await;
    app.going(&bob, &event.id).await;
    app.device(&bob, android("fcm-bob")).await;

    let kinds: Vec<String> = app.data_as(&bob, KINDS, json!({})).await["__type"]["enumValues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap().to_owned())
        .collect();
    assert!(kinds.contains(&"EVENT_REMINDER".to_owned()), "{kinds:?}");
    let defaults: Vec<Value> = kinds
        .iter()
        .map(|kind| {
            let mailed = ![
                "EVENT_REMINDER",
                "COMMENT_REPLY",
                "EVENT_COMMENT",
                "MESSAGE",
            ]
            .contains(&kind.as_str());
            json!({ "kind": kind, "push": true, "email": mailed })
        })
        .collect();
    let data = app.data_as(&bob, SETTINGS, json!({})).await;
    assert_eq!(data["viewer"]["notificationSettings"], json!(defaults));

    let body = app
        .graphql(
            Some(&bob.access_token),
            UPDATE_SETTINGS,
            json!({ "s": [
                { "kind": "EVENT_CHANGED", "push": false, "email": true },
                { "kind": "EVENT_CHANGED", "push": true, "email": true },
            ] }),
        )
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    assert_eq!(error_field(&body), "input.settings", "{body}");
    let data = app.data_as(&bob, SETTINGS, json!({})).await;
    assert_eq!(data["viewer"]["notificationSettings"], json!(defaults));

    // No push for changes: the notification is stored and mailed, and not pushed.
    let data = app
        .data_as(
            &bob,
            UPDATE_SETTINGS,
            json!({ "s": [{ "kind": "EVENT_CHANGED", "push": false, "email": true }] }),
        )
        .await;
    let expected: Vec<Value> = defaults
        .iter()
        .map(|setting| match setting["kind"].as_str() {
            Some("EVENT_CHANGED") => {
                json!({ "kind": "EVENT_CHANGED", "push": false, "email": true })
            }
            _ => setting.clone(),
        })
        .collect();
    assert_eq!(
        data["updateNotificationSettings"]["notificationSettings"],
        json!(expected)
    );
    let starts = app
        .move_event(&ann, &event.id, chrono::Duration::days(8))
        .await;
    let message = changed_in_english(starts);
    until("the mail of the change", WITHIN, || async {
        app.mails_saying(&bob.email, &message).pop()
    })
    .await;
    let told = app.notifications_of(&bob, "EVENT_CHANGED").await;
    assert_eq!(told.len(), 1);
    assert_eq!(told[0].message, message);
    fcm_sends(&services.google, "fcm-bob", 0).await;

    // No mail for changes: pushed, and not mailed.
    app.data_as(
        &bob,
        UPDATE_SETTINGS,
        json!({ "s": [{ "kind": "EVENT_CHANGED", "push": true, "email": false }] }),
    )
    .await;
    let starts = app
        .move_event(&ann, &event.id, chrono::Duration::days(9))
        .await;
    let message = changed_in_english(starts);
    let sends = fcm_sends(&services.google, "fcm-bob", 1).await;
    assert_eq!(sends[0].message["notification"]["body"], message.as_str());
    assert_eq!(app.notifications_of(&bob, "EVENT_CHANGED").await.len(), 2);
    assert!(app.mails_saying(&bob.email, &message).is_empty());
}

#[tokio::test]
async fn a_device_hears_nothing_once_its_session_ends() {
    let services = Services::start().await;
    let app = services.app().await;
    let (ann, group_id, event) = app.organiser_with_event(json!({})).await;
    let laptop = app.member_of(&group_id, "bob@example.com").await;
    app.going(&laptop, &event.id).await;
    let session = || async {
        let body = app.log_in(&laptop.email, PASSWORD).await;
        member_from(&body["data"]["logIn"], &laptop.email).unwrap()
    };
    let phone = session().await;
    let tablet = session().await;
    let web = app.device(&laptop, web_push(&services.web)).await;
    let token = apns_token();
    app.device(&phone, ios(&token)).await;
    app.device(&tablet, android("fcm-tablet")).await;
    assert_eq!(app.devices(&laptop).await.len(), 3);

    app.move_event(&ann, &event.id, chrono::Duration::days(8))
        .await;
    apns_requests(&services.apple, &token, 1).await;
    fcm_sends(&services.google, "fcm-tablet", 1).await;
    web_pushes(&services.web, 1).await;

    // The phone signs out; the laptop ends the tablet's session.
    let data = app
        .data_as(&phone, LOG_OUT, json!({ "t": phone.refresh_token }))
        .await;
    assert_eq!(data["logOut"], true);
    let sessions = app.data_as(&tablet, SESSIONS, json!({})).await;
    let tablet_session = sessions["viewer"]["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["current"] == true)
        .unwrap()["id"]
        .clone();
    app.data_as(&laptop, REVOKE, json!({ "id": tablet_session }))
        .await;
    assert_eq!(app.devices(&laptop).await, [(web, "WEB_PUSH".to_owned())]);

    app.move_event(&ann, &event.id, chrono::Duration::days(9))
        .await;
    web_pushes(&services.web, 2).await;
    apns_requests(&services.apple, &token, 1).await;
    fcm_sends(&services.google, "fcm-tablet", 1).await;
    assert_eq!(
        app.notifications_of(&laptop, "EVENT_CHANGED").await.len(),
        2
    );
}

#[tokio::test]
async fn a_device_the_push_service_says_is_gone_is_forgotten() {
    let services = Services::start().await;
    let app = services.app().await;
    let (ann, group_id, event) = app.organiser_with_event(json!({})).await;
    let bob = app.member_of(&group_id, "bob@example.com").await;
    app.going(&bob, &event.id).await;
    let unregistered = apns_token();
    let bad = apns_token();
    services
        .apple
        .answer(&unregistered, ApnsAnswer::Unregistered);
    services.apple.answer(&bad, ApnsAnswer::BadDeviceToken);
    services.google.answer("fcm-dead", FcmAnswer::Unregistered);
    services.web.answer_next(410, None);
    app.device(&bob, ios(&unregistered)).await;
    app.device(&bob, ios(&bad)).await;
    app.device(&bob, android("fcm-dead")).await;
    app.device(&bob, web_push(&services.web)).await;
    let alive = app.device(&bob, android("fcm-alive")).await;
    assert_eq!(app.devices(&bob).await.len(), 5);

    app.move_event(&ann, &event.id, chrono::Duration::days(8))
        .await;
    apns_requests(&services.apple, &unregistered, 1).await;
    apns_requests(&services.apple, &bad, 1).await;
    fcm_sends(&services.google, "fcm-dead", 1).await;
    fcm_sends(&services.google, "fcm-alive", 1).await;
    web_pushes(&services.web, 1).await;
    let left = until("the dead devices forgotten", WITHIN, || async {
        let devices = app.devices(&bob).await;
        (devices.len() == 1).then_some(devices)
    })
    .await;
    assert_eq!(left, [(alive, "ANDROID".to_owned())]);
}

#[tokio::test]
async fn a_throttled_push_arrives_later_once() {
    let services = Services::start().await;
    let app = services.app().await;
    let (ann, group_id, event) = app.organiser_with_event(json!({})).await;
    let bob = app.member_of(&group_id, "bob@example.com").await;
    app.going(&bob, &event.id).await;
    let token = apns_token();
    app.device(&bob, ios(&token)).await;
    app.device(&bob, android("fcm-bob")).await;
    app.device(&bob, web_push(&services.web)).await;
    services
        .apple
        .answer_once(&token, ApnsAnswer::TooManyRequests { retry_after: 1 });
    services
        .google
        .answer_once("fcm-bob", FcmAnswer::QuotaExceeded { retry_after: 1 });
    services.web.answer_next(429, Some(1));

    app.move_event(&ann, &event.id, chrono::Duration::days(8))
        .await;
    // The first try is refused at once; the push loop tries again after the backoff.
    let apns = apns_requests(&services.apple, &token, 2).await;
    let told = &app.notifications_of(&bob, "EVENT_CHANGED").await[0];
    let apns_ids: Vec<&Value> = apns.iter().map(|r| &r.payload["notificationId"]).collect();
    assert_eq!(apns_ids, [told.id.as_str(), told.id.as_str()]);
    let fcm = fcm_sends(&services.google, "fcm-bob", 2).await;
    assert!(
        fcm.iter()
            .all(|s| s.message["data"]["notificationId"] == told.id.as_str())
    );
    let web = web_pushes(&services.web, 2).await;
    assert!(
        web.iter()
            .all(|got| got.payload.as_ref().unwrap()["data"]["notificationId"] == told.id.as_str())
    );
}

#[tokio::test]
async fn two_processes_on_one_database_push_each_notification_once() {
    let services = Services::start().await;
    let first = services.app().await;
    let second = services
        .app_with(&[("DATABASE_URL", &first.database_url)])
        .await;
    let (ann, group_id, event) = first.organiser_with_event(json!({})).await;
    let bob = first.member_of(&group_id, "bob@example.com").await;
    first.going(&bob, &event.id).await;
    let token = apns_token();
    first.device(&bob, ios(&token)).await;
    first.device(&bob, android("fcm-bob")).await;
    first.device(&bob, web_push(&services.web)).await;
    // The first push of each is throttled: both processes' push loops find its retry due.
    services
        .apple
        .answer_once(&token, ApnsAnswer::TooManyRequests { retry_after: 1 });
    services
        .google
        .answer_once("fcm-bob", FcmAnswer::QuotaExceeded { retry_after: 1 });
    services.web.answer_next(429, Some(1));

    let moved_at = tokio::time::Instant::now();
    second
        .move_event(&ann, &event.id, chrono::Duration::days(8))
        .await;
    first
        .move_event(&ann, &event.id, chrono::Duration::days(9))
        .await;
    // Past the grace after which either process sends what the other did not, and a round.
    tokio::time::sleep_until(moved_at + Duration::from_secs(45)).await;

    let told: Vec<String> = first
        .notifications_of(&bob, "EVENT_CHANGED")
        .await
        .into_iter()
        .map(|n| n.id)
        .collect();
    assert_eq!(told.len(), 2);
    let mut sorted_told = told.clone();
    sorted_told.sort();
    // Three sends each: the two notifications, and the retry of the throttled one.
    let mut apns: Vec<String> = apns_requests(&services.apple, &token, 3)
        .await
        .iter()
        .skip(1)
        .map(|r| r.payload["notificationId"].as_str().unwrap().to_owned())
        .collect();
    apns.sort();
    assert_eq!(apns, sorted_told, "each delivered once over APNs");
    let mut fcm: Vec<String> = fcm_sends(&services.google, "fcm-bob", 3)
        .await
        .iter()
        .skip(1)
        .map(|s| {
            s.message["data"]["notificationId"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    fcm.sort();
    assert_eq!(fcm, sorted_told, "each delivered once over FCM");
    let mut web: Vec<String> = web_pushes(&services.web, 3)
        .await
        .iter()
        .skip(1)
        .map(|got| {
            got.payload.as_ref().unwrap()["data"]["notificationId"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    web.sort();
    assert_eq!(web, sorted_told, "each delivered once over Web Push");
}

/// Backdates the members' answers to the event by a day: they said yes (or no) yesterday.
async fn answered_yesterday(app: &TestApp, event_id: &str, members: &[&Member]) {
    let users: Vec<uuid::Uuid> = members.iter().map(|m| uuid_of(&m.id)).collect();
    let updated = entity::rsvp::Entity::update_many()
        .col_expr(
            entity::rsvp::Column::UpdatedAt,
            Expr::value(Utc::now() - chrono::Duration::days(1)),
        )
        .filter(entity::rsvp::Column::EventId.eq(uuid_of(event_id)))
        .filter(entity::rsvp::Column::UserId.is_in(users))
        .exec(&app.state.db)
        .await
        .unwrap();
    assert_eq!(updated.rows_affected, members.len() as u64);
}

#[tokio::test]
async fn going_members_are_reminded_two_hours_and_a_day_before() {
    let services = Services::start().await;
    let app = services.app().await;
    let (ann, group_id, event) = app.organiser_with_event(json!({})).await;
    let member = |email: &'static str| {
        let (app, group_id) = (&app, &group_id);
        async move {
            let member = app.member_of(group_id, email).await;
            let token = apns_token();
            app.device(&member, ios(&token)).await;
            (member, token)
        }
    };
    let (bob, bob_phone) = member("bob@example.com").await;
    let (carol, carol_phone) = member("carol@example.com").await;
    let (dave, dave_phone) = member("dave@example.com").await;
    let (erin, erin_phone) = member("erin@example.com").await;
    let reminders_to = |token: &str| -> Vec<ApnsRequest> {
        services
            .apple
            .requests_for(token)
            .into_iter()
            .filter(|r| r.payload["kind"] == "EVENT_REMINDER")
            .collect()
    };

    // Bob said yes days ago; Carol said yes, then no.
    app.going(&bob, &event.id).await;
    app.going(&carol, &event.id).await;
    let body = app.answer(&carol, &event.id, "NO").await;
    assert!(body["errors"].is_null(), "{body}");
    answered_yesterday(&app, &event.id, &[&bob, &carol]).await;
    // Dave said yes to an event in under two hours, which was then cancelled.
    let soon = app
        .create_event(
            &ann,
            event_input(
                &group_id,
                json!({
                    "title": "Cancelled Night",
                    "startsAt": (Utc::now() + chrono::Duration::minutes(119)).to_rfc3339(),
                    "endsAt": (Utc::now() + chrono::Duration::minutes(239)).to_rfc3339(),
                }),
            ),
        )
        .await;
    app.going(&dave, &soon.id).await;
    let body = app
        .graphql(
            Some(&ann.access_token),
            CANCEL_EVENT,
            json!({ "input": { "eventId": soon.id, "reason": "Rain" } }),
        )
        .await;
    assert_eq!(body["data"]["cancelEvent"]["status"], "CANCELLED", "{body}");
    answered_yesterday(&app, &soon.id, &[&dave]).await;

    // Moved to start in 1 h 59 min: the 2-hour reminder is due, the 24-hour one long past.
    let starts = app
        .move_event(&ann, &event.id, chrono::Duration::minutes(119))
        .await;
    // Erin says yes after the 2-hour reminder's time: she does not get it.
    app.going(&erin, &event.id).await;
    let reminder = until("Bob's 2-hour reminder", WITHIN, || async {
        app.notifications_of(&bob, "EVENT_REMINDER").await.pop()
    })
    .await;
    assert_eq!(
        reminder.message,
        format!(
            "“Thursday Hack Night” starts in 2 hours: {} at c-base.",
            english_start(starts)
        )
    );
    assert_eq!(reminder.event.as_ref().unwrap().id, event.id);
    until("the reminder's push", WITHIN, || async {
        Some(()).filter(|_| !reminders_to(&bob_phone).is_empty())
    })
    .await;
    tokio::time::sleep(A_ROUND).await;
    assert_eq!(app.notifications_of(&bob, "EVENT_REMINDER").await.len(), 1);
    let pushed = reminders_to(&bob_phone);
    assert_eq!(pushed.len(), 1, "{pushed:#?}");
    assert!(pushed[0].problems.is_empty(), "{:?}", pushed[0].problems);
    assert_eq!(
        pushed[0].payload["aps"]["alert"],
        json!({ "title": "Soon: Thursday Hack Night", "body": reminder.message })
    );
    assert_eq!(pushed[0].payload["notificationId"], reminder.id.as_str());
    assert_eq!(pushed[0].payload["eventId"], event.id.as_str());
    assert!(
        app.notifications_of(&erin, "EVENT_REMINDER")
            .await
            .is_empty()
    );

    // Moved again, to start in 23 h 59 min: re-armed, the 24-hour reminder goes.
    let starts = app
        .move_event(&ann, &event.id, chrono::Duration::minutes(23 * 60 + 59))
        .await;
    let reminders = until("Bob's 24-hour reminder", WITHIN, || async {
        let reminders = app.notifications_of(&bob, "EVENT_REMINDER").await;
        (reminders.len() >= 2).then_some(reminders)
    })
    .await;
    assert_eq!(
        reminders[0].message,
        format!(
            "“Thursday Hack Night” starts in 24 hours: {} at c-base.",
            english_start(starts)
        )
    );
    until("the 24-hour reminder's push", WITHIN, || async {
        Some(()).filter(|_| reminders_to(&bob_phone).len() >= 2)
    })
    .await;
    tokio::time::sleep(A_ROUND).await;
    assert_eq!(app.notifications_of(&bob, "EVENT_REMINDER").await.len(), 2);
    let pushed = reminders_to(&bob_phone);
    assert_eq!(pushed.len(), 2, "{pushed:#?}");
    assert_eq!(
        pushed[1].payload["aps"]["alert"]["title"],
        "Tomorrow: Thursday Hack Night"
    );
    assert_eq!(
        pushed[1].payload["notificationId"],
        reminders[0].id.as_str()
    );

    for (who, phone) in [(&carol, &carol_phone), (&dave, &dave_phone)] {
        assert!(
            app.notifications_of(who, "EVENT_REMINDER").await.is_empty(),
            "{}",
            who.email
        );
        assert!(reminders_to(phone).is_empty(), "{}", who.email);
    }
    assert!(reminders_to(&erin_phone).is_empty());
}
