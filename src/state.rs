//! What every request shares: the pool, configuration, keys and outgoing channels. Nothing
//! here knows a transport: HTTP and WebSocket both build on it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use sea_orm::DatabaseConnection;

use crate::auth::{AccessTokens, Keys, MeetingTokens, PasswordHasher};
use crate::config::Config;
use crate::domain::kept_pages::KeptPages;
use crate::effects::Outlets;
use crate::live::{Bus, Connections};
use crate::media::Media;
use crate::media::store::{Bucket, LocalDir, Store};
use crate::metrics::Metrics;
use crate::notify::Mailer;

#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub config: Arc<Config>,
    pub keys: Arc<Keys>,
    pub access_tokens: Arc<AccessTokens>,
    pub meeting_tokens: Arc<MeetingTokens>,
    pub hasher: PasswordHasher,
    pub metrics: Metrics,
    /// Where the effects of committed changes go: the change bus and the mailer.
    pub outlets: Outlets,
    /// Open subscription connections per member, in this process.
    pub connections: Connections,
    /// Photos' files: their store, their URLs, the bound on processing uploads.
    pub media: Media,
    /// Pages of groups' upcoming events, kept while their group's version holds.
    pub kept_pages: Arc<KeptPages>,
    shutting_down: Arc<AtomicBool>,
}

impl AppState {
    pub fn new(config: Config, db: DatabaseConnection, metrics: Metrics) -> anyhow::Result<Self> {
        let keys = Keys::derive(&config.jwt_secret);
        let access_tokens = AccessTokens::new(&keys.access_token);
        let meeting_tokens = MeetingTokens::new(&keys.meeting_token);
        let mailer = Mailer::new(&config.mail, &config.mail_from)?;
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        PasswordHasher::warm_up();
        let store: Arc<dyn Store> = match &config.s3 {
            Some(s3) => {
                Arc::new(Bucket::s3(s3).map_err(|err| anyhow::anyhow!("KITH_S3_URL: {err}"))?)
            }
            None => Arc::new(LocalDir::new(config.media_dir.clone()).map_err(|err| {
                anyhow::anyhow!(
                    "KITH_MEDIA_DIR: cannot make {}: {err}",
                    config.media_dir.display()
                )
            })?),
        };
        let media = Media::new(store, config.media_public_url.clone(), cores);
        Ok(AppState {
            media,
            outlets: Outlets {
                db: db.clone(),
                bus: Bus::new(db.clone()),
                mailer,
                push: crate::notify::push::Providers::from_config(&config)?,
            },
            connections: Connections::default(),
            kept_pages: Arc::default(),
            db,
            keys: Arc::new(keys),
            access_tokens: Arc::new(access_tokens),
            meeting_tokens: Arc::new(meeting_tokens),
            hasher: PasswordHasher::new(cores),
            metrics,
            config: Arc::new(config),
            shutting_down: Arc::new(AtomicBool::new(false)),
        })
    }

    /// The change bus, for subscribers.
    pub fn bus(&self) -> &Bus {
        &self.outlets.bus
    }

    /// From now on `/readyz` answers 503, so load balancers stop sending new work.
    pub fn begin_shutdown(&self) {
        self.shutting_down.store(true, Ordering::SeqCst);
    }

    pub fn is_shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::SeqCst)
    }
}
