//! Whether a start may go ahead now: the dependencies meet their conditions, the declared
//! ports are free and a `max_running` slot is free. A start held back waits, watching what it
//! waits for, and goes ahead by itself.

use std::time::Duration;

use chrono::Utc;
use sentinel_proto::{
    Condition, Dependency, DependencyState, HealthState, JobState, JobStatus, Trigger, WaitReason,
};
use tokio::time::Instant;

use super::actor::JobActor;
use super::phase::{Held, Phase, Series, Until};
use crate::later::Later;

/// How often a held-back start looks again at what no event announces: a port being freed,
/// a missing dependency being added.
const RECHECK: Duration = Duration::from_secs(1);

/// Why a dependency does not meet its condition yet, or None when it does.
fn unmet(dependency: &Dependency, status: &JobStatus) -> Option<WaitReason> {
    let running = matches!(status.state, JobState::Running { .. });
    let met = match dependency.condition {
        Condition::Started => running,
        Condition::Healthy => running && status.health == Some(HealthState::Healthy),
        Condition::Completed => matches!(status.state, JobState::Exited { .. }),
    };
    (!met).then(|| WaitReason::Dependency {
        job: dependency.job.clone(),
        condition: dependency.condition,
        now: DependencyState::of(status),
    })
}

impl JobActor {
    /// Tries a held-back start again.
    pub(super) fn recheck(&mut self) {
        if let Phase::Held(held) = &self.phase {
            let (trigger, series) = (held.trigger, held.series);
            self.launch(trigger, series);
        }
    }

    /// Starts a run unless something holds it back; then the job waits, watching what it
    /// waits for.
    pub(super) fn launch(&mut self, trigger: Trigger, series: Series) {
        // What the job shows now: an unchanged wait, or a start, is not published again.
        let shown = self.phase.state();
        let in_line = matches!(
            self.phase,
            Phase::Held(Held {
                until: Until::Turn(_),
                ..
            })
        );
        if let Some((reason, until)) = self.held_back() {
            // Not ready to run: no place in the slot line, where it would hold up the rest.
            if in_line {
                self.context.slots.leave(&self.spec.name);
            }
            self.hold(trigger, series, reason, until, shown);
            return;
        }
        let slot = match self.context.slots.take(&self.spec.name) {
            Ok(slot) => slot,
            Err(full) => {
                // No place in line in the reason: it would change for every waiting job
                // whenever the line moves, an event each, thousands at a time.
                let reason = WaitReason::Slot {
                    max_running: u32::try_from(full.max).unwrap_or(u32::MAX),
                };
                self.hold(trigger, series, reason, Until::Turn(full.turn), shown);
                return;
            }
        };
        if shown == JobState::Starting {
            self.phase = Phase::Starting;
        } else {
            self.set_phase(Phase::Starting);
        }
        self.spawn_run(trigger, series, slot);
    }

    /// Why the job cannot start right now: a dependency that does not meet its condition, or
    /// a declared port someone else holds; and what to watch meanwhile.
    fn held_back(&self) -> Option<(WaitReason, Until)> {
        let mut reason = None;
        let mut dependencies = Vec::new();
        let mut look_again = false;
        for dependency in &self.spec.depends_on {
            match self.context.job_status(&dependency.job) {
                Some(status) => {
                    if reason.is_none() {
                        reason = unmet(dependency, &status.borrow());
                    }
                    dependencies.push(status);
                }
                None => {
                    look_again = true;
                    reason.get_or_insert_with(|| WaitReason::Dependency {
                        job: dependency.job.clone(),
                        condition: dependency.condition,
                        now: DependencyState::Missing,
                    });
                }
            }
        }
        if reason.is_none() && !self.spec.ports.is_empty() {
            reason = crate::ports::blocking(|| {
                crate::ports::conflict(&self.spec.name, &self.spec.ports)
            });
            look_again |= reason.is_some();
        }
        let until = Until::Ready {
            dependencies,
            recheck_at: look_again.then(|| Instant::now().later(RECHECK)),
        };
        reason.map(|reason| (reason, until))
    }

    /// Keeps a start for later and says why the job waits, unless it said so already.
    fn hold(
        &mut self,
        trigger: Trigger,
        series: Series,
        reason: WaitReason,
        until: Until,
        shown: JobState,
    ) {
        let (since, unchanged) = match shown {
            JobState::Waiting {
                reason: before,
                since,
                ..
            } => (since, *before == reason),
            _ => (Utc::now(), false),
        };
        if !unchanged {
            tracing::info!(job = %self.spec.name, "{reason}");
        }
        self.phase = Phase::Held(Held {
            trigger,
            series,
            reason,
            since,
            until,
        });
        if !unchanged {
            self.publish();
        }
    }
}
