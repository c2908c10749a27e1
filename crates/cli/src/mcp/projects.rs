//! The project tools: a directory's `sentinel.toml` brought up as a whole, the projects the
//! engine knows, and a project's jobs stopped. `up` is the engine's, as for `sentinel up`;
//! `down` is the engine's stop on `Selection::Project`.

use rmcp::model::CallToolResult;
use rmcp::{tool, tool_router};
use sentinel_proto::api::ErrorBody;
use sentinel_proto::config::ImportPlan;
use sentinel_proto::{Action, ActionResult};

use serde::Serialize;

use super::input::{Parameters, ProjectDir, ProjectName};
use super::reply::{acted, engine_error, file_error, finish, json, JobSummary, Reply};
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
        description = "Bring a project up: read the sentinel.toml in the directory (or its nearest parent that has one; a process-compose.yaml also works), create or update the project's jobs to match it (removing those the file no longer has), and start them in dependency order. Running jobs whose definition did not change are left alone, so calling it again is safe. Answers once each job is started or waiting for its dependencies; list_jobs with project shows them become ready.",
        annotations(
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = true
        )
    )]
    async fn project_up(&self, input: Parameters<ProjectDir>) -> CallToolResult {
        finish(self.up(input.0).await)
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

/// `project_up`'s answer.
#[derive(Serialize)]
struct Up<'a> {
    project: &'a str,
    file: &'a std::path::Path,
    /// The jobs the file added, changed, removed and left as they were.
    plan: &'a ImportPlan,
    /// Each started job's state.
    jobs: Vec<JobSummary<'a>>,
    /// What a converted file (process-compose) could not carry over.
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    not_carried_over: &'a [String],
}

impl Sentinel {
    async fn up(&self, input: Result<ProjectDir, ErrorBody>) -> Reply {
        let dir = input?.check()?;
        let file = crate::project::find(Some(&dir)).map_err(file_error)?;
        let (project, notes) = crate::project::load(&file).map_err(file_error)?;
        let answer = self
            .client
            .project_up(&project)
            .await
            .map_err(engine_error)?;
        // A job that could not start fails the call, though the definitions were applied.
        if answer.started.iter().any(|result| result.error().is_some()) {
            return acted(Action::Start, &answer.started);
        }
        json(&Up {
            project: &project.name,
            file: file.path(),
            plan: &answer.plan,
            jobs: answer
                .started
                .iter()
                .filter_map(ActionResult::status)
                .map(JobSummary::new)
                .collect(),
            not_carried_over: &notes,
        })
    }

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
