//! Schedule preview: next fire times and a description of an expression, without a job.

use axum::http::StatusCode;
use axum::Json;
use chrono::Utc;
use sentinel_proto::api::{ErrorBody, SchedulePreview};
use sentinel_proto::schedule;
use serde::Deserialize;
use utoipa::IntoParams;

use super::error::{ApiError, QueryParams};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PreviewQuery {
    /// A cron expression (5 fields, 6 with seconds, or @daily…).
    pub cron: Option<String>,
    /// An interval such as 15m.
    pub every: Option<String>,
    /// A one-time instant.
    pub at: Option<String>,
    /// How many fire times (default 5, at most 100).
    pub n: Option<usize>,
}

/// The next fire times of a schedule and what it means in words; nothing is created.
#[utoipa::path(get, path = "/api/schedule/preview", tag = "schedules", params(PreviewQuery),
    responses((status = 200, body = SchedulePreview), (status = 422, body = ErrorBody)))]
pub async fn preview(
    QueryParams(query): QueryParams<PreviewQuery>,
) -> Result<Json<SchedulePreview>, ApiError> {
    schedule::preview(
        query.cron,
        query.every.as_deref(),
        query.at,
        query.n,
        Utc::now(),
    )
    .map(Json)
    .map_err(|error| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            format!("{}: {}", error.field, error.message),
        )
        .with_field(error.field)
    })
}
