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
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tracing::Instrument;
use tracing::field::Empty;

use crate::admission::{self, Admission, Refusal as AdmissionRefusal};
use crate::auth::AccessClaims;
use crate::documents::{self, Refusal};
use crate::error::{AppResult, code};
use crate::graphql::completion;
use crate::graphql::context::{self, Auth, RequestInfo};
use crate::http::graphql::with_codes;
use crate::http::{Http, client};
use crate::live::Slot;

pub const PROTOCOL: &str = "graphql-transport-ws";
pub const INIT_TIMEOUT: Duration = Duration::from_secs(10);
pub const KEEPALIVE: Duration = Duration::from_secs(15);
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
pub const MAX_SUBSCRIPTIONS: usize = 20;
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
    /// WebSocket's own code for a server fault (RFC 6455).
    pub const INTERNAL: u16 = 1011;
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
    let client = client::key(peer, &headers, &http.state.config.trusted_proxies);
    // The upgraded connection runs in a task of its own, outside the request's span.
    let request_id = headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    // Small buffers: most connections sit idle, and the defaults (128 KiB each way) would
    // cost a quarter of a megabyte per connection.
    ws.protocols([PROTOCOL])
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0)
        .max_message_size(MAX_MESSAGE_BYTES)
        .on_upgrade(move |socket| async move {
            Connection::open(http, socket, client, request_id, user_agent).await;
        })
}

struct Connection {
    http: Http,
    socket: WebSocket,
    /// The client's key for per-client limits (see `http::client`).
    client: String,
    user_agent: Option<String>,
}

/// How a connection ends.
enum Close {
    /// The client left, or stopped reading: nothing more to say.
    Gone,
    /// A close frame with the protocol's code and a reason.
    With(u16, &'static str),
}

impl Close {
    fn unauthorized(why: &'static str) -> Close {
        Close::With(close::UNAUTHORIZED, why)
    }

    /// The close of an admission refused (or of a database that does not answer).
    fn refused(admission: AppResult<Admission>) -> Result<AccessClaims, Close> {
        match admission {
            Ok(Admission::Member(claims)) => Ok(claims),
            Ok(Admission::Anonymous) => Err(Close::unauthorized(
                "Unauthorized: no accessToken in connection_init",
            )),
            Ok(Admission::Refused(AdmissionRefusal::BadToken)) => Err(Close::unauthorized(
                "Unauthorized: invalid or expired access token",
            )),
            Ok(Admission::Refused(AdmissionRefusal::SessionEnded)) => {
                Err(Close::unauthorized(SESSION_ENDED))
            }
            Ok(Admission::Refused(AdmissionRefusal::Banned)) => {
                Err(Close::With(close::FORBIDDEN, "Forbidden"))
            }
            Err(_) => Err(Close::With(close::INTERNAL, "Internal error")),
        }
    }
}

const SESSION_ENDED: &str = "Unauthorized: the session has ended";

/// What the connection loop does with one message from the client.
enum Step {
    Continue,
    Send(Value),
    Start(String, Box<async_graphql::Request>),
    Stop(String),
    End(Close),
}

impl Connection {
    async fn open(
        http: Http,
        socket: WebSocket,
        client: String,
        request_id: String,
        user_agent: Option<String>,
    ) {
        let span =
            tracing::info_span!("ws", request_id = %request_id, client = %client, member = Empty);
        let mut connection = Connection {
            http,
            socket,
            client,
            user_agent,
        };
        let end = async {
            match connection.handshake().await {
                Ok((claims, mut slot)) => {
                    tracing::Span::current().record("member", tracing::field::display(claims.sub));
                    connection.serve(claims, &mut slot.sessions_ended).await
                }
                Err(end) => end,
            }
        }
        .instrument(span)
        .await;
        if let Close::With(code, reason) = end {
            let frame = CloseFrame {
                code,
                reason: Utf8Bytes::from_static(reason),
            };
            let _ = tokio::time::timeout(
                WRITE_TIMEOUT,
                connection.socket.send(Message::Close(Some(frame))),
            )
            .await;
        }
    }

    async fn send(&mut self, message: Value) -> Result<(), Close> {
        match tokio::time::timeout(
            WRITE_TIMEOUT,
            self.socket.send(Message::Text(message.to_string().into())),
        )
        .await
        {
            Ok(Ok(())) => Ok(()),
            _ => Err(Close::Gone),
        }
    }

    /// Waits for `connection_init` and admits its token.
    async fn handshake(&mut self) -> Result<(AccessClaims, Slot), Close> {
        let first = match tokio::time::timeout(INIT_TIMEOUT, self.socket.next()).await {
            Err(_) => {
                return Err(Close::With(
                    close::INIT_TIMEOUT,
                    "Connection initialisation timeout",
                ));
            }
            Ok(None | Some(Err(_)) | Some(Ok(Message::Close(_)))) => return Err(Close::Gone),
            Ok(Some(Ok(Message::Text(text)))) => text,
            Ok(Some(Ok(_))) => {
                return Err(Close::unauthorized(
                    "Unauthorized: send connection_init first",
                ));
            }
        };
        let payload = match serde_json::from_str::<ClientMessage>(&first) {
            Ok(ClientMessage::ConnectionInit { payload }) => payload.unwrap_or_default(),
            Ok(_) => {
                return Err(Close::unauthorized(
                    "Unauthorized: send connection_init first",
                ));
            }
            Err(_) => return Err(Close::With(close::BAD_MESSAGE, "Invalid message")),
        };
        // `{"accessToken": "..."}`, or an `Authorization` value with or without its scheme.
        let token = ["accessToken", "Authorization", "authorization"]
            .iter()
            .find_map(|key| payload.get(*key).and_then(Value::as_str))
            .map(|t| admission::bearer(t).unwrap_or(t));
        let state = &self.http.state;
        let claims = Close::refused(admission::admit(state, token).await)?;
        let Some(slot) = state.connections.take(claims.sub) else {
            return Err(Close::With(close::TOO_MANY, "Too many connections"));
        };
        self.send(json!({ "type": "connection_ack" })).await?;
        Ok((claims, slot))
    }

    /// Runs the member's operations until either side closes.
    async fn serve(
        &mut self,
        claims: AccessClaims,
        sessions_ended: &mut watch::Receiver<u64>,
    ) -> Close {
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
            let step = tokio::select! {
                incoming = self.socket.next() => {
                    last_heard = tokio::time::Instant::now();
                    read(&self.http, incoming, &mut running, &claims).await
                }
                Some(message) = outgoing.recv() => Step::Send(message),
                _ = keepalive.tick() => {
                    // A client answers pings with pongs: one silent for two rounds is gone
                    // (a phone that changed networks) and gives its place back.
                    if last_heard.elapsed() > 2 * KEEPALIVE + WRITE_TIMEOUT {
                        Step::End(Close::With(close::INIT_TIMEOUT, "No answer to pings"))
                    } else {
                        Step::Send(json!({ "type": "ping" }))
                    }
                }
                Ok(()) = sessions_ended.changed() => {
                    // A session of this member ended: is it this one?
                    match admission::still_admitted(&self.http.state, claims.clone()).await {
                        Ok(Admission::Refused(_)) => Step::End(Close::unauthorized(SESSION_ENDED)),
                        _ => Step::Continue,
                    }
                }
                () = tokio::time::sleep_until(expires) => {
                    Step::End(Close::unauthorized("Unauthorized: the access token expired"))
                }
            };
            match step {
                Step::Continue => {}
                Step::Send(message) => {
                    if let Err(end) = self.send(message).await {
                        break end;
                    }
                }
                Step::Start(id, request) => {
                    let task = self.run(id.clone(), *request, &claims, queue.clone());
                    running.insert(id, task);
                }
                Step::Stop(id) => {
                    if let Some(task) = running.remove(&id) {
                        task.abort();
                    }
                }
                Step::End(close) => break close,
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
            client: self.client.clone(),
            user_agent: self.user_agent.clone(),
        };
        let operation = request
            .operation_name
            .clone()
            .unwrap_or_else(|| "anonymous".into());
        let span = tracing::info_span!("graphql", operation = %operation, member = %claims.sub);
        let mut request = request;
        let refused = crate::graphql::limits::check_request(&mut request).err();
        let (query, operation_name) = (request.query.clone(), request.operation_name.clone());
        let request = context::prepare(request, &self.http.state, info);
        let schema = self.http.schema.clone();
        tokio::spawn(
            async move {
                if let Some(error) = refused {
                    let errors =
                        with_codes(async_graphql::Response::from_errors(vec![error])).errors;
                    let _ = queue
                        .send(json!({ "type": "error", "id": id, "payload": errors }))
                        .await;
                    return;
                }
                let mut results = schema.execute_stream(request);
                while let Some(response) = results.next().await {
                    let mut response = response;
                    completion::complete(&mut response, &query, operation_name.as_deref());
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
            }
            .instrument(span),
        )
    }
}

/// What to do with one message from the client.
async fn read(
    http: &Http,
    incoming: Option<Result<Message, axum::Error>>,
    running: &mut HashMap<String, JoinHandle<()>>,
    claims: &AccessClaims,
) -> Step {
    let text = match incoming {
        Some(Ok(Message::Text(text))) => text,
        Some(Ok(Message::Ping(_) | Message::Pong(_))) => return Step::Continue,
        Some(Ok(Message::Binary(_))) => {
            return Step::End(Close::With(close::BAD_MESSAGE, "Invalid message"));
        }
        Some(Ok(Message::Close(_)) | Err(_)) | None => return Step::End(Close::Gone),
    };
    match serde_json::from_str::<ClientMessage>(&text) {
        Ok(ClientMessage::Ping { payload }) => {
            let mut pong = json!({ "type": "pong" });
            if let Some(payload) = payload {
                pong["payload"] = payload;
            }
            Step::Send(pong)
        }
        Ok(ClientMessage::Pong {}) => Step::Continue,
        Ok(ClientMessage::ConnectionInit { .. }) => Step::End(Close::With(
            close::TOO_MANY,
            "Too many initialisation requests",
        )),
        Ok(ClientMessage::Complete { id }) => Step::Stop(id),
        Ok(ClientMessage::Subscribe { id, payload }) => {
            subscribe(http, id, payload, running, claims).await
        }
        Err(_) => Step::End(Close::With(close::BAD_MESSAGE, "Invalid message")),
    }
}

/// Checks a `subscribe` against the protocol's limits and the session.
async fn subscribe(
    http: &Http,
    id: String,
    mut payload: Box<async_graphql::Request>,
    running: &mut HashMap<String, JoinHandle<()>>,
    claims: &AccessClaims,
) -> Step {
    running.retain(|_, task| !task.is_finished());
    if id.is_empty() || id.len() > MAX_ID_BYTES {
        return Step::End(Close::With(close::BAD_MESSAGE, "Invalid operation id"));
    }
    if running.contains_key(&id) {
        return Step::End(Close::With(
            close::DUPLICATE_ID,
            "Subscriber for this id already exists",
        ));
    }
    if running.len() >= MAX_SUBSCRIPTIONS {
        return Step::Send(json!({
            "type": "error",
            "id": id,
            "payload": [{
                "message": format!("at most {MAX_SUBSCRIPTIONS} operations at once on a connection"),
                "extensions": { "code": code::RATE_LIMITED },
            }],
        }));
    }
    // Persisted queries and trusted documents hold here as over HTTP.
    let persisted = payload
        .extensions
        .get("persistedQuery")
        .and_then(|value| value.clone().into_json().ok());
    match http.documents.resolve(&payload.query, persisted.as_ref()) {
        Ok(document) => payload.query = document.to_string(),
        Err(refusal) => {
            let (message, code) = match refusal {
                Refusal::NotFound => (
                    documents::NOT_FOUND_MESSAGE.to_owned(),
                    code::PERSISTED_QUERY_NOT_FOUND,
                ),
                Refusal::Missing => ("send a GraphQL operation".to_owned(), code::BAD_USER_INPUT),
                Refusal::BadInput(message) => (message, code::BAD_USER_INPUT),
            };
            return Step::Send(json!({
                "type": "error",
                "id": id,
                "payload": [{ "message": message, "extensions": { "code": code } }],
            }));
        }
    }
    // An ended session (revoked, password changed or reset, account deleted) starts
    // nothing more.
    match Close::refused(admission::still_admitted(&http.state, claims.clone()).await) {
        Ok(_) => Step::Start(id, payload),
        Err(close) => Step::End(close),
    }
}
