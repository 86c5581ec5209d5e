use std::cell::RefCell;
use std::fmt;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, SystemTime};

use arc_swap::ArcSwapOption;
use futures_util::FutureExt as _;
use futures_util::future::{BoxFuture, Shared};

use crate::store::{StoredValue, TokenStore};
use crate::{
    Clock, Error, ExpiryPolicy, FetchContext, RefreshPolicy, Result, SystemClock, Token,
    TokenSource,
};
use secrecy::ExposeSecret;

type FlightFuture = Shared<BoxFuture<'static, Result<Arc<Token>>>>;

/// A token cache around any [`TokenSource`]: fetched once, shared by every caller, renewed
/// ahead of expiry.
///
/// - **Cached path.** While the token is fresh, [`token`](Self::token) takes no lock,
///   allocates nothing and writes no memory shared with other threads: it reads a coarse
///   clock and the cache's generation number, finds the token in a thread-local slot (or,
///   once per thread and token, in an [`arc_swap`] pointer), and clones an `Arc` that no
///   other thread's callers share. About 25 ns, with or without contention
///   (`cargo bench -p adauth-core --bench cache`).
/// - **Single flight.** However many callers find the cache empty or expired, one request
///   is made and all of them get its result, token or error.
/// - **Refresh ahead.** Once the token enters its refresh window (see [`RefreshPolicy`]),
///   one renewal starts in the background while callers keep getting the valid token; if
///   the renewal fails they keep getting it until it expires. An expired token is never
///   served: callers wait for the fetch.
/// - **Cancellation safe.** The fetch runs on a tokio task owned by the cache (or, outside
///   a tokio runtime, is driven by whichever waiter polls it), so a caller that gives up
///   neither cancels nor wedges it. Dropping the last clone of the cache aborts the task.
/// - **No stampede on failure.** After a failed fetch, callers share that failure until a
///   back-off interval has passed (1 s, doubling up to 5 minutes, or the provider's
///   `Retry-After` if longer): one attempt per interval, however many callers.
/// - **Refresh tokens.** A token with a refresh token is renewed with
///   [`TokenSource::refresh`]; if the provider rejects the refresh token, a full
///   [`TokenSource::fetch`] follows.
/// - **Invalidation.** After a 401, [`invalidate`](Self::invalidate) drops the token that
///   was used only if it is still the current one, so a late 401 cannot throw away a newer
///   token.
///
/// Clones share the same cache.
///
/// ```no_run
/// # async fn run(source: impl adauth_core::TokenSource + 'static) -> adauth_core::Result<()> {
/// use adauth_core::TokenCache;
/// use secrecy::ExposeSecret;
///
/// let cache = TokenCache::new(source);
/// let token = cache.token().await?;
/// let header = format!("Bearer {}", token.access_token().expose_secret());
/// // ... on a 401 from the API:
/// cache.invalidate(&token);
/// # let _ = header; Ok(()) }
/// ```
#[derive(Clone)]
pub struct TokenCache {
    inner: Arc<Inner>,
}

struct Inner {
    /// The generation of the current entry: a number unique in the process, changed
    /// whenever the entry is replaced or invalidated.
    generation: AtomicU64,
    /// Which thread-local slot this cache uses.
    local_slot: usize,
    source: Arc<dyn TokenSource>,
    cx: FetchContext,
    refresh: RefreshPolicy,
    backoff: Backoff,
    background: bool,
    current: ArcSwapOption<Entry>,
    slow: Mutex<Slow>,
    shared: Option<StoreUse>,
}

/// A token store and how this cache uses it.
#[derive(Clone)]
struct StoreUse {
    store: Arc<dyn TokenStore>,
    key: String,
    lease_ttl: Duration,
}

struct Entry {
    generation: u64,
    /// Copies of one token, one per stripe: callers on different threads clone different
    /// `Arc`s, so the cached path does not bounce one reference count between cores.
    tokens: [Arc<Token>; STRIPES],
    refresh_at: SystemTime,
    usable_until: SystemTime,
}

const STRIPES: usize = 8;

impl Entry {
    fn new(
        generation: u64,
        token: &Arc<Token>,
        refresh_at: SystemTime,
        usable_until: SystemTime,
    ) -> Self {
        Self {
            generation,
            tokens: std::array::from_fn(|i| {
                if i == 0 {
                    Arc::clone(token)
                } else {
                    Arc::new(Token::clone(token))
                }
            }),
            refresh_at,
            usable_until,
        }
    }

    #[inline]
    fn token(&self) -> Arc<Token> {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        thread_local! {
            static STRIPE: usize = NEXT.fetch_add(1, Ordering::Relaxed) % STRIPES;
        }
        let stripe = STRIPE.try_with(|s| *s).unwrap_or(0);
        Arc::clone(&self.tokens[stripe])
    }
}

/// Entry generations, unique across every cache in the process, so that a thread-local slot
/// can never mistake one cache's token for another's.
static GENERATIONS: AtomicU64 = AtomicU64::new(1);
static CACHE_IDS: AtomicUsize = AtomicUsize::new(0);
const LOCAL_SLOTS: usize = 4;

/// What a thread remembers of the last fresh token it was served by a cache: reading it
/// touches no memory shared with other threads but the cache's generation, which only
/// changes when the token does. It holds a `Weak`, so it never keeps a token (or its
/// secret) alive.
struct LocalSlot {
    generation: u64,
    refresh_at: SystemTime,
    token: Weak<Token>,
}

impl LocalSlot {
    const EMPTY: Self = Self {
        generation: 0,
        refresh_at: SystemTime::UNIX_EPOCH,
        token: Weak::new(),
    };
}

thread_local! {
    static LOCAL: RefCell<[LocalSlot; LOCAL_SLOTS]> =
        const { RefCell::new([const { LocalSlot::EMPTY }; LOCAL_SLOTS]) };
}

#[inline]
fn local_get(slot: usize, generation: u64, now: SystemTime) -> Option<Arc<Token>> {
    LOCAL
        .try_with(|slots| {
            let slots = slots.try_borrow().ok()?;
            let slot = &slots[slot];
            if slot.generation == generation && now < slot.refresh_at {
                slot.token.upgrade()
            } else {
                None
            }
        })
        .ok()
        .flatten()
}

fn local_put(slot: usize, entry: &Entry, token: &Arc<Token>) {
    let _ = LOCAL.try_with(|slots| {
        if let Ok(mut slots) = slots.try_borrow_mut() {
            slots[slot] = LocalSlot {
                generation: entry.generation,
                refresh_at: entry.refresh_at,
                token: Arc::downgrade(token),
            };
        }
    });
}

#[derive(Default)]
struct Slow {
    flight: Option<Flight>,
    failure: Option<Failure>,
    /// The newest token fetched, kept after invalidation for its refresh token.
    latest: Option<Arc<Token>>,
    /// The token last invalidated: a store still holding it must not hand it out again.
    invalidated: Option<Arc<Token>>,
    driver: Option<tokio::task::AbortHandle>,
    next_id: u64,
}

struct Flight {
    id: u64,
    future: FlightFuture,
}

struct Failure {
    error: Error,
    retry_at: SystemTime,
    count: u32,
}

#[derive(Debug, Clone, Copy)]
struct Backoff {
    initial: Duration,
    max: Duration,
}

impl Backoff {
    fn interval(&self, failures: u32) -> Duration {
        let factor = 2u32.saturating_pow(failures.saturating_sub(1).min(31));
        self.initial
            .checked_mul(factor)
            .unwrap_or(self.max)
            .min(self.max)
    }
}

/// Settings for a [`TokenCache`]; from [`TokenCache::builder`].
pub struct TokenCacheBuilder {
    source: Arc<dyn TokenSource>,
    clock: Arc<dyn Clock>,
    expiry: ExpiryPolicy,
    refresh: RefreshPolicy,
    backoff: Backoff,
    background: bool,
    store: Option<Arc<dyn TokenStore>>,
    key_prefix: String,
    lease_ttl: Duration,
}

impl TokenCacheBuilder {
    /// The clock the cache reads and stamps tokens with (default: the system clock).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// How expiry is derived from what the provider sends.
    pub fn expiry_policy(mut self, expiry: ExpiryPolicy) -> Self {
        self.expiry = expiry;
        self
    }

    /// When tokens are renewed ahead of expiry.
    pub fn refresh_policy(mut self, refresh: RefreshPolicy) -> Self {
        self.refresh = refresh;
        self
    }

    /// The back-off after a failed fetch: `initial`, doubling per consecutive failure up
    /// to `max` (defaults 1 s and 5 minutes).
    pub fn backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.backoff = Backoff {
            initial,
            max: max.max(initial),
        };
        self
    }

    /// Whether fetches run on a tokio task owned by the cache (default `true`, when a tokio
    /// runtime is running). When `false`, or outside a runtime, the callers that wait drive
    /// the fetch themselves, and a renewal ahead of expiry is driven by the caller that
    /// notices the refresh window (that one caller waits for it).
    pub fn background_refresh(mut self, yes: bool) -> Self {
        self.background = yes;
        self
    }

    /// Shares tokens with other processes through `store` (see [`TokenStore`]): one token
    /// per credential, fetched by one process and used by all.
    ///
    /// ```no_run
    /// # fn run(source: impl adauth_core::TokenSource + 'static) -> adauth_core::Result<()> {
    /// use std::sync::Arc;
    /// use adauth_core::{FileStore, TokenCache};
    ///
    /// let cache = TokenCache::builder(source)
    ///     .store(Arc::new(FileStore::new("/var/cache/my-pipeline/tokens")?))
    ///     .build();
    /// # Ok(()) }
    /// ```
    pub fn store(mut self, store: Arc<dyn TokenStore>) -> Self {
        self.store = Some(store);
        self
    }

    /// A prefix for this cache's key in the store (default none; the key is the source's
    /// [`identity`](TokenSource::identity)).
    pub fn store_key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.key_prefix = prefix.into();
        self
    }

    /// How long one process may hold a key's refresh lease before another takes over
    /// (default 15 s). It should cover one token request, retries included.
    pub fn lease_ttl(mut self, ttl: Duration) -> Self {
        self.lease_ttl = ttl.max(Duration::from_millis(100));
        self
    }

    /// Builds the cache.
    pub fn build(self) -> TokenCache {
        TokenCache {
            inner: Arc::new(Inner {
                generation: AtomicU64::new(0),
                local_slot: CACHE_IDS.fetch_add(1, Ordering::Relaxed) % LOCAL_SLOTS,
                cx: FetchContext::new(self.clock, self.expiry),
                refresh: self.refresh,
                backoff: self.backoff,
                background: self.background,
                current: ArcSwapOption::empty(),
                slow: Mutex::new(Slow::default()),
                shared: self.store.map(|store| StoreUse {
                    store,
                    key: format!("{}{}", self.key_prefix, self.source.identity()),
                    lease_ttl: self.lease_ttl,
                }),
                source: self.source,
            }),
        }
    }
}

impl fmt::Debug for TokenCacheBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenCacheBuilder")
            .field("source", &self.source)
            .field("clock", &self.clock)
            .field("expiry", &self.expiry)
            .field("refresh", &self.refresh)
            .field("backoff", &self.backoff)
            .field("background", &self.background)
            .field("store", &self.store)
            .field("lease_ttl", &self.lease_ttl)
            .finish()
    }
}

impl TokenCache {
    /// A cache with default settings around `source`.
    pub fn new(source: impl TokenSource + 'static) -> Self {
        Self::builder(source).build()
    }

    /// A cache around `source`, to configure.
    pub fn builder(source: impl TokenSource + 'static) -> TokenCacheBuilder {
        Self::builder_arc(Arc::new(source))
    }

    /// A cache around a shared or boxed source, to configure.
    pub fn builder_arc(source: Arc<dyn TokenSource>) -> TokenCacheBuilder {
        TokenCacheBuilder {
            source,
            clock: Arc::new(SystemClock),
            expiry: ExpiryPolicy::default(),
            refresh: RefreshPolicy::default(),
            backoff: Backoff {
                initial: Duration::from_secs(1),
                max: Duration::from_secs(5 * 60),
            },
            background: true,
            store: None,
            key_prefix: String::new(),
            lease_ttl: Duration::from_secs(15),
        }
    }

    /// The source's provider name.
    pub fn provider(&self) -> &str {
        self.inner.source.provider()
    }

    /// The wrapped source.
    pub fn source(&self) -> &Arc<dyn TokenSource> {
        &self.inner.source
    }

    /// The context the cache fetches with: its clock and expiry policy. Use it for calls a
    /// source makes outside [`TokenSource::fetch`], so they read the same clock.
    pub fn context(&self) -> &FetchContext {
        &self.inner.cx
    }

    /// A valid token: the cached one while it is fresh, otherwise a new one.
    ///
    /// See the type's documentation for how concurrent callers, renewals and failures are
    /// handled.
    pub async fn token(&self) -> Result<Arc<Token>> {
        match self.fresh() {
            Some(token) => Ok(token),
            // Boxed so that the cached path's future stays small.
            None => Box::pin(self.slow_path()).await,
        }
    }

    /// The current token if it is fresh (before its refresh window): from this thread's
    /// slot when the cache has not changed since, otherwise from the shared entry.
    #[inline]
    fn fresh(&self) -> Option<Arc<Token>> {
        let inner = &*self.inner;
        let now = inner.cx.now();
        let generation = inner.generation.load(Ordering::Acquire);
        if let Some(token) = local_get(inner.local_slot, generation, now) {
            return Some(token);
        }
        let guard = inner.current.load();
        let entry = guard.as_ref().filter(|e| now < e.refresh_at)?;
        let token = entry.token();
        local_put(inner.local_slot, entry, &token);
        Some(token)
    }

    /// The cached token if it can still be served, without fetching.
    pub fn cached(&self) -> Option<Arc<Token>> {
        let now = self.inner.cx.now();
        let guard = self.inner.current.load();
        let entry = guard.as_ref()?;
        (now < entry.usable_until).then(|| entry.token())
    }

    /// Drops `token` from the cache if it is still the current token, and says whether it
    /// was. Call it when the API answered 401 to a request made with `token`; the next
    /// [`token`](Self::token) fetches anew (with the refresh token, where there is one).
    ///
    /// Invalidating a token that has already been replaced does nothing, so a slow request
    /// that fails with an old token cannot throw away a newer one.
    pub fn invalidate(&self, token: &Token) -> bool {
        let guard = self.inner.current.load();
        match &*guard {
            Some(entry) if entry.tokens[0].same_access_token(token) => {
                let previous = self.inner.current.compare_and_swap(&guard, None);
                let swapped = previous.as_ref().is_some_and(|p| Arc::ptr_eq(p, entry));
                if swapped {
                    self.inner.lock().invalidated = Some(Arc::clone(&entry.tokens[0]));
                    self.inner.generation.store(
                        GENERATIONS.fetch_add(1, Ordering::Relaxed),
                        Ordering::Release,
                    );
                    tracing::debug!(provider = self.provider(), "token invalidated");
                }
                swapped
            }
            _ => false,
        }
    }

    async fn slow_path(&self) -> Result<Arc<Token>> {
        let (valid, future, drive) = {
            let mut slow = self.inner.lock();
            // Checked again under the lock: a flight that just finished stored its token
            // before clearing itself.
            let now = self.inner.cx.now();
            let current = self.inner.current.load_full();
            if let Some(entry) = &current
                && now < entry.refresh_at
            {
                return Ok(entry.token());
            }
            let valid = current.filter(|e| now < e.usable_until).map(|e| e.token());
            if let Some(flight) = &slow.flight {
                (valid, flight.future.clone(), false)
            } else if let Some(failure) = slow.failure.as_ref().filter(|f| now < f.retry_at) {
                return match valid {
                    Some(token) => Ok(token),
                    None => Err(failure.error.clone()),
                };
            } else {
                let (future, spawned) = self.start_flight(&mut slow);
                (valid, future, !spawned)
            }
        };
        match valid {
            Some(token) if drive => Ok(future.await.unwrap_or(token)),
            Some(token) => Ok(token),
            None => future.await,
        }
    }

    /// Starts a fetch; returns it and whether a task now drives it.
    fn start_flight(&self, slow: &mut MutexGuard<'_, Slow>) -> (FlightFuture, bool) {
        let id = slow.next_id;
        slow.next_id += 1;
        let inner = Arc::downgrade(&self.inner);
        let source = Arc::clone(&self.inner.source);
        let cx = self.inner.cx.clone();
        let previous = slow.latest.clone();
        let invalidated = slow.invalidated.clone();
        let shared = self.inner.shared.clone();
        let refresh = self.inner.refresh.clone();
        let future = async move {
            let result = match &shared {
                Some(shared) => {
                    obtain_shared(
                        &*source,
                        &cx,
                        shared,
                        &refresh,
                        previous.as_deref(),
                        invalidated.as_deref(),
                    )
                    .await
                }
                None => obtain(&*source, &cx, previous.as_deref()).await,
            };
            match Weak::upgrade(&inner) {
                Some(inner) => inner.complete(id, result),
                None => result.map(Arc::new),
            }
        }
        .boxed()
        .shared();
        let mut spawned = false;
        if self.inner.background
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            let task = runtime.spawn(future.clone().map(drop));
            slow.driver = Some(task.abort_handle());
            spawned = true;
        }
        slow.flight = Some(Flight {
            id,
            future: future.clone(),
        });
        (future, spawned)
    }
}

/// Obtains a token through a shared store: the stored token if it is fresh, otherwise one
/// process (the lease holder) fetches and writes it while the others wait for the write.
/// Any store failure falls back to a direct fetch.
async fn obtain_shared(
    source: &dyn TokenSource,
    cx: &FetchContext,
    shared: &StoreUse,
    refresh: &RefreshPolicy,
    previous: Option<&Token>,
    invalidated: Option<&Token>,
) -> Result<Token> {
    let provider = source.provider();
    let StoreUse {
        store,
        key,
        lease_ttl,
    } = shared;
    let degrade = |what: &str, e: &Error| {
        tracing::warn!(provider, error = %e, "token store failed to {what}; using this process's own token");
    };
    let read = |stored: Option<StoredValue>| -> (Option<String>, Option<Token>) {
        match stored {
            None => (None, None),
            Some(StoredValue { revision, value }) => {
                match Token::from_stored(provider, value.expose_secret()) {
                    Ok(token) => (Some(revision), Some(token)),
                    Err(e) => {
                        tracing::warn!(provider, error = %e, "ignoring an unreadable value in the token store; it will be replaced");
                        (Some(revision), None)
                    }
                }
            }
        }
    };
    let usable = |token: &Token| {
        let fresh = cx.now()
            < refresh
                .schedule(token.issued_at(), token.expires_at(), fastrand::f64())
                .refresh_at;
        fresh && !invalidated.is_some_and(|bad| bad.same_access_token(token))
    };
    let deadline = tokio::time::Instant::now() + *lease_ttl * 3;
    loop {
        let (revision, stored) = match store.load(key).await {
            Ok(value) => read(value),
            Err(e) => {
                degrade("read", &e);
                return obtain(source, cx, previous).await;
            }
        };
        if let Some(token) = stored.as_ref().filter(|t| usable(t)) {
            return Ok(token.clone());
        }
        if tokio::time::Instant::now() >= deadline {
            tracing::warn!(
                provider,
                "no token appeared in the store in time; fetching directly"
            );
            return obtain(source, cx, stored.as_ref().or(previous)).await;
        }
        let lease = match store.try_lease(key, *lease_ttl).await {
            Ok(lease) => lease,
            Err(e) => {
                degrade("lease", &e);
                return obtain(source, cx, stored.as_ref().or(previous)).await;
            }
        };
        let Some(lease) = lease else {
            // Another process is refreshing: wait for its write, in slices, so that a lease
            // left by a holder that died is taken over soon after it lapses.
            let slice = (*lease_ttl / 4).clamp(Duration::from_millis(100), Duration::from_secs(1));
            if let Err(e) = store.wait_for_change(key, revision.as_deref(), slice).await {
                degrade("wait", &e);
                return obtain(source, cx, stored.as_ref().or(previous)).await;
            }
            continue;
        };
        // The lease is ours. Read once more: the last holder may have written just before.
        let (revision, stored) = match store.load(key).await {
            Ok(value) => read(value),
            Err(_) => (revision, stored),
        };
        let result = match stored.as_ref().filter(|t| usable(t)) {
            Some(token) => Ok(token.clone()),
            // The newest refresh token is the stored one: it may have been rotated by
            // another process.
            None => match obtain(source, cx, stored.as_ref().or(previous)).await {
                Ok(token) => {
                    let value = token.to_stored(provider);
                    match store
                        .compare_and_set(key, revision.as_deref(), &value)
                        .await
                    {
                        Ok(Some(_)) => Ok(token),
                        Ok(None) => {
                            // Someone wrote meanwhile (our lease lapsed). Theirs is newer.
                            match store.load(key).await.map(read) {
                                Ok((_, Some(theirs))) if usable(&theirs) => Ok(theirs),
                                _ => Ok(token),
                            }
                        }
                        Err(e) => {
                            degrade("write", &e);
                            Ok(token)
                        }
                    }
                }
                Err(e) => Err(e),
            },
        };
        if let Err(e) = store.release(key, lease).await {
            degrade("release its lease", &e);
        }
        return result;
    }
}

/// Renews with the refresh token when there is one, falling back to a full fetch if the
/// provider rejects it.
async fn obtain(
    source: &dyn TokenSource,
    cx: &FetchContext,
    previous: Option<&Token>,
) -> Result<Token> {
    if let Some(previous) = previous
        && let Some(refresh_token) = previous.refresh_token()
    {
        match source.refresh(cx, refresh_token).await {
            Ok(mut token) => {
                token.inherit_refresh_token(previous);
                return Ok(token);
            }
            Err(e) if e.is_credentials_rejected() => {
                tracing::info!(
                    provider = source.provider(),
                    error = %e,
                    "refresh token rejected; fetching a new token"
                );
            }
            Err(e) => return Err(e),
        }
    }
    source.fetch(cx).await
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, Slow> {
        // The slow state stays consistent even if a holder panicked: every critical
        // section only assigns whole fields.
        self.slow.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn complete(&self, id: u64, result: Result<Token>) -> Result<Arc<Token>> {
        let mut slow = self.lock();
        if slow.flight.as_ref().is_some_and(|f| f.id == id) {
            slow.flight = None;
            slow.driver = None;
        }
        match result {
            Ok(token) => {
                let token = Arc::new(token);
                let schedule =
                    self.refresh
                        .schedule(token.issued_at(), token.expires_at(), fastrand::f64());
                let generation = GENERATIONS.fetch_add(1, Ordering::Relaxed);
                self.current.store(Some(Arc::new(Entry::new(
                    generation,
                    &token,
                    schedule.refresh_at,
                    schedule.usable_until,
                ))));
                self.generation.store(generation, Ordering::Release);
                slow.latest = Some(Arc::clone(&token));
                slow.failure = None;
                tracing::debug!(
                    provider = self.source.provider(),
                    expires_in_s = token.expires_in(self.cx.now()).as_secs(),
                    "new token cached"
                );
                Ok(token)
            }
            Err(error) => {
                let count = slow
                    .failure
                    .as_ref()
                    .map_or(0, |f| f.count)
                    .saturating_add(1);
                let wait = self
                    .backoff
                    .interval(count)
                    .max(error.retry_after().unwrap_or_default());
                let now = self.cx.now();
                tracing::warn!(
                    provider = self.source.provider(),
                    error = %error,
                    failures = count,
                    retry_in_ms = wait.as_millis() as u64,
                    "token fetch failed"
                );
                slow.failure = Some(Failure {
                    error: error.clone(),
                    retry_at: now.checked_add(wait).unwrap_or(now),
                    count,
                });
                Err(error)
            }
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        let slow = self.slow.get_mut().unwrap_or_else(|e| e.into_inner());
        if let Some(driver) = slow.driver.take() {
            driver.abort();
        }
    }
}

impl fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let current = self.inner.current.load();
        f.debug_struct("TokenCache")
            .field("source", &self.inner.source)
            .field("token", &current.as_ref().map(|e| &e.tokens[0]))
            .finish_non_exhaustive()
    }
}
