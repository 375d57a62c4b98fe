//! Firebase Cloud Messaging, HTTP v1: an OAuth 2.0 access token from the service account
//! (the JWT bearer grant, RS256), kept until five minutes before it expires, and one
//! `messages:send` per push.
//!
//! Settings: `KITH_FCM_SERVICE_ACCOUNT`, the service account's JSON key as Firebase's
//! console downloads it: a path to the file, or the JSON itself when the value starts with
//! `{` (handy where secrets come as environment variables); and `KITH_FCM_URL`
//! (`https://fcm.googleapis.com` unless set).

use std::time::{Duration, Instant};

use chrono::Utc;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::StatusCode;
use rsa::RsaPrivateKey;
use rsa::pkcs1::{DecodeRsaPrivateKey, EncodeRsaPrivateKey};
use rsa::pkcs8::DecodePrivateKey;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::apns::base_url;
use super::{Address, Outcome, Provider, Push, outcome_of_error, retry_after};
use crate::config::ConfigError;

/// Google's FCM host.
pub const DEFAULT_URL: &str = "https://fcm.googleapis.com";
/// The OAuth 2.0 scope that sending takes.
pub const SCOPE: &str = "https://www.googleapis.com/auth/firebase.messaging";
/// Google's token endpoint, for a service account JSON without `token_uri`.
const DEFAULT_TOKEN_URI: &str = "https://oauth2.googleapis.com/token";
/// An access token is replaced this long before it expires.
const REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);
/// How long the assertion asks for (Google's most).
const ASSERTION_LIFETIME_SECONDS: i64 = 3600;
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
const SETTING: &str = "KITH_FCM_SERVICE_ACCOUNT";

/// What FCM needs: the service account and where to send.
#[derive(Clone)]
pub struct FcmSettings {
    pub project_id: String,
    pub client_email: String,
    /// Where access tokens come from (the account's `token_uri`).
    pub token_uri: String,
    /// Where messages go, without a trailing slash.
    pub url: String,
    /// The account's `private_key_id`, sent as the assertion's `kid` when known.
    key_id: Option<String>,
    key: EncodingKey,
}

impl std::fmt::Debug for FcmSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FcmSettings")
            .field("project_id", &self.project_id)
            .field("client_email", &self.client_email)
            .field("token_uri", &self.token_uri)
            .field("url", &self.url)
            .field("key", &"<redacted>")
            .finish()
    }
}

/// The fields of a service account JSON key that sending uses.
#[derive(Deserialize)]
struct ServiceAccount {
    project_id: String,
    client_email: String,
    private_key: String,
    private_key_id: Option<String>,
    token_uri: Option<String>,
}

impl FcmSettings {
    /// Reads the settings through `get`: `None` when `KITH_FCM_SERVICE_ACCOUNT` is unset (no
    /// FCM), else the account must be readable JSON with a project, an email and an RSA key.
    pub fn from_lookup(
        get: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Option<FcmSettings>, ConfigError> {
        let Some(value) = get(SETTING) else {
            return Ok(None);
        };
        let bad = |message: String| ConfigError {
            setting: SETTING,
            message,
        };
        let (json, source) = if value.trim_start().starts_with('{') {
            (value.clone(), "the JSON given".to_owned())
        } else {
            let json = std::fs::read_to_string(&value)
                .map_err(|err| bad(format!("cannot read {value}: {err}")))?;
            (json, value.clone())
        };
        let account: ServiceAccount = serde_json::from_str(&json).map_err(|err| {
            bad(format!(
                "{source} is not a service account JSON key (project_id, client_email, \
                 private_key): {err}"
            ))
        })?;
        let rsa = RsaPrivateKey::from_pkcs8_pem(&account.private_key)
            .or_else(|_| RsaPrivateKey::from_pkcs1_pem(&account.private_key))
            .map_err(|err| {
                bad(format!(
                    "the private_key of {source} is not an RSA key: {err}"
                ))
            })?;
        // jsonwebtoken's RS256 signer takes PKCS#1 DER.
        let der = rsa
            .to_pkcs1_der()
            .map_err(|err| bad(format!("the private_key of {source}: {err}")))?;
        let token_uri = base_url(
            SETTING,
            account.token_uri.as_deref().unwrap_or(DEFAULT_TOKEN_URI),
        )?;
        if account.project_id.is_empty()
            || !account
                .project_id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err(bad(format!(
                "the project_id of {source} is not a Firebase project id"
            )));
        }
        Ok(Some(FcmSettings {
            project_id: account.project_id,
            client_email: account.client_email,
            token_uri,
            url: base_url(
                "KITH_FCM_URL",
                get("KITH_FCM_URL").as_deref().unwrap_or(DEFAULT_URL),
            )?,
            key_id: account.private_key_id.filter(|id| !id.is_empty()),
            key: EncodingKey::from_rsa_der(der.as_bytes()),
        }))
    }
}

/// The FCM provider.
pub struct Fcm {
    settings: FcmSettings,
    client: reqwest::Client,
    /// The access token and when to replace it; held while one is fetched, so only one is.
    token: tokio::sync::Mutex<Option<(String, Instant)>>,
}

#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    scope: &'a str,
    aud: &'a str,
    iat: i64,
    exp: i64,
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    expires_in: u64,
}

impl Fcm {
    pub fn new(settings: FcmSettings) -> Self {
        let client = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .build()
            .expect("the HTTP client (its TLS backend) cannot be set up");
        Fcm {
            settings,
            client,
            token: tokio::sync::Mutex::new(None),
        }
    }

    /// The access token in use, or a new one; the outcome to give when none can be had.
    async fn access_token(&self) -> Result<String, Outcome> {
        let mut cached = self.token.lock().await;
        if let Some((token, refresh_at)) = cached.as_ref()
            && Instant::now() < *refresh_at
        {
            return Ok(token.clone());
        }
        let now = Utc::now().timestamp();
        let mut header = Header::new(Algorithm::RS256);
        header.kid = self.settings.key_id.clone();
        let claims = Claims {
            iss: &self.settings.client_email,
            scope: SCOPE,
            aud: &self.settings.token_uri,
            iat: now,
            exp: now + ASSERTION_LIFETIME_SECONDS,
        };
        let assertion = jsonwebtoken::encode(&header, &claims, &self.settings.key)
            .map_err(|err| Outcome::Refused(format!("cannot sign the FCM assertion: {err}")))?;
        let response = self
            .client
            .post(&self.settings.token_uri)
            .form(&[
                ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
                ("assertion", assertion.as_str()),
            ])
            .send()
            .await
            .map_err(|err| outcome_of_error(&err))?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.text().await.unwrap_or_default();
        if !status.is_success() {
            let reason = format!("access token: {status} {}", clip(&body));
            return Err(
                if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
                    Outcome::Retry {
                        after: retry_after(&headers, Utc::now()),
                        reason,
                    }
                } else {
                    Outcome::Refused(reason)
                },
            );
        }
        let answer: TokenAnswer = serde_json::from_str(&body).map_err(|err| Outcome::Retry {
            after: None,
            reason: format!("access token: unreadable answer: {err}"),
        })?;
        let lifetime = Duration::from_secs(answer.expires_in);
        let refresh_at = Instant::now() + lifetime.saturating_sub(REFRESH_MARGIN);
        *cached = Some((answer.access_token.clone(), refresh_at));
        Ok(answer.access_token)
    }

    /// FCM refused the token: the next send fetches another (unless one already has).
    async fn forget_token(&self, token: &str) {
        let mut cached = self.token.lock().await;
        if cached.as_ref().is_some_and(|(t, _)| t == token) {
            *cached = None;
        }
    }
}

/// The `messages:send` body for one device.
pub fn message(token: &str, push: &Push, now: chrono::DateTime<Utc>) -> Value {
    let ttl = (push.expires_at - now).num_seconds().max(0);
    let mut android = json!({ "ttl": format!("{ttl}s"), "priority": "HIGH" });
    if let Some(key) = &push.collapse_key {
        android["collapse_key"] = json!(key);
    }
    json!({
        "message": {
            "token": token,
            "notification": { "title": push.title, "body": push.body },
            "data": push.data,
            "android": android,
        }
    })
}

/// What an FCM answer means; `Unauthorized` asks for a new access token.
fn outcome(status: StatusCode, headers: &reqwest::header::HeaderMap, body: &str) -> Answer {
    if status.is_success() {
        return Answer::Outcome(Outcome::Sent);
    }
    let error = serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| v.get("error").cloned())
        .unwrap_or(Value::Null);
    let error_status = error.get("status").and_then(Value::as_str).unwrap_or("");
    let unregistered = error
        .get("details")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(|detail| detail.get("errorCode").and_then(Value::as_str) == Some("UNREGISTERED"));
    let message = error.get("message").and_then(Value::as_str).unwrap_or("");
    let said = format!("{status} {error_status}: {}", clip(message));
    Answer::Outcome(match status.as_u16() {
        404 if error_status == "NOT_FOUND" || unregistered => Outcome::Gone,
        400 if unregistered => Outcome::Gone,
        401 => return Answer::Unauthorized(said),
        429 | 500..=599 => Outcome::Retry {
            after: retry_after(headers, Utc::now()),
            reason: said,
        },
        _ => Outcome::Refused(said),
    })
}

enum Answer {
    Outcome(Outcome),
    Unauthorized(String),
}

fn clip(text: &str) -> &str {
    match text.char_indices().nth(200) {
        Some((at, _)) => &text[..at],
        None => text,
    }
}

#[async_trait::async_trait]
impl Provider for Fcm {
    async fn send(&self, to: Address<'_>, push: &Push) -> Outcome {
        let Address::Fcm { token: device } = to else {
            return Outcome::Refused("FCM sends only to FCM registration tokens".into());
        };
        let access = match self.access_token().await {
            Ok(token) => token,
            Err(outcome) => return outcome,
        };
        let response = self
            .client
            .post(format!(
                "{}/v1/projects/{}/messages:send",
                self.settings.url, self.settings.project_id
            ))
            .bearer_auth(&access)
            .json(&message(device, push, Utc::now()))
            .send()
            .await;
        let response = match response {
            Ok(response) => response,
            Err(err) => return outcome_of_error(&err),
        };
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.text().await.unwrap_or_default();
        match outcome(status, &headers, &body) {
            Answer::Outcome(outcome) => outcome,
            Answer::Unauthorized(reason) => {
                self.forget_token(&access).await;
                Outcome::Retry {
                    after: None,
                    reason,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderMap, HeaderValue, RETRY_AFTER};
    use std::collections::{BTreeMap, HashMap};

    #[test]
    fn message_carries_notification_data_and_android_options() {
        let now = Utc::now();
        let push = Push {
            title: "Hi".into(),
            body: "There".into(),
            badge: 2,
            collapse_key: Some("event:1".into()),
            data: BTreeMap::from([("kind".to_owned(), "EVENT_CHANGED".to_owned())]),
            expires_at: now + chrono::Duration::seconds(600),
        };
        assert_eq!(
            message("device", &push, now),
            json!({ "message": {
                "token": "device",
                "notification": { "title": "Hi", "body": "There" },
                "data": { "kind": "EVENT_CHANGED" },
                "android": { "collapse_key": "event:1", "ttl": "600s", "priority": "HIGH" },
            }})
        );
        let late = Push {
            collapse_key: None,
            expires_at: now - chrono::Duration::seconds(5),
            ..push
        };
        assert_eq!(
            message("device", &late, now)["message"]["android"],
            json!({ "ttl": "0s", "priority": "HIGH" })
        );
    }

    #[test]
    fn answers_map_to_outcomes() {
        let headers = HeaderMap::new();
        let of = |code: u16, body: &str| match outcome(
            StatusCode::from_u16(code).unwrap(),
            &headers,
            body,
        ) {
            Answer::Outcome(outcome) => outcome,
            Answer::Unauthorized(_) => Outcome::Refused("unauthorized".into()),
        };
        let unregistered = |code: u16, status: &str| {
            json!({ "error": { "code": code, "message": "gone", "status": status, "details": [
                { "@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError",
                  "errorCode": "UNREGISTERED" }
            ]}})
            .to_string()
        };
        assert_eq!(
            of(200, r#"{"name":"projects/x/messages/1"}"#),
            Outcome::Sent
        );
        assert_eq!(of(404, &unregistered(404, "NOT_FOUND")), Outcome::Gone);
        assert_eq!(
            of(404, r#"{"error":{"code":404,"status":"NOT_FOUND"}}"#),
            Outcome::Gone
        );
        assert_eq!(
            of(400, &unregistered(400, "INVALID_ARGUMENT")),
            Outcome::Gone
        );
        assert!(matches!(
            of(400, r#"{"error":{"code":400,"status":"INVALID_ARGUMENT"}}"#),
            Outcome::Refused(_)
        ));
        assert!(matches!(of(404, "<html>"), Outcome::Refused(_)));
        assert_eq!(of(401, "{}"), Outcome::Refused("unauthorized".into()));
        assert!(matches!(of(403, "{}"), Outcome::Refused(_)));
        assert!(matches!(of(500, ""), Outcome::Retry { after: None, .. }));
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, HeaderValue::from_static("12"));
        assert!(matches!(
            outcome(StatusCode::SERVICE_UNAVAILABLE, &headers, ""),
            Answer::Outcome(Outcome::Retry { after: Some(after), .. }) if after == Duration::from_secs(12)
        ));
    }

    #[test]
    fn settings_are_a_path_or_the_json_itself() {
        let lookup = |pairs: Vec<(&str, String)>| {
            let map: HashMap<String, String> =
                pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
            FcmSettings::from_lookup(&move |name| map.get(name).cloned())
        };
        assert!(lookup(vec![]).unwrap().is_none());
        assert_eq!(
            lookup(vec![(SETTING, "/nowhere/account.json".into())])
                .unwrap_err()
                .setting,
            SETTING
        );
        assert_eq!(
            lookup(vec![(SETTING, "{\"project_id\": 1}".into())])
                .unwrap_err()
                .setting,
            SETTING
        );
        let account = json!({
            "type": "service_account",
            "project_id": "kith-test",
            "client_email": "push@kith-test.iam.gserviceaccount.com",
            "private_key": "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n",
        });
        let err = lookup(vec![(SETTING, account.to_string())]).unwrap_err();
        assert!(err.message.contains("private_key"), "{err}");

        let key = include_str!("../../../tests/api/helpers/push_services/fcm_test_key.pem");
        let mut account = account;
        account["private_key"] = json!(key);
        let settings = lookup(vec![(SETTING, account.to_string())])
            .unwrap()
            .unwrap();
        assert_eq!(settings.project_id, "kith-test");
        assert_eq!(settings.token_uri, DEFAULT_TOKEN_URI);
        assert_eq!(settings.url, DEFAULT_URL);
        let debug = format!("{settings:?}");
        assert!(
            debug.contains("<redacted>") && !debug.contains("PRIVATE"),
            "{debug}"
        );

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("account.json");
        std::fs::write(&path, account.to_string()).unwrap();
        let path = path.to_str().unwrap().to_owned();
        let settings = lookup(vec![
            (SETTING, path),
            ("KITH_FCM_URL", "http://127.0.0.1:9/".into()),
        ])
        .unwrap()
        .unwrap();
        assert_eq!(settings.url, "http://127.0.0.1:9");
    }
}
