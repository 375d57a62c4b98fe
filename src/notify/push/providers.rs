//! The push providers this server has credentials for, one per platform at most.

use std::sync::Arc;

use entity::device::Platform;

use crate::notify::push::Provider;
use crate::notify::push::apns::Apns;
use crate::notify::push::fcm::Fcm;
use crate::notify::push::web::WebPush;

/// The configured providers. A platform without one cannot register devices.
#[derive(Clone, Default)]
pub struct Providers {
    pub apns: Option<Arc<dyn Provider>>,
    pub fcm: Option<Arc<dyn Provider>>,
    pub web_push: Option<Arc<dyn Provider>>,
    /// The VAPID public key apps subscribe with (base64url), when Web Push is configured.
    pub vapid_public_key: Option<String>,
    /// Whether a Web Push endpoint may be plain `http://` (development only: in production
    /// a subscription must name an https push service, so that nobody can make the server
    /// post to addresses of its own network).
    pub plain_http_endpoints: bool,
}

impl Providers {
    /// The providers the settings give credentials for.
    pub fn from_config(config: &crate::config::Config) -> anyhow::Result<Self> {
        let settings = &config.push;
        let web_push = settings.vapid.clone().map(WebPush::new);
        Ok(Providers {
            apns: settings
                .apns
                .clone()
                .map(|s| Arc::new(Apns::new(s)) as Arc<dyn Provider>),
            fcm: settings
                .fcm
                .clone()
                .map(|s| Arc::new(Fcm::new(s)) as Arc<dyn Provider>),
            vapid_public_key: web_push.as_ref().map(WebPush::public_key),
            web_push: web_push.map(|w| Arc::new(w) as Arc<dyn Provider>),
            plain_http_endpoints: config.mode == crate::config::Mode::Development,
        })
    }

    pub fn of(&self, platform: Platform) -> Option<&dyn Provider> {
        match platform {
            Platform::Ios => self.apns.as_deref(),
            Platform::Android => self.fcm.as_deref(),
            Platform::WebPush => self.web_push.as_deref(),
        }
    }

    /// The platforms devices may be registered for.
    pub fn platforms(&self) -> Vec<Platform> {
        [Platform::Ios, Platform::Android, Platform::WebPush]
            .into_iter()
            .filter(|p| self.of(*p).is_some())
            .collect()
    }
}

impl std::fmt::Debug for Providers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Providers")
            .field("platforms", &self.platforms())
            .finish()
    }
}
