//! A run of the job: its spawn and record, its end (by itself or stopped), and what the
//! restart policy makes of it.

use std::io;
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;
use std::time::Duration;

use chrono::{DateTime, Utc};
use nix::sys::signal::Signal;
use sentinel_proto::{
    EngineEvent, ExitInfo, HealthState, JobKind, JobState, LogStream, RestartMode, RunOutcome,
    Trigger,
};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::actor::JobActor;
use super::handle::StopReason;
use super::policy::{self, Next, RunResult};
use super::slots::Slot;
use crate::later::Later;
use crate::logs;
use crate::notify::AlertKind;
use crate::process;
use crate::store::{NewRun, RunEnd};

/// How long to wait for output still in the pipes after a process group is gone.
const OUTPUT_DRAIN: Duration = Duration::from_secs(2);

pub(super) struct ActiveRun {
    pub(super) id: i64,
    pub(super) pid: u32,
    pub(super) child: tokio::process::Child,
    pub(super) started: Instant,
    pub(super) started_at: DateTime<Utc>,
    pub(super) output: [JoinHandle<()>; 2],
    /// Dropped with the run, which ends the checks.
    pub(super) health_check: Option<crate::monitor::HealthTask>,
    /// One of the `max_running` slots, given back when the run is dropped.
    _slot: Slot,
}

#[derive(Clone, Copy)]
pub(super) struct EndingRun {
    pub(super) id: i64,
    pub(super) pid: u32,
    pub(super) started: Instant,
    pub(super) started_at: DateTime<Utc>,
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

impl JobActor {
    /// Starts the command with its slot, records the run and publishes it; a start that fails
    /// is recorded too, and the restart policy decides what comes next.
    pub(super) fn spawn_run(
        &mut self,
        trigger: Trigger,
        scheduled_at: Option<DateTime<Utc>>,
        slot: Slot,
    ) {
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

    pub(super) async fn on_exit(&mut self, exit: io::Result<ExitStatus>) {
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

    /// Ends the current run as a failure with `reason` and starts a new one at once. Watchdog
    /// restarts do not count towards `max_retries`: the process did not fail on its own.
    pub(super) async fn watchdog_restart(&mut self, trigger: Trigger, reason: String) {
        let Some((id, info)) = self.end_run().await else {
            return;
        };
        self.finish_run(id, &info, RunOutcome::Failure, Some(reason));
        self.restarts += 1;
        let scheduled_at = self.occurrence;
        self.launch(trigger, scheduled_at);
    }

    pub(super) fn finish_run(
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
    pub(super) fn after_run(&mut self, result: RunResult, uptime: Duration, reason: String) {
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

    /// Starts the scheduled run that waited for the previous one (overlap = queue).
    pub(super) fn run_queued(&mut self) {
        if let Some(scheduled_at) = self.queued.take() {
            self.fresh_start(Trigger::Schedule, Some(scheduled_at));
        }
    }

    /// Stops the run, if any: the stop signal to the group, KILL after the grace period, and
    /// returns once nothing of the group is left.
    pub(super) async fn stop(&mut self, why: StopReason) {
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
    pub(super) async fn end_run(&mut self) -> Option<(i64, ExitInfo)> {
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
}

/// Waits for the output tasks to read what is left in the pipes. Something outside the group
/// may hold a pipe open; then the tasks carry on alone.
pub(super) async fn drain_output(output: [JoinHandle<()>; 2]) {
    let _ = tokio::time::timeout(OUTPUT_DRAIN, async {
        for task in output {
            let _ = task.await;
        }
    })
    .await;
}

pub(super) fn exit_info(
    status: Option<&ExitStatus>,
    started_at: DateTime<Utc>,
    uptime: Duration,
) -> ExitInfo {
    let at = started_at.later(uptime);
    ExitInfo {
        code: status.and_then(ExitStatus::code),
        signal: status.and_then(ExitStatus::signal),
        at,
        duration_ms: uptime.as_millis() as u64,
    }
}
