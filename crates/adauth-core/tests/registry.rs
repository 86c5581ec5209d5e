//! `TokenCaches`: a cache per key, created lazily, dropped when idle (on paused time), all
//! sending through one HTTP client and sharing one store.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use adauth_core::http::HttpClient;
use adauth_core::secrecy::{ExposeSecret, SecretString};
use adauth_core::{
    Error, ErrorKind, FetchContext, FileStore, Lease, Result, StoredValue, Token, TokenCaches,
    TokenSource, TokenStore, async_trait,
};
use url::Url;

/// A source that counts its fetches and names its token after its key.
#[derive(Debug)]
struct Keyed {
    key: String,
    /// The identity: sources of one credential share it, whatever their key.
    credential: String,
    fetches: Arc<AtomicUsize>,
}

#[async_trait]
impl TokenSource for Keyed {
    fn provider(&self) -> &str {
        "keyed"
    }

    fn identity(&self) -> Option<String> {
        Some(adauth_core::credential_identity(
            "keyed",
            &[&self.credential],
        ))
    }

    async fn fetch(&self, cx: &FetchContext) -> Result<Token> {
        self.fetches.fetch_add(1, Ordering::SeqCst);
        let now = cx.now();
        let token = SecretString::from(format!("token-of-{}", self.key));
        Ok(Token::new(token, now, now + Duration::from_secs(3600)))
    }
}

struct Counters {
    built: AtomicUsize,
    fetches: Arc<AtomicUsize>,
}

fn registry(idle: Duration) -> (TokenCaches<String, Keyed>, Arc<Counters>) {
    let counters = Arc::new(Counters {
        built: AtomicUsize::new(0),
        fetches: Arc::default(),
    });
    let c = Arc::clone(&counters);
    let caches = TokenCaches::builder(move |key: &String, _http: &HttpClient| {
        c.built.fetch_add(1, Ordering::SeqCst);
        if key == "refused" {
            return Err(Error::configuration("keyed", "no such account"));
        }
        Ok(Keyed {
            key: key.clone(),
            credential: key.clone(),
            fetches: Arc::clone(&c.fetches),
        })
    })
    .idle_timeout(idle)
    .build();
    (caches, counters)
}

fn key(s: &str) -> String {
    s.to_owned()
}

#[tokio::test]
async fn entries_are_built_on_first_use_once_per_key() {
    let (caches, counters) = registry(Duration::from_secs(600));
    assert!(caches.is_empty());
    assert_eq!(
        counters.built.load(Ordering::SeqCst),
        0,
        "nothing before use"
    );

    let callers: Vec<_> = (0..50)
        .map(|i| {
            let caches = caches.clone();
            tokio::spawn(
                async move { caches.token(&key(if i % 2 == 0 { "a" } else { "b" })).await },
            )
        })
        .collect();
    for caller in callers {
        let token = caller.await.unwrap().unwrap();
        assert!(
            token
                .access_token()
                .expose_secret()
                .starts_with("token-of-")
        );
    }
    assert_eq!(
        counters.built.load(Ordering::SeqCst),
        2,
        "one source per key"
    );
    assert_eq!(
        counters.fetches.load(Ordering::SeqCst),
        2,
        "one fetch per key"
    );
    assert_eq!(caches.len(), 2);
    assert_eq!(
        caches
            .token(&key("a"))
            .await
            .unwrap()
            .access_token()
            .expose_secret(),
        "token-of-a"
    );

    // A factory error is the caller's, and is not remembered.
    let err = caches.get(&key("refused")).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Configuration);
    assert!(caches.get(&key("refused")).is_err());
    assert_eq!(counters.built.load(Ordering::SeqCst), 4);
    assert_eq!(caches.len(), 2);

    assert!(caches.remove(&key("a")));
    assert!(!caches.remove(&key("a")));
    caches.token(&key("a")).await.unwrap();
    assert_eq!(
        counters.built.load(Ordering::SeqCst),
        5,
        "a removed key is built again"
    );
}

#[tokio::test(start_paused = true)]
async fn idle_entries_are_dropped_and_used_ones_kept() {
    let (caches, counters) = registry(Duration::from_secs(600));
    caches.token(&key("a")).await.unwrap();
    tokio::time::advance(Duration::from_secs(360)).await;
    caches.token(&key("b")).await.unwrap();
    tokio::time::advance(Duration::from_secs(300)).await;
    // "a" has been idle for 11 minutes, "b" for 5.
    let held = caches.get(&key("b")).unwrap();
    assert_eq!(caches.len(), 1, "the idle entry is dropped on the next use");
    assert_eq!(counters.built.load(Ordering::SeqCst), 2);

    caches.token(&key("a")).await.unwrap();
    assert_eq!(
        counters.built.load(Ordering::SeqCst),
        3,
        "a dropped key is built again"
    );
    assert_eq!(counters.fetches.load(Ordering::SeqCst), 3);

    // Eviction on demand; a caller holding an entry keeps a working cache.
    tokio::time::advance(Duration::from_secs(601)).await;
    caches.evict_idle();
    assert!(caches.is_empty());
    assert_eq!(
        held.token().await.unwrap().access_token().expose_secret(),
        "token-of-b"
    );
}

#[path = "support/peers.rs"]
mod peers;

/// A source that posts to a token endpoint with the client it is given.
#[derive(Debug)]
struct Posting {
    url: Url,
    http: HttpClient,
}

#[async_trait]
impl TokenSource for Posting {
    fn provider(&self) -> &str {
        "posting"
    }

    async fn fetch(&self, cx: &FetchContext) -> Result<Token> {
        let answer = self
            .http
            .post_form(
                "posting",
                cx,
                &self.url,
                &[("grant_type", "client_credentials")],
            )
            .await?;
        assert_eq!(answer.status(), 200);
        let now = cx.now();
        Ok(Token::new(
            SecretString::from("t"),
            now,
            now + Duration::from_secs(3600),
        ))
    }
}

#[tokio::test]
async fn every_key_sends_through_the_registrys_one_client() {
    let (url, peers) = peers::start(r#"{"access_token":"t","expires_in":3600}"#).await;
    // A client of its own (a connect timeout other than the default), shared by every key.
    let caches = TokenCaches::builder(move |_: &u32, http: &HttpClient| {
        Ok(Posting {
            url: url.clone(),
            http: http.clone(),
        })
    })
    .http(HttpClient::new().connect_timeout(Duration::from_secs(3)))
    .build();
    for account in 0..100u32 {
        caches.token(&account).await.unwrap();
    }
    assert_eq!(caches.len(), 100);
    assert_eq!(
        peers.lock().unwrap().len(),
        1,
        "100 keys, one connection: {:?}",
        peers.lock().unwrap()
    );
}

/// A file store that remembers the keys it was asked for.
#[derive(Debug)]
struct Watched {
    inner: FileStore,
    keys: Mutex<BTreeSet<String>>,
}

#[async_trait]
impl TokenStore for Watched {
    async fn load(&self, key: &str) -> Result<Option<StoredValue>> {
        self.keys.lock().unwrap().insert(key.to_owned());
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

#[tokio::test]
async fn every_key_shares_the_registrys_one_store() {
    let dir = std::env::temp_dir().join(format!("adauth-registry-{}", adauth_core::new_revision()));
    let store = Arc::new(Watched {
        inner: FileStore::new(&dir).unwrap(),
        keys: Mutex::default(),
    });
    let fetches = Arc::new(AtomicUsize::new(0));
    let f = Arc::clone(&fetches);
    // Accounts under one client: keys differ, the credential (the identity) is one.
    let caches = TokenCaches::builder(move |account: &String, _: &HttpClient| {
        Ok(Keyed {
            key: account.clone(),
            credential: "one-client".to_owned(),
            fetches: Arc::clone(&f),
        })
    })
    .store(store.clone())
    .build();
    let first = caches.token(&key("acct-1")).await.unwrap();
    for account in ["acct-2", "acct-3", "acct-4"] {
        let token = caches.token(&key(account)).await.unwrap();
        assert!(
            token.same_access_token(&first),
            "{account} adopts the stored token"
        );
    }
    assert_eq!(
        fetches.load(Ordering::SeqCst),
        1,
        "one credential, one fetch"
    );
    assert_eq!(
        store.keys.lock().unwrap().len(),
        1,
        "{:?}",
        store.keys.lock().unwrap()
    );
    let _ = std::fs::remove_dir_all(dir);
}
