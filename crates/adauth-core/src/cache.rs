use std::fmt;
use std::future::Future;
use std::ops::Deref;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::task::{Context, Poll};
use std::time::Duration;

use arc_swap::{ArcSwap, Guard};
use futures_util::FutureExt as _;
use futures_util::future::{BoxFuture, Shared};
use tokio::sync::Notify;
use tokio::time::Instant;

use crate::events::{CacheEvent, Hook};
use crate::fetcher::{Backoff, Fetcher, Obtained, StoreUse};
use crate::store::TokenStore;
use crate::token::CacheSchedule;
use crate::{
    Clock, Error, ErrorKind, ExpiryPolicy, FetchContext, RefreshPolicy, Result, Token, TokenSource,
};

/// How long one fetch may take, store waits included, unless
/// [`TokenCacheBuilder::load_timeout`] says otherwise: 3 minutes, longer than the built-in
/// HTTP client's worst case for one token request (3 attempts of up to 30 s, and up to 30 s
/// of `Retry-After` between them).
pub const DEFAULT_LOAD_TIMEOUT: Duration = Duration::from_secs(180);

/// The longest back-off the cache accepts.
const MAX_WAIT: Duration = Duration::from_secs(24 * 3600);

/// How long one token store call may take unless [`TokenCacheBuilder::store_timeout`] says
/// otherwise: 2 s.
pub const DEFAULT_STORE_TIMEOUT: Duration = Duration::from_secs(2);

/// A refresh lease's time to live unless [`TokenCacheBuilder::lease_ttl`] says otherwise:
/// 15 s. The holder renews it every third of that for as long as its fetch runs.
pub const DEFAULT_LEASE_TTL: Duration = Duration::from_secs(15);

/// A token cache around any [`TokenSource`]: fetched once, shared by every caller, renewed
/// ahead of expiry.
///
/// - **Cached path.** While the token is fresh, [`token`](Self::token) takes no lock,
///   allocates nothing and touches no reference count: it reads a coarse clock and one
///   [`arc_swap`] pointer, and hands out a [`TokenGuard`] holding the token in place. It
///   costs less than a hand-written `ArcSwap` cache that clones an `Arc`, at one cache or
///   at a hundred thousand, and stays as cheap when threads share the cache
///   (`cargo bench -p adauth-core --bench cache`).
/// - **Single flight.** However many callers find the cache empty or expired, one request
///   is made and all of them get its result, token or error.
/// - **Refresh ahead.** Once the token enters its refresh window (see [`RefreshPolicy`]),
///   one renewal starts in the background while callers keep getting the valid token; if
///   the renewal fails they keep getting it until it expires. An expired token is never
///   served: callers wait for the fetch.
/// - **Cancellation safe.** Callers waiting for a token drive its fetch themselves (no task
///   to schedule and wake); if every one of them gives up, the last hands the fetch to a
///   tokio task, so it finishes with nobody waiting. A renewal ahead of expiry runs on a
///   task owned by the cache; dropping the last clone of the cache aborts it. A caller that
///   gives up neither cancels nor wedges a fetch, and a fetch whose runtime shut down is
///   replaced by the next call.
/// - **Bounded.** A fetch that takes longer than the load timeout (3 minutes by default)
///   is dropped and its waiters get a [`Timeout`](ErrorKind::Timeout) error; a source that
///   panics gives its waiters an [`Internal`](ErrorKind::Internal) error. Either way the
///   next call after the back-off fetches again.
/// - **No stampede on failure.** After a failed fetch, callers share that failure until a
///   back-off interval has passed (1 s, doubling up to 5 minutes, or the provider's
///   `Retry-After` if longer), measured on the monotonic clock: one attempt per interval,
///   however many callers, whatever the wall clock does.
/// - **No dead tokens.** A token that has already expired when it arrives (a skewed clock)
///   is an [`UnexpectedResponse`](ErrorKind::UnexpectedResponse) error, never served.
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

/// What [`Inner::current`] holds while a cache has no token, shared by every cache: an
/// empty token whose schedule is never fresh and never usable. Every reader checks for it
/// ([`is_no_token`]), a comparison of pointers.
static NO_TOKEN: std::sync::LazyLock<Arc<Token>> = std::sync::LazyLock::new(|| {
    let mut token = Token::new(
        secrecy::SecretString::default(),
        std::time::UNIX_EPOCH,
        std::time::UNIX_EPOCH,
    );
    token.schedule = CacheSchedule::NONE;
    Arc::new(token)
});

/// Whether `token` is the stand-in for no token.
fn is_no_token(token: &Arc<Token>) -> bool {
    Arc::ptr_eq(token, &NO_TOKEN)
}

// `repr(C)`: the fields the cached path reads come first, in the cache line that holds the
// `Arc`'s counts, so that on the system clock a cached `token()` reads one line of the
// cache and not the token at all.
#[repr(C)]
struct Inner {
    /// The clock (`None`: the system clock), beside `current` so that the cached path
    /// reads one cache line of the cache.
    clock: Option<Arc<dyn Clock>>,
    /// The current token, with its schedule inside it: the one copy of the token that the
    /// cache keeps, read without a lock; the cached path hands out guards of it. While there
    /// is none it holds [`NO_TOKEN`], so that a guard of a token is never empty: a
    /// `Result<TokenGuard>` fits in two registers.
    current: ArcSwap<Token>,
    /// The current token's refresh time in nanoseconds since the Unix epoch
    /// ([`crate::clock::unix_nanos`]), `i64::MIN` while there is none: what the cached path
    /// compares the system clock's raw reading with, so that it need not read the token.
    ///
    /// `current` and `refresh_at_ns` change only under the `slow` lock: an install stores
    /// `current` and then this, an invalidation this (`i64::MIN`) and then `current`. A
    /// reader loads this first and `current` second, so the token it reads is the one
    /// whose refresh time it read, or a newer one, or the stand-in, which it refuses.
    refresh_at_ns: AtomicI64,
    /// [`NO_TOKEN`], held here so that the cached path compares with a field of the line it
    /// reads anyway, not with a lazily made static (whose state it would check first).
    stand_in: Arc<Token>,
    background: bool,
    slow: Mutex<Slow>,
    fetcher: Arc<Fetcher>,
}

#[derive(Default)]
struct Slow {
    flight: Option<Flight>,
    failure: Option<Failure>,
    /// The newest token fetched, kept after invalidation for its refresh token.
    latest: Option<Arc<Token>>,
    next_id: u64,
}

/// How a fetch in progress ends for its waiters.
#[derive(Clone)]
enum State {
    Running,
    Done(Result<Arc<Token>>),
    /// The result was dropped (it was invalidated while it was fetched): fetch again.
    Discarded,
}

struct Flight {
    id: u64,
    join: Join,
    /// The task driving the fetch, when one does.
    task: Option<tokio::task::AbortHandle>,
}

/// What a caller needs to wait for a fetch.
#[derive(Clone)]
struct Join {
    state: Arc<Outcome>,
    /// Without a task, the callers drive the fetch: whichever polls this.
    drive: Option<Shared<BoxFuture<'static, ()>>>,
    /// Whether the last caller to give up hands the fetch to a task of the runtime, so that
    /// it finishes without anyone waiting (a cache with background fetches).
    hand_off: bool,
    /// The runtime a caller-driven fetch started on: its timers and connections belong to
    /// that runtime, so another runtime must not drive it on.
    runtime: Option<tokio::runtime::Id>,
}

/// A fetch's outcome: set once by its flight, awaited by its callers. One `Notify`, where
/// a `watch` channel's eight would cost every fetch eight lock round-trips for a handful of
/// waiters.
struct Outcome {
    state: Mutex<State>,
    /// Set when the flight's future was dropped without an outcome.
    gone: AtomicBool,
    ready: Notify,
    /// How many callers are driving a caller-driven fetch now: a fetch left by a caller
    /// that gave up (holding a store lease, perhaps) must be driven on by the next caller,
    /// not left paused.
    drivers: AtomicUsize,
}

impl Default for Outcome {
    fn default() -> Self {
        Self {
            state: Mutex::new(State::Running),
            gone: AtomicBool::new(false),
            ready: Notify::new(),
            drivers: AtomicUsize::new(0),
        }
    }
}

impl Outcome {
    fn running(&self) -> bool {
        matches!(
            *self.state.lock().unwrap_or_else(|e| e.into_inner()),
            State::Running
        )
    }

    /// The outcome once there is one; `None` if the flight was dropped without one.
    async fn wait(&self) -> Option<State> {
        loop {
            let notified = self.ready.notified();
            let mut notified = std::pin::pin!(notified);
            // Registered before looking, so that an outcome set in between still wakes us.
            notified.as_mut().enable();
            {
                let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
                if !matches!(*state, State::Running) {
                    return Some(state.clone());
                }
            }
            if self.gone.load(Ordering::SeqCst) {
                return None;
            }
            notified.await;
        }
    }
}

/// The flight's end of its [`Outcome`]: reports it, or, dropped without reporting (its
/// task aborted, its runtime gone), marks the outcome gone.
struct Reporter(Arc<Outcome>);

impl Reporter {
    fn report(self, state: State) {
        *self.0.state.lock().unwrap_or_else(|e| e.into_inner()) = state;
        self.0.ready.notify_waiters();
    }
}

impl Drop for Reporter {
    fn drop(&mut self) {
        if self.0.running() {
            self.0.gone.store(true, Ordering::SeqCst);
            self.0.ready.notify_waiters();
        }
    }
}

/// Counts a caller as driving a fetch while it lives; the last one to leave an unfinished
/// fetch hands it to a task when the join says so.
struct Driving {
    outcome: Arc<Outcome>,
    hand_off: Option<Shared<BoxFuture<'static, ()>>>,
}

impl Drop for Driving {
    fn drop(&mut self) {
        let last = self.outcome.drivers.fetch_sub(1, Ordering::SeqCst) == 1;
        if last
            && let Some(drive) = self.hand_off.take()
            && drive.peek().is_none()
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            runtime.spawn(drive);
        }
    }
}

impl Join {
    /// The fetch's result; `None` if it was discarded or its task vanished without one.
    async fn wait(&self) -> Option<Result<Arc<Token>>> {
        if let Some(drive) = &self.drive {
            self.state.drivers.fetch_add(1, Ordering::SeqCst);
            let _driving = Driving {
                outcome: Arc::clone(&self.state),
                hand_off: self.hand_off.then(|| drive.clone()),
            };
            drive.clone().await;
        }
        match self.state.wait().await? {
            State::Done(result) => Some(result),
            _ => None,
        }
    }

    /// Whether the fetch ended without a result: its task was dropped (its runtime shut
    /// down, say) before it finished.
    fn abandoned(&self) -> bool {
        let running = self.state.running();
        let orphaned = self.state.gone.load(Ordering::SeqCst);
        let elsewhere = self.drive.is_some()
            && self.runtime.is_some()
            && tokio::runtime::Handle::try_current().ok().map(|h| h.id()) != self.runtime;
        running && (orphaned || elsewhere)
    }
}

struct Failure {
    error: Error,
    /// On the monotonic clock, so that a wall clock stepped back cannot stall retries.
    retry_at: Instant,
    count: u32,
}

/// Settings for a [`TokenCache`]; from [`TokenCache::builder`].
pub struct TokenCacheBuilder {
    source: Arc<dyn TokenSource>,
    /// `None`: the system clock.
    clock: Option<Arc<dyn Clock>>,
    expiry: ExpiryPolicy,
    refresh: RefreshPolicy,
    backoff: Backoff,
    background: bool,
    load_timeout: Duration,
    store: Option<Arc<dyn TokenStore>>,
    key_prefix: String,
    lease_ttl: Duration,
    store_timeout: Duration,
    hook: Option<Hook>,
}

impl TokenCacheBuilder {
    /// Calls `hook` with each [`CacheEvent`]: a token fetched, renewed or read from the
    /// store, a failed fetch with its kind, an invalidation, a store call that failed. For
    /// metrics; it runs on the fetching task, so it should be quick, and a panic in it is
    /// caught. The events are also in the cache's `tracing` spans (see [`CacheEvent`]).
    pub fn on_event(mut self, hook: impl Fn(&CacheEvent<'_>) + Send + Sync + 'static) -> Self {
        self.hook = Some(Hook(Arc::new(hook)));
        self
    }

    /// The clock the cache reads and stamps tokens with (default: the system clock).
    ///
    /// It decides expiry only: back-off and deadlines run on tokio's monotonic clock.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
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
    /// to `max` (defaults 1 s and 5 minutes; both at most a day). A provider's
    /// `Retry-After` longer than the interval is honoured up to an hour.
    pub fn backoff(mut self, initial: Duration, max: Duration) -> Self {
        let initial = initial.min(MAX_WAIT);
        self.backoff = Backoff {
            initial,
            max: max.clamp(initial, MAX_WAIT),
        };
        self
    }

    /// Whether fetches nobody waits for run on a tokio task (default `true`, when a tokio
    /// runtime is running): renewals ahead of expiry, and fetches whose waiting callers all
    /// gave up. When `false`, or outside a runtime, a renewal ahead of expiry is driven by
    /// the caller that notices the refresh window (that one caller waits for it), and a
    /// fetch left by its callers waits for the next one. Callers waiting for a token drive
    /// its fetch either way.
    pub fn background_refresh(mut self, yes: bool) -> Self {
        self.background = yes;
        self
    }

    /// The longest one fetch may take, waiting for another process's lease included
    /// (default [`DEFAULT_LOAD_TIMEOUT`], 3 minutes; at least 1 ms). At the deadline the
    /// fetch is dropped, its waiters get a [`Timeout`](ErrorKind::Timeout) error and the
    /// next call after the back-off starts anew. Applies within a tokio runtime.
    pub fn load_timeout(mut self, timeout: Duration) -> Self {
        self.load_timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// Shares tokens with other processes through `store` (see [`TokenStore`]): one token
    /// per credential, fetched by one process and used by all.
    ///
    /// The source must have an [`identity`](TokenSource::identity): without one, every
    /// call answers with a [`Configuration`](ErrorKind::Configuration) error rather than
    /// risk serving one credential's token to another.
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

    /// The refresh lease's time to live (default [`DEFAULT_LEASE_TTL`], 15 s; at least
    /// 100 ms). The holder renews it every third of that while its fetch runs, so it only
    /// bounds how long a holder that died blocks the others.
    pub fn lease_ttl(mut self, ttl: Duration) -> Self {
        self.lease_ttl = ttl.max(Duration::from_millis(100));
        self
    }

    /// The longest one store call may take (default [`DEFAULT_STORE_TIMEOUT`], 2 s; at
    /// least 1 ms). A store that does not answer in time is treated as failed: the cache
    /// warns once and fetches on its own.
    pub fn store_timeout(mut self, timeout: Duration) -> Self {
        self.store_timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// Builds the cache.
    pub fn build(self) -> TokenCache {
        let store = self.store.map(|store| StoreUse {
            store,
            key: match self.source.identity() {
                Some(identity) => Ok(format!("{}{identity}", self.key_prefix)),
                None => Err(Error::configuration(
                    self.source.provider().to_owned(),
                    "a token store needs a source with an identity (TokenSource::identity): \
                     without one, two credentials could share a token",
                )),
            },
            lease_ttl: self.lease_ttl,
            timeout: self.store_timeout,
            degraded: AtomicBool::new(false),
        });
        TokenCache {
            inner: Arc::new(Inner {
                clock: self.clock.clone(),
                background: self.background,
                current: ArcSwap::new(Arc::clone(&NO_TOKEN)),
                refresh_at_ns: AtomicI64::new(i64::MIN),
                stand_in: Arc::clone(&NO_TOKEN),
                slow: Mutex::new(Slow::default()),
                fetcher: Arc::new(Fetcher {
                    cx: {
                        let expiry = self
                            .expiry
                            .documented_lifetime(self.source.documented_lifetime());
                        match self.clock {
                            Some(clock) => FetchContext::new(clock, expiry),
                            None => FetchContext::system(expiry),
                        }
                    },
                    refresh: self.refresh,
                    backoff: self.backoff,
                    load_timeout: self.load_timeout,
                    store,
                    source: self.source,
                    invalidated: Mutex::new(None),
                    invalidations: AtomicU64::new(0),
                    force: AtomicBool::new(false),
                    identity: std::sync::OnceLock::new(),
                    hook: self.hook,
                    grant: AtomicU8::new(crate::fetcher::GRANT_STORE),
                }),
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
            .field("load_timeout", &self.load_timeout)
            .field("store", &self.store)
            .field("lease_ttl", &self.lease_ttl)
            .field("store_timeout", &self.store_timeout)
            .field("hook", &self.hook.is_some())
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
            clock: None,
            expiry: ExpiryPolicy::default(),
            refresh: RefreshPolicy::default(),
            backoff: Backoff {
                initial: Duration::from_secs(1),
                max: Duration::from_secs(5 * 60),
            },
            background: true,
            load_timeout: DEFAULT_LOAD_TIMEOUT,
            store: None,
            key_prefix: String::new(),
            lease_ttl: DEFAULT_LEASE_TTL,
            store_timeout: DEFAULT_STORE_TIMEOUT,
            hook: None,
        }
    }

    /// The source's provider name.
    pub fn provider(&self) -> &str {
        self.inner.fetcher.source.provider()
    }

    /// The wrapped source.
    pub fn source(&self) -> &Arc<dyn TokenSource> {
        &self.inner.fetcher.source
    }

    /// The context the cache fetches with: its clock and expiry policy. Use it for calls a
    /// source makes outside [`TokenSource::fetch`], so they read the same clock.
    pub fn context(&self) -> &FetchContext {
        &self.inner.fetcher.cx
    }

    /// A valid token: the cached one while it is fresh, otherwise a new one, as a
    /// [`TokenGuard`] that reads as the [`Token`]; `into_arc()` keeps it beyond a request.
    ///
    /// See the type's documentation for how concurrent callers, renewals and failures are
    /// handled. A fresh cached token makes the future ready at its first poll.
    #[inline]
    pub fn token(&self) -> TokenFuture<'_> {
        TokenFuture {
            cache: self,
            fetch: None,
        }
    }

    /// The fetching path, boxed and out of line: its future is large, and building it in
    /// [`token`](Self::token)'s frame would cost the cached path a large stack frame.
    #[inline(never)]
    fn slow(&self) -> Box<BoxFuture<'_, Result<Arc<Token>>>> {
        Box::new(self.slow_path().boxed())
    }

    /// Calls `f` with a valid token and returns what it returns: on the cached path, `f`
    /// reads the cached token in place (a little cheaper than [`token`](Self::token), which
    /// returns the guard); otherwise the token is fetched first, as `token`
    /// does.
    ///
    /// For reading a token to build a header, say. `f` is called once; keep it short: it
    /// runs while the cache's pointer is held.
    ///
    /// ```no_run
    /// # async fn run(cache: adauth_core::TokenCache) -> adauth_core::Result<()> {
    /// use secrecy::ExposeSecret;
    ///
    /// let header = cache
    ///     .with_token(|t| format!("Bearer {}", t.access_token().expose_secret()))
    ///     .await?;
    /// # let _ = header; Ok(()) }
    /// ```
    #[inline]
    pub fn with_token<R, F: FnMut(&Token) -> R>(&self, f: F) -> WithToken<'_, F> {
        WithToken {
            cache: self,
            fetch: None,
            f,
        }
    }

    /// `f` applied to the fresh token in place, if there is one.
    #[inline]
    fn read_fresh<R>(&self, f: impl FnOnce(&Token) -> R) -> Option<R> {
        let inner = &*self.inner;
        let refresh_at_ns = inner.refresh_at_ns.load(Ordering::Acquire);
        let guard = inner.current.load();
        inner.is_fresh(refresh_at_ns, &guard).then(|| f(&guard))
    }

    /// The current token if it is fresh (before its refresh window), held in place.
    #[inline]
    fn fresh(&self) -> Option<TokenGuard> {
        let inner = &*self.inner;
        let refresh_at_ns = inner.refresh_at_ns.load(Ordering::Acquire);
        let guard = inner.current.load();
        inner
            .is_fresh(refresh_at_ns, &guard)
            .then_some(TokenGuard(guard))
    }

    /// The cached token if it can still be served, without fetching.
    pub fn cached(&self) -> Option<Arc<Token>> {
        let now = self.inner.fetcher.cx.now();
        let entry = self.inner.current_token()?;
        (now < entry.schedule.usable_until).then_some(entry)
    }

    /// Drops `token` from the cache if it is still the current token, and says whether it
    /// was. Call it when the API answered 401 to a request made with `token`; the next
    /// [`token`](Self::token) fetches anew (with the refresh token, where there is one).
    ///
    /// Invalidating a token that has already been replaced does nothing, so a slow request
    /// that fails with an old token cannot throw away a newer one. An invalidated token is
    /// never served again by this cache, even by a fetch that was running when it was
    /// invalidated; with a token store, the next fetch marks it in the store so that no
    /// other process adopts it either.
    pub fn invalidate(&self, token: &Token) -> bool {
        let guard = self.inner.current.load();
        match &*guard {
            entry if !is_no_token(entry) && entry.same_access_token(token) => {
                // Marked first, so that a fetch finishing in between cannot install it.
                self.inner.fetcher.invalidate(Arc::clone(entry));
                let swapped = self.inner.uninstall(entry);
                if swapped {
                    tracing::debug!(provider = self.provider(), "token invalidated");
                    Hook::emit(
                        self.inner.fetcher.hook.as_ref(),
                        CacheEvent::Invalidated {
                            provider: self.provider(),
                        },
                    );
                }
                swapped
            }
            _ => false,
        }
    }

    /// Renews the token now, whatever its state, and returns the new one: the current
    /// token (in memory, or in the store for a cache that has none yet) is treated as
    /// invalidated.
    pub async fn renew_now(&self) -> Result<TokenGuard> {
        if let Some(entry) = self.inner.current_token() {
            self.invalidate(&entry);
        }
        self.inner.fetcher.force.store(true, Ordering::SeqCst);
        self.inner.lock().failure = None;
        let result = self.token().await;
        self.inner.fetcher.force.store(false, Ordering::SeqCst);
        result
    }

    async fn slow_path(&self) -> Result<Arc<Token>> {
        // A fetch can end without a result (discarded, or its task gone with its runtime):
        // then another one is started, a bounded number of times.
        for _ in 0..4 {
            let (valid, join, drive) = {
                let mut slow = self.inner.lock();
                // Checked again under the lock: a flight that just finished stored its token
                // before clearing itself.
                let now = self.inner.fetcher.cx.now();
                let current = self.inner.current_token();
                if let Some(entry) = &current
                    && now < entry.schedule.refresh_at
                {
                    return Ok(Arc::clone(entry));
                }
                let valid = current.filter(|t| now < t.schedule.usable_until);
                if slow.flight.as_ref().is_some_and(|f| f.join.abandoned()) {
                    tracing::debug!(
                        provider = self.provider(),
                        "a fetch ended without a result; starting another"
                    );
                    slow.flight = None;
                }
                if let Some(flight) = &slow.flight {
                    // A caller-driven fetch that nobody drives any more is driven by this
                    // caller (which waits for it, as the caller that started it did).
                    let undriven = flight.join.drive.is_some()
                        && flight.join.state.drivers.load(Ordering::SeqCst) == 0;
                    (valid, flight.join.clone(), undriven)
                } else if let Some(failure) = slow
                    .failure
                    .as_ref()
                    .filter(|f| Instant::now() < f.retry_at)
                {
                    return match valid {
                        Some(token) => Ok(token),
                        None => Err(failure.error.clone()),
                    };
                } else {
                    let (join, spawned) = self.start_flight(&mut slow, valid.is_none());
                    (valid, join, !spawned)
                }
            };
            match valid {
                Some(token) if drive => {
                    return Ok(match join.wait().await {
                        Some(Ok(new)) => new,
                        _ => token,
                    });
                }
                Some(token) => return Ok(token),
                None => {
                    if let Some(result) = join.wait().await {
                        return result;
                    }
                }
            }
        }
        Err(Error::new(self.provider().to_owned(), ErrorKind::Internal)
            .with_message("fetches kept ending without a result"))
    }

    /// Starts a fetch; returns how to wait for it and whether a task now drives it.
    ///
    /// A caller that has no token to go on (`waiting`) drives the fetch itself: spawning a
    /// task for it would cost a wake-up of another worker thread, as much again as a
    /// loopback token request. If every such caller gives up, the last one hands the fetch
    /// to a task. A renewal ahead of expiry, which nobody waits for, runs on a task from the
    /// start.
    fn start_flight(&self, slow: &mut MutexGuard<'_, Slow>, waiting: bool) -> (Join, bool) {
        let id = slow.next_id;
        slow.next_id += 1;
        let inner = Arc::downgrade(&self.inner);
        let fetcher = Arc::clone(&self.inner.fetcher);
        let previous = slow.latest.clone();
        let attempt = slow
            .failure
            .as_ref()
            .map_or(0, |f| f.count)
            .saturating_add(1);
        let epoch = fetcher.invalidations.load(Ordering::SeqCst);
        let rx = Arc::new(Outcome::default());
        let tx = Reporter(Arc::clone(&rx));
        let future = async move {
            let obtained = fetcher.run(previous.as_deref(), attempt).await;
            let state = match Weak::upgrade(&inner) {
                Some(inner) => inner.complete(id, epoch, obtained),
                None => State::Done(obtained.result.map(Arc::new)),
            };
            tx.report(state);
        };
        let runtime = tokio::runtime::Handle::try_current().ok();
        let background = self.inner.background && runtime.is_some();
        let mut join = Join {
            state: rx,
            drive: None,
            hand_off: background,
            runtime: runtime.as_ref().map(|r| r.id()),
        };
        let mut task = None;
        match runtime {
            Some(runtime) if background && !waiting => {
                task = Some(runtime.spawn(future).abort_handle());
            }
            _ => join.drive = Some(future.boxed().shared()),
        }
        let spawned = task.is_some();
        slow.flight = Some(Flight {
            id,
            join: join.clone(),
            task,
        });
        (join, spawned)
    }
}

/// The future of [`TokenCache::token`]: ready at its first poll when the cached token is
/// fresh, otherwise the fetch (or the wait for one).
///
/// Two words, passed in registers: the cached path moves no larger value through memory.
#[must_use = "futures do nothing unless polled"]
pub struct TokenFuture<'a> {
    cache: &'a TokenCache,
    /// The fetching path, once the first poll found no fresh token.
    fetch: Option<Box<BoxFuture<'a, Result<Arc<Token>>>>>,
}

impl Future for TokenFuture<'_> {
    type Output = Result<TokenGuard>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if this.fetch.is_none() {
            if let Some(token) = this.cache.fresh() {
                return Poll::Ready(Ok(token));
            }
            this.fetch = Some(this.cache.slow());
        }
        match &mut this.fetch {
            Some(fetch) => fetch.as_mut().as_mut().poll(cx).map_ok(TokenGuard::from),
            None => Poll::Pending,
        }
    }
}

/// A token handed out by [`TokenCache::token`]: it reads as a [`Token`] (it derefs to one)
/// and holds the cached token in place, without a reference count touched, so the cached
/// path costs one pointer read and one clock read.
///
/// Hold it for as long as a request takes, no longer: each thread has a few slots for such
/// guards, and one held beyond them costs a reference count instead. To keep a token, turn
/// the guard into an `Arc` with [`into_arc`](Self::into_arc) (or `Arc::from`). The guard
/// keeps the token it was given alive even after the cache replaces it; it never sees a
/// newer one.
///
/// ```no_run
/// # async fn run(cache: adauth_core::TokenCache) -> adauth_core::Result<()> {
/// use std::sync::Arc;
/// use adauth_core::Token;
///
/// let token = cache.token().await?;
/// let expires = token.expires_at(); // read in place
/// let kept: Arc<Token> = token.into_arc(); // to keep it
/// # let _ = (expires, kept); Ok(()) }
/// ```
pub struct TokenGuard(Guard<Arc<Token>>);

impl TokenGuard {
    /// The held `Arc`.
    #[inline]
    fn arc(&self) -> &Arc<Token> {
        &self.0
    }

    /// The token as an `Arc` of its own, for keeping beyond a request.
    pub fn into_arc(self) -> Arc<Token> {
        Guard::into_inner(self.0)
    }
}

impl Deref for TokenGuard {
    type Target = Token;

    #[inline]
    fn deref(&self) -> &Token {
        self.arc()
    }
}

impl AsRef<Token> for TokenGuard {
    fn as_ref(&self) -> &Token {
        self
    }
}

impl std::borrow::Borrow<Token> for TokenGuard {
    fn borrow(&self) -> &Token {
        self
    }
}

impl From<Arc<Token>> for TokenGuard {
    fn from(token: Arc<Token>) -> Self {
        Self(Guard::from_inner(token))
    }
}

impl From<TokenGuard> for Arc<Token> {
    fn from(guard: TokenGuard) -> Self {
        guard.into_arc()
    }
}

impl Clone for TokenGuard {
    fn clone(&self) -> Self {
        Self::from(Arc::clone(self.arc()))
    }
}

impl fmt::Debug for TokenGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

/// The future of [`TokenCache::with_token`]: `f`'s result, read from the cached token in
/// place when it is fresh, otherwise from the token fetched.
#[must_use = "futures do nothing unless polled"]
pub struct WithToken<'a, F> {
    cache: &'a TokenCache,
    fetch: Option<Box<BoxFuture<'a, Result<Arc<Token>>>>>,
    f: F,
}

// Never pinned through: `f` is only called by `&mut`, and the fetch is boxed.
impl<F> Unpin for WithToken<'_, F> {}

impl<R, F: FnMut(&Token) -> R> Future for WithToken<'_, F> {
    type Output = Result<R>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if this.fetch.is_none() {
            if let Some(out) = this.cache.read_fresh(&mut this.f) {
                return Poll::Ready(Ok(out));
            }
            this.fetch = Some(this.cache.slow());
        }
        match &mut this.fetch {
            Some(fetch) => fetch
                .as_mut()
                .as_mut()
                .poll(cx)
                .map(|r| r.map(|token| (this.f)(&token))),
            None => Poll::Pending,
        }
    }
}

impl<F> fmt::Debug for WithToken<'_, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WithToken")
            .field("fetching", &self.fetch.is_some())
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for TokenFuture<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenFuture")
            .field("fetching", &self.fetch.is_some())
            .finish_non_exhaustive()
    }
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, Slow> {
        // The slow state stays consistent even if a holder panicked: every critical
        // section only assigns whole fields.
        self.slow.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether `token`, loaded after `refresh_at_ns` was read (see [`Inner::refresh_at_ns`]),
    /// is before its refresh window on the cache's clock. The system clock is compared in
    /// its raw form (nanoseconds) with `refresh_at_ns`, so the token itself is not read; a
    /// clock of the user's is compared with the token's own schedule.
    #[inline]
    fn is_fresh(&self, refresh_at_ns: i64, token: &Arc<Token>) -> bool {
        match &self.clock {
            None => {
                !Arc::ptr_eq(token, &self.stand_in)
                    && crate::clock::system_unix_nanos() < refresh_at_ns
            }
            Some(clock) => {
                // Copied out before the clock is called, so that the guard is not borrowed
                // across the call and can stay in registers.
                let refresh_at = token.schedule.refresh_at;
                !Arc::ptr_eq(token, &self.stand_in) && clock.now() < refresh_at
            }
        }
    }

    /// The current token; `None` while there is none ([`NO_TOKEN`]).
    fn current_token(&self) -> Option<Arc<Token>> {
        let current = self.current.load_full();
        (!is_no_token(&current)).then_some(current)
    }

    /// Drops `entry` if it is still the current token, and says whether it was.
    fn uninstall(&self, entry: &Arc<Token>) -> bool {
        let _slow = self.lock();
        if !Arc::ptr_eq(&self.current.load(), entry) {
            return false;
        }
        // In this order: see `Inner::refresh_at_ns`.
        self.refresh_at_ns.store(i64::MIN, Ordering::Release);
        self.current.store(Arc::clone(&NO_TOKEN));
        true
    }

    fn install(&self, slow: &mut Slow, mut token: Token) -> Arc<Token> {
        let schedule =
            self.fetcher
                .refresh
                .schedule(token.issued_at(), token.expires_at(), fastrand::f64());
        token.schedule = CacheSchedule {
            refresh_at: schedule.refresh_at,
            usable_until: schedule.usable_until,
        };
        let token = Arc::new(token);
        // In this order: see `Inner::refresh_at_ns`.
        self.current.store(Arc::clone(&token));
        self.refresh_at_ns.store(
            crate::clock::unix_nanos(schedule.refresh_at),
            Ordering::Release,
        );
        slow.latest = Some(Arc::clone(&token));
        token
    }

    fn complete(&self, id: u64, epoch: u64, obtained: Obtained) -> State {
        let mut slow = self.lock();
        if slow.flight.as_ref().is_some_and(|f| f.id == id) {
            slow.flight = None;
        }
        let fetcher = &*self.fetcher;
        let provider = fetcher.source.provider();
        match obtained.result {
            Ok(token) => {
                if fetcher.invalidations.load(Ordering::SeqCst) != epoch
                    && fetcher.is_invalidated(&token)
                {
                    tracing::debug!(
                        provider,
                        "dropping a token invalidated while it was fetched"
                    );
                    return State::Discarded;
                }
                let token = self.install(&mut slow, token);
                slow.failure = None;
                tracing::debug!(
                    provider,
                    expires_in_s = token.expires_in(fetcher.cx.now()).as_secs(),
                    "new token cached"
                );
                State::Done(Ok(token))
            }
            Err(error) => {
                let (wait, count) = obtained.retry.unwrap_or_else(|| {
                    let count = slow
                        .failure
                        .as_ref()
                        .map_or(0, |f| f.count)
                        .saturating_add(1);
                    (fetcher.backoff.wait(count, &error), count)
                });
                tracing::warn!(
                    provider,
                    error = %error,
                    failures = count,
                    retry_in_ms = wait.as_millis() as u64,
                    "token fetch failed"
                );
                let now = Instant::now();
                slow.failure = Some(Failure {
                    error: error.clone(),
                    retry_at: now.checked_add(wait).unwrap_or(now + MAX_WAIT),
                    count,
                });
                match obtained.fallback {
                    // A still-valid token from the store: served until it expires or a
                    // renewal succeeds (unless it was invalidated meanwhile).
                    Some(token) if !fetcher.is_invalidated(&token) => {
                        State::Done(Ok(self.install(&mut slow, token)))
                    }
                    _ => State::Done(Err(error)),
                }
            }
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        let slow = self.slow.get_mut().unwrap_or_else(|e| e.into_inner());
        if let Some(task) = slow.flight.take().and_then(|f| f.task) {
            task.abort();
        }
    }
}

impl fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenCache")
            .field("source", &self.inner.fetcher.source)
            .field("token", &self.inner.current_token())
            .finish_non_exhaustive()
    }
}
