//! Cascading restarts: a job that depends on another with `restart = true` restarts with it.
//! A restart by hand takes them into its selection (they stop first and start after); a job
//! that restarts on its own tells the engine, which restarts them, and they wait for their
//! dependency's condition again. A dependant restarted too often this way is stopped with the
//! reason instead, so that a crash-looping dependency does not drag its dependants along.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::Weak;
use std::time::Duration;

use sentinel_proto::action::{Action, Selection};
use sentinel_proto::JobState;
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::{EngineHandle, Inner};
use crate::job::StopReason;

/// Cascaded restarts of one dependant within [`CASCADE_WINDOW`] after which it is stopped.
pub const CASCADE_LIMIT: usize = 5;
pub const CASCADE_WINDOW: Duration = Duration::from_secs(60);

/// Restarts the `restart = true` dependants of each job that restarts on its own.
pub(super) fn spawn_cascades(inner: Weak<Inner>, mut restarting: mpsc::UnboundedReceiver<String>) {
    tokio::spawn(async move {
        let mut recent: HashMap<String, VecDeque<Instant>> = HashMap::new();
        while let Some(job) = restarting.recv().await {
            let Some(inner) = inner.upgrade() else {
                return;
            };
            let engine = EngineHandle { inner };
            if engine.is_shutting_down() {
                continue;
            }
            let mut restart = Vec::new();
            for dependant in engine.restart_dependants(&job) {
                let times = recent.entry(dependant.clone()).or_default();
                let now = Instant::now();
                while times
                    .front()
                    .is_some_and(|at| now.duration_since(*at) > CASCADE_WINDOW)
                {
                    times.pop_front();
                }
                times.push_back(now);
                if times.len() > CASCADE_LIMIT {
                    times.clear();
                    tracing::warn!(job = %dependant, dependency = %job, "cascading restarts loop; stopping it");
                    if let Ok(handle) = engine.handle(&dependant) {
                        let _ = handle.stop(StopReason::CascadeLoop(job.clone())).await;
                    }
                } else {
                    restart.push(dependant);
                }
            }
            // Awaited, not spawned: cascades are applied in order, so a loop's stop is never
            // undone by an earlier restart still under way.
            if !restart.is_empty() {
                tracing::info!(dependency = %job, jobs = ?restart, "restarting with their dependency");
                let _ = engine
                    .act(Action::Restart, &Selection::Names(restart))
                    .await;
            }
        }
    });
}

impl EngineHandle {
    /// The active jobs that declare `restart = true` on `job`.
    fn restart_dependants(&self, job: &str) -> Vec<String> {
        self.read_jobs()
            .values()
            .filter(|other| {
                other
                    .spec
                    .depends_on
                    .iter()
                    .any(|dependency| dependency.restart && dependency.job == job)
            })
            .filter(|other| active(&other.handle.status().state))
            .map(|other| other.spec.name.clone())
            .collect()
    }

    /// `names` with every active job that restarts with one of them, however indirectly.
    pub(super) fn with_restart_dependants(&self, names: Vec<String>) -> Vec<String> {
        let mut all: BTreeSet<String> = names.iter().cloned().collect();
        let mut order = names;
        let mut next = 0;
        while let Some(job) = order.get(next).cloned() {
            next += 1;
            for dependant in self.restart_dependants(&job) {
                if all.insert(dependant.clone()) {
                    order.push(dependant);
                }
            }
        }
        order
    }
}

/// Running or on its way there: a job stopped by hand, failed or finished stays as it is.
fn active(state: &JobState) -> bool {
    matches!(
        state,
        JobState::Running { .. }
            | JobState::Starting
            | JobState::Waiting { .. }
            | JobState::Backoff { .. }
            | JobState::Stopping { .. }
    )
}
