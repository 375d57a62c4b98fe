//! Background work each server process runs: notification mail that is owed (every minute)
//! and recurring series topped up as time passes (at start-up, then hourly). Both are safe
//! to run in several processes sharing a database: each claims its rows first.

use std::time::Duration;

use chrono::Utc;
use tokio::task::JoinHandle;

use crate::domain::{notifications, series};
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
