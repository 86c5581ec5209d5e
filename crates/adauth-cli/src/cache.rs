//! Where tokens outlive one run: the core [`FileStore`] in the cache directory, shared by
//! every `adauth` run on the machine (one fetches, the others wait for its token), or a
//! Redis store shared with other hosts.
//!
//! The store holds [`Token::to_stored`] values (secrets): the directory is owner-only
//! (0700) and each file too (0600). An unreadable file is ignored and replaced.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

use adauth::secrecy::SecretString;
use adauth::{FetchContext, FileStore, Result, Token, TokenCache, TokenSource, TokenStore};
use adauth::{async_trait, reqwest};
use adauth_redis::RedisStore;

use crate::note;

/// Whether the store is read before fetching.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Use the stored token while it is fresh; store every new token.
    ReadWrite,
    /// Fetch a new token and store it in place of the stored one (`--force-refresh`).
    Replace,
}

/// The cache directory: `ADAUTH_CACHE_DIR`, else `$XDG_CACHE_HOME/adauth`, else
/// `$HOME/.cache/adauth`; `None` when none of them is set.
pub(crate) fn default_dir() -> Option<PathBuf> {
    adauth::logins::cache_dir()
}

/// A token store and what to call it in messages.
#[derive(Debug, Clone)]
pub(crate) struct Shared {
    /// The store.
    pub(crate) store: Arc<dyn TokenStore>,
    /// `disk cache` or `Redis store`.
    pub(crate) name: &'static str,
}

impl Shared {
    /// The store with its values encrypted and its key names hashed under `key`
    /// (`ADAUTH_STORE_KEY`), or as it is without one.
    pub(crate) fn sealed(self, key: Option<adauth::StoreKey>) -> Self {
        match key {
            Some(key) => Self {
                store: Arc::new(adauth::SealedStore::new(self.store, key)),
                name: self.name,
            },
            None => self,
        }
    }
}

/// The file store in the cache directory, or `None` (with a note, or a warning if the
/// directory cannot be created: the token itself does not need it).
pub(crate) fn file_store(verbose: bool) -> Option<Shared> {
    let Some(dir) = default_dir() else {
        note!(
            verbose,
            "no disk cache: none of ADAUTH_CACHE_DIR, XDG_CACHE_HOME, HOME is set"
        );
        return None;
    };
    match FileStore::new(&dir) {
        Ok(store) => Some(Shared {
            store: Arc::new(store),
            name: "disk cache",
        }),
        Err(e) => {
            eprintln!("adauth: warning: not using the disk cache: {e}");
            None
        }
    }
}

/// How long connecting to Redis may take before the command carries on without it.
const REDIS_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The store to share tokens through: the Redis store when `ADAUTH_REDIS_CLUSTER_URLS` or
/// `ADAUTH_REDIS_URL` is set and the server answers, otherwise the file store. A Redis
/// that cannot be reached costs one warning line on stderr (the URL's password redacted),
/// not the command.
pub(crate) async fn store(verbose: bool) -> Option<Shared> {
    let url = adauth::provider_kit::env::optional(
        &adauth::provider_kit::env::process,
        adauth_redis::ENV_CLUSTER_URLS,
    )
    .or_else(|| {
        adauth::provider_kit::env::optional(
            &adauth::provider_kit::env::process,
            adauth_redis::ENV_URL,
        )
    });
    if let Some(url) = url {
        let redacted = url
            .split(',')
            .map(|u| adauth_redis::redact_url(u.trim()))
            .collect::<Vec<_>>()
            .join(",");
        match tokio::time::timeout(
            REDIS_CONNECT_TIMEOUT,
            RedisStore::from_lookup(&adauth::provider_kit::env::process),
        )
        .await
        {
            Ok(Ok(store)) => {
                note!(verbose, "sharing tokens through Redis at {redacted}");
                return Some(Shared {
                    store: Arc::new(store),
                    name: "Redis store",
                });
            }
            Ok(Err(e)) => {
                let mut secrets: Vec<&str> = url.split(',').flat_map(userinfo).collect();
                secrets.push(&url);
                let e = e.scrub(&secrets).to_string().replace(['\n', '\r'], " ");
                eprintln!(
                    "adauth: warning: not sharing tokens through Redis: {e}; using the disk cache"
                );
            }
            Err(_) => eprintln!(
                "adauth: warning: not sharing tokens through Redis: {redacted} did not answer within {} s; using the disk cache",
                REDIS_CONNECT_TIMEOUT.as_secs()
            ),
        }
    }
    file_store(verbose)
}

/// The user name and password in a URL's authority, to keep them out of messages.
fn userinfo(url: &str) -> Vec<&str> {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    match authority.rfind('@') {
        Some(at) => authority[..at]
            .split(':')
            .filter(|s| !s.is_empty())
            .collect(),
        None => Vec::new(),
    }
}

/// What the wrapped source did during this run.
#[derive(Debug, Default)]
pub(crate) struct Activity {
    network: AtomicBool,
}

impl Activity {
    /// Whether a token was fetched or refreshed (rather than read from a store).
    pub(crate) fn used_network(&self) -> bool {
        self.network.load(Ordering::SeqCst)
    }
}

/// A source that says on stderr (with `-v`) when it fetches or refreshes, and remembers
/// that it did.
pub(crate) struct Noting {
    inner: Arc<dyn TokenSource>,
    activity: Arc<Activity>,
    verbose: bool,
}

impl Noting {
    /// Wraps `inner`.
    pub(crate) fn new(inner: Arc<dyn TokenSource>, activity: Arc<Activity>, verbose: bool) -> Self {
        Self {
            inner,
            activity,
            verbose,
        }
    }
}

impl fmt::Debug for Noting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Noting")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl TokenSource for Noting {
    fn provider(&self) -> &str {
        self.inner.provider()
    }

    fn identity(&self) -> Option<String> {
        self.inner.identity()
    }

    fn documented_lifetime(&self) -> Option<Duration> {
        self.inner.documented_lifetime()
    }

    async fn fetch(&self, cx: &FetchContext) -> Result<Token> {
        self.activity.network.store(true, Ordering::SeqCst);
        let started = Instant::now();
        let token = self.inner.fetch(cx).await?;
        note!(
            self.verbose,
            "fetched a new token in {} ms",
            started.elapsed().as_millis()
        );
        Ok(token)
    }

    async fn refresh(&self, cx: &FetchContext, refresh_token: &SecretString) -> Result<Token> {
        self.activity.network.store(true, Ordering::SeqCst);
        let started = Instant::now();
        let token = self.inner.refresh(cx, refresh_token).await?;
        note!(
            self.verbose,
            "refreshed the token in {} ms",
            started.elapsed().as_millis()
        );
        Ok(token)
    }

    fn authorize_headers(
        &self,
        headers: &mut reqwest::header::HeaderMap,
        token: &Token,
    ) -> Result<()> {
        self.inner.authorize_headers(headers, token)
    }

    fn authorize(
        &self,
        request: reqwest::RequestBuilder,
        token: &Token,
    ) -> Result<reqwest::RequestBuilder> {
        self.inner.authorize(request, token)
    }

    fn check_answer(
        &self,
        status: reqwest::StatusCode,
        headers: &reqwest::header::HeaderMap,
    ) -> adauth::AuthCheck {
        self.inner.check_answer(status, headers)
    }

    fn refuses_token(&self, status: reqwest::StatusCode, body: &[u8]) -> bool {
        self.inner.refuses_token(status, body)
    }
}

/// Fetches a new token and writes it to the store in place of the one stored now.
///
/// The stored token is treated as invalidated: the refresh lease is taken as for any
/// renewal (so a run that is renewing right now is not raced), the token renewed (with its
/// refresh token, where it has one) and written for every later run.
pub(crate) async fn replace(cache: &TokenCache, shared: &Shared, verbose: bool) -> Result<Token> {
    let token = cache.renew_now().await?;
    note!(verbose, "renewed; the {} holds the new token", shared.name);
    Ok(Token::clone(&token))
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
    fn userinfo_finds_the_credentials_in_a_url() {
        assert_eq!(userinfo("redis://:pw@host:6379/0"), ["pw"]);
        assert_eq!(userinfo("redis://user:p@ss@host/"), ["user", "p@ss"]);
        assert!(userinfo("redis://host:6379/?a=b@c").is_empty());
    }
}
