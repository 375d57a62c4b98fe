//! Background work each server process runs: every minute, notification mail that is owed
//! and TRUSTED recomputed from the meeting graph; at start-up and then hourly, recurring
//! series topped up, spent meeting tokens forgotten, and expired rows pruned (kept
//! idempotent responses after 24 hours, ended rate-limit windows, dead refresh tokens). All are safe to run in several
//! processes sharing a database: each claims or locks what it changes.

use std::time::Duration;

use chrono::Utc;
use tokio::task::JoinHandle;

use crate::domain::verification::{LastInputs, TrustRun, When};
use crate::domain::{housekeeping, meetings, reminders, series, verification};
use crate::notify::{outbox, push};
use crate::state::AppState;

/// How often owed mail is looked for.
pub const TICK: Duration = Duration::from_secs(60);
/// Ticks between series top-ups.
const TOP_UP_EVERY: u32 = 60;

/// How often pushes due (retries, and sends a process did not get to) and reminders are
/// looked for: reminders go within this of their time.
pub const PUSH_TICK: Duration = Duration::from_secs(10);

/// Starts the push loop: pushes owed, and reminders due. It runs until the process ends.
pub fn spawn_push(state: AppState) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(PUSH_TICK);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            match reminders::send_due(&state.db, Utc::now()).await {
                Ok(committed) => match state.outlets.deliver_now(committed).await {
                    0 => {}
                    reminded => tracing::info!(reminded, "reminders sent"),
                },
                Err(err) => tracing::error!(error = ?err.into_anyhow(), "reminders failed"),
            }
            match push::outbox::retry(&state.db, &state.outlets.push, Utc::now()).await {
                Ok(0) => {}
                Ok(tried) => tracing::info!(tried, "owed pushes retried"),
                Err(err) => tracing::error!(error = ?err.into_anyhow(), "push retry failed"),
            }
        }
    })
}

/// Starts the background loop; it runs until the process ends.
pub fn spawn(state: AppState) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(TICK);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut count: u32 = 0;
        let mut trust_inputs = LastInputs::default();
        loop {
            ticks.tick().await;
            if count.is_multiple_of(TOP_UP_EVERY) {
                match series::top_up_all(&state.db, Utc::now()).await {
                    Ok(0) => {}
                    Ok(made) => tracing::info!(made, "recurring series topped up"),
                    Err(err) => tracing::error!(error = ?err.into_anyhow(), "series top-up failed"),
                }
                if let Err(err) = meetings::prune_tokens(&state.db, Utc::now()).await {
                    tracing::error!(error = ?err.into_anyhow(), "pruning meeting tokens failed");
                }
                match housekeeping::sweep_images(&state.db, &state.media, Utc::now()).await {
                    Ok(swept) if swept.rows + swept.files > 0 => {
                        tracing::info!(?swept, "unused images swept")
                    }
                    Ok(_) => {}
                    Err(err) => {
                        tracing::error!(error = ?err.into_anyhow(), "sweeping unused images failed")
                    }
                }
                match housekeeping::prune(&state.db, Utc::now()).await {
                    Ok(pruned) if pruned.total() > 0 => {
                        tracing::info!(?pruned, "expired rows pruned")
                    }
                    Ok(_) => {}
                    Err(err) => {
                        tracing::error!(error = ?err.into_anyhow(), "pruning expired rows failed")
                    }
                }
            }
            count = count.wrapping_add(1);
            let tick = When::IfChanged(&mut trust_inputs);
            match verification::recompute_trust(&state.db, Utc::now(), tick).await {
                Ok(TrustRun::Computed { trusted, changed }) => {
                    tracing::info!(trusted, changed, "TRUSTED recomputed")
                }
                Ok(TrustRun::Busy | TrustRun::Unchanged) => {}
                Err(err) => {
                    tracing::error!(error = ?err.into_anyhow(), "trust recomputation failed")
                }
            }
            match outbox::retry(&state.db, &state.outlets.mailer, Utc::now()).await {
                Ok(0) => {}
                Ok(tried) => tracing::info!(tried, "owed mail retried"),
                Err(err) => tracing::error!(error = ?err.into_anyhow(), "mail retry failed"),
            }
        }
    })
}
