//! The job's actor: one task that owns the job's state machine and its child, serves the
//! controls one at a time and survives a panic in any of them.

use std::future::pending;
use std::io;
use std::process::ExitStatus;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use nix::sys::signal::Signal;
use sentinel_proto::schedule::Overlap;
use sentinel_proto::{
    EngineEvent, ExitInfo, HealthState, JobSpec, JobState, JobStatus, RunOutcome, Trigger,
};
use tokio::sync::{mpsc, watch, Notify};
use tokio::time::Instant;

use super::gate::{any_changed, my_turn};
use super::handle::{Control, JobHandle, StopReason};
use super::run::{drain_output, exit_info, ActiveRun, EndingRun};
use super::watch::WatchTask;
use crate::context::Context;
use crate::error::{EngineError, Result};
use crate::logs::JobLogs;
use crate::notify::AlertKind;
use crate::process;
use crate::schedule::FireAction;

/// Starts the actor of a job, initially stopped; `failed`, and refusing to start, when the
/// definition (stored by an older version) breaks a bound this version checks.
pub(crate) fn spawn_job(spec: JobSpec, context: Arc<Context>) -> JobHandle {
    let state = match spec.validate() {
        Ok(()) => JobState::Stopped,
        Err(errors) => JobState::Failed {
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
    let health = spec.health.as_ref().map(|_| HealthState::Unknown);
    let mut actor = JobActor {
        log_error: logs.error_changes(),
        held: None,
        dependency_watch: Vec::new(),
        recheck_at: None,
        slot_turn: None,
        watcher: None,
        ending: None,
        #[cfg(test)]
        panic_while_ending: false,
        own_controls: controls.downgrade(),
        health,
        alerted: false,
        stable_at: None,
        state: state.clone(),
        run: None,
        restarts: 0,
        failures: 0,
        last_exit: None,
        retry_at: None,
        queued: None,
        occurrence: None,
        next_run_at: None,
        logs: logs.clone(),
        context,
        status: watch::Sender::new(JobStatus {
            name: spec.name.clone(),
            group: spec.group.clone(),
            kind: spec.kind,
            enabled: spec.enabled,
            state,
            restarts: 0,
            failures: 0,
            last_exit: None,
            next_run_at: None,
            health,
            resources: None,
            log_error: None,
        }),
        spec,
    };
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
    Exited(io::Result<ExitStatus>),
    RetryDue,
    /// A service that was reported has now run long enough to count as recovered.
    Stable,
    /// A held-back start should look again.
    Recheck,
    /// Writing the log file started or stopped failing.
    LogError,
}

pub(super) struct JobActor {
    pub(super) spec: JobSpec,
    pub(super) context: Arc<Context>,
    pub(super) logs: Arc<JobLogs>,
    pub(super) status: watch::Sender<JobStatus>,
    pub(super) state: JobState,
    pub(super) run: Option<ActiveRun>,
    pub(super) restarts: u32,
    pub(super) failures: u32,
    pub(super) last_exit: Option<ExitInfo>,
    pub(super) retry_at: Option<Instant>,
    /// A scheduled run waiting for the current one to finish (overlap = queue).
    pub(super) queued: Option<DateTime<Utc>>,
    /// The fire time the current run (and its retries) is for.
    pub(super) occurrence: Option<DateTime<Utc>>,
    pub(super) next_run_at: Option<DateTime<Utc>>,
    /// For health reports from the checking task; weak, so the actor still ends when every
    /// handle is gone.
    pub(super) own_controls: mpsc::WeakUnboundedSender<Control>,
    pub(super) health: Option<HealthState>,
    /// A notification went out and no recovery since.
    pub(super) alerted: bool,
    pub(super) stable_at: Option<Instant>,
    /// A start held back by a dependency or a taken port: its trigger and occurrence.
    pub(super) held: Option<(Trigger, Option<DateTime<Utc>>)>,
    /// While held: the dependencies' statuses, which wake the actor when they change.
    pub(super) dependency_watch: Vec<watch::Receiver<JobStatus>>,
    pub(super) recheck_at: Option<Instant>,
    /// While waiting for a `max_running` slot: wakes when it is this job's turn.
    pub(super) slot_turn: Option<Arc<Notify>>,
    /// The log file's write error: a change is published with the job's status.
    pub(super) log_error: watch::Receiver<Option<String>>,
    /// Watches files while the job is enabled and has `watch`; dropped to stop.
    pub(super) watcher: Option<WatchTask>,
    /// The run being ended, while it is out of `run` and its end is awaited: should a panic
    /// strike then, the recovery still finds its group to kill and its record to close.
    pub(super) ending: Option<EndingRun>,
    /// Tests only: panic in the middle of ending a run, as a bug there would.
    #[cfg(test)]
    pub(super) panic_while_ending: bool,
}

async fn child_exit(run: &mut Option<ActiveRun>) -> io::Result<ExitStatus> {
    match run {
        Some(run) => run.child.wait().await,
        None => pending().await,
    }
}

async fn due(at: Option<Instant>) {
    match at {
        Some(at) if at > Instant::now() => tokio::time::sleep_until(at).await,
        Some(_) => {}
        None => pending().await,
    }
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
            let recovered = AssertUnwindSafe(self.recover_from_panic(message.clone()))
                .catch_unwind()
                .await;
            if recovered.is_err() {
                // Even the clean-up failed: say so in the status at least.
                self.state = JobState::Failed {
                    reason: format!("internal error: {message}"),
                    since: Utc::now(),
                };
                let status = self.snapshot();
                self.status.send_replace(status);
            }
        }
    }

    /// After a panic: whatever state the actor was in cannot be trusted, so the run (if any) is
    /// killed with its group and recorded as failed, every pending wake-up is dropped, and the
    /// job is `failed` with the panic's message until someone starts it again.
    async fn recover_from_panic(&mut self, message: String) {
        tracing::error!(job = %self.spec.name, "the job's supervisor failed: {message}");
        let reason = format!("internal error: {message}; the job was stopped");
        self.retry_at = None;
        self.stable_at = None;
        self.held = None;
        self.queued = None;
        self.dependency_watch.clear();
        self.recheck_at = None;
        if self.slot_turn.take().is_some() {
            self.context.slots.leave(&self.spec.name);
        }
        if let Some(mut run) = self.run.take() {
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
        if let Some(ending) = self.ending.take() {
            process::signal_group(ending.pid, Signal::SIGKILL);
            process::clear_group(ending.pid, Signal::SIGKILL, Duration::ZERO).await;
            let info = exit_info(None, ending.started_at, ending.started.elapsed());
            self.finish_run(ending.id, &info, RunOutcome::Failure, Some(reason.clone()));
        }
        self.set_state(JobState::Failed {
            reason,
            since: Utc::now(),
        });
    }

    async fn serve(&mut self, inbox: &mut mpsc::UnboundedReceiver<Control>) {
        loop {
            let wake = tokio::select! {
                control = inbox.recv() => control.map_or(Wake::Closed, Wake::Control),
                exit = child_exit(&mut self.run) => Wake::Exited(exit),
                () = due(self.retry_at) => Wake::RetryDue,
                () = due(self.stable_at) => Wake::Stable,
                () = due(self.recheck_at) => Wake::Recheck,
                () = any_changed(&mut self.dependency_watch) => Wake::Recheck,
                () = my_turn(&self.slot_turn) => Wake::Recheck,
                Ok(()) = self.log_error.changed() => Wake::LogError,
            };
            match wake {
                Wake::Control(Control::Shutdown { reply }) => {
                    self.stop(StopReason::Shutdown).await;
                    let _ = reply.send(());
                    return;
                }
                Wake::Closed => {
                    self.stop(StopReason::Shutdown).await;
                    return;
                }
                Wake::Control(control) => self.handle(control).await,
                Wake::Exited(exit) => self.on_exit(exit).await,
                Wake::RetryDue => {
                    self.retry_at = None;
                    let scheduled_at = self.occurrence;
                    self.launch(Trigger::Retry, scheduled_at);
                }
                Wake::Stable => {
                    self.stable_at = None;
                    if self.run.is_some() && self.alerted {
                        self.raise(AlertKind::Recovered, "running again".into(), String::new());
                    }
                }
                Wake::Recheck => self.recheck(),
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
                let _ = reply.send(self.update(*spec).await);
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
                if self.run.as_ref().is_some_and(|run| run.pid == pid) {
                    tracing::warn!(job = %self.spec.name, "{reason}; restarting");
                    self.watchdog_restart(trigger, reason).await;
                }
            }
            Control::Health(report) => self.on_health(report).await,
            Control::FilesChanged(paths) => self.on_files_changed(paths).await,
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
        let busy = self.run.is_some();
        match action {
            FireAction::Restart if busy => {
                self.stop(StopReason::ScheduledRestart).await;
                self.fresh_start(Trigger::Restart, None);
            }
            FireAction::Restart => {}
            FireAction::Run if !busy => self.fresh_start(trigger, Some(scheduled_at)),
            FireAction::Run => match self
                .spec
                .schedule
                .as_ref()
                .map(|s| s.overlap)
                .unwrap_or_default()
            {
                Overlap::Skip => self.context.emit(EngineEvent::ScheduleSkipped {
                    job: self.spec.name.clone(),
                    scheduled_at,
                    reason: "the previous run is still going (overlap = skip)".into(),
                }),
                Overlap::Queue => {
                    if let Some(dropped) = self.queued.replace(scheduled_at) {
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
        }
    }

    fn start(&mut self, trigger: Trigger) -> Result<JobStatus> {
        self.refuse_start()?;
        if self.run.is_none() {
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
        self.retry_at = None;
        self.failures = 0;
        self.restarts = 0;
        self.occurrence = scheduled_at;
        self.launch(trigger, scheduled_at);
    }

    async fn update(&mut self, spec: JobSpec) -> bool {
        // The engine validated `spec`; the failure an invalid stored one was marked with ends.
        if self.run.is_none() && self.spec.validate().is_err() {
            self.state = JobState::Stopped;
        }
        let needs_restart = spec.restart_needed(&self.spec);
        let active = self.run.is_some();
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
            if let Some(pid) = self.run.as_ref().map(|run| run.pid) {
                let check = self.start_health_check(pid);
                if let Some(run) = self.run.as_mut() {
                    run.health_check = check;
                }
            }
        }
        if !self.spec.enabled {
            self.stop(StopReason::Disabled).await;
            self.publish();
            return false;
        }
        if needs_restart && active {
            self.stop(StopReason::DefinitionChanged).await;
            self.fresh_start(Trigger::Restart, None);
            return true;
        }
        // What a held-back start waits for may have changed with the definition.
        if self.held.is_some() {
            self.recheck();
        }
        self.publish();
        false
    }

    pub(super) fn snapshot(&self) -> JobStatus {
        JobStatus {
            name: self.spec.name.clone(),
            group: self.spec.group.clone(),
            kind: self.spec.kind,
            enabled: self.spec.enabled,
            state: self.state.clone(),
            restarts: self.restarts,
            failures: self.failures,
            last_exit: self.last_exit.clone(),
            next_run_at: self.next_run_at,
            health: self.health,
            resources: self
                .run
                .as_ref()
                .and_then(|_| self.context.resources.latest(&self.spec.name)),
            log_error: self.logs.last_error(),
        }
    }

    pub(super) fn set_state(&mut self, state: JobState) {
        self.state = state;
        self.publish();
    }

    pub(super) fn publish(&mut self) {
        let status = self.snapshot();
        self.status.send_replace(status.clone());
        self.context.emit(EngineEvent::StateChanged { status });
    }
}
