//! A changed definition: what applies to the running process at once (logs, the health check,
//! the watch), what restarts it (`JobSpec::restart_needed`), and disabling.

use std::sync::Arc;

use sentinel_proto::{HealthState, JobSpec, Trigger};

use super::actor::JobActor;
use super::handle::StopReason;
use super::phase::{Phase, Rest};

impl JobActor {
    /// Applies a new definition; answers whether the running process had to be restarted.
    pub(super) async fn update(&mut self, spec: Arc<JobSpec>) -> bool {
        // The engine validated `spec`; the failure an invalid stored one was marked with ends.
        if let Phase::Idle(rest) = &mut self.phase {
            if self.spec.validate().is_err() {
                *rest = Rest::Stopped;
            }
        }
        let needs_restart = spec.restart_needed(&self.spec);
        let active = matches!(self.phase, Phase::Running(_));
        let health_changed = spec.health != self.spec.health;
        let watch_changed = spec.watch != self.spec.watch
            || spec.cwd != self.spec.cwd
            || spec.enabled != self.spec.enabled;
        self.logs.set_settings(spec.logs.clone());
        self.spec = spec;
        if watch_changed {
            self.watcher = None;
            self.watcher = self.start_watch();
        }
        if health_changed {
            self.health = self.spec.health.as_ref().map(|_| HealthState::Unknown);
            if let Some((pid, since)) = self.phase.running_since() {
                let check = self.start_health_check(pid, since);
                if let Phase::Running(running) = &mut self.phase {
                    running.run.health_check = check;
                }
            }
        }
        if !self.spec.enabled {
            self.stop(StopReason::Disabled).await;
            self.publish();
            return false;
        }
        if needs_restart && active {
            self.restarting();
            self.stop(StopReason::DefinitionChanged).await;
            self.fresh_start(Trigger::Restart, None);
            return true;
        }
        // What a held-back start waits for may have changed with the definition.
        if matches!(self.phase, Phase::Held(_)) {
            self.recheck();
        }
        self.publish();
        false
    }
}
