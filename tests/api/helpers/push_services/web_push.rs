//! A Web Push service (RFC 8030) on a local port, standing in for the browsers' push
//! services: it holds one subscription's keys, checks each push as a real service and the
//! browser would (VAPID per RFC 8292, the `aes128gcm` body per RFC 8291, decrypted here with
//! code of its own, not the server's), records what it got, and answers what the test asks.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes128Gcm, Nonce};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use hmac::{Hmac, Mac};
use p256::ecdsa::signature::Verifier;
use p256::ecdsa::{Signature, VerifyingKey};
use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::{PublicKey, SecretKey};
use rand::RngCore;
use serde_json::Value;
use sha2::Sha256;

/// One push as the service got it.
#[derive(Debug, Clone)]
pub struct Received {
    /// Header names in lower case.
    pub headers: HashMap<String, String>,
    /// The VAPID token's claims, when its signature held.
    pub claims: Option<Value>,
    /// The `k=` of the `Authorization` header: the server's VAPID public key.
    pub vapid_key: Option<String>,
    /// The decrypted body, as JSON.
    pub payload: Option<Value>,
    /// What a real service or browser would have refused; empty when all was well.
    pub problems: Vec<String>,
}

struct Shared {
    origin: String,
    path: String,
    secret: SecretKey,
    auth: [u8; 16],
    answers: Mutex<VecDeque<(StatusCode, Option<u64>)>>,
    received: Mutex<Vec<Received>>,
}

pub struct WebPushService {
    shared: Arc<Shared>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for WebPushService {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// A random P-256 private key, raw and base64url: what `KITH_VAPID_PRIVATE_KEY` holds.
pub fn generate_vapid_key() -> String {
    B64.encode(random_secret().to_bytes())
}

/// The public key of a `KITH_VAPID_PRIVATE_KEY`: the uncompressed P-256 point, base64url,
/// as a browser's `applicationServerKey` takes it (worked out here, not by the server).
pub fn vapid_public_key(private_key: &str) -> String {
    let secret = SecretKey::from_slice(&B64.decode(private_key).unwrap()).unwrap();
    B64.encode(secret.public_key().to_encoded_point(false).as_bytes())
}

/// The app's settings (`KITH_VAPID_*`) for Web Push with this private key.
pub fn vapid_env(private_key: &str) -> Vec<(&'static str, String)> {
    vec![
        ("KITH_VAPID_PRIVATE_KEY", private_key.to_owned()),
        ("KITH_VAPID_SUBJECT", "mailto:ops@kith.example".to_owned()),
    ]
}

fn random_secret() -> SecretKey {
    loop {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        if let Ok(secret) = SecretKey::from_slice(&bytes) {
            return secret;
        }
    }
}

impl WebPushService {
    /// A service on 127.0.0.1 with one fresh subscription, answering 201 unless told.
    pub async fn start() -> WebPushService {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address: SocketAddr = listener.local_addr().unwrap();
        let mut auth = [0u8; 16];
        rand::rng().fill_bytes(&mut auth);
        let mut id = [0u8; 12];
        rand::rng().fill_bytes(&mut id);
        let shared = Arc::new(Shared {
            origin: format!("http://{address}"),
            path: format!("/push/{}", B64.encode(id)),
            secret: random_secret(),
            auth,
            answers: Mutex::new(VecDeque::new()),
            received: Mutex::new(Vec::new()),
        });
        let router = axum::Router::new()
            .fallback(receive)
            .with_state(shared.clone());
        let server = tokio::spawn(async move {
            axum::serve(listener, router).await.unwrap();
        });
        WebPushService { shared, server }
    }

    /// `scheme://host:port`: what a VAPID token's `aud` must be.
    pub fn origin(&self) -> String {
        self.shared.origin.clone()
    }

    /// The subscription as `PushSubscription.toJSON()` gives it: the endpoint, `p256dh` and
    /// `auth` (both base64url).
    pub fn subscription(&self) -> (String, String, String) {
        (
            format!("{}{}", self.shared.origin, self.shared.path),
            B64.encode(
                self.shared
                    .secret
                    .public_key()
                    .to_encoded_point(false)
                    .as_bytes(),
            ),
            B64.encode(self.shared.auth),
        )
    }

    /// The next push is answered with `status` (and `Retry-After: N` when given); answers
    /// queue up, and with none queued the service answers 201 Created.
    pub fn answer_next(&self, status: u16, retry_after: Option<u64>) {
        self.shared
            .answers
            .lock()
            .unwrap()
            .push_back((StatusCode::from_u16(status).unwrap(), retry_after));
    }

    /// Every push received so far, oldest first.
    pub fn received(&self) -> Vec<Received> {
        self.shared.received.lock().unwrap().clone()
    }

    /// Waits until `count` pushes were received, at most `within`, and returns them all.
    pub async fn wait_for(&self, count: usize, within: Duration) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let received = self.received();
            if received.len() >= count {
                return received;
            }
            if tokio::time::Instant::now() >= deadline {
                panic!(
                    "{} Web Push message(s) within {within:?}, not {count}",
                    received.len()
                );
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

async fn receive(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut got = Received {
        headers: headers
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_owned(),
                    value.to_str().unwrap_or("<not text>").to_owned(),
                )
            })
            .collect(),
        claims: None,
        vapid_key: None,
        payload: None,
        problems: Vec::new(),
    };
    if method != Method::POST {
        got.problems.push(format!("method {method}"));
    }
    if uri.path() != shared.path {
        got.problems
            .push(format!("no subscription at {}", uri.path()));
    }
    check_vapid(&shared, &mut got);
    match got.headers.get("ttl").map(|v| v.parse::<u64>()) {
        Some(Ok(_)) => {}
        _ => got.problems.push("no TTL of whole seconds".into()),
    }
    if got.headers.get("content-encoding").map(String::as_str) != Some("aes128gcm") {
        got.problems
            .push("Content-Encoding is not aes128gcm".into());
    }
    if let Some(topic) = got.headers.get("topic")
        && (topic.len() > 32
            || !topic
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
    {
        got.problems
            .push(format!("Topic {topic:?} is not 32 base64url characters"));
    }
    match decrypt(&shared.secret, &shared.auth, &body)
        .and_then(|plain| serde_json::from_slice(&plain).map_err(|e| format!("not JSON: {e}")))
    {
        Ok(payload) => got.payload = Some(payload),
        Err(problem) => got.problems.push(problem),
    }

    let refused = if got.problems.is_empty() {
        None
    } else {
        Some(got.problems.join("; "))
    };
    shared.received.lock().unwrap().push(got);
    if let Some(problems) = refused {
        return (StatusCode::BAD_REQUEST, problems).into_response();
    }
    let answer = shared.answers.lock().unwrap().pop_front();
    match answer {
        None => StatusCode::CREATED.into_response(),
        Some((status, None)) => status.into_response(),
        Some((status, Some(seconds))) => {
            (status, [("retry-after", seconds.to_string())]).into_response()
        }
    }
}

/// RFC 8292: `Authorization: vapid t=<ES256 JWT>, k=<public key>`, the token signed by that
/// key, for this service's origin, expiring within a day, with a contact.
fn check_vapid(shared: &Shared, got: &mut Received) {
    let Some(value) = got.headers.get("authorization").cloned() else {
        got.problems.push("no Authorization".into());
        return;
    };
    let Some(params) = value
        .strip_prefix("vapid ")
        .or_else(|| value.strip_prefix("Vapid "))
    else {
        got.problems
            .push(format!("Authorization is not vapid: {value}"));
        return;
    };
    let mut token = None;
    let mut key = None;
    for param in params.split(',') {
        match param.trim().split_once('=') {
            Some(("t", v)) => token = Some(v.trim().to_owned()),
            Some(("k", v)) => key = Some(v.trim().to_owned()),
            _ => got.problems.push(format!("odd vapid parameter {param:?}")),
        }
    }
    let (Some(token), Some(key)) = (token, key) else {
        got.problems.push("vapid without t= and k=".into());
        return;
    };
    got.vapid_key = Some(key.clone());
    let verifying_key = match B64
        .decode(&key)
        .ok()
        .filter(|point| point.len() == 65 && point[0] == 4)
        .and_then(|point| VerifyingKey::from_sec1_bytes(&point).ok())
    {
        Some(k) => k,
        None => {
            got.problems
                .push("k= is not an uncompressed P-256 key".into());
            return;
        }
    };
    let parts: Vec<&str> = token.split('.').collect();
    let [header, claims, signature] = parts[..] else {
        got.problems.push("t= is not a JWS".into());
        return;
    };
    let header: Option<Value> = B64
        .decode(header)
        .ok()
        .and_then(|h| serde_json::from_slice(&h).ok());
    if header.as_ref().and_then(|h| h["alg"].as_str()) != Some("ES256") {
        got.problems
            .push(format!("JWT header {header:?} is not ES256"));
    }
    let signed = B64
        .decode(signature)
        .ok()
        .and_then(|s| Signature::from_slice(&s).ok())
        .is_some_and(|s| {
            verifying_key
                .verify(format!("{}.{claims}", parts[0]).as_bytes(), &s)
                .is_ok()
        });
    if !signed {
        got.problems
            .push("the JWT's signature does not hold for k=".into());
        return;
    }
    let Some(claims) = B64
        .decode(claims)
        .ok()
        .and_then(|c| serde_json::from_slice::<Value>(&c).ok())
    else {
        got.problems.push("the JWT's claims are not JSON".into());
        return;
    };
    if claims["aud"].as_str() != Some(shared.origin.as_str()) {
        got.problems
            .push(format!("aud {} is not {}", claims["aud"], shared.origin));
    }
    let now = chrono::Utc::now().timestamp();
    match claims["exp"].as_i64() {
        Some(exp) if exp > now && exp <= now + 24 * 3600 => {}
        _ => got
            .problems
            .push(format!("exp {} is not within the next 24 h", claims["exp"])),
    }
    match claims["sub"].as_str() {
        Some(sub) if sub.starts_with("mailto:") || sub.starts_with("https:") => {}
        _ => got.problems.push(format!(
            "sub {} is not a mailto: or https: URL",
            claims["sub"]
        )),
    }
    got.claims = Some(claims);
}

type HmacSha256 = Hmac<Sha256>;

fn hmac(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut mac = <HmacSha256 as Mac>::new_from_slice(key).unwrap();
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// HKDF-SHA256 (RFC 5869) for outputs of one block at most, which is all Web Push needs.
fn hkdf(salt: &[u8], ikm: &[u8], info: &[u8], length: usize) -> Vec<u8> {
    assert!(length <= 32);
    let prk = hmac(salt, &[ikm]);
    hmac(&prk, &[info, &[1]])[..length].to_vec()
}

/// The user agent's side of RFC 8291 / RFC 8188 `aes128gcm`: the plaintext of a body.
fn decrypt(secret: &SecretKey, auth: &[u8; 16], body: &[u8]) -> Result<Vec<u8>, String> {
    if body.len() < 21 {
        return Err("body shorter than an aes128gcm header".into());
    }
    let salt = &body[..16];
    let record_size = u32::from_be_bytes(body[16..20].try_into().unwrap()) as usize;
    let id_len = body[20] as usize;
    if id_len != 65 || body.len() < 21 + id_len {
        return Err(format!("key id of {id_len} bytes, not a 65-byte P-256 key"));
    }
    let as_public = &body[21..21 + id_len];
    let ciphertext = &body[21 + id_len..];
    if record_size < 18 || ciphertext.len() > record_size {
        return Err(format!(
            "{} bytes in one record of size {record_size}",
            ciphertext.len()
        ));
    }
    let sender = PublicKey::from_sec1_bytes(as_public)
        .map_err(|_| "key id is not a P-256 key".to_owned())?;
    let shared = p256::ecdh::diffie_hellman(secret.to_nonzero_scalar(), sender.as_affine());
    let ua_public = secret.public_key().to_encoded_point(false);

    let key_info = [
        b"WebPush: info\0".as_slice(),
        ua_public.as_bytes(),
        as_public,
    ]
    .concat();
    let ikm = hkdf(auth, shared.raw_secret_bytes(), &key_info, 32);
    let cek = hkdf(salt, &ikm, b"Content-Encoding: aes128gcm\0", 16);
    let nonce = hkdf(salt, &ikm, b"Content-Encoding: nonce\0", 12);

    let mut record = Aes128Gcm::new_from_slice(&cek)
        .unwrap()
        .decrypt(
            &Nonce::from(<[u8; 12]>::try_from(nonce).unwrap()),
            ciphertext,
        )
        .map_err(|_| "the record does not decrypt with the subscription's keys".to_owned())?;
    while record.last() == Some(&0) {
        record.pop();
    }
    match record.pop() {
        Some(2) => Ok(record),
        other => Err(format!(
            "the last record ends in {other:?}, not the delimiter 2"
        )),
    }
}
