//! Job files: export, import (merge, replace, dry run, all or nothing), bulk actions.

use sentinel_engine::proto::action::{Action, Selection};
use sentinel_engine::proto::config::ConfigFile;
use sentinel_engine::proto::schedule::ScheduleSpec;
use sentinel_engine::proto::secret::Secrets;
use sentinel_engine::proto::{JobKind, JobSpec};
use sentinel_engine::EngineError;

use crate::common::*;

fn names(engine: &sentinel_engine::EngineHandle) -> Vec<String> {
    engine.list().into_iter().map(|s| s.name).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_then_import_changes_nothing() {
    let t = TestEngine::new().await;
    let mut web = job("web", "sleep 1000");
    web.group = Some("front".into());
    t.engine.add(web).await.unwrap();
    let mut backup = sh("backup", "true");
    backup.kind = JobKind::Task;
    backup.schedule = Some(ScheduleSpec {
        cron: Some("0 2 * * *".into()),
        ..Default::default()
    });
    t.engine.add(backup).await.unwrap();
    let file = t.engine.export(None, &[], Secrets::Shown).unwrap();
    assert_eq!(file.jobs.len(), 2);
    let plan = t.engine.import(file.clone(), true, false).await.unwrap();
    assert_eq!(plan.unchanged, vec!["backup", "web"]);
    assert!(plan.add.is_empty() && plan.update.is_empty() && plan.remove.is_empty());
    assert_eq!(t.engine.export(None, &[], Secrets::Shown).unwrap(), file);
    assert_eq!(
        t.engine
            .export(Some("front"), &[], Secrets::Shown)
            .unwrap()
            .jobs
            .len(),
        1
    );
    assert!(matches!(
        t.engine.export(None, &["nope".into()], Secrets::Shown),
        Err(EngineError::NotFound(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn merge_adds_and_updates_and_replace_also_removes() {
    let t = TestEngine::new().await;
    t.engine.add(job("keep", "sleep 1000")).await.unwrap();
    t.engine.add(job("change", "sleep 1000")).await.unwrap();
    let mut changed = job("change", "sleep 2000");
    changed.group = Some("g".into());
    let file = ConfigFile::new(vec![changed.clone(), job("new", "true")]);

    let dry = t.engine.import(file.clone(), true, true).await.unwrap();
    assert!(!dry.applied);
    assert_eq!(
        (dry.add.clone(), dry.update.clone(), dry.remove.clone()),
        (
            vec!["new".to_string()],
            vec!["change".to_string()],
            vec!["keep".to_string()]
        )
    );
    assert_eq!(
        names(&t.engine),
        vec!["change", "keep"],
        "a dry run changed something"
    );
    assert_eq!(t.engine.get("change").unwrap().spec.command, "sleep 1000");

    let merged = t.engine.import(file.clone(), false, false).await.unwrap();
    assert!(merged.applied && merged.remove.is_empty());
    assert_eq!(names(&t.engine), vec!["change", "keep", "new"]);
    assert_eq!(t.engine.get("change").unwrap().spec, changed);

    let replaced = t.engine.import(file, true, false).await.unwrap();
    assert_eq!(replaced.remove, vec!["keep"]);
    assert_eq!(names(&t.engine), vec!["change", "new"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_with_any_bad_job_changes_nothing() {
    let t = TestEngine::new().await;
    t.engine.add(job("existing", "true")).await.unwrap();
    let mut late = sh("late", "true");
    late.kind = JobKind::Task;
    late.schedule = Some(ScheduleSpec {
        at: Some("2020-01-01 00:00".into()),
        ..Default::default()
    });
    let file = ConfigFile::new(vec![job("fine", "true"), late]);
    match t.engine.import(file, true, false).await.unwrap_err() {
        EngineError::Invalid(errors) => assert_eq!(errors.0[0].field, "jobs[1] (late).schedule.at"),
        other => panic!("{other:?}"),
    }
    assert_eq!(names(&t.engine), vec!["existing"]);
    // Survives a restart too: nothing was written.
    t.engine.shutdown().await;
    let engine = open(t.path()).await;
    assert_eq!(names(&engine), vec!["existing"]);
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_jobs_restart_together() {
    let t = TestEngine::new().await;
    let specs: Vec<JobSpec> = (0..200)
        .map(|n| job(&format!("j{n}"), "sleep 1000"))
        .collect();
    t.engine
        .import(ConfigFile::new(specs), false, false)
        .await
        .unwrap();
    let started = t.engine.act(Action::Start, &Selection::All).await.unwrap();
    let before: Vec<u32> = started
        .iter()
        .map(|(_, r)| running_pid(r.as_ref().unwrap()))
        .collect();
    let restarted = t
        .engine
        .act(Action::Restart, &Selection::All)
        .await
        .unwrap();
    assert_eq!(restarted.len(), 200);
    for ((name, result), old) in restarted.iter().zip(&before) {
        let pid = running_pid(result.as_ref().unwrap());
        assert_ne!(pid, *old, "{name} kept its process");
        assert!(!group_alive(*old as i32), "{name}'s old group lives on");
    }
    t.engine.shutdown().await;
}
