//! What one credential costs in memory once its token is cached: the cache, its entry and
//! the token, counted by dhat's heap profiler in testing mode.
//!
//! `cargo bench -p adauth-core --bench footprint` prints the same figure for 100,000
//! caches beside the simple design's.

use std::time::Duration;

use adauth_core::secrecy::SecretString;
use adauth_core::{FetchContext, Result, Token, TokenCache, TokenSource, async_trait};

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

/// A source that costs nothing itself, so that only the cache is counted.
#[derive(Debug)]
struct Opaque;

#[async_trait]
impl TokenSource for Opaque {
    fn provider(&self) -> &str {
        "footprint"
    }

    async fn fetch(&self, cx: &FetchContext) -> Result<Token> {
        let now = cx.now();
        // An opaque token of the usual length (Fyber's, Mediago's).
        let token = SecretString::from("0123456789abcdef0123456789abcdef01234567");
        Ok(Token::new(token, now, now + Duration::from_secs(3600)))
    }
}

const CACHES: usize = 10_000;

#[test]
fn a_cached_token_costs_at_most_a_kilobyte_per_credential() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let _profiler = dhat::Profiler::builder().testing().build();
    let before = dhat::HeapStats::get().curr_bytes;
    let caches: Vec<TokenCache> = (0..CACHES).map(|_| TokenCache::new(Opaque)).collect();
    runtime.block_on(async {
        for cache in &caches {
            cache.token().await.expect("token");
        }
    });
    let per_credential = (dhat::HeapStats::get().curr_bytes - before) / CACHES;
    println!("one cached credential: {per_credential} B");
    dhat::assert!(
        per_credential <= 1024,
        "one cached credential costs {per_credential} B"
    );
    drop(caches);
}
