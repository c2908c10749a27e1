//! Serving a router on a listener, with the timeouts `axum::serve` does not set: a client that
//! dribbles its request headers or its body (or never sends them) is disconnected instead of
//! holding a connection and its task forever, and a body declared larger than the limit is
//! refused before any of it is read.
//!
//! When descriptors run out, `accept` fails with `EMFILE`; axum's `Listener` for a
//! `UnixListener` logs it, waits a second and accepts again, so the loop keeps serving once
//! descriptors come back (the connections waiting meanwhile stay in the socket's backlog).

use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::serve::Listener;
use axum::Router;
use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::sync::watch;

use super::error::ApiError;

/// Connections open at once past which each new one checks that descriptors do not crowd the
/// engine's open-file limit (a directory read, while the limit can still be raised).
const CONNECTIONS_BEFORE_RELIEF: usize = 16;

/// How long a client has to send a request's headers. Local clients send them at once.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a client has to send a request's whole body once its headers are in (counted from
/// then, however the body trickles in). Local clients send theirs at once; one that declares a
/// body and does not send it gets 408 `body_timeout` and its connection is closed.
pub const BODY_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// What one listener accepts.
#[derive(Debug, Clone, Copy)]
pub(super) struct Limits {
    /// The largest request body; 0 refuses any body at once, before authentication.
    pub body: usize,
    /// Connections served at once; more wait in the listener's backlog.
    pub connections: usize,
}

/// Serves `app` on `listener` until `stopped` turns true, then lets requests in flight finish
/// (the caller bounds how long it waits).
pub(super) async fn serve<L: Listener>(
    mut listener: L,
    app: Router,
    mut stopped: watch::Receiver<bool>,
    limits: Limits,
) {
    let app = app.layer(axum::middleware::from_fn(move |request, next| {
        whole_body_in_time(limits.body, request, next)
    }));
    let capacity = limits.connections.max(1);
    let open = std::sync::Arc::new(tokio::sync::Semaphore::new(capacity));
    let graceful = GracefulShutdown::new();
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
    loop {
        // A free place first, so connections over the limit are not even accepted (each one
        // accepted is a descriptor).
        let place = tokio::select! {
            place = open.clone().acquire_owned() => place,
            _ = stopped.wait_for(|&stop| stop) => break,
        };
        let Ok(place) = place else { break };
        if capacity.saturating_sub(open.available_permits()) > CONNECTIONS_BEFORE_RELIEF {
            // Many clients at once: connections take descriptors that no start counts.
            crate::process::fds::relieve();
        }
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stopped.wait_for(|&stop| stop) => break,
        };
        let service = TowerToHyperService::new(app.clone());
        let connection = graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            // A client that hangs up or times out is its own business, not an engine error.
            let _ = connection.await;
            drop(place);
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

/// Reads every request's body before the route sees it: a declared `Content-Length` over
/// [`BODY_LIMIT`](super::BODY_LIMIT) is refused at once (413 `too_large`), a body that grows
/// past it while being read likewise, and one that does not arrive within
/// [`BODY_READ_TIMEOUT`] gets 408 `body_timeout`. Either way the connection is closed. Every
/// extractor that reads a body (JSON, text, bytes) then reads it from memory.
async fn whole_body_in_time(limit: usize, request: Request, next: Next) -> Response {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return closing(ApiError::too_large());
    }
    // Where no body is accepted, one announced by chunks is refused without waiting for it.
    if limit == 0 && request.headers().contains_key(header::TRANSFER_ENCODING) {
        return closing(ApiError::too_large());
    }
    let (parts, body) = request.into_parts();
    let body = match tokio::time::timeout(BODY_READ_TIMEOUT, read_whole(body, limit)).await {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(error)) => return closing(error),
        Err(_) => {
            return closing(ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "body_timeout",
                format!(
                    "the request body did not arrive within {} s",
                    BODY_READ_TIMEOUT.as_secs()
                ),
            ))
        }
    };
    next.run(Request::from_parts(parts, Body::from(body))).await
}

async fn read_whole(mut body: Body, limit: usize) -> Result<Bytes, ApiError> {
    let mut whole = BytesMut::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|err| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad_request",
                format!("the request body could not be read: {err}"),
            )
        })?;
        if let Ok(data) = frame.into_data() {
            if whole.len() + data.len() > limit {
                return Err(ApiError::too_large());
            }
            whole.extend_from_slice(&data);
        }
    }
    Ok(whole.freeze())
}

/// The error, with `Connection: close`: what is left of the body is never read.
fn closing(error: ApiError) -> Response {
    let mut response = error.into_response();
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}
