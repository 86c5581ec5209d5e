//! A loopback HTTP server that answers every request with one body and remembers the
//! connection each came on: for tests that count connections.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::extract::{ConnectInfo, State};
use url::Url;

/// The peers (one per connection) the server has seen.
pub(crate) type Peers = Arc<Mutex<BTreeSet<SocketAddr>>>;

/// Starts the server; returns its `/token` URL and its peers.
pub(crate) async fn start(body: &'static str) -> (Url, Peers) {
    let peers = Peers::default();
    let app = axum::Router::new()
        .fallback(
            move |State(peers): State<Peers>, ConnectInfo(peer): ConnectInfo<SocketAddr>| async move {
                peers.lock().unwrap().insert(peer);
                body
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
