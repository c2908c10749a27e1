//! The cheap handle to a job's actor and the controls it sends: each answers when it is done.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use sentinel_proto::{JobSpec, JobStatus, Trigger};
use tokio::sync::{mpsc, oneshot, watch};

use crate::error::{EngineError, Result};
use crate::logs::JobLogs;
use crate::monitor::HealthReport;
use crate::schedule::FireAction;

/// Every job's channel allocates a block of 32 controls when it is made, so the rare large
/// ones are boxed: 24 bytes a control instead of 40 is 0.5 KiB less per job.
pub(super) enum Control {
    Start {
        trigger: Trigger,
        reply: oneshot::Sender<Result<JobStatus>>,
    },
    Stop {
        why: Box<StopReason>,
        reply: oneshot::Sender<Result<JobStatus>>,
    },
    Update {
        spec: Arc<JobSpec>,
        reply: oneshot::Sender<bool>,
    },
    Shutdown {
        reply: oneshot::Sender<()>,
    },
    /// The schedule fired for `scheduled_at`.
    Fire {
        scheduled_at: DateTime<Utc>,
        trigger: Trigger,
        action: FireAction,
    },
    NextRun(Option<DateTime<Utc>>),
    /// A watchdog wants the run led by `pid` restarted (memory limit).
    Watchdog {
        pid: u32,
        trigger: Trigger,
        reason: Box<str>,
    },
    Health(Box<HealthReport>),
    /// Panics in the actor, as a bug would: for the test that the engine survives one.
    #[cfg(test)]
    Panic {
        message: String,
        reply: oneshot::Sender<()>,
    },
    /// Tests only: the next run to be ended panics half-way.
    #[cfg(test)]
    PanicWhileEnding,
    /// Watched files changed (one debounced burst).
    FilesChanged(Box<[std::path::PathBuf]>),
    /// Something a held-back start waits for may have changed; look now.
    Recheck,
}

// The tests' own controls are larger; what ships is checked.
#[cfg(not(test))]
const _: () = assert!(std::mem::size_of::<Control>() <= 24);

/// A cheap handle to a job's actor.
#[derive(Clone)]
pub(crate) struct JobHandle {
    pub(super) controls: mpsc::UnboundedSender<Control>,
    pub(super) status: watch::Receiver<JobStatus>,
    pub logs: Arc<JobLogs>,
}

impl JobHandle {
    pub fn status(&self) -> JobStatus {
        self.status.borrow().clone()
    }

    /// The main process's pid while the job runs, read without copying the status.
    pub fn running_pid(&self) -> Option<u32> {
        match self.status.borrow().state {
            sentinel_proto::JobState::Running { pid, .. } => Some(pid),
            _ => None,
        }
    }

    async fn ask<T>(&self, control: impl FnOnce(oneshot::Sender<T>) -> Control) -> Result<T> {
        let (reply, answer) = oneshot::channel();
        self.controls
            .send(control(reply))
            .map_err(|_| EngineError::ShuttingDown)?;
        answer.await.map_err(|_| {
            if self.controls.is_closed() {
                EngineError::ShuttingDown
            } else {
                // The actor lives on but dropped the reply: it panicked handling this control
                // (and has recovered; its status says why).
                EngineError::Internal(format!(
                    "the job's supervisor failed handling this request; see `sentinel status {}`",
                    self.status.borrow().name
                ))
            }
        })
    }

    /// Starts the job unless it is already running; answers once it runs or failed to start.
    pub async fn start(&self, trigger: Trigger) -> Result<JobStatus> {
        self.ask(|reply| Control::Start { trigger, reply }).await?
    }

    /// Answers once the whole process group is gone. A stop to restart is refused, and
    /// nothing stopped, when the job could not start again (disabled, or an invalid stored
    /// definition).
    pub async fn stop(&self, why: StopReason) -> Result<JobStatus> {
        self.ask(|reply| Control::Stop {
            why: Box::new(why),
            reply,
        })
        .await?
    }

    /// Applies a new definition; answers whether the running process had to be restarted.
    pub async fn update(&self, spec: Arc<JobSpec>) -> Result<bool> {
        self.ask(|reply| Control::Update { spec, reply }).await
    }

    /// The schedule fired: run a task (or restart a service) per the overlap policy.
    pub fn fire(&self, scheduled_at: DateTime<Utc>, trigger: Trigger, action: FireAction) {
        let _ = self.controls.send(Control::Fire {
            scheduled_at,
            trigger,
            action,
        });
    }

    /// When the schedule fires next, for the status.
    pub fn set_next_run(&self, at: Option<DateTime<Utc>>) {
        let _ = self.controls.send(Control::NextRun(at));
    }

    /// Restarts the run led by `pid` (if it is still the current one), recording `reason`.
    pub fn watchdog(&self, pid: u32, trigger: Trigger, reason: String) {
        let _ = self.controls.send(Control::Watchdog {
            pid,
            trigger,
            reason: reason.into_boxed_str(),
        });
    }

    /// A held-back start looks at its dependencies and ports again now.
    pub fn recheck(&self) {
        let _ = self.controls.send(Control::Recheck);
    }

    /// Makes the actor panic (tests only): answers with what the caller of a control that
    /// panicked gets.
    #[cfg(test)]
    pub async fn panic(&self, message: &str) -> Result<()> {
        let message = message.to_string();
        self.ask(|reply| Control::Panic { message, reply }).await
    }

    /// Tests only: the next stop of a run panics after the stop signal went out.
    #[cfg(test)]
    pub fn panic_while_ending(&self) {
        let _ = self.controls.send(Control::PanicWhileEnding);
    }

    /// Stops the job and ends its actor.
    pub async fn shutdown(&self) {
        let _ = self.ask(|reply| Control::Shutdown { reply }).await;
    }
}

/// Why the engine stopped a run, as the run history says it.
#[derive(Clone)]
pub(crate) enum StopReason {
    User,
    Restart,
    DefinitionChanged,
    Disabled,
    Shutdown,
    Replaced,
    ScheduledRestart,
    /// Watched files changed: which.
    FilesChanged(String),
    /// Restarted with a dependency (`restart = true`) too often: the dependency's name.
    CascadeLoop(String),
}

impl StopReason {
    /// How the job rests after this stop: a cascade loop leaves it failed with the reason,
    /// to be seen at a glance; every other stop leaves it stopped.
    pub(super) fn rest(&self) -> super::phase::Rest {
        match self {
            StopReason::CascadeLoop(_) => super::phase::Rest::Failed {
                reason: self.clone().describe(),
                since: chrono::Utc::now(),
            },
            _ => super::phase::Rest::Stopped,
        }
    }

    pub(super) fn describe(self) -> String {
        let text = match self {
            StopReason::User => "stopped by request",
            StopReason::Restart => "stopped to restart",
            StopReason::DefinitionChanged => "stopped to apply a changed definition",
            StopReason::Disabled => "stopped because the job was disabled",
            StopReason::Shutdown => "stopped because the engine shut down",
            StopReason::Replaced => "stopped for the next scheduled run (overlap = replace)",
            StopReason::ScheduledRestart => "stopped for its scheduled restart",
            StopReason::FilesChanged(what) => {
                return format!("stopped to restart because watched files changed: {what}")
            }
            StopReason::CascadeLoop(dependency) => {
                return format!(
                    "stopped: restarted with {dependency} {} times within {}s (restart = true); start it again once {dependency} is stable",
                    crate::engine::CASCADE_LIMIT,
                    crate::engine::CASCADE_WINDOW.as_secs()
                )
            }
        };
        text.to_string()
    }
}
