//! Whether a start may go ahead now: the dependencies meet their conditions, the declared
//! ports are free and a `max_running` slot is free. A start held back waits, watching what it
//! waits for, and goes ahead by itself.

use std::future::pending;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sentinel_proto::{Condition, Dependency, HealthState, JobState, JobStatus, Trigger};
use tokio::sync::{watch, Notify};
use tokio::time::Instant;

use super::actor::JobActor;
use crate::later::Later;

/// How often a held-back start looks again at what no event announces: a port being freed,
/// a missing dependency being added.
const RECHECK: Duration = Duration::from_secs(1);

/// Resolves when one of the statuses changes (or its job goes away); never when there are
/// none.
pub(super) async fn any_changed(statuses: &mut [watch::Receiver<JobStatus>]) {
    if statuses.is_empty() {
        return pending().await;
    }
    let changes = statuses.iter_mut().map(|status| Box::pin(status.changed()));
    let _ = futures_util::future::select_all(changes).await;
}

/// Why a dependency does not meet its condition yet, or None when it does.
fn unmet(dependency: &Dependency, status: &JobStatus) -> Option<String> {
    let running = matches!(status.state, JobState::Running { .. });
    let met = match dependency.condition {
        Condition::Started => running,
        Condition::Healthy => running && status.health == Some(HealthState::Healthy),
        Condition::Completed => matches!(status.state, JobState::Exited { .. }),
    };
    if met {
        return None;
    }
    let job = &dependency.job;
    let now = match &status.state {
        JobState::Running { .. } if dependency.condition == Condition::Healthy => {
            match status.health {
                None => format!("{job} has no health check"),
                Some(health) => format!("{job} is running, health {}", health.as_str()),
            }
        }
        JobState::Failed { reason, .. } => format!("{job} failed: {reason}"),
        JobState::Backoff { .. } => format!("{job} is restarting after a failure"),
        JobState::Waiting { .. } => format!("{job} is waiting too"),
        JobState::Exited { .. } => format!("{job} has exited"),
        other => format!("{job} is {}", other.name()),
    };
    Some(format!(
        "waiting for {job} to be {} ({now})",
        dependency.condition.describe()
    ))
}

pub(super) async fn my_turn(turn: &Option<Arc<Notify>>) {
    match turn {
        Some(turn) => turn.notified().await,
        None => pending().await,
    }
}

impl JobActor {
    /// Tries a held-back start again.
    pub(super) fn recheck(&mut self) {
        self.recheck_at = None;
        if let Some((trigger, scheduled_at)) = self.held.take() {
            self.launch(trigger, scheduled_at);
        }
    }

    /// Why the job cannot start right now: a dependency that does not meet its condition, or
    /// a declared port someone else holds. Watches what it waits for.
    pub(super) fn held_back(&mut self) -> Option<String> {
        let mut reason = None;
        let mut statuses = Vec::new();
        let mut look_again = false;
        for dependency in &self.spec.depends_on {
            match self.context.job_status(&dependency.job) {
                Some(status) => {
                    if reason.is_none() {
                        reason = unmet(dependency, &status.borrow());
                    }
                    statuses.push(status);
                }
                None => {
                    look_again = true;
                    reason.get_or_insert_with(|| {
                        format!(
                            "waiting for {0} to be {1} (there is no job named {0})",
                            dependency.job,
                            dependency.condition.describe()
                        )
                    });
                }
            }
        }
        self.dependency_watch = statuses;
        if reason.is_none() && !self.spec.ports.is_empty() {
            reason = crate::ports::blocking(|| {
                crate::ports::conflict(&self.spec.name, &self.spec.ports)
            });
            look_again |= reason.is_some();
        }
        self.recheck_at = look_again.then(|| Instant::now().later(RECHECK));
        reason
    }

    /// Keeps a start for later and says why the job waits.
    pub(super) fn hold(
        &mut self,
        trigger: Trigger,
        scheduled_at: Option<DateTime<Utc>>,
        reason: String,
    ) {
        self.held = Some((trigger, scheduled_at));
        let since = match &self.state {
            JobState::Waiting { reason: now, .. } if *now == reason => return,
            JobState::Waiting { since, .. } => *since,
            _ => Utc::now(),
        };
        tracing::info!(job = %self.spec.name, "{reason}");
        self.set_state(JobState::Waiting { reason, since });
    }

    pub(super) fn launch(&mut self, trigger: Trigger, scheduled_at: Option<DateTime<Utc>>) {
        if let Some(reason) = self.held_back() {
            // Not ready to run: no place in the slot line, where it would hold up the rest.
            if self.slot_turn.take().is_some() {
                self.context.slots.leave(&self.spec.name);
            }
            self.hold(trigger, scheduled_at, reason);
            return;
        }
        self.dependency_watch.clear();
        let slot = match self.context.slots.take(&self.spec.name) {
            Ok(slot) => {
                self.slot_turn = None;
                slot
            }
            Err(full) => {
                self.slot_turn = Some(full.turn);
                // No place in line in the reason: it would change for every waiting job
                // whenever the line moves, an event each, thousands at a time.
                let reason = format!(
                    "waiting for a free slot (max_running = {}); waiting jobs start in the order they asked",
                    full.max
                );
                self.hold(trigger, scheduled_at, reason);
                return;
            }
        };
        self.spawn_run(trigger, scheduled_at, slot);
    }
}
