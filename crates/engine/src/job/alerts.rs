//! When a job's trouble (and its recovery) is worth a notification, and what it says.

use std::time::Duration;

use chrono::Utc;
use sentinel_proto::{JobKind, RestartMode};

use super::actor::JobActor;
use super::phase::Phase;
use super::policy::Next;
use crate::notify::{compose, AlertKind, Notification};

/// Log lines a failure notification quotes.
const ALERT_LOG_LINES: usize = 5;

impl JobActor {
    /// A service that was reported has run long enough since its restart to count as
    /// recovered.
    pub(super) fn on_stable(&mut self) {
        if let Phase::Running(running) = &mut self.phase {
            running.stable_at = None;
            if self.alerted {
                self.raise(AlertKind::Recovered, "running again".into(), String::new());
            }
        }
    }

    /// Tells the notifiers; the text carries the last exit and the last log lines.
    pub(super) fn raise(&mut self, kind: AlertKind, detail: String, next: String) {
        self.alerted = kind != AlertKind::Recovered;
        if kind == AlertKind::Recovered {
            if let Phase::Running(running) = &mut self.phase {
                running.stable_at = None;
            }
        }
        let (title, body) = compose(&self.spec.name, kind, &detail, &next);
        let log_tail = if kind == AlertKind::Recovered {
            Vec::new()
        } else {
            self.logs
                .tail(ALERT_LOG_LINES, None)
                .into_iter()
                .map(|line| line.text)
                .collect()
        };
        self.context.alerts.raise(Notification {
            job: self.spec.name.clone(),
            kind,
            title,
            body,
            at: Utc::now(),
            exit: self
                .last_exit
                .clone()
                .filter(|_| kind != AlertKind::Recovered),
            log_tail,
            suppressed: 0,
            muted: !self.spec.notify,
            job_webhook: self.spec.webhook.clone(),
        });
    }

    /// A failed run is worth a notification when the job gives up, when a service dies, and
    /// when a run its schedule started fails.
    pub(super) fn alert_failure(
        &mut self,
        next: &Next,
        uptime: Duration,
        reason: &str,
        scheduled: bool,
    ) {
        let detail = if uptime.is_zero() {
            reason.to_string()
        } else {
            format!(
                "{reason} after {}",
                sentinel_proto::duration::format(Duration::from_millis(
                    u64::try_from(uptime.as_millis()).unwrap_or(u64::MAX) / 100 * 100
                ))
            )
        };
        match next {
            Next::GiveUp => {
                let why = if self.spec.restart.mode == RestartMode::Never {
                    "not restarted (restart = never)".to_string()
                } else {
                    format!(
                        "gave up after {} failed runs in a row (max_retries = {})",
                        self.failures, self.spec.restart.max_retries
                    )
                };
                let kind = if self.spec.kind == JobKind::Task && scheduled {
                    AlertKind::ScheduledRunFailed
                } else {
                    AlertKind::GaveUp
                };
                self.raise(kind, detail, why);
            }
            Next::Restart { delay } => {
                let when = if delay.is_zero() {
                    "now".to_string()
                } else {
                    format!("in {}", sentinel_proto::duration::format(*delay))
                };
                if self.spec.kind == JobKind::Service {
                    self.raise(AlertKind::Crashed, detail, format!("restarting {when}"));
                } else if scheduled {
                    self.raise(
                        AlertKind::ScheduledRunFailed,
                        detail,
                        format!("retrying {when}"),
                    );
                }
            }
            Next::Exit => {
                if self.spec.kind == JobKind::Task && scheduled {
                    self.raise(AlertKind::ScheduledRunFailed, detail, String::new());
                }
            }
        }
    }
}
