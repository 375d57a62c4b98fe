//! Credentials and the cryptography behind them: password hashing, signed access tokens,
//! random secrets and keyed hashes. No rules about members live here (see `domain`).

pub mod access_token;
pub mod meeting_token;
pub mod passwords;
pub mod secrets;

pub use access_token::{AccessClaims, AccessTokens};
pub use meeting_token::MeetingTokens;
pub use passwords::PasswordHasher;
pub use secrets::Keys;
