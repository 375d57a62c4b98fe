//! Where a member's pushes go. A device belongs to the session that registered it: when
//! that session ends (sign-out, revocation, password change, ban, deletion) the device gets
//! nothing more, and the hourly pruning forgets it. A token is one device whoever registers
//! it: registering it again updates it, and moves it to the session registering it (a
//! phone signed out of one account and into another pushes for the second only).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use entity::device::{self, Column, Entity, Platform};
use entity::session;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use crate::error::{AppError, AppResult};
use crate::notify::push::{Providers, web};

/// Devices one session may have; registering more forgets the one seen longest ago (an app
/// whose token changed does not say so).
pub const MAX_PER_SESSION: u64 = 5;
/// Devices one member may have in all, whatever the number of sessions: the list
/// (`Viewer.devices`) and the pushes of one notification stay bounded.
pub const MAX_PER_MEMBER: u64 = 20;
const MAX_TOKEN_CHARS: usize = 4096;
const MAX_APP_VERSION_CHARS: usize = 64;

/// A Web Push subscription as `PushSubscription.toJSON()` gives it.
#[derive(Debug, Clone)]
pub struct WebPushKeys {
    pub endpoint: String,
    pub p256dh: String,
    pub auth: String,
}

/// What `registerDevice` asks for.
#[derive(Debug, Clone)]
pub struct Registration {
    pub platform: Platform,
    pub token: Option<String>,
    pub web_push: Option<WebPushKeys>,
    pub app_version: Option<String>,
}

/// The address a registration names, checked: (token, p256dh, auth).
fn address(
    reg: &Registration,
    plain_http: bool,
) -> AppResult<(String, Option<String>, Option<String>)> {
    match reg.platform {
        Platform::Ios | Platform::Android => {
            if reg.web_push.is_some() {
                return Err(AppError::bad_input(
                    "input.webPush",
                    "only for the WEB_PUSH platform",
                ));
            }
            let token = reg.token.as_deref().map(str::trim).unwrap_or_default();
            let fits = match reg.platform {
                Platform::Ios => {
                    (32..=200).contains(&token.len())
                        && token.len().is_multiple_of(2)
                        && token.bytes().all(|b| b.is_ascii_hexdigit())
                }
                _ => {
                    (1..=MAX_TOKEN_CHARS).contains(&token.len())
                        && token.bytes().all(|b| b.is_ascii_graphic())
                }
            };
            if !fits {
                let what = match reg.platform {
                    Platform::Ios => "an APNs device token: 32 to 200 hex digits",
                    _ => "an FCM registration token: 1 to 4096 visible characters",
                };
                return Err(AppError::bad_input(
                    "input.token",
                    format!("expected {what}"),
                ));
            }
            let token = match reg.platform {
                Platform::Ios => token.to_ascii_lowercase(),
                _ => token.to_owned(),
            };
            Ok((token, None, None))
        }
        Platform::WebPush => {
            if reg.token.is_some() {
                return Err(AppError::bad_input(
                    "input.token",
                    "a WEB_PUSH device is given by input.webPush",
                ));
            }
            let Some(keys) = &reg.web_push else {
                return Err(AppError::bad_input(
                    "input.webPush",
                    "a WEB_PUSH device needs its subscription: endpoint, p256dh and auth",
                ));
            };
            let endpoint = keys.endpoint.trim();
            let url = url::Url::parse(endpoint).ok().filter(|url| {
                endpoint.len() <= MAX_TOKEN_CHARS
                    && match url.host() {
                        // Push services have names; outside development an address or
                        // `localhost` would have the server post into its own network.
                        Some(url::Host::Domain(name)) => {
                            url.scheme() == "https" && name != "localhost" || plain_http
                        }
                        Some(_) => plain_http,
                        None => false,
                    }
                    && (url.scheme() == "https" || plain_http && url.scheme() == "http")
            });
            if url.is_none() {
                return Err(AppError::bad_input(
                    "input.webPush.endpoint",
                    "expected the subscription's https URL, which names its push service's host",
                ));
            }
            let p256dh = decoded(&keys.p256dh, "input.webPush.p256dh", |key| {
                key.len() == 65 && key[0] == 4
            })?;
            let auth = decoded(&keys.auth, "input.webPush.auth", |secret| {
                secret.len() == 16
            })?;
            web::check_subscription_keys(&p256dh, &auth)
                .map_err(|message| AppError::bad_input("input.webPush.p256dh", message))?;
            Ok((endpoint.to_owned(), Some(p256dh), Some(auth)))
        }
    }
}

/// A base64url key that `fits`, in its unpadded form.
fn decoded(text: &str, field: &str, fits: impl Fn(&[u8]) -> bool) -> AppResult<String> {
    let text = text.trim().trim_end_matches('=');
    match URL_SAFE_NO_PAD.decode(text) {
        Ok(bytes) if fits(&bytes) => Ok(URL_SAFE_NO_PAD.encode(bytes)),
        _ => Err(AppError::bad_input(
            field,
            "expected the subscription's key, base64url as PushSubscription.toJSON() gives it \
             (p256dh: a 65-byte P-256 point, auth: 16 bytes)",
        )),
    }
}

/// Registers (or updates) the device of the viewer's session `session_id`.
pub async fn register(
    db: &impl ConnectionTrait,
    providers: &Providers,
    user_id: Uuid,
    session_id: Uuid,
    reg: Registration,
    now: DateTime<Utc>,
) -> AppResult<device::Model> {
    if providers.of(reg.platform).is_none() {
        return Err(AppError::bad_input(
            "input.platform",
            "this server sends no pushes to this platform (see serverInfo.pushPlatforms)",
        ));
    }
    let (token, p256dh, auth) = address(&reg, providers.plain_http_endpoints)?;
    let app_version = reg
        .app_version
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty());
    if app_version
        .as_ref()
        .is_some_and(|v| v.chars().count() > MAX_APP_VERSION_CHARS)
    {
        return Err(AppError::bad_input(
            "input.appVersion",
            format!("at most {MAX_APP_VERSION_CHARS} characters"),
        ));
    }
    let row = device::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user_id),
        session_id: Set(session_id),
        platform: Set(reg.platform),
        token: Set(token.clone()),
        p256dh: Set(p256dh),
        auth: Set(auth),
        app_version: Set(app_version),
        created_at: Set(now),
        last_seen_at: Set(now),
    };
    Entity::insert(row)
        .on_conflict(
            OnConflict::columns([Column::Platform, Column::Token])
                .update_columns([
                    Column::UserId,
                    Column::SessionId,
                    Column::P256dh,
                    Column::Auth,
                    Column::AppVersion,
                    Column::LastSeenAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    let device = Entity::find()
        .filter(Column::Platform.eq(reg.platform))
        .filter(Column::Token.eq(token))
        .one(db)
        .await?
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("a registered device is missing")))?;
    forget_beyond_limit(db, Column::SessionId, session_id, MAX_PER_SESSION).await?;
    forget_beyond_limit(db, Column::UserId, user_id, MAX_PER_MEMBER).await?;
    Ok(device)
}

/// Keeps the `keep` devices seen last of those whose `owner` column is `id` (a session's,
/// a member's).
async fn forget_beyond_limit(
    db: &impl ConnectionTrait,
    owner: Column,
    id: Uuid,
    keep: u64,
) -> AppResult<()> {
    // The few devices (at most one more than `keep`) are read whole and the extra ones
    // skipped here: an OFFSET without a LIMIT is a syntax error in SQLite.
    let extra: Vec<Uuid> = Entity::find()
        .select_only()
        .column(Column::Id)
        .filter(owner.eq(id))
        .order_by_desc(Column::LastSeenAt)
        .order_by_desc(Column::Id)
        .into_tuple::<Uuid>()
        .all(db)
        .await?
        .into_iter()
        .skip(keep as usize)
        .collect();
    if !extra.is_empty() {
        Entity::delete_many()
            .filter(Column::Id.is_in(extra))
            .exec(db)
            .await?;
    }
    Ok(())
}

/// Forgets one of the viewer's devices; another's is NOT_FOUND, as one that never was.
pub async fn unregister(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    device_id: Uuid,
) -> AppResult<()> {
    let gone = Entity::delete_many()
        .filter(Column::Id.eq(device_id))
        .filter(Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    if gone.rows_affected == 0 {
        return Err(AppError::NotFound("device"));
    }
    Ok(())
}

/// The member's devices that still hear pushes (those of live sessions), oldest first.
pub async fn of_user(db: &impl ConnectionTrait, user_id: Uuid) -> AppResult<Vec<device::Model>> {
    Ok(Entity::find()
        .inner_join(session::Entity)
        .filter(Column::UserId.eq(user_id))
        .filter(session::Column::RevokedAt.is_null())
        .order_by_asc(Column::CreatedAt)
        .order_by_asc(Column::Id)
        .all(db)
        .await?)
}

/// The live devices of `user_ids`.
pub async fn live_of(
    db: &impl ConnectionTrait,
    user_ids: &[Uuid],
) -> AppResult<Vec<device::Model>> {
    let mut devices = Vec::new();
    for chunk in user_ids.chunks(500) {
        devices.extend(
            Entity::find()
                .inner_join(session::Entity)
                .filter(Column::UserId.is_in(chunk.to_vec()))
                .filter(session::Column::RevokedAt.is_null())
                .all(db)
                .await?,
        );
    }
    Ok(devices)
}

/// Forgets the devices of ended sessions (they hear nothing already).
pub async fn prune_quiet(db: &impl ConnectionTrait) -> AppResult<u64> {
    let quiet: Vec<Uuid> = Entity::find()
        .select_only()
        .column(Column::Id)
        .inner_join(session::Entity)
        .filter(session::Column::RevokedAt.is_not_null())
        .limit(1000)
        .into_tuple()
        .all(db)
        .await?;
    if quiet.is_empty() {
        return Ok(0);
    }
    Ok(Entity::delete_many()
        .filter(Column::Id.is_in(quiet))
        .exec(db)
        .await?
        .rows_affected)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn web_push(endpoint: &str) -> Registration {
        let key = p256::SecretKey::from_slice(&[7; 32]).unwrap();
        let point = p256::EncodedPoint::from(key.public_key());
        Registration {
            platform: Platform::WebPush,
            token: None,
            web_push: Some(WebPushKeys {
                endpoint: endpoint.into(),
                p256dh: URL_SAFE_NO_PAD.encode(point.as_bytes()),
                auth: URL_SAFE_NO_PAD.encode([1u8; 16]),
            }),
            app_version: None,
        }
    }

    fn field_of(result: AppResult<(String, Option<String>, Option<String>)>) -> String {
        match result {
            Err(AppError::BadInput { field, .. }) => field,
            other => panic!("expected BAD_USER_INPUT, got {other:?}"),
        }
    }

    #[test]
    fn outside_development_an_endpoint_names_an_https_host() {
        let ok = "https://updates.push.services.mozilla.com/wpush/v2/abc";
        assert_eq!(address(&web_push(ok), false).unwrap().0, ok);
        for refused in [
            "http://updates.push.services.mozilla.com/wpush/v2/abc",
            "https://127.0.0.1/push",
            "https://[::1]/push",
            "https://localhost/push",
            "ftp://example.com/push",
            "not a url",
        ] {
            assert_eq!(
                field_of(address(&web_push(refused), false)),
                "input.webPush.endpoint",
                "{refused}"
            );
        }
        // Development speaks to local stand-ins.
        assert!(address(&web_push("http://127.0.0.1:9000/push/1"), true).is_ok());
    }

    #[test]
    fn tokens_and_keys_are_checked() {
        let ios = |token: &str| Registration {
            platform: Platform::Ios,
            token: Some(token.into()),
            web_push: None,
            app_version: None,
        };
        let hex = "AB".repeat(32);
        assert_eq!(address(&ios(&hex), false).unwrap().0, hex.to_lowercase());
        assert_eq!(field_of(address(&ios("xyz"), false)), "input.token");
        assert_eq!(
            field_of(address(&ios(&"a".repeat(63)), false)),
            "input.token"
        );
        let mut bad_key = web_push("https://push.example.com/1");
        bad_key.web_push.as_mut().unwrap().p256dh = URL_SAFE_NO_PAD.encode([4u8; 65]);
        assert_eq!(field_of(address(&bad_key, false)), "input.webPush.p256dh");
        let mut bad_auth = web_push("https://push.example.com/1");
        bad_auth.web_push.as_mut().unwrap().auth = "short".into();
        assert_eq!(field_of(address(&bad_auth, false)), "input.webPush.auth");
    }
}
