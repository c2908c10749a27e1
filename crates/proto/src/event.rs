//! What the engine publishes: every change, as one stream of events.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::monitor::{HealthState, JobSample};
use crate::status::{ExitInfo, JobStatus, RunOutcome, Trigger};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum EngineEvent {
    /// A job was added; `status` is its first status (clients add it without asking again).
    JobAdded {
        job: String,
        status: Box<JobStatus>,
    },
    /// `restarted` says whether the change needed the running process to be restarted;
    /// `status` is the job's whole status afterwards (group, kind, enabled, health may change).
    JobUpdated {
        job: String,
        restarted: bool,
        status: Box<JobStatus>,
    },
    JobRemoved {
        job: String,
    },
    /// The job's status after a transition.
    StateChanged {
        // Boxed: a status is much larger than most events.
        status: Box<JobStatus>,
    },
    RunStarted {
        job: String,
        run_id: i64,
        pid: u32,
        trigger: Trigger,
        /// The fire time, when a schedule started the run.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        scheduled_at: Option<DateTime<Utc>>,
    },
    RunExited {
        job: String,
        run_id: i64,
        outcome: RunOutcome,
        exit: ExitInfo,
    },
    /// The process could not be started at all.
    SpawnFailed {
        job: String,
        run_id: i64,
        error: String,
    },
    /// A scheduled run did not start, and why.
    ScheduleSkipped {
        job: String,
        scheduled_at: DateTime<Utc>,
        reason: String,
    },
    /// The health check's verdict changed; `detail` says what the last check saw.
    HealthChanged {
        job: String,
        health: HealthState,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        detail: Option<String>,
    },
    /// What every running job used, once per sampling interval. Not kept in the event history.
    ResourcesSampled {
        samples: Vec<JobSample>,
    },
}

impl EngineEvent {
    /// The job the event is about; `None` for events about many jobs.
    pub fn job(&self) -> Option<&str> {
        match self {
            EngineEvent::JobAdded { job, .. }
            | EngineEvent::JobUpdated { job, .. }
            | EngineEvent::JobRemoved { job }
            | EngineEvent::RunStarted { job, .. }
            | EngineEvent::RunExited { job, .. }
            | EngineEvent::SpawnFailed { job, .. }
            | EngineEvent::ScheduleSkipped { job, .. }
            | EngineEvent::HealthChanged { job, .. } => Some(job),
            EngineEvent::StateChanged { status } => Some(&status.name),
            EngineEvent::ResourcesSampled { .. } => None,
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            EngineEvent::JobAdded { .. } => "job_added",
            EngineEvent::JobUpdated { .. } => "job_updated",
            EngineEvent::JobRemoved { .. } => "job_removed",
            EngineEvent::StateChanged { .. } => "state_changed",
            EngineEvent::RunStarted { .. } => "run_started",
            EngineEvent::RunExited { .. } => "run_exited",
            EngineEvent::SpawnFailed { .. } => "spawn_failed",
            EngineEvent::ScheduleSkipped { .. } => "schedule_skipped",
            EngineEvent::HealthChanged { .. } => "health_changed",
            EngineEvent::ResourcesSampled { .. } => "resources_sampled",
        }
    }
}

/// An event with its place in the stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct EventEnvelope {
    /// Increases by one per event; a gap means events were missed.
    pub seq: u64,
    pub at: DateTime<Utc>,
    #[serde(flatten)]
    pub event: EngineEvent,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum LogStream {
    Stdout,
    Stderr,
}

impl LogStream {
    pub fn as_str(self) -> &'static str {
        match self {
            LogStream::Stdout => "stdout",
            LogStream::Stderr => "stderr",
        }
    }
}

/// One captured line. `partial` lines were cut (no newline yet, or longer than the line limit)
/// and continue in the next line of the same stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LogLine {
    pub ts: DateTime<Utc>,
    pub stream: LogStream,
    pub text: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub partial: bool,
}
