//! Who is asking: the one check of an access token, for HTTP and WebSocket alike.
//!
//! A token is admitted when its signature, type, audience and expiry hold (`auth`), and
//! while its session lasts and its member is not banned: one statement per signed-in request
//! buys that logging out, a revoked session, a password change or a ban turns the session's
//! access tokens away at once rather than when they lapse.

use crate::auth::AccessClaims;
use crate::domain::sessions::{self, Standing};
use crate::error::AppResult;
use crate::state::AppState;

/// The outcome of presenting a token (or none).
#[derive(Debug, Clone)]
pub enum Admission {
    /// No token was presented.
    Anonymous,
    Member(AccessClaims),
    Refused(Refusal),
}

/// Why a token was turned away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Not one of ours, tampered with, of another kind, or expired.
    BadToken,
    /// Its session ended.
    SessionEnded,
    /// Its member is banned.
    Banned,
}

/// Checks `token`. An error is a fault of the database, not of the token.
pub async fn admit(state: &AppState, token: Option<&str>) -> AppResult<Admission> {
    let Some(token) = token else {
        return Ok(Admission::Anonymous);
    };
    let Ok(claims) = state.access_tokens.verify(token.trim()) else {
        return Ok(Admission::Refused(Refusal::BadToken));
    };
    still_admitted(state, claims).await
}

/// Checks again a member admitted earlier (a long-lived connection): their session may have
/// ended since.
pub async fn still_admitted(state: &AppState, claims: AccessClaims) -> AppResult<Admission> {
    Ok(
        match sessions::standing(&state.db, claims.sid, claims.sub).await? {
            Standing::Live => Admission::Member(claims),
            Standing::Ended => Admission::Refused(Refusal::SessionEnded),
            Standing::Banned => Admission::Refused(Refusal::Banned),
        },
    )
}

/// The token in an `Authorization` value: `Bearer <token>`, the scheme in any case (RFC
/// 9110). None for another scheme or none.
pub fn bearer(value: &str) -> Option<&str> {
    value
        .trim()
        .split_once(' ')
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bearer_scheme_is_case_insensitive_and_required() {
        assert_eq!(bearer("Bearer abc"), Some("abc"));
        assert_eq!(bearer("bEaReR  abc "), Some("abc"));
        assert_eq!(bearer("Basic abc"), None);
        assert_eq!(bearer("abc"), None);
    }
}
