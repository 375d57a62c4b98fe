//! The push providers this server has credentials for, one per platform at most.

use std::sync::Arc;

use entity::device::Platform;

use crate::notify::push::Provider;

/// The configured providers. A platform without one cannot register devices.
#[derive(Clone, Default)]
pub struct Providers {
    pub apns: Option<Arc<dyn Provider>>,
    pub fcm: Option<Arc<dyn Provider>>,
    pub web_push: Option<Arc<dyn Provider>>,
    /// The VAPID public key apps subscribe with (base64url), when Web Push is configured.
    pub vapid_public_key: Option<String>,
}

impl Providers {
    /// The providers the settings give credentials for.
    pub fn from_config(_config: &crate::config::Config) -> anyhow::Result<Self> {
        Ok(Providers::default())
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
