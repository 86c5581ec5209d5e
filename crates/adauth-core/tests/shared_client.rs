//! One connection pool per process: sources built without a client of their own send
//! through one reqwest client, whose connections a loopback server can count.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use adauth_core::http::{HttpClient, RetryPolicy, shared_client};
use adauth_core::{ErrorKind, FetchContext};
use axum::extract::{ConnectInfo, State};
use url::Url;

type Peers = Arc<Mutex<BTreeSet<SocketAddr>>>;

/// A server that answers every request and remembers the connection it came on.
async fn server() -> (Url, Peers) {
    let peers = Peers::default();
    let app = axum::Router::new()
        .fallback(
            |State(peers): State<Peers>, ConnectInfo(peer): ConnectInfo<SocketAddr>| async move {
                peers.lock().unwrap().insert(peer);
                "{}"
            },
        )
        .with_state(Arc::clone(&peers));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = Url::parse(&format!("http://{}/token", listener.local_addr().unwrap())).unwrap();
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
    });
    (url, peers)
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

#[tokio::test]
async fn the_request_timeout_applies_through_the_shared_client() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = Url::parse(&format!("http://{}/token", listener.local_addr().unwrap())).unwrap();
    // Accepts, reads, never answers.
    tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            open.push(socket);
        }
    });
    let http = HttpClient::new()
        .request_timeout(Duration::from_millis(300))
        .retry_policy(RetryPolicy::none());
    let started = std::time::Instant::now();
    let err = http
        .post_form("shared", &FetchContext::default(), &url, &[("a", "b")])
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}
