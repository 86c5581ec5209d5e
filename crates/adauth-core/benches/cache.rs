//! The cached `token()` path, alone and under two-thread contention, against a cache
//! guarded by `tokio::sync::RwLock`.
//!
//! Run with `cargo bench -p adauth-core --bench cache`.

use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use adauth_core::secrecy::SecretString;
use adauth_core::{
    Clock, FetchContext, Result, SystemClock, Token, TokenCache, TokenSource, async_trait,
};
use criterion::{Criterion, criterion_group, criterion_main};

#[derive(Debug)]
struct Instant1h;

#[async_trait]
impl TokenSource for Instant1h {
    fn provider(&self) -> &str {
        "bench"
    }
    async fn fetch(&self, cx: &FetchContext) -> Result<Token> {
        let now = cx.now();
        Ok(Token::new(
            SecretString::from("bench-token"),
            now,
            now + Duration::from_secs(3600),
        ))
    }
}

/// Polls a future once; the cached paths complete on the first poll.
fn ready<F: Future>(future: F) -> F::Output {
    match pin!(future).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("the cached path must not wait"),
    }
}

/// The obvious alternative: a lock around the current token.
/// It reads the same clock as the `TokenCache` does, so only the synchronisation differs.
struct RwLockCache {
    current: tokio::sync::RwLock<Option<Arc<Token>>>,
}

impl RwLockCache {
    async fn token(&self) -> Option<Arc<Token>> {
        let guard = self.current.read().await;
        let token = guard.as_ref()?;
        (SystemClock.now() < token.expires_at()).then(|| Arc::clone(token))
    }
}

/// Measures `op` while another thread runs it in a loop.
fn contended<T: Send + Sync + 'static>(c: &mut Criterion, name: &str, shared: Arc<T>, op: fn(&T)) {
    let stop = Arc::new(AtomicBool::new(false));
    let other = {
        let (shared, stop) = (Arc::clone(&shared), Arc::clone(&stop));
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                op(&shared);
            }
        })
    };
    c.bench_function(name, |b| b.iter(|| op(&shared)));
    stop.store(true, Ordering::Relaxed);
    other.join().expect("contending thread");
}

fn benches(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let cache = TokenCache::new(Instant1h);
    let token = runtime.block_on(cache.token()).expect("token");

    c.bench_function("cached token()", |b| {
        b.iter(|| black_box(ready(cache.token()).expect("token")))
    });

    let rwlock = Arc::new(RwLockCache {
        current: tokio::sync::RwLock::new(Some(token)),
    });
    c.bench_function("rwlock token() uncontended", |b| {
        b.iter(|| black_box(ready(rwlock.token()).expect("token")))
    });

    contended(c, "contended/cached token()", Arc::new(cache), |cache| {
        black_box(ready(cache.token()).expect("token"));
    });
    contended(c, "contended/rwlock token()", rwlock, |cache| {
        black_box(ready(cache.token()).expect("token"));
    });
}

criterion_group! {
    name = cache;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = benches
}
criterion_main!(cache);
