//! Tokens made and read by hand, to forge what an attacker would.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use kith::auth::Keys;
use serde_json::Value;

use super::*;

/// The key the test app signs meeting tokens with.
pub fn meeting_key() -> Vec<u8> {
    Keys::derive(TEST_SECRET.as_bytes()).meeting_token.to_vec()
}

/// The key the test app signs access tokens with.
pub fn access_key() -> Vec<u8> {
    Keys::derive(TEST_SECRET.as_bytes()).access_token.to_vec()
}

/// An HS256 header of this `typ` (`at+jwt` for access tokens, `meet+jwt` for meetings).
pub fn header_of_type(typ: &str) -> Header {
    let mut header = Header::new(Algorithm::HS256);
    header.typ = Some(typ.into());
    header
}

/// A JWT of these claims, signed with `key`.
pub fn sign(header: Header, claims: &Value, key: &[u8]) -> String {
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_secret(key)).unwrap()
}

/// The claims of a JWT, read without checking anything.
pub fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("a JWT has three parts");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}
