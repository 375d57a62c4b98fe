//! Apple Push Notification service, token-based: each request carries an ES256 provider
//! token signed with the team's `.p8` key, over HTTP/2 (Apple speaks nothing else).
//!
//! Settings: `KITH_APNS_KEY_FILE` (the `.p8` file, read and checked at start-up),
//! `KITH_APNS_KEY_ID`, `KITH_APNS_TEAM_ID`, `KITH_APNS_TOPIC` (the app's bundle id) and
//! `KITH_APNS_URL` (Apple's production host unless set; its sandbox is
//! `https://api.sandbox.push.apple.com`).

use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use p256::pkcs8::DecodePrivateKey;
use reqwest::StatusCode;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::{Address, Outcome, Provider, Push, outcome_of_error, retry_after};
use crate::config::ConfigError;

/// Apple's production host.
pub const DEFAULT_URL: &str = "https://api.push.apple.com";
/// A provider token is reused this long: Apple refuses one older than an hour, and answers
/// `TooManyProviderTokenUpdates` to a sender that changes it more than once in 20 minutes.
pub const TOKEN_LIFETIME: Duration = Duration::from_secs(50 * 60);
/// Apple's bound on `apns-collapse-id`.
const MAX_COLLAPSE_ID_BYTES: usize = 64;
/// A request that has had no answer by then is worth another try later.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// What APNs needs: the signing key and the names that go with it.
#[derive(Clone)]
pub struct ApnsSettings {
    /// The `.p8` key's identifier (`kid`).
    pub key_id: String,
    /// The Apple Developer team (`iss`).
    pub team_id: String,
    /// The app's bundle id (`apns-topic`).
    pub topic: String,
    /// Where requests go, without a trailing slash: `https://` is HTTP/2 over TLS, `http://`
    /// HTTP/2 in plain text (prior knowledge), for a local stand-in.
    pub url: String,
    key: SigningKey,
}

impl std::fmt::Debug for ApnsSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApnsSettings")
            .field("key_id", &self.key_id)
            .field("team_id", &self.team_id)
            .field("topic", &self.topic)
            .field("url", &self.url)
            .field("key", &"<redacted>")
            .finish()
    }
}

impl ApnsSettings {
    /// Reads the settings through `get`: `None` when `KITH_APNS_KEY_FILE` is unset (no APNs),
    /// else the key file must hold a PKCS#8 P-256 key and the key id, team id and topic must
    /// be set.
    pub fn from_lookup(
        get: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Option<ApnsSettings>, ConfigError> {
        let Some(path) = get("KITH_APNS_KEY_FILE") else {
            return Ok(None);
        };
        let pem = std::fs::read_to_string(&path).map_err(|err| ConfigError {
            setting: "KITH_APNS_KEY_FILE",
            message: format!("cannot read {path}: {err}"),
        })?;
        let key = SigningKey::from_pkcs8_pem(&pem).map_err(|err| ConfigError {
            setting: "KITH_APNS_KEY_FILE",
            message: format!("{path} is not a PKCS#8 PEM P-256 key (an APNs .p8 file): {err}"),
        })?;
        let required = |setting: &'static str| {
            get(setting)
                .map(|value| value.trim().to_owned())
                .filter(|value| !value.is_empty())
                .ok_or_else(|| ConfigError {
                    setting,
                    message: "must be set when KITH_APNS_KEY_FILE is".into(),
                })
        };
        Ok(Some(ApnsSettings {
            key_id: required("KITH_APNS_KEY_ID")?,
            team_id: required("KITH_APNS_TEAM_ID")?,
            topic: required("KITH_APNS_TOPIC")?,
            url: base_url(
                "KITH_APNS_URL",
                get("KITH_APNS_URL").as_deref().unwrap_or(DEFAULT_URL),
            )?,
            key,
        }))
    }
}

/// An `http://` or `https://` URL without a trailing slash, or the setting's error.
pub(super) fn base_url(setting: &'static str, text: &str) -> Result<String, ConfigError> {
    let text = text.trim().trim_end_matches('/');
    match url::Url::parse(text) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.has_host() => {
            Ok(text.to_owned())
        }
        _ => Err(ConfigError {
            setting,
            message: format!("{text:?} is not an http:// or https:// URL"),
        }),
    }
}

/// The APNs provider.
pub struct Apns {
    settings: ApnsSettings,
    client: reqwest::Client,
    /// The provider token in use and when it was made.
    token: Mutex<Option<(String, Instant)>>,
}

impl Apns {
    pub fn new(settings: ApnsSettings) -> Self {
        let client = reqwest::Client::builder()
            .http2_prior_knowledge()
            .timeout(REQUEST_TIMEOUT)
            .build()
            .expect("the HTTP client (its TLS backend) cannot be set up");
        Apns {
            settings,
            client,
            token: Mutex::new(None),
        }
    }

    /// The provider token: the one in use while it is younger than [`TOKEN_LIFETIME`], else
    /// a new one.
    fn provider_token(&self) -> String {
        let mut cached = self.token.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((token, made)) = cached.as_ref()
            && made.elapsed() < TOKEN_LIFETIME
        {
            return token.clone();
        }
        let token = provider_token(&self.settings, Utc::now().timestamp());
        *cached = Some((token.clone(), Instant::now()));
        token
    }

    /// Apple said the token is too old: the next send makes another (unless another send
    /// has already replaced it).
    fn forget_token(&self, token: &str) {
        let mut cached = self.token.lock().unwrap_or_else(|e| e.into_inner());
        if cached.as_ref().is_some_and(|(t, _)| t == token) {
            *cached = None;
        }
    }
}

/// The ES256 JWT Apple asks for: header `{alg, kid}`, claims `{iss, iat}`, and the raw
/// `r || s` signature.
fn provider_token(settings: &ApnsSettings, issued_at: i64) -> String {
    let header = json!({ "alg": "ES256", "kid": settings.key_id });
    let claims = json!({ "iss": settings.team_id, "iat": issued_at });
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let signature: Signature = settings.key.sign(signing_input.as_bytes());
    format!(
        "{signing_input}.{}",
        URL_SAFE_NO_PAD.encode(signature.to_bytes())
    )
}

/// The JSON Apple delivers: `aps` (alert, badge, sound) and Kith's data beside it.
pub fn payload(push: &Push) -> Value {
    let mut payload = Map::new();
    payload.insert(
        "aps".into(),
        json!({
            "alert": { "title": push.title, "body": push.body },
            "badge": push.badge,
            "sound": "default",
        }),
    );
    for (key, value) in &push.data {
        if key != "aps" {
            payload.insert(key.clone(), Value::String(value.clone()));
        }
    }
    Value::Object(payload)
}

/// `apns-collapse-id`: the key itself when it is a header value of at most 64 bytes, else
/// its SHA-256 in hex (64 bytes), so distinct keys stay distinct.
pub fn collapse_id(key: &str) -> String {
    if key.len() <= MAX_COLLAPSE_ID_BYTES && key.bytes().all(|b| b.is_ascii_graphic()) {
        key.to_owned()
    } else {
        hex::encode(Sha256::digest(key.as_bytes()))
    }
}

/// What an APNs answer means. `ExpiredProviderToken` is told apart so the caller can drop
/// its token.
fn outcome(status: StatusCode, headers: &reqwest::header::HeaderMap, body: &str) -> Answer {
    if status.is_success() {
        return Answer::Outcome(Outcome::Sent);
    }
    let reason = serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| v.get("reason")?.as_str().map(str::to_owned))
        .unwrap_or_default();
    let said = format!("{status} {reason}");
    Answer::Outcome(match (status.as_u16(), reason.as_str()) {
        (410, _) | (400, "BadDeviceToken" | "DeviceTokenNotForTopic") => Outcome::Gone,
        (403, "ExpiredProviderToken") => return Answer::ExpiredToken(said),
        (429, _) | (500..=599, _) => Outcome::Retry {
            after: retry_after(headers, Utc::now()),
            reason: said,
        },
        _ => Outcome::Refused(said),
    })
}

enum Answer {
    Outcome(Outcome),
    ExpiredToken(String),
}

#[async_trait::async_trait]
impl Provider for Apns {
    async fn send(&self, to: Address<'_>, push: &Push) -> Outcome {
        let Address::Apns { token: device } = to else {
            return Outcome::Refused("APNs sends only to APNs device tokens".into());
        };
        // A device token is hex; anything else can never be delivered (and must not
        // change the path).
        if device.is_empty() || !device.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Outcome::Gone;
        }
        let jwt = self.provider_token();
        let mut request = self
            .client
            .post(format!("{}/3/device/{device}", self.settings.url))
            .header(reqwest::header::AUTHORIZATION, format!("bearer {jwt}"))
            .header("apns-topic", &self.settings.topic)
            .header("apns-push-type", "alert")
            .header("apns-priority", "10")
            .header(
                "apns-expiration",
                push.expires_at.timestamp().max(0).to_string(),
            )
            .json(&payload(push));
        if let Some(key) = &push.collapse_key {
            request = request.header("apns-collapse-id", collapse_id(key));
        }
        let response = match request.send().await {
            Ok(response) => response,
            Err(err) => return outcome_of_error(&err),
        };
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.text().await.unwrap_or_default();
        match outcome(status, &headers, &body) {
            Answer::Outcome(outcome) => outcome,
            Answer::ExpiredToken(reason) => {
                self.forget_token(&jwt);
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
    use p256::ecdsa::VerifyingKey;
    use p256::ecdsa::signature::Verifier;
    use p256::pkcs8::{EncodePrivateKey, LineEnding};
    use reqwest::header::{HeaderMap, HeaderValue, RETRY_AFTER};
    use std::collections::{BTreeMap, HashMap};

    fn key() -> SigningKey {
        SigningKey::from_slice(&[7u8; 32]).unwrap()
    }

    fn settings() -> ApnsSettings {
        ApnsSettings {
            key_id: "ABC123DEFG".into(),
            team_id: "TEAM123456".into(),
            topic: "app.kith".into(),
            url: DEFAULT_URL.into(),
            key: key(),
        }
    }

    #[test]
    fn provider_token_is_es256_over_header_and_claims() {
        let token = provider_token(&settings(), 1_700_000_000);
        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(parts.len(), 3);
        let header: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
        assert_eq!(header, json!({ "alg": "ES256", "kid": "ABC123DEFG" }));
        let claims: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        assert_eq!(claims, json!({ "iss": "TEAM123456", "iat": 1_700_000_000 }));
        let signature = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
        assert_eq!(signature.len(), 64, "raw r || s, not DER");
        let verifying = VerifyingKey::from(&key());
        verifying
            .verify(
                format!("{}.{}", parts[0], parts[1]).as_bytes(),
                &Signature::from_slice(&signature).unwrap(),
            )
            .unwrap();
    }

    #[test]
    fn provider_token_is_reused_until_forgotten() {
        let apns = Apns::new(settings());
        let first = apns.provider_token();
        assert_eq!(apns.provider_token(), first);
        apns.forget_token("another");
        assert_eq!(apns.provider_token(), first);
        apns.forget_token(&first);
        assert!(apns.token.lock().unwrap().is_none());
    }

    #[test]
    fn payload_has_aps_and_data_beside_it() {
        let push = Push {
            title: "Hi".into(),
            body: "There".into(),
            badge: 3,
            collapse_key: None,
            data: BTreeMap::from([
                ("kind".to_owned(), "EVENT_CHANGED".to_owned()),
                ("aps".to_owned(), "never".to_owned()),
            ]),
            expires_at: Utc::now(),
        };
        assert_eq!(
            payload(&push),
            json!({
                "aps": { "alert": { "title": "Hi", "body": "There" }, "badge": 3, "sound": "default" },
                "kind": "EVENT_CHANGED",
            })
        );
    }

    #[test]
    fn collapse_ids_fit_in_64_bytes() {
        assert_eq!(collapse_id("event:1"), "event:1");
        let long = "e".repeat(65);
        assert_eq!(collapse_id(&long).len(), 64);
        assert_ne!(collapse_id(&long), collapse_id(&"e".repeat(66)));
        assert_eq!(collapse_id("é").len(), 64);
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
            Answer::ExpiredToken(_) => Outcome::Refused("expired".into()),
        };
        assert_eq!(of(200, ""), Outcome::Sent);
        assert_eq!(of(410, r#"{"reason":"Unregistered"}"#), Outcome::Gone);
        assert_eq!(of(400, r#"{"reason":"BadDeviceToken"}"#), Outcome::Gone);
        assert_eq!(
            of(400, r#"{"reason":"DeviceTokenNotForTopic"}"#),
            Outcome::Gone
        );
        assert_eq!(
            of(400, r#"{"reason":"BadCollapseId"}"#),
            Outcome::Refused("400 Bad Request BadCollapseId".into())
        );
        assert_eq!(
            of(404, r#"{"reason":"BadPath"}"#),
            Outcome::Refused("404 Not Found BadPath".into())
        );
        assert_eq!(
            of(403, r#"{"reason":"ExpiredProviderToken"}"#),
            Outcome::Refused("expired".into())
        );
        assert!(matches!(
            of(403, r#"{"reason":"InvalidProviderToken"}"#),
            Outcome::Refused(_)
        ));
        assert!(matches!(of(503, ""), Outcome::Retry { after: None, .. }));
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, HeaderValue::from_static("30"));
        assert!(matches!(
            outcome(StatusCode::TOO_MANY_REQUESTS, &headers, r#"{"reason":"TooManyRequests"}"#),
            Answer::Outcome(Outcome::Retry { after: Some(after), .. }) if after == Duration::from_secs(30)
        ));
    }

    #[test]
    fn settings_come_from_the_environment() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("AuthKey.p8");
        std::fs::write(
            &path,
            key().to_pkcs8_pem(LineEnding::LF).unwrap().as_bytes(),
        )
        .unwrap();
        let path = path.to_str().unwrap().to_owned();
        let lookup = |pairs: &[(&str, &str)]| {
            let map: HashMap<String, String> = pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            ApnsSettings::from_lookup(&move |name| map.get(name).cloned())
        };
        assert!(lookup(&[]).unwrap().is_none());
        let full = [
            ("KITH_APNS_KEY_FILE", path.as_str()),
            ("KITH_APNS_KEY_ID", "ABC123DEFG"),
            ("KITH_APNS_TEAM_ID", "TEAM123456"),
            ("KITH_APNS_TOPIC", "app.kith"),
        ];
        let settings = lookup(&full).unwrap().unwrap();
        assert_eq!(settings.url, DEFAULT_URL);
        assert_eq!(settings.topic, "app.kith");
        let debug = format!("{settings:?}");
        assert!(debug.contains("<redacted>") && !debug.contains("BEGIN"));
        let err = lookup(&full[..3]).unwrap_err();
        assert_eq!(err.setting, "KITH_APNS_TOPIC");
        let err = lookup(&[("KITH_APNS_KEY_FILE", "/nowhere/AuthKey.p8")]).unwrap_err();
        assert_eq!(err.setting, "KITH_APNS_KEY_FILE");
        std::fs::write(&path, "not a key").unwrap();
        assert_eq!(lookup(&full).unwrap_err().setting, "KITH_APNS_KEY_FILE");
        let mut with_url = full.to_vec();
        with_url.push(("KITH_APNS_URL", "ftp://x"));
        std::fs::write(
            &path,
            key().to_pkcs8_pem(LineEnding::LF).unwrap().as_bytes(),
        )
        .unwrap();
        assert_eq!(lookup(&with_url).unwrap_err().setting, "KITH_APNS_URL");
        with_url.pop();
        with_url.push(("KITH_APNS_URL", "http://127.0.0.1:9/"));
        assert_eq!(
            lookup(&with_url).unwrap().unwrap().url,
            "http://127.0.0.1:9"
        );
    }
}
