//! Adding, changing and removing jobs; states and events as they happen.

use sentinel_engine::proto::action::Action;
use std::time::Duration;

use sentinel_engine::proto::{EngineEvent, JobState, Trigger};
use sentinel_engine::EngineError;

use crate::common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_transition_is_an_event_in_order() {
    let t = TestEngine::new().await;
    let mut events = t.engine.subscribe();
    t.engine.add(sh("brief", "exit 0")).await.unwrap();
    t.engine.act_on(Action::Start, "brief").await.unwrap();
    let mut seen = Vec::new();
    let mut last_seq = 0;
    next_event(&mut events, |e| {
        assert!(e.seq > last_seq, "sequence numbers go up");
        last_seq = e.seq;
        let label = match &e.event {
            // The sampler's tick may fall while the run lasts; it is not a transition.
            EngineEvent::ResourcesSampled { .. } => return None,
            EngineEvent::StateChanged { status } => status.state.name().to_string(),
            other => other.kind().to_string(),
        };
        seen.push(label);
        (seen.last().map(String::as_str) == Some("exited")).then_some(())
    })
    .await;
    assert_eq!(
        seen,
        vec![
            "job_added",
            "starting",
            "run_started",
            "running",
            "run_exited",
            "exited"
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_autostart_service_starts_when_added_and_a_disabled_one_never() {
    let t = TestEngine::new().await;
    let mut spec = job("auto", "sleep 1000");
    spec.autostart = true;
    let status = t.engine.add(spec).await.unwrap();
    running_pid(&status);

    let mut off = job("off", "sleep 1000");
    off.enabled = false;
    off.autostart = true;
    assert_eq!(t.engine.add(off).await.unwrap().state, JobState::Stopped);
    assert!(matches!(
        t.engine.act_on(Action::Start, "off").await,
        Err(EngineError::Disabled(_))
    ));
    t.engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn updates_restart_only_when_the_process_must_change() {
    let t = TestEngine::new().await;
    let mut events = t.engine.subscribe();
    let spec = job("svc", "sleep 1000");
    t.engine.add(spec.clone()).await.unwrap();
    let pid = running_pid(&t.engine.act_on(Action::Start, "svc").await.unwrap());

    let mut regrouped = spec.clone();
    regrouped.group = Some("backend".into());
    regrouped.restart.max_retries = 9;
    let status = t.engine.update(regrouped.clone()).await.unwrap();
    assert_eq!(running_pid(&status), pid, "a group change must not restart");
    assert_eq!(status.group.as_deref(), Some("backend"));
    assert_eq!(t.engine.get("svc").unwrap().spec, regrouped);

    let mut changed = regrouped.clone();
    changed.env.insert("MODE".into(), "fast".into());
    let status = t.engine.update(changed).await.unwrap();
    assert_ne!(running_pid(&status), pid, "an env change must restart");
    let restarted = next_event(&mut events, |e| match &e.event {
        EngineEvent::JobUpdated { restarted, .. } => Some(*restarted),
        _ => None,
    })
    .await;
    assert!(!restarted);
    let restarted = next_event(&mut events, |e| match &e.event {
        EngineEvent::JobUpdated { restarted, .. } => Some(*restarted),
        _ => None,
    })
    .await;
    assert!(restarted);
    let runs = t.engine.runs("svc", 5).await.unwrap();
    assert_eq!(runs[0].trigger, Trigger::Restart);
    assert_eq!(
        runs[1].reason.as_deref(),
        Some("stopped to apply a changed definition")
    );

    let mut disabled = t.engine.get("svc").unwrap().spec;
    disabled.enabled = false;
    let status = t.engine.update(disabled).await.unwrap();
    assert_eq!(status.state, JobState::Stopped);
    assert!(!status.enabled);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_replaces_the_process() {
    let t = TestEngine::new().await;
    t.engine.add(job("svc", "sleep 1000")).await.unwrap();
    let first = running_pid(&t.engine.act_on(Action::Start, "svc").await.unwrap());
    let second = running_pid(&t.engine.act_on(Action::Restart, "svc").await.unwrap());
    assert_ne!(first, second);
    assert!(!group_alive(first as i32));
    // Starting a running job changes nothing.
    assert_eq!(
        running_pid(&t.engine.act_on(Action::Start, "svc").await.unwrap()),
        second
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remove_stops_the_job_and_forgets_it() {
    let t = TestEngine::new().await;
    t.engine
        .add(sh("doomed", "sleep 1000 & wait"))
        .await
        .unwrap();
    let pid = running_pid(&t.engine.act_on(Action::Start, "doomed").await.unwrap());
    t.engine.remove("doomed").await.unwrap();
    assert!(!group_alive(pid as i32));
    assert!(matches!(
        t.engine.get("doomed"),
        Err(EngineError::NotFound(_))
    ));
    assert!(t.engine.list().is_empty());
    assert!(matches!(
        t.engine.remove("doomed").await,
        Err(EngineError::NotFound(_))
    ));
    // The name is free again.
    t.engine.add(job("doomed", "true")).await.unwrap();
    assert!(t.engine.runs("doomed", 10).await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_are_refused_with_what_is_wrong() {
    let t = TestEngine::new().await;
    t.engine.add(job("one", "true")).await.unwrap();
    let err = t.engine.add(job("one", "true")).await.unwrap_err();
    assert!(matches!(err, EngineError::AlreadyExists(ref n) if n == "one"));
    assert_eq!(err.to_string(), "a job named \"one\" already exists");

    let mut bad = job("../etc/passwd", "echo 'unbalanced");
    bad.restart.delay = Duration::from_secs(3600);
    match t.engine.add(bad).await.unwrap_err() {
        EngineError::Invalid(errors) => {
            let fields: Vec<_> = errors.0.iter().map(|e| e.field.as_str()).collect();
            assert_eq!(fields, vec!["name", "command", "restart.delay"]);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(t.engine.list().len(), 1, "nothing half-written");
    assert!(matches!(
        t.engine.act_on(Action::Start, "nope").await,
        Err(EngineError::NotFound(_))
    ));
    assert!(matches!(
        t.engine.update(job("nope", "true")).await,
        Err(EngineError::NotFound(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_finds_programs_on_its_own_path() {
    let t = TestEngine::new().await;
    let mut events = t.engine.subscribe();
    let bin = t.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    write_file(
        &bin,
        "hello-tool",
        "#!/bin/sh\necho \"hello from $0 in $(pwd)\"\n",
        0o755,
    );
    let mut spec = job("tool", "hello-tool");
    spec.env
        .insert("PATH".into(), format!("{}:/usr/bin:/bin", bin.display()));
    spec.cwd = Some(bin.clone());
    t.engine.add(spec).await.unwrap();
    t.engine.act_on(Action::Start, "tool").await.unwrap();
    state_of(&mut events, "tool", "exited").await;
    let line = &t.engine.log_tail("tool", 1, None).unwrap()[0].text;
    assert!(
        line.contains("hello-tool") && line.ends_with(&bin.display().to_string()),
        "{line}"
    );
}
