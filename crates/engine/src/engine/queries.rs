//! What the engine answers without changing anything: statuses, details, logs, runs, ports.

use sentinel_proto::api::JobDetail;
use sentinel_proto::monitor::ResourceHistory;
use sentinel_proto::secret::Secrets;
use sentinel_proto::stack::{EnvVar, JobPorts};
use sentinel_proto::ValidationErrors;
use sentinel_proto::{
    EventEnvelope, FieldError, JobSpec, JobStatus, LogLine, LogStream, RunRecord,
};
use tokio::sync::broadcast;

use super::{running_pid, EngineHandle};
use crate::error::{EngineError, Result};
use crate::job::JobHandle;

impl EngineHandle {
    /// Every job's status, by name.
    pub fn list(&self) -> Vec<JobStatus> {
        self.read_jobs()
            .values()
            .map(|job| self.current_status(&job.handle))
            .collect()
    }

    /// The actor's status with the newest resource sample.
    fn current_status(&self, handle: &JobHandle) -> JobStatus {
        let mut status = handle.status();
        status.resources = match status.state {
            sentinel_proto::JobState::Running { .. } => {
                self.inner.context.resources.latest(&status.name)
            }
            _ => None,
        };
        status
    }

    /// A job's recent resource samples, oldest first. Someone looks at them: every job is
    /// sampled at the full rate for the next minute.
    pub fn resource_history(&self, name: &str) -> Result<ResourceHistory> {
        let history = self.recent_resources(name)?;
        self.inner.context.resources.watchers.looked();
        Ok(history)
    }

    /// A job's recent resource samples, without counting as a look: for a window that holds a
    /// guard ([`EngineHandle::watch_resources`]) while it shows, and may load hidden.
    pub fn recent_resources(&self, name: &str) -> Result<ResourceHistory> {
        self.handle(name)?;
        Ok(self.inner.context.resources.history(name))
    }

    /// Every job sampled at the full rate while the guard lives: for a window or a client
    /// that shows live figures.
    pub fn watch_resources(&self) -> crate::monitor::Watching {
        self.inner.context.resources.watchers.hold()
    }

    /// Whether anyone watches the figures now (a guard, or a look in the last minute).
    pub fn resources_watched(&self) -> bool {
        self.inner.context.resources.watchers.is_watched()
    }

    /// Every metric in the Prometheus text format. A scrape is a look at the figures: the full
    /// sampling rate for the next minute, so a scraper every 15 s sees fresh ones.
    pub fn render_metrics(&self) -> String {
        let context = &self.inner.context;
        context.resources.watchers.looked();
        context.metrics.render(self.list(), context.store.backlog())
    }

    pub fn get(&self, name: &str) -> Result<JobDetail> {
        self.read_jobs()
            .get(name)
            .map(|job| JobDetail {
                spec: JobSpec::clone(&job.spec),
                status: self.current_status(&job.handle),
                log_file: job.handle.logs.active_path().display().to_string(),
            })
            .ok_or_else(|| EngineError::NotFound(name.to_string()))
    }

    /// A job's declared ports and who listens on them.
    pub fn ports(&self, name: &str) -> Result<JobPorts> {
        let (spec, status) = self.spec_and_status(name)?;
        Ok(JobPorts {
            ports: crate::ports::blocking(|| {
                crate::ports::inspect(name, &spec.ports, running_pid(&status))
            }),
            job: spec.name,
        })
    }

    /// The declared ports of every job that has some.
    pub fn all_ports(&self) -> Vec<JobPorts> {
        let names: Vec<String> = self
            .read_jobs()
            .values()
            .filter(|job| !job.spec.ports.is_empty())
            .map(|job| job.spec.name.clone())
            .collect();
        names
            .iter()
            .filter_map(|name| self.ports(name).ok())
            .collect()
    }

    /// Stops the processes left over from earlier runs of the job that hold its ports; other
    /// holders are reported and left alone. A start waiting for the ports goes ahead.
    /// The variables the job's next run gets from its env files and `env`, with their
    /// sources.
    pub fn job_env(&self, name: &str, secrets: Secrets) -> Result<Vec<EnvVar>> {
        let (spec, _) = self.spec_and_status(name)?;
        let cwd = match &spec.cwd {
            Some(cwd) => cwd.clone(),
            None => std::env::current_dir().map_err(|source| EngineError::Io {
                context: "cannot read the engine's directory".into(),
                source,
            })?,
        };
        let vars = crate::process::env::resolve(&spec, &cwd).map_err(|message| {
            EngineError::Invalid(ValidationErrors(vec![FieldError {
                field: "env_files".into(),
                message,
            }]))
        })?;
        Ok(sentinel_proto::secret::mask_env(&spec, vars, secrets))
    }

    pub(super) fn spec_and_status(&self, name: &str) -> Result<(JobSpec, JobStatus)> {
        self.read_jobs()
            .get(name)
            .map(|job| (JobSpec::clone(&job.spec), job.handle.status()))
            .ok_or_else(|| EngineError::NotFound(name.to_string()))
    }

    /// The newest runs of a job first.
    pub async fn runs(&self, name: &str, limit: u32) -> Result<Vec<RunRecord>> {
        self.handle(name)?;
        self.inner.context.store.runs(name, limit).await
    }

    /// The last `lines` captured lines of a job.
    pub fn log_tail(
        &self,
        name: &str,
        lines: usize,
        stream: Option<LogStream>,
    ) -> Result<Vec<LogLine>> {
        Ok(self.handle(name)?.logs.tail(lines, stream))
    }

    /// The last `lines` lines, then every new line as it is captured.
    pub fn follow_logs(
        &self,
        name: &str,
        lines: usize,
        stream: Option<LogStream>,
    ) -> Result<(Vec<LogLine>, broadcast::Receiver<LogLine>)> {
        Ok(self.handle(name)?.logs.follow(lines, stream))
    }

    /// A job's log files, oldest first.
    pub fn log_files(&self, name: &str) -> Result<Vec<std::path::PathBuf>> {
        Ok(self.handle(name)?.logs.files())
    }

    /// The newest recorded events, oldest first.
    pub async fn recent_events(&self, limit: u32) -> Result<Vec<EventEnvelope>> {
        self.inner.context.store.recent_events(limit).await
    }
}
