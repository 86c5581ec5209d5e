//! What a cached credential costs in memory, for 100,000 caches each holding its token,
//! beside the simple design (`RwLock<Option<Arc<Token>>>` around the same token), counted
//! by dhat's heap profiler.
//!
//! Run with `cargo bench -p adauth-core --bench footprint`.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use adauth_core::secrecy::SecretString;
use adauth_core::{FetchContext, Result, Token, TokenCache, TokenSource, async_trait};

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

const CACHES: usize = 100_000;

#[derive(Debug)]
struct Opaque;

fn opaque_token(now: std::time::SystemTime) -> Token {
    // An opaque token of the usual length (Fyber's, Mediago's).
    let token = SecretString::from("0123456789abcdef0123456789abcdef01234567");
    Token::new(token, now, now + Duration::from_secs(3600))
}

#[async_trait]
impl TokenSource for Opaque {
    fn provider(&self) -> &str {
        "footprint"
    }

    async fn fetch(&self, cx: &FetchContext) -> Result<Token> {
        Ok(opaque_token(cx.now()))
    }
}

/// Bytes live on the heap after `build` minus before, per item.
fn per_item<T>(build: impl FnOnce() -> Vec<T>) -> (usize, Vec<T>) {
    let before = dhat::HeapStats::get().curr_bytes;
    let items = build();
    let after = dhat::HeapStats::get().curr_bytes;
    ((after - before) / items.len(), items)
}

fn main() {
    let _profiler = dhat::Profiler::builder().testing().build();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");

    let (simple, kept_simple) = per_item(|| {
        (0..CACHES)
            .map(|_| RwLock::new(Some(Arc::new(opaque_token(std::time::SystemTime::now())))))
            .collect::<Vec<_>>()
    });
    let (adauth, kept_caches) = per_item(|| {
        let caches: Vec<TokenCache> = (0..CACHES).map(|_| TokenCache::new(Opaque)).collect();
        runtime.block_on(async {
            for cache in &caches {
                cache.token().await.expect("token");
            }
        });
        caches
    });
    println!("\none cached credential, 100,000 caches each holding a 40-character token");
    println!("  {:<58} {:>12} {:>10}", "", "bytes", "ratio");
    println!(
        "  {:<58} {:>12} {:>9.2}x",
        "RwLock<Option<Arc<Token>>> (baseline)", simple, 1.0
    );
    println!(
        "  {:<58} {:>12} {:>9.2}x",
        "adauth TokenCache (cache, entry, token)",
        adauth,
        adauth as f64 / simple as f64
    );
    println!(
        "  target {}: at most 1 KB per credential",
        if adauth <= 1024 { "met" } else { "MISSED" }
    );
    drop((kept_simple, kept_caches));
}
