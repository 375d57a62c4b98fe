//! A local FCM HTTP v1 with its own OAuth 2.0 token endpoint: the token endpoint checks the
//! service account's RS256 assertion (`iss`, `aud` = its own URL, `scope`) and issues
//! access tokens, counting them; `messages:send` takes only a token it issued, records the
//! message and answers as the test asks.
//!
//! The service account's key is `fcm_test_key.pem` beside this file: a 2048-bit RSA key
//! made for these tests only (generating one in a debug build takes seconds).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use kith::notify::push::fcm::FcmSettings;
use rsa::RsaPrivateKey;
use rsa::pkcs1::EncodeRsaPublicKey;
use rsa::pkcs8::DecodePrivateKey;
use serde::Deserialize;
use serde_json::{Value, json};

pub const FCM_PROJECT_ID: &str = "kith-test";
pub const FCM_CLIENT_EMAIL: &str = "push@kith-test.iam.gserviceaccount.com";
pub const FCM_SCOPE: &str = "https://www.googleapis.com/auth/firebase.messaging";
/// The service account's private key (PKCS#8 PEM, as Google writes it).
pub const FCM_TEST_KEY: &str = include_str!("fcm_test_key.pem");

/// How the stand-in answers a registration token.
#[derive(Debug, Clone)]
pub enum FcmAnswer {
    /// 200 with the message's name.
    Accept,
    /// 404 `NOT_FOUND` with errorCode `UNREGISTERED`.
    Unregistered,
    /// 429 `RESOURCE_EXHAUSTED` with `Retry-After: seconds`.
    QuotaExceeded { retry_after: u64 },
}

/// One `messages:send` as the stand-in received it.
#[derive(Debug, Clone)]
pub struct FcmSend {
    pub project: String,
    /// The access token it came with (one the stand-in issued).
    pub access_token: String,
    /// The body's `message`.
    pub message: Value,
}

#[derive(Default)]
struct Shared {
    issued: Vec<String>,
    /// Tokens that the stand-in no longer takes (as if revoked).
    revoked: Vec<String>,
    sends: Vec<FcmSend>,
    answers: HashMap<String, FcmAnswer>,
    /// Answers given once each, before `answers`.
    once: HashMap<String, VecDeque<FcmAnswer>>,
    /// Assertions refused, and why.
    problems: Vec<String>,
}

#[derive(Clone)]
struct StandInState {
    shared: Arc<Mutex<Shared>>,
    token_url: String,
    key: DecodingKey,
}

pub struct FcmStandIn {
    /// `http://127.0.0.1:PORT`: `messages:send` is under it.
    pub url: String,
    /// Its token endpoint: the service account's `token_uri`.
    pub token_url: String,
    shared: Arc<Mutex<Shared>>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for FcmStandIn {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl FcmStandIn {
    pub async fn start() -> FcmStandIn {
        let public = RsaPrivateKey::from_pkcs8_pem(FCM_TEST_KEY)
            .unwrap()
            .to_public_key()
            .to_pkcs1_der()
            .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let token_url = format!("{url}/token");
        let shared = Arc::new(Mutex::new(Shared::default()));
        let router = Router::new()
            .route("/token", post(issue_token))
            .route("/v1/projects/{project}/messages:send", post(send))
            .with_state(StandInState {
                shared: shared.clone(),
                token_url: token_url.clone(),
                key: DecodingKey::from_rsa_der(public.as_bytes()),
            });
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        FcmStandIn {
            url,
            token_url,
            shared,
            server,
        }
    }

    /// The service account JSON key, its `token_uri` the stand-in's.
    pub fn service_account_json(&self) -> String {
        json!({
            "type": "service_account",
            "project_id": FCM_PROJECT_ID,
            "private_key_id": "0123456789abcdef",
            "private_key": FCM_TEST_KEY,
            "client_email": FCM_CLIENT_EMAIL,
            "client_id": "100000000000000000000",
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": self.token_url,
        })
        .to_string()
    }

    /// The provider's settings, with `KITH_FCM_SERVICE_ACCOUNT` as given (a path to the
    /// JSON, or the JSON itself).
    pub fn settings(&self, service_account: &str) -> FcmSettings {
        let account = service_account.to_owned();
        let url = self.url.clone();
        FcmSettings::from_lookup(&move |name| match name {
            "KITH_FCM_SERVICE_ACCOUNT" => Some(account.clone()),
            "KITH_FCM_URL" => Some(url.clone()),
            _ => None,
        })
        .unwrap()
        .expect("FCM is set up")
    }

    /// The app's settings (`KITH_FCM_*`) that point it at this stand-in: the service
    /// account's JSON itself, and the send URL.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("KITH_FCM_SERVICE_ACCOUNT", self.service_account_json()),
            ("KITH_FCM_URL", self.url.clone()),
        ]
    }

    /// The next send to `device` (after any answers queued before) is answered so; then
    /// the standing answer applies again.
    pub fn answer_once(&self, device: &str, answer: FcmAnswer) {
        self.shared
            .lock()
            .unwrap()
            .once
            .entry(device.to_owned())
            .or_default()
            .push_back(answer);
    }

    /// From now on, sends to `device` are answered so.
    pub fn answer(&self, device: &str, answer: FcmAnswer) {
        self.shared
            .lock()
            .unwrap()
            .answers
            .insert(device.to_owned(), answer);
    }

    /// How many access tokens it issued.
    pub fn tokens_issued(&self) -> usize {
        self.shared.lock().unwrap().issued.len()
    }

    /// Every access token issued so far stops working (401), as when one is revoked.
    pub fn revoke_tokens(&self) {
        let mut shared = self.shared.lock().unwrap();
        let issued = shared.issued.clone();
        shared.revoked.extend(issued);
    }

    /// Every accepted `messages:send` so far, oldest first.
    pub fn sends(&self) -> Vec<FcmSend> {
        self.shared.lock().unwrap().sends.clone()
    }

    /// Why assertions were refused; empty when none was.
    pub fn problems(&self) -> Vec<String> {
        self.shared.lock().unwrap().problems.clone()
    }
}

#[derive(Deserialize)]
struct Grant {
    grant_type: String,
    assertion: String,
}

#[derive(Deserialize)]
struct Assertion {
    scope: String,
    iat: i64,
    exp: i64,
}

async fn issue_token(State(state): State<StandInState>, Form(grant): Form<Grant>) -> Response {
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&[&state.token_url]);
    validation.set_issuer(&[FCM_CLIENT_EMAIL]);
    validation.set_required_spec_claims(&["exp", "iat", "iss", "aud"]);
    let checked = jsonwebtoken::decode::<Assertion>(&grant.assertion, &state.key, &validation)
        .map_err(|e| format!("assertion: {e}"))
        .and_then(|data| {
            let claims = data.claims;
            if grant.grant_type != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
                Err(format!("grant_type {}", grant.grant_type))
            } else if claims.scope != FCM_SCOPE {
                Err(format!("scope {}", claims.scope))
            } else if claims.exp - claims.iat > 3600 {
                Err("asks for more than an hour".into())
            } else {
                Ok(())
            }
        });
    let mut shared = state.shared.lock().unwrap();
    if let Err(problem) = checked {
        shared.problems.push(problem);
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({ "error": "invalid_grant", "error_description": "Invalid JWT" })),
        )
            .into_response();
    }
    let token = format!("ya29.test-{}", shared.issued.len() + 1);
    shared.issued.push(token.clone());
    Json(json!({ "access_token": token, "expires_in": 3600, "token_type": "Bearer" }))
        .into_response()
}

async fn send(
    State(state): State<StandInState>,
    Path(project): Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let mut shared = state.shared.lock().unwrap();
    let access_token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("")
        .to_owned();
    if !shared.issued.contains(&access_token) || shared.revoked.contains(&access_token) {
        return error(
            StatusCode::UNAUTHORIZED,
            "UNAUTHENTICATED",
            "Request had invalid authentication credentials.",
            None,
            None,
        );
    }
    if project != FCM_PROJECT_ID {
        return error(
            StatusCode::FORBIDDEN,
            "PERMISSION_DENIED",
            "project",
            None,
            None,
        );
    }
    let message = body["message"].clone();
    let device = message["token"].as_str().unwrap_or("").to_owned();
    let once = shared.once.get_mut(&device).and_then(VecDeque::pop_front);
    let answer = once
        .or_else(|| shared.answers.get(&device).cloned())
        .unwrap_or(FcmAnswer::Accept);
    shared.sends.push(FcmSend {
        project: project.clone(),
        access_token,
        message,
    });
    let number = shared.sends.len();
    match answer {
        FcmAnswer::Accept => {
            Json(json!({ "name": format!("projects/{project}/messages/{number}") })).into_response()
        }
        FcmAnswer::Unregistered => error(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            "Requested entity was not found.",
            Some("UNREGISTERED"),
            None,
        ),
        FcmAnswer::QuotaExceeded { retry_after } => error(
            StatusCode::TOO_MANY_REQUESTS,
            "RESOURCE_EXHAUSTED",
            "Quota exceeded.",
            Some("QUOTA_EXCEEDED"),
            Some(retry_after),
        ),
    }
}

/// An FCM error answer, shaped as Google's.
fn error(
    status: StatusCode,
    name: &str,
    message: &str,
    error_code: Option<&str>,
    retry_after: Option<u64>,
) -> Response {
    let details: Vec<Value> = error_code
        .map(|code| {
            json!({
                "@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError",
                "errorCode": code,
            })
        })
        .into_iter()
        .collect();
    let body = Json(json!({ "error": {
        "code": status.as_u16(),
        "message": message,
        "status": name,
        "details": details,
    }}));
    let mut response = (status, body).into_response();
    if let Some(seconds) = retry_after {
        response
            .headers_mut()
            .insert("retry-after", seconds.to_string().parse().unwrap());
    }
    response
}
