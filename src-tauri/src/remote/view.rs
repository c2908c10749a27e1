//! A remote engine as the app shows it: its context, and whether it is reached (with its jobs,
//! kept current by its events), being reached, or unreachable (why, and when it is tried
//! again). Events are applied by the popover's own rules (`applyItem` in ui/src/lib/jobs.ts),
//! so a remote job reads the same as a local one.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sentinel_client::ssh::RemoteProblem;
use sentinel_client::ClientError;
use sentinel_proto::remote::EngineContext;
use sentinel_proto::{EngineEvent, JobStatus};
use serde::{Deserialize, Serialize};

/// One remote engine, as the popover, the Engines page and the tray see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct RemoteView {
    pub context: EngineContext,
    #[serde(flatten)]
    pub link: Link,
}

/// Whether the app reaches the engine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "link", rename_all = "snake_case")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub enum Link {
    /// The first connection is being made.
    Connecting { since: DateTime<Utc> },
    /// Its jobs, current as of its last event.
    Connected {
        version: String,
        since: DateTime<Utc>,
        jobs: Vec<JobStatus>,
    },
    /// The last try failed; the next is at `next_try_at` (`attempt` tries have failed in a row).
    Unreachable {
        problem: EngineProblem,
        since: DateTime<Utc>,
        next_try_at: DateTime<Utc>,
        attempt: u32,
    },
}

/// Why an engine cannot be reached or did not do what was asked: a stable `code` to match on
/// (`unreachable`, `not_installed`, `too_old`, `no_engine`, `permission_denied`, `timeout`,
/// `connection_lost`, or the engine's own API code) and the words (ssh's own, for `unreachable`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct EngineProblem {
    pub code: String,
    pub message: String,
}

impl EngineProblem {
    pub fn new(code: &str, message: impl Into<String>) -> EngineProblem {
        EngineProblem {
            code: code.into(),
            message: message.into(),
        }
    }

    /// What a failed request says, typed.
    pub fn of(err: &ClientError) -> EngineProblem {
        match err {
            // The section already names the engine: ssh's own words are the message.
            ClientError::Remote { problem, .. } => {
                let code = match problem {
                    RemoteProblem::NoSsh { .. } => "no_ssh",
                    RemoteProblem::Ssh { .. } => "unreachable",
                    RemoteProblem::NotInstalled { .. } => "not_installed",
                    RemoteProblem::TooOld { .. } => "too_old",
                    RemoteProblem::NoEngine { .. } => "no_engine",
                    RemoteProblem::PermissionDenied { .. } => "permission_denied",
                    RemoteProblem::Failed { .. } => "remote_failed",
                };
                EngineProblem::new(code, problem.to_string())
            }
            ClientError::Connect { .. } => EngineProblem::new("unreachable", err.to_string()),
            ClientError::Api { body, .. } => EngineProblem::new(&body.code, body.message.clone()),
            ClientError::Transport { .. } => EngineProblem::new("connection_lost", err.to_string()),
            ClientError::Unexpected { .. } | ClientError::Decode(_) => {
                EngineProblem::new("bad_answer", err.to_string())
            }
            ClientError::Request(_) => EngineProblem::new("failed", err.to_string()),
        }
    }
}

/// What applying one event did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    None,
    Changed,
}

/// An engine's jobs by name.
pub type Jobs = BTreeMap<String, JobStatus>;

/// Puts a status in, keeping what only other events carry: a transition does not repeat the
/// resources or the health, and must not blank them. A status sent `whole` (after an edit) is
/// the engine's word on health too. A job that runs nothing has no resources.
pub fn put_status(jobs: &mut Jobs, mut status: JobStatus, whole: bool) {
    if let Some(previous) = jobs.get(&status.name) {
        if status.resources.is_none() && status.state.is_active() {
            status.resources = previous.resources.clone();
        }
        if !whole && status.health.is_none() {
            status.health = previous.health;
        }
    }
    if !status.state.is_active() {
        status.resources = None;
    }
    jobs.insert(status.name.clone(), status);
}

/// Applies one event to the jobs.
pub fn apply(jobs: &mut Jobs, event: &EngineEvent) -> Effect {
    match event {
        EngineEvent::JobAdded { status, .. } | EngineEvent::JobUpdated { status, .. } => {
            put_status(jobs, (**status).clone(), true);
            Effect::Changed
        }
        EngineEvent::JobRemoved { job } => match jobs.remove(job) {
            Some(_) => Effect::Changed,
            None => Effect::None,
        },
        EngineEvent::StateChanged { status } => {
            put_status(jobs, (**status).clone(), false);
            Effect::Changed
        }
        EngineEvent::RunExited { job, exit, .. } => match jobs.get_mut(job) {
            Some(status) => {
                status.last_exit = Some(exit.clone());
                Effect::Changed
            }
            None => Effect::None,
        },
        EngineEvent::HealthChanged { job, health, .. } => match jobs.get_mut(job) {
            Some(status) => {
                status.health = Some(*health);
                Effect::Changed
            }
            None => Effect::None,
        },
        EngineEvent::ResourcesSampled { samples } => {
            let mut effect = Effect::None;
            for sample in samples {
                if let Some(status) = jobs.get_mut(&sample.job) {
                    status.resources = Some(sample.sample.clone());
                    effect = Effect::Changed;
                }
            }
            effect
        }
        // The state_changed that comes with each of these carries what is shown.
        EngineEvent::RunStarted { .. }
        | EngineEvent::SpawnFailed { .. }
        | EngineEvent::ScheduleSkipped { .. } => Effect::None,
    }
}

/// The jobs as a list, by name (as the API lists them).
pub fn listed(jobs: &Jobs) -> Vec<JobStatus> {
    jobs.values().cloned().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use sentinel_proto::monitor::{JobSample, ResourceSample};
    use sentinel_proto::{ExitInfo, HealthState, JobKind, JobState};

    fn job(name: &str, state: JobState) -> JobStatus {
        JobStatus::new(name, JobKind::Service, state)
    }

    fn running(name: &str) -> JobStatus {
        job(
            name,
            JobState::Running {
                pid: 7,
                since: Utc::now(),
            },
        )
    }

    fn sample(job: &str) -> JobSample {
        JobSample {
            job: job.into(),
            sample: ResourceSample {
                at: Utc::now(),
                cpu_percent: 12.5,
                memory_bytes: 1 << 20,
                processes: 1,
                disk_read_bytes: 0,
                disk_written_bytes: 0,
                cpu_seconds: 0.5,
            },
        }
    }

    fn state_changed(status: JobStatus) -> EngineEvent {
        EngineEvent::StateChanged {
            status: Box::new(status),
        }
    }

    #[test]
    fn events_keep_the_jobs_current() {
        let mut jobs = Jobs::new();
        let added = EngineEvent::JobAdded {
            job: "api".into(),
            status: Box::new(job("api", JobState::Stopped)),
        };
        assert_eq!(apply(&mut jobs, &added), Effect::Changed);
        assert_eq!(
            apply(&mut jobs, &state_changed(running("api"))),
            Effect::Changed
        );
        assert_eq!(jobs["api"].state.name(), "running");

        // A sample gives resources; a transition that does not repeat them keeps them while
        // the job runs, and drops them once it does not.
        let sampled = EngineEvent::ResourcesSampled {
            samples: vec![sample("api"), sample("gone")],
        };
        assert_eq!(apply(&mut jobs, &sampled), Effect::Changed);
        assert_eq!(jobs["api"].resources.as_ref().unwrap().cpu_percent, 12.5);
        let health = EngineEvent::HealthChanged {
            job: "api".into(),
            health: HealthState::Unhealthy,
            detail: None,
        };
        apply(&mut jobs, &health);
        apply(&mut jobs, &state_changed(running("api")));
        assert!(jobs["api"].resources.is_some());
        assert_eq!(jobs["api"].health, Some(HealthState::Unhealthy));

        let exit = ExitInfo {
            code: Some(3),
            signal: None,
            at: Utc::now(),
            duration_ms: 10,
        };
        let exited = EngineEvent::RunExited {
            job: "api".into(),
            run_id: 1,
            outcome: sentinel_proto::RunOutcome::Failure,
            exit: exit.clone(),
        };
        assert_eq!(apply(&mut jobs, &exited), Effect::Changed);
        assert_eq!(jobs["api"].last_exit, Some(exit));
        let failed = job(
            "api",
            JobState::Failed {
                reason: "exit code 3".into(),
                since: Utc::now(),
            },
        );
        apply(&mut jobs, &state_changed(failed));
        assert_eq!(jobs["api"].resources, None, "a failed job runs nothing");

        // An edit's status is whole: a removed health check leaves no health.
        let updated = EngineEvent::JobUpdated {
            job: "api".into(),
            restarted: false,
            status: Box::new(job("api", JobState::Stopped)),
        };
        apply(&mut jobs, &updated);
        assert_eq!(jobs["api"].health, None);

        let removed = EngineEvent::JobRemoved { job: "api".into() };
        assert_eq!(apply(&mut jobs, &removed), Effect::Changed);
        assert_eq!(apply(&mut jobs, &removed), Effect::None);
        assert!(jobs.is_empty());
        // Events about jobs it does not have change nothing.
        assert_eq!(apply(&mut jobs, &health), Effect::None);
        assert_eq!(apply(&mut jobs, &exited), Effect::None);
    }

    #[test]
    fn problems_are_typed() {
        let ssh = ClientError::Remote {
            host: "ssh://box".into(),
            problem: RemoteProblem::Ssh {
                message: "Host key verification failed.".into(),
            },
        };
        assert_eq!(
            EngineProblem::of(&ssh),
            EngineProblem::new("unreachable", "Host key verification failed.")
        );
        let missing = ClientError::Remote {
            host: "ssh://box".into(),
            problem: RemoteProblem::NotInstalled {
                command: "sentinel".into(),
                version: "1.0.0".into(),
            },
        };
        let problem = EngineProblem::of(&missing);
        assert_eq!(problem.code, "not_installed");
        assert!(
            problem.message.contains("install SentinelZero"),
            "{problem:?}"
        );
        let refused = ClientError::Api {
            status: 404,
            body: sentinel_proto::api::ErrorBody {
                code: "not_found".into(),
                message: "no job named \"x\"".into(),
                field: None,
                errors: Vec::new(),
            },
        };
        assert_eq!(EngineProblem::of(&refused).code, "not_found");
    }
}
