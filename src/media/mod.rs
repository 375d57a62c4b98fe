//! Photos' files: processing uploads (`process`) and storing what they become (`store`).
//! The rows that name the files are `domain::images`'.

pub mod process;
pub mod store;

use std::sync::Arc;

use tokio::sync::Semaphore;

use crate::error::{AppError, AppResult};
use crate::media::process::{Processed, Refused};
use crate::media::store::Store;

/// The largest upload accepted, in bytes (15 MiB).
pub const MAX_UPLOAD_BYTES: usize = 15 * 1024 * 1024;

/// Uploads held in memory at once, per core (see `Media::uploads`).
const UPLOADS_IN_MEMORY_PER_CORE: usize = 4;

/// The store, where its files are reached from, and the bound on processing.
#[derive(Clone)]
pub struct Media {
    pub store: Arc<dyn Store>,
    /// Absolute URL prefix of stored files, without the trailing slash
    /// (`KITH_MEDIA_PUBLIC_URL`, or `KITH_PUBLIC_URL` + `/media`).
    pub public_url: String,
    /// One permit per core: processing is CPU-bound and takes up to a few hundred MB, so
    /// more at once would only queue on the cores and add to the peak memory.
    permits: Arc<Semaphore>,
    /// Uploads held in memory at once (read, waiting, processed): each is up to 15 MiB, so
    /// this bounds what a crowd of uploads can take. More wait before their body is read.
    pub uploads: Arc<Semaphore>,
}

/// An upload, stored: the names of its versions (SMALL, MEDIUM, LARGE) and what the row
/// keeps.
#[derive(Debug, Clone)]
pub struct Stored {
    pub small: String,
    pub medium: String,
    pub large: String,
    pub width: u32,
    pub height: u32,
    pub blurhash: String,
}

impl Media {
    pub fn new(store: Arc<dyn Store>, public_url: String, cores: usize) -> Self {
        Media {
            store,
            public_url,
            permits: Arc::new(Semaphore::new(cores.max(1))),
            uploads: Arc::new(Semaphore::new(UPLOADS_IN_MEMORY_PER_CORE * cores.max(1))),
        }
    }

    /// The URL a stored file is served at.
    pub fn url(&self, name: &str) -> String {
        format!("{}/{name}", self.public_url)
    }

    /// Processes an upload on the blocking pool (at most one per core at a time) and stores
    /// its versions. A refused upload is BAD_USER_INPUT on `field`.
    pub async fn store_upload(&self, bytes: bytes::Bytes, field: &str) -> AppResult<Stored> {
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(AppError::internal)?;
        let processed = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            process::process(&bytes)
        })
        .await
        .map_err(AppError::internal)?;
        let processed = processed.map_err(|refused| refusal(field, &refused))?;
        self.put(processed).await
    }

    async fn put(&self, processed: Processed) -> AppResult<Stored> {
        let mut names = Vec::with_capacity(3);
        for version in processed.versions {
            let name = store::name_for(&version.bytes, version.size);
            self.store
                .put(&name, version.bytes)
                .await
                .map_err(AppError::internal)?;
            names.push(name);
        }
        let [small, medium, large]: [String; 3] = names
            .try_into()
            .map_err(|_| AppError::internal(anyhow::anyhow!("an image without three sizes")))?;
        Ok(Stored {
            small,
            medium,
            large,
            width: processed.width,
            height: processed.height,
            blurhash: processed.blurhash,
        })
    }

    /// Deletes files (those no row names any more); a failure is logged and left to the
    /// sweep.
    pub async fn delete_files(&self, names: &[String]) {
        for name in names {
            if let Err(err) = self.store.delete(name).await {
                tracing::warn!(error = %err, name, "deleting a media file; the sweep will retry");
            }
        }
    }
}

fn refusal(field: &str, refused: &Refused) -> AppError {
    AppError::bad_input(field, refused.to_string())
}
