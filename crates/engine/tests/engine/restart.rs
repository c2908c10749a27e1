//! Restart policies, seen in real spawns.

use sentinel_engine::proto::action::Action;
use std::time::Duration;

use sentinel_engine::proto::{EngineEvent, JobState, RestartMode, RunOutcome, Trigger};

use crate::common::*;

/// Collects `n` run exits of a job.
async fn exits(
    events: &mut sentinel_engine::EventSubscription,
    job: &str,
    n: usize,
) -> Vec<RunOutcome> {
    collect(events, n, |e| match &e.event {
        EngineEvent::RunExited {
            job: j, outcome, ..
        } if j == job => Some(*outcome),
        _ => None,
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn always_restarts_after_a_clean_exit() {
    let t = TestEngine::new().await;
    let mut events = t.engine.subscribe();
    let mut spec = job("clean", "true");
    spec.restart.mode = RestartMode::Always;
    t.engine.add(spec).await.unwrap();
    t.engine.act_on(Action::Start, "clean").await.unwrap();
    assert_eq!(
        exits(&mut events, "clean", 3).await,
        vec![RunOutcome::Success; 3]
    );
    let status = t.engine.act_on(Action::Stop, "clean").await.unwrap();
    assert_eq!(status.state, JobState::Stopped);
    assert!(status.restarts >= 2, "{status:?}");
    assert_eq!(status.failures, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_failure_restarts_failures_and_keeps_a_clean_exit() {
    let t = TestEngine::new().await;
    let mut events = t.engine.subscribe();
    // Fails twice, then succeeds: a marker file counts the runs.
    let marker = t.path().join("count");
    let script = format!(
        "n=$(cat {m} 2>/dev/null || echo 0); n=$((n+1)); echo $n > {m}; [ $n -ge 3 ]",
        m = marker.display()
    );
    let mut spec = sh("flaky", &script);
    spec.restart.mode = RestartMode::OnFailure;
    t.engine.add(spec).await.unwrap();
    t.engine.act_on(Action::Start, "flaky").await.unwrap();
    let status = state_of(&mut events, "flaky", "exited").await;
    assert_eq!(status.restarts, 2);
    assert_eq!(status.last_exit.unwrap().code, Some(0));
    let runs = t.engine.runs("flaky", 10).await.unwrap();
    let outcomes: Vec<_> = runs.iter().rev().map(|r| r.outcome.unwrap()).collect();
    assert_eq!(
        outcomes,
        vec![
            RunOutcome::Failure,
            RunOutcome::Failure,
            RunOutcome::Success
        ]
    );
    let triggers: Vec<_> = runs.iter().rev().map(|r| r.trigger).collect();
    assert_eq!(
        triggers,
        vec![Trigger::Manual, Trigger::Retry, Trigger::Retry]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn never_leaves_a_failure_failed_after_one_run() {
    let t = TestEngine::new().await;
    let mut events = t.engine.subscribe();
    let mut spec = sh("once", "exit 7");
    spec.restart.mode = RestartMode::Never;
    t.engine.add(spec).await.unwrap();
    t.engine.act_on(Action::Start, "once").await.unwrap();
    let status = state_of(&mut events, "once", "failed").await;
    match &status.state {
        JobState::Failed { reason, .. } => {
            assert!(
                reason.contains("exit code 7") && reason.contains("never"),
                "{reason}"
            )
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(status.restarts, 0);
    assert_eq!(t.engine.runs("once", 10).await.unwrap().len(), 1);
    // A clean exit with restart = never is simply exited.
    let mut clean = job("clean-once", "true");
    clean.restart.mode = RestartMode::Never;
    t.engine.add(clean).await.unwrap();
    t.engine.act_on(Action::Start, "clean-once").await.unwrap();
    state_of(&mut events, "clean-once", "exited").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backoff_delays_show_in_real_spawn_times_and_then_it_gives_up() {
    let t = TestEngine::new().await;
    let mut events = t.engine.subscribe();
    let mut spec = job("backoff", "false");
    spec.restart.delay = Duration::from_millis(100);
    spec.restart.backoff = 2.0;
    spec.restart.max_retries = 3;
    t.engine.add(spec).await.unwrap();
    t.engine.act_on(Action::Start, "backoff").await.unwrap();

    let mut started = Vec::new();
    let mut backoffs = Vec::new();
    let failed = next_event(&mut events, |e| match &e.event {
        EngineEvent::RunStarted { job, .. } if job == "backoff" => {
            started.push(e.at);
            None
        }
        EngineEvent::StateChanged { status } if status.name == "backoff" => match &status.state {
            JobState::Backoff { attempt, .. } => {
                backoffs.push(*attempt);
                None
            }
            JobState::Failed { .. } => Some(status.clone()),
            _ => None,
        },
        _ => None,
    })
    .await;

    assert_eq!(started.len(), 4, "one start and three retries");
    assert_eq!(backoffs, vec![1, 2, 3]);
    let gaps: Vec<i64> = started
        .windows(2)
        .map(|w| (w[1] - w[0]).num_milliseconds())
        .collect();
    for (gap, expected) in gaps.iter().zip([100, 200, 400]) {
        // Never early; late only by scheduling noise (generous on a loaded machine).
        assert!(
            *gap >= expected && *gap < expected + 1000,
            "gaps {gaps:?}, expected ~100, 200, 400"
        );
    }
    match &failed.state {
        JobState::Failed { reason, .. } => {
            assert!(reason.contains("gave up after 4 failed runs"), "{reason}");
            assert!(reason.contains("exit code 1"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(failed.last_exit.unwrap().code, Some(1));
    // Failed stays failed until started again, and a start forgets the failures.
    let restarted = t.engine.act_on(Action::Start, "backoff").await.unwrap();
    assert_eq!(restarted.failures, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_that_lived_min_uptime_resets_the_failure_count() {
    let t = TestEngine::new().await;
    let mut events = t.engine.subscribe();
    let mut spec = sh("steady", "sleep 0.7; exit 1");
    spec.restart.min_uptime = Duration::from_millis(600);
    spec.restart.max_retries = 1;
    t.engine.add(spec).await.unwrap();
    t.engine.act_on(Action::Start, "steady").await.unwrap();
    // With max_retries = 1 it would give up after the second failure, were they counted.
    assert_eq!(
        exits(&mut events, "steady", 4).await,
        vec![RunOutcome::Failure; 4]
    );
    let status = t.engine.get("steady").unwrap().status;
    assert_ne!(status.state.name(), "failed");
    assert_eq!(status.failures, 1);
    t.engine.act_on(Action::Stop, "steady").await.unwrap();

    // The same job dying at once gives up after one retry (even on a busy machine, spawning and
    // reaping `exit 1` takes well under min_uptime).
    let mut quick = sh("quick", "exit 1");
    quick.restart.min_uptime = Duration::from_millis(600);
    quick.restart.max_retries = 1;
    t.engine.add(quick).await.unwrap();
    t.engine.act_on(Action::Start, "quick").await.unwrap();
    let failed = state_of(&mut events, "quick", "failed").await;
    assert_eq!(failed.failures, 2);
    assert_eq!(t.engine.runs("quick", 10).await.unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn success_exit_codes_decide_what_counts_as_success() {
    let t = TestEngine::new().await;
    let mut events = t.engine.subscribe();
    let mut spec = sh("three", "exit 3");
    spec.restart.success_exit_codes = vec![0, 3];
    t.engine.add(spec).await.unwrap();
    t.engine.act_on(Action::Start, "three").await.unwrap();
    let status = state_of(&mut events, "three", "exited").await;
    assert_eq!(status.last_exit.unwrap().code, Some(3));
    let runs = t.engine.runs("three", 10).await.unwrap();
    assert_eq!(runs[0].outcome, Some(RunOutcome::Success));

    // 0 is a failure when it is not listed.
    let mut zero = job("zero", "true");
    zero.restart.success_exit_codes = vec![3];
    zero.restart.mode = RestartMode::Never;
    t.engine.add(zero).await.unwrap();
    t.engine.act_on(Action::Start, "zero").await.unwrap();
    state_of(&mut events, "zero", "failed").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn death_by_a_signal_nobody_asked_for_is_a_failure() {
    let t = TestEngine::new().await;
    let mut events = t.engine.subscribe();
    let mut spec = job("victim", "sleep 1000");
    spec.restart.mode = RestartMode::Never;
    t.engine.add(spec).await.unwrap();
    let pid = running_pid(&t.engine.act_on(Action::Start, "victim").await.unwrap());
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    let status = state_of(&mut events, "victim", "failed").await;
    assert_eq!(status.last_exit.as_ref().unwrap().signal, Some(9));
    let runs = t.engine.runs("victim", 1).await.unwrap();
    assert_eq!(runs[0].outcome, Some(RunOutcome::Failure));
    assert_eq!(runs[0].reason.as_deref(), Some("killed by signal 9"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_program_that_cannot_start_is_a_failed_start_that_counts_toward_retries() {
    let t = TestEngine::new().await;
    let mut events = t.engine.subscribe();
    let not_executable = write_file(t.path(), "plain.txt", "echo hi\n", 0o644);
    let cases = [
        (
            "missing",
            job("missing", "no-such-program-anywhere --flag"),
            "not found in PATH",
        ),
        (
            "noexec",
            job("noexec", &not_executable.display().to_string()),
            "Permission denied",
        ),
        (
            "nocwd",
            {
                let mut spec = job("nocwd", "true");
                spec.cwd = Some(t.path().join("does-not-exist"));
                spec
            },
            "working directory",
        ),
    ];
    for (name, mut spec, expected) in cases {
        spec.restart.max_retries = 2;
        t.engine.add(spec).await.unwrap();
        t.engine.act_on(Action::Start, name).await.unwrap();
        let failed = state_of(&mut events, name, "failed").await;
        match &failed.state {
            JobState::Failed { reason, .. } => {
                assert!(reason.contains(expected), "{name}: {reason}")
            }
            other => panic!("{other:?}"),
        }
        let runs = t.engine.runs(name, 10).await.unwrap();
        assert_eq!(runs.len(), 3, "{name}: one start and two retries");
        for run in runs {
            assert_eq!(run.outcome, Some(RunOutcome::SpawnFailed));
            assert!(run.reason.unwrap().contains(expected));
            assert_eq!(run.pid, None);
        }
    }
}
