use std::collections::HashMap;
use std::fmt;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

use tokio::time::Instant;

use crate::http::HttpClient;
use crate::store::TokenStore;
use crate::{Result, TokenCache, TokenCacheBuilder, TokenGuard, TokenSource};

/// How long an entry of [`TokenCaches`] may go unused before it is dropped, unless
/// [`TokenCachesBuilder::idle_timeout`] says otherwise: 1 hour, the usual token lifetime,
/// after which an idle entry's token would have to be fetched again anyway.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(3600);

type Factory<K, S> = dyn Fn(&K, &HttpClient) -> Result<S> + Send + Sync;
type Configure = dyn Fn(TokenCacheBuilder) -> TokenCacheBuilder + Send + Sync;

/// Many credentials in one process: a [`TokenCache`] per key (an account, a website, a seat,
/// a profile), created on first use from a factory, all sending through one
/// [`HttpClient`] and sharing one [`TokenStore`].
///
/// - **Lazy.** The factory runs the first time a key is asked for, once per key however
///   many callers ask at the same time; a factory error is returned and not remembered.
/// - **Lean.** An entry is its cache and source: no task, no connection pool and no timer
///   of its own. A hundred thousand keys cost what their tokens and credentials cost
///   (`cargo bench -p adauth-tests --bench many`).
/// - **Idle entries are dropped.** An entry not asked for during the idle timeout
///   ([`DEFAULT_IDLE_TIMEOUT`], 1 hour) is removed the next time the registry is used;
///   callers still holding its [`Cached`] keep a working cache. Idle time is measured on
///   tokio's clock, so paused-time tests can move it.
///
/// Clones share the same entries.
///
/// ```no_run
/// # use adauth_core::{FetchContext, Result, Token, TokenSource, async_trait};
/// # #[derive(Debug)] struct AccountSource;
/// # #[async_trait] impl TokenSource for AccountSource {
/// #     fn provider(&self) -> &str { "example" }
/// #     async fn fetch(&self, _: &FetchContext) -> Result<Token> { unimplemented!() }
/// # }
/// # impl AccountSource {
/// #     fn with_http(_: &str, _: adauth_core::http::HttpClient) -> Result<Self> { Ok(Self) }
/// # }
/// # async fn run() -> Result<()> {
/// use std::time::Duration;
/// use adauth_core::TokenCaches;
///
/// // One source per account, built when the account is first used.
/// let caches = TokenCaches::builder(|account: &String, http| {
///     AccountSource::with_http(account, http.clone())
/// })
/// .idle_timeout(Duration::from_secs(600))
/// .build();
///
/// let token = caches.token(&"acct-1".to_owned()).await?;
/// # let _ = token; Ok(()) }
/// ```
pub struct TokenCaches<K, S> {
    inner: Arc<Shared<K, S>>,
}

impl<K, S> Clone for TokenCaches<K, S> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

struct Shared<K, S> {
    factory: Box<Factory<K, S>>,
    configure: Option<Box<Configure>>,
    http: HttpClient,
    store: Option<Arc<dyn TokenStore>>,
    idle: Duration,
    /// The zero of the entries' `last_used` times.
    epoch: Instant,
    /// When idle entries were last looked for, in milliseconds since `epoch`.
    last_sweep: AtomicU64,
    entries: RwLock<HashMap<K, Slot<S>>>,
}

struct Slot<S> {
    cached: Cached<S>,
    /// Milliseconds since the registry's epoch.
    last_used: AtomicU64,
}

/// One key's cache and the source it was built from; from [`TokenCaches::get`]. Cheap to
/// clone.
pub struct Cached<S> {
    source: Arc<S>,
    cache: TokenCache,
}

impl<S> Clone for Cached<S> {
    fn clone(&self) -> Self {
        Self {
            source: Arc::clone(&self.source),
            cache: self.cache.clone(),
        }
    }
}

impl<S> Cached<S> {
    /// The key's cache.
    pub fn cache(&self) -> &TokenCache {
        &self.cache
    }

    /// The key's source, as the factory built it: for what only that source type offers,
    /// such as Mediago's `authorize_account`.
    pub fn source(&self) -> &Arc<S> {
        &self.source
    }

    /// A valid token for the key; see [`TokenCache::token`].
    pub async fn token(&self) -> Result<TokenGuard> {
        self.cache.token().await
    }
}

impl<S> fmt::Debug for Cached<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cached")
            .field("cache", &self.cache)
            .finish()
    }
}

/// Settings for [`TokenCaches`]; from [`TokenCaches::builder`].
pub struct TokenCachesBuilder<K, S> {
    factory: Box<Factory<K, S>>,
    configure: Option<Box<Configure>>,
    http: HttpClient,
    store: Option<Arc<dyn TokenStore>>,
    idle: Duration,
}

impl<K, S> TokenCachesBuilder<K, S> {
    /// The HTTP client handed to the factory for every key (default [`HttpClient::new`],
    /// which sends through the process's
    /// [`shared_client`](crate::http::shared_client)).
    pub fn http(mut self, http: HttpClient) -> Self {
        self.http = http;
        self
    }

    /// The store every key's cache shares tokens through (default none). The sources must
    /// have an [`identity`](TokenSource::identity); see [`TokenCacheBuilder::store`].
    pub fn store(mut self, store: Arc<dyn TokenStore>) -> Self {
        self.store = Some(store);
        self
    }

    /// How long an entry may go unused before it is dropped (default
    /// [`DEFAULT_IDLE_TIMEOUT`], 1 hour; at least 1 ms).
    pub fn idle_timeout(mut self, idle: Duration) -> Self {
        self.idle = idle.max(Duration::from_millis(1));
        self
    }

    /// Settings applied to every key's cache (refresh policy, load timeout, ...), after the
    /// registry's store.
    ///
    /// ```
    /// # use adauth_core::{TokenCaches, TokenCachesBuilder};
    /// # fn f<K, S>(b: TokenCachesBuilder<K, S>) -> TokenCachesBuilder<K, S> {
    /// b.configure_caches(|cache| cache.load_timeout(std::time::Duration::from_secs(30)))
    /// # }
    /// ```
    pub fn configure_caches(
        mut self,
        configure: impl Fn(TokenCacheBuilder) -> TokenCacheBuilder + Send + Sync + 'static,
    ) -> Self {
        self.configure = Some(Box::new(configure));
        self
    }

    /// Builds the registry, empty.
    pub fn build(self) -> TokenCaches<K, S> {
        TokenCaches {
            inner: Arc::new(Shared {
                factory: self.factory,
                configure: self.configure,
                http: self.http,
                store: self.store,
                idle: self.idle,
                epoch: Instant::now(),
                last_sweep: AtomicU64::new(0),
                entries: RwLock::new(HashMap::new()),
            }),
        }
    }
}

impl<K, S> fmt::Debug for TokenCachesBuilder<K, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenCachesBuilder")
            .field("http", &self.http)
            .field("store", &self.store)
            .field("idle", &self.idle)
            .finish_non_exhaustive()
    }
}

impl<K, S> TokenCaches<K, S>
where
    K: Eq + Hash + Clone + Send + Sync + 'static,
    S: TokenSource + 'static,
{
    /// A registry with default settings whose entries `factory` builds.
    pub fn new(factory: impl Fn(&K, &HttpClient) -> Result<S> + Send + Sync + 'static) -> Self {
        Self::builder(factory).build()
    }

    /// A registry whose entries `factory` builds, to configure. The factory is given the key
    /// and the registry's HTTP client; it runs under the registry's lock, so it should only
    /// build (read a secret from memory, parse a URL), not wait.
    pub fn builder(
        factory: impl Fn(&K, &HttpClient) -> Result<S> + Send + Sync + 'static,
    ) -> TokenCachesBuilder<K, S> {
        TokenCachesBuilder {
            factory: Box::new(factory),
            configure: None,
            http: HttpClient::new(),
            store: None,
            idle: DEFAULT_IDLE_TIMEOUT,
        }
    }

    /// The entry of `key`, created now if it has none.
    pub fn get(&self, key: &K) -> Result<Cached<S>> {
        let inner = &*self.inner;
        let now = inner.now_ms();
        self.sweep_if_due(now);
        if let Some(slot) = inner.read().get(key) {
            slot.last_used.store(now, Ordering::Relaxed);
            return Ok(slot.cached.clone());
        }
        let mut entries = inner.write();
        if let Some(slot) = entries.get(key) {
            slot.last_used.store(now, Ordering::Relaxed);
            return Ok(slot.cached.clone());
        }
        let source = Arc::new((inner.factory)(key, &inner.http)?);
        let mut builder = TokenCache::builder_arc(Arc::clone(&source) as Arc<dyn TokenSource>);
        if let Some(store) = &inner.store {
            builder = builder.store(Arc::clone(store));
        }
        if let Some(configure) = &inner.configure {
            builder = configure(builder);
        }
        let cached = Cached {
            source,
            cache: builder.build(),
        };
        entries.insert(
            key.clone(),
            Slot {
                cached: cached.clone(),
                last_used: AtomicU64::new(now),
            },
        );
        Ok(cached)
    }

    /// A valid token for `key`, its entry created first if it has none.
    pub async fn token(&self, key: &K) -> Result<TokenGuard> {
        self.get(key)?.token().await
    }

    /// Drops the entry of `key`; says whether there was one.
    pub fn remove(&self, key: &K) -> bool {
        self.inner.write().remove(key).is_some()
    }

    /// Drops every entry unused for the idle timeout, now rather than at the next call.
    pub fn evict_idle(&self) {
        let now = self.inner.now_ms();
        self.inner.last_sweep.store(now, Ordering::Relaxed);
        self.inner.evict(now);
    }

    /// How many keys have an entry.
    pub fn len(&self) -> usize {
        self.inner.read().len()
    }

    /// Whether no key has an entry.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The HTTP client handed to the factory.
    pub fn http(&self) -> &HttpClient {
        &self.inner.http
    }

    /// Looks for idle entries at most four times per idle timeout, so that a busy registry
    /// does not scan its map on every call.
    fn sweep_if_due(&self, now: u64) {
        let inner = &*self.inner;
        let every = (inner.idle.as_millis() as u64 / 4).max(1);
        let last = inner.last_sweep.load(Ordering::Relaxed);
        if now.saturating_sub(last) >= every
            && inner
                .last_sweep
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            inner.evict(now);
        }
    }
}

impl<K: Eq + Hash, S> Shared<K, S> {
    fn now_ms(&self) -> u64 {
        Instant::now()
            .saturating_duration_since(self.epoch)
            .as_millis()
            .try_into()
            .unwrap_or(u64::MAX)
    }

    fn evict(&self, now: u64) {
        let idle = self.idle.as_millis() as u64;
        let mut entries = self.write();
        let before = entries.len();
        entries.retain(|_, slot| now.saturating_sub(slot.last_used.load(Ordering::Relaxed)) < idle);
        let evicted = before - entries.len();
        if evicted > 0 {
            tracing::debug!(evicted, left = entries.len(), "idle token caches dropped");
        }
    }

    // A panic elsewhere cannot leave the map half-written: every critical section is one
    // insert, remove or retain.
    fn read(&self) -> RwLockReadGuard<'_, HashMap<K, Slot<S>>> {
        self.entries.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, HashMap<K, Slot<S>>> {
        self.entries.write().unwrap_or_else(|e| e.into_inner())
    }
}

impl<K, S> fmt::Debug for TokenCaches<K, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let entries = self
            .inner
            .entries
            .read()
            .map(|e| e.len())
            .unwrap_or_else(|e| e.into_inner().len());
        f.debug_struct("TokenCaches")
            .field("entries", &entries)
            .field("idle", &self.inner.idle)
            .field("store", &self.inner.store)
            .finish_non_exhaustive()
    }
}
