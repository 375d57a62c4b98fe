//! Access tokens: short-lived JWTs, made and checked as RFC 8725 advises.
//!
//! The algorithm is pinned to HS256 (a token naming any other, `none` included, is refused);
//! `iss`, `aud`, `sub` and `exp` are required; the header's `typ` must be `at+jwt`
//! (RFC 9068), so that a token of another kind signed with another key and made for another
//! audience (refresh tokens are not JWTs at all; meeting tokens are `meet+jwt`) never passes.

use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::AppError;

pub const ISSUER: &str = "kith";
pub const AUDIENCE: &str = "kith:access";
pub const TYPE: &str = "at+jwt";
pub const LIFETIME: Duration = Duration::minutes(15);
/// Clock skew tolerated between processes, at most 5 seconds.
pub const LEEWAY_SECONDS: u64 = 5;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    pub aud: String,
    /// The member's id.
    pub sub: Uuid,
    /// The session (refresh-token family) the token was issued for.
    pub sid: Uuid,
    pub iat: i64,
    pub exp: i64,
}

#[derive(Clone)]
pub struct AccessTokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl AccessTokens {
    pub fn new(key: &[u8]) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = LEEWAY_SECONDS;
        AccessTokens {
            encoding: EncodingKey::from_secret(key),
            decoding: DecodingKey::from_secret(key),
            validation,
        }
    }

    pub fn issue(
        &self,
        user_id: Uuid,
        session_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<(String, DateTime<Utc>), AppError> {
        let expires_at = now + LIFETIME;
        let claims = AccessClaims {
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            sub: user_id,
            sid: session_id,
            iat: now.timestamp(),
            exp: expires_at.timestamp(),
        };
        let mut header = Header::new(Algorithm::HS256);
        header.typ = Some(TYPE.into());
        let token =
            jsonwebtoken::encode(&header, &claims, &self.encoding).map_err(AppError::internal)?;
        Ok((token, expires_at))
    }

    /// Checks a presented token; every failure is the same UNAUTHENTICATED.
    pub fn verify(&self, token: &str) -> Result<AccessClaims, AppError> {
        const INVALID: AppError = AppError::Unauthenticated("invalid or expired access token");
        let header = jsonwebtoken::decode_header(token).map_err(|_| INVALID)?;
        if header.typ.as_deref() != Some(TYPE) {
            return Err(INVALID);
        }
        jsonwebtoken::decode::<AccessClaims>(token, &self.decoding, &self.validation)
            .map(|data| data.claims)
            .map_err(|_| INVALID)
    }
}
