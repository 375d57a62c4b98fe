//! Meeting tokens: what a member's phone shows (as a QR code) to someone they meet, who
//! scans it to confirm the meeting. A JWT made like access tokens but apart from them: its
//! own key, `typ: meet+jwt`, audience `kith:meet`, a random one-time `jti` and under a
//! minute of life. Its 8-character code stands for the same token, for people who type.

use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::Rng;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::access_token::ISSUER;
use crate::auth::secrets::hmac;
use crate::error::AppError;

pub const AUDIENCE: &str = "kith:meet";
pub const TYPE: &str = "meet+jwt";
pub const LIFETIME: Duration = Duration::seconds(45);
/// Clock skew tolerated between processes.
pub const LEEWAY_SECONDS: u64 = 2;
/// Crockford's base 32: no I, L, O or U, and a typed O reads as 0, I or L as 1, so look-alikes
/// cannot be mistyped. 5 bits a character, 40 bits in 8.
pub const CODE_ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
pub const CODE_LENGTH: usize = 8;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MeetingClaims {
    pub iss: String,
    pub aud: String,
    /// The member who shows the token.
    pub sub: Uuid,
    /// The event they are at.
    pub evt: Uuid,
    /// One-time id: a token confirms one meeting.
    pub jti: Uuid,
    pub iat: i64,
    pub exp: i64,
}

#[derive(Clone)]
pub struct MeetingTokens {
    key: Vec<u8>,
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl MeetingTokens {
    pub fn new(key: &[u8]) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = LEEWAY_SECONDS;
        MeetingTokens {
            key: key.to_vec(),
            encoding: EncodingKey::from_secret(key),
            decoding: DecodingKey::from_secret(key),
            validation,
        }
    }

    /// A token and its code for `subject` at `event`, with the `jti` to record.
    pub fn issue(
        &self,
        subject: Uuid,
        event: Uuid,
        now: DateTime<Utc>,
    ) -> Result<(MeetingClaims, String, String), AppError> {
        let claims = MeetingClaims {
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            sub: subject,
            evt: event,
            jti: Uuid::new_v4(),
            iat: now.timestamp(),
            exp: (now + LIFETIME).timestamp(),
        };
        let mut header = Header::new(Algorithm::HS256);
        header.typ = Some(TYPE.into());
        let token =
            jsonwebtoken::encode(&header, &claims, &self.encoding).map_err(AppError::internal)?;
        let mut rng = rand::rng();
        let code: String = (0..CODE_LENGTH)
            .map(|_| CODE_ALPHABET[rng.random_range(0..CODE_ALPHABET.len())] as char)
            .collect();
        Ok((claims, token, code))
    }

    /// Checks a scanned token: signature, `typ`, audience, issuer and expiry. Every failure
    /// is the same BAD_USER_INPUT on `input.token`.
    pub fn verify(&self, token: &str) -> Result<MeetingClaims, AppError> {
        let invalid = || {
            AppError::bad_input(
                "token",
                "not a valid meeting token, or it has expired: ask for a fresh one",
            )
        };
        let header = jsonwebtoken::decode_header(token).map_err(|_| invalid())?;
        if header.typ.as_deref() != Some(TYPE) {
            return Err(invalid());
        }
        jsonwebtoken::decode::<MeetingClaims>(token, &self.decoding, &self.validation)
            .map(|data| data.claims)
            .map_err(|_| invalid())
    }

    /// The stored form of a code: keyed, so a copy of the database does not give codes away.
    /// Typed codes are matched without regard to case, spaces, dashes or look-alikes.
    pub fn code_hash(&self, code: &str) -> String {
        hex::encode(hmac(&self.key, normalise_code(code).as_bytes()))
    }
}

pub fn normalise_code(code: &str) -> String {
    code.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_uppercase)
        .map(|c| match c {
            'O' => '0',
            'I' | 'L' => '1',
            c => c,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_eight_unambiguous_characters_typed_loosely() {
        let tokens = MeetingTokens::new(b"a key of some length for the test");
        let (claims, token, code) = tokens.issue(Uuid::nil(), Uuid::nil(), Utc::now()).unwrap();
        assert_eq!(code.len(), CODE_LENGTH);
        assert!(code.bytes().all(|b| CODE_ALPHABET.contains(&b)));
        assert!(!code.contains(['O', 'I', 'L', 'U']));
        assert_eq!(tokens.verify(&token).unwrap().jti, claims.jti);
        let typed = format!(" {}-{} ", &code[..4].to_lowercase(), &code[4..]);
        assert_eq!(tokens.code_hash(&typed), tokens.code_hash(&code));
        assert_eq!(normalise_code("o1l-i"), "0111");
    }
}
