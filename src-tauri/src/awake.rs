//! App Nap: macOS naps a windowless Accessory app, and a napping app's timers fire many seconds
//! late: schedules, restart delays, health checks and sampling with them. While the engine
//! supervises anything, the app holds an `NSProcessInfo` activity that forbids napping (and
//! still lets the Mac sleep); when nothing needs a timer it lets go, so an idle app naps.
//!
//! Which jobs need the app awake is a plain function; only holding the activity is macOS code.

use sentinel_engine::proto::{EngineEvent, JobState, JobStatus};
use sentinel_engine::{EngineHandle, Received};

/// Whether any job needs the engine's timers on time: one that runs (health checks, sampling,
/// `max_memory`), is being started or stopped, waits to restart or for a dependency, or has
/// a next scheduled run.
pub fn needs_timers(jobs: &[JobStatus]) -> bool {
    jobs.iter().any(|job| {
        job.state.is_active()
            || matches!(
                job.state,
                JobState::Backoff { .. } | JobState::Waiting { .. }
            )
            || job.next_run_at.is_some()
    })
}

/// Holds the activity while `needs_timers` says so, following the engine's events.
pub fn follow(engine: EngineHandle) {
    let activity = Activity::new();
    tauri::async_runtime::spawn(async move {
        let mut events = engine.subscribe();
        let mut holding = false;
        loop {
            let wanted = needs_timers(&engine.list());
            if wanted != holding {
                activity.hold(wanted);
                holding = wanted;
            }
            // Only a change of state or schedule can change the answer.
            loop {
                match events.recv().await {
                    None => return,
                    Some(Received::Event(envelope))
                        if matches!(envelope.event, EngineEvent::ResourcesSampled { .. }) => {}
                    Some(_) => break,
                }
            }
        }
    });
}

#[cfg(target_os = "macos")]
mod platform {
    use std::sync::mpsc;

    use objc2::rc::Retained;
    use objc2::runtime::{NSObjectProtocol, ProtocolObject};
    use objc2_foundation::{NSActivityOptions, NSProcessInfo, NSString};

    /// The activity token is not `Send`: one thread owns it and is told what to do.
    pub struct Activity(mpsc::Sender<bool>);

    impl Activity {
        pub fn new() -> Activity {
            let (tell, told) = mpsc::channel::<bool>();
            let spawned = std::thread::Builder::new()
                .name("app-nap".into())
                .spawn(move || {
                    let mut token: Option<Retained<ProtocolObject<dyn NSObjectProtocol>>> = None;
                    for hold in told {
                        let info = NSProcessInfo::processInfo();
                        match (hold, token.take()) {
                            (true, None) => {
                                let reason = NSString::from_str("supervising jobs on schedule");
                                token = Some(info.beginActivityWithOptions_reason(
                                    NSActivityOptions::UserInitiatedAllowingIdleSystemSleep,
                                    &reason,
                                ));
                                tracing::debug!("App Nap off: jobs need their timers");
                            }
                            (false, Some(held)) => {
                                // SAFETY: `held` came from beginActivityWithOptions_reason on
                                // this process's NSProcessInfo and is ended once.
                                unsafe { info.endActivity(&held) };
                                tracing::debug!("App Nap allowed: nothing to supervise");
                            }
                            (_, held) => token = held,
                        }
                    }
                });
            if let Err(err) = spawned {
                tracing::warn!("cannot keep App Nap off: {err}");
            }
            Activity(tell)
        }

        pub fn hold(&self, hold: bool) {
            let _ = self.0.send(hold);
        }
    }
}

#[cfg(not(target_os = "macos"))]
mod platform {
    /// Nothing naps elsewhere.
    pub struct Activity;

    impl Activity {
        pub fn new() -> Activity {
            Activity
        }

        pub fn hold(&self, _hold: bool) {}
    }
}

use platform::Activity;

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use sentinel_engine::proto::{JobKind, JobState, JobStatus, WaitReason};

    use super::needs_timers;

    fn job(state: JobState, next_run: bool) -> JobStatus {
        JobStatus {
            next_run_at: next_run.then(Utc::now),
            ..JobStatus::new("j", JobKind::Service, state)
        }
    }

    #[test]
    fn only_jobs_that_wait_on_a_timer_keep_the_app_awake() {
        let now = Utc::now();
        assert!(!needs_timers(&[]));
        assert!(!needs_timers(&[
            job(JobState::Stopped, false),
            job(JobState::Exited { since: now }, false),
            job(
                JobState::Failed {
                    reason: "gave up".into(),
                    since: now
                },
                false
            ),
        ]));
        for awake in [
            job(JobState::Running { pid: 1, since: now }, false),
            job(JobState::Starting, false),
            job(JobState::Stopping { pid: 1 }, false),
            job(
                JobState::Backoff {
                    next_try_at: now,
                    attempt: 1,
                },
                false,
            ),
            job(
                JobState::waiting(WaitReason::Slot { max_running: 1 }, now),
                false,
            ),
            job(JobState::Stopped, true),
        ] {
            let state = awake.state.name();
            assert!(
                needs_timers(&[job(JobState::Stopped, false), awake]),
                "{state}"
            );
        }
    }
}
