//! The grants that `adauth login` keeps, for programs that use them too.
//!
//! `adauth login <provider>` keeps the user's token, refresh token included, in the token
//! store (the disk cache in [`cache_dir`], or Redis), under the grant's own identity, and
//! writes a marker, `logins/<provider>` (or `logins/<provider>@<profile>`) in the cache
//! directory, that records the redirect URI it used. The marker holds no secret.
//!
//! A program renews the same grant with [`saved_source`] and a cache on the same store:
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! # #[cfg(feature = "mediamath")] {
//! use std::sync::Arc;
//! use adauth::{FileStore, TokenCache};
//!
//! let dir = adauth::logins::cache_dir().expect("HOME or ADAUTH_CACHE_DIR");
//! let source = adauth::logins::saved_source(&adauth::mediamath::DESCRIPTOR, None)?
//!     .expect("run `adauth login mediamath` first");
//! let cache = TokenCache::builder_arc(source.into())
//!     .store(Arc::new(FileStore::new(&dir)?))
//!     .build();
//! let token = cache.token().await?;
//! # let _ = token; }
//! # Ok(()) }
//! ```

use std::path::{Path, PathBuf};

use crate::{Error, Login, Provider, Result, TokenSource};

/// The cache directory of the `adauth` command, where its disk store and login markers
/// are: `ADAUTH_CACHE_DIR`, else `$XDG_CACHE_HOME/adauth`, else `$HOME/.cache/adauth`;
/// `None` when none of them is set.
pub fn cache_dir() -> Option<PathBuf> {
    cache_dir_from(&adauth_core::provider_kit::env::process)
}

/// As [`cache_dir`], with variables from `lookup`.
pub fn cache_dir_from(lookup: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    let var = |name: &str| adauth_core::provider_kit::env::optional(lookup, name);
    if let Some(dir) = var("ADAUTH_CACHE_DIR") {
        return Some(PathBuf::from(dir));
    }
    // The XDG spec says relative values are to be ignored.
    if let Some(xdg) = var("XDG_CACHE_HOME").filter(|d| Path::new(d).is_absolute()) {
        return Some(Path::new(&xdg).join("adauth"));
    }
    var("HOME").map(|home| Path::new(&home).join(".cache").join("adauth"))
}

/// Where the marker of `provider`'s login (under `profile`) is, in the cache directory
/// `dir`.
pub fn marker_path(dir: &Path, provider: &Provider, profile: Option<&str>) -> Result<PathBuf> {
    let name = match profile {
        Some(profile) => format!("{}@{profile}", provider.name()),
        None => provider.name().to_owned(),
    };
    if name.contains(['/', '\\']) || name.starts_with('.') {
        return Err(Error::configuration(
            "adauth",
            format!("{name:?} cannot name a login"),
        ));
    }
    Ok(dir.join("logins").join(name))
}

/// The login of `provider` (under `profile`) that `adauth login` made in the cache
/// directory `dir`, if any: the provider's flow and the redirect URI it used.
pub fn saved(
    dir: &Path,
    provider: &Provider,
    profile: Option<&str>,
) -> Result<Option<(&'static dyn Login, String)>> {
    let Some(login) = provider.login() else {
        return Ok(None);
    };
    let path = marker_path(dir, provider, profile)?;
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok(Some((login, text.trim().to_owned()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::configuration(
            "adauth",
            format!("cannot read {}: {e}", path.display()),
        )),
    }
}

/// Records a login of `provider` (under `profile`) made through `redirect_uri`, in the
/// cache directory `dir` (created owner-only if need be).
pub fn save(
    dir: &Path,
    provider: &Provider,
    profile: Option<&str>,
    redirect_uri: &str,
) -> Result<()> {
    let path = marker_path(dir, provider, profile)?;
    let failed = |e: std::io::Error| {
        Error::configuration("adauth", format!("cannot write {}: {e}", path.display()))
    };
    if let Some(parent) = path.parent() {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(parent).map_err(failed)?;
    }
    std::fs::write(&path, format!("{redirect_uri}\n")).map_err(failed)
}

/// Removes the record of a login; `false` if there was none.
pub fn forget(dir: &Path, provider: &Provider, profile: Option<&str>) -> Result<bool> {
    let path = marker_path(dir, provider, profile)?;
    match std::fs::remove_file(&path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(Error::configuration(
            "adauth",
            format!("cannot remove {}: {e}", path.display()),
        )),
    }
}

/// The source of the grant `adauth login <provider>` made (under `profile`), with the
/// application's settings from the environment over the profile's: `None` if there is no
/// such login. Wrap it in a cache on the store the login used.
pub fn saved_source(
    provider: &Provider,
    profile: Option<&str>,
) -> Result<Option<Box<dyn TokenSource>>> {
    let Some(dir) = cache_dir() else {
        return Ok(None);
    };
    let Some((login, redirect_uri)) = saved(&dir, provider, profile)? else {
        return Ok(None);
    };
    let source = match profile {
        None => login.source(&adauth_core::provider_kit::env::process, &redirect_uri)?,
        Some(name) => {
            let config = crate::config::Config::load()?;
            let lookup = config.profile(name)?.lookup()?;
            login.source(&lookup, &redirect_uri)?
        }
    };
    Ok(Some(source))
}
