//! Ending a run from outside: the stop signal to the whole group, KILL after the grace period,
//! and the restarts that end the run first (a watchdog's).

use nix::sys::signal::Signal;
use sentinel_proto::{RunOutcome, Trigger};
use tokio::time::Instant;

use super::actor::JobActor;
use super::handle::StopReason;
use super::phase::{Phase, Rest, Running, Until};
use super::run::{drain_output, exit_info, Ended, EndingRun};
use crate::process;

impl JobActor {
    /// Stops the run, if any: the stop signal to the group, KILL after the grace period, and
    /// returns once nothing of the group is left. A start that waits or is due is called off.
    pub(super) async fn stop(&mut self, why: StopReason) {
        match &self.phase {
            Phase::Running(_) => {}
            // At rest already, or being ended by someone else.
            Phase::Idle(_) | Phase::Ending(_) => return,
            Phase::Held(held) => {
                if matches!(held.until, Until::Turn(_)) {
                    self.context.slots.leave(&self.spec.name);
                }
                self.set_phase(Phase::Idle(why.rest()));
                return;
            }
            Phase::Starting | Phase::Retry(_) => {
                self.set_phase(Phase::Idle(why.rest()));
                return;
            }
        }
        let Some(ended) = self.end_run().await else {
            return;
        };
        let rest = why.rest();
        self.finish_run(
            ended.id,
            &ended.info,
            RunOutcome::Stopped,
            Some(why.describe()),
        );
        self.failures = 0;
        self.set_phase(Phase::Idle(rest));
    }

    /// Ends the current run: the stop signal to the group, KILL after the grace period;
    /// returns once nothing of the group is left, the job stopped until the caller decides
    /// what comes next.
    pub(super) async fn end_run(&mut self) -> Option<Ended> {
        let Running {
            mut run, series, ..
        } = self.take_run()?;
        run.health_check = None;
        // `stopping`, until the group is gone.
        self.publish();
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
        // Nothing is left for a panic's recovery to kill.
        self.phase = Phase::Idle(Rest::Stopped);
        Some(Ended {
            id: run.id,
            info,
            series,
        })
    }

    /// Ends the current run as a failure with `reason` and starts a new one at once. Watchdog
    /// restarts do not count towards `max_retries`: the process did not fail on its own.
    pub(super) async fn watchdog_restart(&mut self, trigger: Trigger, reason: String) {
        let Some(ended) = self.end_run().await else {
            return;
        };
        self.restarting();
        self.finish_run(ended.id, &ended.info, RunOutcome::Failure, Some(reason));
        self.restarts += 1;
        self.launch(trigger, ended.series);
    }

    /// Takes the current run out of `Running` to end it; the phase is `Ending` meanwhile.
    pub(super) fn take_run(&mut self) -> Option<Running> {
        let ending = match &self.phase {
            Phase::Running(running) => Phase::Ending(EndingRun::of(&running.run)),
            _ => return None,
        };
        match std::mem::replace(&mut self.phase, ending) {
            Phase::Running(running) => Some(running),
            _ => None,
        }
    }
}
