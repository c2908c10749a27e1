//! Dev-stack routes: who holds a job's ports (and freeing them of its orphans), and where a
//! job's environment comes from.

use axum::extract::State;
use axum::Json;
use sentinel_proto::api::ErrorBody;
use sentinel_proto::stack::{EnvVar, FreedPorts, JobPorts};

use super::error::{ApiError, PathParam, QueryParams};
use super::jobs::SecretsQuery;
use super::ApiState;

/// Every job that declares ports, with who listens on each.
#[utoipa::path(get, path = "/api/ports", tag = "ports",
    responses((status = 200, body = Vec<JobPorts>)))]
pub async fn all_ports(State(api): State<ApiState>) -> Result<Json<Vec<JobPorts>>, ApiError> {
    let engine = api.engine.clone();
    // Finding a port's process reads /proc (or runs lsof): not on the async workers.
    let ports = tokio::task::spawn_blocking(move || engine.all_ports())
        .await
        .unwrap_or_default();
    Ok(Json(ports))
}

/// A job's declared ports, with who listens on each: its own run, its orphans, others.
#[utoipa::path(get, path = "/api/jobs/{name}/ports", tag = "ports",
    params(("name" = String, Path)),
    responses((status = 200, body = JobPorts), (status = 404, body = ErrorBody)))]
pub async fn job_ports(
    State(api): State<ApiState>,
    PathParam(name): PathParam<String>,
) -> Result<Json<JobPorts>, ApiError> {
    let engine = api.engine.clone();
    let ports = tokio::task::spawn_blocking(move || engine.ports(&name))
        .await
        .map_err(|_| crate::error::EngineError::ShuttingDown)??;
    Ok(Json(ports))
}

/// Stops the leftovers of earlier runs of the job that hold its ports (their whole process
/// groups); other holders are listed and left alone.
#[utoipa::path(post, path = "/api/jobs/{name}/ports/free", tag = "ports",
    params(("name" = String, Path)),
    responses((status = 200, body = FreedPorts), (status = 404, body = ErrorBody)))]
pub async fn free_ports(
    State(api): State<ApiState>,
    PathParam(name): PathParam<String>,
) -> Result<Json<FreedPorts>, ApiError> {
    Ok(Json(api.engine.free_ports(&name).await?))
}

/// The variables the job's next run gets from its env files and `env`, each with its source
/// (and the sources it overrides).
#[utoipa::path(get, path = "/api/jobs/{name}/env", tag = "jobs",
    params(("name" = String, Path), SecretsQuery),
    responses((status = 200, body = Vec<EnvVar>), (status = 404, body = ErrorBody),
        (status = 422, description = "An env file cannot be read", body = ErrorBody)))]
pub async fn job_env(
    State(api): State<ApiState>,
    PathParam(name): PathParam<String>,
    QueryParams(query): QueryParams<SecretsQuery>,
) -> Result<Json<Vec<EnvVar>>, ApiError> {
    Ok(Json(api.engine.job_env(&name, query.secrets())?))
}
