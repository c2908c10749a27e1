//! What survives the engine: definitions, run history, and the truth about interrupted runs.

use sentinel_engine::proto::{JobState, RunOutcome, Trigger};

use crate::common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn definitions_and_history_survive_a_restart() {
    let home = tempfile::tempdir().unwrap();
    let engine = open(home.path()).await;
    let mut events = engine.subscribe();
    let mut spec = sh("nightly", "echo done");
    spec.group = Some("backups".into());
    spec.env.insert("TARGET".into(), "/mnt/backup".into());
    engine.add(spec.clone()).await.unwrap();
    engine.start("nightly").await.unwrap();
    state_of(&mut events, "nightly", "exited").await;
    let mut service = job("api", "sleep 1000");
    service.autostart = true;
    engine.add(service.clone()).await.unwrap();
    let before = engine.runs("nightly", 10).await.unwrap();
    engine.shutdown().await;

    let engine = open(home.path()).await;
    assert_eq!(engine.get("nightly").unwrap().spec, spec);
    assert_eq!(engine.get("api").unwrap().spec, service);
    assert_eq!(engine.runs("nightly", 10).await.unwrap(), before);
    // The autostart service is running again, and its previous run ended as stopped.
    running_pid(&engine.get("api").unwrap().status);
    let api_runs = engine.runs("api", 10).await.unwrap();
    assert_eq!(api_runs.len(), 2);
    assert_eq!(api_runs[0].trigger, Trigger::Autostart);
    assert_eq!(api_runs[1].outcome, Some(RunOutcome::Stopped));
    assert_eq!(
        api_runs[1].reason.as_deref(),
        Some("stopped because the engine shut down")
    );
    // Logs written before the restart are still there.
    assert_eq!(engine.log_tail("nightly", 1).unwrap()[0].text, "done");
    engine.shutdown().await;
}

#[test]
fn a_run_in_progress_when_the_engine_died_is_marked_interrupted() {
    let home = tempfile::tempdir().unwrap();
    // An engine whose runtime vanishes without a shutdown, as in a crash.
    let crashed = tokio::runtime::Runtime::new().unwrap();
    let pid = crashed.block_on(async {
        let engine = open(home.path()).await;
        engine.add(job("long", "sleep 1000")).await.unwrap();
        let pid = running_pid(&engine.start("long").await.unwrap());
        // Let the writer record the run before the "crash".
        engine.runs("long", 1).await.unwrap();
        pid
    });
    drop(crashed);
    assert!(group_alive(pid as i32), "the orphan is still there");
    nix::sys::signal::killpg(
        nix::unistd::Pid::from_raw(pid as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();

    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let engine = open(home.path()).await;
        let runs = engine.runs("long", 10).await.unwrap();
        assert_eq!(runs.len(), 1);
        assert_eq!(runs[0].outcome, Some(RunOutcome::Interrupted));
        assert!(runs[0].ended_at.is_some());
        assert!(runs[0]
            .reason
            .as_deref()
            .unwrap()
            .contains("engine stopped unexpectedly"));
        assert_eq!(engine.get("long").unwrap().status.state, JobState::Stopped);
        engine.shutdown().await;
    });
}
