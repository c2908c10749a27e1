use std::future::pending;
use std::io;
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use nix::sys::signal::Signal;
use sentinel_proto::schedule::Overlap;
use sentinel_proto::{
    Condition, Dependency, EngineEvent, ExitInfo, HealthState, JobKind, JobSpec, JobState,
    JobStatus, LogStream, RestartMode, RunOutcome, Trigger,
};
use tokio::sync::{mpsc, oneshot, watch, Notify};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::policy::{self, Next, RunResult};
use super::slots::Slot;
use super::watch::{describe_changes, spawn_watch, EngineFiles, WatchTask};
use crate::context::Context;
use crate::error::{EngineError, Result};
use crate::later::Later;
use crate::logs::{self, JobLogs};
use crate::monitor::{spawn_health_check, HealthReport};
use crate::notify::{compose, AlertKind, Notification};
use crate::process;
use crate::schedule::FireAction;
use crate::store::{NewRun, RunEnd};

/// How long to wait for output still in the pipes after a process group is gone.
const OUTPUT_DRAIN: Duration = Duration::from_secs(2);

/// Log lines a failure notification quotes.
const ALERT_LOG_LINES: usize = 5;

/// How often a held-back start looks again at what no event announces: a port being freed,
/// a missing dependency being added.
const RECHECK: Duration = Duration::from_secs(1);

enum Control {
    Start {
        trigger: Trigger,
        reply: oneshot::Sender<Result<JobStatus>>,
    },
    Stop {
        why: StopReason,
        reply: oneshot::Sender<Result<JobStatus>>,
    },
    Update {
        spec: Box<JobSpec>,
        reply: oneshot::Sender<bool>,
    },
    Shutdown {
        reply: oneshot::Sender<()>,
    },
    /// The schedule fired for `scheduled_at`.
    Fire {
        scheduled_at: DateTime<Utc>,
        trigger: Trigger,
        action: FireAction,
    },
    NextRun(Option<DateTime<Utc>>),
    /// A watchdog wants the run led by `pid` restarted (memory limit).
    Watchdog {
        pid: u32,
        trigger: Trigger,
        reason: String,
    },
    Health(HealthReport),
    /// Panics in the actor, as a bug would: for the test that the engine survives one.
    #[cfg(test)]
    Panic {
        message: String,
        reply: oneshot::Sender<()>,
    },
    /// Tests only: the next run to be ended panics half-way.
    #[cfg(test)]
    PanicWhileEnding,
    /// Watched files changed (one debounced burst).
    FilesChanged(Vec<std::path::PathBuf>),
    /// Something a held-back start waits for may have changed; look now.
    Recheck,
}

/// A cheap handle to a job's actor.
#[derive(Clone)]
pub(crate) struct JobHandle {
    controls: mpsc::UnboundedSender<Control>,
    status: watch::Receiver<JobStatus>,
    pub logs: Arc<JobLogs>,
}

impl JobHandle {
    pub fn status(&self) -> JobStatus {
        self.status.borrow().clone()
    }

    async fn ask<T>(&self, control: impl FnOnce(oneshot::Sender<T>) -> Control) -> Result<T> {
        let (reply, answer) = oneshot::channel();
        self.controls
            .send(control(reply))
            .map_err(|_| EngineError::ShuttingDown)?;
        answer.await.map_err(|_| {
            if self.controls.is_closed() {
                EngineError::ShuttingDown
            } else {
                // The actor lives on but dropped the reply: it panicked handling this control
                // (and has recovered; its status says why).
                EngineError::Internal(format!(
                    "the job's supervisor failed handling this request; see `sentinel status {}`",
                    self.status.borrow().name
                ))
            }
        })
    }

    /// Starts the job unless it is already running; answers once it runs or failed to start.
    pub async fn start(&self, trigger: Trigger) -> Result<JobStatus> {
        self.ask(|reply| Control::Start { trigger, reply }).await?
    }

    /// Answers once the whole process group is gone. A stop to restart is refused, and
    /// nothing stopped, when the job could not start again (disabled, or an invalid stored
    /// definition).
    pub async fn stop(&self, why: StopReason) -> Result<JobStatus> {
        self.ask(|reply| Control::Stop { why, reply }).await?
    }

    /// Applies a new definition; answers whether the running process had to be restarted.
    pub async fn update(&self, spec: JobSpec) -> Result<bool> {
        self.ask(|reply| Control::Update {
            spec: Box::new(spec),
            reply,
        })
        .await
    }

    /// The schedule fired: run a task (or restart a service) per the overlap policy.
    pub fn fire(&self, scheduled_at: DateTime<Utc>, trigger: Trigger, action: FireAction) {
        let _ = self.controls.send(Control::Fire {
            scheduled_at,
            trigger,
            action,
        });
    }

    /// When the schedule fires next, for the status.
    pub fn set_next_run(&self, at: Option<DateTime<Utc>>) {
        let _ = self.controls.send(Control::NextRun(at));
    }

    /// Restarts the run led by `pid` (if it is still the current one), recording `reason`.
    pub fn watchdog(&self, pid: u32, trigger: Trigger, reason: String) {
        let _ = self.controls.send(Control::Watchdog {
            pid,
            trigger,
            reason,
        });
    }

    /// A held-back start looks at its dependencies and ports again now.
    pub fn recheck(&self) {
        let _ = self.controls.send(Control::Recheck);
    }

    /// Makes the actor panic (tests only): answers with what the caller of a control that
    /// panicked gets.
    #[cfg(test)]
    pub async fn panic(&self, message: &str) -> Result<()> {
        let message = message.to_string();
        self.ask(|reply| Control::Panic { message, reply }).await
    }

    /// Tests only: the next stop of a run panics after the stop signal went out.
    #[cfg(test)]
    pub fn panic_while_ending(&self) {
        let _ = self.controls.send(Control::PanicWhileEnding);
    }

    /// Stops the job and ends its actor.
    pub async fn shutdown(&self) {
        let _ = self.ask(|reply| Control::Shutdown { reply }).await;
    }
}

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

struct ActiveRun {
    id: i64,
    pid: u32,
    child: tokio::process::Child,
    started: Instant,
    started_at: DateTime<Utc>,
    output: [JoinHandle<()>; 2],
    /// Dropped with the run, which ends the checks.
    health_check: Option<crate::monitor::HealthTask>,
    /// One of the `max_running` slots, given back when the run is dropped.
    _slot: Slot,
}

/// Why the engine stopped a run, as the run history says it.
#[derive(Clone)]
pub(crate) enum StopReason {
    User,
    Restart,
    DefinitionChanged,
    Disabled,
    Shutdown,
    Replaced,
    ScheduledRestart,
    /// Watched files changed: which.
    FilesChanged(String),
}

impl StopReason {
    fn describe(self) -> String {
        let text = match self {
            StopReason::User => "stopped by request",
            StopReason::Restart => "stopped to restart",
            StopReason::DefinitionChanged => "stopped to apply a changed definition",
            StopReason::Disabled => "stopped because the job was disabled",
            StopReason::Shutdown => "stopped because the engine shut down",
            StopReason::Replaced => "stopped for the next scheduled run (overlap = replace)",
            StopReason::ScheduledRestart => "stopped for its scheduled restart",
            StopReason::FilesChanged(what) => {
                return format!("stopped to restart because watched files changed: {what}")
            }
        };
        text.to_string()
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

struct JobActor {
    spec: JobSpec,
    context: Arc<Context>,
    logs: Arc<JobLogs>,
    status: watch::Sender<JobStatus>,
    state: JobState,
    run: Option<ActiveRun>,
    restarts: u32,
    failures: u32,
    last_exit: Option<ExitInfo>,
    retry_at: Option<Instant>,
    /// A scheduled run waiting for the current one to finish (overlap = queue).
    queued: Option<DateTime<Utc>>,
    /// The fire time the current run (and its retries) is for.
    occurrence: Option<DateTime<Utc>>,
    next_run_at: Option<DateTime<Utc>>,
    /// For health reports from the checking task; weak, so the actor still ends when every
    /// handle is gone.
    own_controls: mpsc::WeakUnboundedSender<Control>,
    health: Option<HealthState>,
    /// A notification went out and no recovery since.
    alerted: bool,
    stable_at: Option<Instant>,
    /// A start held back by a dependency or a taken port: its trigger and occurrence.
    held: Option<(Trigger, Option<DateTime<Utc>>)>,
    /// While held: the dependencies' statuses, which wake the actor when they change.
    dependency_watch: Vec<watch::Receiver<JobStatus>>,
    recheck_at: Option<Instant>,
    /// While waiting for a `max_running` slot: wakes when it is this job's turn.
    slot_turn: Option<Arc<Notify>>,
    /// The log file's write error: a change is published with the job's status.
    log_error: watch::Receiver<Option<String>>,
    /// Watches files while the job is enabled and has `watch`; dropped to stop.
    watcher: Option<WatchTask>,
    /// The run being ended, while it is out of `run` and its end is awaited: should a panic
    /// strike then, the recovery still finds its group to kill and its record to close.
    ending: Option<EndingRun>,
    /// Tests only: panic in the middle of ending a run, as a bug there would.
    #[cfg(test)]
    panic_while_ending: bool,
}

#[derive(Clone, Copy)]
struct EndingRun {
    id: i64,
    pid: u32,
    started: Instant,
    started_at: DateTime<Utc>,
}

impl EndingRun {
    fn of(run: &ActiveRun) -> EndingRun {
        EndingRun {
            id: run.id,
            pid: run.pid,
            started: run.started,
            started_at: run.started_at,
        }
    }
}

/// Resolves when one of the statuses changes (or its job goes away); never when there are
/// none.
async fn any_changed(statuses: &mut [watch::Receiver<JobStatus>]) {
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

async fn my_turn(turn: &Option<Arc<Notify>>) {
    match turn {
        Some(turn) => turn.notified().await,
        None => pending().await,
    }
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
    fn refuse_start(&self) -> Result<()> {
        if !self.spec.enabled {
            return Err(EngineError::Disabled(self.spec.name.clone()));
        }
        self.spec.validate().map_err(EngineError::Invalid)
    }

    /// A start by a user, the engine or a schedule forgets earlier failures: each occurrence
    /// of a schedule starts fresh.
    fn fresh_start(&mut self, trigger: Trigger, scheduled_at: Option<DateTime<Utc>>) {
        self.retry_at = None;
        self.failures = 0;
        self.restarts = 0;
        self.occurrence = scheduled_at;
        self.launch(trigger, scheduled_at);
    }

    /// Tries a held-back start again.
    fn recheck(&mut self) {
        self.recheck_at = None;
        if let Some((trigger, scheduled_at)) = self.held.take() {
            self.launch(trigger, scheduled_at);
        }
    }

    /// Why the job cannot start right now: a dependency that does not meet its condition, or
    /// a declared port someone else holds. Watches what it waits for.
    fn held_back(&mut self) -> Option<String> {
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
    fn hold(&mut self, trigger: Trigger, scheduled_at: Option<DateTime<Utc>>, reason: String) {
        self.held = Some((trigger, scheduled_at));
        let since = match &self.state {
            JobState::Waiting { reason: now, .. } if *now == reason => return,
            JobState::Waiting { since, .. } => *since,
            _ => Utc::now(),
        };
        tracing::info!(job = %self.spec.name, "{reason}");
        self.set_state(JobState::Waiting { reason, since });
    }

    fn launch(&mut self, trigger: Trigger, scheduled_at: Option<DateTime<Utc>>) {
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
        let id = self.context.next_run_id();
        let job = self.spec.name.clone();
        if self.state != JobState::Starting {
            self.set_state(JobState::Starting);
        }
        match process::spawn(
            &self.spec,
            &self.context.search_path,
            &self.context.engine_marker,
        ) {
            Ok(spawned) => {
                let started_at = Utc::now();
                let pid = spawned.pid;
                self.context.store.record_run_started(NewRun {
                    id,
                    job: job.clone(),
                    trigger,
                    started_at,
                    pid: Some(pid),
                    proc_start: process::recover::process_start_time(pid),
                    scheduled_at,
                });
                self.logs.mask_values(spawned.secret_values);
                let output = [
                    tokio::spawn(logs::capture(
                        self.logs.clone(),
                        LogStream::Stdout,
                        spawned.stdout,
                    )),
                    tokio::spawn(logs::capture(
                        self.logs.clone(),
                        LogStream::Stderr,
                        spawned.stderr,
                    )),
                ];
                let health_check = self.start_health_check(pid);
                self.run = Some(ActiveRun {
                    id,
                    pid,
                    child: spawned.child,
                    started: Instant::now(),
                    started_at,
                    output,
                    health_check,
                    _slot: slot,
                });
                if self.alerted && self.spec.kind == JobKind::Service {
                    let settle = self.spec.restart.min_uptime.max(Duration::from_secs(1));
                    self.stable_at = Some(Instant::now().later(settle));
                }
                self.context.emit(EngineEvent::RunStarted {
                    job,
                    run_id: id,
                    pid,
                    trigger,
                    scheduled_at,
                });
                self.set_state(JobState::Running {
                    pid,
                    since: started_at,
                });
            }
            Err(error) => {
                let error = process::protected::explain(error, &self.spec);
                let now = Utc::now();
                tracing::warn!(job = %job, "cannot start: {error}");
                self.context.store.record_run_started(NewRun {
                    id,
                    job: job.clone(),
                    trigger,
                    started_at: now,
                    pid: None,
                    proc_start: None,
                    scheduled_at,
                });
                self.context.store.record_run_ended(RunEnd {
                    id,
                    ended_at: now,
                    outcome: RunOutcome::SpawnFailed,
                    exit_code: None,
                    signal: None,
                    reason: Some(error.clone()),
                });
                self.context.emit(EngineEvent::SpawnFailed {
                    job,
                    run_id: id,
                    error: error.clone(),
                });
                self.after_run(
                    RunResult::Failure,
                    Duration::ZERO,
                    format!("could not start: {error}"),
                );
            }
        }
    }

    async fn on_exit(&mut self, exit: io::Result<ExitStatus>) {
        let Some(run) = self.run.take() else { return };
        self.ending = Some(EndingRun::of(&run));
        let uptime = run.started.elapsed();
        let signal = process::signal_from_name(self.spec.stop_signal.as_str());
        if process::clear_group(run.pid, signal, self.spec.stop_timeout).await {
            tracing::info!(job = %self.spec.name, "stopped processes its main process left behind");
        }
        drain_output(run.output).await;

        let info = exit_info(exit.as_ref().ok(), run.started_at, uptime);
        let success = info
            .code
            .is_some_and(|code| self.spec.restart.success_exit_codes.contains(&code));
        let (result, outcome, reason) = if success {
            (RunResult::Success, RunOutcome::Success, None)
        } else {
            let reason = match &exit {
                Ok(_) => info.describe(),
                Err(err) => format!("cannot read the exit status: {err}"),
            };
            (RunResult::Failure, RunOutcome::Failure, Some(reason))
        };
        self.ending = None;
        self.finish_run(run.id, &info, outcome, reason.clone());
        self.after_run(result, uptime, reason.unwrap_or_default());
    }

    /// What an `exec` health check runs with: the job's own variables, env files included
    /// (as read now; the run itself started with them a moment ago).
    fn probe_env(&self) -> std::collections::BTreeMap<String, String> {
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

    /// Watches the job's files while it is enabled and has `watch`.
    fn start_watch(&self) -> Option<WatchTask> {
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
        let changed = move |paths| {
            if let Some(controls) = controls.upgrade() {
                let _ = controls.send(Control::FilesChanged(paths));
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
    async fn on_files_changed(&mut self, paths: Vec<std::path::PathBuf>) {
        let cwd = self.spec.cwd.clone().unwrap_or_default();
        let what = describe_changes(&paths, &cwd);
        match self.state {
            JobState::Running { .. } | JobState::Starting => {
                tracing::info!(job = %self.spec.name, "watched files changed ({what}); restarting");
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

    fn start_health_check(&self, pid: u32) -> Option<crate::monitor::HealthTask> {
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
            pid,
            move |report| {
                if let Some(controls) = controls.upgrade() {
                    let _ = controls.send(Control::Health(report));
                }
            },
        )
    }

    async fn on_health(&mut self, report: HealthReport) {
        if self.run.as_ref().is_none_or(|run| run.pid != report.pid) {
            return;
        }
        let before = self.health.replace(report.health);
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

    /// Ends the current run as a failure with `reason` and starts a new one at once. Watchdog
    /// restarts do not count towards `max_retries`: the process did not fail on its own.
    async fn watchdog_restart(&mut self, trigger: Trigger, reason: String) {
        let Some((id, info)) = self.end_run().await else {
            return;
        };
        self.finish_run(id, &info, RunOutcome::Failure, Some(reason));
        self.restarts += 1;
        let scheduled_at = self.occurrence;
        self.launch(trigger, scheduled_at);
    }

    /// Tells the notifiers; the text carries the last exit and the last log lines.
    fn raise(&mut self, kind: AlertKind, detail: String, next: String) {
        self.alerted = kind != AlertKind::Recovered;
        if kind == AlertKind::Recovered {
            self.stable_at = None;
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

    fn finish_run(
        &mut self,
        id: i64,
        info: &ExitInfo,
        outcome: RunOutcome,
        reason: Option<String>,
    ) {
        self.context.store.record_run_ended(RunEnd {
            id,
            ended_at: info.at,
            outcome,
            exit_code: info.code,
            signal: info.signal,
            reason,
        });
        self.last_exit = Some(info.clone());
        self.health = self.spec.health.as_ref().map(|_| HealthState::Unknown);
        self.context.resources.clear_latest(&self.spec.name);
        self.context.emit(EngineEvent::RunExited {
            job: self.spec.name.clone(),
            run_id: id,
            outcome,
            exit: info.clone(),
        });
    }

    /// Applies the restart policy after a run ended (or failed to start).
    fn after_run(&mut self, result: RunResult, uptime: Duration, reason: String) {
        let decision = policy::after_exit(
            &self.spec.restart,
            self.spec.kind,
            result,
            uptime,
            self.failures,
        );
        self.failures = decision.failures;
        if result == RunResult::Failure {
            self.alert_failure(&decision.next, uptime, &reason);
        } else if self.alerted && self.spec.kind == JobKind::Task {
            self.raise(
                AlertKind::Recovered,
                "ran successfully".into(),
                String::new(),
            );
        }
        match decision.next {
            Next::Restart { delay } => {
                self.restarts += 1;
                self.retry_at = Some(Instant::now().later(delay));
                // A zero delay restarts at once: starting, without a backoff in between.
                if delay.is_zero() {
                    self.set_state(JobState::Starting);
                } else {
                    let next_try_at = Utc::now().later(delay);
                    self.set_state(JobState::Backoff {
                        next_try_at,
                        attempt: self.failures,
                    });
                }
            }
            Next::Exit => {
                self.set_state(JobState::Exited { since: Utc::now() });
                self.run_queued();
            }
            Next::GiveUp => {
                let reason = if self.spec.restart.mode == RestartMode::Never {
                    format!("{reason} (restart = never)")
                } else {
                    format!(
                        "gave up after {} failed runs in a row (max_retries = {}); last: {reason}",
                        self.failures, self.spec.restart.max_retries
                    )
                };
                self.set_state(JobState::Failed {
                    reason,
                    since: Utc::now(),
                });
                self.run_queued();
            }
        }
    }

    /// A failed run is worth a notification when the job gives up, when a service dies, and
    /// when a scheduled run fails.
    fn alert_failure(&mut self, next: &Next, uptime: Duration, reason: &str) {
        let detail = if uptime.is_zero() {
            reason.to_string()
        } else {
            format!(
                "{reason} after {}",
                sentinel_proto::duration::format(Duration::from_millis(
                    uptime.as_millis() as u64 / 100 * 100
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
                let scheduled = self.spec.kind == JobKind::Task && self.occurrence.is_some();
                let kind = if scheduled {
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
                } else if self.occurrence.is_some() {
                    self.raise(
                        AlertKind::ScheduledRunFailed,
                        detail,
                        format!("retrying {when}"),
                    );
                }
            }
            Next::Exit => {
                if self.spec.kind == JobKind::Task && self.occurrence.is_some() {
                    self.raise(AlertKind::ScheduledRunFailed, detail, String::new());
                }
            }
        }
    }

    /// Starts the scheduled run that waited for the previous one (overlap = queue).
    fn run_queued(&mut self) {
        if let Some(scheduled_at) = self.queued.take() {
            self.fresh_start(Trigger::Schedule, Some(scheduled_at));
        }
    }

    /// Stops the run, if any: the stop signal to the group, KILL after the grace period, and
    /// returns once nothing of the group is left.
    async fn stop(&mut self, why: StopReason) {
        self.retry_at = None;
        self.stable_at = None;
        self.held = None;
        self.dependency_watch.clear();
        self.recheck_at = None;
        if self.slot_turn.take().is_some() {
            self.context.slots.leave(&self.spec.name);
        }
        let Some((id, info)) = self.end_run().await else {
            if matches!(
                self.state,
                JobState::Backoff { .. } | JobState::Starting | JobState::Waiting { .. }
            ) {
                self.set_state(JobState::Stopped);
            }
            return;
        };
        self.finish_run(id, &info, RunOutcome::Stopped, Some(why.describe()));
        self.failures = 0;
        self.set_state(JobState::Stopped);
    }

    /// Ends the current run: the stop signal to the group, KILL after the grace period;
    /// returns once nothing of the group is left, with the run's id and exit.
    async fn end_run(&mut self) -> Option<(i64, ExitInfo)> {
        let mut run = self.run.take()?;
        self.ending = Some(EndingRun::of(&run));
        run.health_check = None;
        self.set_state(JobState::Stopping { pid: run.pid });
        let signal = process::signal_from_name(self.spec.stop_signal.as_str());
        let grace = self.spec.stop_timeout;
        let began = Instant::now();
        process::signal_group(run.pid, signal);
        #[cfg(test)]
        if self.panic_while_ending {
            self.panic_while_ending = false;
            panic!("an injected bug while stopping");
        }
        let exit = match tokio::time::timeout(grace, run.child.wait()).await {
            Ok(exit) => exit,
            Err(_) => {
                tracing::info!(job = %self.spec.name, "did not stop within {grace:?}; sending SIGKILL");
                process::signal_group(run.pid, Signal::SIGKILL);
                run.child.wait().await
            }
        };
        process::clear_group(run.pid, signal, grace.saturating_sub(began.elapsed())).await;
        drain_output(run.output).await;
        let info = exit_info(exit.as_ref().ok(), run.started_at, run.started.elapsed());
        self.ending = None;
        Some((run.id, info))
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

    fn snapshot(&self) -> JobStatus {
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

    fn set_state(&mut self, state: JobState) {
        self.state = state;
        self.publish();
    }

    fn publish(&mut self) {
        let status = self.snapshot();
        self.status.send_replace(status.clone());
        self.context.emit(EngineEvent::StateChanged { status });
    }
}

/// Waits for the output tasks to read what is left in the pipes. Something outside the group
/// may hold a pipe open; then the tasks carry on alone.
async fn drain_output(output: [JoinHandle<()>; 2]) {
    let _ = tokio::time::timeout(OUTPUT_DRAIN, async {
        for task in output {
            let _ = task.await;
        }
    })
    .await;
}

fn exit_info(status: Option<&ExitStatus>, started_at: DateTime<Utc>, uptime: Duration) -> ExitInfo {
    let at = started_at.later(uptime);
    ExitInfo {
        code: status.and_then(ExitStatus::code),
        signal: status.and_then(ExitStatus::signal),
        at,
        duration_ms: uptime.as_millis() as u64,
    }
}
