//! Rows that only ever accumulate, removed once they can no longer matter: kept
//! idempotent responses, rate-limit counters whose window ended, refresh tokens that can
//! never work again, devices of ended sessions, pushes given up a week ago, reminders of
//! past starts. Run by the background loop; safe in several processes at once (each
//! is one DELETE).

use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;

use crate::domain::{accounts, devices, idempotency, rate_limit, reminders, sessions};
use crate::error::AppResult;
use crate::notify::push;

/// What one run removed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pruned {
    pub idempotency_keys: u64,
    pub rate_limits: u64,
    pub refresh_tokens: u64,
    pub quiet_devices: u64,
    pub given_up_pushes: u64,
    pub past_reminders: u64,
}

impl Pruned {
    pub fn total(&self) -> u64 {
        self.idempotency_keys
            + self.rate_limits
            + self.refresh_tokens
            + self.quiet_devices
            + self.given_up_pushes
            + self.past_reminders
    }
}

/// Removes image rows nothing shows and files no row names (see `images::sweep`): what a
/// process that died between storing an upload and committing, or between committing and
/// deleting files, left behind.
pub async fn sweep_images(
    db: &sea_orm::DatabaseConnection,
    media: &crate::media::Media,
    now: DateTime<Utc>,
) -> AppResult<crate::domain::images::Swept> {
    crate::domain::images::sweep(db, media, now).await
}

/// Removes everything that expired by `now`.
pub async fn prune(db: &impl ConnectionTrait, now: DateTime<Utc>) -> AppResult<Pruned> {
    Ok(Pruned {
        idempotency_keys: idempotency::prune(db, now).await?,
        rate_limits: rate_limit::prune(
            db,
            now,
            accounts::KNOWN_CLIENT_PREFIX,
            accounts::KNOWN_CLIENT_FOR,
        )
        .await?,
        refresh_tokens: sessions::prune_refresh_tokens(db, now).await?,
        quiet_devices: devices::prune_quiet(db).await?,
        given_up_pushes: push::outbox::prune(db, now).await?,
        past_reminders: reminders::prune(db, now).await?,
    })
}
