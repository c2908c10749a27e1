//! The health check of the current run: started with it, and what its verdicts do.

use sentinel_proto::{EngineEvent, HealthState, Trigger};

use super::actor::JobActor;
use super::handle::Control;
use crate::monitor::{spawn_health_check, HealthReport};
use crate::notify::AlertKind;
use crate::process;

impl JobActor {
    /// What an `exec` health check runs with: the job's own variables, env files included
    /// (as read now; the run itself started with them a moment ago).
    pub(super) fn probe_env(&self) -> std::collections::BTreeMap<String, String> {
        let cwd = self
            .spec
            .cwd
            .clone()
            .or_else(|| std::env::current_dir().ok())
            .unwrap_or_default();
        match process::env::resolve(&self.spec, &cwd) {
            Ok(vars) => vars.into_iter().map(|var| (var.key, var.value)).collect(),
            Err(_) => self.spec.env.clone(),
        }
    }

    pub(super) fn start_health_check(
        &self,
        pid: u32,
        since: chrono::DateTime<chrono::Utc>,
    ) -> Option<crate::monitor::HealthTask> {
        let check = self.spec.health.clone()?;
        let controls = self.own_controls.clone();
        spawn_health_check(
            check,
            crate::monitor::ProbeEnv {
                cwd: self.spec.cwd.clone(),
                env: self.probe_env(),
                search_path: self.context.search_path.clone(),
                engine_marker: self.context.engine_marker.clone(),
            },
            crate::monitor::RunOutput {
                logs: self.logs.clone(),
                since,
            },
            pid,
            move |report| {
                if let Some(controls) = controls.upgrade() {
                    let _ = controls.send(Control::Health(Box::new(report)));
                }
            },
        )
    }

    pub(super) async fn on_health(&mut self, report: HealthReport) {
        if self.phase.running_pid() != Some(report.pid) {
            return;
        }
        let before = self.health.replace(report.health);
        if report.health == HealthState::Healthy {
            self.mark_ready(chrono::Utc::now());
        }
        // Whoever hears the event must read the new verdict, but dependants waiting for this
        // health must not start (and say so) before the event is out: so the status is stored
        // without waking anyone, the event sent, and only then the status published.
        let status = self.snapshot();
        self.status.send_if_modified(|current| {
            *current = status;
            false
        });
        self.context.emit(EngineEvent::HealthChanged {
            job: self.spec.name.clone(),
            health: report.health,
            detail: report.detail.clone(),
        });
        self.publish();
        let detail = report.detail.unwrap_or_default();
        match report.health {
            HealthState::Unhealthy => {
                let restart = self.spec.health.as_ref().is_some_and(|check| check.restart);
                let next = if restart {
                    "restarting".to_string()
                } else {
                    "not restarted (health.restart = false)".to_string()
                };
                self.raise(AlertKind::Unhealthy, detail.clone(), next);
                if restart {
                    self.watchdog_restart(
                        Trigger::HealthCheck,
                        format!("health check failed: {detail}"),
                    )
                    .await;
                }
            }
            HealthState::Healthy if before == Some(HealthState::Unhealthy) && self.alerted => {
                self.raise(AlertKind::Recovered, detail, String::new());
            }
            _ => {}
        }
    }
}
