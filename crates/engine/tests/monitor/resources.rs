//! The sampler and the memory limit.

use sentinel_engine::proto::{EngineEvent, ResourceSample, RunOutcome, Trigger};

use crate::common::*;
use crate::*;

/// The next `n` samples of a job.
async fn samples_of(
    events: &mut sentinel_engine::EventSubscription,
    job: &str,
    n: usize,
) -> Vec<ResourceSample> {
    collect(events, n, |e| match &e.event {
        EngineEvent::ResourcesSampled { samples } => samples
            .iter()
            .find(|s| s.job == job)
            .map(|s| s.sample.clone()),
        _ => None,
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cpu_burning_child_uses_about_one_core() {
    let _quiet = CPU_QUIET.write().await;
    let home = tempfile::tempdir().unwrap();
    let engine = open_with(home.path(), quick_settings(), vec![]).await;
    let mut events = engine.subscribe();
    engine.add(sh("burn", "while :; do :; done")).await.unwrap();
    engine.start("burn").await.unwrap();
    // The first sample of a run covers less than an interval: judge the settled ones.
    let samples = samples_of(&mut events, "burn", 12).await;
    let mut settled: Vec<f64> = samples[2..].iter().map(|s| s.cpu_percent).collect();
    settled.sort_by(f64::total_cmp);
    let median = settled[settled.len() / 2];
    assert!(
        (80.0..=115.0).contains(&median),
        "median CPU {median}% of {settled:?}"
    );
    let last = samples.last().unwrap();
    assert_eq!(last.processes, 1);
    assert!(last.cpu_seconds > 0.5, "{last:?}");
    // The status and the history say the same.
    let status = engine.get("burn").unwrap().status;
    assert!(status.resources.is_some());
    let history = engine.resource_history("burn").unwrap();
    assert!(history.samples.len() >= 10, "{}", history.samples.len());
    assert_eq!(history.interval_ms, 100);
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_child_holding_100_mb_is_seen_with_its_group() {
    let _shared = CPU_QUIET.read().await;
    let home = tempfile::tempdir().unwrap();
    let engine = open_with(home.path(), quick_settings(), vec![]).await;
    let mut events = engine.subscribe();
    // The memory sits in a grandchild: the sampler must count the whole group.
    let hog = "python3 -c 'import time; b = b\"x\" * (100 * 1024 * 1024); print(\"ready\", flush=True); time.sleep(60)' & wait";
    engine.add(sh("hog", hog)).await.unwrap();
    engine.start("hog").await.unwrap();
    let deadline = tokio::time::Instant::now() + DEADLINE;
    let sample = loop {
        let sample = samples_of(&mut events, "hog", 1).await.remove(0);
        if sample.memory_bytes >= 100 * 1024 * 1024 || tokio::time::Instant::now() > deadline {
            break sample;
        }
    };
    assert!(
        (100 * 1024 * 1024..200 * 1024 * 1024).contains(&sample.memory_bytes),
        "{sample:?}"
    );
    assert_eq!(sample.processes, 2, "sh and python: {sample:?}");
    engine.stop("hog").await.unwrap();
    assert!(engine.get("hog").unwrap().status.resources.is_none());
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_memory_limit_restarts_a_growing_child() {
    let _shared = CPU_QUIET.read().await;
    let home = tempfile::tempdir().unwrap();
    let engine = open_with(home.path(), quick_settings(), vec![]).await;
    let mut events = engine.subscribe();
    let grow = "python3 -c 'import time\nheld = []\nwhile True:\n    held.append(b\"x\" * 5_000_000)\n    time.sleep(0.05)'";
    let mut spec = sh("leaky", grow);
    spec.max_memory = Some(60 * 1024 * 1024);
    engine.add(spec).await.unwrap();
    engine.start("leaky").await.unwrap();

    let (outcome, run_id) = next_event(&mut events, |e| match &e.event {
        EngineEvent::RunExited {
            job,
            outcome,
            run_id,
            ..
        } if job == "leaky" => Some((*outcome, *run_id)),
        _ => None,
    })
    .await;
    assert_eq!(outcome, RunOutcome::Failure);
    let trigger = next_event(&mut events, |e| match &e.event {
        EngineEvent::RunStarted { job, trigger, .. } if job == "leaky" => Some(*trigger),
        _ => None,
    })
    .await;
    assert_eq!(trigger, Trigger::MemoryLimit);
    let runs = engine.runs("leaky", 10).await.unwrap();
    let ended = runs.iter().find(|r| r.id == run_id).unwrap();
    let reason = ended.reason.clone().unwrap_or_default();
    assert!(
        reason.starts_with("memory limit exceeded") && reason.contains("max_memory = 60MiB"),
        "{reason}"
    );
    let status = engine.get("leaky").unwrap().status;
    assert!(status.restarts >= 1);
    engine.shutdown().await;
}
