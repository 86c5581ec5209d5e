//! One fetch of a [`TokenCache`](crate::TokenCache): from the source directly, or through a
//! token store under a refresh lease. Everything here is bounded: the whole fetch by the
//! load timeout, every store call by the store timeout.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::FutureExt as _;
use tracing::Instrument as _;
use tracing::field::Empty;

use crate::events::{CacheEvent, Hook};
use crate::record::{Record, SharedFailure};
use crate::store::{Lease, StoredValue, TokenStore};
use crate::{Error, ErrorKind, FetchContext, RefreshPolicy, Result, Token, TokenSource};

/// The back-off after failed fetches: `initial`, doubling per consecutive failure up to
/// `max`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Backoff {
    pub(crate) initial: Duration,
    pub(crate) max: Duration,
}

impl Backoff {
    pub(crate) fn interval(&self, failures: u32) -> Duration {
        let factor = 2u32.saturating_pow(failures.saturating_sub(1).min(31));
        self.initial
            .checked_mul(factor)
            .unwrap_or(self.max)
            .min(self.max)
    }

    /// How long to wait after `failures` failures in a row, the last being `error`: the
    /// interval, or the provider's `Retry-After` if longer (believed up to
    /// [`MAX_RETRY_AFTER`]).
    pub(crate) fn wait(&self, failures: u32, error: &Error) -> Duration {
        self.interval(failures).max(retry_after(error))
    }

    /// The longest wait this back-off can set after `error`.
    fn longest(&self, error: &Error) -> Duration {
        self.max.max(retry_after(error))
    }
}

/// The longest `Retry-After` honoured: a provider (or a broken proxy) asking for more does
/// not stop a cache from trying for longer than this.
pub(crate) const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

fn retry_after(error: &Error) -> Duration {
    error.retry_after().unwrap_or_default().min(MAX_RETRY_AFTER)
}

impl Backoff {}

/// A token store and how a cache uses it.
pub(crate) struct StoreUse {
    pub(crate) store: Arc<dyn TokenStore>,
    /// The key, or why there is none (a source without an identity).
    pub(crate) key: Result<String>,
    pub(crate) lease_ttl: Duration,
    /// The longest any one store call may take.
    pub(crate) timeout: Duration,
    /// Whether the store failed last time: the warning is given once per outage.
    pub(crate) degraded: AtomicBool,
}

/// What a fetch came back with.
pub(crate) struct Obtained {
    pub(crate) result: Result<Token>,
    /// For a failure: how long until the next attempt and how many failures in a row, when
    /// the store decided it (shared with other processes); otherwise the cache decides.
    pub(crate) retry: Option<(Duration, u32)>,
    /// For a failure: a token that is still valid and may be served meanwhile.
    pub(crate) fallback: Option<Token>,
}

impl Obtained {
    fn token(token: Token) -> Self {
        Self {
            result: Ok(token),
            retry: None,
            fallback: None,
        }
    }

    pub(crate) fn failed(error: Error) -> Self {
        Self {
            result: Err(error),
            retry: None,
            fallback: None,
        }
    }
}

impl From<Result<Token>> for Obtained {
    fn from(result: Result<Token>) -> Self {
        Self {
            result,
            retry: None,
            fallback: None,
        }
    }
}

/// Everything a fetch needs, shared by the cache and its running fetch.
pub(crate) struct Fetcher {
    pub(crate) source: Arc<dyn TokenSource>,
    pub(crate) cx: FetchContext,
    pub(crate) refresh: RefreshPolicy,
    pub(crate) backoff: Backoff,
    pub(crate) load_timeout: Duration,
    pub(crate) store: Option<StoreUse>,
    /// The token last invalidated, read live by running fetches.
    pub(crate) invalidated: Mutex<Option<Arc<Token>>>,
    /// Counts invalidations, so that a fetch can tell whether one happened while it ran.
    pub(crate) invalidations: AtomicU64,
    /// The next fetch treats the stored token as invalidated ([`TokenCache::renew_now`]).
    ///
    /// [`TokenCache::renew_now`]: crate::TokenCache::renew_now
    pub(crate) force: AtomicBool,
    /// The source's identity, for spans: computed the first time a span is recorded.
    pub(crate) identity: std::sync::OnceLock<Option<String>>,
    /// The user's event hook.
    pub(crate) hook: Option<Hook>,
    /// How the running fetch got its token: [`GRANT_STORE`] until it asks the source.
    /// One fetch runs at a time, so one value serves.
    pub(crate) grant: AtomicU8,
}

/// [`Fetcher::grant`]: the token came from the store (or nothing was asked yet).
pub(crate) const GRANT_STORE: u8 = 0;
/// [`Fetcher::grant`]: the source's `fetch`.
const GRANT_FETCH: u8 = 1;
/// [`Fetcher::grant`]: the source's `refresh`.
const GRANT_REFRESH: u8 = 2;

impl Fetcher {
    fn provider(&self) -> &str {
        self.source.provider()
    }

    pub(crate) fn is_invalidated(&self, token: &Token) -> bool {
        self.invalidated
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .is_some_and(|bad| bad.same_access_token(token))
    }

    pub(crate) fn invalidate(&self, token: Arc<Token>) {
        *self.invalidated.lock().unwrap_or_else(|e| e.into_inner()) = Some(token);
        self.invalidations.fetch_add(1, Ordering::SeqCst);
    }

    /// One whole fetch (the `attempt`-th in a row), in an `adauth.fetch` span, reported to
    /// the event hook.
    pub(crate) async fn run(&self, previous: Option<&Token>, attempt: u32) -> Obtained {
        let provider = self.provider();
        let span = tracing::debug_span!(
            "adauth.fetch",
            provider,
            identity = Empty,
            attempt,
            grant = Empty,
            outcome = Empty,
            error_kind = Empty,
            duration_ms = Empty,
        );
        if !span.is_disabled()
            && let Some(identity) = self.identity.get_or_init(|| self.source.identity())
        {
            span.record("identity", identity.as_str());
        }
        self.grant.store(GRANT_STORE, Ordering::Relaxed);
        let started = std::time::Instant::now();
        let obtained = self.bounded(previous).instrument(span.clone()).await;
        let took = started.elapsed();
        let grant = self.grant.load(Ordering::Relaxed);
        span.record(
            "grant",
            match grant {
                GRANT_FETCH => "fetch",
                GRANT_REFRESH => "refresh_token",
                _ => "store",
            },
        );
        span.record("duration_ms", took.as_millis() as u64);
        let event = match &obtained.result {
            Ok(_) => match grant {
                GRANT_FETCH => CacheEvent::Fetched {
                    provider,
                    attempt,
                    took,
                },
                GRANT_REFRESH => CacheEvent::Refreshed {
                    provider,
                    attempt,
                    took,
                },
                _ => CacheEvent::FromStore { provider, took },
            },
            Err(error) => {
                span.record("error_kind", tracing::field::debug(error.kind()));
                CacheEvent::Failed {
                    provider,
                    kind: error.kind(),
                    attempt,
                    took,
                }
            }
        };
        span.record(
            "outcome",
            match event {
                CacheEvent::Fetched { .. } => "fetched",
                CacheEvent::Refreshed { .. } => "refreshed",
                CacheEvent::FromStore { .. } => "from_store",
                _ => "failed",
            },
        );
        Hook::emit(self.hook.as_ref(), event);
        obtained
    }

    /// One whole fetch, within the load timeout. A source that panics, or a fetch that
    /// does not finish in time, is an error like any other failure.
    async fn bounded(&self, previous: Option<&Token>) -> Obtained {
        let provider = self.provider().to_owned();
        let load_timeout = self.load_timeout;
        let work = async {
            match &self.store {
                // Boxed: the store's lease and wait logic makes a future of kilobytes,
                // which a cache without a store should neither allocate nor copy.
                Some(store) => Box::pin(self.obtain_shared(store, previous)).await,
                None => self.obtain(previous).await.into(),
            }
        };
        // The timer needs a tokio runtime; outside one the fetch runs without a deadline.
        let bounded = async {
            if tokio::runtime::Handle::try_current().is_err() {
                return work.await;
            }
            match tokio::time::timeout(load_timeout, work).await {
                Ok(obtained) => obtained,
                Err(_) => Obtained::failed(
                    Error::new(provider.clone(), ErrorKind::Timeout).with_message(format!(
                        "no token within the load timeout of {} s",
                        load_timeout.as_secs_f64()
                    )),
                ),
            }
        };
        match AssertUnwindSafe(bounded).catch_unwind().await {
            Ok(obtained) => obtained,
            Err(_) => {
                tracing::error!(provider, "the token source panicked");
                Obtained::failed(Error::new(provider, ErrorKind::Internal).with_message(
                    "the token source panicked during a fetch (its message went to the panic hook)",
                ))
            }
        }
    }

    /// Renews with the refresh token when there is one, falling back to a full fetch if the
    /// provider rejects it. A token that has already expired when it arrives is an error.
    pub(crate) async fn obtain(&self, previous: Option<&Token>) -> Result<Token> {
        let token = self.obtain_any(previous).await?;
        // Sources that build their tokens by hand are held to the same rule as
        // `FetchContext::token`: such a token would be printed split, or break every request.
        if !token.has_valid_access_token() {
            return Err(Error::unexpected(
                self.provider().to_owned(),
                crate::source::INVALID_TOKEN_CHARACTERS,
            ));
        }
        let now = self.cx.now();
        if token.expires_at() <= now {
            return Err(Error::unexpected(
                self.provider().to_owned(),
                "the token had already expired when it arrived (is the system clock right?)",
            ));
        }
        Ok(token)
    }

    async fn obtain_any(&self, previous: Option<&Token>) -> Result<Token> {
        let source = &*self.source;
        if let Some(previous) = previous
            && let Some(refresh_token) = previous.refresh_token()
        {
            self.grant.store(GRANT_REFRESH, Ordering::Relaxed);
            let span = tracing::debug_span!(
                "adauth.refresh",
                provider = source.provider(),
                outcome = Empty
            );
            let refreshed = source
                .refresh(&self.cx, refresh_token)
                .instrument(span.clone())
                .await;
            span.record(
                "outcome",
                match &refreshed {
                    Ok(_) => "refreshed",
                    Err(e) if e.is_credentials_rejected() => "refused",
                    Err(_) => "failed",
                },
            );
            match refreshed {
                Ok(mut token) => {
                    token.inherit_refresh_token(previous);
                    return Ok(token);
                }
                // The refresh token was refused: fetch anew. A refused client is not
                // helped by a fetch (and, for a provider that caps tokens, a fetch on
                // every renewal would mint one each time): that is the error.
                Err(e) if e.is_credentials_rejected() && !e.is_client_rejected() => {
                    tracing::info!(
                        provider = source.provider(),
                        error = %e,
                        "refresh token rejected; fetching a new token"
                    );
                }
                Err(e) => return Err(e),
            }
        }
        self.grant.store(GRANT_FETCH, Ordering::Relaxed);
        source.fetch(&self.cx).await
    }

    /// Obtains a token through the store: the stored token if it is fresh, otherwise one
    /// process (the lease holder) fetches and writes it while the others wait for the write.
    /// Any store failure or time-out falls back to a fetch of this process's own.
    async fn obtain_shared(&self, su: &StoreUse, previous: Option<&Token>) -> Obtained {
        let key = match &su.key {
            Ok(key) => key.as_str(),
            Err(e) => return Obtained::failed(e.clone()),
        };
        if tokio::runtime::Handle::try_current().is_err() {
            return Obtained::failed(Error::configuration(
                self.provider().to_owned(),
                "a token store needs a tokio runtime (its calls have deadlines)",
            ));
        }
        let store = &*su.store;
        // A token fetched while our lease was taken over: written only under a lease.
        let mut own: Option<Token> = None;
        loop {
            let Some(stored) = self.call(su, "read", su.timeout, store.load(key)).await else {
                return self.alone(own, previous).await;
            };
            let (revision, record) = self.decode(stored);
            let revision = self.mark_invalidated(su, key, revision, &record).await;
            if let Some(token) = self.fresh(&record) {
                return Obtained::token(token.clone());
            }
            if let Some(own) = own.take_if(|_| self.failure_in_effect(&record).is_some()) {
                return Obtained::token(own);
            }
            if let Some(obtained) = self.shared_failure(&record) {
                return obtained;
            }
            let base = record.token.as_ref().or(previous);
            let lease = self
                .call(su, "lease", su.timeout, store.try_lease(key, su.lease_ttl))
                .await;
            let lease = match lease {
                None => return self.alone(own, base).await,
                Some(Some(lease)) => lease,
                Some(None) => {
                    // Another process holds a live lease: wait for its write, its release,
                    // or (stores that can tell) the lease lapsing; at most one lease time,
                    // after which the lease is tried again.
                    let slice = su.lease_ttl;
                    let wait = store.wait_for_change(key, revision.as_deref(), slice);
                    if self
                        .call(su, "wait", slice + su.timeout, wait)
                        .await
                        .is_none()
                    {
                        return self.alone(own, base).await;
                    }
                    continue;
                }
            };
            // The lease is ours. Read once more: the last holder may have written just before.
            let (revision, record) = match self.call(su, "read", su.timeout, store.load(key)).await
            {
                Some(stored) => self.decode(stored),
                None => (revision, record),
            };
            if let Some(token) = self.fresh(&record).cloned() {
                self.release(su, key, lease).await;
                return Obtained::token(token);
            }
            // The last holder may also have failed just before: its back-off holds.
            if own.is_none()
                && let Some(obtained) = self.shared_failure(&record)
            {
                self.release(su, key, lease).await;
                return obtained;
            }
            // The newest refresh token is the stored one: another process may have rotated it.
            let base = record.token.as_ref().or(previous);
            let (result, lost) = match own.take() {
                Some(token) => (Ok(token), false),
                None => self.fetch_holding(su, key, &lease, base).await,
            };
            let lost = lost
                || self
                    .call(
                        su,
                        "renew its lease",
                        su.timeout,
                        store.renew(key, &lease, su.lease_ttl),
                    )
                    .await
                    == Some(false);
            if lost {
                tracing::warn!(
                    provider = self.provider(),
                    "another process took the refresh lease during this fetch; not writing"
                );
                match result {
                    Ok(token) => {
                        own = Some(token);
                        continue;
                    }
                    Err(e) => return Obtained::failed(e),
                }
            }
            let obtained = match result {
                Ok(token) => self.write_token(su, key, revision, token).await,
                Err(error) => self.write_failure(su, key, revision, record, error).await,
            };
            self.release(su, key, lease).await;
            return obtained;
        }
    }

    /// Without the store: our own token, or a fetch of our own.
    async fn alone(&self, own: Option<Token>, base: Option<&Token>) -> Obtained {
        match own {
            Some(token) => Obtained::token(token),
            None => self.obtain(base).await.into(),
        }
    }

    /// Runs the fetch while keeping the lease alive; says whether a renewal found the lease
    /// taken by another holder.
    async fn fetch_holding(
        &self,
        su: &StoreUse,
        key: &str,
        lease: &Lease,
        base: Option<&Token>,
    ) -> (Result<Token>, bool) {
        let mut fetch = std::pin::pin!(self.obtain(base));
        let period = (su.lease_ttl / 3).max(Duration::from_millis(10));
        let mut lost = false;
        loop {
            match tokio::time::timeout(period, &mut fetch).await {
                Ok(result) => return (result, lost),
                Err(_) if !lost => {
                    let renewed = su.store.renew(key, lease, su.lease_ttl);
                    if self.call(su, "renew its lease", su.timeout, renewed).await == Some(false) {
                        lost = true;
                    }
                }
                Err(_) => {}
            }
        }
    }

    /// Writes our token; if another writer came first with a fresh token, that one is
    /// adopted and ours dropped, so that every process ends on one token.
    async fn write_token(
        &self,
        su: &StoreUse,
        key: &str,
        mut expected: Option<String>,
        token: Token,
    ) -> Obtained {
        let provider = self.provider();
        let value = Record {
            token: Some(token.clone()),
            revoked: false,
            failure: None,
        }
        .write(provider);
        for _ in 0..3 {
            let written = su.store.compare_and_set(key, expected.as_deref(), &value);
            match self.call(su, "write", su.timeout, written).await {
                Some(Some(_)) | None => break,
                Some(None) => {
                    // Someone wrote meanwhile: an invalidation mark, a process whose lease
                    // had lapsed, or a store that lost its data.
                    let Some(stored) = self.call(su, "read", su.timeout, su.store.load(key)).await
                    else {
                        break;
                    };
                    let (revision, record) = self.decode(stored);
                    if let Some(theirs) = self.fresh(&record)
                        && !theirs.same_access_token(&token)
                    {
                        tracing::debug!(provider, "another process wrote a token first; using it");
                        return Obtained::token(theirs.clone());
                    }
                    expected = revision;
                }
            }
        }
        Obtained::token(token)
    }

    /// Records a failed fetch with its retry time, so that no process tries again before it.
    async fn write_failure(
        &self,
        su: &StoreUse,
        key: &str,
        expected: Option<String>,
        record: Record,
        error: Error,
    ) -> Obtained {
        let failures = record
            .failure
            .as_ref()
            .map_or(0, |f| f.failures)
            .saturating_add(1);
        let wait = self.backoff.wait(failures, &error);
        let fallback = self.valid(&record).cloned();
        if error.kind() != ErrorKind::Configuration {
            let now = self.cx.now();
            let value = Record {
                failure: Some(SharedFailure {
                    error: error.clone(),
                    retry_at: now.checked_add(wait).unwrap_or(now),
                    failures,
                }),
                ..record
            }
            .write(self.provider());
            let written = su.store.compare_and_set(key, expected.as_deref(), &value);
            let _ = self.call(su, "write", su.timeout, written).await;
        }
        Obtained {
            result: Err(error),
            retry: Some((wait, failures)),
            fallback,
        }
    }

    /// Marks the stored token as invalidated if it is the one this cache invalidated, so
    /// that no process adopts it again. Returns the revision now stored.
    async fn mark_invalidated(
        &self,
        su: &StoreUse,
        key: &str,
        revision: Option<String>,
        record: &Record,
    ) -> Option<String> {
        let Some(token) = &record.token else {
            return revision;
        };
        if self.force.swap(false, Ordering::SeqCst) && !self.is_invalidated(token) {
            self.invalidate(Arc::new(token.clone()));
        }
        if record.revoked || !self.is_invalidated(token) {
            return revision;
        }
        let value = Record {
            token: Some(token.clone()),
            revoked: true,
            failure: record.failure.clone(),
        }
        .write(self.provider());
        let written = su.store.compare_and_set(key, revision.as_deref(), &value);
        match self.call(su, "write", su.timeout, written).await {
            Some(Some(new)) => Some(new),
            _ => revision,
        }
    }

    async fn release(&self, su: &StoreUse, key: &str, lease: Lease) {
        let _ = self
            .call(
                su,
                "release its lease",
                su.timeout,
                su.store.release(key, lease),
            )
            .await;
    }

    /// One store call within `limit`; `None` (after one warning per outage) if it failed
    /// or did not answer in time.
    async fn call<T>(
        &self,
        su: &StoreUse,
        what: &str,
        limit: Duration,
        call: impl Future<Output = Result<T>>,
    ) -> Option<T> {
        let span = tracing::debug_span!(
            "adauth.store",
            provider = self.provider(),
            operation = what,
            outcome = Empty,
            duration_ms = Empty,
        );
        let started = std::time::Instant::now();
        let answer = tokio::time::timeout(limit, call)
            .instrument(span.clone())
            .await;
        span.record("duration_ms", started.elapsed().as_millis() as u64);
        let why = match answer {
            Ok(Ok(value)) => {
                span.record("outcome", "ok");
                if su.degraded.swap(false, Ordering::Relaxed) {
                    tracing::info!(provider = self.provider(), "the token store answers again");
                }
                return Some(value);
            }
            Ok(Err(e)) => {
                span.record("outcome", "failed");
                e.to_string()
            }
            Err(_) => {
                span.record("outcome", "timeout");
                format!("no answer within {} ms", limit.as_millis())
            }
        };
        Hook::emit(
            self.hook.as_ref(),
            CacheEvent::StoreFallback {
                provider: self.provider(),
                operation: what,
            },
        );
        if su.degraded.swap(true, Ordering::Relaxed) {
            tracing::debug!(provider = self.provider(), error = %why, "token store failed to {what}");
        } else {
            tracing::warn!(
                provider = self.provider(),
                error = %why,
                "token store failed to {what}; using this process's own token"
            );
        }
        None
    }

    fn decode(&self, stored: Option<StoredValue>) -> (Option<String>, Record) {
        let Some(StoredValue { revision, value }) = stored else {
            return (None, Record::default());
        };
        match Record::read(self.provider(), &value) {
            Some(record) => (Some(revision), record),
            None => {
                tracing::warn!(
                    provider = self.provider(),
                    "ignoring an unreadable value in the token store; it will be replaced"
                );
                (Some(revision), Record::default())
            }
        }
    }

    fn adoptable<'a>(&self, record: &'a Record) -> Option<&'a Token> {
        record
            .token
            .as_ref()
            .filter(|t| !record.revoked && !self.is_invalidated(t))
    }

    /// The stored token if it can be adopted and is not due for renewal.
    fn fresh<'a>(&self, record: &'a Record) -> Option<&'a Token> {
        self.adoptable(record).filter(|t| {
            let schedule = self
                .refresh
                .schedule(t.issued_at(), t.expires_at(), fastrand::f64());
            self.cx.now() < schedule.refresh_at
        })
    }

    /// The stored token if it can be adopted and may still be served.
    fn valid<'a>(&self, record: &'a Record) -> Option<&'a Token> {
        self.adoptable(record).filter(|t| {
            let schedule = self.refresh.schedule(t.issued_at(), t.expires_at(), 0.0);
            self.cx.now() < schedule.usable_until
        })
    }

    /// The recorded failure and the time left until its retry, if no process may fetch yet.
    /// A retry time further away than the back-off could have set (a writer with a clock
    /// far ahead) is not believed.
    fn failure_in_effect<'a>(&self, record: &'a Record) -> Option<(&'a SharedFailure, Duration)> {
        let failure = record.failure.as_ref()?;
        let left = failure.retry_at.duration_since(self.cx.now()).ok()?;
        let cap = self.backoff.longest(&failure.error);
        (!left.is_zero() && left <= cap).then_some((failure, left))
    }

    fn shared_failure(&self, record: &Record) -> Option<Obtained> {
        let (failure, left) = self.failure_in_effect(record)?;
        Some(Obtained {
            result: Err(failure.error.clone()),
            retry: Some((left, failure.failures)),
            fallback: self.valid(record).cloned(),
        })
    }
}
