//! GraphQL over WebSocket at `/graphql/ws`: the `graphql-transport-ws` protocol
//! (<https://github.com/enisdenjo/graphql-ws/blob/master/PROTOCOL.md>), implemented here
//! rather than with async-graphql's helper so that the close codes, the limits and the
//! authentication are ours.
//!
//! - The first message must be `connection_init` with the access token in its payload
//!   (`{"accessToken": "..."}`, or `{"Authorization": "Bearer ..."}`), within 10 seconds
//!   (else 4408). A missing, bad or expired token, or one whose session has ended, closes
//!   with 4401; a banned member with 4403; more than `MAX_CONNECTIONS_PER_MEMBER` open
//!   connections with 4429.
//! - The connection closes with 4401 when the access token expires: the app reconnects with
//!   a fresh one (and catches up through `Viewer.notifications`); and as soon as its session
//!   ends (revoked, logged out, password changed or reset, account deleted), heard through
//!   the change bus like any change.
//! - At most `MAX_SUBSCRIPTIONS` operations run at once on a connection; one more gets an
//!   `error` message (code RATE_LIMITED). A reused id closes with 4409; a message that is not
//!   the protocol's, with 4400.
//! - The server pings every 15 seconds; a client silent for 40 seconds (no pong, nothing) is
//!   taken for gone and closed with 4408. A client that cannot keep up only loses its own
//!   messages: each connection has its own queue, and a write that takes over 10 seconds
//!   drops the connection.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, header};
use axum::response::Response;
use futures::StreamExt;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::{broadcast, mpsc, watch};
use tokio::task::JoinHandle;
use uuid::Uuid;

use crate::auth::AccessClaims;
use crate::domain::{accounts, sessions};
use crate::error::code;
use crate::graphql::context::{Auth, RequestInfo};
use crate::http::Http;
use crate::http::graphql::with_codes;
use crate::live::Change;
use crate::state::AppState;

pub const PROTOCOL: &str = "graphql-transport-ws";
pub const INIT_TIMEOUT: Duration = Duration::from_secs(10);
pub const KEEPALIVE: Duration = Duration::from_secs(15);
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
pub const MAX_SUBSCRIPTIONS: usize = 20;
pub const MAX_CONNECTIONS_PER_MEMBER: usize = 10;
/// Messages queued for one connection before its operations wait (and skip changes).
const QUEUE: usize = 64;
const MAX_MESSAGE_BYTES: usize = 64 * 1024;
/// Longest operation id accepted.
const MAX_ID_BYTES: usize = 64;

/// Close codes of the protocol.
pub mod close {
    pub const BAD_MESSAGE: u16 = 4400;
    pub const UNAUTHORIZED: u16 = 4401;
    pub const FORBIDDEN: u16 = 4403;
    pub const INIT_TIMEOUT: u16 = 4408;
    pub const DUPLICATE_ID: u16 = 4409;
    pub const TOO_MANY: u16 = 4429;
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ClientMessage {
    ConnectionInit {
        #[serde(default)]
        payload: Option<Value>,
    },
    Ping {
        #[serde(default)]
        payload: Option<Value>,
    },
    Pong {},
    Subscribe {
        id: String,
        payload: Box<async_graphql::Request>,
    },
    Complete {
        id: String,
    },
}

/// `GET /graphql/ws`: upgrades to a WebSocket speaking `graphql-transport-ws`.
pub async fn upgrade(
    State(http): State<Http>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    // Small buffers: most connections sit idle, and the defaults (128 KiB each way) would
    // cost a quarter of a megabyte per connection.
    ws.protocols([PROTOCOL])
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0)
        .max_message_size(MAX_MESSAGE_BYTES)
        .on_upgrade(move |socket| async move {
            Connection::open(http, socket, peer, user_agent).await;
        })
}

/// A member's open connections in this process, and the signal that some of their
/// sessions ended (a counter each connection watches).
pub struct Open {
    count: usize,
    sessions_ended: watch::Sender<u64>,
}

impl Default for Open {
    fn default() -> Self {
        Open {
            count: 0,
            sessions_ended: watch::channel(0).0,
        }
    }
}

/// Relays "sessions ended" from the change bus to the connections of that member in this
/// process, which then check their own session: one listener for all connections, so a
/// change wakes only the connections it concerns. When changes were missed, every
/// connection checks.
pub fn watch_sessions(state: AppState) {
    let mut heard = state.bus.subscribe();
    tokio::spawn(async move {
        loop {
            let member = match heard.recv().await {
                Ok(heard) => match heard.change {
                    Change::SessionsEnded { user_id } => Some(user_id),
                    _ => continue,
                },
                Err(broadcast::error::RecvError::Lagged(_)) => None,
                Err(broadcast::error::RecvError::Closed) => return,
            };
            let open = state.live_connections.lock().expect("not poisoned");
            for (id, connections) in open.iter() {
                if member.is_none_or(|m| m == *id) {
                    connections.sessions_ended.send_modify(|n| *n += 1);
                }
            }
        }
    });
}

/// Counts a member's open connections; gives the place back when dropped.
struct Slot {
    state: AppState,
    member: Uuid,
    /// Changes when some session of the member ends.
    sessions_ended: watch::Receiver<u64>,
}

impl Slot {
    fn take(state: &AppState, member: Uuid) -> Option<Slot> {
        let mut open = state.live_connections.lock().expect("not poisoned");
        let entry = open.entry(member).or_default();
        if entry.count >= MAX_CONNECTIONS_PER_MEMBER {
            return None;
        }
        entry.count += 1;
        Some(Slot {
            state: state.clone(),
            member,
            sessions_ended: entry.sessions_ended.subscribe(),
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.state.live_connections.lock().expect("not poisoned");
        if let Some(entry) = open.get_mut(&self.member) {
            entry.count -= 1;
            if entry.count == 0 {
                open.remove(&self.member);
            }
        }
    }
}

struct Connection {
    http: Http,
    socket: WebSocket,
    peer: SocketAddr,
    user_agent: Option<String>,
}

/// Why a connection ends: a close frame to send, or nothing (the client left).
type End = Option<(u16, String)>;

impl Connection {
    async fn open(http: Http, socket: WebSocket, peer: SocketAddr, user_agent: Option<String>) {
        let mut connection = Connection {
            http,
            socket,
            peer,
            user_agent,
        };
        let end = match connection.handshake().await {
            Ok((claims, mut slot)) => connection.serve(claims, &mut slot.sessions_ended).await,
            Err(end) => end,
        };
        if let Some((code, reason)) = end {
            let frame = CloseFrame {
                code,
                reason: Utf8Bytes::from(reason),
            };
            let _ = tokio::time::timeout(
                WRITE_TIMEOUT,
                connection.socket.send(Message::Close(Some(frame))),
            )
            .await;
        }
    }

    async fn send(&mut self, message: Value) -> Result<(), End> {
        match tokio::time::timeout(
            WRITE_TIMEOUT,
            self.socket.send(Message::Text(message.to_string().into())),
        )
        .await
        {
            Ok(Ok(())) => Ok(()),
            _ => Err(None),
        }
    }

    /// Waits for `connection_init` and checks its token.
    async fn handshake(&mut self) -> Result<(AccessClaims, Slot), End> {
        let unauthorized = |why: &str| Some((close::UNAUTHORIZED, why.to_owned()));
        let first = match tokio::time::timeout(INIT_TIMEOUT, self.socket.next()).await {
            Err(_) => {
                return Err(Some((
                    close::INIT_TIMEOUT,
                    "Connection initialisation timeout".into(),
                )));
            }
            Ok(None | Some(Err(_))) => return Err(None),
            Ok(Some(Ok(Message::Text(text)))) => text,
            Ok(Some(Ok(Message::Close(_)))) => return Err(None),
            Ok(Some(Ok(_))) => {
                return Err(unauthorized("Unauthorized: send connection_init first"));
            }
        };
        let payload = match serde_json::from_str::<ClientMessage>(&first) {
            Ok(ClientMessage::ConnectionInit { payload }) => payload.unwrap_or_default(),
            Ok(_) => return Err(unauthorized("Unauthorized: send connection_init first")),
            Err(_) => return Err(Some((close::BAD_MESSAGE, "Invalid message".into()))),
        };
        let token = ["accessToken", "Authorization", "authorization"]
            .iter()
            .find_map(|key| payload.get(*key).and_then(Value::as_str))
            .map(|t| {
                t.trim()
                    .strip_prefix("Bearer ")
                    .or_else(|| t.trim().strip_prefix("bearer "))
                    .unwrap_or(t.trim())
                    .to_owned()
            });
        let Some(token) = token else {
            return Err(unauthorized(
                "Unauthorized: no accessToken in connection_init",
            ));
        };
        let state = &self.http.state;
        let Ok(claims) = state.access_tokens.verify(&token) else {
            return Err(unauthorized(
                "Unauthorized: invalid or expired access token",
            ));
        };
        match accounts::find(&state.db, claims.sub).await {
            Ok(Some(user)) if user.banned_at.is_none() => {}
            Ok(Some(_)) => return Err(Some((close::FORBIDDEN, "Forbidden".into()))),
            Ok(None) => return Err(unauthorized("Unauthorized: no such member")),
            Err(_) => return Err(Some((1011, "Internal error".into()))),
        }
        match sessions::is_live(&state.db, claims.sid, claims.sub).await {
            Ok(true) => {}
            Ok(false) => return Err(unauthorized("Unauthorized: the session has ended")),
            Err(_) => return Err(Some((1011, "Internal error".into()))),
        }
        let Some(slot) = Slot::take(state, claims.sub) else {
            return Err(Some((close::TOO_MANY, "Too many connections".into())));
        };
        self.send(json!({ "type": "connection_ack" })).await?;
        Ok((claims, slot))
    }

    /// Runs the member's operations until either side closes.
    async fn serve(
        &mut self,
        claims: AccessClaims,
        sessions_ended: &mut watch::Receiver<u64>,
    ) -> End {
        let (queue, mut outgoing) = mpsc::channel::<Value>(QUEUE);
        let mut running: HashMap<String, JoinHandle<()>> = HashMap::new();
        let mut keepalive = tokio::time::interval(KEEPALIVE);
        keepalive.tick().await;
        let expires = tokio::time::Instant::now()
            + Duration::from_secs(
                u64::try_from(claims.exp - chrono::Utc::now().timestamp()).unwrap_or(0),
            );
        let mut last_heard = tokio::time::Instant::now();
        let end = loop {
            tokio::select! {
                incoming = self.socket.next() => {
                    last_heard = tokio::time::Instant::now();
                    let text = match incoming {
                        Some(Ok(Message::Text(text))) => text,
                        Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                        Some(Ok(Message::Binary(_))) => {
                            break Some((close::BAD_MESSAGE, "Invalid message".into()));
                        }
                        Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break None,
                    };
                    match serde_json::from_str::<ClientMessage>(&text) {
                        Ok(ClientMessage::Ping { payload }) => {
                            let mut pong = json!({ "type": "pong" });
                            if let Some(payload) = payload {
                                pong["payload"] = payload;
                            }
                            if let Err(end) = self.send(pong).await {
                                break end;
                            }
                        }
                        Ok(ClientMessage::Pong {}) => {}
                        Ok(ClientMessage::ConnectionInit { .. }) => {
                            break Some((close::TOO_MANY, "Too many initialisation requests".into()));
                        }
                        Ok(ClientMessage::Complete { id }) => {
                            if let Some(task) = running.remove(&id) {
                                task.abort();
                            }
                        }
                        Ok(ClientMessage::Subscribe { id, payload }) => {
                            running.retain(|_, task| !task.is_finished());
                            if id.is_empty() || id.len() > MAX_ID_BYTES {
                                break Some((close::BAD_MESSAGE, "Invalid operation id".into()));
                            }
                            if running.contains_key(&id) {
                                break Some((close::DUPLICATE_ID, "Subscriber for this id already exists".into()));
                            }
                            if running.len() >= MAX_SUBSCRIPTIONS {
                                let refused = json!({
                                    "type": "error",
                                    "id": id,
                                    "payload": [{
                                        "message": format!("at most {MAX_SUBSCRIPTIONS} operations at once on a connection"),
                                        "extensions": { "code": code::RATE_LIMITED },
                                    }],
                                });
                                if let Err(end) = self.send(refused).await {
                                    break end;
                                }
                                continue;
                            }
                            // An ended session (revoked, password changed or reset, account
                            // deleted) starts nothing more.
                            match sessions::is_live(&self.http.state.db, claims.sid, claims.sub).await {
                                Ok(true) => {}
                                Ok(false) => break Some((close::UNAUTHORIZED, "Unauthorized: the session has ended".into())),
                                Err(_) => break Some((1011, "Internal error".into())),
                            }
                            let task = self.run(id.clone(), *payload, &claims, queue.clone());
                            running.insert(id, task);
                        }
                        Err(_) => break Some((close::BAD_MESSAGE, "Invalid message".into())),
                    }
                }
                Some(message) = outgoing.recv() => {
                    if let Err(end) = self.send(message).await {
                        break end;
                    }
                }
                _ = keepalive.tick() => {
                    // A client answers pings with pongs: one silent for two rounds is gone
                    // (a phone that changed networks) and gives its place back.
                    if last_heard.elapsed() > 2 * KEEPALIVE + WRITE_TIMEOUT {
                        break Some((close::INIT_TIMEOUT, "No answer to pings".into()));
                    }
                    if let Err(end) = self.send(json!({ "type": "ping" })).await {
                        break end;
                    }
                }
                Ok(()) = sessions_ended.changed() => {
                    // A session of this member ended: is it this one?
                    if matches!(sessions::is_live(&self.http.state.db, claims.sid, claims.sub).await, Ok(false)) {
                        break Some((close::UNAUTHORIZED, "Unauthorized: the session has ended".into()));
                    }
                }
                () = tokio::time::sleep_until(expires) => {
                    break Some((close::UNAUTHORIZED, "Unauthorized: the access token expired".into()));
                }
            }
        };
        for task in running.into_values() {
            task.abort();
        }
        end
    }

    /// Runs one operation, queueing its results for the connection.
    fn run(
        &self,
        id: String,
        request: async_graphql::Request,
        claims: &AccessClaims,
        queue: mpsc::Sender<Value>,
    ) -> JoinHandle<()> {
        let info = RequestInfo {
            auth: Auth::Member(claims.clone()),
            client: self.peer.ip().to_string(),
            user_agent: self.user_agent.clone(),
        };
        let request = request
            .data(info)
            .data(crate::graphql::loaders::loaders(self.http.state.db.clone()));
        let schema = self.http.schema.clone();
        tokio::spawn(async move {
            let mut results = schema.execute_stream(request);
            while let Some(response) = results.next().await {
                let response = with_codes(response);
                let failed = response.data == async_graphql::Value::Null && response.is_err();
                let message = if failed {
                    json!({ "type": "error", "id": id, "payload": response.errors })
                } else {
                    json!({ "type": "next", "id": id, "payload": response })
                };
                if queue.send(message).await.is_err() || failed {
                    return;
                }
            }
            let _ = queue.send(json!({ "type": "complete", "id": id })).await;
        })
    }
}
