//! A local APNs: HTTP/2 only, in plain text (so the provider must speak it with prior
//! knowledge, as it does to Apple over TLS), checking each request as Apple would (the
//! provider token's ES256 signature, `kid`, `iss` and age; topic, push type, expiration,
//! path) and answering as the test asks.

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{HeaderMap, Request, Response, StatusCode, Version};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hyper_util::rt::{TokioExecutor, TokioIo};
use kith::notify::push::apns::ApnsSettings;
use p256::ecdsa::signature::Verifier;
use p256::ecdsa::{Signature, SigningKey, VerifyingKey};
use p256::pkcs8::{EncodePrivateKey, LineEnding};
use serde_json::{Value, json};

pub const APNS_KEY_ID: &str = "KITHKEY001";
pub const APNS_TEAM_ID: &str = "KITHTEAM01";
pub const APNS_TOPIC: &str = "app.kith.test";

/// How the stand-in answers a device token.
#[derive(Debug, Clone)]
pub enum ApnsAnswer {
    /// 200 with an `apns-id`.
    Accept,
    /// 410 `Unregistered`.
    Unregistered,
    /// 400 `BadDeviceToken`.
    BadDeviceToken,
    /// 429 `TooManyRequests` with `Retry-After: seconds`.
    TooManyRequests { retry_after: u64 },
    /// 403 `ExpiredProviderToken`.
    ExpiredProviderToken,
}

/// One request as the stand-in received it.
#[derive(Debug, Clone)]
pub struct ApnsRequest {
    pub version: Version,
    pub device: String,
    pub headers: HeaderMap,
    pub payload: Value,
    /// What Apple would have refused it for; empty when it passed.
    pub problems: Vec<String>,
}

#[derive(Default)]
struct State {
    requests: Vec<ApnsRequest>,
    answers: HashMap<String, ApnsAnswer>,
    /// Answers given once each, before `answers`.
    once: HashMap<String, VecDeque<ApnsAnswer>>,
}

pub struct ApnsStandIn {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// The `.p8` file the provider is set up with.
    pub key_file: std::path::PathBuf,
    state: Arc<Mutex<State>>,
    server: tokio::task::JoinHandle<()>,
    _dir: tempfile::TempDir,
}

impl Drop for ApnsStandIn {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl ApnsStandIn {
    /// Starts it on a free port, with a key of its own written as a `.p8` file.
    pub async fn start() -> ApnsStandIn {
        let key = loop {
            if let Ok(key) = SigningKey::from_slice(&rand::random::<[u8; 32]>()) {
                break key;
            }
        };
        let dir = tempfile::tempdir().unwrap();
        let key_file = dir.path().join(format!("AuthKey_{APNS_KEY_ID}.p8"));
        std::fs::write(
            &key_file,
            key.to_pkcs8_pem(LineEnding::LF).unwrap().as_bytes(),
        )
        .unwrap();
        let verifying_key = *key.verifying_key();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(State::default()));
        let server = tokio::spawn({
            let state = state.clone();
            async move {
                loop {
                    let Ok((stream, _)) = listener.accept().await else {
                        continue;
                    };
                    let state = state.clone();
                    tokio::spawn(async move {
                        let service = hyper::service::service_fn(move |request| {
                            let state = state.clone();
                            async move {
                                Ok::<_, Infallible>(answer(request, &verifying_key, &state).await)
                            }
                        });
                        // HTTP/2 only: an HTTP/1.1 request is not a connection preface,
                        // and the connection fails.
                        let _ = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                            .serve_connection(TokioIo::new(stream), service)
                            .await;
                    });
                }
            }
        });
        ApnsStandIn {
            url,
            key_file,
            state,
            server,
            _dir: dir,
        }
    }

    /// The provider's settings, read as from the environment.
    pub fn settings(&self) -> ApnsSettings {
        let key_file = self.key_file.to_str().unwrap().to_owned();
        let url = self.url.clone();
        ApnsSettings::from_lookup(&move |name| match name {
            "KITH_APNS_KEY_FILE" => Some(key_file.clone()),
            "KITH_APNS_KEY_ID" => Some(APNS_KEY_ID.into()),
            "KITH_APNS_TEAM_ID" => Some(APNS_TEAM_ID.into()),
            "KITH_APNS_TOPIC" => Some(APNS_TOPIC.into()),
            "KITH_APNS_URL" => Some(url.clone()),
            _ => None,
        })
        .unwrap()
        .expect("APNs is set up")
    }

    /// The app's settings (`KITH_APNS_*`) that point it at this stand-in with its key.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            (
                "KITH_APNS_KEY_FILE",
                self.key_file.to_str().unwrap().to_owned(),
            ),
            ("KITH_APNS_KEY_ID", APNS_KEY_ID.into()),
            ("KITH_APNS_TEAM_ID", APNS_TEAM_ID.into()),
            ("KITH_APNS_TOPIC", APNS_TOPIC.into()),
            ("KITH_APNS_URL", self.url.clone()),
        ]
    }

    /// The next request for `device` (after any answers queued before) is answered so;
    /// then the standing answer applies again.
    pub fn answer_once(&self, device: &str, answer: ApnsAnswer) {
        self.state
            .lock()
            .unwrap()
            .once
            .entry(device.to_owned())
            .or_default()
            .push_back(answer);
    }

    /// The requests for `device` so far, oldest first.
    pub fn requests_for(&self, device: &str) -> Vec<ApnsRequest> {
        self.requests()
            .into_iter()
            .filter(|r| r.device == device)
            .collect()
    }

    /// From now on, requests for `device` are answered so.
    pub fn answer(&self, device: &str, answer: ApnsAnswer) {
        self.state
            .lock()
            .unwrap()
            .answers
            .insert(device.to_owned(), answer);
    }

    /// Every request so far, oldest first.
    pub fn requests(&self) -> Vec<ApnsRequest> {
        self.state.lock().unwrap().requests.clone()
    }

    /// The distinct provider tokens seen so far.
    pub fn provider_tokens(&self) -> Vec<String> {
        let mut tokens: Vec<String> = Vec::new();
        for request in self.requests() {
            if let Some(token) = request
                .headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                && !tokens.iter().any(|t| t == token)
            {
                tokens.push(token.to_owned());
            }
        }
        tokens
    }
}

async fn answer(
    request: Request<hyper::body::Incoming>,
    key: &VerifyingKey,
    state: &Mutex<State>,
) -> Response<Body> {
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(Body::new(body), 1 << 16)
        .await
        .unwrap_or_default();
    let payload: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    let mut problems = Vec::new();
    if parts.version != Version::HTTP_2 {
        problems.push(format!("spoken in {:?}, not HTTP/2", parts.version));
    }
    let device = match parts.uri.path().strip_prefix("/3/device/") {
        Some(device) if !device.is_empty() && device.bytes().all(|b| b.is_ascii_hexdigit()) => {
            device.to_owned()
        }
        _ => {
            problems.push(format!(
                "path {} is not /3/device/<hex token>",
                parts.uri.path()
            ));
            String::new()
        }
    };
    if parts.method != axum::http::Method::POST {
        problems.push(format!("method {}", parts.method));
    }
    let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
    if let Err(problem) = check_provider_token(header("authorization"), key) {
        problems.push(problem);
    }
    if header("apns-topic") != Some(APNS_TOPIC) {
        problems.push(format!("apns-topic {:?}", header("apns-topic")));
    }
    if header("apns-push-type") != Some("alert") {
        problems.push(format!("apns-push-type {:?}", header("apns-push-type")));
    }
    if header("apns-expiration")
        .and_then(|v| v.parse::<i64>().ok())
        .is_none()
    {
        problems.push(format!("apns-expiration {:?}", header("apns-expiration")));
    }
    if header("apns-collapse-id").is_some_and(|id| id.len() > 64) {
        problems.push("apns-collapse-id over 64 bytes".into());
    }
    if payload.get("aps").is_none() {
        problems.push(format!("payload without aps: {payload}"));
    }
    let mut state = state.lock().unwrap();
    let once = state.once.get_mut(&device).and_then(VecDeque::pop_front);
    let chosen = once
        .or_else(|| state.answers.get(&device).cloned())
        .unwrap_or(ApnsAnswer::Accept);
    state.requests.push(ApnsRequest {
        version: parts.version,
        device,
        headers: parts.headers.clone(),
        payload,
        problems: problems.clone(),
    });
    if !problems.is_empty() {
        return reply(StatusCode::FORBIDDEN, "InvalidProviderToken", None);
    }
    match chosen {
        ApnsAnswer::Accept => Response::builder()
            .status(StatusCode::OK)
            .header("apns-id", "EC1BF194-B3B2-424A-89A9-5A918A6E6B5C")
            .body(Body::empty())
            .unwrap(),
        ApnsAnswer::Unregistered => reply(StatusCode::GONE, "Unregistered", None),
        ApnsAnswer::BadDeviceToken => reply(StatusCode::BAD_REQUEST, "BadDeviceToken", None),
        ApnsAnswer::TooManyRequests { retry_after } => reply(
            StatusCode::TOO_MANY_REQUESTS,
            "TooManyRequests",
            Some(retry_after),
        ),
        ApnsAnswer::ExpiredProviderToken => {
            reply(StatusCode::FORBIDDEN, "ExpiredProviderToken", None)
        }
    }
}

fn reply(status: StatusCode, reason: &str, retry_after: Option<u64>) -> Response<Body> {
    let mut response = Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .header("apns-id", "EC1BF194-B3B2-424A-89A9-5A918A6E6B5C");
    if let Some(seconds) = retry_after {
        response = response.header("retry-after", seconds.to_string());
    }
    response
        .body(Body::from(json!({ "reason": reason }).to_string()))
        .unwrap()
}

/// `bearer <JWT>`: ES256 by the stand-in's key, `kid`, `iss`, and issued within the hour.
fn check_provider_token(value: Option<&str>, key: &VerifyingKey) -> Result<(), String> {
    let jwt = value
        .and_then(|v| v.strip_prefix("bearer "))
        .ok_or_else(|| format!("authorization {value:?} is not `bearer <token>`"))?;
    let parts: Vec<&str> = jwt.split('.').collect();
    let [header, claims, signature] = parts[..] else {
        return Err(format!("{jwt} is not a JWT"));
    };
    let decode = |part: &str| {
        URL_SAFE_NO_PAD
            .decode(part)
            .map_err(|e| format!("{part}: {e}"))
    };
    let signature = Signature::from_slice(&decode(signature)?)
        .map_err(|e| format!("the signature is not a raw ES256 one: {e}"))?;
    key.verify(format!("{header}.{claims}").as_bytes(), &signature)
        .map_err(|_| "the signature is not by the team's key".to_owned())?;
    let header: Value = serde_json::from_slice(&decode(header)?).map_err(|e| e.to_string())?;
    let claims: Value = serde_json::from_slice(&decode(claims)?).map_err(|e| e.to_string())?;
    if header["alg"] != "ES256" || header["kid"] != APNS_KEY_ID {
        return Err(format!("header {header}"));
    }
    if claims["iss"] != APNS_TEAM_ID {
        return Err(format!("iss in {claims}"));
    }
    let now = chrono::Utc::now().timestamp();
    match claims["iat"].as_i64() {
        Some(iat) if iat <= now + 60 && now - iat < 3600 => Ok(()),
        _ => Err(format!("iat in {claims} is not within the hour")),
    }
}
