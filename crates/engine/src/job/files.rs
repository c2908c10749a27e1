//! The job's file watch: started while the job is enabled and has `watch`, and what a burst
//! of changes does to the job.

use sentinel_proto::{JobState, Trigger};

use super::actor::JobActor;
use super::handle::{Control, StopReason};
use super::watch::{describe_changes, spawn_watch, EngineFiles, WatchTask};

impl JobActor {
    /// Watches the job's files while it is enabled and has `watch`.
    pub(super) fn start_watch(&self) -> Option<WatchTask> {
        let watch = self.spec.watch.as_ref().filter(|_| self.spec.enabled)?;
        let cwd = self
            .spec
            .cwd
            .clone()
            .or_else(|| std::env::current_dir().ok())?;
        let controls = self.own_controls.clone();
        let engine = EngineFiles {
            log_dir: self.context.paths.log_dir.clone(),
            data_dir: self.context.paths.data_dir.clone(),
        };
        let changed = move |paths: Vec<std::path::PathBuf>| {
            if let Some(controls) = controls.upgrade() {
                let _ = controls.send(Control::FilesChanged(paths.into_boxed_slice()));
            }
        };
        match spawn_watch(watch, &cwd, engine, changed) {
            Ok(task) => Some(task),
            Err(err) => {
                tracing::warn!(job = %self.spec.name, "file watch is off: {err}");
                None
            }
        }
    }

    /// A burst of changes restarts a running service, and gives a crashed or exited one
    /// another go (the fix may be in); a job stopped by hand stays stopped.
    pub(super) async fn on_files_changed(&mut self, paths: Vec<std::path::PathBuf>) {
        let cwd = self.spec.cwd.clone().unwrap_or_default();
        let what = describe_changes(&paths, &cwd);
        match self.phase.state() {
            JobState::Running { .. } | JobState::Starting => {
                tracing::info!(job = %self.spec.name, "watched files changed ({what}); restarting");
                self.restarting();
                self.stop(StopReason::FilesChanged(what)).await;
                self.fresh_start(Trigger::FileChange, None);
            }
            JobState::Backoff { .. } | JobState::Failed { .. } | JobState::Exited { .. } => {
                tracing::info!(job = %self.spec.name, "watched files changed ({what}); starting again");
                self.fresh_start(Trigger::FileChange, None);
            }
            JobState::Stopped | JobState::Stopping { .. } | JobState::Waiting { .. } => {}
        }
    }
}
