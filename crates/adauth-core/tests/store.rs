//! A `TokenCache` over a shared store: caches in one process standing in for processes.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use adauth_core::secrecy::{ExposeSecret, SecretString};
use adauth_core::{
    Error, ErrorKind, FetchContext, FileStore, Lease, ManualClock, RefreshPolicy, Result,
    StoredValue, Token, TokenCache, TokenSource, TokenStore, async_trait,
};
use tokio::sync::Notify;

/// Issues `t1`, `t2`, ... with refresh tokens `r1`, `r2`, ...; records refresh tokens used.
#[derive(Debug, Default)]
struct Issuer {
    fetches: AtomicUsize,
    refreshes: std::sync::Mutex<Vec<String>>,
    /// How long each token request takes (real time).
    delay: std::sync::Mutex<Duration>,
    /// Every request answers 429 with this `Retry-After`.
    rate_limited: std::sync::Mutex<Option<Duration>>,
}

impl Issuer {
    async fn request(&self) -> Result<()> {
        let delay = *self.delay.lock().unwrap();
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        match *self.rate_limited.lock().unwrap() {
            Some(after) => Err(Error::new("issuer", ErrorKind::RateLimited)
                .with_status(429)
                .with_retry_after(after)),
            None => Ok(()),
        }
    }
}

#[async_trait]
impl TokenSource for Issuer {
    fn provider(&self) -> &str {
        "issuer"
    }
    fn identity(&self) -> Option<String> {
        Some("issuer-key".to_owned())
    }
    async fn fetch(&self, cx: &FetchContext) -> Result<Token> {
        let n = self.fetches.fetch_add(1, Ordering::SeqCst) + 1;
        let now = cx.now();
        self.request().await?;
        Ok(Token::new(
            SecretString::from(format!("t{n}")),
            now,
            now + Duration::from_secs(3600),
        )
        .with_refresh_token(Some(SecretString::from(format!("r{n}")))))
    }
    async fn refresh(&self, cx: &FetchContext, refresh_token: &SecretString) -> Result<Token> {
        self.refreshes
            .lock()
            .unwrap()
            .push(refresh_token.expose_secret().to_owned());
        let n = self.fetches.fetch_add(1, Ordering::SeqCst) + 1;
        let now = cx.now();
        self.request().await?;
        Ok(Token::new(
            SecretString::from(format!("t{n}")),
            now,
            now + Duration::from_secs(3600),
        )
        .with_refresh_token(Some(SecretString::from(format!("r{n}")))))
    }
}

fn secret(token: &Token) -> &str {
    token.access_token().expose_secret()
}

/// The cache's record for `issuer-key`, as JSON.
async fn stored_record(store: &dyn TokenStore) -> Option<serde_json::Value> {
    let stored = store.load("issuer-key").await.unwrap()?;
    Some(serde_json::from_str(stored.value.expose_secret()).unwrap())
}

/// The access token stored for `issuer-key`.
async fn stored_access_token(store: &dyn TokenStore) -> Option<String> {
    let record = stored_record(store).await?;
    record["token"]["access_token"].as_str().map(str::to_owned)
}

fn temp_store() -> (Arc<FileStore>, std::path::PathBuf) {
    let dir =
        std::env::temp_dir().join(format!("adauth-store-test-{}", adauth_core::new_revision()));
    (Arc::new(FileStore::new(&dir).unwrap()), dir)
}

fn cache(source: &Arc<Issuer>, store: Arc<dyn TokenStore>) -> TokenCache {
    TokenCache::builder(Arc::clone(source)).store(store).build()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn caches_sharing_a_store_share_one_token() {
    let (store, dir) = temp_store();
    let source = Arc::new(Issuer::default());
    let caches: Vec<_> = (0..8).map(|_| cache(&source, store.clone())).collect();
    let tasks: Vec<_> = caches
        .iter()
        .cloned()
        .map(|c| tokio::spawn(async move { c.token().await.unwrap() }))
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap().access_token().expose_secret(), "t1");
    }
    assert_eq!(source.fetches.load(Ordering::SeqCst), 1);
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn an_invalidated_token_in_the_store_is_replaced_once_and_the_refresh_token_used_once() {
    let (store, dir) = temp_store();
    let source = Arc::new(Issuer::default());
    let (a, b) = (cache(&source, store.clone()), cache(&source, store.clone()));
    let t1 = a.token().await.unwrap();
    assert!(b.token().await.unwrap().same_access_token(&t1));

    // Both processes see a 401 with t1.
    assert!(a.invalidate(&t1));
    assert!(b.invalidate(&t1));
    let from_a = a.token().await.unwrap();
    let from_b = b.token().await.unwrap();
    assert_eq!(from_a.access_token().expose_secret(), "t2");
    assert!(
        from_b.same_access_token(&from_a),
        "b takes a's new token from the store"
    );
    assert_eq!(
        *source.refreshes.lock().unwrap(),
        vec!["r1"],
        "r1 used once, by one process"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn a_corrupt_or_foreign_value_is_ignored_and_replaced() {
    let (store, dir) = temp_store();
    let source = Arc::new(Issuer::default());
    for garbage in [
        "{\"revision\":\"x\",\"value\":\"not a token\"}",
        "\u{0}\u{1}junk",
    ] {
        let _ = std::fs::write(dir.join("issuer-key.token"), garbage);
        let c = cache(&source, store.clone());
        let token = c.token().await.unwrap();
        assert_eq!(
            stored_access_token(&*store).await.as_deref(),
            Some(secret(&token))
        );
    }
    // Another provider's token under the key is foreign too.
    let foreign = Token::new(
        SecretString::from("x"),
        std::time::SystemTime::now(),
        std::time::SystemTime::now() + Duration::from_secs(60),
    )
    .to_stored("other");
    let current = store.load("issuer-key").await.unwrap().unwrap();
    store
        .compare_and_set("issuer-key", Some(&current.revision), &foreign)
        .await
        .unwrap()
        .unwrap();
    let before = source.fetches.load(Ordering::SeqCst);
    let c = cache(&source, store.clone());
    assert_ne!(c.token().await.unwrap().access_token().expose_secret(), "x");
    assert_eq!(source.fetches.load(Ordering::SeqCst), before + 1);
    let _ = std::fs::remove_dir_all(dir);
}

#[path = "support/down.rs"]
mod down;
use down::Down;

#[tokio::test]
async fn a_store_that_is_down_costs_no_token() {
    let source = Arc::new(Issuer::default());
    let c = cache(&source, Arc::new(Down));
    assert_eq!(
        c.token().await.unwrap().access_token().expose_secret(),
        "t1"
    );
    assert_eq!(
        c.token().await.unwrap().access_token().expose_secret(),
        "t1"
    );
    assert_eq!(
        source.fetches.load(Ordering::SeqCst),
        1,
        "memory still serves"
    );
}

#[tokio::test]
async fn a_lease_held_elsewhere_is_waited_for_and_taken_over_when_it_lapses() {
    let (store, dir) = temp_store();
    let source = Arc::new(Issuer::default());
    // Another "process" holds the lease and never writes.
    let held = store
        .try_lease("issuer-key", Duration::from_secs(1))
        .await
        .unwrap()
        .unwrap();
    let c = TokenCache::builder(Arc::clone(&source))
        .store(store.clone())
        .lease_ttl(Duration::from_millis(200))
        .build();
    let waiter = tokio::spawn(async move { c.token().await });
    // The holder dies: its lock goes with it.
    tokio::task::yield_now().await;
    drop(held);
    let token = tokio::time::timeout(Duration::from_secs(5), waiter)
        .await
        .expect("the waiter must not hang")
        .unwrap()
        .unwrap();
    assert_eq!(token.access_token().expose_secret(), "t1");
    assert_eq!(source.fetches.load(Ordering::SeqCst), 1);
    let _ = std::fs::remove_dir_all(dir);
}

/// A cache over `store` on a manual wall clock (tokio time stays real: the file store's
/// calls run on blocking threads).
fn cache_on(
    source: &Arc<Issuer>,
    store: Arc<dyn TokenStore>,
    clock: &ManualClock,
    lease_ttl: Duration,
) -> TokenCache {
    TokenCache::builder(Arc::clone(source))
        .store(store)
        .clock(Arc::new(clock.clone()))
        .refresh_policy(RefreshPolicy::default().jitter(0.0))
        .lease_ttl(lease_ttl)
        .build()
}

// Issue 9, item 7: the lease covers the whole fetch.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fetch_of_ten_lease_times_keeps_its_lease_and_uses_the_refresh_token_once() {
    let (store, dir) = temp_store();
    let source = Arc::new(Issuer::default());
    let clock = ManualClock::default();
    let ttl = Duration::from_millis(100);
    let first = cache_on(&source, store.clone(), &clock, ttl);
    assert_eq!(secret(&first.token().await.unwrap()), "t1");
    // t1 expires; the provider now takes ten lease times to answer.
    clock.advance(Duration::from_secs(2 * 3600));
    *source.delay.lock().unwrap() = ttl * 10;
    let caches: Vec<_> = (0..4)
        .map(|_| cache_on(&source, store.clone(), &clock, ttl))
        .collect();
    let tasks: Vec<_> = caches
        .iter()
        .cloned()
        .map(|c| tokio::spawn(async move { c.token().await }))
        .collect();
    for task in tasks {
        assert_eq!(secret(&task.await.unwrap().unwrap()), "t2");
    }
    assert_eq!(
        *source.refreshes.lock().unwrap(),
        vec!["r1"],
        "r1 sent once"
    );
    assert_eq!(source.fetches.load(Ordering::SeqCst), 2);
    let _ = std::fs::remove_dir_all(dir);
}

/// A store whose calls never return.
#[derive(Debug)]
struct Hangs;

#[async_trait]
impl TokenStore for Hangs {
    async fn load(&self, _key: &str) -> Result<Option<StoredValue>> {
        std::future::pending().await
    }
    async fn compare_and_set(
        &self,
        _: &str,
        _: Option<&str>,
        _: &SecretString,
    ) -> Result<Option<String>> {
        std::future::pending().await
    }
    async fn try_lease(&self, _: &str, _: Duration) -> Result<Option<Lease>> {
        std::future::pending().await
    }
    async fn renew(&self, _: &str, _: &Lease, _: Duration) -> Result<bool> {
        std::future::pending().await
    }
    async fn release(&self, _: &str, _: Lease) -> Result<()> {
        std::future::pending().await
    }
}

/// Counts `WARN` events on the current thread.
#[derive(Default)]
struct CountWarnings(AtomicUsize);

impl tracing::Subscriber for CountWarnings {
    fn enabled(&self, metadata: &tracing::Metadata<'_>) -> bool {
        *metadata.level() == tracing::Level::WARN
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, _: &tracing::Event<'_>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

// Issue 9, item 9: a store that hangs never costs a token.
#[tokio::test(start_paused = true)]
async fn a_store_that_never_answers_costs_no_token_and_warns_once() {
    let warnings = Arc::new(CountWarnings::default());
    let _guard = tracing::subscriber::set_default(Arc::clone(&warnings));
    let source = Arc::new(Issuer::default());
    let c = TokenCache::builder(Arc::clone(&source))
        .store(Arc::new(Hangs))
        .store_timeout(Duration::from_millis(50))
        .build();
    let started = tokio::time::Instant::now();
    assert_eq!(secret(&c.token().await.unwrap()), "t1");
    assert_eq!(
        started.elapsed(),
        Duration::from_millis(50),
        "one store timeout"
    );
    let t1 = c.token().await.unwrap();
    c.invalidate(&t1);
    assert_eq!(secret(&c.token().await.unwrap()), "t2");
    assert_eq!(
        warnings.0.load(Ordering::SeqCst),
        1,
        "one warning for the outage"
    );
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_named_pipe_where_the_token_file_should_be_is_not_read() {
    let (store, dir) = temp_store();
    let source = Arc::new(Issuer::default());
    let fifo = dir.join("issuer-key.token");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let c = cache(&source, store.clone());
    let token = tokio::time::timeout(Duration::from_secs(10), c.token())
        .await
        .expect("a named pipe must not block token()")
        .unwrap();
    assert_eq!(secret(&token), "t1");
    assert!(std::fs::metadata(&fifo).unwrap().is_file(), "replaced");
    assert_eq!(stored_access_token(&*store).await.as_deref(), Some("t1"));
    let _ = std::fs::remove_dir_all(dir);
}

// Issue 9, item 10: failures are shared.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_is_shared_through_the_store_until_its_retry_time() {
    let (store, dir) = temp_store();
    let source = Arc::new(Issuer::default());
    *source.rate_limited.lock().unwrap() = Some(Duration::from_secs(60));
    for _ in 0..8 {
        let err = cache(&source, store.clone()).token().await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::RateLimited, "{err}");
        assert_eq!(err.status().map(|s| s.as_u16()), Some(429));
        assert!(err.retry_after().is_some());
    }
    assert_eq!(
        source.fetches.load(Ordering::SeqCst),
        1,
        "one request for 8"
    );
    let record = stored_record(&*store).await.unwrap();
    assert_eq!(record["failure"]["kind"], "rate_limited", "{record}");
    let _ = std::fs::remove_dir_all(dir);
}

/// A source without an identity: a custom one that forgot it.
#[derive(Debug)]
struct Tenant(&'static str);

#[async_trait]
impl TokenSource for Tenant {
    fn provider(&self) -> &str {
        "custom"
    }
    async fn fetch(&self, cx: &FetchContext) -> Result<Token> {
        let now = cx.now();
        Ok(Token::new(
            SecretString::from(format!("token-of-{}", self.0)),
            now,
            now + Duration::from_secs(3600),
        ))
    }
}

/// The same, with an identity.
#[derive(Debug)]
struct NamedTenant(&'static str);

#[async_trait]
impl TokenSource for NamedTenant {
    fn provider(&self) -> &str {
        "custom"
    }
    fn identity(&self) -> Option<String> {
        Some(adauth_core::credential_identity("custom", &[self.0]))
    }
    async fn fetch(&self, cx: &FetchContext) -> Result<Token> {
        Tenant(self.0).fetch(cx).await
    }
}

// Issue 9, item 11: credentials never share an entry by accident.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_custom_sources_never_read_each_others_token() {
    let (store, dir) = temp_store();
    for tenant in ["a", "b"] {
        let c = TokenCache::builder(Tenant(tenant))
            .store(store.clone())
            .build();
        let err = c.token().await.unwrap_err();
        assert!(err.is_configuration(), "{err}");
        assert!(err.to_string().contains("identity"), "{err}");
    }
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        0,
        "nothing stored"
    );
    for tenant in ["a", "b"] {
        let c = TokenCache::builder(NamedTenant(tenant))
            .store(store.clone())
            .build();
        let token = c.token().await.unwrap();
        assert_eq!(secret(&token), format!("token-of-{tenant}"));
    }
    // Without a store, a source needs no identity.
    assert!(TokenCache::new(Tenant("a")).token().await.is_ok());
    let _ = std::fs::remove_dir_all(dir);
}

// Issue 9, item 12: an invalidated token stays invalidated everywhere.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalidated_token_is_never_adopted_from_the_store_again() {
    let (store, dir) = temp_store();
    let source = Arc::new(Issuer::default());
    let (a, b) = (cache(&source, store.clone()), cache(&source, store.clone()));
    let t1 = a.token().await.unwrap();
    assert!(b.token().await.unwrap().same_access_token(&t1));

    // A 401 in a; its renewal is slow.
    *source.delay.lock().unwrap() = Duration::from_millis(500);
    assert!(a.invalidate(&t1));
    let renewing = tokio::spawn({
        let a = a.clone();
        async move { a.token().await }
    });
    while source.refreshes.lock().unwrap().is_empty() {
        tokio::task::yield_now().await;
    }
    // A process that starts meanwhile does not get t1 from the store.
    let c = cache(&source, store.clone());
    assert_eq!(secret(&c.token().await.unwrap()), "t2");
    assert_eq!(secret(&renewing.await.unwrap().unwrap()), "t2");
    // b sees its own 401 later and gets t2 without another request.
    assert!(b.invalidate(&t1));
    assert_eq!(secret(&b.token().await.unwrap()), "t2");
    assert_eq!(*source.refreshes.lock().unwrap(), vec!["r1"]);
    let _ = std::fs::remove_dir_all(dir);
}

/// A file store whose `load` can be held until released.
#[derive(Debug)]
struct Gated {
    inner: Arc<FileStore>,
    closed: AtomicBool,
    waiting: Notify,
    open: Notify,
}

#[async_trait]
impl TokenStore for Gated {
    async fn load(&self, key: &str) -> Result<Option<StoredValue>> {
        if self.closed.swap(false, Ordering::SeqCst) {
            let open = self.open.notified();
            self.waiting.notify_one();
            open.await;
        }
        self.inner.load(key).await
    }
    async fn compare_and_set(
        &self,
        key: &str,
        expected: Option<&str>,
        value: &SecretString,
    ) -> Result<Option<String>> {
        self.inner.compare_and_set(key, expected, value).await
    }
    async fn try_lease(&self, key: &str, ttl: Duration) -> Result<Option<Lease>> {
        self.inner.try_lease(key, ttl).await
    }
    async fn renew(&self, key: &str, lease: &Lease, ttl: Duration) -> Result<bool> {
        self.inner.renew(key, lease, ttl).await
    }
    async fn release(&self, key: &str, lease: Lease) -> Result<()> {
        self.inner.release(key, lease).await
    }
}

// Issue 9, item 12: a renewal that started before the invalidation cannot put it back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_renewal_running_during_an_invalidation_does_not_bring_the_token_back() {
    let (inner, dir) = temp_store();
    let store = Arc::new(Gated {
        inner: inner.clone(),
        closed: AtomicBool::new(false),
        waiting: Notify::new(),
        open: Notify::new(),
    });
    let source = Arc::new(Issuer::default());
    let clock = ManualClock::default();
    let a = cache_on(&source, store.clone(), &clock, Duration::from_secs(15));
    let t1 = a.token().await.unwrap();
    // In the refresh window: the next call starts a renewal in the background, held at
    // its first store read.
    clock.advance(Duration::from_secs(55 * 60));
    store.closed.store(true, Ordering::SeqCst);
    let waiting = store.waiting.notified();
    assert!(a.token().await.unwrap().same_access_token(&t1));
    waiting.await;
    // Meanwhile another process stored t1 again with a later expiry (its clock runs
    // ahead), and this process sees a 401 with t1.
    let stored = inner.load("issuer-key").await.unwrap().unwrap();
    let mut record: serde_json::Value = serde_json::from_str(stored.value.expose_secret()).unwrap();
    let now = adauth_core::Clock::now(&clock)
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    record["token"]["issued_at"] = serde_json::json!([now, 0]);
    record["token"]["expires_at"] = serde_json::json!([now + 3600, 0]);
    inner
        .compare_and_set(
            "issuer-key",
            Some(&stored.revision),
            &SecretString::from(record.to_string()),
        )
        .await
        .unwrap()
        .unwrap();
    assert!(a.invalidate(&t1));
    store.open.notify_one();
    let next = a.token().await.unwrap();
    assert!(!next.same_access_token(&t1), "t1 came back");
    assert_eq!(secret(&next), "t2");
    let _ = std::fs::remove_dir_all(dir);
}
