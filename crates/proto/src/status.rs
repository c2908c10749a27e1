//! What a job is doing now, and what its runs did.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::job::JobKind;
use crate::monitor::HealthState;
use crate::stack::{Condition, PortHolder};

/// The lifecycle state of a job. Each state carries exactly the data that makes sense in it,
/// so a `running` job always has a pid and a `backoff` job always has its next try.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "state", rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum JobState {
    /// Not running, and nothing will start it on its own.
    Stopped,
    /// A start is in progress.
    Starting,
    Running {
        pid: u32,
        since: DateTime<Utc>,
    },
    /// The stop signal was sent; waiting for the whole process group to exit.
    Stopping {
        pid: u32,
    },
    /// Waiting to restart after a failure.
    Backoff {
        next_try_at: DateTime<Utc>,
        attempt: u32,
    },
    /// Gave up (or a failure with restart = never); stays until started again.
    Failed {
        reason: String,
        since: DateTime<Utc>,
    },
    /// Finished cleanly and is not restarted.
    Exited {
        since: DateTime<Utc>,
    },
    /// Asked to start, but held back: a dependency is not ready, a declared port is taken or
    /// `max_running` jobs run already. Starts by itself once `reason` no longer holds.
    Waiting {
        // Boxed: statuses are copied often, and waiting ones are few.
        reason: Box<WaitReason>,
        /// `reason` in words, as `sentinel status` says it.
        message: String,
        since: DateTime<Utc>,
    },
}

impl JobState {
    /// Held back for `reason` since `since`; the message is the reason's words.
    pub fn waiting(reason: WaitReason, since: DateTime<Utc>) -> JobState {
        JobState::Waiting {
            message: reason.to_string(),
            reason: Box::new(reason),
            since,
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            JobState::Stopped => "stopped",
            JobState::Starting => "starting",
            JobState::Running { .. } => "running",
            JobState::Stopping { .. } => "stopping",
            JobState::Backoff { .. } => "backoff",
            JobState::Failed { .. } => "failed",
            JobState::Exited { .. } => "exited",
            JobState::Waiting { .. } => "waiting",
        }
    }

    /// The leader of the job's process group while it runs or is being stopped.
    pub fn pid(&self) -> Option<u32> {
        match self {
            JobState::Running { pid, .. } | JobState::Stopping { pid } => Some(*pid),
            _ => None,
        }
    }

    /// Whether a process of this job may be alive.
    pub fn is_active(&self) -> bool {
        matches!(
            self,
            JobState::Starting | JobState::Running { .. } | JobState::Stopping { .. }
        )
    }
}

/// A job at a glance: the one rule behind the menu-bar icon, the popover's order and colours,
/// and the CLI's colours.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum Glance {
    /// Failed, retrying after a failure (backoff), or failing its health check.
    Failing,
    /// On its way somewhere: starting, stopping, or held back by a dependency or a port.
    Busy,
    /// Running healthy, or at rest (stopped, exited).
    Fine,
}

impl Glance {
    /// What `state` and `health` look like at a glance.
    pub fn of(state: &JobState, health: Option<crate::monitor::HealthState>) -> Glance {
        match state {
            JobState::Failed { .. } | JobState::Backoff { .. } => Glance::Failing,
            _ if health == Some(crate::monitor::HealthState::Unhealthy) => Glance::Failing,
            JobState::Starting | JobState::Stopping { .. } | JobState::Waiting { .. } => {
                Glance::Busy
            }
            JobState::Running { .. } | JobState::Stopped | JobState::Exited { .. } => Glance::Fine,
        }
    }
}

/// Why a start is held back, as data; the waiting state's `message` says it in words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum WaitReason {
    /// A job it depends on does not meet its condition yet.
    Dependency {
        job: String,
        condition: Condition,
        /// What the dependency is doing now.
        now: DependencyState,
    },
    /// A port the job declared is in use by another process.
    Port {
        port: u16,
        /// Who listens on it; absent when the engine cannot see the process (another user's).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        holder: Option<PortHolder>,
    },
    /// `max_running` jobs run already; waiting jobs start in the order they asked.
    Slot { max_running: u32 },
}

impl fmt::Display for WaitReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WaitReason::Dependency {
                job,
                condition,
                now,
            } => {
                write!(f, "waiting for {job} to be {} (", condition.describe())?;
                match now {
                    DependencyState::Missing => write!(f, "there is no job named {job}"),
                    DependencyState::Running { health } if *condition == Condition::Healthy => {
                        match health {
                            None => write!(f, "{job} has no health check"),
                            Some(health) => {
                                write!(f, "{job} is running, health {}", health.as_str())
                            }
                        }
                    }
                    DependencyState::Failed { reason } => write!(f, "{job} failed: {reason}"),
                    DependencyState::Backoff => write!(f, "{job} is restarting after a failure"),
                    DependencyState::Waiting => write!(f, "{job} is waiting too"),
                    DependencyState::Exited => write!(f, "{job} has exited"),
                    other => write!(f, "{job} is {}", other.name()),
                }?;
                f.write_str(")")
            }
            WaitReason::Port { port, holder: None } => write!(
                f,
                "port {port} is in use by a process this user cannot see"
            ),
            WaitReason::Port {
                port,
                holder: Some(holder),
            } => {
                write!(
                    f,
                    "port {port} is in use by pid {} ({})",
                    holder.pid, holder.command
                )?;
                match (&holder.job, holder.orphan) {
                    // An orphan is the waiting job's own: its `job` is the waiting job.
                    (Some(job), true) => write!(
                        f,
                        ", left over from an earlier run of {job}; `sentinel ports {job} --free` stops it"
                    ),
                    (Some(other), false) => write!(f, " of job {other}"),
                    (None, _) => Ok(()),
                }
            }
            WaitReason::Slot { max_running } => write!(
                f,
                "waiting for a free slot (max_running = {max_running}); waiting jobs start in the order they asked"
            ),
        }
    }
}

/// What a dependency is doing while a job waits for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "state", rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum DependencyState {
    /// There is no job of that name.
    Missing,
    Stopped,
    Starting,
    Running {
        /// What its health check says; absent when it has none.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        health: Option<HealthState>,
    },
    Stopping,
    Backoff,
    Failed {
        reason: String,
    },
    Exited,
    Waiting,
}

impl DependencyState {
    /// What the dependency's status says of it.
    pub fn of(status: &JobStatus) -> DependencyState {
        match &status.state {
            JobState::Stopped => DependencyState::Stopped,
            JobState::Starting => DependencyState::Starting,
            JobState::Running { .. } => DependencyState::Running {
                health: status.health,
            },
            JobState::Stopping { .. } => DependencyState::Stopping,
            JobState::Backoff { .. } => DependencyState::Backoff,
            JobState::Failed { reason, .. } => DependencyState::Failed {
                reason: reason.clone(),
            },
            JobState::Exited { .. } => DependencyState::Exited,
            JobState::Waiting { .. } => DependencyState::Waiting,
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            DependencyState::Missing => "missing",
            DependencyState::Stopped => "stopped",
            DependencyState::Starting => "starting",
            DependencyState::Running { .. } => "running",
            DependencyState::Stopping => "stopping",
            DependencyState::Backoff => "backoff",
            DependencyState::Failed { .. } => "failed",
            DependencyState::Exited => "exited",
            DependencyState::Waiting => "waiting",
        }
    }
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ExitInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signal: Option<i32>,
    pub at: DateTime<Utc>,
    pub duration_ms: u64,
}

impl ExitInfo {
    /// "exit code 1" or "killed by signal 9".
    pub fn describe(&self) -> String {
        match (self.code, self.signal) {
            (Some(code), _) => format!("exit code {code}"),
            (None, Some(signal)) => format!("killed by signal {signal}"),
            (None, None) => "unknown exit".into(),
        }
    }
}

/// A snapshot of one job, as lists and the UI show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct JobStatus {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// The project (`sentinel up`) it belongs to, and the project's file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional = nullable))]
    pub project: Option<crate::project::ProjectRef>,
    pub kind: JobKind,
    pub enabled: bool,
    #[serde(flatten)]
    pub state: JobState,
    /// Restarts made by the restart policy since the job was last started by hand.
    pub restarts: u32,
    /// Consecutive failed runs counted towards `max_retries`.
    pub failures: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_exit: Option<ExitInfo>,
    /// When the schedule (or restart_schedule) fires next.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_run_at: Option<DateTime<Utc>>,
    /// What the health check says; absent when the job has none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health: Option<HealthState>,
    /// The newest resource sample, while the job runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<crate::monitor::ResourceSample>,
    /// Writing the job's log file fails (a full disk, say): what the OS said. Output is still
    /// captured; the newest MiB is kept and written once the file can be written again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_error: Option<String>,
    /// How its latest start went: asked, spawned, ready.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional = nullable))]
    pub startup: Option<StartTimings>,
}

/// The times of a job's latest start. A service is ready when it runs and its health check (if
/// it has one) first passes; a task when its run ends well.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct StartTimings {
    /// When the start was asked for (it may have waited for dependencies first).
    pub requested_at: DateTime<Utc>,
    /// When its current (or last) process was spawned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional = nullable))]
    pub started_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional = nullable))]
    pub ready_at: Option<DateTime<Utc>>,
}

impl JobStatus {
    pub fn glance(&self) -> Glance {
        Glance::of(&self.state, self.health)
    }

    /// The name of its project, if it belongs to one.
    pub fn project_name(&self) -> Option<&str> {
        self.project.as_ref().map(|project| project.name.as_str())
    }

    /// A service's or task's status with nothing behind it yet: no runs, no samples, no
    /// health verdict, enabled, in no group.
    pub fn new(name: impl Into<String>, kind: crate::JobKind, state: JobState) -> JobStatus {
        JobStatus {
            name: name.into(),
            group: None,
            project: None,
            kind,
            enabled: true,
            state,
            restarts: 0,
            failures: 0,
            last_exit: None,
            next_run_at: None,
            health: None,
            resources: None,
            log_error: None,
            startup: None,
        }
    }
}

/// Why a run was started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum Trigger {
    /// Started by a user (API, CLI, UI).
    Manual,
    /// Started with the engine.
    Autostart,
    /// Restarted by the restart policy after an exit.
    Retry,
    /// Restarted by a user, or because its definition changed.
    Restart,
    /// Started again after the engine itself was interrupted while it ran.
    Recovery,
    /// Started by its schedule, on time.
    Schedule,
    /// Started once for fire times missed while asleep or while the engine was down.
    CatchUp,
    /// Restarted because it used more memory than `max_memory`.
    MemoryLimit,
    /// Restarted because its health check failed.
    HealthCheck,
    /// Restarted because watched files changed.
    FileChange,
}

impl Trigger {
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Manual => "manual",
            Trigger::Autostart => "autostart",
            Trigger::Retry => "retry",
            Trigger::Restart => "restart",
            Trigger::Recovery => "recovery",
            Trigger::Schedule => "schedule",
            Trigger::CatchUp => "catch_up",
            Trigger::MemoryLimit => "memory_limit",
            Trigger::HealthCheck => "health_check",
            Trigger::FileChange => "file_change",
        }
    }

    pub fn parse(text: &str) -> Option<Trigger> {
        [
            Trigger::Manual,
            Trigger::Autostart,
            Trigger::Retry,
            Trigger::Restart,
            Trigger::Recovery,
            Trigger::Schedule,
            Trigger::CatchUp,
            Trigger::MemoryLimit,
            Trigger::HealthCheck,
            Trigger::FileChange,
        ]
        .into_iter()
        .find(|t| t.as_str() == text)
    }
}

/// How a run ended, as recorded in the run history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum RunOutcome {
    /// Exited with a success exit code.
    Success,
    /// Exited with another code, or died of a signal the engine did not send.
    Failure,
    /// Stopped by the engine (stop, restart, shutdown).
    Stopped,
    /// Never started: missing program, not executable, missing working directory…
    SpawnFailed,
    /// The engine died while the run was in progress.
    Interrupted,
}

impl RunOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            RunOutcome::Success => "success",
            RunOutcome::Failure => "failure",
            RunOutcome::Stopped => "stopped",
            RunOutcome::SpawnFailed => "spawn_failed",
            RunOutcome::Interrupted => "interrupted",
        }
    }

    pub fn parse(text: &str) -> Option<RunOutcome> {
        [
            RunOutcome::Success,
            RunOutcome::Failure,
            RunOutcome::Stopped,
            RunOutcome::SpawnFailed,
            RunOutcome::Interrupted,
        ]
        .into_iter()
        .find(|o| o.as_str() == text)
    }
}

/// One run of a job, from the run history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RunRecord {
    pub id: i64,
    pub job: String,
    pub trigger: Trigger,
    /// The fire time this run was for, when its schedule started it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduled_at: Option<DateTime<Utc>>,
    pub started_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
    /// `None` while the run is in progress.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<RunOutcome>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signal: Option<i32>,
    /// Why it ended the way it did, in words ("program not found: …", "stopped by user").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[cfg(test)]
mod tests;
