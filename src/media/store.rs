//! Where stored image files live, behind one trait: a local folder now (`KITH_MEDIA_DIR`);
//! an S3-compatible object store (`KITH_S3_URL`) is meant to be a second implementation of
//! the same trait, chosen at start-up.
//!
//! Names are content-derived ([`name_for`]): the same bytes always get the same name, so a
//! file is never changed once written, may be cached forever, and writing it twice is
//! harmless.

use std::path::PathBuf;
use std::time::SystemTime;

use async_trait::async_trait;
use sha2::{Digest, Sha256};

use crate::media::process::Size;

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
}
