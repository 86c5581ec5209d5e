//! The cached `token()` path beside the simple designs, in one run, as ratios: one cache,
//! 100,000 caches read in turn by one thread, and two threads reading one cache.
//!
//! Run with `cargo bench -p adauth-core --bench cache`.

use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use adauth_core::secrecy::SecretString;
use adauth_core::{
    Clock, FetchContext, Result, SystemClock, Token, TokenCache, TokenSource, async_trait,
};
use arc_swap::ArcSwapOption;

#[path = "support/compare.rs"]
mod compare;
use compare::{Case, Plan, compare, target};

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

/// The simple design: one `ArcSwap` pointer and the same coarse clock.
struct Simple(ArcSwapOption<Token>);

impl Simple {
    #[inline]
    fn token(&self) -> Option<Arc<Token>> {
        self.0
            .load_full()
            .filter(|t| SystemClock.now() < t.expires_at())
    }

    /// The same, handing out `ArcSwap`'s guard instead of an `Arc`, as adauth's
    /// [`TokenGuard`](adauth_core::TokenGuard) does.
    #[inline]
    fn guard(&self) -> Option<arc_swap::Guard<Option<Arc<Token>>>> {
        let guard = self.0.load();
        let fresh = guard
            .as_ref()
            .is_some_and(|t| SystemClock.now() < t.expires_at());
        fresh.then_some(guard)
    }
}

/// A lock around the current token, on the same clock.
struct StdLock(RwLock<Option<Arc<Token>>>);

impl StdLock {
    fn token(&self) -> Option<Arc<Token>> {
        let guard = self.0.read().unwrap();
        let token = guard.as_ref()?;
        (SystemClock.now() < token.expires_at()).then(|| Arc::clone(token))
    }
}

/// The same with tokio's lock, as async code often writes it.
struct TokioLock(tokio::sync::RwLock<Option<Arc<Token>>>);

impl TokioLock {
    async fn token(&self) -> Option<Arc<Token>> {
        let guard = self.0.read().await;
        let token = guard.as_ref()?;
        (SystemClock.now() < token.expires_at()).then(|| Arc::clone(token))
    }
}

/// Times `n` calls of `op` while another thread calls it in a loop.
fn contended<T: Send + Sync + 'static>(shared: &Arc<T>, op: fn(&T), n: u64) -> Duration {
    let stop = Arc::new(AtomicBool::new(false));
    let other = {
        let (shared, stop) = (Arc::clone(shared), Arc::clone(&stop));
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                op(&shared);
            }
        })
    };
    let start = Instant::now();
    for _ in 0..n {
        op(shared);
    }
    let took = start.elapsed();
    stop.store(true, Ordering::Relaxed);
    other.join().expect("contending thread");
    took
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let cache = TokenCache::new(Instant1h);
    let token = runtime.block_on(cache.token()).expect("token").into_arc();
    let simple = Arc::new(Simple(ArcSwapOption::from(Some(Arc::clone(&token)))));
    let std_lock = Arc::new(StdLock(RwLock::new(Some(Arc::clone(&token)))));
    let tokio_lock = Arc::new(TokioLock(tokio::sync::RwLock::new(Some(Arc::clone(
        &token,
    )))));

    let one = compare(
        "cached token(), one thread, one cache",
        &Plan::FAST,
        vec![
            Case::each("ArcSwap::load_full + coarse clock", || {
                black_box(simple.token().expect("token"));
            }),
            Case::each("adauth TokenCache::token (a guard)", || {
                black_box(ready(cache.token()).expect("token"));
            }),
            Case::each("std::sync::RwLock", || {
                black_box(std_lock.token().expect("token"));
            }),
            Case::each("adauth TokenCache::with_token (reads in place)", || {
                black_box(ready(cache.with_token(|t| t.expires_at())).expect("token"));
            }),
            Case::each("tokio::sync::RwLock", || {
                black_box(ready(tokio_lock.token()).expect("token"));
            }),
            Case::each("ArcSwap::load (a guard) + coarse clock", || {
                black_box(simple.guard().expect("token"));
            }),
        ],
    );
    target(
        "adauth token() at most the simple design (within noise, 1.05x)",
        one[1].ratio <= 1.05,
    );
    println!(
        "  tokio RwLock / adauth token(): {:.2}x; / adauth with_token(): {:.2}x",
        one[4].ratio / one[1].ratio,
        one[4].ratio / one[3].ratio
    );
    target(
        "tokio RwLock at least 3x adauth token()",
        one[4].ratio / one[1].ratio >= 3.0,
    );

    const MANY: usize = 100_000;
    let caches: Vec<TokenCache> = (0..MANY).map(|_| TokenCache::new(Instant1h)).collect();
    runtime.block_on(async {
        for c in &caches {
            c.token().await.expect("token");
        }
    });
    let inline: Vec<Simple> = caches
        .iter()
        .map(|c| Simple(ArcSwapOption::from(c.cached())))
        .collect();
    // Each hand-written cache is shared (an `Arc`) and allocated beside what a credential
    // holds besides its token (its source, its credentials: about 500 bytes here), as it
    // would be in a program, so that the two designs' memory is laid out alike.
    let (shared, _beside): (Vec<Arc<Simple>>, Vec<Box<[u8; 512]>>) = caches
        .iter()
        .map(|c| {
            let cache = Arc::new(Simple(ArcSwapOption::from(Some(Arc::new(Token::clone(
                &c.cached().expect("token"),
            ))))));
            (cache, Box::new([0u8; 512]))
        })
        .unzip();
    let (mut i, mut j, mut k, mut l) = (0, 0, 0, 0);
    let many = compare(
        "cached token(), one thread reading 100,000 caches in turn",
        &Plan::FAST,
        vec![
            Case::each(
                "Arc<ArcSwap> per credential, its own token + coarse clock",
                || {
                    j = (j + 1) % MANY;
                    black_box(shared[j].token().expect("token"));
                },
            ),
            Case::each("adauth TokenCache::token (a guard)", || {
                i = (i + 1) % MANY;
                black_box(ready(caches[i].token()).expect("token"));
            }),
            Case::each("adauth TokenCache::with_token", || {
                l = (l + 1) % MANY;
                black_box(ready(caches[l].with_token(|t| t.expires_at())).expect("token"));
            }),
            Case::each("ArcSwap inline in one Vec (not shareable alone)", || {
                k = (k + 1) % MANY;
                black_box(inline[k].token().expect("token"));
            }),
        ],
    );
    target(
        "adauth token() at most the shareable simple design (within noise, 1.05x)",
        many[1].ratio <= 1.05,
    );

    let shared_cache = Arc::new(cache.clone());
    let two = compare(
        "cached token(), two threads reading one cache",
        &Plan::FAST,
        vec![
            Case::timed("ArcSwap::load_full + coarse clock", |n| {
                contended(&simple, |s| drop(black_box(s.token())), n)
            }),
            Case::timed("adauth TokenCache::token (a guard)", |n| {
                contended(&shared_cache, |c| drop(black_box(ready(c.token()))), n)
            }),
            Case::timed("adauth TokenCache::with_token", |n| {
                contended(
                    &shared_cache,
                    |c| drop(black_box(ready(c.with_token(|t| t.expires_at())))),
                    n,
                )
            }),
            Case::timed("tokio::sync::RwLock", |n| {
                contended(&tokio_lock, |l| drop(black_box(ready(l.token()))), n)
            }),
        ],
    );
    println!(
        "  tokio RwLock / adauth token(): {:.2}x; / adauth with_token(): {:.2}x",
        two[3].ratio / two[1].ratio,
        two[3].ratio / two[2].ratio
    );
    target(
        "tokio RwLock at least 3x adauth under contention (token)",
        two[3].ratio / two[1].ratio >= 3.0,
    );

    compare(
        "what the cached path is made of",
        &Plan::FAST,
        vec![
            Case::each("ArcSwap::load_full (Arc clone)", || {
                black_box(simple.0.load_full());
            }),
            Case::each("ArcSwap::load (guard, as with_token reads)", || {
                black_box(simple.0.load().is_some());
            }),
            Case::each("Arc clone and drop", || {
                drop(black_box(Arc::clone(&token)));
            }),
            Case::each("std::sync::RwLock read lock and unlock", || {
                black_box(std_lock.0.read().unwrap().is_some());
            }),
            Case::each("coarse clock read (SystemClock)", || {
                black_box(SystemClock.now());
            }),
            Case::each("precise clock read (SystemTime::now)", || {
                black_box(std::time::SystemTime::now());
            }),
        ],
    );
}
