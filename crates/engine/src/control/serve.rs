//! Serving a router on a listener, with the timeouts `axum::serve` does not set: a client that
//! dribbles its request headers (or never sends them) is disconnected instead of holding a
//! connection and its task forever.

use std::time::Duration;

use axum::serve::Listener;
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::sync::watch;

/// How long a client has to send a request's headers. Local clients send them at once.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(5);

/// Serves `app` on `listener` until `stopped` turns true, then lets requests in flight finish
/// (the caller bounds how long it waits).
pub(super) async fn serve<L: Listener>(
    mut listener: L,
    app: Router,
    mut stopped: watch::Receiver<bool>,
) {
    let graceful = GracefulShutdown::new();
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stopped.wait_for(|&stop| stop) => break,
        };
        let service = TowerToHyperService::new(app.clone());
        let connection = graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            // A client that hangs up or times out is its own business, not an engine error.
            let _ = connection.await;
        });
    }
    drop(listener);
    graceful.shutdown().await;
}
