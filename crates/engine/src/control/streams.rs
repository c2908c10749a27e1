//! Streaming routes: logs and events as newline-delimited JSON, one object per line.

use std::convert::Infallible;

use axum::body::Body;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use bytes::Bytes;
use futures_util::stream::{self, Stream, StreamExt};
use sentinel_proto::api::{ErrorBody, Missed};
use sentinel_proto::{EventEnvelope, LogLine, LogStream};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast::error::RecvError;
use utoipa::IntoParams;

use super::error::{ApiError, PathParam, QueryParams};
use super::ApiState;
use crate::events::Received;

fn line<T: Serialize>(item: &T) -> Bytes {
    let mut bytes = serde_json::to_vec(item).expect("API types always serialise");
    bytes.push(b'\n');
    Bytes::from(bytes)
}

/// A never-ending NDJSON response, cut when the server shuts down.
fn ndjson(api: &ApiState, lines: impl Stream<Item = Bytes> + Send + 'static) -> Response {
    let mut shutdown = api.shutdown.clone();
    let until_shutdown = async move {
        let _ = shutdown.wait_for(|&stopping| stopping).await;
    };
    let body = Body::from_stream(lines.take_until(until_shutdown).map(Ok::<_, Infallible>));
    ([(header::CONTENT_TYPE, "application/x-ndjson")], body).into_response()
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LogsQuery {
    /// How many of the last lines (default 100).
    pub tail: Option<usize>,
    /// Keep the response open and send new lines as they are written (NDJSON).
    #[serde(default)]
    pub follow: bool,
    /// Only this stream.
    pub stream: Option<LogStream>,
}

/// A job's last lines as a JSON array; with `follow=true`, a never-ending NDJSON stream of the
/// last lines and then every new one (a `{"type":"missed","count":N}` line where a slow reader
/// missed some).
#[utoipa::path(get, path = "/api/jobs/{name}/logs", tag = "logs", params(("name" = String, Path), LogsQuery),
    responses((status = 200, body = Vec<LogLine>), (status = 404, body = ErrorBody)))]
pub async fn job_logs(
    State(api): State<ApiState>,
    PathParam(name): PathParam<String>,
    QueryParams(query): QueryParams<LogsQuery>,
) -> Result<Response, ApiError> {
    let tail = query.tail.unwrap_or(100);
    let wanted = move |line: &LogLine| query.stream.is_none_or(|s| s == line.stream);
    if !query.follow {
        let lines = api.engine.log_tail(&name, tail, query.stream)?;
        return Ok(Json(lines).into_response());
    }
    let (recent, receiver) = api.engine.follow_logs(&name, tail, query.stream)?;
    let recent = stream::iter(recent.iter().map(line).collect::<Vec<_>>());
    let live = stream::unfold(receiver, move |mut receiver| async move {
        loop {
            match receiver.recv().await {
                Ok(log) if wanted(&log) => return Some((line(&log), receiver)),
                Ok(_) => continue,
                Err(RecvError::Lagged(n)) => return Some((line(&Missed::new(n)), receiver)),
                Err(RecvError::Closed) => return None,
            }
        }
    });
    Ok(ndjson(&api, recent.chain(live)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// Keep the response open and send every new event as it happens (NDJSON).
    #[serde(default)]
    pub follow: bool,
    /// How many recent events to return without `follow` (default 100, at most 10000).
    pub limit: Option<u32>,
    /// With `follow`: the reader shows live resource figures, so every job is sampled every
    /// `sample_interval` while the stream is open (otherwise, with nobody watching, each job
    /// is sampled every `unwatched_interval`).
    #[serde(default)]
    pub resources: bool,
}

/// The most recent events as a JSON array; with `follow=true`, every new event as it happens,
/// as a never-ending NDJSON stream (with `{"type":"missed","count":N}` where a slow reader
/// missed some).
#[utoipa::path(get, path = "/api/events", tag = "events", params(EventsQuery),
    responses((status = 200, description = "Recent events, or NDJSON with follow", body = Vec<EventEnvelope>)))]
pub async fn events(
    State(api): State<ApiState>,
    QueryParams(query): QueryParams<EventsQuery>,
) -> Result<Response, ApiError> {
    if !query.follow {
        let limit = query.limit.unwrap_or(100).clamp(1, 10_000);
        return Ok(Json(api.engine.recent_events(limit).await?).into_response());
    }
    let subscription = api.engine.subscribe();
    // Held by the stream: dropped when the reader hangs up.
    let watching = query.resources.then(|| api.engine.watch_resources());
    let events = stream::unfold(
        (subscription, watching),
        |(mut subscription, watching)| async move {
            let item = match subscription.recv().await? {
                Received::Event(envelope) => line(&envelope),
                Received::Missed(n) => line(&Missed::new(n)),
            };
            Some((item, (subscription, watching)))
        },
    );
    Ok(ndjson(&api, events))
}
