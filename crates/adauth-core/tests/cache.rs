//! Behaviour of the token cache, on a manual wall clock and paused tokio time.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use adauth_core::secrecy::{ExposeSecret, SecretString};
use adauth_core::{
    Error, ErrorKind, FetchContext, ManualClock, RefreshPolicy, Result, Token, TokenCache,
    TokenGuard, TokenSource, async_trait,
};
use tokio::sync::{Notify, oneshot};

const LATENCY: Duration = Duration::from_millis(100);
const LIFETIME: Duration = Duration::from_secs(3600);

#[derive(Debug, Default)]
struct Fake {
    fetches: AtomicUsize,
    refreshes: AtomicUsize,
    fail: AtomicBool,
    fail_retry_after: Mutex<Option<Duration>>,
    reject_refresh: AtomicBool,
    /// Refresh answers `invalid_client`: the client itself is refused.
    reject_client: AtomicBool,
    hang: AtomicBool,
    issue_refresh_tokens: bool,
    refresh_tokens_used: Mutex<Vec<String>>,
    /// Notified after every attempt, successful or not.
    attempted: Notify,
    /// Dropped together with a hanging fetch.
    on_drop: Mutex<Option<oneshot::Sender<()>>>,
}

struct DropSignal(Option<oneshot::Sender<()>>);
impl Drop for DropSignal {
    fn drop(&mut self) {
        if let Some(tx) = self.0.take() {
            let _ = tx.send(());
        }
    }
}

impl Fake {
    fn attempts(&self) -> usize {
        self.fetches.load(Ordering::SeqCst) + self.refreshes.load(Ordering::SeqCst)
    }

    async fn issue(&self, cx: &FetchContext, name: String) -> Result<Token> {
        let issued_at = cx.now();
        let _signal = DropSignal(self.on_drop.lock().unwrap().take());
        if self.hang.load(Ordering::SeqCst) {
            std::future::pending::<()>().await;
        }
        tokio::time::sleep(LATENCY).await;
        self.attempted.notify_waiters();
        if self.fail.load(Ordering::SeqCst) {
            let mut err = Error::new("fake", ErrorKind::ProviderUnavailable).with_status(503);
            if let Some(after) = *self.fail_retry_after.lock().unwrap() {
                err = err.with_retry_after(after);
            }
            return Err(err);
        }
        let token = Token::new(
            SecretString::from(name.clone()),
            issued_at,
            issued_at + LIFETIME,
        );
        Ok(if self.issue_refresh_tokens {
            token.with_refresh_token(Some(SecretString::from(format!("refresh-{name}"))))
        } else {
            token
        })
    }
}

#[async_trait]
impl TokenSource for Fake {
    fn provider(&self) -> &str {
        "fake"
    }

    async fn fetch(&self, cx: &FetchContext) -> Result<Token> {
        let n = self.fetches.fetch_add(1, Ordering::SeqCst) + 1;
        self.issue(cx, format!("fetched-{n}")).await
    }

    async fn refresh(&self, cx: &FetchContext, refresh_token: &SecretString) -> Result<Token> {
        let n = self.refreshes.fetch_add(1, Ordering::SeqCst) + 1;
        self.refresh_tokens_used
            .lock()
            .unwrap()
            .push(refresh_token.expose_secret().to_owned());
        if self.reject_client.load(Ordering::SeqCst) {
            return Err(Error::new("fake", ErrorKind::CredentialsRejected)
                .with_status(401)
                .with_code("invalid_client"));
        }
        if self.reject_refresh.load(Ordering::SeqCst) {
            return Err(
                Error::new("fake", ErrorKind::CredentialsRejected).with_code("invalid_grant")
            );
        }
        let token = self.issue(cx, format!("refreshed-{n}")).await?;
        // Like providers without rotation: no new refresh token in the answer.
        Ok(token.with_refresh_token(None))
    }
}

fn t0() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_700_000_000)
}

struct Setup {
    fake: Arc<Fake>,
    clock: ManualClock,
    cache: TokenCache,
}

fn setup_with(fake: Fake, background: bool) -> Setup {
    let fake = Arc::new(fake);
    let clock = ManualClock::new(t0());
    let cache = TokenCache::builder(Arc::clone(&fake))
        .clock(Arc::new(clock.clone()))
        .refresh_policy(RefreshPolicy::default().jitter(0.0))
        .background_refresh(background)
        .build();
    Setup { fake, clock, cache }
}

fn setup(background: bool) -> Setup {
    setup_with(Fake::default(), background)
}

/// Moves the wall clock and tokio's (paused) monotonic clock together, as real time does.
async fn advance(s: &Setup, by: Duration) {
    s.clock.advance(by);
    tokio::time::advance(by).await;
}

fn secret(token: &Token) -> &str {
    token.access_token().expose_secret()
}

async fn many_callers(cache: &TokenCache, n: usize) -> Vec<Result<TokenGuard>> {
    let tasks: Vec<_> = (0..n)
        .map(|_| {
            let cache = cache.clone();
            tokio::spawn(async move { cache.token().await })
        })
        .collect();
    let mut out = Vec::with_capacity(n);
    for task in tasks {
        out.push(task.await.unwrap());
    }
    out
}

#[tokio::test(start_paused = true)]
async fn thousand_concurrent_callers_on_an_empty_cache_make_one_request() {
    for background in [true, false] {
        let s = setup(background);
        let results = many_callers(&s.cache, 1000).await;
        assert_eq!(s.fake.attempts(), 1, "background={background}");
        for r in results {
            assert_eq!(secret(&r.unwrap()), "fetched-1");
        }
        // And the next call is served from the cache.
        assert_eq!(secret(&s.cache.token().await.unwrap()), "fetched-1");
        assert_eq!(s.fake.attempts(), 1);
    }
}

#[tokio::test(start_paused = true)]
async fn dropping_the_caller_that_drives_a_fetch_lets_the_others_finish() {
    for background in [true, false] {
        let s = setup(background);
        // The first caller starts the fetch and gives up half way through it.
        let gave_up = tokio::time::timeout(LATENCY / 2, s.cache.token()).await;
        assert!(gave_up.is_err(), "the first caller should have timed out");
        assert_eq!(s.fake.attempts(), 1);
        // The others join the same fetch and get its token.
        let results = many_callers(&s.cache, 10).await;
        for r in results {
            assert_eq!(secret(&r.unwrap()), "fetched-1", "background={background}");
        }
        assert_eq!(s.fake.attempts(), 1);
    }
}

// A waiting caller drives its fetch itself (no task to wake); when it gives up, the fetch is
// handed to a task and finishes with nobody waiting.
#[tokio::test(start_paused = true)]
async fn a_fetch_whose_only_caller_gives_up_finishes_on_a_task() {
    let s = setup(true);
    let gave_up = tokio::time::timeout(LATENCY / 2, s.cache.token()).await;
    assert!(gave_up.is_err(), "the caller should have timed out");
    assert!(s.cache.cached().is_none());
    tokio::time::sleep(LATENCY).await;
    let token = s
        .cache
        .cached()
        .expect("the fetch finished without a caller");
    assert_eq!(secret(&token), "fetched-1");
    assert_eq!(s.fake.attempts(), 1);
}

#[tokio::test(start_paused = true)]
async fn every_waiter_giving_up_does_not_wedge_the_cache() {
    let s = setup(false);
    for _ in 0..3 {
        assert!(
            tokio::time::timeout(LATENCY / 4, s.cache.token())
                .await
                .is_err()
        );
    }
    // The abandoned fetch is resumed, not restarted.
    assert_eq!(secret(&s.cache.token().await.unwrap()), "fetched-1");
    assert_eq!(s.fake.attempts(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_failed_refresh_inside_the_window_keeps_serving_the_valid_token() {
    // Caller-driven: the caller that notices the window waits for the refresh.
    let s = setup(false);
    let first = s.cache.token().await.unwrap();
    // 1 h token, 6 min window (10%), no jitter: the window opens at 54 min.
    advance(&s, Duration::from_secs(54 * 60 + 1)).await;
    s.fake.fail.store(true, Ordering::SeqCst);
    let served = s.cache.token().await.unwrap();
    assert_eq!(secret(&served), "fetched-1");
    assert_eq!(s.fake.attempts(), 2, "one refresh was attempted");
    // Within the back-off interval nobody tries again, and the token is still served.
    let results = many_callers(&s.cache, 100).await;
    assert!(
        results
            .iter()
            .all(|r| secret(r.as_ref().unwrap()) == "fetched-1")
    );
    assert_eq!(s.fake.attempts(), 2);
    assert!(std::ptr::eq(&*first, &*s.cache.cached().unwrap()));

    // Once expired, callers wait for the fetch and share its error.
    advance(&s, Duration::from_secs(6 * 60)).await;
    let results = many_callers(&s.cache, 1000).await;
    assert_eq!(s.fake.attempts(), 3);
    for r in results {
        let err = r.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ProviderUnavailable);
        assert_eq!(err.provider(), "fake");
    }
    assert!(s.cache.cached().is_none());
}

#[tokio::test(start_paused = true)]
async fn background_refresh_inside_the_window_serves_the_old_token_meanwhile() {
    let s = setup(true);
    s.cache.token().await.unwrap();
    advance(&s, Duration::from_secs(55 * 60)).await;
    let attempted = s.fake.attempted.notified();
    // Callers are answered at once with the valid token while the refresh runs.
    for _ in 0..100 {
        assert_eq!(secret(&s.cache.token().await.unwrap()), "fetched-1");
    }
    attempted.await;
    // Let the driver store its result.
    tokio::task::yield_now().await;
    assert_eq!(secret(&s.cache.token().await.unwrap()), "fetched-2");
    assert_eq!(s.fake.attempts(), 2);

    // A failing background refresh keeps the valid token too.
    advance(&s, Duration::from_secs(55 * 60)).await;
    s.fake.fail.store(true, Ordering::SeqCst);
    let attempted = s.fake.attempted.notified();
    assert_eq!(secret(&s.cache.token().await.unwrap()), "fetched-2");
    attempted.await;
    tokio::task::yield_now().await;
    assert_eq!(secret(&s.cache.token().await.unwrap()), "fetched-2");
    assert_eq!(s.fake.attempts(), 3);
}

#[tokio::test(start_paused = true)]
async fn a_failing_source_gets_one_request_per_backoff_interval() {
    let s = setup(true);
    s.fake.fail.store(true, Ordering::SeqCst);
    let results = many_callers(&s.cache, 1000).await;
    assert_eq!(s.fake.attempts(), 1);
    assert!(
        results
            .iter()
            .all(|r| r.as_ref().unwrap_err().kind() == ErrorKind::ProviderUnavailable)
    );

    // Still inside the first interval (1 s): the shared error, no request.
    advance(&s, Duration::from_millis(900)).await;
    many_callers(&s.cache, 1000).await;
    assert_eq!(s.fake.attempts(), 1);

    // After it: one more attempt for 1000 callers.
    advance(&s, Duration::from_millis(200)).await;
    many_callers(&s.cache, 1000).await;
    assert_eq!(s.fake.attempts(), 2);

    // The interval doubles: 2 s now.
    advance(&s, Duration::from_millis(1500)).await;
    many_callers(&s.cache, 1000).await;
    assert_eq!(s.fake.attempts(), 2);
    advance(&s, Duration::from_millis(600)).await;
    many_callers(&s.cache, 1000).await;
    assert_eq!(s.fake.attempts(), 3);

    // Recovery resets the back-off.
    s.fake.fail.store(false, Ordering::SeqCst);
    advance(&s, Duration::from_secs(5)).await;
    let results = many_callers(&s.cache, 1000).await;
    assert_eq!(s.fake.attempts(), 4);
    assert!(results.iter().all(|r| r.is_ok()));
}

#[tokio::test(start_paused = true)]
async fn retry_after_longer_than_the_backoff_is_honoured() {
    let s = setup(true);
    s.fake.fail.store(true, Ordering::SeqCst);
    *s.fake.fail_retry_after.lock().unwrap() = Some(Duration::from_secs(30));
    assert!(s.cache.token().await.is_err());
    advance(&s, Duration::from_secs(29)).await;
    let err = s.cache.token().await.unwrap_err();
    assert_eq!(err.retry_after(), Some(Duration::from_secs(30)));
    assert_eq!(s.fake.attempts(), 1);
    advance(&s, Duration::from_secs(2)).await;
    assert!(s.cache.token().await.is_err());
    assert_eq!(s.fake.attempts(), 2);
}

#[tokio::test(start_paused = true)]
async fn invalidating_an_older_token_keeps_the_newer_one() {
    let s = setup(true);
    let old = s.cache.token().await.unwrap();
    assert!(s.cache.invalidate(&old));
    let new = s.cache.token().await.unwrap();
    assert_eq!(secret(&new), "fetched-2");
    // A late 401 for the old token must not throw the new one away.
    assert!(!s.cache.invalidate(&old));
    assert_eq!(secret(&s.cache.token().await.unwrap()), "fetched-2");
    assert_eq!(s.fake.attempts(), 2);
    // Invalidating the current one works, once.
    assert!(s.cache.invalidate(&new));
    assert!(!s.cache.invalidate(&new));
}

// Issue 11, item 11: a refresh refused with `invalid_client` is the client's credentials
// being wrong: that error, never a fetch (which would mint a token on every renewal).
#[tokio::test(start_paused = true)]
async fn a_refresh_refused_with_invalid_client_is_that_error_and_fetches_nothing() {
    let s = setup_with(
        Fake {
            issue_refresh_tokens: true,
            ..Fake::default()
        },
        true,
    );
    s.cache.token().await.unwrap();
    s.fake.reject_client.store(true, Ordering::SeqCst);
    advance(&s, LIFETIME).await;
    let err = s.cache.token().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::CredentialsRejected, "{err}");
    assert_eq!(err.code(), Some("invalid_client"), "{err}");
    assert!(err.is_client_rejected());
    assert_eq!(
        s.fake.fetches.load(Ordering::SeqCst),
        1,
        "no token was minted"
    );
    assert_eq!(s.fake.refreshes.load(Ordering::SeqCst), 1);
}

#[tokio::test(start_paused = true)]
async fn refresh_tokens_are_used_and_a_rejected_one_falls_back_to_a_fetch() {
    let s = setup_with(
        Fake {
            issue_refresh_tokens: true,
            ..Fake::default()
        },
        true,
    );
    let first = s.cache.token().await.unwrap();
    assert_eq!(secret(&first), "fetched-1");

    // Expired: renewed with the refresh token, not a new fetch.
    advance(&s, LIFETIME).await;
    let second = s.cache.token().await.unwrap();
    assert_eq!(secret(&second), "refreshed-1");
    assert_eq!(s.fake.fetches.load(Ordering::SeqCst), 1);
    // The answer carried no refresh token, so the previous one is kept.
    assert_eq!(
        second.refresh_token().map(|t| t.expose_secret().to_owned()),
        Some("refresh-fetched-1".to_owned())
    );

    // After a 401 the refresh token still serves.
    assert!(s.cache.invalidate(&second));
    assert_eq!(secret(&s.cache.token().await.unwrap()), "refreshed-2");

    // A rejected refresh token: one full fetch follows at once.
    s.fake.reject_refresh.store(true, Ordering::SeqCst);
    advance(&s, LIFETIME).await;
    let fourth = s.cache.token().await.unwrap();
    assert_eq!(secret(&fourth), "fetched-2");
    assert_eq!(s.fake.fetches.load(Ordering::SeqCst), 2);
    assert_eq!(
        *s.fake.refresh_tokens_used.lock().unwrap(),
        vec!["refresh-fetched-1"; 3]
    );
}

#[tokio::test(start_paused = true)]
async fn no_task_outlives_the_cache() {
    let s = setup_with(
        Fake {
            hang: AtomicBool::new(true),
            ..Fake::default()
        },
        true,
    );
    let (tx, rx) = oneshot::channel();
    *s.fake.on_drop.lock().unwrap() = Some(tx);
    assert!(
        tokio::time::timeout(LATENCY, s.cache.token())
            .await
            .is_err()
    );
    assert_eq!(s.fake.attempts(), 1);
    drop(s.cache);
    // The fetch's future is dropped with the cache's task: its signal arrives.
    rx.await.unwrap();
    assert_eq!(
        Arc::strong_count(&s.fake),
        1,
        "nothing holds the source any more"
    );
}

/// Issues tokens that expire at a fixed instant; counts its fetches.
#[derive(Debug)]
struct Absurd(SystemTime, AtomicUsize);

#[async_trait]
impl TokenSource for Absurd {
    fn provider(&self) -> &str {
        "absurd"
    }
    async fn fetch(&self, cx: &FetchContext) -> Result<Token> {
        self.1.fetch_add(1, Ordering::SeqCst);
        Ok(Token::new(SecretString::from("t"), cx.now(), self.0))
    }
}

#[tokio::test(start_paused = true)]
async fn absurd_expiries_are_cached_without_panicking() {
    let far = UNIX_EPOCH + Duration::from_secs(u64::MAX / 4);
    let cache = TokenCache::builder(Absurd(far, AtomicUsize::new(0)))
        .clock(Arc::new(ManualClock::new(t0())))
        .build();
    assert!(cache.token().await.is_ok());
}

// Issue 9, item 5.
#[tokio::test(start_paused = true)]
async fn a_token_that_arrives_already_expired_is_an_error_under_the_backoff() {
    for expires_at in [UNIX_EPOCH, t0() - Duration::from_secs(1), t0()] {
        let source = Arc::new(Absurd(expires_at, AtomicUsize::new(0)));
        let cache = TokenCache::builder(Arc::clone(&source))
            .clock(Arc::new(ManualClock::new(t0())))
            .build();
        let results = many_callers(&cache, 100).await;
        for r in results {
            let err = r.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::UnexpectedResponse, "{err}");
            assert_eq!(err.provider(), "absurd");
            assert!(err.to_string().contains("already expired"), "{err}");
        }
        assert!(cache.cached().is_none());
        // Within the back-off: the same error, no new request.
        assert!(cache.token().await.is_err());
        assert_eq!(source.1.load(Ordering::SeqCst), 1);
        tokio::time::advance(Duration::from_millis(1100)).await;
        assert!(cache.token().await.is_err());
        assert_eq!(source.1.load(Ordering::SeqCst), 2);
    }
}

/// Panics in its first `fetch` (after a delay, so that callers pile up), then issues tokens.
#[derive(Debug, Default)]
struct PanicsOnce {
    fetches: AtomicUsize,
}

#[async_trait]
impl TokenSource for PanicsOnce {
    fn provider(&self) -> &str {
        "panicky"
    }
    async fn fetch(&self, cx: &FetchContext) -> Result<Token> {
        let n = self.fetches.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(LATENCY).await;
        if n == 0 {
            panic!("a bug in the source");
        }
        let now = cx.now();
        Ok(Token::new(
            SecretString::from("after-the-panic"),
            now,
            now + LIFETIME,
        ))
    }
}

// Issue 9, item 1.
#[tokio::test(start_paused = true)]
async fn a_panicking_source_fails_its_waiters_and_the_next_call_after_the_backoff_fetches() {
    for background in [true, false] {
        let source = Arc::new(PanicsOnce::default());
        let cache = TokenCache::builder(Arc::clone(&source))
            .clock(Arc::new(ManualClock::new(t0())))
            .background_refresh(background)
            .build();
        let results = many_callers(&cache, 100).await;
        for r in results {
            let err = r.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Internal, "{err}");
            assert_eq!(err.provider(), "panicky");
            assert!(err.to_string().contains("panicked"), "{err}");
        }
        assert_eq!(source.fetches.load(Ordering::SeqCst), 1);
        // The failure is under the back-off like any other...
        assert_eq!(cache.token().await.unwrap_err().kind(), ErrorKind::Internal);
        assert_eq!(source.fetches.load(Ordering::SeqCst), 1);
        // ...and after it the cache fetches again.
        tokio::time::advance(Duration::from_millis(1100)).await;
        assert_eq!(secret(&cache.token().await.unwrap()), "after-the-panic");
        assert_eq!(source.fetches.load(Ordering::SeqCst), 2);
    }
}

// Issue 9, item 2.
#[tokio::test(start_paused = true)]
async fn a_fetch_that_never_returns_times_out_and_the_next_call_starts_anew() {
    for background in [true, false] {
        let fake = Arc::new(Fake {
            hang: AtomicBool::new(true),
            ..Fake::default()
        });
        let (tx, rx) = oneshot::channel();
        *fake.on_drop.lock().unwrap() = Some(tx);
        let cache = TokenCache::builder(Arc::clone(&fake))
            .clock(Arc::new(ManualClock::new(t0())))
            .background_refresh(background)
            .load_timeout(Duration::from_secs(10))
            .build();
        let started = tokio::time::Instant::now();
        let results = many_callers(&cache, 50).await;
        assert_eq!(started.elapsed(), Duration::from_secs(10));
        for r in results {
            let err = r.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
            assert!(err.to_string().contains("load timeout of 10 s"), "{err}");
        }
        // The stuck future was dropped.
        rx.await.unwrap();
        fake.hang.store(false, Ordering::SeqCst);
        tokio::time::advance(Duration::from_millis(1100)).await;
        assert_eq!(secret(&cache.token().await.unwrap()), "fetched-2");
        assert_eq!(fake.attempts(), 2, "background={background}");
    }
}

// Issue 9, item 3.
#[test]
fn a_cache_outlives_the_runtime_its_fetch_started_on() {
    let fake = Arc::new(Fake {
        hang: AtomicBool::new(true),
        ..Fake::default()
    });
    let cache = TokenCache::new(Arc::clone(&fake));
    let first = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    first.block_on(async {
        let cache = cache.clone();
        tokio::spawn(async move { cache.token().await });
        while fake.attempts() == 0 {
            tokio::task::yield_now().await;
        }
    });
    // The first runtime shuts down with the fetch in flight.
    drop(first);
    fake.hang.store(false, Ordering::SeqCst);
    let second = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    second.block_on(async {
        assert_eq!(secret(&cache.token().await.unwrap()), "fetched-2");
        assert_eq!(secret(&cache.token().await.unwrap()), "fetched-2");
    });
    assert_eq!(fake.attempts(), 2);
}

// The caller that drives a caller-driven renewal gives up half way: the next caller drives it
// on (it may hold a store lease), rather than leaving it paused for the whole window.
#[tokio::test(start_paused = true)]
async fn a_renewal_left_by_its_driver_is_driven_by_the_next_caller() {
    let s = setup(false);
    assert_eq!(secret(&s.cache.token().await.unwrap()), "fetched-1");
    advance(&s, Duration::from_secs(55 * 60)).await;
    assert!(
        tokio::time::timeout(LATENCY / 2, s.cache.token())
            .await
            .is_err()
    );
    assert_eq!(s.fake.attempts(), 2);
    assert_eq!(secret(&s.cache.token().await.unwrap()), "fetched-2");
    assert_eq!(s.fake.attempts(), 2, "the same renewal, resumed");
}

// A `Retry-After` of centuries is believed for an hour at most, and costs no panic.
#[tokio::test(start_paused = true)]
async fn an_absurd_retry_after_is_capped() {
    let s = setup(true);
    s.fake.fail.store(true, Ordering::SeqCst);
    *s.fake.fail_retry_after.lock().unwrap() = Some(Duration::from_secs(u64::MAX));
    assert!(s.cache.token().await.is_err());
    advance(&s, Duration::from_secs(3500)).await;
    assert!(s.cache.token().await.is_err());
    assert_eq!(s.fake.attempts(), 1);
    s.fake.fail.store(false, Ordering::SeqCst);
    advance(&s, Duration::from_secs(200)).await;
    assert_eq!(secret(&s.cache.token().await.unwrap()), "fetched-2");
}

// Issue 9, item 4.
#[tokio::test(start_paused = true)]
async fn the_backoff_runs_on_the_monotonic_clock() {
    let s = setup(true);
    s.fake.fail.store(true, Ordering::SeqCst);
    assert!(s.cache.token().await.is_err());
    assert_eq!(s.fake.attempts(), 1);
    // The wall clock is stepped back an hour; real time goes on past the back-off.
    s.clock.set(t0() - Duration::from_secs(3600));
    s.fake.fail.store(false, Ordering::SeqCst);
    tokio::time::advance(Duration::from_millis(1100)).await;
    assert_eq!(secret(&s.cache.token().await.unwrap()), "fetched-2");
    assert_eq!(s.fake.attempts(), 2);

    // And a wall clock stepped forward does not cut a back-off short.
    let s = setup(true);
    s.fake.fail.store(true, Ordering::SeqCst);
    assert!(s.cache.token().await.is_err());
    s.clock.advance(Duration::from_secs(3600));
    assert!(s.cache.token().await.is_err());
    assert_eq!(s.fake.attempts(), 1);
}

#[test]
fn the_cache_is_send_sync_and_debug_hides_the_token() {
    fn assert_send_sync<T: Send + Sync + 'static>() {}
    assert_send_sync::<TokenCache>();
    let s = setup(false);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap();
    rt.block_on(async {
        s.cache.token().await.unwrap();
    });
    let shown = format!("{:?}", s.cache);
    assert!(shown.contains("[redacted]"), "{shown}");
    assert!(!shown.contains("fetched-1"), "{shown}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn single_flight_holds_across_worker_threads() {
    for background in [true, false] {
        let s = setup(background);
        let results = many_callers(&s.cache, 500).await;
        assert!(
            results
                .iter()
                .all(|r| secret(r.as_ref().unwrap()) == "fetched-1")
        );
        assert_eq!(s.fake.attempts(), 1, "background={background}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_token_guard_keeps_its_token_after_the_cache_replaces_it_and_many_can_be_held() {
    let s = setup(false);
    let first = s.cache.token().await.unwrap();
    assert_eq!(secret(&first), "fetched-1");

    // More guards on one thread than it has guard slots: each still reads its token.
    let held: Vec<TokenGuard> = (0..100)
        .map(|_| futures_util::FutureExt::now_or_never(s.cache.token()))
        .map(|r| r.expect("cached path is ready at once").unwrap())
        .collect();
    assert!(held.iter().all(|t| secret(t) == "fetched-1"));

    // The cache drops and replaces the token; the guards keep the one they were given.
    assert!(s.cache.invalidate(&first));
    let second = s.cache.token().await.unwrap();
    assert_eq!(secret(&second), "fetched-2");
    assert_eq!(secret(&first), "fetched-1");
    assert!(held.iter().all(|t| secret(t) == "fetched-1"));

    // A guard sent to another task and turned into an `Arc` is the same token.
    let kept = tokio::spawn(async move { first.into_arc() }).await.unwrap();
    assert_eq!(secret(&kept), "fetched-1");
    let cloned = second.clone();
    assert!(std::ptr::eq(&*cloned, &*second));
    assert!(!format!("{second:?}").contains("fetched-2"));
    drop(held);
    assert_eq!(secret(&s.cache.token().await.unwrap()), "fetched-2");
}

/// Issues tokens already `age` old that expire `left` from now; counts its fetches.
#[derive(Debug)]
struct Aged {
    age: Duration,
    left: Duration,
    fetches: AtomicUsize,
}

#[async_trait]
impl TokenSource for Aged {
    fn provider(&self) -> &str {
        "aged"
    }
    async fn fetch(&self, cx: &FetchContext) -> Result<Token> {
        self.fetches.fetch_add(1, Ordering::SeqCst);
        let now = cx.now();
        Ok(Token::new(
            SecretString::from("t"),
            now - self.age,
            now + self.left,
        ))
    }
}

/// The cached path reads the system clock in its raw form: a token before its refresh
/// window is served from memory, one inside it is renewed, on the real clock.
#[tokio::test]
async fn on_the_system_clock_only_a_token_before_its_refresh_window_is_served_from_memory() {
    for (age, left, fetches) in [
        (Duration::ZERO, LIFETIME, 1),
        // 50 minutes old with 10 left: inside a 20-minute window, renewed by each of the
        // six calls.
        (
            Duration::from_secs(50 * 60),
            Duration::from_secs(10 * 60),
            6,
        ),
    ] {
        let source = Arc::new(Aged {
            age,
            left,
            fetches: AtomicUsize::new(0),
        });
        let cache = TokenCache::builder_arc(Arc::clone(&source) as Arc<dyn TokenSource>)
            .refresh_policy(RefreshPolicy::default().min_window(Duration::from_secs(20 * 60)))
            .background_refresh(false)
            .build();
        for _ in 0..3 {
            cache.token().await.expect("token");
            cache.with_token(|t| t.expires_at()).await.expect("token");
        }
        assert_eq!(
            source.fetches.load(Ordering::SeqCst),
            fetches,
            "age {age:?}, left {left:?}"
        );
    }
}

/// A cache with no token holds a shared stand-in: never handed out, on any clock.
#[tokio::test]
async fn an_empty_cache_hands_out_nothing_it_does_not_have() {
    let empty = Token::new(SecretString::default(), UNIX_EPOCH, UNIX_EPOCH);
    // The system clock, and a clock set before the Unix epoch.
    for clock in [None, Some(ManualClock::new(UNIX_EPOCH - LIFETIME))] {
        let source = Arc::new(Aged {
            age: Duration::ZERO,
            left: LIFETIME,
            fetches: AtomicUsize::new(0),
        });
        let mut builder = TokenCache::builder_arc(Arc::clone(&source) as Arc<dyn TokenSource>);
        if let Some(clock) = &clock {
            builder = builder.clock(Arc::new(clock.clone()));
        }
        let cache = builder.build();
        assert!(cache.cached().is_none());
        assert!(!cache.invalidate(&empty));
        assert!(format!("{cache:?}").contains("token: None"), "{cache:?}");

        let token = cache.token().await.expect("token");
        assert_eq!(secret(&token), "t");
        assert!(cache.cached().is_some());
        assert!(cache.invalidate(&token));
        assert!(cache.cached().is_none());
        assert!(!cache.invalidate(&token), "already gone");
        assert_eq!(secret(&cache.token().await.expect("token")), "t");
        assert_eq!(source.fetches.load(Ordering::SeqCst), 2, "{clock:?}");
    }
}

/// Hands out `t-1`, `t-2`, ... at once, for an hour each.
#[derive(Debug, Default)]
struct Numbered(AtomicUsize);

#[async_trait]
impl TokenSource for Numbered {
    fn provider(&self) -> &str {
        "numbered"
    }
    async fn fetch(&self, cx: &FetchContext) -> Result<Token> {
        let n = self.0.fetch_add(1, Ordering::SeqCst) + 1;
        let now = cx.now();
        Ok(Token::new(
            SecretString::from(format!("t-{n}")),
            now,
            now + LIFETIME,
        ))
    }
}

/// The cached path reads the refresh time and the token as two words: readers on other
/// threads racing invalidations and renewals never get the empty stand-in, and after an
/// invalidation has returned the invalidated token is never served again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readers_racing_invalidations_get_a_real_token_and_never_an_invalidated_one() {
    let cache = TokenCache::new(Numbered::default());
    let stop = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let (cache, stop) = (cache.clone(), Arc::clone(&stop));
            tokio::spawn(async move {
                let mut reads = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let token = cache.token().await.expect("token");
                    assert!(secret(&token).starts_with("t-"), "stand-in handed out");
                    reads += 1;
                    if reads.is_multiple_of(64) {
                        tokio::task::yield_now().await;
                    }
                }
                reads
            })
        })
        .collect();
    for _ in 0..2_000 {
        let token = cache.token().await.expect("token").into_arc();
        assert!(cache.invalidate(&token), "only this loop invalidates");
        let next = cache.token().await.expect("token");
        assert_ne!(secret(&next), secret(&token), "an invalidated token served");
    }
    stop.store(true, Ordering::Relaxed);
    for reader in readers {
        assert!(reader.await.expect("reader") > 0);
    }
}
