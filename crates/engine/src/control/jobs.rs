//! Job routes: definitions, actions, bulk actions and run history.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use sentinel_proto::action::{Action, ActionRequest, ActionResult};
use sentinel_proto::api::{ErrorBody, JobDetail};
use sentinel_proto::secret::Secrets;
use sentinel_proto::{JobSpec, JobStatus, RunRecord, ValidationErrors};
use serde::Deserialize;
use utoipa::IntoParams;

use super::error::{ApiError, JsonBody, PathParam, QueryParams};
use super::ApiState;
use crate::error::{action_results, EngineError};

type ApiResult<T> = Result<T, ApiError>;

/// Every job with its status, by name.
#[utoipa::path(get, path = "/api/jobs", tag = "jobs",
    responses((status = 200, description = "Every job", body = Vec<JobStatus>)))]
pub async fn list_jobs(State(api): State<ApiState>) -> Json<Vec<JobStatus>> {
    Json(api.engine.list())
}

/// Adds a job; an enabled autostart service starts right away.
#[utoipa::path(post, path = "/api/jobs", tag = "jobs", request_body = JobSpec,
    responses(
        (status = 201, description = "Added", body = JobStatus),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 409, description = "The name is taken", body = ErrorBody),
        (status = 422, description = "Invalid job", body = ErrorBody)))]
pub async fn create_job(
    State(api): State<ApiState>,
    JsonBody(spec): JsonBody<JobSpec>,
) -> ApiResult<(StatusCode, Json<JobStatus>)> {
    Ok((StatusCode::CREATED, Json(api.engine.add(spec).await?)))
}

/// Whether a response shows the values of secret variables.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SecretsQuery {
    /// Show the values of the variables listed in `secrets` instead of masking them.
    #[serde(default)]
    pub show_secrets: bool,
}

impl SecretsQuery {
    pub fn secrets(&self) -> Secrets {
        Secrets::shown(self.show_secrets)
    }
}

/// A job's definition and status; secret values are masked unless `show_secrets`.
#[utoipa::path(get, path = "/api/jobs/{name}", tag = "jobs", params(("name" = String, Path), SecretsQuery),
    responses((status = 200, body = JobDetail), (status = 404, body = ErrorBody)))]
pub async fn get_job(
    State(api): State<ApiState>,
    PathParam(name): PathParam<String>,
    QueryParams(query): QueryParams<SecretsQuery>,
) -> ApiResult<Json<JobDetail>> {
    Ok(Json(api.engine.get(&name)?.with_secrets(query.secrets())))
}

/// Replaces a job's definition; a running job restarts only when the change needs it.
#[utoipa::path(put, path = "/api/jobs/{name}", tag = "jobs", params(("name" = String, Path)), request_body = JobSpec,
    responses(
        (status = 200, body = JobStatus),
        (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn update_job(
    State(api): State<ApiState>,
    PathParam(name): PathParam<String>,
    JsonBody(spec): JsonBody<JobSpec>,
) -> ApiResult<Json<JobStatus>> {
    if let Some(problem) = spec.rename_problem(&name) {
        return Err(EngineError::Invalid(ValidationErrors(vec![problem])).into());
    }
    Ok(Json(api.engine.update(spec).await?))
}

/// Stops a job and removes it with its run history.
#[utoipa::path(delete, path = "/api/jobs/{name}", tag = "jobs", params(("name" = String, Path)),
    responses((status = 204, description = "Removed"), (status = 404, body = ErrorBody)))]
pub async fn delete_job(
    State(api): State<ApiState>,
    PathParam(name): PathParam<String>,
) -> ApiResult<StatusCode> {
    api.engine.remove(&name).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Acts on one job (`start`, `stop`, `restart`, `enable`, `disable`; `run` is start) and
/// answers with its status once done: started, or nothing of its process group left.
#[utoipa::path(post, path = "/api/jobs/{name}/{action}", tag = "actions",
    params(("name" = String, Path), ("action" = Action, Path)),
    responses((status = 200, body = JobStatus), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn act_on_job(
    State(api): State<ApiState>,
    PathParam((name, action)): PathParam<(String, Action)>,
) -> ApiResult<Json<JobStatus>> {
    Ok(Json(api.engine.act_on(action, &name).await?))
}

/// Acts on several jobs at once: a list of names, a group, or all; one result per job.
#[utoipa::path(post, path = "/api/actions", tag = "actions", request_body = ActionRequest,
    responses((status = 200, description = "One result per job", body = Vec<ActionResult>),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn act(
    State(api): State<ApiState>,
    JsonBody(request): JsonBody<ActionRequest>,
) -> ApiResult<Json<Vec<ActionResult>>> {
    let results = api.engine.act(request.action, &request.selection).await?;
    Ok(Json(action_results(results)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RunsQuery {
    /// How many runs, newest first (default 50, at most 1000).
    pub limit: Option<u32>,
}

/// A job's run history, newest first.
#[utoipa::path(get, path = "/api/jobs/{name}/runs", tag = "jobs", params(("name" = String, Path), RunsQuery),
    responses((status = 200, body = Vec<RunRecord>), (status = 404, body = ErrorBody)))]
pub async fn job_runs(
    State(api): State<ApiState>,
    PathParam(name): PathParam<String>,
    QueryParams(query): QueryParams<RunsQuery>,
) -> ApiResult<Json<Vec<RunRecord>>> {
    let limit = query.limit.unwrap_or(50).clamp(1, 1000);
    Ok(Json(api.engine.runs(&name, limit).await?))
}
