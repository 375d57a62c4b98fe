//! Subscriptions over WebSocket (`/graphql/ws`, graphql-transport-ws): who may connect,
//! what they hear, that a rollback is never heard, that no client holds up another, and
//! that a change made through one process reaches a subscriber of another (PostgreSQL).

use std::time::Duration;

use chrono::Utc;
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::helpers::*;

pub(crate) type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

const EVENT_CHANGED: &str = "subscription($id: ID!) { eventChanged(eventId: $id) { kind event { id title status goingCount } } }";
const NOTIFICATIONS: &str = "subscription { notifications { kind message event { id } } }";

/// Opens a WebSocket to `address` (`http://host:port`) speaking graphql-transport-ws.
async fn connect(address: &str) -> Ws {
    let url = format!("{}/graphql/ws", address.replacen("http", "ws", 1));
    let mut request = url.into_client_request().unwrap();
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    let (ws, response) = tokio_tungstenite::connect_async(request).await.unwrap();
    assert_eq!(
        response.headers()["sec-websocket-protocol"],
        "graphql-transport-ws"
    );
    ws
}

async fn send(ws: &mut Ws, message: Value) {
    ws.send(Message::Text(message.to_string().into()))
        .await
        .unwrap();
}

/// What the server says next: a protocol message, or the close code and reason. Server
/// pings are skipped. None when nothing comes within `wait`.
pub(crate) async fn next(ws: &mut Ws, wait: Duration) -> Option<Result<Value, (u16, String)>> {
    loop {
        let message = tokio::time::timeout(wait, ws.next()).await.ok()?;
        match message {
            Some(Ok(Message::Text(text))) => {
                let value: Value = serde_json::from_str(&text).unwrap();
                if value["type"] == "ping" {
                    continue;
                }
                return Some(Ok(value));
            }
            Some(Ok(Message::Close(frame))) => {
                return Some(Err(frame
                    .map(|f| (u16::from(f.code), f.reason.to_string()))
                    .unwrap_or((1005, String::new()))));
            }
            Some(Ok(_)) => continue,
            Some(Err(_)) | None => return Some(Err((1006, "gone".into()))),
        }
    }
}

pub(crate) const WAIT: Duration = Duration::from_secs(10);

/// Connects and initialises with `payload`; the answer to `connection_init`.
async fn init(address: &str, payload: Value) -> (Ws, Result<Value, (u16, String)>) {
    let mut ws = connect(address).await;
    send(
        &mut ws,
        json!({ "type": "connection_init", "payload": payload }),
    )
    .await;
    let answer = next(&mut ws, WAIT)
        .await
        .expect("an answer to connection_init");
    (ws, answer)
}

/// A connection of `member`, acknowledged.
pub(crate) async fn live(address: &str, member: &Member) -> Ws {
    let (ws, answer) = init(address, json!({ "accessToken": member.access_token })).await;
    assert_eq!(answer.unwrap()["type"], "connection_ack");
    ws
}

pub(crate) async fn subscribe(ws: &mut Ws, id: &str, query: &str, variables: Value) {
    send(
        ws,
        json!({ "type": "subscribe", "id": id, "payload": { "query": query, "variables": variables } }),
    )
    .await;
}

/// The payload data of the next `next` message for operation `id`.
pub(crate) async fn data_of(ws: &mut Ws, id: &str) -> Value {
    let message = next(ws, WAIT)
        .await
        .expect("a message in time")
        .expect("the connection stays open");
    assert_eq!(message["type"], "next", "{message}");
    assert_eq!(message["id"], id, "{message}");
    assert!(message["payload"]["errors"].is_null(), "{message}");
    message["payload"]["data"].clone()
}

#[tokio::test]
async fn a_missing_or_bad_token_closes_the_connection_with_4401() {
    let app = spawn_app().await;
    let ann = app.sign_up("ann@example.com", "Ann").await;
    for payload in [
        json!({}),
        json!({ "accessToken": "not a token" }),
        json!({ "accessToken": ann.refresh_token }),
    ] {
        let (_, answer) = init(&app.address, payload.clone()).await;
        assert_eq!(answer.unwrap_err().0, 4401, "{payload}");
    }
    // Subscribing before connection_init is unauthorised too.
    let mut ws = connect(&app.address).await;
    subscribe(&mut ws, "1", NOTIFICATIONS, json!({})).await;
    assert_eq!(next(&mut ws, WAIT).await.unwrap().unwrap_err().0, 4401);
    // A message that is not the protocol's is 4400; a second connection_init 4429.
    let mut ws = live(&app.address, &ann).await;
    send(&mut ws, json!({ "type": "whatever" })).await;
    assert_eq!(next(&mut ws, WAIT).await.unwrap().unwrap_err().0, 4400);
    let mut ws = live(&app.address, &ann).await;
    send(&mut ws, json!({ "type": "connection_init" })).await;
    assert_eq!(next(&mut ws, WAIT).await.unwrap().unwrap_err().0, 4429);
    // "Authorization: Bearer ..." is accepted as well, and pings are answered.
    let (mut ws, answer) = init(
        &app.address,
        json!({ "Authorization": format!("Bearer {}", ann.access_token) }),
    )
    .await;
    assert_eq!(answer.unwrap()["type"], "connection_ack");
    send(&mut ws, json!({ "type": "ping" })).await;
    assert_eq!(next(&mut ws, WAIT).await.unwrap().unwrap()["type"], "pong");
    // A banned member's still-valid token is forbidden: 4403.
    let banned = kith::domain::reports::ban(&app.state.db, uuid_of(&ann.id), Utc::now())
        .await
        .unwrap();
    assert!(app.state.outlets.deliver_now(banned).await);
    let (_, answer) = init(&app.address, json!({ "accessToken": ann.access_token })).await;
    assert_eq!(answer.unwrap_err().0, 4403);
}

#[tokio::test]
async fn a_connection_closes_with_4401_as_soon_as_its_session_ends() {
    let app = spawn_app().await;
    let ann = app.sign_up("ann@example.com", "Ann").await;
    let phone = app.log_in_from("ann@example.com", PASSWORD, "phone").await;
    let tablet = app.log_in_from("ann@example.com", PASSWORD, "tablet").await;
    let mut on_phone = live(&app.address, &phone).await;
    subscribe(&mut on_phone, "1", NOTIFICATIONS, json!({})).await;
    let mut on_tablet = live(&app.address, &tablet).await;
    subscribe(&mut on_tablet, "1", NOTIFICATIONS, json!({})).await;
    let sessions = app
        .graphql(
            Some(&tablet.access_token),
            "{ viewer { sessions { id userAgent } } }",
            json!({}),
        )
        .await;
    let phone_session = sessions["data"]["viewer"]["sessions"]
        .as_array()
        .unwrap_or_else(|| panic!("{sessions}"))
        .iter()
        .find(|s| s["userAgent"] == "phone")
        .unwrap()["id"]
        .clone();

    // The tablet ends the phone's session: the phone's connection closes at once, with its
    // subscription, long before its token would expire.
    let body = app
        .graphql(
            Some(&tablet.access_token),
            "mutation($id: ID!) { revokeSession(input: { sessionId: $id }) { revokedSessionId } }",
            json!({ "id": phone_session }),
        )
        .await;
    assert_eq!(
        body["data"]["revokeSession"]["revokedSessionId"], phone_session,
        "{body}"
    );
    let closed = next(&mut on_phone, WAIT).await.expect("closed in time");
    assert_eq!(closed.unwrap_err().0, 4401);
    // The tablet's goes on, and a log-out from the first device closes nothing else.
    let body = app
        .graphql(
            None,
            "mutation($t: String!) { logOut(input: { refreshToken: $t }) }",
            json!({ "t": ann.refresh_token }),
        )
        .await;
    assert_eq!(body["data"]["logOut"], true, "{body}");
    assert!(
        next(&mut on_tablet, Duration::from_millis(500))
            .await
            .is_none()
    );

    // Deleting the account closes the last one.
    let body = app
        .graphql(
            Some(&tablet.access_token),
            "mutation($p: String!) { deleteAccount(input: { password: $p }) }",
            json!({ "p": PASSWORD }),
        )
        .await;
    assert_eq!(body["data"]["deleteAccount"], true, "{body}");
    let closed = next(&mut on_tablet, WAIT).await.expect("closed in time");
    assert_eq!(closed.unwrap_err().0, 4401);
}

#[tokio::test]
async fn event_changes_are_heard_after_commit_and_never_for_a_rollback() {
    let app = spawn_app().await;
    let (ann, group_id, event) = app.organiser_with_event(json!({ "capacity": 5 })).await;
    let id = event.id.as_str();
    let bo = app.member_of(&group_id, "bo@example.com").await;
    let mut ws = live(&app.address, &bo).await;
    subscribe(&mut ws, "e", EVENT_CHANGED, json!({ "id": id })).await;
    // Let the subscription start before the changes.
    tokio::time::sleep(Duration::from_millis(200)).await;

    // Refused as a whole (capacity 0), then a real change: only the real one is heard.
    let refused = app
        .graphql(
            Some(&ann.access_token),
            UPDATE_EVENT,
            json!({ "input": { "eventId": id, "title": "Never", "capacity": 0 } }),
        )
        .await;
    assert_eq!(error_code(&refused), "BAD_USER_INPUT", "{refused}");
    app.graphql(
        Some(&ann.access_token),
        UPDATE_EVENT,
        json!({ "input": { "eventId": id, "title": "Hack Night, moved upstairs" } }),
    )
    .await;
    let change = data_of(&mut ws, "e").await["eventChanged"].clone();
    assert_eq!(change["kind"], "UPDATED", "{change}");
    assert_eq!(change["event"]["title"], "Hack Night, moved upstairs");

    app.answer(&bo, id, "YES").await;
    let change = data_of(&mut ws, "e").await["eventChanged"].clone();
    assert_eq!(change["kind"], "RSVPS_CHANGED", "{change}");
    assert_eq!(change["event"]["goingCount"], 1);
    // Repeating an answer commits nothing, so nothing is heard: the next message is the
    // cancellation.
    app.answer(&bo, id, "YES").await;

    app.graphql(
        Some(&ann.access_token),
        "mutation($id: ID!) { cancelEvent(input: { eventId: $id, reason: \"Flooded\" }) { id } }",
        json!({ "id": id }),
    )
    .await;
    let change = data_of(&mut ws, "e").await["eventChanged"].clone();
    assert_eq!(change["kind"], "CANCELLED", "{change}");
    assert_eq!(change["event"]["status"], "CANCELLED");
    // Cancelling again changes nothing and is not heard either.
    app.graphql(
        Some(&ann.access_token),
        "mutation($id: ID!) { cancelEvent(input: { eventId: $id, reason: \"Flooded\" }) { id } }",
        json!({ "id": id }),
    )
    .await;

    // An unknown event is NOT_FOUND, as an error message for that operation.
    subscribe(&mut ws, "x", EVENT_CHANGED, json!({ "id": group_id })).await;
    let refused = next(&mut ws, WAIT).await.unwrap().unwrap();
    assert_eq!(refused["type"], "error", "{refused}");
    assert_eq!(refused["id"], "x");
    // Completing an operation stops it.
    send(&mut ws, json!({ "type": "complete", "id": "e" })).await;
    app.graphql(
        Some(&ann.access_token),
        UPDATE_EVENT,
        json!({ "input": { "eventId": id, "title": "Nobody hears this" } }),
    )
    .await;
    assert!(next(&mut ws, Duration::from_millis(500)).await.is_none());
}

#[tokio::test]
async fn members_hear_only_their_own_notifications() {
    let app = spawn_app().await;
    let (ann, group_id, event) = app.organiser_with_event(json!({ "capacity": 1 })).await;
    let id = event.id.as_str();
    let bo = app.member_of(&group_id, "bo@example.com").await;
    let cy = app.member_of(&group_id, "cy@example.com").await;
    app.answer(&bo, id, "YES").await;
    app.answer(&cy, id, "YES").await;
    let mut bos = live(&app.address, &bo).await;
    let mut cys = live(&app.address, &cy).await;
    subscribe(&mut bos, "n", NOTIFICATIONS, json!({})).await;
    subscribe(&mut cys, "n", NOTIFICATIONS, json!({})).await;
    tokio::time::sleep(Duration::from_millis(200)).await;

    app.answer(&bo, id, "NO").await;
    let heard = data_of(&mut cys, "n").await["notifications"].clone();
    assert_eq!(heard["kind"], "WAITLIST_PROMOTED", "{heard}");
    assert_eq!(heard["event"]["id"], id);

    // Bo waits again; a cancellation is told to both. Bo's first notification is this one:
    // Cy's promotion never reached Bo.
    app.answer(&bo, id, "YES").await;
    app.graphql(
        Some(&ann.access_token),
        "mutation($id: ID!) { cancelEvent(input: { eventId: $id, reason: \"Flooded\" }) { id } }",
        json!({ "id": id }),
    )
    .await;
    let heard = data_of(&mut bos, "n").await["notifications"].clone();
    assert_eq!(heard["kind"], "EVENT_CANCELLED", "{heard}");
    let heard = data_of(&mut cys, "n").await["notifications"].clone();
    assert_eq!(heard["kind"], "EVENT_CANCELLED", "{heard}");
}

#[tokio::test]
async fn a_slow_or_vanished_client_holds_up_no_one() {
    let app = spawn_app().await;
    let (_ann, group_id, event) = app.organiser_with_event(json!({})).await;
    let id = event.id.as_str();
    let bo = app.member_of(&group_id, "bo@example.com").await;
    // One subscriber never reads; another vanishes without closing.
    let mut slow = live(&app.address, &bo).await;
    subscribe(&mut slow, "e", EVENT_CHANGED, json!({ "id": id })).await;
    let mut gone = live(&app.address, &bo).await;
    subscribe(&mut gone, "e", EVENT_CHANGED, json!({ "id": id })).await;
    let mut healthy = live(&app.address, &bo).await;
    subscribe(&mut healthy, "e", EVENT_CHANGED, json!({ "id": id })).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    drop(gone);

    let changes = 120;
    for i in 0..changes {
        app.answer(&bo, id, if i % 2 == 0 { "YES" } else { "NO" })
            .await;
    }
    for i in 0..changes {
        let change = data_of(&mut healthy, "e").await["eventChanged"].clone();
        assert_eq!(change["kind"], "RSVPS_CHANGED", "change {i}: {change}");
    }
    drop(slow);
}

#[tokio::test]
async fn operations_per_connection_and_connections_per_member_are_capped() {
    let app = spawn_app().await;
    let ann = app.sign_up("ann@example.com", "Ann").await;
    let mut ws = live(&app.address, &ann).await;
    for i in 0..20 {
        subscribe(&mut ws, &format!("n{i}"), NOTIFICATIONS, json!({})).await;
    }
    subscribe(&mut ws, "one-too-many", NOTIFICATIONS, json!({})).await;
    let refused = next(&mut ws, WAIT).await.unwrap().unwrap();
    assert_eq!(refused["type"], "error", "{refused}");
    assert_eq!(refused["id"], "one-too-many");
    assert_eq!(refused["payload"][0]["extensions"]["code"], "RATE_LIMITED");
    // An id in use closes the connection with 4409.
    subscribe(&mut ws, "n0", NOTIFICATIONS, json!({})).await;
    assert_eq!(next(&mut ws, WAIT).await.unwrap().unwrap_err().0, 4409);

    let mut open = Vec::new();
    for _ in 0..10 {
        open.push(live(&app.address, &ann).await);
    }
    let (_, answer) = init(&app.address, json!({ "accessToken": ann.access_token })).await;
    assert_eq!(answer.unwrap_err().0, 4429);
    // A closed connection gives its place back.
    drop(open.pop());
    let mut admitted = false;
    for _ in 0..50 {
        let (_, answer) = init(&app.address, json!({ "accessToken": ann.access_token })).await;
        if answer.is_ok() {
            admitted = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(admitted);
}

/// A second `kith` process, the real binary, on the same database.
pub(crate) struct Process {
    child: std::process::Child,
    pub(crate) address: String,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) async fn second_process(database_url: &str) -> Process {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = kith_command()
        .env("DATABASE_URL", database_url)
        .env("KITH_JWT_SECRET", TEST_SECRET)
        .env("KITH_LISTEN", format!("127.0.0.1:{port}"))
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let process = Process {
        child,
        address: format!("http://127.0.0.1:{port}"),
    };
    let client = reqwest::Client::new();
    for _ in 0..300 {
        if let Ok(r) = client
            .get(format!("{}/readyz", process.address))
            .send()
            .await
            && r.status().is_success()
        {
            return process;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the second process did not become ready");
}

#[tokio::test]
async fn a_change_through_one_process_reaches_a_subscriber_of_another() {
    if std::env::var("TEST_DATABASE_URL").is_err() {
        // One SQLite file is served by one process (the bus is in memory there); this is
        // the PostgreSQL run's test, which CI makes.
        eprintln!("skipped: needs TEST_DATABASE_URL (PostgreSQL)");
        return;
    }
    let app = spawn_app().await;
    let (ann, group_id, event) = app.organiser_with_event(json!({ "capacity": 1 })).await;
    let id = event.id.as_str();
    let bo = app.member_of(&group_id, "bo@example.com").await;
    let cy = app.member_of(&group_id, "cy@example.com").await;
    app.answer(&bo, id, "YES").await;
    app.answer(&cy, id, "YES").await;

    let other = second_process(&app.database_url).await;
    let mut events = live(&other.address, &bo).await;
    subscribe(&mut events, "e", EVENT_CHANGED, json!({ "id": id })).await;
    let mut told = live(&other.address, &cy).await;
    subscribe(&mut told, "n", NOTIFICATIONS, json!({})).await;
    tokio::time::sleep(Duration::from_millis(500)).await;

    // Through the first process.
    let title = format!("Moved at {}", Utc::now().timestamp());
    app.graphql(
        Some(&ann.access_token),
        UPDATE_EVENT,
        json!({ "input": { "eventId": id, "title": title } }),
    )
    .await;
    let change = data_of(&mut events, "e").await["eventChanged"].clone();
    assert_eq!(change["kind"], "UPDATED", "{change}");
    assert_eq!(change["event"]["title"], title);

    app.answer(&bo, id, "NO").await;
    let heard = data_of(&mut told, "n").await["notifications"].clone();
    assert_eq!(heard["kind"], "WAITLIST_PROMOTED", "{heard}");
}

#[tokio::test]
async fn trusted_documents_hold_over_the_websocket_too() {
    use sha2::Digest;
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("manifest.json");
    let sha = |document: &str| hex::encode(sha2::Sha256::digest(document.as_bytes()));
    let hash = sha(NOTIFICATIONS);
    // The app's sign-up, so that Ann can sign up.
    let sign_up =
        format!("mutation($input: SignUpInput!) {{ signUp(input: $input) {{ {AUTH_FIELDS} }} }}");
    std::fs::write(
        &manifest,
        json!({
            "format": "apollo-persisted-query-manifest",
            "version": 1,
            "operations": [
                { "id": hash, "name": "Notifications", "type": "subscription", "body": NOTIFICATIONS },
                { "id": sha(&sign_up), "name": "SignUp", "type": "mutation", "body": sign_up },
            ]
        })
        .to_string(),
    )
    .unwrap();
    let app = spawn_app_with(&[("KITH_TRUSTED_DOCUMENTS", &manifest.display().to_string())]).await;
    let ann = app.sign_up("ann@example.com", "Ann").await;
    let mut ws = live(&app.address, &ann).await;
    subscribe(
        &mut ws,
        "unlisted",
        EVENT_CHANGED,
        json!({ "id": unknown_id("Event") }),
    )
    .await;
    let refused = next(&mut ws, WAIT).await.unwrap().unwrap();
    assert_eq!(refused["type"], "error", "{refused}");
    assert_eq!(refused["id"], "unlisted");
    assert_eq!(
        refused["payload"][0]["extensions"]["code"],
        "PERSISTED_QUERY_NOT_FOUND"
    );
    // The listed one, by its id alone, starts: nothing is refused.
    send(
        &mut ws,
        json!({ "type": "subscribe", "id": "listed", "payload": {
            "extensions": { "persistedQuery": { "version": 1, "sha256Hash": hash } }
        } }),
    )
    .await;
    assert!(next(&mut ws, Duration::from_secs(1)).await.is_none());
}

#[tokio::test]
async fn the_websocket_upgrade_is_never_compressed() {
    let app = spawn_app().await;
    let url = format!("{}/graphql/ws", app.address.replacen("http", "ws", 1));
    let mut request = url.into_client_request().unwrap();
    let headers = request.headers_mut();
    headers.insert(
        "Sec-WebSocket-Protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    // What a browser sends with every upgrade.
    headers.insert("Accept-Encoding", "gzip, deflate, br".parse().unwrap());
    let (mut ws, response) = tokio_tungstenite::connect_async(request).await.unwrap();
    assert!(
        response.headers().get("content-encoding").is_none(),
        "{:?}",
        response.headers()
    );
    send(&mut ws, json!({ "type": "connection_init", "payload": {} })).await;
    // No token: the protocol's own close, read as plain frames.
    assert_eq!(next(&mut ws, WAIT).await.unwrap().unwrap_err().0, 4401);
}
