//! Definitions that break a bound: refused wherever they come from, and one that is already
//! in the database (stored by an older version) can neither stop the engine from starting nor
//! run.

use sentinel_engine::proto::action::Action;
use std::time::Duration;

use sentinel_engine::proto::config::{ConfigFile, ConfigFormat};
use sentinel_engine::proto::schedule::ScheduleSpec;
use sentinel_engine::proto::{JobKind, JobState};
use sentinel_engine::EngineError;

use crate::common::*;

fn every(name: &str, interval: Duration) -> sentinel_engine::proto::JobSpec {
    let mut spec = job(name, "true");
    spec.kind = JobKind::Task;
    spec.schedule = Some(ScheduleSpec {
        every: Some(interval),
        ..Default::default()
    });
    spec
}

fn invalid_fields(result: Result<impl std::fmt::Debug, EngineError>) -> Vec<String> {
    match result {
        Err(EngineError::Invalid(errors)) => errors.0.into_iter().map(|e| e.field).collect(),
        other => panic!("not refused as invalid: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_definition_out_of_bounds_is_refused_and_nothing_is_saved() {
    let t = TestEngine::new().await;
    let million_years = Duration::from_secs(1_000_000 * 31_557_600);
    assert_eq!(
        invalid_fields(t.engine.add(every("x", million_years)).await),
        ["schedule.every"]
    );
    assert_eq!(
        invalid_fields(t.engine.add(every("x", Duration::from_nanos(1))).await),
        ["schedule.every"]
    );
    let mut slow = job("slow", "false");
    slow.restart.delay = million_years;
    slow.restart.max_delay = million_years;
    slow.stop_timeout = million_years;
    assert_eq!(
        invalid_fields(t.engine.add(slow).await),
        ["restart.delay", "restart.max_delay", "stop_timeout"]
    );
    // A cron expression that never comes: nothing to schedule, so nothing is saved.
    let mut never = job("never", "true");
    never.kind = JobKind::Task;
    never.schedule = Some(ScheduleSpec {
        cron: Some("0 0 30 2 *".into()),
        ..Default::default()
    });
    assert_eq!(invalid_fields(t.engine.add(never).await), ["schedule.cron"]);
    let mut never_restarted = job("never-restarted", "sleep 1");
    never_restarted.restart_schedule = Some("0 0 30 2 *".into());
    assert_eq!(
        invalid_fields(t.engine.add(never_restarted).await),
        ["restart_schedule"]
    );

    // The same through an imported file: all or nothing, and named by job.
    let file = ConfigFile::parse(
        "version = 1\n[[jobs]]\nname = \"ok\"\ncommand = \"true\"\n\
         [[jobs]]\nname = \"x\"\ncommand = \"true\"\nkind = \"task\"\nschedule = { every = \"1000000y\" }\n",
        ConfigFormat::Toml,
    );
    let errors = file.expect_err("the file is refused as it is parsed");
    assert!(
        errors.iter().any(|e| e.field.contains("schedule.every")),
        "{errors:?}"
    );
    assert!(t.engine.list().is_empty(), "nothing was saved");

    // And an update.
    t.engine
        .add(every("x", Duration::from_secs(60)))
        .await
        .unwrap();
    assert_eq!(
        invalid_fields(t.engine.update(every("x", million_years)).await),
        ["schedule.every"]
    );
    assert_eq!(
        t.engine.get("x").unwrap().spec.schedule.unwrap().every,
        Some(Duration::from_secs(60))
    );
    t.engine.shutdown().await;
}

/// Writes a definition into the database as an older version might have, bypassing the
/// validator.
async fn store_unchecked(home: &std::path::Path, name: &str, spec_json: serde_json::Value) {
    use sqlx::sqlite::SqliteConnectOptions;
    use sqlx::ConnectOptions;
    let mut db = SqliteConnectOptions::new()
        .filename(home.join("sentinel.db"))
        .connect()
        .await
        .unwrap();
    sqlx::query("UPDATE jobs SET spec = ? WHERE name = ?")
        .bind(spec_json.to_string())
        .bind(name)
        .execute(&mut db)
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stored_definition_out_of_bounds_neither_bricks_the_engine_nor_runs() {
    let home = tempfile::tempdir().unwrap();
    let engine = open(home.path()).await;
    engine
        .add(every("tick", Duration::from_secs(3600)))
        .await
        .unwrap();
    let mut service = job("svc", "sleep 300");
    service.autostart = true;
    engine.add(service).await.unwrap();
    engine.shutdown().await;
    drop(engine);

    let tick = serde_json::json!({
        "name": "tick", "command": "true", "kind": "task", "autostart": false,
        "schedule": { "every": "1000000years" }
    });
    let svc = serde_json::json!({
        "name": "svc", "command": "sleep 300",
        "restart": { "mode": "always", "delay": "1000000years", "max_delay": "1000000years" },
        "stop_timeout": "400000000000years"
    });
    store_unchecked(home.path(), "tick", tick).await;
    store_unchecked(home.path(), "svc", svc).await;

    // The engine starts (it panicked here before), lists both, and says what is wrong.
    let engine = open(home.path()).await;
    for name in ["tick", "svc"] {
        let status = engine.list().into_iter().find(|s| s.name == name).unwrap();
        let JobState::Failed { reason, .. } = &status.state else {
            panic!("{name} is not failed: {status:?}");
        };
        assert!(reason.contains("stored definition is invalid"), "{reason}");
        assert!(status.next_run_at.is_none(), "{name} is not scheduled");
        // It does not run, by any way in.
        assert!(matches!(
            engine.act_on(Action::Start, name).await,
            Err(EngineError::Invalid(_))
        ));
        assert!(matches!(
            engine.act_on(Action::Restart, name).await,
            Err(EngineError::Invalid(_))
        ));
    }
    // A corrected definition clears it.
    engine
        .update(every("tick", Duration::from_secs(60)))
        .await
        .unwrap();
    let status = engine
        .list()
        .into_iter()
        .find(|s| s.name == "tick")
        .unwrap();
    assert!(matches!(status.state, JobState::Stopped), "{status:?}");
    let started = engine.act_on(Action::Start, "tick").await.unwrap();
    assert!(
        !matches!(started.state, JobState::Failed { .. }),
        "{started:?}"
    );
    engine.shutdown().await;
}
