//! The sampler and the memory limit.

use sentinel_engine::proto::action::Action;
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
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "reads /proc for what the process really got"
)]
async fn a_cpu_burning_child_is_measured_as_the_cpu_it_really_got() {
    let _quiet = CPU_QUIET.write().await;
    let home = tempfile::tempdir().unwrap();
    let engine = open_with(home.path(), quick_settings(), vec![]).await;
    let mut events = engine.subscribe();
    engine.add(sh("burn", "while :; do :; done")).await.unwrap();
    let started = engine.act_on(Action::Start, "burn").await.unwrap();
    let pid = started.state.pid().unwrap();
    // The first sample of a run covers less than an interval: judge the settled ones.
    let _ = samples_of(&mut events, "burn", 2).await;
    // What the burner really got, read by the test itself around the samples: on a busy
    // machine that is less than a core, and the sampler must say so, not a fixed figure.
    let (cpu_before, wall_before) = (cpu_ticks(pid), std::time::Instant::now());
    let samples = samples_of(&mut events, "burn", 10).await;
    let got = (cpu_ticks(pid) - cpu_before) as f64
        / ticks_per_second()
        / wall_before.elapsed().as_secs_f64()
        * 100.0;
    let mut settled: Vec<f64> = samples.iter().map(|s| s.cpu_percent).collect();
    settled.sort_by(f64::total_cmp);
    let mean = settled.iter().sum::<f64>() / settled.len() as f64;
    assert!(
        (mean - got).abs() <= 20.0 && got > 25.0,
        "the sampler says {mean:.1}% on average ({settled:?}); the process got {got:.1}%"
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
    engine.act_on(Action::Start, "hog").await.unwrap();
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
    engine.act_on(Action::Stop, "hog").await.unwrap();
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
    engine.act_on(Action::Start, "leaky").await.unwrap();

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

/// User and system CPU time of a process so far, in clock ticks (`/proc/PID/stat`).
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 1..]
        .split_whitespace()
        .collect();
    // utime and stime: fields 14 and 15, the 12th and 13th after the command name.
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

fn ticks_per_second() -> f64 {
    nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
        .unwrap()
        .unwrap() as f64
}

/// Samples of each job from `events` until `enough` says stop; counts per job.
async fn count_samples(
    events: &mut sentinel_engine::EventSubscription,
    mut enough: impl FnMut(&std::collections::HashMap<String, usize>) -> bool,
) -> std::collections::HashMap<String, usize> {
    let mut counts = std::collections::HashMap::new();
    let deadline = tokio::time::Instant::now() + DEADLINE;
    while !enough(&counts) {
        let received = tokio::time::timeout_at(deadline, events.recv())
            .await
            .expect("samples within the deadline");
        if let Some(sentinel_engine::Received::Event(envelope)) = received {
            if let EngineEvent::ResourcesSampled { samples } = envelope.event {
                for sample in samples {
                    *counts.entry(sample.job).or_default() += 1;
                }
            }
        }
    }
    counts
}

/// Nobody watching: a job is sampled once, then only every `unwatched_interval` (an hour
/// here), while a job with a memory limit is sampled at the full rate all along. A watcher
/// gets figures at once, not at the next tick, and every job at the full rate until it goes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_watched_jobs_and_memory_limits_are_sampled_at_the_full_rate() {
    let _shared = CPU_QUIET.read().await;
    let home = tempfile::tempdir().unwrap();
    let mut settings = quick_settings();
    settings.monitor.unwatched_interval = std::time::Duration::from_secs(3600);
    let engine = open_with(home.path(), settings, vec![]).await;
    let mut events = engine.subscribe();
    engine.add(sh("plain", "sleep 1000")).await.unwrap();
    let mut limited = sh("limited", "sleep 1000");
    limited.max_memory = Some(1024 * 1024 * 1024);
    engine.add(limited).await.unwrap();
    engine.act_on(Action::Start, "plain").await.unwrap();
    engine.act_on(Action::Start, "limited").await.unwrap();

    let is = |counts: &std::collections::HashMap<String, usize>, job: &str| {
        counts.get(job).copied().unwrap_or(0)
    };
    let unwatched = count_samples(&mut events, |c| {
        is(c, "limited") >= 8 && is(c, "plain") >= 1
    })
    .await;
    assert_eq!(
        is(&unwatched, "plain"),
        1,
        "unwatched, the plain job is measured once while the limited one is measured {} times",
        is(&unwatched, "limited")
    );
    // Its figures stay, as the last ones taken.
    assert!(engine.get("plain").unwrap().status.resources.is_some());

    let watching = engine.watch_resources();
    let watched = count_samples(&mut events, |c| is(c, "plain") >= 5).await;
    assert!(is(&watched, "limited") >= 4, "{watched:?}");

    drop(watching);
    // Back to the slow rate: at most the tick in flight when the guard went.
    let after = count_samples(&mut events, |c| is(c, "limited") >= 8).await;
    assert!(is(&after, "plain") <= 1, "{after:?}");

    // A metrics scrape counts as watching for a minute.
    let _ = engine.render_metrics();
    let scraped = count_samples(&mut events, |c| is(c, "plain") >= 3).await;
    assert!(is(&scraped, "plain") >= 3, "{scraped:?}");
    engine.shutdown().await;
}

/// Settings where the sampler, left to its clock, would not sample again within the test.
fn hour_long_intervals() -> Settings {
    let mut settings = quick_settings();
    settings.monitor.sample_interval = std::time::Duration::from_secs(3600);
    settings.monitor.unwatched_interval = std::time::Duration::from_secs(3600);
    settings.monitor.history = std::time::Duration::from_secs(7200);
    settings
}

/// With a long full-rate interval, a watcher still gets its first figures at once: the
/// sampler is woken when watching starts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watching_wakes_the_sampler() {
    let _shared = CPU_QUIET.read().await;
    let home = tempfile::tempdir().unwrap();
    let engine = open_with(home.path(), hour_long_intervals(), vec![]).await;
    engine.add(sh("plain", "sleep 1000")).await.unwrap();
    let mut events = engine.subscribe();
    engine.act_on(Action::Start, "plain").await.unwrap();
    let _watching = engine.watch_resources();
    let samples = samples_of(&mut events, "plain", 1).await;
    assert!(samples[0].processes >= 1, "{:?}", samples[0]);
    engine.shutdown().await;
}

/// Nobody watching and no limit to enforce, the sampler sleeps for the unwatched interval; a
/// job with a memory limit still gets its first figures as it starts: its start wakes the
/// sampler.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_limited_start_wakes_the_sleeping_sampler() {
    let _shared = CPU_QUIET.read().await;
    let home = tempfile::tempdir().unwrap();
    let engine = open_with(home.path(), hour_long_intervals(), vec![]).await;
    let mut limited = sh("limited", "sleep 1000");
    limited.max_memory = Some(1024 * 1024 * 1024);
    engine.add(limited).await.unwrap();
    let mut events = engine.subscribe();
    engine.act_on(Action::Start, "limited").await.unwrap();
    let samples = samples_of(&mut events, "limited", 1).await;
    assert!(samples[0].processes >= 1, "{:?}", samples[0]);
    engine.shutdown().await;
}
