//! Token stores: one token per credential, shared by every process that uses it.

use std::any::Any;
use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use secrecy::SecretString;

use crate::Result;

/// A value as a store holds it: the serialized token and the revision that
/// [`TokenStore::compare_and_set`] compares.
pub struct StoredValue {
    /// Changes with every write; never reused.
    pub revision: String,
    /// The token in the form [`Token::to_stored`](crate::Token::to_stored) writes. Secret.
    pub value: SecretString,
}

impl fmt::Debug for StoredValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredValue")
            .field("revision", &self.revision)
            .field("value", &"[redacted]")
            .finish()
    }
}

/// Proof that this process holds the refresh lease of a key: it alone refreshes the token
/// while the lease lasts. Released by [`TokenStore::release`], by dropping it (for stores
/// that tie the lease to a handle, such as a file lock), or by its expiry.
pub struct Lease {
    fence: String,
    guard: Option<Box<dyn Any + Send + Sync>>,
}

impl Lease {
    /// A lease identified by `fence`, a value unique to this holder that the store uses to
    /// release the lease only if it is still this holder's.
    pub fn new(fence: impl Into<String>) -> Self {
        Self {
            fence: fence.into(),
            guard: None,
        }
    }

    /// Keeps `guard` (a lock handle, say) alive for as long as the lease.
    pub fn with_guard(mut self, guard: impl Any + Send + Sync) -> Self {
        self.guard = Some(Box::new(guard));
        self
    }

    /// The guard given to [`with_guard`](Self::with_guard), if it is a `T`.
    pub fn guard<T: Any>(&self) -> Option<&T> {
        self.guard.as_deref()?.downcast_ref::<T>()
    }

    /// The holder's fencing value.
    pub fn fence(&self) -> &str {
        &self.fence
    }
}

impl fmt::Debug for Lease {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lease").field("fence", &self.fence).finish()
    }
}

/// Where a [`TokenCache`](crate::TokenCache) shares tokens with other processes.
///
/// The cache's memory stays the fast path: a store is read only when the cached token is
/// missing, in its refresh window or invalidated. Then one process takes the key's refresh
/// lease, fetches (or refreshes) and writes the token with compare-and-set; the others wait
/// for the write and use that token. A refresh token is therefore used once, by one process,
/// and providers that revoke the previous token on reissue (Mediago) or cap the number of
/// tokens (Admitad) see one token per credential.
///
/// The holder keeps its lease alive with [`renew`](Self::renew) for as long as its fetch
/// runs, and writes nothing once a renewal finds the lease taken by another holder. Other
/// processes never fetch while a live lease exists: they wait for the write, woken by
/// [`wait_for_change`](Self::wait_for_change). A failed fetch is written too, with its
/// retry time, so that every process honours one back-off; an invalidated token is marked
/// in the store so that no process adopts it again.
///
/// Keys are [`TokenSource::identity`](crate::TokenSource::identity) values: they name the
/// credentials without revealing them. Values are the cache's records (the token, secrets
/// included, and the last failure): keep a store where only the processes that may use the
/// credentials can read it.
///
/// A store that fails or does not answer within the cache's
/// [`store_timeout`](crate::TokenCacheBuilder::store_timeout) (a server down, a full disk, a
/// hung connection) never costs a token: the cache logs one warning through `tracing` and
/// carries on with its own memory and a direct fetch.
#[async_trait]
pub trait TokenStore: Send + Sync + fmt::Debug {
    /// The value stored for `key`, if any.
    async fn load(&self, key: &str) -> Result<Option<StoredValue>>;

    /// Writes `value` for `key` if the stored revision is still `expected` (`None`: nothing
    /// is stored). Returns the new revision, or `None` if another writer came first.
    async fn compare_and_set(
        &self,
        key: &str,
        expected: Option<&str>,
        value: &SecretString,
    ) -> Result<Option<String>>;

    /// Tries to take the refresh lease of `key` for `ttl`; `None` if another holder has it.
    async fn try_lease(&self, key: &str, ttl: Duration) -> Result<Option<Lease>>;

    /// Extends the lease of `key` held by `lease` to `ttl` from now. Returns `false` if the
    /// lease is held by another holder: this one must then write nothing. A lease that has
    /// lapsed with no other holder may be taken back.
    async fn renew(&self, key: &str, lease: &Lease, ttl: Duration) -> Result<bool>;

    /// Gives the lease back, if it is still held by `lease`'s holder.
    async fn release(&self, key: &str, lease: Lease) -> Result<()>;

    /// Returns once the revision stored for `key` differs from `seen`, or the key's lease
    /// was released or lapsed (stores that can tell), or after `timeout`. Returning early
    /// is always allowed: the caller looks again.
    ///
    /// The default reads the key every 200 ms; stores with notifications do better.
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
            let now = tokio::time::Instant::now();
            if now >= deadline {
                return Ok(());
            }
            tokio::time::sleep((deadline - now).min(Duration::from_millis(200))).await;
        }
    }
}

/// A fresh revision or fencing value: 128 random bits in hex.
pub fn new_revision() -> String {
    format!("{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..))
}

macro_rules! forward_store {
    ($ty:ty) => {
        #[async_trait]
        impl<T: TokenStore + ?Sized> TokenStore for $ty {
            async fn load(&self, key: &str) -> Result<Option<StoredValue>> {
                (**self).load(key).await
            }
            async fn compare_and_set(
                &self,
                key: &str,
                expected: Option<&str>,
                value: &SecretString,
            ) -> Result<Option<String>> {
                (**self).compare_and_set(key, expected, value).await
            }
            async fn try_lease(&self, key: &str, ttl: Duration) -> Result<Option<Lease>> {
                (**self).try_lease(key, ttl).await
            }
            async fn renew(&self, key: &str, lease: &Lease, ttl: Duration) -> Result<bool> {
                (**self).renew(key, lease, ttl).await
            }
            async fn release(&self, key: &str, lease: Lease) -> Result<()> {
                (**self).release(key, lease).await
            }
            async fn wait_for_change(
                &self,
                key: &str,
                seen: Option<&str>,
                timeout: Duration,
            ) -> Result<()> {
                (**self).wait_for_change(key, seen, timeout).await
            }
        }
    };
}

forward_store!(Box<T>);
forward_store!(std::sync::Arc<T>);
