//! The disk cache: one file per provider and credential identity, so that a second run
//! within a token's life makes no network request.
//!
//! Files hold [`Token::to_stored`] (a secret): the directory is created owner-only (0700),
//! each file is written owner-only (0600) to a temporary file in the same directory and
//! renamed into place, so a reader never sees half a file. A file that cannot be read is
//! ignored and replaced.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

use adauth::secrecy::{ExposeSecret, SecretString};
use adauth::{ErrorKind, FetchContext, Result, Token, TokenSource, async_trait};

use crate::note;

/// A token read from disk is used only with more than this much of its life left.
const MIN_REMAINING: Duration = Duration::from_secs(60);

/// Whether the disk cache is read before the first fetch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Read the file first; write every new token.
    ReadWrite,
    /// Never read; write every new token (`--force-refresh`).
    WriteOnly,
}

/// The cache directory: `ADAUTH_CACHE_DIR`, else `$XDG_CACHE_HOME/adauth`, else
/// `$HOME/.cache/adauth`; `None` when none of them is set.
pub(crate) fn default_dir() -> Option<PathBuf> {
    let var = |name: &str| adauth::env::optional(&adauth::env::process, name);
    if let Some(dir) = var("ADAUTH_CACHE_DIR") {
        return Some(PathBuf::from(dir));
    }
    // The XDG spec says relative values are to be ignored.
    if let Some(xdg) = var("XDG_CACHE_HOME").filter(|d| Path::new(d).is_absolute()) {
        return Some(Path::new(&xdg).join("adauth"));
    }
    var("HOME").map(|home| Path::new(&home).join(".cache").join("adauth"))
}

/// The file for a source's identity: `<identity>.json`, with anything but ASCII letters,
/// digits, `-` and `_` replaced, so an identity can never name a path elsewhere.
pub(crate) fn file_for(dir: &Path, identity: &str) -> PathBuf {
    let name: String = identity
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    dir.join(format!("{name}.json"))
}

/// A source that serves its first fetch from the disk cache when the file holds a usable
/// token, and writes every token it gets from the provider to the file.
pub(crate) struct DiskCached {
    inner: Arc<dyn TokenSource>,
    dir: PathBuf,
    path: PathBuf,
    mode: Mode,
    consulted: AtomicBool,
    verbose: bool,
}

impl DiskCached {
    /// Wraps `inner`, caching in `dir`.
    pub(crate) fn new(
        inner: Arc<dyn TokenSource>,
        dir: PathBuf,
        mode: Mode,
        verbose: bool,
    ) -> Self {
        let path = file_for(&dir, &inner.identity());
        Self {
            inner,
            dir,
            path,
            mode,
            consulted: AtomicBool::new(false),
            verbose,
        }
    }

    /// The token in the file, if there is a readable one for this provider.
    fn read(&self) -> Option<Token> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(text) => SecretString::from(text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
            Err(e) => {
                note!(
                    self.verbose,
                    "ignoring the disk cache {}: {e}",
                    self.path.display()
                );
                return None;
            }
        };
        match Token::from_stored(self.inner.provider(), text.expose_secret()) {
            Ok(token) => Some(token),
            Err(e) => {
                note!(
                    self.verbose,
                    "ignoring the disk cache {} ({e}); it will be replaced",
                    self.path.display()
                );
                None
            }
        }
    }

    /// Writes `token` to the file; a failure is reported and otherwise ignored, since the
    /// token itself is good.
    fn write(&self, token: &Token) {
        match write_file(
            &self.dir,
            &self.path,
            &token.to_stored(self.inner.provider()),
        ) {
            Ok(()) => note!(
                self.verbose,
                "saved to the disk cache {}",
                self.path.display()
            ),
            Err(e) => eprintln!(
                "adauth: warning: could not write the disk cache {}: {e}",
                self.path.display()
            ),
        }
    }

    /// The token on disk, renewed with its refresh token if it is too old to use but has
    /// one; `None` if there is nothing usable.
    async fn usable_from_disk(&self, cx: &FetchContext) -> Result<Option<Token>> {
        let Some(token) = self.read() else {
            return Ok(None);
        };
        let now = cx.now();
        if token
            .expires_at()
            .checked_sub(MIN_REMAINING)
            .is_some_and(|t| t > now)
        {
            note!(
                self.verbose,
                "served from the disk cache (expires in {} s)",
                token.expires_in(now).as_secs()
            );
            return Ok(Some(token));
        }
        let Some(refresh_token) = token.refresh_token() else {
            note!(self.verbose, "the token in the disk cache has expired");
            return Ok(None);
        };
        match self.refresh(cx, refresh_token).await {
            Ok(token) => Ok(Some(token)),
            // A rejected refresh token (rotated by another process, revoked) means a
            // full fetch, as the in-memory cache does.
            Err(e) if e.kind() == ErrorKind::CredentialsRejected => {
                note!(
                    self.verbose,
                    "the refresh token was rejected; fetching anew"
                );
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }
}

impl fmt::Debug for DiskCached {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DiskCached")
            .field("inner", &self.inner)
            .field("path", &self.path)
            .field("mode", &self.mode)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl TokenSource for DiskCached {
    fn provider(&self) -> &str {
        self.inner.provider()
    }

    fn identity(&self) -> String {
        self.inner.identity()
    }

    async fn fetch(&self, cx: &FetchContext) -> Result<Token> {
        // Only the first fetch may use the file: a later one means the token was
        // invalidated (a 401) or has expired.
        if self.mode == Mode::ReadWrite
            && !self.consulted.swap(true, Ordering::SeqCst)
            && let Some(token) = self.usable_from_disk(cx).await?
        {
            return Ok(token);
        }
        let started = Instant::now();
        let token = self.inner.fetch(cx).await?;
        note!(
            self.verbose,
            "fetched a new token in {} ms",
            started.elapsed().as_millis()
        );
        self.write(&token);
        Ok(token)
    }

    async fn refresh(&self, cx: &FetchContext, refresh_token: &SecretString) -> Result<Token> {
        let started = Instant::now();
        let mut token = self.inner.refresh(cx, refresh_token).await?;
        note!(
            self.verbose,
            "refreshed the token in {} ms",
            started.elapsed().as_millis()
        );
        // Providers that keep the refresh token do not send it again; the file must
        // keep it for the next run.
        if token.refresh_token().is_none() {
            token = token.with_refresh_token(Some(refresh_token.clone()));
        }
        self.write(&token);
        Ok(token)
    }

    fn authorize(
        &self,
        request: adauth::reqwest::RequestBuilder,
        token: &Token,
    ) -> Result<adauth::reqwest::RequestBuilder> {
        self.inner.authorize(request, token)
    }
}

/// Creates `dir` owner-only if missing and writes `contents` to `path` atomically,
/// readable by the owner alone.
fn write_file(dir: &Path, path: &Path, contents: &SecretString) -> std::io::Result<()> {
    create_private_dir(dir)?;
    let mut file = tempfile::NamedTempFile::new_in(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    file.write_all(contents.expose_secret().as_bytes())?;
    file.as_file().sync_all()?;
    file.persist(path).map_err(|e| e.error)?;
    Ok(())
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// Seconds since the Unix epoch, zero before it.
pub(crate) fn unix_seconds(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_cannot_escape_the_directory() {
        let dir = Path::new("/cache");
        assert_eq!(
            file_for(dir, "fyber-0123abcd"),
            PathBuf::from("/cache/fyber-0123abcd.json")
        );
        assert_eq!(
            file_for(dir, "../etc/passwd"),
            PathBuf::from("/cache/___etc_passwd.json")
        );
    }
}
