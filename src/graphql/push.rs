//! Push: the viewer's devices and how they hear of each kind of notification.

use async_graphql::{Context, Enum, ID, InputObject, Object};
use chrono::Utc;
use entity::device;

use crate::domain::accounts;
use crate::domain::devices::{self, Registration, WebPushKeys};
use crate::domain::preferences::{self, Setting};
use crate::error::AppError;
use crate::graphql::context::{member, member_id, state};
use crate::graphql::ids::{self, Kind};
use crate::graphql::notifications::NotificationKind;
use crate::graphql::scalars::Time;
use crate::graphql::users::Viewer;

/// The push service a device is reached through.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::device::Platform")]
pub enum Platform {
    /// An iPhone or iPad app: Apple Push Notification service; `token` is the APNs device
    /// token in hex.
    Ios,
    /// An Android app: Firebase Cloud Messaging; `token` is the FCM registration token.
    Android,
    /// A browser or a UnifiedPush distributor: RFC 8030 Web Push with RFC 8291 encryption
    /// and RFC 8292 VAPID (`serverInfo.vapidPublicKey`); given by `webPush`.
    WebPush,
}

pub struct Device(pub device::Model);

/// A device that receives the viewer's pushes: an app install or a browser, registered by
/// one of the viewer's sessions.
#[Object]
impl Device {
    /// Opaque, stable ID.
    pub async fn id(&self) -> ID {
        ids::encode(Kind::Device, self.0.id)
    }

    /// The push service it is reached through.
    async fn platform(&self) -> Platform {
        self.0.platform.into()
    }

    /// When it was first registered.
    async fn created_at(&self) -> Time {
        Time(self.0.created_at)
    }

    /// When it was last registered (apps register at every start, which keeps this fresh).
    async fn last_seen_at(&self) -> Time {
        Time(self.0.last_seen_at)
    }

    /// The app's version, as it said when registering.
    async fn app_version(&self) -> Option<&str> {
        self.0.app_version.as_deref()
    }
}

pub struct NotificationSetting(Setting);

impl From<Setting> for NotificationSetting {
    fn from(setting: Setting) -> Self {
        NotificationSetting(setting)
    }
}

/// How the viewer hears of one kind of notification (it is always stored in the app).
#[Object]
impl NotificationSetting {
    /// The kind of notification.
    async fn kind(&self) -> NotificationKind {
        self.0.kind.into()
    }

    /// Pushed to the viewer's devices.
    async fn push(&self) -> bool {
        self.0.push
    }

    /// Mailed to the viewer's address.
    async fn email(&self) -> bool {
        self.0.email
    }
}

/// A Web Push subscription, as the browser's `PushSubscription.toJSON()` gives it.
#[derive(InputObject)]
pub struct WebPushSubscriptionInput {
    /// The push service URL the subscription names (https).
    pub endpoint: String,
    /// `keys.p256dh`: the subscription's P-256 public key, base64url.
    #[graphql(name = "p256dh")]
    pub p256dh: String,
    /// `keys.auth`: the subscription's 16-byte authentication secret, base64url.
    pub auth: String,
}

/// A device to push to.
#[derive(InputObject)]
pub struct RegisterDeviceInput {
    /// The push service; one of `serverInfo.pushPlatforms`.
    pub platform: Platform,
    /// IOS: the APNs device token (hex); ANDROID: the FCM registration token. Not for
    /// WEB_PUSH.
    pub token: Option<String>,
    /// WEB_PUSH only: the subscription.
    pub web_push: Option<WebPushSubscriptionInput>,
    /// The app's version (up to 64 characters), for the viewer's list of devices.
    pub app_version: Option<String>,
}

/// The device to forget.
#[derive(InputObject)]
pub struct UnregisterDeviceInput {
    /// One of the viewer's `devices`.
    pub device_id: ID,
}

/// One kind's choice.
#[derive(InputObject)]
pub struct NotificationSettingInput {
    /// The kind of notification.
    pub kind: NotificationKind,
    /// Whether to push it to the viewer's devices.
    pub push: bool,
    /// Whether to mail it to the viewer's address.
    pub email: bool,
}

/// The kinds to change; the others keep their settings.
#[derive(InputObject)]
pub struct UpdateNotificationSettingsInput {
    /// One entry per kind to change, each kind at most once (at most 50 entries).
    pub settings: Vec<NotificationSettingInput>,
}

#[derive(Default)]
pub struct PushMutation;

#[Object]
impl PushMutation {
    /// Registers this session's device for pushes, or updates it: a token registered again
    /// (by any session) is the same device, now of this session. The device hears pushes
    /// until it is unregistered, its session ends (sign-out, revocation, password change),
    /// or the push service says it is gone. A platform the server sends nothing to
    /// (`serverInfo.pushPlatforms`) is BAD_USER_INPUT on `input.platform`; a malformed token
    /// or subscription is BAD_USER_INPUT on its field.
    async fn register_device(
        &self,
        ctx: &Context<'_>,
        input: RegisterDeviceInput,
    ) -> async_graphql::Result<Device> {
        let claims = member(ctx)?;
        let state = state(ctx);
        let registration = Registration {
            platform: input.platform.into(),
            token: input.token,
            web_push: input.web_push.map(|keys| WebPushKeys {
                endpoint: keys.endpoint,
                p256dh: keys.p256dh,
                auth: keys.auth,
            }),
            app_version: input.app_version,
        };
        let device = devices::register(
            &state.db,
            &state.outlets.push,
            claims.sub,
            claims.sid,
            registration,
            Utc::now(),
        )
        .await?;
        Ok(Device(device))
    }

    /// Forgets one of the viewer's devices, which hears nothing more, and answers its ID.
    /// Another member's device, or one already forgotten, is NOT_FOUND.
    async fn unregister_device(
        &self,
        ctx: &Context<'_>,
        input: UnregisterDeviceInput,
    ) -> async_graphql::Result<ID> {
        let viewer = member_id(ctx)?;
        let id = ids::decode(Kind::Device, "input.deviceId", &input.device_id)?;
        devices::unregister(&state(ctx).db, viewer, id).await?;
        Ok(input.device_id)
    }

    /// Changes how the viewer hears of the kinds named (each at most once; BAD_USER_INPUT on
    /// `input.settings` otherwise) and answers the viewer with `notificationSettings`.
    async fn update_notification_settings(
        &self,
        ctx: &Context<'_>,
        input: UpdateNotificationSettingsInput,
    ) -> async_graphql::Result<Viewer> {
        let viewer = member_id(ctx)?;
        let db = &state(ctx).db;
        if input.settings.len() > 50 {
            return Err(AppError::bad_input("input.settings", "at most 50 settings").into());
        }
        let settings: Vec<Setting> = input
            .settings
            .into_iter()
            .map(|s| Setting {
                kind: s.kind.into(),
                push: s.push,
                email: s.email,
            })
            .collect();
        preferences::update(db, viewer, &settings, "input.settings").await?;
        Ok(Viewer(accounts::get_viewer(db, viewer).await?))
    }
}
