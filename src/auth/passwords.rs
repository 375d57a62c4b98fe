//! Password hashing with argon2id at OWASP's parameters (19 MiB, t=2, p=1).
//!
//! Each hash takes tens of milliseconds of CPU and 19 MiB of memory, so it runs on the
//! blocking pool, and at most `permits` run at once: a flood of log-ins queues here
//! instead of starving the async runtime that serves everyone else.

use std::sync::{Arc, OnceLock};

use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;

use crate::error::{AppError, AppResult};

/// Longest a request waits for a free hashing slot.
const MAX_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

#[derive(Clone)]
pub struct PasswordHasher {
    permits: Arc<Semaphore>,
}

fn argon2() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("OWASP parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// A hash of a password nobody knows, verified when an email has no account so that
/// a wrong email costs the same time as a wrong password.
fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| hash_now(&crate::auth::secrets::random_token()))
}

fn hash_now(password: &str) -> String {
    let salt =
        SaltString::encode_b64(&rand::random::<[u8; 16]>()).expect("16 bytes is a valid salt");
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 hashes any password")
        .to_string()
}

fn verify_now(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            argon2()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

impl PasswordHasher {
    /// `concurrency` hashes may run at once (the number of cores is a good choice).
    pub fn new(concurrency: usize) -> Self {
        PasswordHasher {
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
        }
    }

    /// Runs `work` on the blocking pool once a permit is free. The permit moves into the
    /// blocking task, so a client that hangs up does not free it while argon2 still runs;
    /// a request that waits too long for one is told to come back (RATE_LIMITED).
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> AppResult<T> {
        let permit = tokio::time::timeout(MAX_WAIT, self.permits.clone().acquire_owned())
            .await
            .map_err(|_| AppError::RateLimited {
                retry_after_seconds: MAX_WAIT.as_secs(),
            })?
            .map_err(AppError::internal)?;
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            work()
        })
        .await
        .map_err(AppError::internal)
    }

    /// Makes the decoy hash now, so the first log-in with an unknown email does not pay for it.
    pub fn warm_up() {
        decoy_hash();
    }

    pub async fn hash(&self, password: String) -> AppResult<String> {
        self.run(move || hash_now(&password)).await
    }

    /// Verifies `password` against `hash`; with no hash (no such account) it spends the
    /// same effort on a decoy and answers false.
    pub async fn verify(&self, password: String, hash: Option<String>) -> AppResult<bool> {
        self.run(move || match hash {
            Some(hash) => verify_now(&password, &hash),
            None => {
                verify_now(&password, decoy_hash());
                false
            }
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_only_their_password() {
        let hasher = PasswordHasher::new(2);
        let hash = hasher.hash("correct horse battery".into()).await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(
            hasher
                .verify("correct horse battery".into(), Some(hash.clone()))
                .await
                .unwrap()
        );
        assert!(
            !hasher
                .verify("wrong horse battery".into(), Some(hash))
                .await
                .unwrap()
        );
        assert!(!hasher.verify("anything at all".into(), None).await.unwrap());
    }
}
