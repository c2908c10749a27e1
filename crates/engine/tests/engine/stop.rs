//! Stopping: the signal goes to the whole group, KILL follows the grace period, nothing is
//! left behind, and many jobs stop at once.

use sentinel_engine::proto::action::Action;
use std::time::Duration;

use sentinel_engine::proto::{JobState, RunOutcome};
use tokio::time::Instant;

use crate::common::*;

/// Reads the pids a job printed, one per line, once there are `n` of them.
async fn printed_pids(t: &TestEngine, job: &str, n: usize) -> Vec<i32> {
    eventually("the job to print its children's pids", || {
        t.engine.log_tail(job, n, None).unwrap().len() == n
    })
    .await;
    t.engine
        .log_tail(job, n, None)
        .unwrap()
        .iter()
        .map(|line| line.text.trim().parse().unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_leaves_no_grandchild_behind() {
    let t = TestEngine::new().await;
    t.engine
        .add(sh(
            "tree",
            "sleep 1000 & echo $!; sleep 1000 & echo $!; wait",
        ))
        .await
        .unwrap();
    let leader = running_pid(&t.engine.act_on(Action::Start, "tree").await.unwrap()) as i32;
    let children = printed_pids(&t, "tree", 2).await;
    assert!(children.iter().all(|&pid| pid_alive(pid)));

    let status = t.engine.act_on(Action::Stop, "tree").await.unwrap();
    assert_eq!(status.state, JobState::Stopped);
    assert!(!group_alive(leader), "the process group survived the stop");
    for pid in children {
        assert!(!pid_alive(pid), "grandchild {pid} survived the stop");
    }
    let run = &t.engine.runs("tree", 1).await.unwrap()[0];
    assert_eq!(run.outcome, Some(RunOutcome::Stopped));
    assert_eq!(run.reason.as_deref(), Some("stopped by request"));
    assert_eq!(run.signal, Some(15));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_child_that_ignores_term_gets_kill_after_the_grace_period() {
    let t = TestEngine::new().await;
    // `trap '' TERM` makes the shell and the sleep it starts ignore TERM.
    let mut spec = sh("stubborn", "trap '' TERM; echo ready; sleep 1000 & wait");
    spec.stop_timeout = Duration::from_millis(300);
    t.engine.add(spec).await.unwrap();
    let leader = running_pid(&t.engine.act_on(Action::Start, "stubborn").await.unwrap()) as i32;
    eventually("the job to set its trap", || {
        !t.engine.log_tail("stubborn", 1, None).unwrap().is_empty()
    })
    .await;

    let began = Instant::now();
    t.engine.act_on(Action::Stop, "stubborn").await.unwrap();
    assert!(
        began.elapsed() >= Duration::from_millis(300),
        "KILL came before the grace period ended"
    );
    assert!(!group_alive(leader));
    let run = &t.engine.runs("stubborn", 1).await.unwrap()[0];
    assert_eq!(run.signal, Some(9), "{run:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_main_process_that_exits_does_not_leave_its_children_running() {
    let t = TestEngine::new().await;
    let mut events = t.engine.subscribe();
    let mut spec = sh("leaver", "sleep 1000 & echo $!; sleep 1000 & echo $!");
    spec.restart.mode = sentinel_engine::proto::RestartMode::Never;
    t.engine.add(spec).await.unwrap();
    t.engine.act_on(Action::Start, "leaver").await.unwrap();
    state_of(&mut events, "leaver", "exited").await;
    for pid in printed_pids(&t, "leaver", 2).await {
        assert!(!pid_alive(pid), "{pid} outlived its job");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stdin_is_empty() {
    let t = TestEngine::new().await;
    let mut events = t.engine.subscribe();
    t.engine
        .add(sh("reader", "cat; echo after-eof"))
        .await
        .unwrap();
    t.engine.act_on(Action::Start, "reader").await.unwrap();
    state_of(&mut events, "reader", "exited").await;
    assert_eq!(
        t.engine.log_tail("reader", 1, None).unwrap()[0].text,
        "after-eof"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_jobs_that_ignore_term_stop_concurrently() {
    const JOBS: usize = 200;
    let t = TestEngine::new().await;
    let grace = Duration::from_millis(500);
    let mut leaders = Vec::new();
    for n in 0..JOBS {
        let mut spec = sh(&format!("stubborn-{n}"), "trap '' TERM; sleep 1000 & wait");
        spec.stop_timeout = grace;
        t.engine.add(spec).await.unwrap();
        leaders.push(running_pid(
            &t.engine
                .act_on(Action::Start, &format!("stubborn-{n}"))
                .await
                .unwrap(),
        ) as i32);
    }
    let began = Instant::now();
    t.engine.shutdown().await;
    let took = began.elapsed();
    // One by one this would take JOBS grace periods (100 s); concurrently about one (the bound
    // leaves room for a busy machine).
    assert!(took < grace * 60, "stopping {JOBS} jobs took {took:?}");
    assert!(leaders.iter().all(|&pgid| !group_alive(pgid)));
}
