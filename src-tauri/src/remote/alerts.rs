//! Failure notifications for jobs on remote engines. The remote engine decides its own alerts
//! where it runs (a server has no desktop to show them); here the same moments are read from
//! its events — a job gave up, a service crashed and is restarting, a scheduled run failed, a
//! health check failed — and go through the engine's own throttle and notifiers, titled with
//! the engine's name ("api on build-box failed").

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sentinel_client::{Client, LogQuery};
use sentinel_engine::notify::{compose, AlertKind, Alerts, Notification};
use sentinel_proto::secret::Secrets;
use sentinel_proto::{EngineEvent, HealthState, JobKind, JobState, RunOutcome, Trigger};

use super::view::Jobs;

/// Log lines a notification quotes, as the local engine's do.
const ALERT_LOG_LINES: usize = 5;
/// How long reading the job's settings and last lines may take before the notification goes
/// without them.
const DETAIL_TIMEOUT: Duration = Duration::from_secs(15);

/// A notification due for a remote job: what happened, and what the engine does next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteAlert {
    pub job: String,
    pub kind: AlertKind,
    pub detail: String,
    pub next: String,
}

/// What the rules remember between events: whether each job's latest run was started by its
/// schedule (a scheduled run's failure is told once, as such).
#[derive(Debug, Default)]
pub struct AlertRules {
    scheduled: BTreeMap<String, bool>,
}

impl AlertRules {
    /// The alert `event` calls for, judged against the jobs as they were before it.
    pub fn on_event(
        &mut self,
        before: &Jobs,
        event: &EngineEvent,
        now: DateTime<Utc>,
    ) -> Option<RemoteAlert> {
        match event {
            EngineEvent::RunStarted { job, trigger, .. } => {
                // A retry continues the run it retries.
                if *trigger != Trigger::Retry && before.contains_key(job) {
                    let scheduled = matches!(trigger, Trigger::Schedule | Trigger::CatchUp);
                    self.scheduled.insert(job.clone(), scheduled);
                }
                None
            }
            EngineEvent::JobRemoved { job } => {
                self.scheduled.remove(job);
                None
            }
            EngineEvent::RunExited {
                job, outcome, exit, ..
            } => {
                let task = before.get(job)?.kind == JobKind::Task;
                let failed = matches!(outcome, RunOutcome::Failure | RunOutcome::SpawnFailed);
                (task && failed && self.was_scheduled(job)).then(|| RemoteAlert {
                    job: job.clone(),
                    kind: AlertKind::ScheduledRunFailed,
                    detail: exit.describe(),
                    next: String::new(),
                })
            }
            EngineEvent::StateChanged { status } => {
                let previous = before.get(&status.name)?;
                match &status.state {
                    JobState::Failed { reason, .. }
                        if !matches!(previous.state, JobState::Failed { .. }) =>
                    {
                        // A scheduled task's failure was told when its run exited.
                        let told = status.kind == JobKind::Task && self.was_scheduled(&status.name);
                        (!told).then(|| RemoteAlert {
                            job: status.name.clone(),
                            kind: AlertKind::GaveUp,
                            detail: reason.clone(),
                            next: String::new(),
                        })
                    }
                    JobState::Backoff { next_try_at, .. }
                        if status.kind == JobKind::Service
                            && !matches!(previous.state, JobState::Backoff { .. }) =>
                    {
                        let wait = (*next_try_at - now).to_std().unwrap_or_default();
                        Some(RemoteAlert {
                            job: status.name.clone(),
                            kind: AlertKind::Crashed,
                            detail: status
                                .last_exit
                                .as_ref()
                                .map(|exit| exit.describe())
                                .unwrap_or_default(),
                            next: if wait < Duration::from_secs(1) {
                                "restarting now".into()
                            } else {
                                format!(
                                    "restarting in {}",
                                    sentinel_proto::duration::format(Duration::from_secs(
                                        wait.as_secs()
                                    ))
                                )
                            },
                        })
                    }
                    _ => None,
                }
            }
            EngineEvent::HealthChanged {
                job,
                health: HealthState::Unhealthy,
                detail,
            } => {
                let previous = before.get(job)?;
                (previous.health != Some(HealthState::Unhealthy)).then(|| RemoteAlert {
                    job: job.clone(),
                    kind: AlertKind::Unhealthy,
                    detail: detail.clone().unwrap_or_default(),
                    next: String::new(),
                })
            }
            _ => None,
        }
    }

    fn was_scheduled(&self, job: &str) -> bool {
        self.scheduled.get(job).copied().unwrap_or(false)
    }
}

/// The title's name for a remote job: "api on build-box".
pub fn job_on(job: &str, engine: &str) -> String {
    format!("{job} on {engine}")
}

/// Sends `alert` through `alerts`: first asks the engine whether the job wants notifications
/// (`notify = false` mutes it, as it does locally) and for its last log lines; when the engine
/// does not answer in time, the notification goes without them.
pub async fn raise(alerts: Arc<Alerts>, client: Client, engine: String, alert: RemoteAlert) {
    let details = async {
        let detail = client.job(&alert.job, Secrets::Masked).await.ok();
        let tail = if alert.kind == AlertKind::Recovered {
            Vec::new()
        } else {
            let query = LogQuery {
                tail: Some(ALERT_LOG_LINES),
                stream: None,
            };
            client.logs(&alert.job, query).await.unwrap_or_default()
        };
        (detail, tail)
    };
    let (detail, tail) = tokio::time::timeout(DETAIL_TIMEOUT, details)
        .await
        .unwrap_or_default();
    let name = job_on(&alert.job, &engine);
    let (title, body) = compose(&name, alert.kind, &alert.detail, &alert.next);
    alerts.raise(Notification {
        job: name,
        kind: alert.kind,
        title,
        body,
        at: Utc::now(),
        exit: detail.as_ref().and_then(|d| d.status.last_exit.clone()),
        log_tail: tail.into_iter().map(|line| line.text).collect(),
        suppressed: 0,
        muted: detail.as_ref().is_some_and(|d| !d.spec.notify),
        // The remote engine's own webhooks are its to call.
        job_webhook: None,
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use sentinel_proto::{ExitInfo, JobStatus};

    fn status(name: &str, kind: JobKind, state: JobState) -> JobStatus {
        JobStatus::new(name, kind, state)
    }

    fn jobs(list: &[JobStatus]) -> Jobs {
        list.iter().map(|j| (j.name.clone(), j.clone())).collect()
    }

    fn changed(status: JobStatus) -> EngineEvent {
        EngineEvent::StateChanged {
            status: Box::new(status),
        }
    }

    fn exit(code: i32) -> ExitInfo {
        ExitInfo {
            code: Some(code),
            signal: None,
            at: Utc::now(),
            duration_ms: 5,
        }
    }

    fn started(job: &str, trigger: Trigger) -> EngineEvent {
        EngineEvent::RunStarted {
            job: job.into(),
            run_id: 1,
            pid: 1,
            trigger,
            scheduled_at: None,
        }
    }

    #[test]
    fn a_service_that_crashes_gives_up_or_turns_unhealthy_is_told_once_each() {
        let now = Utc::now();
        let running = status(
            "api",
            JobKind::Service,
            JobState::Running { pid: 1, since: now },
        );
        let before = jobs(std::slice::from_ref(&running));
        let mut rules = AlertRules::default();

        let mut backoff = status(
            "api",
            JobKind::Service,
            JobState::Backoff {
                next_try_at: now + chrono::Duration::seconds(5),
                attempt: 1,
            },
        );
        backoff.last_exit = Some(exit(3));
        let crashed = rules
            .on_event(&before, &changed(backoff.clone()), now)
            .unwrap();
        assert_eq!(crashed.kind, AlertKind::Crashed);
        assert_eq!(crashed.detail, "exit code 3");
        assert_eq!(crashed.next, "restarting in 5s");
        // Still in backoff: nothing new to say.
        assert_eq!(
            rules.on_event(&jobs(&[backoff.clone()]), &changed(backoff.clone()), now),
            None
        );

        let failed = status(
            "api",
            JobKind::Service,
            JobState::Failed {
                reason: "gave up after 5 failed starts".into(),
                since: now,
            },
        );
        let gave_up = rules
            .on_event(&jobs(&[backoff]), &changed(failed.clone()), now)
            .unwrap();
        assert_eq!(gave_up.kind, AlertKind::GaveUp);
        assert_eq!(gave_up.detail, "gave up after 5 failed starts");
        assert_eq!(
            rules.on_event(&jobs(std::slice::from_ref(&failed)), &changed(failed), now),
            None
        );

        let sick = EngineEvent::HealthChanged {
            job: "api".into(),
            health: HealthState::Unhealthy,
            detail: Some("GET /health: 500".into()),
        };
        let unhealthy = rules.on_event(&before, &sick, now).unwrap();
        assert_eq!(unhealthy.kind, AlertKind::Unhealthy);
        assert_eq!(unhealthy.detail, "GET /health: 500");
        let mut already = running;
        already.health = Some(HealthState::Unhealthy);
        assert_eq!(rules.on_event(&jobs(&[already]), &sick, now), None);

        // A job the app never saw (added and gone between two lists) is not guessed at.
        assert_eq!(rules.on_event(&Jobs::new(), &sick, now), None);
    }

    #[test]
    fn a_scheduled_task_that_fails_is_told_once_and_a_manual_run_only_when_it_gives_up() {
        let now = Utc::now();
        let waiting = status("backup", JobKind::Task, JobState::Stopped);
        let before = jobs(&[waiting]);
        let mut rules = AlertRules::default();
        let exited = EngineEvent::RunExited {
            job: "backup".into(),
            run_id: 1,
            outcome: RunOutcome::Failure,
            exit: exit(2),
        };
        let failed = changed(status(
            "backup",
            JobKind::Task,
            JobState::Failed {
                reason: "exit code 2".into(),
                since: now,
            },
        ));

        assert_eq!(
            rules.on_event(&before, &started("backup", Trigger::Schedule), now),
            None
        );
        let told = rules.on_event(&before, &exited, now).unwrap();
        assert_eq!(told.kind, AlertKind::ScheduledRunFailed);
        assert_eq!(told.detail, "exit code 2");
        assert_eq!(rules.on_event(&before, &failed, now), None, "told already");

        rules.on_event(&before, &started("backup", Trigger::Manual), now);
        assert_eq!(rules.on_event(&before, &exited, now), None);
        assert_eq!(
            rules.on_event(&before, &failed, now).unwrap().kind,
            AlertKind::GaveUp
        );

        // A clean exit is no failure.
        rules.on_event(&before, &started("backup", Trigger::Schedule), now);
        let fine = EngineEvent::RunExited {
            job: "backup".into(),
            run_id: 2,
            outcome: RunOutcome::Success,
            exit: exit(0),
        };
        assert_eq!(rules.on_event(&before, &fine, now), None);
    }
}
