//! A `TokenCache` over a shared store: caches in one process standing in for processes.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use adauth_core::secrecy::{ExposeSecret, SecretString};
use adauth_core::{
    Error, ErrorKind, FetchContext, FileStore, Lease, Result, StoredValue, Token, TokenCache,
    TokenSource, TokenStore, async_trait,
};

/// Issues `t1`, `t2`, ... with refresh tokens `r1`, `r2`, ...; records refresh tokens used.
#[derive(Debug, Default)]
struct Issuer {
    fetches: AtomicUsize,
    refreshes: std::sync::Mutex<Vec<String>>,
}

#[async_trait]
impl TokenSource for Issuer {
    fn provider(&self) -> &str {
        "issuer"
    }
    fn identity(&self) -> String {
        "issuer-key".to_owned()
    }
    async fn fetch(&self, cx: &FetchContext) -> Result<Token> {
        let n = self.fetches.fetch_add(1, Ordering::SeqCst) + 1;
        let now = cx.now();
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
        Ok(Token::new(
            SecretString::from(format!("t{n}")),
            now,
            now + Duration::from_secs(3600),
        )
        .with_refresh_token(Some(SecretString::from(format!("r{n}")))))
    }
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
        assert!(c.token().await.is_ok());
        let stored = store.load("issuer-key").await.unwrap().unwrap();
        assert!(Token::from_stored("issuer", stored.value.expose_secret()).is_ok());
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

/// A store that always fails.
#[derive(Debug)]
struct Down;

#[async_trait]
impl TokenStore for Down {
    async fn load(&self, _key: &str) -> Result<Option<StoredValue>> {
        Err(Error::new("token store", ErrorKind::Transport))
    }
    async fn compare_and_set(
        &self,
        _: &str,
        _: Option<&str>,
        _: &SecretString,
    ) -> Result<Option<String>> {
        Err(Error::new("token store", ErrorKind::Transport))
    }
    async fn try_lease(&self, _: &str, _: Duration) -> Result<Option<Lease>> {
        Err(Error::new("token store", ErrorKind::Transport))
    }
    async fn release(&self, _: &str, _: Lease) -> Result<()> {
        Err(Error::new("token store", ErrorKind::Transport))
    }
}

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
