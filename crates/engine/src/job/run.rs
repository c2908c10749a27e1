//! A run of the job: its spawn and record, its exit, and what the restart policy makes of it.
//! Ending a run from outside is `stop.rs`.

use std::io;
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sentinel_proto::{
    EngineEvent, ExitInfo, HealthState, JobKind, LogStream, RestartMode, RunOutcome, Trigger,
};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::actor::JobActor;
use super::phase::{Backoff, Phase, Rest, Retry, Running, Series};
use super::policy::{self, Next, RunResult};
use super::slots::Slot;
use crate::later::Later;
use crate::logs;
use crate::notify::AlertKind;
use crate::process;
use crate::store::{NewRun, RunEnd};

/// How long to wait for output still in the pipes after a process group is gone.
const OUTPUT_DRAIN: Duration = Duration::from_secs(2);

/// A run whose process group may be alive.
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

/// What is left of a run while its end is awaited.
#[derive(Clone, Copy)]
pub(super) struct EndingRun {
    pub(super) id: i64,
    pub(super) pid: u32,
    pub(super) started: Instant,
    pub(super) started_at: DateTime<Utc>,
}

impl EndingRun {
    pub(super) fn of(run: &ActiveRun) -> EndingRun {
        EndingRun {
            id: run.id,
            pid: run.pid,
            started: run.started,
            started_at: run.started_at,
        }
    }
}

/// A run whose group is gone: what recording its end takes, and the start it was part of.
pub(super) struct Ended {
    pub(super) id: i64,
    pub(super) info: ExitInfo,
    pub(super) series: Series,
}

impl JobActor {
    /// Starts the command with its slot, records the run and publishes it; a start that fails
    /// is recorded too, and the restart policy decides what comes next.
    pub(super) fn spawn_run(&mut self, trigger: Trigger, series: Series, slot: Slot) {
        let id = self.context.next_run_id();
        let job = self.spec.name.clone();
        let scheduled_at = series.scheduled_at;
        // A scheduled run is started a little before its instant (`schedule::LEAD`), its
        // program held until then: the fork and the engine's own work are done by the time.
        let hold = scheduled_at
            .and_then(|at| (at - Utc::now()).to_std().ok())
            .filter(|hold| !hold.is_zero())
            .map(|hold| hold.min(crate::schedule::LONGEST_HOLD));
        let spawning_at = Utc::now();
        match process::spawn(
            &self.spec,
            &self.context.search_path,
            &self.context.engine_marker,
            hold,
        ) {
            Ok(spawned) => {
                // A held program that forked started when its child went to exec, by the
                // child's clock (within the spawn call, lest a clock step make it lie), not when
                // this thread got a core back.
                let now = Utc::now();
                let started_at = spawned
                    .execed_at
                    .filter(|at| (spawning_at..=now).contains(at))
                    .unwrap_or(now);
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
                let health_check = self.start_health_check(pid, started_at);
                if let Some(startup) = &mut self.startup {
                    startup.started_at = Some(started_at);
                    startup.ready_at = None;
                }
                if self.spec.kind == JobKind::Service && self.spec.health.is_none() {
                    self.mark_ready(started_at);
                }
                let run = ActiveRun {
                    id,
                    pid,
                    child: spawned.child,
                    started: Instant::now(),
                    started_at,
                    output,
                    health_check,
                    _slot: slot,
                };
                let stable_at = (self.alerted && self.spec.kind == JobKind::Service).then(|| {
                    let settle = self.spec.restart.min_uptime.max(Duration::from_secs(1));
                    Instant::now().later(settle)
                });
                self.phase = Phase::Running(Running {
                    run,
                    series,
                    stable_at,
                });
                self.context.emit(EngineEvent::RunStarted {
                    job,
                    run_id: id,
                    pid,
                    trigger,
                    scheduled_at,
                });
                self.publish();
                // Once the status says running: the sampler only measures running jobs.
                if self.spec.max_memory.is_some() {
                    self.context.resources.watchers.limited_job_started();
                }
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
                    series,
                );
            }
        }
    }

    /// The main process exited by itself: what is left of its group is cleared, the run
    /// recorded, and the restart policy decides what comes next.
    pub(super) async fn on_exit(&mut self, exit: io::Result<ExitStatus>) {
        let Some(Running { run, series, .. }) = self.take_run() else {
            return;
        };
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
        // The group is gone: nothing is left for a panic's recovery to kill. The restart
        // policy sets the next phase.
        self.phase = Phase::Idle(Rest::Stopped);
        self.finish_run(run.id, &info, outcome, reason.clone());
        self.after_run(result, uptime, reason.unwrap_or_default(), series);
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

    /// Applies the restart policy after a run of `series` ended (or failed to start).
    fn after_run(&mut self, result: RunResult, uptime: Duration, reason: String, series: Series) {
        let decision = policy::after_exit(
            &self.spec.restart,
            self.spec.kind,
            result,
            uptime,
            self.failures,
        );
        self.failures = decision.failures;
        if result == RunResult::Failure {
            let scheduled = series.scheduled_at.is_some();
            self.alert_failure(&decision.next, uptime, &reason, scheduled);
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
                self.restarting();
                let at = Instant::now().later(delay);
                // A zero delay restarts at once: starting, without a backoff in between.
                let backoff = (!delay.is_zero()).then(|| Backoff {
                    next_try_at: Utc::now().later(delay),
                    attempt: self.failures,
                });
                self.set_phase(Phase::Retry(Retry {
                    at,
                    series,
                    backoff,
                }));
            }
            Next::Exit => {
                self.set_phase(Phase::Idle(Rest::Exited { since: Utc::now() }));
                self.run_queued(series);
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
                self.set_phase(Phase::Idle(Rest::Failed {
                    reason,
                    since: Utc::now(),
                }));
                self.run_queued(series);
            }
        }
    }

    /// The restart the policy asked for is due.
    pub(super) fn retry(&mut self) {
        if let Phase::Retry(retry) = &self.phase {
            let series = retry.series;
            self.launch(Trigger::Retry, series);
        }
    }

    /// Starts the scheduled run that waited for the previous one (overlap = queue).
    fn run_queued(&mut self, series: Series) {
        if let Some(scheduled_at) = series.queued {
            self.fresh_start(Trigger::Schedule, Some(scheduled_at));
        }
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
        duration_ms: u64::try_from(uptime.as_millis()).unwrap_or(u64::MAX),
    }
}
