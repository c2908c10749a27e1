//! What a job definition cannot make the engine do behind the user's back.

use sentinel_engine::proto::JobKind;

use crate::common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_shell_a_semicolon_is_just_an_argument() {
    let t = TestEngine::new().await;
    let mut events = t.engine.subscribe();
    let marker = t.path().join("pwned");
    // Were this run by a shell, `touch` would create the marker.
    let command = format!("echo '; rm -rf ~' ; touch {}", marker.display());
    let mut spec = job("echo", &command);
    spec.kind = JobKind::Task;
    t.engine.add(spec).await.unwrap();
    t.engine.start("echo").await.unwrap();
    state_of(&mut events, "echo", "exited").await;
    assert_eq!(
        t.engine.log_tail("echo", 1).unwrap()[0].text,
        format!("; rm -rf ~ ; touch {}", marker.display())
    );
    assert!(!marker.exists());

    // With shell = true the same text is a shell script: that is what the flag is for.
    let mut scripted = job("scripted", &format!("true ; touch {}", marker.display()));
    scripted.kind = JobKind::Task;
    scripted.shell = true;
    t.engine.add(scripted).await.unwrap();
    t.engine.start("scripted").await.unwrap();
    state_of(&mut events, "scripted", "exited").await;
    assert!(marker.exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_more_than_max_running_jobs_run_and_the_rest_wait_in_order() {
    use sentinel_engine::proto::api::BulkRequest;
    use sentinel_engine::proto::settings::Settings;
    use sentinel_engine::proto::{EngineEvent, JobState};
    use sentinel_engine::{BulkAction, EngineConfig, EngineHandle, EnginePaths};

    let home = tempfile::tempdir().unwrap();
    let mut config = EngineConfig::new(EnginePaths::under(home.path()));
    config.notifiers = Some(Vec::new());
    let mut settings = Settings::default();
    settings.limits.max_running = 2;
    config.settings = Some(settings);
    let engine = EngineHandle::open(config).await.unwrap();
    let mut events = engine.subscribe();
    for name in ["a", "b", "c", "d"] {
        engine.add(job(name, "sleep 300")).await.unwrap();
    }
    // One after the other, so the line has a known order.
    for name in ["a", "b", "c", "d"] {
        engine.start(name).await.unwrap();
    }
    let state = |name: &str| engine.get(name).unwrap().status.state;
    assert!(matches!(state("a"), JobState::Running { .. }));
    assert!(matches!(state("b"), JobState::Running { .. }));
    let JobState::Waiting { reason, .. } = state("c") else {
        panic!("c should wait: {:?}", state("c"))
    };
    assert_eq!(
        reason,
        "waiting for a free slot: 2 jobs are running (max_running = 2); number 1 in line"
    );
    let JobState::Waiting { reason, .. } = state("d") else {
        panic!("d should wait")
    };
    assert!(reason.ends_with("number 2 in line"), "{reason}");

    // A slot that frees up goes to the first in line.
    engine.stop("a").await.unwrap();
    let next = next_event(&mut events, |e| match &e.event {
        EngineEvent::RunStarted { job, .. } if job != "a" && job != "b" => Some(job.clone()),
        _ => None,
    })
    .await;
    assert_eq!(next, "c");
    assert!(matches!(state("d"), JobState::Waiting { .. }));
    // Stopping a waiting job takes it out of line.
    engine.stop("d").await.unwrap();
    assert_eq!(state("d"), JobState::Stopped);
    engine.stop("b").await.unwrap();
    let running = engine
        .list()
        .into_iter()
        .filter(|s| matches!(s.state, JobState::Running { .. }))
        .count();
    assert_eq!(running, 1, "only c runs");
    engine
        .bulk(
            BulkAction::Stop,
            &BulkRequest {
                all: true,
                ..BulkRequest::default()
            },
        )
        .await
        .unwrap();
    engine.shutdown().await;
}
