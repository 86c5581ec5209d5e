//! Serving a fake: an axum router on `127.0.0.1:0` that stops when told to.

use std::net::SocketAddr;

use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::watch;

/// A running server; dropping it (or its sender) starts a graceful shutdown.
pub(crate) struct Server {
    pub(crate) addr: SocketAddr,
    shutdown: watch::Sender<bool>,
}

impl Server {
    /// Binds `127.0.0.1:0` and serves `router` on a task of the current tokio runtime.
    pub(crate) async fn start(router: Router) -> std::io::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let (shutdown, mut stop) = watch::channel(false);
        tokio::spawn(async move {
            let signal = async move {
                // Either an explicit `true` or the sender being dropped stops the server.
                let _ = stop.wait_for(|stopped| *stopped).await;
            };
            // The only error is an I/O error of the listener, which ends the fake either way.
            let _ = axum::serve(listener, router)
                .with_graceful_shutdown(signal)
                .await;
        });
        Ok(Self { addr, shutdown })
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
    }
}
