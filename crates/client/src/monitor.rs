//! Monitoring and health: resource history, metrics, liveness and readiness.

use sentinel_proto::api::Health;
use sentinel_proto::monitor::ResourceHistory;

use crate::path::Route;
use crate::{Client, Result};

impl Client {
    /// `GET /api/jobs/{name}/resources`: its recent samples, oldest first.
    pub async fn resources(&self, name: &str) -> Result<ResourceHistory> {
        self.get(Route::new("/api/jobs").segment(name).segment("resources"))
            .await
    }

    /// `GET /api/metrics/prometheus`: every metric, in the OpenMetrics text format.
    pub async fn metrics(&self) -> Result<String> {
        self.get_text(Route::new("/api/metrics/prometheus")).await
    }

    /// `GET /api/health/live`: the engine answers.
    pub async fn live(&self) -> Result<Health> {
        self.get(Route::new("/api/health/live")).await
    }

    /// `GET /api/health/ready`: the engine is up and not shutting down (else a
    /// `shutting_down` error).
    pub async fn ready(&self) -> Result<Health> {
        self.get(Route::new("/api/health/ready")).await
    }
}
