use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{ErrorKind as IoKind, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};

use crate::store::{Lease, StoredValue, TokenStore, new_revision};
use crate::{Error, ErrorKind, Result};

/// A [`TokenStore`] in a directory: processes on one machine share one token per
/// credential.
///
/// One file per key, readable by its owner alone (`0600`, in a `0700` directory), replaced
/// atomically (written aside, then renamed). The refresh lease is an advisory lock on a
/// second file: the operating system releases it when its holder exits or dies, so another
/// process takes over at once. Compare-and-set runs under a third, short-lived lock.
///
/// Keys are file names: characters other than ASCII letters, digits, `-`, `_` and `.` are
/// escaped.
///
/// ```no_run
/// # fn run(source: impl adauth_core::TokenSource + 'static) -> adauth_core::Result<()> {
/// use std::sync::Arc;
/// use adauth_core::{FileStore, TokenCache};
///
/// let store = Arc::new(FileStore::new("/var/cache/my-pipeline/tokens")?);
/// let cache = TokenCache::builder(source).store(store).build();
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct FileStore {
    dir: PathBuf,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Record {
    revision: String,
    value: String,
}

fn io_error(what: &str, path: &Path, e: std::io::Error) -> Error {
    Error::new("token store", ErrorKind::Transport)
        .with_message(format!("could not {what} {}", path.display()))
        .with_source(e)
}

impl FileStore {
    /// A store in `dir`, created (owner-only) if missing.
    pub fn new(dir: impl Into<PathBuf>) -> Result<Self> {
        let dir = dir.into();
        let mut builder = fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder
            .create(&dir)
            .map_err(|e| io_error("create", &dir, e))?;
        Ok(Self { dir })
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn file(&self, key: &str, suffix: &str) -> PathBuf {
        let mut name = String::with_capacity(key.len() + suffix.len());
        for c in key.chars() {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_') || (c == '.' && !name.is_empty())
            {
                name.push(c);
            } else {
                name.push_str(&format!("%{:02x}", u32::from(c)));
            }
        }
        name.push_str(suffix);
        self.dir.join(name)
    }

    fn read(path: &Path) -> Result<Option<StoredValue>> {
        let text = match fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == IoKind::NotFound => return Ok(None),
            Err(e) if e.kind() == IoKind::InvalidData => {
                tracing::warn!(path = %path.display(), "ignoring a token file that is not text");
                return Ok(None);
            }
            Err(e) => return Err(io_error("read", path, e)),
        };
        match serde_json::from_str::<Record>(&text) {
            Ok(record) => Ok(Some(StoredValue {
                revision: record.revision,
                value: SecretString::from(record.value),
            })),
            Err(_) => {
                tracing::warn!(path = %path.display(), "ignoring an unreadable token file; it will be replaced");
                Ok(None)
            }
        }
    }

    fn open_lock(path: &Path) -> Result<File> {
        let mut options = OpenOptions::new();
        options.create(true).truncate(false).write(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        options.open(path).map_err(|e| io_error("open", path, e))
    }

    fn write_atomically(&self, path: &Path, contents: &str) -> Result<()> {
        let temp = path.with_extension(format!("tmp-{}", new_revision()));
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let written = options.open(&temp).and_then(|mut file| {
            file.write_all(contents.as_bytes())?;
            file.sync_all()
        });
        let renamed = written.and_then(|()| fs::rename(&temp, path));
        if let Err(e) = renamed {
            let _ = fs::remove_file(&temp);
            return Err(io_error("write", path, e));
        }
        Ok(())
    }

    fn cas(
        &self,
        key: &str,
        expected: Option<&str>,
        value: &SecretString,
    ) -> Result<Option<String>> {
        let lock_path = self.file(key, ".write-lock");
        let lock = Self::open_lock(&lock_path)?;
        lock.lock().map_err(|e| io_error("lock", &lock_path, e))?;
        let path = self.file(key, ".token");
        let current = Self::read(&path)?;
        if current.as_ref().map(|v| v.revision.as_str()) != expected {
            return Ok(None);
        }
        let revision = new_revision();
        let record = Record {
            revision: revision.clone(),
            value: value.expose_secret().to_owned(),
        };
        let text = serde_json::to_string(&record).unwrap_or_default();
        self.write_atomically(&path, &text)?;
        Ok(Some(revision))
        // The lock is released when `lock` is dropped.
    }
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f).await.map_err(|e| {
        Error::new("token store", ErrorKind::Transport)
            .with_message("a file operation did not complete")
            .with_source(e)
    })?
}

#[async_trait]
impl TokenStore for FileStore {
    async fn load(&self, key: &str) -> Result<Option<StoredValue>> {
        let path = self.file(key, ".token");
        blocking(move || Self::read(&path)).await
    }

    async fn compare_and_set(
        &self,
        key: &str,
        expected: Option<&str>,
        value: &SecretString,
    ) -> Result<Option<String>> {
        let (this, key, expected, value) = (
            self.clone(),
            key.to_owned(),
            expected.map(str::to_owned),
            value.clone(),
        );
        blocking(move || this.cas(&key, expected.as_deref(), &value)).await
    }

    /// The lease is an advisory lock, held until released, dropped or its holder dies;
    /// `ttl` does not apply.
    async fn try_lease(&self, key: &str, _ttl: Duration) -> Result<Option<Lease>> {
        let path = self.file(key, ".lease");
        blocking(move || {
            let file = Self::open_lock(&path)?;
            match file.try_lock() {
                Ok(()) => Ok(Some(Lease::new(new_revision()).with_guard(file))),
                Err(TryLockError::WouldBlock) => Ok(None),
                Err(TryLockError::Error(e)) => Err(io_error("lock", &path, e)),
            }
        })
        .await
    }

    async fn release(&self, _key: &str, lease: Lease) -> Result<()> {
        // Closing the file releases the lock.
        drop(lease);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(s: &str) -> SecretString {
        SecretString::from(s.to_owned())
    }

    #[tokio::test]
    async fn compare_and_set_and_leases() {
        let dir = std::env::temp_dir().join(format!("adauth-file-store-{}", new_revision()));
        let store = FileStore::new(&dir).unwrap();
        assert!(store.load("fyber-1").await.unwrap().is_none());
        let r1 = store
            .compare_and_set("fyber-1", None, &value("a"))
            .await
            .unwrap()
            .unwrap();
        assert!(
            store
                .compare_and_set("fyber-1", None, &value("b"))
                .await
                .unwrap()
                .is_none()
        );
        let r2 = store
            .compare_and_set("fyber-1", Some(&r1), &value("c"))
            .await
            .unwrap()
            .unwrap();
        assert_ne!(r1, r2);
        let loaded = store.load("fyber-1").await.unwrap().unwrap();
        assert_eq!(loaded.revision, r2);
        assert_eq!(loaded.value.expose_secret(), "c");

        let lease = store
            .try_lease("fyber-1", Duration::from_secs(1))
            .await
            .unwrap();
        assert!(lease.is_some());
        assert!(
            store
                .try_lease("fyber-1", Duration::from_secs(1))
                .await
                .unwrap()
                .is_none()
        );
        store.release("fyber-1", lease.unwrap()).await.unwrap();
        assert!(
            store
                .try_lease("fyber-1", Duration::from_secs(1))
                .await
                .unwrap()
                .is_some()
        );

        // Keys cannot escape the directory.
        assert_eq!(store.file("../x/y", ".token").parent(), Some(dir.as_path()));

        // A corrupt file reads as empty and is replaced.
        fs::write(store.file("bad", ".token"), "{not json").unwrap();
        assert!(store.load("bad").await.unwrap().is_none());
        assert!(
            store
                .compare_and_set("bad", None, &value("d"))
                .await
                .unwrap()
                .is_some()
        );

        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&store.file("fyber-1", ".token")), 0o600);
            assert_eq!(mode(&dir), 0o700);
        }
        let _ = fs::remove_dir_all(&dir);
    }
}
