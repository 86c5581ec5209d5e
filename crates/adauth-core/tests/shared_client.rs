//! One connection pool per tokio runtime: sources built without a client of their own send
//! through one reqwest client, whose connections a loopback server can count.

use std::time::Duration;

use adauth_core::FetchContext;
use adauth_core::http::{HttpClient, shared_client};
use url::Url;

#[path = "support/peers.rs"]
mod peers;

async fn server() -> (Url, peers::Peers) {
    peers::start("{}").await
}

async fn post(http: &HttpClient, url: &Url) {
    let answer = http
        .post_form("shared", &FetchContext::default(), url, &[("a", "b")])
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
}

#[tokio::test]
async fn clients_built_without_one_of_their_own_share_one_connection() {
    let (url, peers) = server().await;
    let clients: Vec<HttpClient> = (0..50)
        .map(|i| HttpClient::new().request_timeout(Duration::from_secs(10 + i)))
        .collect();
    for http in &clients {
        post(http, &url).await;
    }
    // Fifty clients, one after the other: one keep-alive connection carries them all.
    assert_eq!(
        peers.lock().unwrap().len(),
        1,
        "{:?}",
        peers.lock().unwrap()
    );
    // And the process's client is the one they sent through.
    let direct = shared_client()
        .unwrap()
        .post(url.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(direct.status(), 200);
    assert_eq!(peers.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_client_of_its_own_keeps_its_own_pool() {
    let (url, peers) = server().await;
    post(&HttpClient::new(), &url).await;
    let own = HttpClient::new().connect_timeout(Duration::from_secs(3));
    post(&own, &url).await;
    post(&own.clone(), &url).await;
    let given = HttpClient::with_client(adauth_core::http::default_client().unwrap());
    post(&given, &url).await;
    // The shared pool, the own client (shared by its clone) and the given one.
    assert_eq!(
        peers.lock().unwrap().len(),
        3,
        "{:?}",
        peers.lock().unwrap()
    );
}

/// A connection's task runs on the runtime that opened it: on a current-thread runtime that
/// is not running (it is between `block_on` calls), the connection cannot carry another
/// runtime's request, which would wait for its time-out.
#[test]
fn a_request_never_waits_on_a_connection_of_an_idle_runtime() {
    let server_runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let (url, _peers) = server_runtime.block_on(server());
    let no_retries = || {
        HttpClient::new()
            .retry_policy(adauth_core::http::RetryPolicy::none())
            .request_timeout(Duration::from_secs(2))
    };
    let current = || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    };
    let (first, second) = (current(), current());
    first.block_on(post(&no_retries(), &url));
    // `first` stays alive but idle, holding its connection's task.
    second.block_on(post(&no_retries(), &url));
    drop(first);
}
