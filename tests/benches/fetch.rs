//! What one token fetch costs beside a hand-written reqwest POST of the same request, for
//! every provider, against a loopback server in the same process that sends each
//! provider's documented answer. No cache: `TokenSource::fetch` of the source that the
//! provider's descriptor builds.
//!
//! Run with `cargo bench -p adauth-tests --bench fetch`. With
//! `ADAUTH_BENCH_CURRENT_THREAD=1` client and server share one thread (a current-thread
//! runtime): the figures then leave out the scheduler's wake-ups across threads and show
//! the work each side does, for a profiler or a second opinion.

use std::time::Instant;

use adauth::FetchContext;

#[path = "../../crates/adauth-core/benches/support/compare.rs"]
mod compare;
#[path = "support/hand.rs"]
mod hand;
use compare::{Case, Plan, compare, target};

/// A server that answers each provider's token path with its documented answer.
async fn server() -> String {
    let mut app = axum::Router::new();
    for provider in hand::ALL {
        let answer = provider.answer;
        app = app.route(
            provider.path,
            axum::routing::post(
                move || async move { ([("content-type", "application/json")], answer) },
            ),
        );
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    base
}

fn main() {
    let runtime = if std::env::var_os("ADAUTH_BENCH_CURRENT_THREAD").is_some() {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime")
    };
    let base = runtime.block_on(server());
    // The hand-written POSTs go through the very client the sources send through (the
    // runtime's shared one), so that both sides use the same pool and connection and the
    // figures differ only by what adauth does around the call.
    let client = runtime
        .block_on(async { adauth::http::shared_client() })
        .expect("client");
    let cx = FetchContext::default();
    let mut worst: f64 = 0.0;
    for provider in hand::ALL {
        let descriptor = adauth::PROVIDERS
            .iter()
            .find(|p| p.name() == provider.name)
            .expect("registered provider");
        let mut vars: Vec<(&str, &str)> = provider.vars.to_vec();
        vars.push((provider.base_url_var, &base));
        let lookup = adauth_testkit::lookup(&vars);
        let source = descriptor
            .source_from_lookup(&lookup)
            .expect("source from the documented variables");
        if let Some(only) = std::env::var_os("ADAUTH_BENCH_PROFILE") {
            // For a profiler: only this provider's fetch, or only the hand-written POST,
            // `ADAUTH_BENCH_PROFILE_COUNT` times (default 20,000).
            let count: u32 = std::env::var("ADAUTH_BENCH_PROFILE_COUNT")
                .ok()
                .and_then(|n| n.parse().ok())
                .unwrap_or(20_000);
            if only == provider.name {
                runtime.block_on(async {
                    for _ in 0..count {
                        std::hint::black_box(source.fetch(&cx).await.expect("token"));
                    }
                });
            } else if only == format!("hand-{}", provider.name).as_str() {
                runtime.block_on(async {
                    for _ in 0..count {
                        std::hint::black_box((provider.send)(&client, &base).await);
                    }
                });
            }
            continue;
        }
        let figures = compare(
            &format!("{}: one token fetch", provider.name),
            &Plan {
                // Rounds enough for a stable median on a shared host: a minute in all.
                rounds: 75,
                batch: 300,
                // The two sides take turns every 10 fetches (about a millisecond), so that
                // the machine's slow spells fall on both alike.
                slice: 10,
            },
            vec![
                Case::timed("hand-written reqwest POST of the same request", |n| {
                    let start = Instant::now();
                    runtime.block_on(async {
                        for _ in 0..n {
                            std::hint::black_box((provider.send)(&client, &base).await);
                        }
                    });
                    start.elapsed()
                }),
                Case::timed("adauth TokenSource::fetch", |n| {
                    let start = Instant::now();
                    runtime.block_on(async {
                        for _ in 0..n {
                            std::hint::black_box(source.fetch(&cx).await.expect("token"));
                        }
                    });
                    start.elapsed()
                }),
            ],
        );
        target(
            "at most 1.05x the hand-written POST",
            figures[1].ratio <= 1.05,
        );
        worst = worst.max(figures[1].ratio);
    }
    println!("\nworst provider: {worst:.2}x the hand-written POST");
}
