//! The project tools: a directory's `sentinel.toml` brought up as a whole, the projects the
//! engine knows, and a project's jobs stopped. `up` is the engine's, as for `sentinel up`;
//! `down` is the engine's stop on `Selection::Project`.

use rmcp::model::CallToolResult;
use rmcp::{tool, tool_router};
use sentinel_proto::api::ErrorBody;
use sentinel_proto::Action;

use super::input::{Parameters, ProjectName};
use super::reply::{acted, engine_error, finish, json, Reply};
use super::Sentinel;

#[tool_router(router = project_router, vis = "pub(super)")]
impl Sentinel {
    #[tool(
        description = "List the projects the engine runs (each a directory's sentinel.toml brought up with project_up): name, file, and its jobs' names. list_jobs with project shows their states.",
        annotations(read_only_hint = true)
    )]
    async fn list_projects(&self) -> CallToolResult {
        finish(self.projects().await)
    }

    #[tool(
        description = "Stop every job of a project, dependants before what they depend on; the jobs stay defined, and project_up starts them again.",
        annotations(
            read_only_hint = false,
            destructive_hint = true,
            idempotent_hint = true
        )
    )]
    async fn project_down(&self, input: Parameters<ProjectName>) -> CallToolResult {
        finish(self.down(input.0).await)
    }
}

impl Sentinel {
    async fn projects(&self) -> Reply {
        json(&self.client.projects().await.map_err(engine_error)?)
    }

    async fn down(&self, input: Result<ProjectName, ErrorBody>) -> Reply {
        let selection = input?.selection()?;
        let results = self
            .client
            .act(Action::Stop, selection)
            .await
            .map_err(engine_error)?;
        acted(Action::Stop, &results)
    }
}
