//! What survives the engine: definitions, run history, and the truth about interrupted runs.

use sentinel_engine::proto::action::Action;
use std::os::unix::process::CommandExt;

use sentinel_engine::process::group_exists;
use sentinel_engine::process::recover::process_start_time;
use sentinel_engine::proto::{JobKind, JobState, RunOutcome, Trigger};
use sentinel_engine::{EngineConfig, EngineError, EngineHandle, EnginePaths};

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
    engine.act_on(Action::Start, "nightly").await.unwrap();
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
    assert_eq!(engine.log_tail("nightly", 1, None).unwrap()[0].text, "done");
    engine.shutdown().await;
}

/// Records a run as in progress, as an engine that died would have left it.
async fn record_open_run(
    home: &std::path::Path,
    id: i64,
    job: &str,
    pid: u32,
    proc_start: Option<u64>,
) {
    let url = format!("sqlite://{}", home.join("sentinel.db").display());
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    sqlx::query(
        "INSERT INTO runs (id, job, trigger, started_at, pid, pgid, proc_start) VALUES (?, ?, 'manual', 0, ?, ?, ?)",
    )
    .bind(id)
    .bind(job)
    .bind(pid)
    .bind(pid)
    .bind(proc_start.map(|s| s as i64))
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;
}

/// A process group of the test's own, never left behind even when an assertion fails.
struct Group(std::process::Child);

impl Group {
    fn spawn(script: &str) -> Group {
        let mut command = std::process::Command::new("sh");
        command.arg("-c").arg(script).process_group(0);
        Group(command.spawn().unwrap())
    }

    fn id(&self) -> u32 {
        self.0.id()
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        let _ = nix::sys::signal::killpg(
            nix::unistd::Pid::from_raw(self.id() as i32),
            nix::sys::signal::Signal::SIGKILL,
        );
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orphans_of_a_crashed_engine_are_stopped_and_its_services_run_again() {
    let home = tempfile::tempdir().unwrap();
    let engine = open(home.path()).await;
    engine.add(sh("svc", "sleep 1000 & wait")).await.unwrap();
    let mut task = sh("report", "sleep 1000 & wait");
    task.kind = JobKind::Task;
    engine.add(task).await.unwrap();
    engine.shutdown().await;

    // What a crashed engine leaves: its runs' process groups, with grandchildren, still running.
    let service = Group::spawn("sleep 1000 & wait");
    let report = Group::spawn("sleep 1000 & wait");
    eventually("the orphans' children", || {
        [&service, &report].iter().all(|g| {
            std::fs::read_to_string(format!("/proc/{}/task/{}/children", g.id(), g.id()))
                .map_or(true, |c| !c.trim().is_empty())
        })
    })
    .await;
    for (id, job, group) in [(100, "svc", &service), (101, "report", &report)] {
        let started = process_start_time(group.id());
        assert!(started.is_some());
        record_open_run(home.path(), id, job, group.id(), started).await;
    }

    let engine = open(home.path()).await;
    assert!(
        !group_exists(service.id()),
        "the orphaned service group was not stopped"
    );
    assert!(
        !group_exists(report.id()),
        "the orphaned task group was not stopped"
    );
    for job in ["svc", "report"] {
        let runs = engine.runs(job, 10).await.unwrap();
        let interrupted = runs
            .iter()
            .find(|r| r.outcome == Some(RunOutcome::Interrupted))
            .unwrap();
        assert!(interrupted.ended_at.is_some());
        assert!(interrupted
            .reason
            .as_deref()
            .unwrap()
            .contains("engine stopped unexpectedly"));
    }
    // The service runs again, once; the task waits to be run.
    let svc = engine.runs("svc", 10).await.unwrap();
    assert_eq!(svc.len(), 2);
    assert_eq!(svc[0].trigger, Trigger::Recovery);
    running_pid(&engine.get("svc").unwrap().status);
    assert_eq!(
        engine.get("report").unwrap().status.state,
        JobState::Stopped
    );
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_that_reused_a_recorded_pid_is_never_touched() {
    let home = tempfile::tempdir().unwrap();
    let engine = open(home.path()).await;
    engine.add(job("old", "true")).await.unwrap();
    engine.shutdown().await;

    // An unrelated process leading its own group, recorded as if it were an old run's.
    let stranger = Group::spawn("exec sleep 1000");
    record_open_run(home.path(), 999, "old", stranger.id(), Some(1)).await;

    let engine = open(home.path()).await;
    assert!(
        group_exists(stranger.id()),
        "an unrelated process was stopped"
    );
    let runs = engine.runs("old", 10).await.unwrap();
    let recorded = runs.iter().find(|r| r.id == 999).unwrap();
    assert_eq!(recorded.outcome, Some(RunOutcome::Interrupted));
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_engine_on_the_same_home_is_refused() {
    let home = tempfile::tempdir().unwrap();
    let first = open(home.path()).await;
    let config = EngineConfig::new(EnginePaths::under(home.path()));
    match EngineHandle::open(config.clone()).await {
        Err(err @ EngineError::AlreadyRunning { .. }) => {
            let message = err.to_string();
            assert!(message.contains("already running"), "{message}");
            assert!(
                message.contains(&format!("pid {}", std::process::id())),
                "{message}"
            );
        }
        Err(other) => panic!("unexpected error {other}"),
        Ok(_) => panic!("a second engine started on the same home"),
    }
    first.shutdown().await;
    // Once the first is gone the home is free.
    EngineHandle::open(config).await.unwrap().shutdown().await;
}
