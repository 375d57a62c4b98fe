//! The outbox of pushes: delivery never lost and never doubled.
//!
//! A push owed to a device is written here in the transaction of the change it tells of (a
//! change that rolls back pushes nothing). Right after the commit the process that made it
//! claims it (a conditional update on `attempts = 0`) and sends it; if that process dies
//! first, the background loop of any process claims it once its grace has passed (a
//! conditional update on `due_at`), so exactly one claim succeeds. A claim is a lease: it
//! pushes `due_at` past the time a send can take, so a process that dies mid-send leaves
//! the push to be claimed again. After the send:
//! - the provider took it: the row is deleted;
//! - the token is dead (APNs 410 or `BadDeviceToken`, FCM `UNREGISTERED`, Web Push
//!   404/410): the device is deleted, and with it every push it was owed;
//! - 429, 5xx or a network failure: due again after a backoff, or the provider's
//!   `Retry-After` when that is longer, at most `ATTEMPTS` times in all;
//! - refused for good, expired, out of attempts: given up (no due time; logged), the row
//!   kept for the operator until the hourly pruning.
//!
//! A push whose device's session has ended is dropped unsent: the device has gone quiet.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, Utc};
use entity::device;
use entity::push_outbox::{self, Column, Entity};
use entity::session;
use futures::StreamExt;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use crate::db::Tx;
use crate::error::AppResult;
use crate::notify::push::providers::Providers;
use crate::notify::push::{Address, Outcome, Push};

/// How long the send that follows the commit has before the background loop may take over.
pub const GRACE: Duration = Duration::seconds(30);
/// How long a claim holds a push: longer than any send takes (providers time out at 10 s).
pub const LEASE: Duration = Duration::seconds(60);
/// Sends in all before a push is given up.
pub const ATTEMPTS: i32 = 5;
/// The longest a provider's `Retry-After` is honoured; a push later than this is not worth it.
const MAX_RETRY_AFTER: Duration = Duration::hours(1);
/// Pushes the background loop claims in one round.
const BATCH: u64 = 200;
/// Sends in flight at once from one process.
const IN_FLIGHT: usize = 16;

/// The wait after the `attempts`-th failed send: 10 s, 40 s, 160 s, 640 s.
pub fn backoff(attempts: i32) -> Duration {
    Duration::seconds(10 * 4_i64.pow(attempts.clamp(1, 4) as u32 - 1))
}

/// One push owed to one device.
#[derive(Debug, Clone)]
pub struct Owed {
    pub device_id: Uuid,
    pub notification_id: Option<Uuid>,
    pub push: Push,
}

/// Writes pushes to the outbox inside `tx`; each is sent once the transaction commits.
pub async fn queue(tx: &mut Tx, owed: Vec<Owed>, now: DateTime<Utc>) -> AppResult<()> {
    if owed.is_empty() {
        return Ok(());
    }
    let rows: Vec<push_outbox::ActiveModel> = owed
        .into_iter()
        .map(|owed| push_outbox::ActiveModel {
            id: Set(Uuid::now_v7()),
            device_id: Set(owed.device_id),
            notification_id: Set(owed.notification_id),
            title: Set(owed.push.title),
            body: Set(owed.push.body),
            data: Set(serde_json::to_string(&owed.push.data).expect("a map of strings")),
            collapse_key: Set(owed.push.collapse_key),
            badge: Set(i32::try_from(owed.push.badge).unwrap_or(i32::MAX)),
            expires_at: Set(owed.push.expires_at),
            due_at: Set(Some(now + GRACE)),
            attempts: Set(0),
            created_at: Set(now),
        })
        .collect();
    let ids: Vec<Uuid> = rows.iter().map(|row| *row.id.as_ref()).collect();
    for chunk in rows.chunks(500) {
        Entity::insert_many(chunk.to_vec()).exec(&*tx).await?;
    }
    tx.effects().push_queued(ids);
    Ok(())
}

/// Claims and sends the pushes `ids` just committed. Errors are logged: nobody waits on this.
pub async fn send(db: &impl ConnectionTrait, providers: &Providers, ids: &[Uuid]) {
    if ids.is_empty() {
        return;
    }
    let now = Utc::now();
    let mut claimed = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        let rows = Entity::update_many()
            .col_expr(Column::Attempts, Expr::col(Column::Attempts).add(1))
            .col_expr(Column::DueAt, Expr::value(Some(now + LEASE)))
            .filter(Column::Id.is_in(chunk.to_vec()))
            .filter(Column::Attempts.eq(0))
            .exec_with_returning(db)
            .await;
        match rows {
            Ok(rows) => claimed.extend(rows),
            Err(err) => tracing::error!(error = %err, "push outbox: cannot claim pushes"),
        }
    }
    deliver(db, providers, claimed, now).await;
}

/// Claims and sends the pushes due as of `now` (retries, and sends a process did not get
/// to), at most `BATCH`; returns how many it tried.
pub async fn retry(
    db: &impl ConnectionTrait,
    providers: &Providers,
    now: DateTime<Utc>,
) -> AppResult<usize> {
    let due: Vec<Uuid> = Entity::find()
        .select_only()
        .column(Column::Id)
        .filter(Column::DueAt.lte(now))
        .order_by_asc(Column::DueAt)
        .limit(BATCH)
        .into_tuple()
        .all(db)
        .await?;
    if due.is_empty() {
        return Ok(0);
    }
    let claimed = Entity::update_many()
        .col_expr(Column::Attempts, Expr::col(Column::Attempts).add(1))
        .col_expr(Column::DueAt, Expr::value(Some(now + LEASE)))
        .filter(Column::Id.is_in(due))
        .filter(Column::DueAt.lte(now))
        .exec_with_returning(db)
        .await?;
    let tried = claimed.len();
    deliver(db, providers, claimed, now).await;
    Ok(tried)
}

/// What to do with a push after its send.
#[derive(Debug)]
enum After {
    Delete,
    ForgetDevice(Uuid),
    DueAt(DateTime<Utc>),
    GiveUp(String),
}

/// Sends each claimed push to its device, if the device is still live, and settles it.
async fn deliver(
    db: &impl ConnectionTrait,
    providers: &Providers,
    rows: Vec<push_outbox::Model>,
    now: DateTime<Utc>,
) {
    if rows.is_empty() {
        return;
    }
    let devices = match live_devices(db, &rows).await {
        Ok(devices) => devices,
        Err(err) => {
            tracing::error!(error = ?err.into_anyhow(), "push outbox: cannot read devices");
            return;
        }
    };
    let settled: Vec<(Uuid, After)> = futures::stream::iter(rows)
        .map(|row| {
            let device = devices.get(&row.device_id);
            async move {
                let after = match device {
                    None => After::Delete,
                    Some(device) => send_one(providers, device, &row, now).await,
                };
                (row.id, after)
            }
        })
        .buffer_unordered(IN_FLIGHT)
        .collect()
        .await;
    for (id, after) in settled {
        if let Err(err) = settle(db, id, after).await {
            tracing::warn!(error = %err, push = %id, "push outbox: cannot settle a push");
        }
    }
}

/// The devices of `rows` whose session is live.
async fn live_devices(
    db: &impl ConnectionTrait,
    rows: &[push_outbox::Model],
) -> AppResult<HashMap<Uuid, device::Model>> {
    let ids: Vec<Uuid> = rows.iter().map(|row| row.device_id).collect();
    Ok(device::Entity::find()
        .inner_join(session::Entity)
        .filter(device::Column::Id.is_in(ids))
        .filter(session::Column::RevokedAt.is_null())
        .all(db)
        .await?
        .into_iter()
        .map(|device| (device.id, device))
        .collect())
}

async fn send_one(
    providers: &Providers,
    device: &device::Model,
    row: &push_outbox::Model,
    now: DateTime<Utc>,
) -> After {
    if row.expires_at <= now {
        return After::GiveUp("expired before it could be sent".into());
    }
    let Some(provider) = providers.of(device.platform) else {
        return After::GiveUp(format!("no provider for {:?}", device.platform));
    };
    let address = match device.platform {
        device::Platform::Ios => Address::Apns {
            token: &device.token,
        },
        device::Platform::Android => Address::Fcm {
            token: &device.token,
        },
        device::Platform::WebPush => Address::WebPush {
            endpoint: &device.token,
            p256dh: device.p256dh.as_deref().unwrap_or_default(),
            auth: device.auth.as_deref().unwrap_or_default(),
        },
    };
    let data: BTreeMap<String, String> = serde_json::from_str(&row.data).unwrap_or_default();
    let push = Push {
        title: row.title.clone(),
        body: row.body.clone(),
        badge: u32::try_from(row.badge).unwrap_or(0),
        collapse_key: row.collapse_key.clone(),
        data,
        expires_at: row.expires_at,
    };
    match provider.send(address, &push).await {
        Outcome::Sent => After::Delete,
        Outcome::Gone => After::ForgetDevice(device.id),
        Outcome::Retry { after, reason } => {
            tracing::warn!(push = %row.id, attempts = row.attempts, %reason, "push not sent; will retry");
            if row.attempts >= ATTEMPTS {
                return After::GiveUp(format!("{ATTEMPTS} attempts: {reason}"));
            }
            let asked = after
                .and_then(|after| Duration::from_std(after).ok())
                .unwrap_or(Duration::zero());
            if asked > MAX_RETRY_AFTER {
                return After::GiveUp(format!("asked to wait {asked}: {reason}"));
            }
            let at = Utc::now() + asked.max(backoff(row.attempts));
            if at >= row.expires_at {
                return After::GiveUp(format!("would expire before the next try: {reason}"));
            }
            After::DueAt(at)
        }
        Outcome::Refused(reason) => After::GiveUp(reason),
    }
}

async fn settle(db: &impl ConnectionTrait, id: Uuid, after: After) -> Result<(), sea_orm::DbErr> {
    match after {
        After::Delete => {
            Entity::delete_by_id(id).exec(db).await?;
        }
        After::ForgetDevice(device_id) => {
            tracing::info!(device = %device_id, "push token is dead: device forgotten");
            device::Entity::delete_by_id(device_id).exec(db).await?;
        }
        After::DueAt(at) => {
            Entity::update_many()
                .col_expr(Column::DueAt, Expr::value(Some(at)))
                .filter(Column::Id.eq(id))
                .exec(db)
                .await?;
        }
        After::GiveUp(reason) => {
            tracing::error!(push = %id, %reason, "push given up");
            Entity::update_many()
                .col_expr(Column::DueAt, Expr::value(Option::<DateTime<Utc>>::None))
                .filter(Column::Id.eq(id))
                .exec(db)
                .await?;
        }
    }
    Ok(())
}

/// Forgets pushes given up more than a week ago (kept that long for the operator).
pub async fn prune(db: &impl ConnectionTrait, now: DateTime<Utc>) -> AppResult<u64> {
    Ok(Entity::delete_many()
        .filter(Column::DueAt.is_null())
        .filter(Column::CreatedAt.lt(now - Duration::days(7)))
        .exec(db)
        .await?
        .rows_affected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_stops_growing() {
        assert_eq!(backoff(1), Duration::seconds(10));
        assert_eq!(backoff(2), Duration::seconds(40));
        assert_eq!(backoff(4), Duration::seconds(640));
        assert_eq!(backoff(9), Duration::seconds(640));
    }
}
