//! Background work each server process runs: notification mail that is owed (every minute);
//! and, at start-up and then hourly, recurring series topped up, trust recomputed (groups
//! earn their history as events pass) and spent meeting tokens forgotten. All are safe to
//! run in several processes sharing a database: each claims or locks what it changes.

use std::time::Duration;

use chrono::Utc;
use tokio::task::JoinHandle;

use crate::db::begin_write;
use crate::domain::{meetings, notifications, series, verification};
use crate::error::AppResult;
use crate::state::AppState;

/// How often owed mail is looked for.
pub const TICK: Duration = Duration::from_secs(60);
/// Ticks between series top-ups.
const TOP_UP_EVERY: u32 = 60;

/// Starts the background loop; it runs until the process ends.
pub fn spawn(state: AppState) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(TICK);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut count: u32 = 0;
        loop {
            ticks.tick().await;
            if count.is_multiple_of(TOP_UP_EVERY) {
                match series::top_up_all(&state.db, Utc::now()).await {
                    Ok(0) => {}
                    Ok(made) => tracing::info!(made, "recurring series topped up"),
                    Err(err) => tracing::error!(error = ?err.into_anyhow(), "series top-up failed"),
                }
                if let Err(err) = hourly_trust(&state).await {
                    tracing::error!(error = ?err.into_anyhow(), "trust recomputation failed");
                }
            }
            count = count.wrapping_add(1);
            match notifications::retry_mail(&state.db, &state.mailer, Utc::now()).await {
                Ok(0) => {}
                Ok(tried) => tracing::info!(tried, "owed notification mail retried"),
                Err(err) => tracing::error!(error = ?err.into_anyhow(), "mail retry failed"),
            }
        }
    })
}

/// Recomputes trust as of now and forgets spent meeting tokens.
async fn hourly_trust(state: &AppState) -> AppResult<()> {
    let now = Utc::now();
    let txn = begin_write(&state.db).await?;
    let trusted = verification::recompute_trust(&txn, now).await?;
    meetings::prune_tokens(&txn, now).await?;
    txn.commit().await?;
    tracing::debug!(trusted, "trust recomputed");
    Ok(())
}
