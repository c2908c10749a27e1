//! A bug that panics in a job's actor must not leave the job out of control: its run is
//! killed and recorded, the job says why it failed, and it can be started again.

use sentinel_proto::action::Action;
use std::time::{Duration, Instant};

use sentinel_proto::{JobSpec, JobState, JobStatus, RunOutcome};

use crate::{EngineConfig, EngineError, EngineHandle, EnginePaths};

async fn until<T>(what: &str, mut probe: impl AsyncFnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(found) = probe().await {
            return found;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn status(engine: &EngineHandle, name: &str) -> JobStatus {
    engine.list().into_iter().find(|s| s.name == name).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_in_a_jobs_actor_fails_the_job_and_it_stays_controllable() {
    let home = tempfile::tempdir().unwrap();
    let mut config = EngineConfig::new(EnginePaths::under(home.path()));
    config.notifiers = Some(Vec::new());
    let engine = EngineHandle::open(config).await.unwrap();
    engine
        .add(JobSpec::new("sleeper", "sleep 300"))
        .await
        .unwrap();
    let JobState::Running { pid, .. } = status(&engine, "sleeper").state else {
        panic!("not running: {:?}", status(&engine, "sleeper"));
    };

    let answer = engine
        .handle("sleeper")
        .unwrap()
        .panic("an injected bug")
        .await;
    assert!(
        matches!(answer, Err(EngineError::Internal(_))),
        "the caller hears of it: {answer:?}"
    );
    let reason = until("the failed state", async || {
        match status(&engine, "sleeper").state {
            JobState::Failed { reason, .. } => Some(reason),
            _ => None,
        }
    })
    .await;
    assert!(reason.contains("an injected bug"), "{reason}");
    until("the run's group to be gone", async || {
        (!crate::process::group_exists(pid)).then_some(())
    })
    .await;
    let run = until("the run to be recorded", async || {
        let runs = engine.runs("sleeper", 10).await.unwrap();
        runs.into_iter().find(|run| run.outcome.is_some())
    })
    .await;
    assert_eq!(run.outcome, Some(RunOutcome::Failure));
    assert!(run.reason.unwrap().contains("an injected bug"));

    // Still controllable: start, restart and stop answer as usual.
    let started = engine.act_on(Action::Start, "sleeper").await.unwrap();
    assert!(
        matches!(started.state, JobState::Running { .. }),
        "{started:?}"
    );
    let restarted = engine.act_on(Action::Restart, "sleeper").await.unwrap();
    assert!(
        matches!(restarted.state, JobState::Running { .. }),
        "{restarted:?}"
    );
    let stopped = engine.act_on(Action::Stop, "sleeper").await.unwrap();
    assert!(matches!(stopped.state, JobState::Stopped), "{stopped:?}");
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_while_a_run_is_being_stopped_still_kills_its_group() {
    let home = tempfile::tempdir().unwrap();
    let mut config = EngineConfig::new(EnginePaths::under(home.path()));
    config.notifiers = Some(Vec::new());
    let engine = EngineHandle::open(config).await.unwrap();
    let ready = home.path().join("ready");
    // Ignores the stop signal, so only the recovery's KILL can end it.
    let mut spec = JobSpec::new(
        "stubborn",
        format!(
            "sh -c 'trap \"\" TERM; sleep 300 & touch {}; wait'",
            ready.display()
        ),
    );
    spec.stop_timeout = Duration::from_secs(3600);
    engine.add(spec).await.unwrap();
    let JobState::Running { pid, .. } = status(&engine, "stubborn").state else {
        panic!("not running");
    };
    until("the job to ignore TERM", async || {
        ready.exists().then_some(())
    })
    .await;

    engine.handle("stubborn").unwrap().panic_while_ending();
    let stopped = engine.act_on(Action::Stop, "stubborn").await;
    assert!(
        matches!(stopped, Err(EngineError::Internal(_))),
        "{stopped:?}"
    );
    until("the group to be gone", async || {
        (!crate::process::group_exists(pid)).then_some(())
    })
    .await;
    let reason = until("the failed state", async || {
        match status(&engine, "stubborn").state {
            JobState::Failed { reason, .. } => Some(reason),
            _ => None,
        }
    })
    .await;
    assert!(reason.contains("injected bug while stopping"), "{reason}");
    let run = until("the run to be closed", async || {
        let runs = engine.runs("stubborn", 10).await.unwrap();
        runs.into_iter().find(|run| run.outcome.is_some())
    })
    .await;
    assert_eq!(run.outcome, Some(RunOutcome::Failure));
    // And it answers as before.
    assert!(matches!(
        engine
            .act_on(Action::Start, "stubborn")
            .await
            .unwrap()
            .state,
        JobState::Running { .. }
    ));
    engine.shutdown_within(Duration::from_secs(2)).await;
}
