//! The job's actor: one task that owns the job's phase and its child, serves the controls one
//! at a time and survives a panic in any of them.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use nix::sys::signal::Signal;
use sentinel_proto::schedule::Overlap;
use sentinel_proto::{
    EngineEvent, ExitInfo, HealthState, JobKind, JobSpec, JobState, JobStatus, RunOutcome,
    StartTimings, Trigger,
};
use tokio::sync::{mpsc, watch};

use super::handle::{Control, JobHandle, StopReason};
use super::phase::{Due, Held, Phase, Rest, Running, Series, Until};
use super::run::{drain_output, exit_info};
use super::watch::WatchTask;
use crate::context::Context;
use crate::error::{EngineError, Result};
use crate::logs::JobLogs;
use crate::process;
use crate::schedule::FireAction;

/// Starts the actor of a job, initially stopped; `failed`, and refusing to start, when the
/// definition (stored by an older version) breaks a bound this version checks.
pub(crate) fn spawn_job(spec: Arc<JobSpec>, context: Arc<Context>) -> JobHandle {
    let rest = match spec.validate() {
        Ok(()) => Rest::Stopped,
        Err(errors) => Rest::Failed {
            reason: format!(
                "its stored definition is invalid ({errors}); change it with `sentinel edit {}` or remove it",
                spec.name
            ),
            since: Utc::now(),
        },
    };
    let logs = JobLogs::new(
        &context.paths.log_dir,
        &spec.name,
        spec.logs.clone(),
        context.log_memory,
    );
    let (controls, inbox) = mpsc::unbounded_channel();
    let mut actor = JobActor {
        phase: Phase::Idle(rest),
        log_error: logs.error_changes(),
        watcher: None,
        #[cfg(test)]
        panic_while_ending: false,
        own_controls: controls.downgrade(),
        health: spec.health.as_ref().map(|_| HealthState::Unknown),
        startup: None,
        alerted: false,
        restarts: 0,
        failures: 0,
        last_exit: None,
        next_run_at: None,
        logs: logs.clone(),
        context,
        // Replaced by the actor's own snapshot before anyone can read it.
        status: watch::Sender::new(JobStatus::new(
            spec.name.clone(),
            spec.kind,
            JobState::Stopped,
        )),
        spec,
    };
    actor.status.send_replace(actor.snapshot());
    let status = actor.status.subscribe();
    actor.context.list_job(&actor.spec.name, status.clone());
    actor.watcher = actor.start_watch();
    tokio::spawn(actor.run(inbox));
    JobHandle {
        controls,
        status,
        logs,
    }
}

enum Wake {
    Control(Control),
    Closed,
    Due(Due),
    /// Writing the log file started or stopped failing.
    LogError,
}

pub(super) struct JobActor {
    /// The registry holds the same definition.
    pub(super) spec: Arc<JobSpec>,
    pub(super) context: Arc<Context>,
    pub(super) logs: Arc<JobLogs>,
    pub(super) status: watch::Sender<JobStatus>,
    /// What the job is doing, with the data of that alone; its state is read from it.
    pub(super) phase: Phase,
    pub(super) restarts: u32,
    pub(super) failures: u32,
    pub(super) last_exit: Option<ExitInfo>,
    pub(super) next_run_at: Option<DateTime<Utc>>,
    /// For health reports from the checking task; weak, so the actor still ends when every
    /// handle is gone.
    pub(super) own_controls: mpsc::WeakUnboundedSender<Control>,
    pub(super) health: Option<HealthState>,
    /// The times of the latest start, for `sentinel up`'s timings.
    pub(super) startup: Option<StartTimings>,
    /// A notification went out and no recovery since.
    pub(super) alerted: bool,
    /// The log file's write error: a change is published with the job's status.
    pub(super) log_error: watch::Receiver<Option<String>>,
    /// Watches files while the job is enabled and has `watch`; dropped to stop.
    pub(super) watcher: Option<WatchTask>,
    /// Tests only: panic in the middle of ending a run, as a bug there would.
    #[cfg(test)]
    pub(super) panic_while_ending: bool,
}

/// What a panic said, for the job's failure reason.
fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|text| text.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".into())
}

impl JobActor {
    /// Serves the job's controls until shutdown. A panic (a bug) in handling one of them is
    /// caught: the run is killed, the job is marked failed with the message, and the actor
    /// serves on, so the job stays controllable and nothing it started is left unsupervised.
    async fn run(mut self, mut inbox: mpsc::UnboundedReceiver<Control>) {
        use futures_util::FutureExt;
        use std::panic::AssertUnwindSafe;
        loop {
            let served = AssertUnwindSafe(self.serve(&mut inbox))
                .catch_unwind()
                .await;
            let Err(panic) = served else { return };
            let message = panic_message(&*panic);
            let recovered = AssertUnwindSafe(Box::pin(self.recover_from_panic(message.clone())))
                .catch_unwind()
                .await;
            if recovered.is_err() {
                // Even the clean-up failed: say so in the status at least.
                self.phase = Phase::Idle(Rest::Failed {
                    reason: format!("internal error: {message}"),
                    since: Utc::now(),
                });
                let status = self.snapshot();
                self.status.send_replace(status);
            }
        }
    }

    /// After a panic: whatever phase the actor was in cannot be trusted, so the run (if any) is
    /// killed with its group and recorded as failed, every pending wake-up is dropped, and the
    /// job is `failed` with the panic's message until someone starts it again.
    async fn recover_from_panic(&mut self, message: String) {
        tracing::error!(job = %self.spec.name, "the job's supervisor failed: {message}");
        let reason = format!("internal error: {message}; the job was stopped");
        let failed = Phase::Idle(Rest::Failed {
            reason: reason.clone(),
            since: Utc::now(),
        });
        match std::mem::replace(&mut self.phase, failed) {
            Phase::Held(Held {
                until: Until::Turn(_),
                ..
            }) => self.context.slots.leave(&self.spec.name),
            Phase::Running(Running { mut run, .. }) => {
                run.health_check = None;
                process::signal_group(run.pid, Signal::SIGKILL);
                let exit = tokio::time::timeout(Duration::from_secs(5), run.child.wait()).await;
                process::clear_group(run.pid, Signal::SIGKILL, Duration::ZERO).await;
                drain_output(run.output).await;
                let status = exit.ok().and_then(|exit| exit.ok());
                let info = exit_info(status.as_ref(), run.started_at, run.started.elapsed());
                self.finish_run(run.id, &info, RunOutcome::Failure, Some(reason.clone()));
            }
            // A run that was being ended: its process may ignore the stop signal; KILL ends it.
            Phase::Ending(ending) => {
                process::signal_group(ending.pid, Signal::SIGKILL);
                process::clear_group(ending.pid, Signal::SIGKILL, Duration::ZERO).await;
                let info = exit_info(None, ending.started_at, ending.started.elapsed());
                self.finish_run(ending.id, &info, RunOutcome::Failure, Some(reason.clone()));
            }
            Phase::Idle(_) | Phase::Held(_) | Phase::Starting | Phase::Retry(_) => {}
        }
        self.set_phase(Phase::Idle(Rest::Failed {
            reason,
            since: Utc::now(),
        }));
    }

    async fn serve(&mut self, inbox: &mut mpsc::UnboundedReceiver<Control>) {
        loop {
            let wake = tokio::select! {
                control = inbox.recv() => control.map_or(Wake::Closed, Wake::Control),
                due = self.phase.due() => Wake::Due(due),
                Ok(()) = self.log_error.changed() => Wake::LogError,
            };
            // What handles a wake-up is boxed: its future is large and lives only while it
            // runs, so an idle job's task (one per job, always alive) stays small.
            match wake {
                Wake::Control(Control::Shutdown { reply }) => {
                    Box::pin(self.stop(StopReason::Shutdown)).await;
                    let _ = reply.send(());
                    return;
                }
                Wake::Closed => {
                    Box::pin(self.stop(StopReason::Shutdown)).await;
                    return;
                }
                Wake::Control(control) => Box::pin(self.handle(control)).await,
                Wake::Due(Due::Exited(exit)) => Box::pin(self.on_exit(exit)).await,
                Wake::Due(Due::Retry) => self.retry(),
                Wake::Due(Due::Stable) => self.on_stable(),
                Wake::Due(Due::Recheck) => self.recheck(),
                Wake::LogError => self.publish(),
            }
        }
    }

    async fn handle(&mut self, control: Control) {
        match control {
            Control::Start { trigger, reply } => {
                let _ = reply.send(self.start(trigger));
            }
            Control::Stop { why, reply } => {
                let why = *why;
                let answer = match why {
                    StopReason::Restart => self.refuse_start(),
                    _ => Ok(()),
                };
                let answer = match answer {
                    Ok(()) => {
                        self.stop(why).await;
                        Ok(self.snapshot())
                    }
                    Err(err) => Err(err),
                };
                let _ = reply.send(answer);
            }
            Control::Update { spec, reply } => {
                let _ = reply.send(self.update(spec).await);
            }
            Control::Fire {
                scheduled_at,
                trigger,
                action,
            } => self.fire(scheduled_at, trigger, action).await,
            Control::NextRun(at) => {
                if self.next_run_at != at {
                    self.next_run_at = at;
                    self.publish();
                }
            }
            Control::Watchdog {
                pid,
                trigger,
                reason,
            } => {
                if self.phase.running_pid() == Some(pid) {
                    tracing::warn!(job = %self.spec.name, "{reason}; restarting");
                    self.watchdog_restart(trigger, reason.into()).await;
                }
            }
            Control::Health(report) => self.on_health(*report).await,
            Control::FilesChanged(paths) => self.on_files_changed(paths.into_vec()).await,
            Control::Recheck => self.recheck(),
            Control::Shutdown { .. } => unreachable!("handled by the loop"),
            #[cfg(test)]
            Control::PanicWhileEnding => self.panic_while_ending = true,
            #[cfg(test)]
            Control::Panic { message, reply } => {
                // Dropped by the unwinding, as a real panic drops the reply it owes.
                let _reply = reply;
                panic!("{message}")
            }
        }
    }

    async fn fire(&mut self, scheduled_at: DateTime<Utc>, trigger: Trigger, action: FireAction) {
        if !self.spec.enabled {
            return;
        }
        let overlap = self
            .spec
            .schedule
            .as_ref()
            .map(|s| s.overlap)
            .unwrap_or_default();
        match (action, &mut self.phase) {
            (FireAction::Restart, Phase::Running(_)) => {
                self.restarting();
                self.stop(StopReason::ScheduledRestart).await;
                self.fresh_start(Trigger::Restart, None);
            }
            (FireAction::Restart, _) => {}
            (FireAction::Run, Phase::Running(running)) => match overlap {
                Overlap::Skip => self.context.emit(EngineEvent::ScheduleSkipped {
                    job: self.spec.name.clone(),
                    scheduled_at,
                    reason: "the previous run is still going (overlap = skip)".into(),
                }),
                Overlap::Queue => {
                    if let Some(dropped) = running.series.queued.replace(scheduled_at) {
                        self.context.emit(EngineEvent::ScheduleSkipped {
                            job: self.spec.name.clone(),
                            scheduled_at: dropped,
                            reason: "a newer run is queued (overlap = queue keeps one)".into(),
                        });
                    }
                }
                Overlap::Replace => {
                    self.stop(StopReason::Replaced).await;
                    self.fresh_start(trigger, Some(scheduled_at));
                }
            },
            (FireAction::Run, _) => self.fresh_start(trigger, Some(scheduled_at)),
        }
    }

    fn start(&mut self, trigger: Trigger) -> Result<JobStatus> {
        self.refuse_start()?;
        if !matches!(self.phase, Phase::Running(_)) {
            self.fresh_start(trigger, None);
        }
        Ok(self.snapshot())
    }

    /// Why the job may not start: disabled, or a definition stored by an older version that
    /// breaks a bound this one checks.
    pub(super) fn refuse_start(&self) -> Result<()> {
        if !self.spec.enabled {
            return Err(EngineError::Disabled(self.spec.name.clone()));
        }
        self.spec.validate().map_err(EngineError::Invalid)
    }

    /// A start by a user, the engine or a schedule forgets earlier failures: each occurrence
    /// of a schedule starts fresh.
    pub(super) fn fresh_start(&mut self, trigger: Trigger, scheduled_at: Option<DateTime<Utc>>) {
        self.failures = 0;
        self.restarts = 0;
        self.startup = Some(StartTimings {
            requested_at: Utc::now(),
            started_at: None,
            ready_at: None,
        });
        // A scheduled run queued behind the start in progress waits behind this one instead.
        let queued = self.phase.series().and_then(|series| series.queued);
        self.launch(
            trigger,
            Series {
                scheduled_at,
                queued,
            },
        );
    }

    pub(super) fn snapshot(&self) -> JobStatus {
        JobStatus {
            name: self.spec.name.clone(),
            group: self.spec.group.clone(),
            project: self.spec.project.clone(),
            kind: self.spec.kind,
            enabled: self.spec.enabled,
            state: self.phase.state(),
            restarts: self.restarts,
            failures: self.failures,
            last_exit: self.last_exit.clone(),
            next_run_at: self.next_run_at,
            health: self.health,
            resources: match self.phase {
                Phase::Running(_) => self.context.resources.latest(&self.spec.name),
                _ => None,
            },
            log_error: self.logs.last_error(),
            startup: self.startup,
        }
    }

    /// Moves to `phase` and tells the world.
    pub(super) fn set_phase(&mut self, phase: Phase) {
        if let (Phase::Idle(Rest::Exited { since }), JobKind::Task) = (&phase, self.spec.kind) {
            self.mark_ready(*since);
        }
        self.phase = phase;
        self.publish();
    }

    /// This job restarts on its own: its `restart = true` dependants restart with it.
    pub(super) fn restarting(&self) {
        let _ = self.context.restarting.send(self.spec.name.clone());
    }

    /// The latest start became ready (its first time only).
    pub(super) fn mark_ready(&mut self, at: DateTime<Utc>) {
        if let Some(startup) = &mut self.startup {
            startup.ready_at.get_or_insert(at);
        }
    }

    pub(super) fn publish(&mut self) {
        let status = self.snapshot();
        self.status.send_replace(status.clone());
        self.context.emit(EngineEvent::StateChanged {
            status: Box::new(status),
        });
    }
}
