//! Project routes: `sentinel up` sends a project's definition; the app and agents list them.

use axum::extract::State;
use axum::Json;
use sentinel_proto::api::ErrorBody;
use sentinel_proto::project::{ProjectSpec, ProjectSummary, ProjectUp};

use super::error::{ApiError, JsonBody};
use super::ApiState;

/// Every project the engine has jobs of, with its file and its jobs.
#[utoipa::path(get, path = "/api/projects", tag = "projects",
    responses((status = 200, body = Vec<ProjectSummary>)))]
pub async fn list_projects(State(api): State<ApiState>) -> Json<Vec<ProjectSummary>> {
    Json(api.engine.projects())
}

/// Makes a project's jobs what the body says (adding, updating, removing the ones it dropped;
/// all or nothing) and starts them in dependency order. Answers once each is started or
/// waiting for its dependencies; follow the events to see them become ready.
#[utoipa::path(post, path = "/api/projects/up", tag = "projects", request_body = ProjectSpec,
    responses(
        (status = 200, body = ProjectUp),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 422, description = "Invalid project", body = ErrorBody)))]
pub async fn project_up(
    State(api): State<ApiState>,
    JsonBody(project): JsonBody<ProjectSpec>,
) -> Result<Json<ProjectUp>, ApiError> {
    Ok(Json(api.engine.up(project).await?))
}
