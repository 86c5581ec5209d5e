//! `RedisStore` against real servers: each test starts a `redis-server` of its own.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use adauth_core::secrecy::{ExposeSecret, SecretString};
use adauth_core::{
    ErrorKind, FetchContext, Lease, ManualClock, RefreshPolicy, Result, Token, TokenCache,
    TokenSource, TokenStore, async_trait, new_revision,
};
use adauth_redis::RedisStore;
use adauth_testkit::RedisServer;
use redis::AsyncCommands as _;

/// A server of this test's own, a store on it under a prefix of its own, and a plain
/// connection to poke at its keys.
async fn setup() -> (RedisServer, RedisStore, redis::aio::MultiplexedConnection) {
    let server = RedisServer::start();
    let url = server.url();
    let prefix = format!("adauth-test:{}:", new_revision());
    let store = RedisStore::connect(&url).await.unwrap().with_prefix(prefix);
    let raw = redis::Client::open(url.as_str())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    (server, store, raw)
}

fn secret(s: &str) -> SecretString {
    SecretString::from(s.to_owned())
}

#[tokio::test]
#[cfg_attr(no_redis_server, ignore = "redis-server is not installed")]
async fn compare_and_set_writes_only_over_the_expected_revision() {
    let (_server, store, mut raw) = setup().await;
    let r2 = adauth_testkit::contract::compare_and_set(&store, "k").await;

    // The documented layout: JSON under <prefix>token:<key>, with the default 30-day TTL.
    let key = format!("{}token:k", store.prefix());
    assert_eq!(store.token_key("k"), key);
    let json: String = raw.get(&key).await.unwrap();
    let parsed: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(parsed, serde_json::json!({"revision": r2, "value": "c"}));
    let ttl: i64 = raw.pttl(&key).await.unwrap();
    assert!(
        ttl > 29 * 24 * 3600 * 1000 && ttl <= 30 * 24 * 3600 * 1000,
        "{ttl}"
    );

    let forever = store.clone().with_value_ttl(Duration::ZERO);
    forever
        .compare_and_set("k", Some(&r2), &secret("e"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(raw.pttl::<_, i64>(&key).await.unwrap(), -1);
    let short = store.with_value_ttl(Duration::from_secs(60));
    let r3 = short.load("k").await.unwrap().unwrap().revision;
    short
        .compare_and_set("k", Some(&r3), &secret("f"))
        .await
        .unwrap()
        .unwrap();
    let ttl: i64 = raw.pttl(&key).await.unwrap();
    assert!(ttl > 0 && ttl <= 60_000, "{ttl}");
}

#[tokio::test]
#[cfg_attr(no_redis_server, ignore = "redis-server is not installed")]
async fn a_lease_is_exclusive_and_only_its_holder_releases_it() {
    let (_server, store, mut raw) = setup().await;
    let ttl = Duration::from_secs(30);
    let lease = store.try_lease("k", ttl).await.unwrap().unwrap();
    assert!(store.try_lease("k", ttl).await.unwrap().is_none());
    let key = store.lease_key("k");
    assert_eq!(key, format!("{}lease:k", store.prefix()));
    assert_eq!(raw.get::<_, String>(&key).await.unwrap(), lease.fence());
    let pttl: i64 = raw.pttl(&key).await.unwrap();
    assert!(pttl > 0 && pttl <= 30_000, "{pttl}");

    // Another holder's fence (say, one whose own lease lapsed) releases nothing.
    store
        .release("k", Lease::new("not-the-holder"))
        .await
        .unwrap();
    assert!(store.try_lease("k", ttl).await.unwrap().is_none());

    store.release("k", lease).await.unwrap();
    assert!(!raw.exists::<_, bool>(&key).await.unwrap());
    let next = store.try_lease("k", ttl).await.unwrap();
    assert!(next.is_some());
    // Other keys have leases of their own.
    assert!(store.try_lease("other", ttl).await.unwrap().is_some());
}

#[tokio::test]
#[cfg_attr(no_redis_server, ignore = "redis-server is not installed")]
async fn a_lease_lapses_after_its_ttl() {
    let (_server, store, _raw) = setup().await;
    let ttl = Duration::from_millis(300);
    let first = store.try_lease("k", ttl).await.unwrap().unwrap();
    assert!(store.try_lease("k", ttl).await.unwrap().is_none());
    let started = tokio::time::Instant::now();
    let second = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            if let Some(lease) = store.try_lease("k", ttl).await.unwrap() {
                return lease;
            }
            store
                .wait_for_change("k", None, Duration::from_millis(100))
                .await
                .unwrap();
        }
    })
    .await
    .expect("the lease never lapsed");
    assert!(
        started.elapsed() >= Duration::from_millis(200),
        "{:?}",
        started.elapsed()
    );
    assert_ne!(first.fence(), second.fence());
    // The lapsed holder cannot release its successor's lease.
    store.release("k", first).await.unwrap();
    assert!(store.try_lease("k", ttl).await.unwrap().is_none());
}

#[tokio::test]
#[cfg_attr(no_redis_server, ignore = "redis-server is not installed")]
async fn wait_for_change_returns_when_another_process_writes() {
    let (_server, store, _raw) = setup().await;
    // A live lease: waiting is for its holder's write.
    let _lease = store
        .try_lease("k", Duration::from_secs(30))
        .await
        .unwrap()
        .unwrap();
    let other = store.clone();
    let waiter = tokio::spawn(async move {
        let started = tokio::time::Instant::now();
        other
            .wait_for_change("k", None, Duration::from_secs(30))
            .await
            .unwrap();
        started.elapsed()
    });
    let revision = store
        .compare_and_set("k", None, &secret("a"))
        .await
        .unwrap()
        .unwrap();
    let waited = tokio::time::timeout(Duration::from_secs(5), waiter)
        .await
        .expect("wait_for_change missed the write")
        .unwrap();
    assert!(waited < Duration::from_secs(2), "{waited:?}");
    // Nothing changes: it waits out its timeout.
    let started = tokio::time::Instant::now();
    store
        .wait_for_change("k", Some(&revision), Duration::from_millis(300))
        .await
        .unwrap();
    assert!(started.elapsed() >= Duration::from_millis(300));
}

#[tokio::test]
#[cfg_attr(no_redis_server, ignore = "redis-server is not installed")]
async fn corrupt_or_foreign_values_are_ignored_and_replaced() {
    let (_server, store, mut raw) = setup().await;
    let key = store.token_key("k");
    let garbage: [&[u8]; 5] = [
        b"{not json",
        b"{\"revision\":1,\"value\":\"x\"}",
        b"[\"revision\",\"value\"]",
        b"\"just a string\"",
        b"\xff\xfe\x00junk",
    ];
    for value in garbage {
        let _: () = raw.set(&key, value).await.unwrap();
        assert!(store.load("k").await.unwrap().is_none());
        // It counts as absent: no expected revision matches it, and `None` replaces it.
        assert!(
            store
                .compare_and_set("k", Some("x"), &secret("a"))
                .await
                .unwrap()
                .is_none()
        );
        let revision = store
            .compare_and_set("k", None, &secret("a"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(store.load("k").await.unwrap().unwrap().revision, revision);
        let _: () = raw.del(&key).await.unwrap();
    }

    // A key of another Redis type (WRONGTYPE for GET) too.
    let _: () = raw.rpush(&key, "a list").await.unwrap();
    assert!(store.load("k").await.unwrap().is_none());
    assert!(
        store
            .compare_and_set("k", Some("x"), &secret("b"))
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(raw.key_type::<_, String>(&key).await.unwrap(), "list");
    let revision = store
        .compare_and_set("k", None, &secret("b"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(raw.key_type::<_, String>(&key).await.unwrap(), "string");
    let loaded = store.load("k").await.unwrap().unwrap();
    assert_eq!(
        (loaded.revision.as_str(), loaded.value.expose_secret()),
        (revision.as_str(), "b")
    );
}

/// Issues `t1`, `t2`, ... and counts its fetches.
#[derive(Debug)]
struct Counting {
    identity: String,
    fetches: AtomicUsize,
}

#[async_trait]
impl TokenSource for Counting {
    fn provider(&self) -> &str {
        "counting"
    }
    fn identity(&self) -> Option<String> {
        Some(self.identity.clone())
    }
    async fn fetch(&self, cx: &FetchContext) -> Result<Token> {
        let n = self.fetches.fetch_add(1, Ordering::SeqCst) + 1;
        let now = cx.now();
        Ok(Token::new(
            secret(&format!("CANARY-token-{n}")),
            now,
            now + Duration::from_secs(3600),
        ))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[cfg_attr(no_redis_server, ignore = "redis-server is not installed")]
async fn caches_in_several_processes_make_one_fetch() {
    let (server, store, mut raw) = setup().await;
    let source = Arc::new(Counting {
        identity: "counting-key".to_owned(),
        fetches: AtomicUsize::new(0),
    });
    let url = server.url();
    let mut caches = Vec::new();
    for _ in 0..6 {
        // A connection of its own per cache, as separate processes would have.
        let own = RedisStore::connect(&url)
            .await
            .unwrap()
            .with_prefix(store.prefix());
        caches.push(
            TokenCache::builder(Arc::clone(&source))
                .store(Arc::new(own))
                .build(),
        );
    }
    let tasks: Vec<_> = caches
        .iter()
        .cloned()
        .map(|c| tokio::spawn(async move { c.token().await.unwrap() }))
        .collect();
    for task in tasks {
        assert_eq!(
            task.await.unwrap().access_token().expose_secret(),
            "CANARY-token-1"
        );
    }
    assert_eq!(source.fetches.load(Ordering::SeqCst), 1);
    let stored = store.load("counting-key").await.unwrap().unwrap();
    // The cache's record: `{"v": 2, "token": {...}}`.
    let record: serde_json::Value = serde_json::from_str(stored.value.expose_secret()).unwrap();
    assert_eq!(record["v"], 2, "{record:?}");
    let token = &record["token"];
    assert_eq!(token["provider"], "counting");
    assert_eq!(token["access_token"], "CANARY-token-1");
    let expires_at = token["expires_at"][0].as_u64().unwrap();
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(expires_at > now);
    assert!(
        !raw.exists::<_, bool>(store.lease_key("counting-key"))
            .await
            .unwrap(),
        "lease released"
    );

    // Nothing of the token shows in Debug output.
    for text in [
        format!("{store:?}"),
        format!("{:?}", caches[0]),
        format!("{stored:?}"),
    ] {
        assert!(!text.contains("CANARY"), "{text}");
    }
}

#[tokio::test]
#[cfg_attr(no_redis_server, ignore = "redis-server is not installed")]
async fn the_url_password_never_shows() {
    let server = RedisServer::start();
    let url = server.url();
    let (scheme, rest) = url.split_once("://").unwrap();
    let host = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    let user = format!("adauth-test-{}", new_revision());
    let password = format!("CANARY-pw-{}", new_revision());
    let mut raw = redis::Client::open(url.as_str())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let _: () = redis::cmd("ACL")
        .arg(&[
            "SETUSER",
            &user,
            "on",
            &format!(">{password}"),
            "~adauth-test:*",
            "+@all",
        ])
        .query_async(&mut raw)
        .await
        .unwrap();

    let with_password = format!("{scheme}://{user}:{password}@{host}");
    let store = RedisStore::connect(&with_password).await.unwrap();
    let debug = format!("{store:?}");
    assert!(!debug.contains("CANARY"), "{debug}");
    assert!(
        debug.contains(&format!("{scheme}://[redacted]@{host}")),
        "{debug}"
    );
    let store = store.with_prefix(format!("adauth-test:{}:", new_revision()));
    assert!(
        store
            .compare_and_set("k", None, &secret("a"))
            .await
            .unwrap()
            .is_some()
    );

    // A refused password: a transport error from the token store, without the password.
    let wrong = format!("{scheme}://{user}:CANARY-wrong@{host}");
    let err = RedisStore::connect(&wrong).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport);
    assert_eq!(err.provider(), "token store");
    for text in [err.to_string(), format!("{err:?}")] {
        assert!(!text.contains("CANARY"), "{text}");
        assert!(text.contains("[redacted]@"), "{text}");
    }
    let _: () = redis::cmd("ACL")
        .arg(&["DELUSER", &user])
        .query_async(&mut raw)
        .await
        .unwrap();
}

#[tokio::test]
#[cfg_attr(no_redis_server, ignore = "redis-server is not installed")]
async fn from_lookup_reads_adauth_redis_url() {
    let err = RedisStore::from_lookup(&|_| None).await.unwrap_err();
    assert!(err.is_configuration());
    assert!(err.to_string().contains("ADAUTH_REDIS_URL"), "{err}");
    assert_eq!(
        adauth_redis::ENV_VARS,
        [
            "ADAUTH_REDIS_URL",
            "ADAUTH_REDIS_CLUSTER_URLS",
            "ADAUTH_REDIS_CA_FILE"
        ]
    );
    let server = RedisServer::start();
    let url = server.url();
    let store = RedisStore::from_lookup(&|name| (name == "ADAUTH_REDIS_URL").then(|| url.clone()))
        .await
        .unwrap();
    assert_eq!(store.prefix(), "adauth:");
}

/// Issues `CANARY-token-N` with refresh token `rN`; every request takes `delay` (real
/// time); records the refresh tokens it is sent.
#[derive(Debug, Default)]
struct Slow {
    requests: AtomicUsize,
    delay: std::sync::Mutex<Duration>,
    refreshes: std::sync::Mutex<Vec<String>>,
}

impl Slow {
    async fn issue(&self, cx: &FetchContext) -> Result<Token> {
        let n = self.requests.fetch_add(1, Ordering::SeqCst) + 1;
        let now = cx.now();
        let delay = *self.delay.lock().unwrap();
        tokio::time::sleep(delay).await;
        Ok(Token::new(
            secret(&format!("CANARY-token-{n}")),
            now,
            now + Duration::from_secs(3600),
        )
        .with_refresh_token(Some(secret(&format!("r{n}")))))
    }
}

#[async_trait]
impl TokenSource for Slow {
    fn provider(&self) -> &str {
        "slow"
    }
    fn identity(&self) -> Option<String> {
        Some("slow-key".to_owned())
    }
    async fn fetch(&self, cx: &FetchContext) -> Result<Token> {
        self.issue(cx).await
    }
    async fn refresh(&self, cx: &FetchContext, refresh_token: &SecretString) -> Result<Token> {
        self.refreshes
            .lock()
            .unwrap()
            .push(refresh_token.expose_secret().to_owned());
        self.issue(cx).await
    }
}

/// `n` caches of `source`, each with a connection of its own (as processes would have), on
/// a shared manual wall clock.
async fn caches(
    server: &RedisServer,
    prefix: &str,
    source: &Arc<Slow>,
    clock: &ManualClock,
    lease_ttl: Duration,
    n: usize,
) -> Vec<TokenCache> {
    let mut caches = Vec::new();
    for _ in 0..n {
        let store = RedisStore::connect(&server.url())
            .await
            .unwrap()
            .with_prefix(prefix);
        caches.push(
            TokenCache::builder(Arc::clone(source))
                .store(Arc::new(store))
                .clock(Arc::new(clock.clone()))
                .refresh_policy(RefreshPolicy::default().jitter(0.0))
                .lease_ttl(lease_ttl)
                .build(),
        );
    }
    caches
}

async fn all_tokens(caches: &[TokenCache]) -> Vec<String> {
    let tasks: Vec<_> = caches
        .iter()
        .cloned()
        .map(|c| tokio::spawn(async move { c.token().await }))
        .collect();
    let mut tokens = Vec::new();
    for task in tasks {
        let token = task.await.unwrap().unwrap();
        tokens.push(token.access_token().expose_secret().to_owned());
    }
    tokens
}

// Issue 9, item 7, against Redis: a lease that lapses without renewal lets others in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(no_redis_server, ignore = "redis-server is not installed")]
async fn a_fetch_of_ten_lease_times_keeps_its_redis_lease_and_uses_the_refresh_token_once() {
    let server = RedisServer::start();
    let prefix = format!("adauth-test:{}:", new_revision());
    let source = Arc::new(Slow::default());
    let clock = ManualClock::default();
    let ttl = Duration::from_millis(500);
    let caches = caches(&server, &prefix, &source, &clock, ttl, 4).await;
    assert_eq!(all_tokens(&caches[..1]).await, ["CANARY-token-1"]);
    // The token expires; the provider now takes ten lease times to answer.
    clock.advance(Duration::from_secs(2 * 3600));
    *source.delay.lock().unwrap() = ttl * 10;
    let tokens = all_tokens(&caches).await;
    assert!(tokens.iter().all(|t| t == "CANARY-token-2"), "{tokens:?}");
    assert_eq!(*source.refreshes.lock().unwrap(), ["r1"], "r1 sent once");
    assert_eq!(source.requests.load(Ordering::SeqCst), 2);
}

// Issue 9, item 8: Redis loses its data during a fetch; the processes still end up on one
// token, and the store holds it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(no_redis_server, ignore = "redis-server is not installed")]
async fn processes_converge_on_one_token_when_redis_is_flushed_during_a_fetch() {
    let (server, store, mut raw) = setup().await;
    let prefix = store.prefix().to_owned();
    let source = Arc::new(Slow::default());
    let clock = ManualClock::default();
    let ttl = Duration::from_millis(600);
    let caches = caches(&server, &prefix, &source, &clock, ttl, 4).await;
    assert_eq!(all_tokens(&caches[..1]).await, ["CANARY-token-1"]);
    clock.advance(Duration::from_secs(2 * 3600));
    *source.delay.lock().unwrap() = Duration::from_millis(1500);
    let renewing = tokio::spawn({
        let caches = caches[..3].to_vec();
        async move { all_tokens(&caches).await }
    });
    while source.requests.load(Ordering::SeqCst) < 2 {
        tokio::task::yield_now().await;
    }
    let _: () = redis::cmd("FLUSHALL").query_async(&mut raw).await.unwrap();
    let tokens = renewing.await.unwrap();
    let finished = tokio::time::Instant::now();
    assert!(tokens.iter().all(|t| *t == tokens[0]), "{tokens:?}");
    // A process that starts now gets the same token from the store, within a lease time.
    let late = tokio::time::timeout(ttl, caches[3].token())
        .await
        .expect("within one lease time")
        .unwrap();
    assert_eq!(late.access_token().expose_secret(), tokens[0]);
    assert!(finished.elapsed() <= ttl);
    assert!(source.requests.load(Ordering::SeqCst) <= 3);
}

/// The number of commands the server has run since its statistics were reset.
async fn commands_run(raw: &mut redis::aio::MultiplexedConnection) -> u64 {
    let info: String = redis::cmd("INFO")
        .arg("commandstats")
        .query_async(raw)
        .await
        .unwrap();
    info.lines()
        .filter_map(|line| {
            line.split_once("calls=")?
                .1
                .split(',')
                .next()?
                .parse::<u64>()
                .ok()
        })
        .sum()
}

// Issue 9, item 14: waiting costs Redis little.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(no_redis_server, ignore = "redis-server is not installed")]
async fn two_hundred_waiting_caches_cost_a_few_commands_each() {
    const WAITERS: usize = 200;
    let (server, store, mut raw) = setup().await;
    let prefix = store.prefix().to_owned();
    let source = Arc::new(Slow::default());
    *source.delay.lock().unwrap() = Duration::from_secs(3);
    let clock = ManualClock::default();
    let mut caches = caches(
        &server,
        &prefix,
        &source,
        &clock,
        adauth_core::DEFAULT_LEASE_TTL,
        WAITERS + 1,
    )
    .await;
    let holder = caches.remove(0);
    let fetching = tokio::spawn(async move { holder.token().await });
    while source.requests.load(Ordering::SeqCst) == 0 {
        tokio::task::yield_now().await;
    }
    let _: () = redis::cmd("CONFIG")
        .arg("RESETSTAT")
        .query_async(&mut raw)
        .await
        .unwrap();
    let tokens = all_tokens(&caches).await;
    fetching.await.unwrap().unwrap();
    assert!(tokens.iter().all(|t| t == "CANARY-token-1"));
    assert_eq!(source.requests.load(Ordering::SeqCst), 1);
    // Less the INFO call itself and the holder's few.
    let per_waiter = commands_run(&mut raw).await as f64 / WAITERS as f64;
    println!("{per_waiter:.1} Redis commands per waiting cache during a 3 s refresh");
    assert!(per_waiter <= 10.0, "{per_waiter} commands per waiter");
}

// Issue 9, item 9: a Redis that accepts and never answers (here: stopped with SIGSTOP, its
// connections open) costs no token and no hang.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(no_redis_server, ignore = "redis-server is not installed")]
async fn a_redis_that_stops_answering_costs_no_token() {
    let (server, store, _raw) = setup().await;
    let source = Arc::new(Counting {
        identity: "counting-key".to_owned(),
        fetches: AtomicUsize::new(0),
    });
    let cache = TokenCache::builder(Arc::clone(&source))
        .store(Arc::new(store))
        .store_timeout(Duration::from_millis(300))
        .build();
    let first = cache.token().await.unwrap();
    server.pause();
    assert!(cache.invalidate(&first));
    let started = tokio::time::Instant::now();
    let second = tokio::time::timeout(Duration::from_secs(30), cache.token())
        .await
        .expect("token() must not hang on a hung Redis")
        .unwrap();
    let took = started.elapsed();
    server.resume();
    assert!(!second.same_access_token(&first));
    assert!(took < Duration::from_secs(2), "took {took:?}");
    assert_eq!(source.fetches.load(Ordering::SeqCst), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(no_redis_server, ignore = "redis-server is not installed")]
async fn the_store_works_on_a_cluster_whichever_node_holds_each_key() {
    let cluster = adauth_testkit::RedisCluster::start();
    let urls = cluster.urls();
    let nodes: Vec<&str> = urls.iter().map(String::as_str).collect();
    let prefix = format!("adauth-test:{}:", new_revision());
    let store = RedisStore::connect_cluster(&nodes)
        .await
        .unwrap()
        .with_prefix(prefix.clone());
    let keys: Vec<String> = (0..24).map(|i| format!("credential-{i}")).collect();
    for key in &keys {
        let revision = store
            .compare_and_set(key, None, &secret(key))
            .await
            .unwrap()
            .expect("the first write");
        assert_eq!(
            store
                .compare_and_set(key, None, &secret("x"))
                .await
                .unwrap(),
            None,
            "compare-and-set holds on the key's node"
        );
        let loaded = store.load(key).await.unwrap().unwrap();
        assert_eq!(loaded.revision, revision);
        assert_eq!(loaded.value.expose_secret(), key.as_str());
        let lease = store
            .try_lease(key, Duration::from_secs(30))
            .await
            .unwrap()
            .unwrap();
        assert!(
            store
                .try_lease(key, Duration::from_secs(30))
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            store
                .renew(key, &lease, Duration::from_secs(30))
                .await
                .unwrap()
        );
        store.release(key, lease).await.unwrap();
    }
    // The keys are spread over the nodes: each node answers for its own slots only.
    let mut holding = 0;
    for url in &urls {
        let mut node = redis::Client::open(url.as_str())
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .unwrap();
        let size: u64 = redis::cmd("DBSIZE").query_async(&mut node).await.unwrap();
        holding += usize::from(size > 0);
    }
    assert!(holding >= 2, "24 keys on {holding} node(s)");

    // A waiter wakes on a write to a key of any node, however far from where the store
    // subscribed.
    for key in &keys[..6] {
        let _lease = store
            .try_lease(key, Duration::from_secs(30))
            .await
            .unwrap()
            .unwrap();
        let seen = store.load(key).await.unwrap().map(|v| v.revision);
        let other = store.clone();
        let waited_key = key.clone();
        let waiter = tokio::spawn(async move {
            other
                .wait_for_change(&waited_key, seen.as_deref(), Duration::from_secs(30))
                .await
        });
        let current = store.load(key).await.unwrap().unwrap().revision;
        store
            .compare_and_set(key, Some(&current), &secret("renewed"))
            .await
            .unwrap()
            .unwrap();
        tokio::time::timeout(Duration::from_secs(5), waiter)
            .await
            .expect("wait_for_change missed the write")
            .unwrap()
            .unwrap();
    }
}

#[tokio::test]
#[cfg_attr(no_redis_server, ignore = "redis-server is not installed")]
async fn from_lookup_reads_the_cluster_urls() {
    let cluster = adauth_testkit::RedisCluster::start();
    let urls = cluster.urls().join(", ");
    let lookup = |name: &str| (name == adauth_redis::ENV_CLUSTER_URLS).then(|| urls.clone());
    let store = RedisStore::from_lookup(&lookup).await.unwrap();
    let revision = store
        .compare_and_set("k", None, &secret("v"))
        .await
        .unwrap();
    assert!(revision.is_some());
    // Seed nodes that do not answer are a transport error naming them, never a panic.
    let lookup = |name: &str| {
        (name == adauth_redis::ENV_CLUSTER_URLS).then(|| "redis://127.0.0.1:1/".to_owned())
    };
    let err = RedisStore::from_lookup(&lookup).await.unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::Transport | ErrorKind::Timeout),
        "{err}"
    );
    assert!(err.to_string().contains("127.0.0.1:1"), "{err}");
}
