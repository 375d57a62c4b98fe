//! Web Push: RFC 8030 delivery of an RFC 8291 encrypted message (`aes128gcm`, RFC 8188)
//! with RFC 8292 VAPID identification, to whatever push service a browser's (or a
//! UnifiedPush distributor's) subscription names.
//!
//! Everything is pure Rust: P-256 ECDH and ECDSA from `p256`, HKDF-SHA256, AES-128-GCM.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes128Gcm, Nonce};
use base64::Engine as _;
use base64::alphabet::URL_SAFE;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use chrono::{DateTime, Utc};
use hkdf::Hkdf;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::{PublicKey, SecretKey};
use rand::RngCore;
use sha2::{Digest, Sha256};

use super::{Address, Outcome, Provider, Push, outcome_of_error, outcome_of_status};
use crate::config::ConfigError;

/// Base64url as Web Push writes it (no padding), read with or without padding.
const B64: GeneralPurpose = GeneralPurpose::new(
    &URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The record size announced in the header. One record carries the whole message.
const RECORD_SIZE: u32 = 4096;
/// The salt, the record size, the key id's length and the 65-byte key id (RFC 8188 §2.1).
const HEADER_LEN: usize = 16 + 4 + 1 + 65;
/// The AES-GCM tag.
const TAG_LEN: usize = 16;
/// The most a push service must accept as a body (RFC 8291 §4), header included.
const MAX_BODY: usize = 4096;
/// The largest JSON payload: [`MAX_BODY`] less the header, the tag and the delimiter. A
/// larger one is refused rather than sent to a service free to reject it.
pub const MAX_PLAINTEXT: usize = MAX_BODY - HEADER_LEN - TAG_LEN - 1;

/// How long a VAPID token is valid (RFC 8292 allows at most 24 hours).
const TOKEN_LIFETIME: chrono::Duration = chrono::Duration::hours(12);
/// A cached token is replaced this long before it expires, so none arrives stale.
const TOKEN_MARGIN: chrono::Duration = chrono::Duration::hours(1);
/// Tokens are kept for at most this many push service origins (there are a handful).
const MAX_CACHED_ORIGINS: usize = 64;

const PRIVATE_KEY_SETTING: &str = "KITH_VAPID_PRIVATE_KEY";
const SUBJECT_SETTING: &str = "KITH_VAPID_SUBJECT";

/// The server's VAPID identity (RFC 8292): its P-256 key and a contact URL.
#[derive(Clone)]
pub struct VapidSettings {
    private_key: SigningKey,
    subject: String,
}

impl std::fmt::Debug for VapidSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VapidSettings")
            .field("private_key", &"<redacted>")
            .field("subject", &self.subject)
            .finish()
    }
}

impl VapidSettings {
    /// `KITH_VAPID_PRIVATE_KEY` (the raw 32-byte P-256 private key, base64url, as
    /// `web-push generate-vapid-keys` prints it) and `KITH_VAPID_SUBJECT` (a `mailto:` or
    /// `https:` URL where the push services can reach the operator). Both or neither:
    /// without them Web Push is off.
    pub fn from_lookup(
        get: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Option<VapidSettings>, ConfigError> {
        let read = |name: &str| {
            get(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        match (read(PRIVATE_KEY_SETTING), read(SUBJECT_SETTING)) {
            (None, None) => Ok(None),
            (Some(key), Some(subject)) => Self::new(&key, &subject).map(Some),
            (Some(_), None) => Err(bad(
                SUBJECT_SETTING,
                format!("must be set with {PRIVATE_KEY_SETTING}"),
            )),
            (None, Some(_)) => Err(bad(
                PRIVATE_KEY_SETTING,
                format!("must be set with {SUBJECT_SETTING}"),
            )),
        }
    }

    /// The settings from their two values, checked as [`VapidSettings::from_lookup`] does.
    pub fn new(private_key: &str, subject: &str) -> Result<VapidSettings, ConfigError> {
        let private_key = B64
            .decode(private_key.trim())
            .ok()
            .filter(|bytes| bytes.len() == 32)
            .and_then(|bytes| SigningKey::from_slice(&bytes).ok())
            .ok_or_else(|| {
                bad(
                    PRIVATE_KEY_SETTING,
                    "must be a P-256 private key: 32 bytes, base64url",
                )
            })?;
        let subject = subject.trim();
        if !subject_is_valid(subject) {
            return Err(bad(
                SUBJECT_SETTING,
                "must be a mailto: address or an https: URL",
            ));
        }
        Ok(VapidSettings {
            private_key,
            subject: subject.to_owned(),
        })
    }

    /// The public key, base64url of the uncompressed point: what a browser is given as
    /// `applicationServerKey`.
    pub fn public_key(&self) -> String {
        B64.encode(
            self.private_key
                .verifying_key()
                .to_encoded_point(false)
                .as_bytes(),
        )
    }
}

fn bad(setting: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        setting,
        message: message.into(),
    }
}

fn subject_is_valid(subject: &str) -> bool {
    match url::Url::parse(subject) {
        Ok(url) if url.scheme() == "mailto" => {
            let address = url.path();
            address
                .split_once('@')
                .is_some_and(|(user, host)| !user.is_empty() && !host.is_empty())
        }
        Ok(url) if url.scheme() == "https" => url.host().is_some(),
        _ => false,
    }
}

/// The Web Push [`Provider`].
pub struct WebPush {
    client: reqwest::Client,
    settings: VapidSettings,
    public_key: String,
    /// VAPID tokens by audience (push service origin), with their expiry.
    tokens: Mutex<HashMap<String, (String, DateTime<Utc>)>>,
}

impl std::fmt::Debug for WebPush {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebPush")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl WebPush {
    pub fn new(settings: VapidSettings) -> Self {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .connect_timeout(Duration::from_secs(5))
            // A push service answers itself; a redirect would carry the token elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("a reqwest client with rustls");
        WebPush {
            client,
            public_key: settings.public_key(),
            settings,
            tokens: Mutex::new(HashMap::new()),
        }
    }

    /// The VAPID public key, base64url of the uncompressed point (`serverInfo.vapidPublicKey`).
    pub fn public_key(&self) -> String {
        self.public_key.clone()
    }

    /// A VAPID token for `audience`, from the cache while it has an hour or more to live.
    fn token(&self, audience: &str, now: DateTime<Utc>) -> String {
        let mut tokens = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((token, expires)) = tokens.get(audience)
            && *expires - TOKEN_MARGIN > now
        {
            return token.clone();
        }
        let expires = now + TOKEN_LIFETIME;
        let token = vapid_token(
            &self.settings.private_key,
            audience,
            expires.timestamp(),
            &self.settings.subject,
        );
        if tokens.len() >= MAX_CACHED_ORIGINS {
            tokens.retain(|_, (_, at)| *at - TOKEN_MARGIN > now);
            if tokens.len() >= MAX_CACHED_ORIGINS {
                tokens.clear();
            }
        }
        tokens.insert(audience.to_owned(), (token.clone(), expires));
        token
    }

    async fn send_web_push(
        &self,
        endpoint: &str,
        p256dh: &str,
        auth: &str,
        push: &Push,
    ) -> Outcome {
        let now = Utc::now();
        let (ua_public, auth) = match subscription_keys(p256dh, auth) {
            Ok(keys) => keys,
            Err(message) => return Outcome::Refused(message),
        };
        let Some(audience) = origin(endpoint) else {
            return Outcome::Refused(format!("not an http(s) endpoint: {endpoint}"));
        };
        let plaintext = payload(push);
        if plaintext.len() > MAX_PLAINTEXT {
            return Outcome::Refused(format!(
                "payload of {} bytes, more than the {MAX_PLAINTEXT} a push service must take",
                plaintext.len()
            ));
        }
        let body = encrypt(
            &plaintext,
            &ua_public,
            &auth,
            &random_salt(),
            &random_secret(),
        );
        let authorization = format!(
            "vapid t={}, k={}",
            self.token(&audience, now),
            self.public_key
        );
        let ttl = (push.expires_at - now).num_seconds().max(0);
        let mut request = self
            .client
            .post(endpoint)
            .header(reqwest::header::AUTHORIZATION, authorization)
            .header("TTL", ttl.to_string())
            .header("Urgency", "normal")
            .header(reqwest::header::CONTENT_ENCODING, "aes128gcm")
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .body(body);
        if let Some(key) = &push.collapse_key {
            request = request.header("Topic", topic(key));
        }
        let response = match request.send().await {
            Ok(response) => response,
            Err(err) => return outcome_of_error(&err),
        };
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap_or_default();
        outcome_of_status(status, &headers, &text, Utc::now())
    }
}

#[async_trait::async_trait]
impl Provider for WebPush {
    async fn send(&self, to: Address<'_>, push: &Push) -> Outcome {
        match to {
            Address::WebPush {
                endpoint,
                p256dh,
                auth,
            } => self.send_web_push(endpoint, p256dh, auth, push).await,
            // Not its token in the log: another platform's address is still a secret.
            Address::Apns { .. } | Address::Fcm { .. } => {
                Outcome::Refused("not a Web Push subscription".to_owned())
            }
        }
    }
}

/// Whether a subscription's keys can be used: `p256dh` a P-256 point (uncompressed,
/// base64url) and `auth` 16 bytes (base64url). Worth checking when a subscription is
/// registered, since a send to bad keys is refused every time.
pub fn check_subscription_keys(p256dh: &str, auth: &str) -> Result<(), String> {
    subscription_keys(p256dh, auth).map(|_| ())
}

fn subscription_keys(p256dh: &str, auth: &str) -> Result<(PublicKey, [u8; 16]), String> {
    let point = B64
        .decode(p256dh)
        .map_err(|_| "p256dh is not base64url".to_owned())?;
    if point.len() != 65 || point[0] != 0x04 {
        return Err("p256dh is not an uncompressed P-256 point".to_owned());
    }
    let public =
        PublicKey::from_sec1_bytes(&point).map_err(|_| "p256dh is not on P-256".to_owned())?;
    let auth: [u8; 16] = B64
        .decode(auth)
        .ok()
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or_else(|| "auth is not 16 bytes of base64url".to_owned())?;
    Ok((public, auth))
}

/// `scheme://host[:port]` of an http(s) URL: a VAPID token's audience.
fn origin(endpoint: &str) -> Option<String> {
    let url = url::Url::parse(endpoint).ok()?;
    if !matches!(url.scheme(), "https" | "http") {
        return None;
    }
    let origin = url.origin();
    origin.is_tuple().then(|| origin.ascii_serialization())
}

/// A `Topic` (RFC 8030 §5.4: at most 32 base64url characters) that stands for a collapse
/// key of any length: base64url of the first 24 bytes of its SHA-256.
fn topic(collapse_key: &str) -> String {
    B64.encode(&Sha256::digest(collapse_key.as_bytes())[..24])
}

/// What the service worker receives (`event.data.json()`).
fn payload(push: &Push) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "title": push.title,
        "body": push.body,
        "badge": push.badge,
        "data": push.data,
    }))
    .expect("JSON of strings and numbers")
}

/// An RFC 8292 token: an ES256 JWT for `audience`, expiring at `expires` (Unix seconds).
fn vapid_token(key: &SigningKey, audience: &str, expires: i64, subject: &str) -> String {
    let header = B64.encode(br#"{"typ":"JWT","alg":"ES256"}"#);
    let claims = B64.encode(
        serde_json::to_vec(&serde_json::json!({
            "aud": audience,
            "exp": expires,
            "sub": subject,
        }))
        .expect("JSON of strings and a number"),
    );
    let signing_input = format!("{header}.{claims}");
    let signature: Signature = key.sign(signing_input.as_bytes());
    format!("{signing_input}.{}", B64.encode(signature.to_bytes()))
}

fn random_salt() -> [u8; 16] {
    let mut salt = [0; 16];
    rand::rng().fill_bytes(&mut salt);
    salt
}

/// A fresh P-256 key for one message.
fn random_secret() -> SecretKey {
    loop {
        let mut bytes = [0; 32];
        rand::rng().fill_bytes(&mut bytes);
        // Fails only for zero or a value past the group order: about 2^-32 of the time.
        if let Ok(secret) = SecretKey::from_slice(&bytes) {
            return secret;
        }
    }
}

/// RFC 8291 §3 with the `aes128gcm` coding of RFC 8188: the whole body of the request,
/// header and one record, for the user agent's `ua_public` key and `auth` secret, from the
/// application server's one-time key `as_secret` and `salt`. `plaintext` must be at most
/// [`MAX_PLAINTEXT`] bytes.
fn encrypt(
    plaintext: &[u8],
    ua_public: &PublicKey,
    auth: &[u8; 16],
    salt: &[u8; 16],
    as_secret: &SecretKey,
) -> Vec<u8> {
    let ua_point = ua_public.to_encoded_point(false);
    let as_point = as_secret.public_key().to_encoded_point(false);
    let shared = p256::ecdh::diffie_hellman(as_secret.to_nonzero_scalar(), ua_public.as_affine());

    // §3.3: the input keying material, from the shared secret and the auth secret.
    let mut key_info = Vec::with_capacity(14 + 65 + 65);
    key_info.extend_from_slice(b"WebPush: info\0");
    key_info.extend_from_slice(ua_point.as_bytes());
    key_info.extend_from_slice(as_point.as_bytes());
    let mut ikm = [0u8; 32];
    Hkdf::<Sha256>::new(Some(auth), shared.raw_secret_bytes())
        .expand(&key_info, &mut ikm)
        .expect("32 bytes is a valid HKDF-SHA256 length");

    // §3.4 and RFC 8188 §2.2–2.3: the content encryption key and the nonce.
    let prk = Hkdf::<Sha256>::new(Some(salt), &ikm);
    let mut cek = [0u8; 16];
    prk.expand(b"Content-Encoding: aes128gcm\0", &mut cek)
        .expect("16 bytes is a valid HKDF-SHA256 length");
    let mut nonce = [0u8; 12];
    prk.expand(b"Content-Encoding: nonce\0", &mut nonce)
        .expect("12 bytes is a valid HKDF-SHA256 length");

    // One record, the last: the plaintext and the delimiter 2, no further padding. Its
    // sequence number is 0, so the nonce is used as derived.
    let mut record = Vec::with_capacity(plaintext.len() + 1);
    record.extend_from_slice(plaintext);
    record.push(0x02);
    let sealed = Aes128Gcm::new_from_slice(&cek)
        .expect("a 16-byte key")
        .encrypt(&Nonce::from(nonce), record.as_slice())
        .expect("AES-GCM encrypts any record this small");

    let mut body = Vec::with_capacity(HEADER_LEN + sealed.len());
    body.extend_from_slice(salt);
    body.extend_from_slice(&RECORD_SIZE.to_be_bytes());
    body.push(65);
    body.extend_from_slice(as_point.as_bytes());
    body.extend_from_slice(&sealed);
    body
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::ecdsa::VerifyingKey;
    use p256::ecdsa::signature::Verifier;

    fn b64(text: &str) -> Vec<u8> {
        B64.decode(text).unwrap()
    }

    /// RFC 8291 Appendix A: the same keys, auth secret and salt give the same bytes.
    #[test]
    fn encrypts_the_rfc_8291_example() {
        let as_secret =
            SecretKey::from_slice(&b64("yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw")).unwrap();
        assert_eq!(
            B64.encode(as_secret.public_key().to_encoded_point(false).as_bytes()),
            "BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8"
        );
        let (ua_public, auth) = subscription_keys(
            "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4",
            "BTBZMqHH6r4Tts7J_aSIgg",
        )
        .unwrap();
        let salt: [u8; 16] = b64("DGv6ra1nlYgDCS1FRnbzlw").try_into().unwrap();
        let body = encrypt(
            b"When I grow up, I want to be a watermelon",
            &ua_public,
            &auth,
            &salt,
            &as_secret,
        );
        assert_eq!(
            B64.encode(&body),
            "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN"
        );
    }

    fn settings() -> VapidSettings {
        // The RFC 8291 example's application server key, as a VAPID key.
        VapidSettings::new(
            "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw",
            "mailto:ops@kith.example",
        )
        .unwrap()
    }

    #[test]
    fn vapid_tokens_are_es256_jwts_for_the_origin() {
        let settings = settings();
        let token = vapid_token(
            &settings.private_key,
            "https://push.example.net",
            1_900_000_000,
            "mailto:ops@kith.example",
        );
        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(parts.len(), 3);
        let header: serde_json::Value = serde_json::from_slice(&b64(parts[0])).unwrap();
        assert_eq!(header["alg"], "ES256");
        assert_eq!(header["typ"], "JWT");
        let claims: serde_json::Value = serde_json::from_slice(&b64(parts[1])).unwrap();
        assert_eq!(
            claims,
            serde_json::json!({
                "aud": "https://push.example.net",
                "exp": 1_900_000_000,
                "sub": "mailto:ops@kith.example",
            })
        );
        let key = VerifyingKey::from_sec1_bytes(&b64(&settings.public_key())).unwrap();
        let signature = Signature::from_slice(&b64(parts[2])).unwrap();
        key.verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &signature)
            .unwrap();
    }

    #[test]
    fn tokens_are_cached_per_origin_until_near_expiry() {
        let push = WebPush::new(settings());
        let now = Utc::now();
        let first = push.token("https://a.example", now);
        assert_eq!(
            push.token("https://a.example", now + chrono::Duration::hours(10)),
            first
        );
        assert_ne!(push.token("https://b.example", now), first);
        let later = push.token(
            "https://a.example",
            now + chrono::Duration::hours(11) + chrono::Duration::seconds(1),
        );
        assert_ne!(later, first);
    }

    #[test]
    fn origins_keep_the_port_and_drop_the_path() {
        assert_eq!(
            origin("https://fcm.googleapis.com/fcm/send/abc").as_deref(),
            Some("https://fcm.googleapis.com")
        );
        assert_eq!(
            origin("http://127.0.0.1:4321/push/x").as_deref(),
            Some("http://127.0.0.1:4321")
        );
        assert_eq!(
            origin("https://push.example:443/x").as_deref(),
            Some("https://push.example")
        );
        assert_eq!(origin("mailto:someone@example.com"), None);
        assert_eq!(origin("not a url"), None);
    }

    #[test]
    fn topics_are_32_url_safe_characters() {
        let topic = topic("event:0190d1a8-0000-7000-8000-000000000000:changed");
        assert_eq!(topic.len(), 32);
        assert!(
            topic
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        assert_eq!(
            topic,
            super::topic("event:0190d1a8-0000-7000-8000-000000000000:changed")
        );
        assert_ne!(topic, super::topic("event:other"));
    }

    #[test]
    fn settings_are_both_or_neither_and_checked() {
        let lookup = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        let key = "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw";
        assert!(VapidSettings::from_lookup(&lookup(&[])).unwrap().is_none());
        let ok = VapidSettings::from_lookup(&lookup(&[
            (
                "KITH_VAPID_PRIVATE_KEY",
                "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw",
            ),
            ("KITH_VAPID_SUBJECT", "https://kith.example/contact"),
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(
            ok.public_key(),
            "BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8"
        );
        assert!(!format!("{ok:?}").contains(key));
        let err = VapidSettings::from_lookup(&lookup(&[(
            "KITH_VAPID_PRIVATE_KEY",
            "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw",
        )]))
        .unwrap_err();
        assert_eq!(err.setting, "KITH_VAPID_SUBJECT");
        let err = VapidSettings::from_lookup(&lookup(&[("KITH_VAPID_SUBJECT", "mailto:a@b.c")]))
            .unwrap_err();
        assert_eq!(err.setting, "KITH_VAPID_PRIVATE_KEY");
        for bad_key in [
            "",
            "short",
            "!!!!",
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        ] {
            let err = VapidSettings::new(bad_key, "mailto:a@b.c").unwrap_err();
            assert_eq!(err.setting, "KITH_VAPID_PRIVATE_KEY", "{bad_key:?}");
        }
        for bad_subject in [
            "ops@kith.example",
            "http://kith.example",
            "mailto:",
            "https://",
        ] {
            let err = VapidSettings::new(key, bad_subject).unwrap_err();
            assert_eq!(err.setting, "KITH_VAPID_SUBJECT", "{bad_subject:?}");
        }
    }

    #[test]
    fn bad_subscription_keys_are_named() {
        assert!(check_subscription_keys(
            "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4",
            "BTBZMqHH6r4Tts7J_aSIgg"
        )
        .is_ok());
        assert!(
            check_subscription_keys("BCVx", "BTBZMqHH6r4Tts7J_aSIgg")
                .unwrap_err()
                .contains("p256dh")
        );
        assert!(check_subscription_keys(
            "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4",
            "BTBZ"
        )
        .unwrap_err()
        .contains("auth"));
    }
}
