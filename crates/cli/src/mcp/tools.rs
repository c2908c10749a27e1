//! The tools. Each checks its input as the API would, asks the engine through the typed
//! client, and answers in the engine's terms; nothing here decides anything the engine does
//! not (an action is the engine's `Action` on a `Selection`, as from every other adapter).
//!
//! Starting, stopping and restarting are three tools taking one name rather than one `act`
//! tool with an action and a selection: a tool whose name says what it does, with a single
//! required argument, is what agents choose and fill in correctly; a whole project is
//! `project_up`/`project_down`.

use rmcp::model::{CallToolResult, ContentBlock};
use rmcp::{tool, tool_router};
use sentinel_client::LogQuery;
use sentinel_proto::api::ErrorBody;
use sentinel_proto::secret::Secrets;
use sentinel_proto::Action;
use serde::Serialize;

use super::input::{JobLogs, JobName, ListJobs, Parameters, RecentRuns};
use super::reply::{engine_error, finish, json, log_text, JobSummary, Reply};
use super::Sentinel;

#[tool_router(router = tool_router, vis = "pub(super)")]
impl Sentinel {
    #[tool(
        description = "List the jobs (processes) the local SentinelZero engine supervises: each one's name, state (running, stopped, failed, …), glance (fine, busy, failing), project, group, pid while running, health, and why it failed or waits. Optionally only one group's or one project's jobs.",
        annotations(read_only_hint = true)
    )]
    async fn list_jobs(&self, input: Parameters<ListJobs>) -> CallToolResult {
        finish(self.list(input.0).await)
    }

    #[tool(
        description = "One job's full status (state, pid, restarts, last exit, health, resources) and its definition (command, working directory, restart policy, schedule, dependencies; secret values masked).",
        annotations(read_only_hint = true)
    )]
    async fn job_status(&self, input: Parameters<JobName>) -> CallToolResult {
        finish(self.status(input.0).await)
    }

    #[tool(
        description = "The last lines a job printed, oldest first, each with its time and stream (stdout or stderr). lines: 1 to 1000, default 100; stream: only stdout or only stderr.",
        annotations(read_only_hint = true)
    )]
    async fn job_logs(&self, input: Parameters<JobLogs>) -> CallToolResult {
        finish(self.logs(input.0).await)
    }

    #[tool(
        description = "Start a job (a task runs once now). Jobs it depends on start first; answers with its status once started, or why it cannot start.",
        annotations(
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = true
        )
    )]
    async fn start_job(&self, input: Parameters<JobName>) -> CallToolResult {
        finish(self.act(Action::Start, input.0).await)
    }

    #[tool(
        description = "Stop a job and every process it started; answers once nothing of it is left running.",
        annotations(
            read_only_hint = false,
            destructive_hint = true,
            idempotent_hint = true
        )
    )]
    async fn stop_job(&self, input: Parameters<JobName>) -> CallToolResult {
        finish(self.act(Action::Stop, input.0).await)
    }

    #[tool(
        description = "Restart a job (stop it if running, then start it; jobs that depend on it stop first and start after), e.g. after changing its code. Answers with its new status and pid.",
        annotations(
            read_only_hint = false,
            destructive_hint = true,
            idempotent_hint = false
        )
    )]
    async fn restart_job(&self, input: Parameters<JobName>) -> CallToolResult {
        finish(self.act(Action::Restart, input.0).await)
    }

    #[tool(
        description = "A job's most recent runs, newest first: when each started and ended, what started it (trigger: manual, autostart, retry, restart, schedule, file_change, …), its outcome, exit code or signal, and the reason it ended. limit: 1 to 100, default 10.",
        annotations(read_only_hint = true)
    )]
    async fn recent_runs(&self, input: Parameters<RecentRuns>) -> CallToolResult {
        finish(self.runs(input.0).await)
    }
}

/// `job_status`'s answer: the engine's status and definition as the API gives them, with
/// the glance beside them.
#[derive(Serialize)]
struct Status<'a> {
    glance: sentinel_proto::status::Glance,
    status: &'a sentinel_proto::JobStatus,
    definition: &'a sentinel_proto::JobSpec,
    log_file: &'a str,
}

impl Sentinel {
    async fn list(&self, input: Result<ListJobs, ErrorBody>) -> Reply {
        let input = input?;
        input.check()?;
        let jobs = self.client.jobs().await.map_err(engine_error)?;
        let summaries: Vec<JobSummary> = jobs
            .iter()
            .filter(|job| input.group.is_none() || job.group == input.group)
            .filter(|job| {
                input.project.is_none()
                    || job.project.as_ref().map(|p| &p.name) == input.project.as_ref()
            })
            .map(JobSummary::new)
            .collect();
        json(&summaries)
    }

    async fn status(&self, input: Result<JobName, ErrorBody>) -> Reply {
        let input = input?;
        super::input::job_name(&input.name)?;
        let detail = self
            .client
            .job(&input.name, Secrets::Masked)
            .await
            .map_err(engine_error)?;
        json(&Status {
            glance: detail.status.glance(),
            status: &detail.status,
            definition: &detail.spec,
            log_file: &detail.log_file,
        })
    }

    async fn logs(&self, input: Result<JobLogs, ErrorBody>) -> Reply {
        let input = input?;
        let tail = input.check()?;
        let query = LogQuery {
            tail: Some(tail),
            stream: input.stream.map(Into::into),
        };
        let lines = self
            .client
            .logs(&input.name, query)
            .await
            .map_err(engine_error)?;
        Ok(CallToolResult::success(vec![ContentBlock::text(log_text(
            &lines,
        ))]))
    }

    /// One action on one job, through the engine's one vocabulary; the job's own error (not
    /// found, disabled, …) is the tool's error.
    async fn act(&self, action: Action, input: Result<JobName, ErrorBody>) -> Reply {
        let selection = input?.selection()?;
        let results = self
            .client
            .act(action, selection)
            .await
            .map_err(engine_error)?;
        match results
            .first()
            .map(|result| (result.status(), result.error()))
        {
            Some((Some(status), _)) => json(&JobSummary::new(status)),
            Some((_, Some(error))) => Err(error.clone()),
            _ => Err(ErrorBody {
                code: "engine_error".into(),
                message: format!("the engine answered the {action} with no result"),
                field: None,
                errors: Vec::new(),
            }),
        }
    }

    async fn runs(&self, input: Result<RecentRuns, ErrorBody>) -> Reply {
        let input = input?;
        let limit = input.check()?;
        let runs = self
            .client
            .runs(&input.name, Some(limit))
            .await
            .map_err(engine_error)?;
        json(&runs)
    }
}
