//! Stand-ins for unit tests of code that takes a [`TokenSource`] or a [`TokenStore`]: a
//! source that issues a fixed token, and a store that keeps its values in memory.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use adauth_core::secrecy::{ExposeSecret, SecretString};
use adauth_core::{
    FetchContext, Lease, Result, StoredValue, Token, TokenSource, TokenStore, async_trait,
};
use tokio::sync::Notify;
use tokio::time::Instant;

/// A source that issues the same access token each time, living `lifetime` from the
/// fetch, and counts its fetches: for unit tests of code that takes a
/// [`TokenSource`] or a [`TokenCache`](adauth_core::TokenCache).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use adauth_core::TokenCache;
/// use adauth_core::secrecy::ExposeSecret;
/// use adauth_testkit::StaticSource;
///
/// let source = StaticSource::new("test-token");
/// let cache = TokenCache::new(source.clone());
/// let token = cache.token().await.unwrap();
/// assert_eq!(token.access_token().expose_secret(), "test-token");
/// assert_eq!(source.fetches(), 1);
/// # }
/// ```
#[derive(Clone)]
pub struct StaticSource {
    provider: &'static str,
    access_token: SecretString,
    lifetime: Duration,
    fetches: Arc<AtomicUsize>,
}

impl StaticSource {
    /// A source of `access_token`, named `"static"`, whose tokens live one hour.
    pub fn new(access_token: impl Into<SecretString>) -> Self {
        Self {
            provider: "static",
            access_token: access_token.into(),
            lifetime: Duration::from_secs(3600),
            fetches: Arc::default(),
        }
    }

    /// Names the source `provider`, as errors and spans show it.
    pub fn provider(mut self, provider: &'static str) -> Self {
        self.provider = provider;
        self
    }

    /// How long each token lives from its fetch.
    pub fn lifetime(mut self, lifetime: Duration) -> Self {
        self.lifetime = lifetime;
        self
    }

    /// How many tokens were fetched, by this source and its clones.
    pub fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }
}

impl std::fmt::Debug for StaticSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StaticSource")
            .field("provider", &self.provider)
            .field("access_token", &"[redacted]")
            .field("lifetime", &self.lifetime)
            .finish()
    }
}

#[async_trait]
impl TokenSource for StaticSource {
    fn provider(&self) -> &str {
        self.provider
    }

    fn identity(&self) -> Option<String> {
        Some(adauth_core::credential_identity(
            self.provider,
            &[self.access_token.expose_secret()],
        ))
    }

    async fn fetch(&self, cx: &FetchContext) -> Result<Token> {
        self.fetches.fetch_add(1, Ordering::SeqCst);
        let now = cx.now();
        Ok(Token::new(
            self.access_token.clone(),
            now,
            now + self.lifetime,
        ))
    }
}

/// A [`TokenStore`] in memory: what caches in one test share, as processes share a
/// Redis or file store. Clones share the values. Leases expire on tokio's clock, so a
/// test on paused time can let one lapse.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use std::sync::Arc;
/// use adauth_core::TokenCache;
/// use adauth_testkit::{MemoryStore, StaticSource};
///
/// let (source, store) = (StaticSource::new("t"), Arc::new(MemoryStore::new()));
/// let a = TokenCache::builder(source.clone()).store(store.clone()).build();
/// let b = TokenCache::builder(source.clone()).store(store).build();
/// a.token().await.unwrap();
/// b.token().await.unwrap();
/// assert_eq!(source.fetches(), 1, "the second cache took the stored token");
/// # }
/// ```
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    inner: Arc<Shared>,
}

#[derive(Debug, Default)]
struct Shared {
    entries: Mutex<HashMap<String, Entry>>,
    changed: Notify,
    next: AtomicU64,
}

#[derive(Debug, Default)]
struct Entry {
    value: Option<(String, SecretString)>,
    lease: Option<(String, Instant)>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many keys hold a value.
    pub fn len(&self) -> usize {
        self.entries()
            .values()
            .filter(|e| e.value.is_some())
            .count()
    }

    /// Whether no key holds a value.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        self.inner
            .entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn next(&self, what: &str) -> String {
        format!("{what}-{}", self.inner.next.fetch_add(1, Ordering::Relaxed))
    }
}

fn live(lease: &Option<(String, Instant)>) -> Option<&str> {
    lease
        .as_ref()
        .filter(|(_, until)| Instant::now() < *until)
        .map(|(fence, _)| fence.as_str())
}

#[async_trait]
impl TokenStore for MemoryStore {
    async fn load(&self, key: &str) -> Result<Option<StoredValue>> {
        Ok(self
            .entries()
            .get(key)
            .and_then(|e| e.value.as_ref())
            .map(|(revision, value)| StoredValue {
                revision: revision.clone(),
                value: value.clone(),
            }))
    }

    async fn compare_and_set(
        &self,
        key: &str,
        expected: Option<&str>,
        value: &SecretString,
    ) -> Result<Option<String>> {
        let revision = self.next("rev");
        {
            let mut entries = self.entries();
            let entry = entries.entry(key.to_owned()).or_default();
            if entry.value.as_ref().map(|(r, _)| r.as_str()) != expected {
                return Ok(None);
            }
            entry.value = Some((revision.clone(), value.clone()));
        }
        self.inner.changed.notify_waiters();
        Ok(Some(revision))
    }

    async fn try_lease(&self, key: &str, ttl: Duration) -> Result<Option<Lease>> {
        let fence = self.next("lease");
        let mut entries = self.entries();
        let entry = entries.entry(key.to_owned()).or_default();
        if live(&entry.lease).is_some() {
            return Ok(None);
        }
        entry.lease = Some((fence.clone(), Instant::now() + ttl));
        Ok(Some(Lease::new(fence)))
    }

    async fn renew(&self, key: &str, lease: &Lease, ttl: Duration) -> Result<bool> {
        let mut entries = self.entries();
        let entry = entries.entry(key.to_owned()).or_default();
        match live(&entry.lease) {
            Some(fence) if fence != lease.fence() => Ok(false),
            _ => {
                entry.lease = Some((lease.fence().to_owned(), Instant::now() + ttl));
                Ok(true)
            }
        }
    }

    async fn release(&self, key: &str, lease: Lease) -> Result<()> {
        {
            let mut entries = self.entries();
            if let Some(entry) = entries.get_mut(key)
                && entry
                    .lease
                    .as_ref()
                    .is_some_and(|(f, _)| f == lease.fence())
            {
                entry.lease = None;
            }
        }
        self.inner.changed.notify_waiters();
        Ok(())
    }

    async fn wait_for_change(
        &self,
        key: &str,
        seen: Option<&str>,
        timeout: Duration,
    ) -> Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            let mut changed = std::pin::pin!(self.inner.changed.notified());
            changed.as_mut().enable();
            let lapses = {
                let entries = self.entries();
                let entry = entries.get(key);
                let revision = entry
                    .and_then(|e| e.value.as_ref())
                    .map(|(r, _)| r.as_str());
                match entry.and_then(|e| e.lease.as_ref()) {
                    Some((_, until)) if revision == seen && Instant::now() < *until => *until,
                    _ => return Ok(()),
                }
            };
            let woken = tokio::time::timeout_at(deadline.min(lapses), changed).await;
            if woken.is_err() && Instant::now() >= deadline {
                return Ok(());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(value: &str) -> SecretString {
        SecretString::from(value.to_owned())
    }

    #[tokio::test(start_paused = true)]
    async fn a_lease_is_held_by_one_holder_until_released_or_lapsed() {
        let store = MemoryStore::new();
        let ttl = Duration::from_secs(10);
        let first = store.try_lease("k", ttl).await.unwrap().unwrap();
        assert!(store.try_lease("k", ttl).await.unwrap().is_none());
        let stranger = Lease::new("someone-else");
        assert!(!store.renew("k", &stranger, ttl).await.unwrap());
        store.release("k", stranger).await.unwrap();
        assert!(
            store.try_lease("k", ttl).await.unwrap().is_none(),
            "not theirs to release"
        );
        assert!(store.renew("k", &first, ttl).await.unwrap());
        store.release("k", first).await.unwrap();
        let second = store.try_lease("k", ttl).await.unwrap().unwrap();
        tokio::time::advance(ttl).await;
        assert!(store.try_lease("k", ttl).await.unwrap().is_some(), "lapsed");
        assert!(!store.renew("k", &second, ttl).await.unwrap(), "taken over");
    }

    #[tokio::test(start_paused = true)]
    async fn writes_compare_revisions_and_wake_waiters() {
        let store = MemoryStore::new();
        let r1 = crate::contract::compare_and_set(&store, "k").await;
        let _lease = store
            .try_lease("k", Duration::from_secs(60))
            .await
            .unwrap()
            .unwrap();
        let waiter = {
            let store = store.clone();
            let seen = r1.clone();
            tokio::spawn(async move {
                let started = Instant::now();
                store
                    .wait_for_change("k", Some(&seen), Duration::from_secs(30))
                    .await
                    .unwrap();
                started.elapsed()
            })
        };
        tokio::task::yield_now().await;
        let r2 = store
            .compare_and_set("k", Some(&r1), &secret("e"))
            .await
            .unwrap()
            .unwrap();
        assert!(
            waiter.await.unwrap() < Duration::from_secs(30),
            "woken by the write"
        );
        let stored = store.load("k").await.unwrap().unwrap();
        assert_eq!(
            (stored.revision.as_str(), stored.value.expose_secret()),
            (r2.as_str(), "e")
        );
        assert_eq!(store.len(), 1);
    }
}
