//! Random secrets and keyed hashes.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// Keys derived from the one configured secret, one per use, so that a value made for one
/// purpose (an access token, a code hash) can never be passed off as another.
#[derive(Clone)]
pub struct Keys {
    pub access_token: Vec<u8>,
    pub one_time_code: Vec<u8>,
    /// Signs meeting tokens (`meet+jwt`) and hashes their codes.
    pub meeting_token: Vec<u8>,
    /// Makes each refresh token's successor from it, so a refresh retried after a lost
    /// answer can be given the same successor again (see `domain::sessions`).
    pub refresh_token: Vec<u8>,
}

impl Keys {
    pub fn derive(secret: &[u8]) -> Self {
        Keys {
            access_token: hmac(secret, b"kith access token v1").to_vec(),
            one_time_code: hmac(secret, b"kith one-time code v1").to_vec(),
            meeting_token: hmac(secret, b"kith meeting token v1").to_vec(),
            refresh_token: hmac(secret, b"kith refresh token v1").to_vec(),
        }
    }
}

pub fn hmac(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(message);
    mac.finalize().into_bytes().into()
}

/// Compares `message`'s MAC with `expected_hex` in constant time.
pub fn hmac_matches(key: &[u8], message: &[u8], expected_hex: &str) -> bool {
    let Ok(expected) = hex::decode(expected_hex) else {
        return false;
    };
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(message);
    mac.verify_slice(&expected).is_ok()
}

/// 256 random bits, URL-safe: for refresh tokens and calendar feed tokens.
pub fn random_token() -> String {
    URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
}

/// The hash stored for a random token. A plain SHA-256 suffices: the token has 256 bits
/// of entropy, so the hash cannot be reversed by guessing.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_differ_by_purpose_and_secret() {
        let a = Keys::derive(b"one secret");
        let b = Keys::derive(b"another secret");
        assert_ne!(a.access_token, a.one_time_code);
        assert_ne!(a.access_token, b.access_token);
    }

    #[test]
    fn hmac_matches_only_its_message() {
        let mac = hex::encode(hmac(b"k", b"123456"));
        assert!(hmac_matches(b"k", b"123456", &mac));
        assert!(!hmac_matches(b"k", b"123457", &mac));
        assert!(!hmac_matches(b"other", b"123456", &mac));
        assert!(!hmac_matches(b"k", b"123456", "not hex"));
    }

    #[test]
    fn random_tokens_are_long_and_distinct() {
        let a = random_token();
        assert_eq!(a.len(), 43);
        assert_ne!(a, random_token());
        assert_eq!(token_hash(&a).len(), 64);
    }
}
