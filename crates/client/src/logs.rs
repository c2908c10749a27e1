//! Logs and events: the recent ones, or followed as they come.

use sentinel_proto::{EventEnvelope, LogLine, LogStream};

use crate::path::Route;
use crate::{Client, Follow, Result};

/// Which of a job's lines.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LogQuery {
    /// How many of the last lines (`None`: the engine's default, 100).
    pub tail: Option<usize>,
    /// Only this stream.
    pub stream: Option<LogStream>,
}

impl LogQuery {
    fn route(&self, name: &str) -> Route {
        Route::new("/api/jobs")
            .segment(name)
            .segment("logs")
            .query_some("tail", self.tail)
            .query_some("stream", self.stream.map(LogStream::as_str))
    }
}

impl Client {
    /// `GET /api/jobs/{name}/logs`: its last lines.
    pub async fn logs(&self, name: &str, query: LogQuery) -> Result<Vec<LogLine>> {
        self.get(query.route(name)).await
    }

    /// `GET /api/jobs/{name}/logs?follow=true`: its last lines, then every new one.
    pub async fn follow_logs(&self, name: &str, query: LogQuery) -> Result<Follow<LogLine>> {
        self.follow(query.route(name).flag("follow", true)).await
    }

    /// `GET /api/events`: the newest recorded events, oldest first (`None`: the engine's
    /// default, 100).
    pub async fn events(&self, limit: Option<u32>) -> Result<Vec<EventEnvelope>> {
        self.get(Route::new("/api/events").query_some("limit", limit))
            .await
    }

    /// `GET /api/events?follow=true`: every event from now on.
    pub async fn follow_events(&self) -> Result<Follow<EventEnvelope>> {
        self.follow(Route::new("/api/events").flag("follow", true))
            .await
    }

    /// `GET /api/events?follow=true&resources=true`: every event from now on, with every job
    /// sampled at the full rate while the stream is open (for a live view such as `top`).
    pub async fn follow_events_watching(&self) -> Result<Follow<EventEnvelope>> {
        let route = Route::new("/api/events")
            .flag("follow", true)
            .flag("resources", true);
        self.follow(route).await
    }
}
