//! `RedisStore` against real servers: each test starts a `redis-server` of its own.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use adauth_core::secrecy::{ExposeSecret, SecretString};
use adauth_core::{
    ErrorKind, FetchContext, Lease, Result, Token, TokenCache, TokenSource, TokenStore,
    async_trait, new_revision,
};
use adauth_redis::RedisStore;
use adauth_tests::RedisServer;
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
    assert!(store.load("k").await.unwrap().is_none());
    let r1 = store
        .compare_and_set("k", None, &secret("a"))
        .await
        .unwrap()
        .unwrap();
    assert!(
        store
            .compare_and_set("k", None, &secret("b"))
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .compare_and_set("k", Some("other"), &secret("b"))
            .await
            .unwrap()
            .is_none()
    );
    let r2 = store
        .compare_and_set("k", Some(&r1), &secret("c"))
        .await
        .unwrap()
        .unwrap();
    assert_ne!(r1, r2);
    assert!(
        store
            .compare_and_set("k", Some(&r1), &secret("d"))
            .await
            .unwrap()
            .is_none()
    );
    let loaded = store.load("k").await.unwrap().unwrap();
    assert_eq!(loaded.revision, r2);
    assert_eq!(loaded.value.expose_secret(), "c");

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
    let token = Token::from_stored("counting", stored.value.expose_secret()).unwrap();
    assert_eq!(token.access_token().expose_secret(), "CANARY-token-1");
    assert!(token.expires_at() > SystemTime::now());
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
    assert_eq!(adauth_redis::ENV_VARS, ["ADAUTH_REDIS_URL"]);
    let server = RedisServer::start();
    let url = server.url();
    let store = RedisStore::from_lookup(&|name| (name == "ADAUTH_REDIS_URL").then(|| url.clone()))
        .await
        .unwrap();
    assert_eq!(store.prefix(), "adauth:");
}
