//! Where stored image files live, behind one trait, chosen at start-up: a local folder
//! ([`LocalDir`], `KITH_MEDIA_DIR`) or an S3-compatible bucket ([`Bucket`], `KITH_S3_URL`),
//! which several processes share. Either way `/media/{name}` serves the files (see
//! `http::media`), so URLs do not depend on where they are kept.
//!
//! Names are content-derived ([`name_for`]): the same bytes always get the same name, so a
//! file is never changed once written, may be cached forever, and writing it twice is
//! harmless.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use futures::TryStreamExt;
use object_store::aws::AmazonS3Builder;
use object_store::path::Path as ObjectPath;
use object_store::{
    Attribute, AttributeValue, Attributes, ClientOptions, ObjectStore, RetryConfig,
};
use sha2::{Digest, Sha256};

use crate::config::S3Settings;
use crate::media::process::Size;

/// How long clients and CDNs may keep a file: a year, and never revalidate it. Sent by
/// `/media/{name}`, and stored with each object of a bucket for a CDN that serves it directly.
pub const CACHE_FOREVER: &str = "public, max-age=31536000, immutable";

/// A stored file's name: the SHA-256 of its bytes, the size it fits, `.jpg`
/// (`3f…a9.640.jpg`).
pub fn name_for(bytes: &[u8], size: Size) -> String {
    format!(
        "{}.{}.jpg",
        hex::encode(Sha256::digest(bytes)),
        size.bound()
    )
}

/// Whether `name` is one [`name_for`] could have made. Only such names are ever read,
/// written or deleted, so no path from outside reaches anything else (`../`, `/etc`).
pub fn is_valid_name(name: &str) -> bool {
    let Some((hash, rest)) = name.split_once('.') else {
        return false;
    };
    hash.len() == 64
        && hash.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        && Size::ALL
            .iter()
            .any(|size| rest == format!("{}.jpg", size.bound()))
}

/// The media type of a stored file, by its name.
pub fn content_type(name: &str) -> &'static str {
    if name.ends_with(".jpg") {
        "image/jpeg"
    } else {
        "application/octet-stream"
    }
}

/// A stored file, as listed for the sweep.
#[derive(Debug, Clone)]
pub struct Listed {
    pub name: String,
    pub modified: SystemTime,
}

/// Where files go. Every name passed in is a valid one ([`is_valid_name`]).
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Writes a file (whole or not at all).
    async fn put(&self, name: &str, bytes: Vec<u8>) -> std::io::Result<()>;
    /// Reads a file; `None` when there is none.
    async fn get(&self, name: &str) -> std::io::Result<Option<Vec<u8>>>;
    /// Deletes a file; deleting one that is not there is not an error.
    async fn delete(&self, name: &str) -> std::io::Result<()>;
    /// Every stored file, for the sweep of files no row names.
    async fn list(&self) -> std::io::Result<Vec<Listed>>;
}

/// Files in one local folder.
pub struct LocalDir {
    dir: PathBuf,
}

impl LocalDir {
    /// The folder is made when missing.
    pub fn new(dir: PathBuf) -> std::io::Result<Self> {
        std::fs::create_dir_all(&dir)?;
        Ok(LocalDir { dir })
    }

    fn path(&self, name: &str) -> std::io::Result<PathBuf> {
        if !is_valid_name(name) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "not a media file name",
            ));
        }
        Ok(self.dir.join(name))
    }
}

#[async_trait]
impl Store for LocalDir {
    async fn put(&self, name: &str, bytes: Vec<u8>) -> std::io::Result<()> {
        let path = self.path(name)?;
        if tokio::fs::try_exists(&path).await? {
            // The same picture again: the file is the same. Its time is renewed so that the
            // sweep's grace period covers this upload until its transaction commits.
            let touched = tokio::task::spawn_blocking(move || {
                std::fs::File::options()
                    .append(true)
                    .open(&path)?
                    .set_modified(SystemTime::now())
            })
            .await
            .map_err(std::io::Error::other)?;
            return match touched {
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                    self.put(name, bytes).await
                }
                other => other,
            };
        }
        // Written aside, flushed and renamed into place: a reader never sees half a file,
        // and a crash leaves at most a `.part` file behind.
        let temporary = self
            .dir
            .join(format!(".{name}.{}.part", uuid::Uuid::now_v7().simple()));
        let written = async {
            let mut file = tokio::fs::File::create(&temporary).await?;
            tokio::io::AsyncWriteExt::write_all(&mut file, &bytes).await?;
            file.sync_all().await?;
            tokio::fs::rename(&temporary, &path).await
        }
        .await;
        if written.is_err() {
            let _ = tokio::fs::remove_file(&temporary).await;
        }
        written
    }

    async fn get(&self, name: &str) -> std::io::Result<Option<Vec<u8>>> {
        match tokio::fs::read(self.path(name)?).await {
            Ok(bytes) => Ok(Some(bytes)),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(err) => Err(err),
        }
    }

    async fn delete(&self, name: &str) -> std::io::Result<()> {
        match tokio::fs::remove_file(self.path(name)?).await {
            Err(err) if err.kind() != std::io::ErrorKind::NotFound => Err(err),
            _ => Ok(()),
        }
    }

    async fn list(&self) -> std::io::Result<Vec<Listed>> {
        let mut entries = tokio::fs::read_dir(&self.dir).await?;
        let mut listed = Vec::new();
        while let Some(entry) = entries.next_entry().await? {
            let Ok(name) = entry.file_name().into_string() else {
                continue;
            };
            if !is_valid_name(&name) {
                continue;
            }
            let modified = entry.metadata().await?.modified()?;
            listed.push(Listed { name, modified });
        }
        Ok(listed)
    }
}

/// Files in an object store: an S3-compatible bucket (`KITH_S3_URL`), under an optional
/// prefix. Objects are written whole by a single PUT, so a reader never sees half a file.
pub struct Bucket {
    store: Arc<dyn ObjectStore>,
    /// The folder inside the bucket, empty for its root.
    prefix: String,
}

impl Bucket {
    /// The bucket `settings` name. Nothing is sent until the first file is stored or read.
    pub fn s3(settings: &S3Settings) -> object_store::Result<Self> {
        // A store that does not answer fails an upload (or a `/media` request) within
        // seconds, instead of holding it for the client's default three minutes of retries.
        let mut builder = AmazonS3Builder::new()
            .with_bucket_name(&settings.bucket)
            .with_region(&settings.region)
            .with_client_options(
                ClientOptions::new()
                    .with_connect_timeout(Duration::from_secs(5))
                    .with_timeout(Duration::from_secs(30)),
            )
            .with_retry(RetryConfig {
                max_retries: 3,
                retry_timeout: Duration::from_secs(30),
                ..RetryConfig::default()
            });
        if let Some(endpoint) = &settings.endpoint {
            builder = builder
                .with_endpoint(endpoint)
                .with_allow_http(endpoint.starts_with("http://"));
        }
        if let (Some(id), Some(secret)) = (&settings.access_key_id, &settings.secret_access_key) {
            builder = builder
                .with_access_key_id(id)
                .with_secret_access_key(secret);
        }
        if let Some(token) = &settings.session_token {
            builder = builder.with_token(token);
        }
        Ok(Bucket::new(Arc::new(builder.build()?), &settings.prefix))
    }

    /// Any object store, for tests of the trait's behaviour.
    pub fn new(store: Arc<dyn ObjectStore>, prefix: &str) -> Self {
        Bucket {
            store,
            prefix: prefix.trim_matches('/').to_owned(),
        }
    }

    fn path(&self, name: &str) -> std::io::Result<ObjectPath> {
        if !is_valid_name(name) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "not a media file name",
            ));
        }
        Ok(if self.prefix.is_empty() {
            ObjectPath::from(name)
        } else {
            ObjectPath::from(format!("{}/{name}", self.prefix))
        })
    }
}

#[async_trait]
impl Store for Bucket {
    async fn put(&self, name: &str, bytes: Vec<u8>) -> std::io::Result<()> {
        // Written again when it exists: the same bytes, and a new modification time that
        // keeps the sweep's grace period over this upload until its transaction commits.
        // Its type and caching go with it, for a CDN in front of the bucket
        // (`KITH_MEDIA_PUBLIC_URL`) that serves objects as they are.
        let attributes = Attributes::from_iter([
            (
                Attribute::ContentType,
                AttributeValue::from(content_type(name)),
            ),
            (Attribute::CacheControl, AttributeValue::from(CACHE_FOREVER)),
        ]);
        self.store
            .put_opts(&self.path(name)?, bytes.into(), attributes.into())
            .await?;
        Ok(())
    }

    async fn get(&self, name: &str) -> std::io::Result<Option<Vec<u8>>> {
        match self.store.get(&self.path(name)?).await {
            Ok(found) => Ok(Some(found.bytes().await?.to_vec())),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(err) => Err(err.into()),
        }
    }

    async fn delete(&self, name: &str) -> std::io::Result<()> {
        match self.store.delete(&self.path(name)?).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(err) => Err(err.into()),
        }
    }

    async fn list(&self) -> std::io::Result<Vec<Listed>> {
        let prefix = (!self.prefix.is_empty()).then(|| ObjectPath::from(self.prefix.as_str()));
        let objects: Vec<object_store::ObjectMeta> =
            self.store.list(prefix.as_ref()).try_collect().await?;
        Ok(objects
            .into_iter()
            .filter_map(|object| {
                // Only files directly in the prefix, with names Kith makes: whatever else
                // shares the bucket is not the sweep's to delete.
                let name = object.location.filename()?.to_owned();
                let expected = self.path(&name).ok()?;
                (expected == object.location).then(|| Listed {
                    name,
                    modified: object.last_modified.into(),
                })
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_names_we_make_are_valid() {
        let name = name_for(b"bytes", Size::Medium);
        assert!(name.ends_with(".640.jpg"));
        assert!(is_valid_name(&name));
        assert!(!is_valid_name("../kith.db"));
        assert!(!is_valid_name(&format!("{}.640.jpg/..", &name[..64])));
        assert!(!is_valid_name(&name.to_uppercase()));
        assert!(!is_valid_name(&format!("{}.641.jpg", &name[..64])));
        assert!(!is_valid_name(""));
    }

    #[tokio::test]
    async fn files_are_written_read_listed_and_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalDir::new(dir.path().join("media")).unwrap();
        let name = name_for(b"x", Size::Small);
        assert_eq!(store.get(&name).await.unwrap(), None);
        store.put(&name, b"x".to_vec()).await.unwrap();
        store.put(&name, b"x".to_vec()).await.unwrap();
        assert_eq!(store.get(&name).await.unwrap().as_deref(), Some(&b"x"[..]));
        assert_eq!(store.list().await.unwrap().len(), 1);
        store.delete(&name).await.unwrap();
        store.delete(&name).await.unwrap();
        assert_eq!(store.get(&name).await.unwrap(), None);
        assert!(store.get("../../etc/passwd").await.is_err());
    }

    #[tokio::test]
    async fn a_bucket_keeps_to_its_prefix_and_the_names_we_make() {
        let memory: Arc<dyn ObjectStore> = Arc::new(object_store::memory::InMemory::new());
        let store = Bucket::new(memory.clone(), "/kith/photos/");
        let name = name_for(b"x", Size::Small);
        assert_eq!(store.get(&name).await.unwrap(), None);
        store.put(&name, b"x".to_vec()).await.unwrap();
        store.put(&name, b"x".to_vec()).await.unwrap();
        assert_eq!(store.get(&name).await.unwrap().as_deref(), Some(&b"x"[..]));
        let at = ObjectPath::from(format!("kith/photos/{name}"));
        let stored = memory.get(&at).await.unwrap();
        assert_eq!(
            stored
                .attributes
                .get(&Attribute::ContentType)
                .map(|v| v.as_ref()),
            Some("image/jpeg")
        );
        assert_eq!(
            stored
                .attributes
                .get(&Attribute::CacheControl)
                .map(|v| v.as_ref()),
            Some(CACHE_FOREVER)
        );
        // Someone else's objects in the bucket, or in a folder below, are not listed.
        let other = name_for(b"y", Size::Large);
        for path in [
            other.clone(),
            format!("kith/{other}"),
            format!("kith/photos/x/{other}"),
        ] {
            memory
                .put(&ObjectPath::from(path), b"y".to_vec().into())
                .await
                .unwrap();
        }
        memory
            .put(
                &ObjectPath::from("kith/photos/notes.txt"),
                b"n".to_vec().into(),
            )
            .await
            .unwrap();
        let listed: Vec<String> = store
            .list()
            .await
            .unwrap()
            .into_iter()
            .map(|l| l.name)
            .collect();
        assert_eq!(listed, vec![name.clone()]);
        store.delete(&name).await.unwrap();
        store.delete(&name).await.unwrap();
        assert_eq!(store.get(&name).await.unwrap(), None);
        assert!(store.get("../../etc/passwd").await.is_err());
    }
}
