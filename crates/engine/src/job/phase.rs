//! What a job is doing, as one value. Each phase carries exactly the data that exists in it, so
//! a retry time without a retry, a run while the job waits, or a slot turn while it runs cannot
//! be written; the state the world sees is read from the phase.

use std::future::pending;
use std::io;
use std::process::ExitStatus;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use sentinel_proto::{JobState, JobStatus, Trigger, WaitReason};
use tokio::sync::{watch, Notify};
use tokio::time::Instant;

use super::run::{ActiveRun, EndingRun};

pub(super) enum Phase {
    /// Nothing runs and nothing is due.
    Idle(Rest),
    /// A start held back until what it waits for is there.
    Held(Held),
    /// A start under way: its slot is taken and the command is being spawned.
    Starting,
    Running(Running),
    /// The run is out of `Running` while its end is awaited: should a panic strike then, the
    /// recovery still finds its group to kill and its record to close.
    Ending(EndingRun),
    /// A restart is due after a run ended.
    Retry(Retry),
}

/// How an idle job came to rest.
pub(super) enum Rest {
    Stopped,
    Exited {
        since: DateTime<Utc>,
    },
    Failed {
        reason: String,
        since: DateTime<Utc>,
    },
}

/// What a start carries through its retries until the job rests.
#[derive(Clone, Copy, Default)]
pub(super) struct Series {
    /// The fire time it is for, when its schedule started it.
    pub scheduled_at: Option<DateTime<Utc>>,
    /// A scheduled run waiting for this one to finish (overlap = queue).
    pub queued: Option<DateTime<Utc>>,
}

pub(super) struct Held {
    pub trigger: Trigger,
    pub series: Series,
    pub reason: WaitReason,
    pub since: DateTime<Utc>,
    pub until: Until,
}

/// What wakes a held-back start to look again.
pub(super) enum Until {
    /// A dependency's status changes, or `recheck_at` comes, for what no event announces (a
    /// port being freed, a missing dependency being added).
    Ready {
        dependencies: Vec<watch::Receiver<JobStatus>>,
        recheck_at: Option<Instant>,
    },
    /// It is this job's turn in the `max_running` line.
    Turn(Arc<Notify>),
}

pub(super) struct Running {
    pub run: ActiveRun,
    pub series: Series,
    /// When a service that was reported has run long enough to count as recovered.
    pub stable_at: Option<Instant>,
}

pub(super) struct Retry {
    pub at: Instant,
    pub series: Series,
    /// `None` when the restart is due at once: the job shows as starting, not backing off.
    pub backoff: Option<Backoff>,
}

#[derive(Clone, Copy)]
pub(super) struct Backoff {
    pub next_try_at: DateTime<Utc>,
    pub attempt: u32,
}

/// Something the phase waits for has come.
pub(super) enum Due {
    Exited(io::Result<ExitStatus>),
    Retry,
    /// A service that was reported has now run long enough to count as recovered.
    Stable,
    /// A held-back start should look again.
    Recheck,
}

impl Phase {
    /// The state the world sees.
    pub fn state(&self) -> JobState {
        match self {
            Phase::Idle(Rest::Stopped) => JobState::Stopped,
            Phase::Idle(Rest::Exited { since }) => JobState::Exited { since: *since },
            Phase::Idle(Rest::Failed { reason, since }) => JobState::Failed {
                reason: reason.clone(),
                since: *since,
            },
            Phase::Held(held) => JobState::waiting(held.reason.clone(), held.since),
            Phase::Starting | Phase::Retry(Retry { backoff: None, .. }) => JobState::Starting,
            Phase::Running(running) => JobState::Running {
                pid: running.run.pid,
                since: running.run.started_at,
            },
            Phase::Ending(ending) => JobState::Stopping { pid: ending.pid },
            Phase::Retry(Retry {
                backoff: Some(backoff),
                ..
            }) => JobState::Backoff {
                next_try_at: backoff.next_try_at,
                attempt: backoff.attempt,
            },
        }
    }

    /// The leader of the current run's group, while it runs.
    pub fn running_pid(&self) -> Option<u32> {
        match self {
            Phase::Running(running) => Some(running.run.pid),
            _ => None,
        }
    }

    /// The pid and start time of the run in progress, if one is.
    pub fn running_since(&self) -> Option<(u32, chrono::DateTime<chrono::Utc>)> {
        match self {
            Phase::Running(running) => Some((running.run.pid, running.run.started_at)),
            _ => None,
        }
    }

    /// The start in progress, if one is.
    pub fn series(&self) -> Option<Series> {
        match self {
            Phase::Held(held) => Some(held.series),
            Phase::Running(running) => Some(running.series),
            Phase::Retry(retry) => Some(retry.series),
            Phase::Idle(_) | Phase::Starting | Phase::Ending(_) => None,
        }
    }

    /// Resolves when something this phase waits for comes; never in a phase that waits for
    /// nothing.
    pub async fn due(&mut self) -> Due {
        match self {
            Phase::Running(running) => tokio::select! {
                exit = running.run.child.wait() => Due::Exited(exit),
                () = at(running.stable_at) => Due::Stable,
            },
            Phase::Retry(retry) => {
                tokio::time::sleep_until(retry.at).await;
                Due::Retry
            }
            Phase::Held(Held {
                until:
                    Until::Ready {
                        dependencies,
                        recheck_at,
                    },
                ..
            }) => {
                tokio::select! {
                    () = at(*recheck_at) => {}
                    () = any_changed(dependencies) => {}
                }
                Due::Recheck
            }
            Phase::Held(Held {
                until: Until::Turn(turn),
                ..
            }) => {
                turn.notified().await;
                Due::Recheck
            }
            Phase::Idle(_) | Phase::Starting | Phase::Ending(_) => pending().await,
        }
    }
}

async fn at(instant: Option<Instant>) {
    match instant {
        Some(instant) => tokio::time::sleep_until(instant).await,
        None => pending().await,
    }
}

/// Resolves when one of the statuses changes (or its job goes away); never when there are
/// none.
async fn any_changed(statuses: &mut [watch::Receiver<JobStatus>]) {
    if statuses.is_empty() {
        return pending().await;
    }
    let changes = statuses.iter_mut().map(|status| Box::pin(status.changed()));
    let _ = futures_util::future::select_all(changes).await;
}
