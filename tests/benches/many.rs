//! Many credentials in one process, against a loopback token endpoint in the same
//! process, each figure beside a simple hand-written design in the same run:
//!
//! - 1,000 Fyber sources with a cache each, one fetch each, against one shared reqwest
//!   client posting the same 1,000 requests by hand: time, memory and connections.
//! - Building one reqwest client, against reusing the process's shared one.
//! - 100,000 keys of a `TokenCaches` registry, created and fetched once each, against
//!   100,000 hand-written POSTs through one client: time and peak memory.
//!
//! Run with `cargo bench -p adauth-tests --bench many`.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use adauth::fyber::{Credentials, FyberSource};
use adauth::http::HttpClient;
use adauth::{TokenCache, TokenCaches};
use axum::extract::{ConnectInfo, State};
use futures_util::StreamExt as _;

#[path = "../../crates/adauth-core/benches/support/compare.rs"]
mod compare;
use compare::{Case, Plan, compare, report, target};

/// Fyber's documented answer.
const ANSWER: &str = r#"{"accessToken":"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpYXQiOjE1NzAwMTY5MDAsImV4cCI6MTU3MDAyMDUwMCwiYXVkIjoic3BlZWRiYWxsIiwic3ViIjoiMjEwMjYzIn0.hDo1waTytSys_oRhFNUPqZPom26bL05rxgtSt3XYHqI","tokenType":"bearer","expiresIn":3600}"#;

type Peers = Arc<Mutex<BTreeSet<SocketAddr>>>;

/// A token endpoint that answers every request with [`ANSWER`] and remembers the
/// connection each came on.
async fn token_endpoint() -> (String, Peers) {
    let peers = Peers::default();
    let app = axum::Router::new()
        .fallback(
            |State(peers): State<Peers>, ConnectInfo(peer): ConnectInfo<SocketAddr>| async move {
                peers.lock().unwrap().insert(peer);
                ([("content-type", "application/json")], ANSWER)
            },
        )
        .with_state(Arc::clone(&peers));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
    });
    (base, peers)
}

fn credentials(i: u64, base: impl Into<adauth::provider_kit::wire::UrlSetting>) -> Credentials {
    Credentials::builder()
        .client_id(format!("client-{i}"))
        .client_secret(format!("secret-{i}"))
        .base_url(base)
        .build()
        .expect("credentials")
}

/// What a hand-written client reads from the answer.
#[derive(serde::Deserialize)]
struct Answer {
    #[serde(rename = "accessToken")]
    access_token: String,
    #[serde(rename = "expiresIn")]
    expires_in: u64,
}

/// The same request as Fyber's source sends, by hand.
async fn hand_post(client: &reqwest::Client, url: &str, i: u64) -> usize {
    let body = format!(
        r#"{{"grant_type":"client_credentials","client_id":"client-{i}","client_secret":"secret-{i}"}}"#
    );
    let bytes = client
        .post(url)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("answer")
        .bytes()
        .await
        .expect("body");
    let answer: Answer = serde_json::from_slice(&bytes).expect("json");
    answer.access_token.len() + answer.expires_in as usize
}

/// Resident and peak resident memory of this process, in bytes (Linux).
fn memory() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<u64>().ok())
            .map_or(0, |kb| kb * 1024)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count())
}

const CONCURRENCY: usize = 32;

/// `n` hand-written POSTs through one client, `CONCURRENCY` at a time.
fn hand_posts(runtime: &tokio::runtime::Runtime, client: &reqwest::Client, url: &str, n: u64) {
    runtime.block_on(async {
        futures_util::stream::iter(0..n)
            .for_each_concurrent(CONCURRENCY, |i| async move {
                std::hint::black_box(hand_post(client, url, i).await);
            })
            .await;
    });
}

/// A token for each of `keys` from the registry, `CONCURRENCY` at a time.
fn registry_keys(
    runtime: &tokio::runtime::Runtime,
    registry: &TokenCaches<u64, FyberSource>,
    keys: std::ops::Range<u64>,
) {
    runtime.block_on(async {
        futures_util::stream::iter(keys)
            .for_each_concurrent(CONCURRENCY, |key| async move {
                std::hint::black_box(registry.token(&key).await.expect("token"));
            })
            .await;
    });
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let (base, peers) = runtime.block_on(token_endpoint());
    let url = format!("{base}{}", adauth::fyber::TOKEN_PATH);

    // Memory, connections and descriptors of 1,000 credentials held, measured first so that
    // the memory is new to the process.
    const THOUSAND: u64 = 1_000;
    let _ = adauth::http::shared_client().expect("client");
    let (before, _) = memory();
    let fds_before = open_fds();
    let caches: Vec<TokenCache> = runtime.block_on(async {
        let mut caches = Vec::new();
        for i in 0..THOUSAND {
            let source = FyberSource::new(credentials(10_000_000 + i, &base)).expect("source");
            let cache = TokenCache::new(source);
            cache.token().await.expect("token");
            caches.push(cache);
        }
        caches
    });
    let (after, _) = memory();
    report(
        "1,000 credentials held, each with its token (measured first, on fresh memory)",
        &format!(
            "{} B resident per credential; {} connection(s) to the token endpoint; {} more open fds",
            after.saturating_sub(before) / THOUSAND,
            peers.lock().unwrap().len(),
            open_fds().saturating_sub(fds_before)
        ),
    );
    drop(caches);

    peers.lock().unwrap().clear();

    // Building one reqwest client (root certificates loaded each time) against the shared
    // client every source now uses.
    let _ = adauth::http::shared_client().expect("client");
    compare(
        "one reqwest client for a source",
        &Plan {
            rounds: 9,
            batch: 5,
            slice: 5,
        },
        vec![
            Case::each("the process's shared client (reused)", || {
                std::hint::black_box(adauth::http::shared_client().expect("client"));
            }),
            Case::each("a new client (adauth::http::default_client)", || {
                std::hint::black_box(adauth::http::default_client().expect("client"));
            }),
        ],
    );

    // 1,000 sources and caches, one fetch each.
    let hand_client = adauth::http::default_client().expect("client");
    let mut round = 0u64;
    let figures = compare(
        "1,000 credentials, one fetch each (per credential)",
        &Plan {
            rounds: 7,
            batch: THOUSAND,
            slice: THOUSAND,
        },
        vec![
            Case::timed("one shared reqwest client, hand-written POSTs", |n| {
                let start = Instant::now();
                runtime.block_on(async {
                    for i in 0..n {
                        std::hint::black_box(hand_post(&hand_client, &url, i).await);
                    }
                });
                start.elapsed()
            }),
            Case::timed("adauth FyberSource::new + TokenCache, token()", |n| {
                round += 1;
                let start = Instant::now();
                let caches: Vec<TokenCache> = runtime.block_on(async {
                    let mut caches = Vec::new();
                    for i in 0..n {
                        let source =
                            FyberSource::new(credentials(round * n + i, &base)).expect("source");
                        let cache = TokenCache::new(source);
                        std::hint::black_box(cache.token().await.expect("token"));
                        caches.push(cache);
                    }
                    caches
                });
                let took = start.elapsed();
                drop(caches);
                took
            }),
        ],
    );
    let _ = figures;

    // 100,000 keys of a registry, each fetched once: ten rounds of 10,000 new keys, each
    // round beside 10,000 hand-written POSTs.
    const KEYS: u64 = 100_000;
    const ROUND: u64 = 10_000;
    let (rss_before, _) = memory();
    // The host is parsed once, as an agency's program would, and each key's credentials
    // get a copy.
    let host = adauth::reqwest::Url::parse(&base).expect("host");
    let registry = TokenCaches::builder(move |key: &u64, http: &HttpClient| {
        FyberSource::with_http(credentials(*key, &host), http.clone())
    })
    .idle_timeout(Duration::from_secs(3600))
    .build();
    if let Some(only) = std::env::var_os("ADAUTH_BENCH_PROFILE") {
        // For a profiler: only the registry's keys (`registry`) or only the hand-written
        // POSTs (`hand-registry`), `ADAUTH_BENCH_PROFILE_COUNT` of them (default 100,000).
        let count: u64 = std::env::var("ADAUTH_BENCH_PROFILE_COUNT")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(KEYS);
        if only == "registry" {
            registry_keys(&runtime, &registry, 0..count);
        } else if only == "hand-registry" {
            hand_posts(&runtime, &hand_client, &url, count);
        }
        return;
    }
    let mut next_key = 0u64;
    let figures = compare(
        "100,000 keys created and fetched once each, 32 at a time (per key)",
        &Plan {
            rounds: (KEYS / ROUND) as usize - 1,
            batch: ROUND,
            slice: ROUND,
        },
        vec![
            Case::timed("hand-written POSTs through one client", |n| {
                let start = Instant::now();
                hand_posts(&runtime, &hand_client, &url, n);
                start.elapsed()
            }),
            Case::timed("adauth TokenCaches: a new key, token()", |n| {
                let keys = next_key..next_key + n;
                next_key += n;
                let start = Instant::now();
                registry_keys(&runtime, &registry, keys);
                start.elapsed()
            }),
        ],
    );
    let (rss_after, peak) = memory();
    println!(
        "  registry: {} keys, {} MB resident added ({} B per key), peak resident {} MB",
        registry.len(),
        rss_after.saturating_sub(rss_before) / 1_000_000,
        rss_after.saturating_sub(rss_before) / registry.len().max(1) as u64,
        peak / 1_000_000
    );
    target(
        "at most 1.2x the hand-written POSTs",
        figures[1].ratio <= 1.2,
    );
    target(
        "100,000 keys in under 300 MB peak resident",
        registry.len() as u64 >= KEYS && peak < 300_000_000,
    );
}
