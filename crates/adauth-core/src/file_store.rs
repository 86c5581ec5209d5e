use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{ErrorKind as IoKind, Read as _, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};

use crate::secret_buf::SecretBuf;
use crate::store::{Lease, StoredValue, TokenStore, new_revision};
use crate::{Error, ErrorKind, Result};

/// A [`TokenStore`] in a directory: processes on one machine share one token per
/// credential.
///
/// One file per key, readable by its owner alone (`0600`, in a `0700` directory that no other
/// user may write to), replaced atomically (written aside, then renamed). No file is ever
/// opened through a symbolic link: a planted token file is ignored and replaced, a planted
/// lock file is an error (the cache then goes on without the store). The refresh lease is an advisory lock on a
/// second file: the operating system releases it when its holder exits or dies, so another
/// process takes over at once. Compare-and-set runs under a third, short-lived lock.
///
/// Keys are file names: every byte other than a lower-case ASCII letter, a digit, `-`, `_`
/// or a `.` that does not start the name is written `%xx`, so that two keys never share a
/// file, even on a case-insensitive file system; a name that would be longer than 200 bytes
/// is a digest of the key instead. Files that are not regular files (a named pipe planted
/// where a token file should be) are never read: they count as absent and are replaced.
///
/// A token file holds `adauth token file 1`, the revision and the value, each on its own
/// line, with no escaping, so that the value is read straight into a buffer that is wiped
/// when dropped.
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

/// A token file: this first line, the revision on the second, then the value, verbatim,
/// to the end of the file. No escaping, so the value is read straight into a wiped buffer.
const FILE_HEADER: &[u8] = b"adauth token file 1\n";

/// The revision and the value of a token file; `None` if it is not one.
fn parse_file(bytes: &[u8]) -> Option<StoredValue> {
    let rest = bytes.strip_prefix(FILE_HEADER)?;
    let end = rest.iter().position(|&b| b == b'\n')?;
    let revision = std::str::from_utf8(&rest[..end]).ok()?;
    if revision.is_empty()
        || revision.len() > 64
        || !revision.bytes().all(|b| b.is_ascii_alphanumeric())
    {
        return None;
    }
    let mut value = SecretBuf::with_capacity(rest.len() - end - 1);
    value.extend(&rest[end + 1..]);
    Some(StoredValue {
        revision: revision.to_owned(),
        value: value.into_secret_string()?,
    })
}

/// The largest token file read; a record is a few kilobytes.
const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// How often a waiter looks at the token file and the lease.
const POLL_INTERVAL: Duration = Duration::from_millis(100);

/// The file name of `key`; see [`FileStore`].
fn file_name(key: &str) -> String {
    let mut name = String::with_capacity(key.len());
    for b in key.bytes() {
        let plain = b.is_ascii_lowercase()
            || b.is_ascii_digit()
            || b == b'-'
            || b == b'_'
            || (b == b'.' && !name.is_empty());
        if plain {
            name.push(char::from(b));
        } else {
            name.push_str(&format!("%{b:02x}"));
        }
    }
    if name.len() > 200 {
        // `%%` never appears in an escaped name (`%` itself is `%25`).
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(key.as_bytes());
        name = digest.iter().fold(String::from("%%"), |mut hex, b| {
            hex.push_str(&format!("{b:02x}"));
            hex
        });
    }
    name
}

/// Whether opening failed because the path is a symbolic link (`O_NOFOLLOW`).
fn is_link_refusal(e: &std::io::Error) -> bool {
    #[cfg(unix)]
    {
        e.raw_os_error() == Some(rustix::io::Errno::LOOP.raw_os_error())
    }
    #[cfg(not(unix))]
    {
        let _ = e;
        false
    }
}

fn io_error(what: &str, path: &Path, e: std::io::Error) -> Error {
    Error::new("token store", ErrorKind::Transport)
        .with_message(format!("could not {what} {}", path.display()))
        .with_source(e)
}

impl FileStore {
    /// A store in `dir`, created (owner-only) if missing.
    ///
    /// An existing directory must belong to the current user and be writable by nobody
    /// else; otherwise this is a [`Configuration`](ErrorKind::Configuration) error that
    /// names the directory and the fix.
    pub fn new(dir: impl Into<PathBuf>) -> Result<Self> {
        let dir = dir.into();
        let mut builder = fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder
            .create(&dir)
            .map_err(|e| io_error("create", &dir, e))?;
        #[cfg(unix)]
        Self::check_private(&dir)?;
        Ok(Self { dir })
    }

    /// Refuses a directory that another local user could write to (or owns): they could
    /// plant a token, or a link to somewhere else, for this process to use.
    #[cfg(unix)]
    fn check_private(dir: &Path) -> Result<()> {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let metadata = fs::metadata(dir).map_err(|e| io_error("read", dir, e))?;
        let me = rustix::process::geteuid().as_raw();
        let refuse = |why: String| {
            Err(Error::configuration(
                "token store",
                format!("refusing the token directory {}: {why}", dir.display()),
            ))
        };
        if !metadata.is_dir() {
            return refuse("it is not a directory".to_owned());
        }
        if metadata.uid() != me {
            return refuse(format!(
                "it belongs to user {}, not to this user ({me}); use a directory of your own",
                metadata.uid()
            ));
        }
        let mode = metadata.permissions().mode() & 0o777;
        if mode & 0o022 != 0 {
            return refuse(format!(
                "other users can write to it (mode {mode:03o}); run `chmod 700 {}`",
                dir.display()
            ));
        }
        Ok(())
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn file(&self, key: &str, suffix: &str) -> PathBuf {
        let mut name = file_name(key);
        name.push_str(suffix);
        self.dir.join(name)
    }

    fn read(path: &Path) -> Result<Option<StoredValue>> {
        let mut options = OpenOptions::new();
        options.read(true);
        // Never block on a named pipe, never follow a link planted in the directory.
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::custom_flags(
            &mut options,
            (rustix::fs::OFlags::NONBLOCK | rustix::fs::OFlags::NOFOLLOW).bits() as i32,
        );
        let mut file = match options.open(path) {
            Ok(file) => file,
            Err(e) if e.kind() == IoKind::NotFound => return Ok(None),
            Err(e) if is_link_refusal(&e) => {
                tracing::warn!(path = %path.display(), "ignoring a token file that is a symbolic link; it will be replaced");
                return Ok(None);
            }
            Err(e) => return Err(io_error("read", path, e)),
        };
        let metadata = file.metadata().map_err(|e| io_error("read", path, e))?;
        if !metadata.is_file() {
            tracing::warn!(path = %path.display(), "ignoring a token file that is not a regular file; it will be replaced");
            return Ok(None);
        }
        // Read into a buffer of the file's size, wiped when dropped; a file that grows past
        // the cap while being read is refused like a larger one.
        let size = metadata.len().min(MAX_FILE_BYTES + 1) as usize;
        let mut bytes = SecretBuf::with_capacity(size + 1);
        let mut chunk = zeroize::Zeroizing::new([0u8; 4096]);
        loop {
            let n = match file.read(&mut chunk[..]) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == IoKind::Interrupted => continue,
                Err(e) => return Err(io_error("read", path, e)),
            };
            if (bytes.len() + n) as u64 > MAX_FILE_BYTES {
                bytes = SecretBuf::with_capacity(0);
                break;
            }
            bytes.extend(&chunk[..n]);
        }
        match parse_file(bytes.as_slice()) {
            Some(value) => Ok(Some(value)),
            None => {
                tracing::warn!(path = %path.display(), "ignoring an unreadable token file; it will be replaced");
                Ok(None)
            }
        }
    }

    fn open_lock(path: &Path) -> Result<File> {
        let mut options = OpenOptions::new();
        options.create(true).truncate(false).write(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
            // A link planted in place of a lock file would have its target created.
            options.custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32);
        }
        options.open(path).map_err(|e| {
            if is_link_refusal(&e) {
                Error::new("token store", ErrorKind::Transport).with_message(format!(
                    "refusing {}: it is a symbolic link",
                    path.display()
                ))
            } else {
                io_error("open", path, e)
            }
        })
    }

    fn write_atomically(&self, path: &Path, revision: &str, value: &SecretString) -> Result<()> {
        let temp = path.with_extension(format!("tmp-{}", new_revision()));
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let written = options.open(&temp).and_then(|mut file| {
            // Written in parts: no buffer joins the value to the rest.
            file.write_all(FILE_HEADER)?;
            file.write_all(revision.as_bytes())?;
            file.write_all(b"\n")?;
            file.write_all(value.expose_secret().as_bytes())?;
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
        self.write_atomically(&path, &revision, value)?;
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

    /// The lock lasts as long as its holder, so there is nothing to extend; the lease is
    /// lost only if its lock file was replaced meanwhile (another holder then locks the new
    /// file).
    async fn renew(&self, key: &str, lease: &Lease, _ttl: Duration) -> Result<bool> {
        #[cfg(unix)]
        if let Some(file) = lease.guard::<File>() {
            use std::os::unix::fs::MetadataExt;
            let path = self.file(key, ".lease");
            let held = file.metadata().map_err(|e| io_error("read", &path, e))?;
            return Ok(match fs::symlink_metadata(&path) {
                Ok(now) => now.dev() == held.dev() && now.ino() == held.ino(),
                Err(e) if e.kind() == IoKind::NotFound => false,
                Err(e) => return Err(io_error("read", &path, e)),
            });
        }
        let _ = (key, lease);
        Ok(true)
    }

    async fn release(&self, _key: &str, lease: Lease) -> Result<()> {
        // Closing the file releases the lock.
        drop(lease);
        Ok(())
    }

    /// Looks every 100 ms at the token file, and at the lease: a free lease means its
    /// holder finished (or died) without writing, so waiting ends then too.
    async fn wait_for_change(
        &self,
        key: &str,
        seen: Option<&str>,
        timeout: Duration,
    ) -> Result<()> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let current = self.load(key).await?;
            if current.as_ref().map(|v| v.revision.as_str()) != seen {
                return Ok(());
            }
            if let Some(lease) = self.try_lease(key, timeout).await? {
                self.release(key, lease).await?;
                return Ok(());
            }
            let now = tokio::time::Instant::now();
            if now >= deadline {
                return Ok(());
            }
            tokio::time::sleep((deadline - now).min(POLL_INTERVAL)).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn a_directory_others_can_write_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("adauth-open-dir-{}", new_revision()));
        fs::create_dir(&dir).unwrap();
        for mode in [0o777, 0o770, 0o702] {
            fs::set_permissions(&dir, fs::Permissions::from_mode(mode)).unwrap();
            let err = FileStore::new(&dir).unwrap_err();
            assert!(err.is_configuration(), "{err}");
            let text = err.to_string();
            assert!(text.contains(&dir.display().to_string()), "{text}");
            assert!(text.contains("chmod 700"), "{text}");
        }
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o700)).unwrap();
        assert!(FileStore::new(&dir).is_ok());
        let _ = fs::remove_dir_all(&dir);
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn links_planted_in_the_directory_are_never_followed() {
        let dir = std::env::temp_dir().join(format!("adauth-links-{}", new_revision()));
        let store = FileStore::new(&dir).unwrap();
        let elsewhere = std::env::temp_dir().join(format!("adauth-planted-{}", new_revision()));
        fs::create_dir(&elsewhere).unwrap();
        // A token file that is a link to a planted record: not read.
        let planted = elsewhere.join("planted");
        fs::write(&planted, "adauth token file 1\nr\nplanted").unwrap();
        std::os::unix::fs::symlink(&planted, store.file("k", ".token")).unwrap();
        assert!(store.load("k").await.unwrap().is_none());
        // Replaced, not written through.
        store
            .compare_and_set("k", None, &value("mine"))
            .await
            .unwrap()
            .unwrap();
        assert!(
            fs::symlink_metadata(store.file("k", ".token"))
                .unwrap()
                .is_file()
        );
        assert_eq!(
            fs::read_to_string(&planted).unwrap(),
            "adauth token file 1\nr\nplanted"
        );
        // A lease file that is a link: an error, and its target is not created.
        let target = elsewhere.join("created");
        std::os::unix::fs::symlink(&target, store.file("k", ".lease")).unwrap();
        let err = store
            .try_lease("k", Duration::from_secs(1))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("symbolic link"), "{err}");
        assert!(!target.exists());
        let _ = fs::remove_dir_all(&dir);
        let _ = fs::remove_dir_all(&elsewhere);
    }

    #[test]
    fn file_names_are_injective() {
        // Once both `%100`.
        assert_ne!(file_name("\u{100}"), file_name("\u{10}0"));
        // Once the same file on a case-insensitive file system.
        assert_ne!(
            file_name("A").to_ascii_lowercase(),
            file_name("a").to_ascii_lowercase()
        );
        let keys = [
            "",
            ".",
            "..",
            "%",
            "%25",
            "a",
            "A",
            "a.b",
            ".a",
            "a/b",
            "a%2fb",
            "\u{100}",
            "\u{10}0",
            "fyber-0123abcd",
            "x".repeat(300).leak(),
            "x".repeat(301).leak(),
        ];
        let names: std::collections::HashSet<String> = keys
            .iter()
            .map(|k| file_name(k).to_ascii_lowercase())
            .collect();
        assert_eq!(names.len(), keys.len());
        for name in &names {
            assert!(name.len() <= 200, "{name}");
            assert!(!name.starts_with('.') && !name.contains('/'), "{name}");
        }
        // Identities keep readable names.
        assert_eq!(file_name("fyber-0123abcd"), "fyber-0123abcd");
    }

    fn value(s: &str) -> SecretString {
        SecretString::from(s.to_owned())
    }

    /// The compare-and-set contract is `adauth_testkit::contract`'s, run against this store
    /// in the workspace's `tests/tests/testkit.rs`.
    #[tokio::test]
    async fn leases_paths_and_file_modes() {
        let dir = std::env::temp_dir().join(format!("adauth-file-store-{}", new_revision()));
        let store = FileStore::new(&dir).unwrap();
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
        assert_eq!(store.file("", ".token").parent(), Some(dir.as_path()));

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
            assert_eq!(mode(&store.file("bad", ".token")), 0o600);
            assert_eq!(mode(&dir), 0o700);
        }
        let _ = fs::remove_dir_all(&dir);
    }
}
