//! Schedules with real runs: on the right second, overlap policies, catch-up after downtime,
//! disable/enable, one-time runs, scheduled restarts of services.

use sentinel_engine::proto::action::Action;
use std::time::Duration;

use chrono::{SecondsFormat, Timelike, Utc};
use sentinel_engine::proto::schedule::{MissedPolicy, Overlap, ScheduleSpec};
use sentinel_engine::proto::{EngineEvent, JobKind, JobSpec, RunOutcome, Trigger};

use crate::common::*;

fn task(name: &str, script: &str, schedule: ScheduleSpec) -> JobSpec {
    let mut spec = sh(name, script);
    spec.kind = JobKind::Task;
    spec.schedule = Some(schedule);
    spec
}

fn cron(expr: &str) -> ScheduleSpec {
    ScheduleSpec {
        cron: Some(expr.into()),
        ..Default::default()
    }
}

/// Waits for `n` runs of a job to start and returns their ids and triggers.
async fn started(
    events: &mut sentinel_engine::EventSubscription,
    job: &str,
    n: usize,
) -> Vec<(i64, Trigger)> {
    collect(events, n, |e| match &e.event {
        EngineEvent::RunStarted {
            job: j,
            run_id,
            trigger,
            ..
        } if j == job => Some((*run_id, *trigger)),
        _ => None,
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cron_every_two_seconds_fires_on_the_second() {
    let t = TestEngine::new().await;
    let mut events = t.engine.subscribe();
    t.engine
        .add(task("tick", "true", cron("*/2 * * * * *")))
        .await
        .unwrap();
    let fired = started(&mut events, "tick", 3).await;
    assert!(fired
        .iter()
        .all(|(_, trigger)| *trigger == Trigger::Schedule));
    let runs = t.engine.runs("tick", 10).await.unwrap();
    assert_eq!(runs.len(), 3);
    for run in &runs {
        let scheduled = run
            .scheduled_at
            .expect("a scheduled run records its fire time");
        assert_eq!(scheduled.nanosecond(), 0, "fire times are whole seconds");
        assert_eq!(scheduled.second() % 2, 0, "{scheduled}");
        let late = run.started_at - scheduled;
        // It starts at its second: never before, and before the next fire time (a generous
        // bound for a busy machine; the gaps below show the cadence).
        assert!(
            late >= chrono::Duration::zero() && late < chrono::Duration::milliseconds(1900),
            "late by {late}"
        );
    }
    let gaps: Vec<i64> = runs
        .windows(2)
        .map(|w| (w[0].scheduled_at.unwrap() - w[1].scheduled_at.unwrap()).num_seconds())
        .collect();
    assert_eq!(gaps, vec![2, 2]);
    assert!(t.engine.get("tick").unwrap().status.next_run_at.is_some());
}

/// A scheduled run is started a little before its instant, with its process held until then:
/// the program itself never runs early. Each run writes the time its program started (`date`
/// with nanoseconds: GNU date, hence Linux only; the engine's own record of the start is checked
/// above on every system).
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scheduled_program_never_runs_before_its_instant() {
    let t = TestEngine::new().await;
    let stamps = t.home.path().join("stamps");
    let mut events = t.engine.subscribe();
    let script = format!("date +%s%N >> '{}'", stamps.display());
    t.engine
        .add(task("stamp", &script, cron("* * * * * *")))
        .await
        .unwrap();
    started(&mut events, "stamp", 4).await;
    t.engine.act_on(Action::Disable, "stamp").await.unwrap();
    let runs = t.engine.runs("stamp", 10).await.unwrap();
    let scheduled: Vec<i64> = runs
        .iter()
        .filter_map(|run| run.scheduled_at?.timestamp_nanos_opt())
        .collect();
    let written = wait_for_lines(&stamps, 3).await;
    for stamp in written {
        // The run this program belongs to: the latest fire time at or before it.
        let own = scheduled.iter().filter(|&&at| at <= stamp).max();
        let Some(own) = own else {
            panic!("a program ran at {stamp} ns, before every fire time {scheduled:?}");
        };
        let after = stamp - own;
        assert!(
            after < 900_000_000,
            "a program ran {} ms after its fire time, or early for the next: {stamp} ns, fire times {scheduled:?}",
            after / 1_000_000
        );
        // The record says when the program started: at its instant or after, and no later
        // than the program's own first clock reading (the engine's thread, not the program,
        // may be the one that waits for a core).
        let run = runs
            .iter()
            .find(|run| run.scheduled_at.and_then(|at| at.timestamp_nanos_opt()) == Some(*own))
            .unwrap();
        let started = run.started_at.timestamp_nanos_opt().unwrap();
        assert!(
            (*own..=stamp).contains(&started),
            "run recorded as started at {started} ns, fire time {own}, program's clock {stamp}"
        );
    }
}

/// The numbers in the first `n` lines of `path`, once it has them.
async fn wait_for_lines(path: &std::path::Path, n: usize) -> Vec<i64> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let numbers: Vec<i64> = text
            .lines()
            .filter_map(|line| line.trim().parse().ok())
            .collect();
        if numbers.len() >= n {
            return numbers;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{n} lines in {}: {text:?}",
            path.display()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn long_task_with(overlap: Overlap) -> (TestEngine, sentinel_engine::EventSubscription) {
    let t = TestEngine::new().await;
    let events = t.engine.subscribe();
    let mut schedule = ScheduleSpec {
        every: Some(Duration::from_secs(1)),
        ..Default::default()
    };
    schedule.overlap = overlap;
    t.engine
        .add(task("long", "sleep 2.5", schedule))
        .await
        .unwrap();
    (t, events)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overlap_skip_lets_the_running_one_finish() {
    let (t, mut events) = long_task_with(Overlap::Skip).await;
    started(&mut events, "long", 1).await;
    let reason = next_event(&mut events, |e| match &e.event {
        EngineEvent::ScheduleSkipped { job, reason, .. } if job == "long" => Some(reason.clone()),
        _ => None,
    })
    .await;
    assert!(reason.contains("overlap = skip"), "{reason}");
    let runs = t.engine.runs("long", 10).await.unwrap();
    assert_eq!(
        runs.len(),
        1,
        "a second run started while the first was going"
    );
    t.engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overlap_queue_runs_the_next_right_after() {
    let (t, mut events) = long_task_with(Overlap::Queue).await;
    let runs = started(&mut events, "long", 2).await;
    let history = t.engine.runs("long", 10).await.unwrap();
    let first = history.iter().find(|r| r.id == runs[0].0).unwrap();
    let second = history.iter().find(|r| r.id == runs[1].0).unwrap();
    assert_eq!(
        first.outcome,
        Some(RunOutcome::Success),
        "the first ran to its end"
    );
    assert!(
        second.started_at >= first.ended_at.unwrap(),
        "runs overlapped"
    );
    assert_eq!(second.trigger, Trigger::Schedule);
    t.engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overlap_replace_stops_the_old_run() {
    let (t, mut events) = long_task_with(Overlap::Replace).await;
    let runs = started(&mut events, "long", 2).await;
    let history = t.engine.runs("long", 10).await.unwrap();
    let first = history.iter().find(|r| r.id == runs[0].0).unwrap();
    assert_eq!(first.outcome, Some(RunOutcome::Stopped));
    assert_eq!(
        first.reason.as_deref(),
        Some("stopped for the next scheduled run (overlap = replace)")
    );
    t.engine.shutdown().await;
}

/// Pretends the job was defined an hour ago and the engine was down since.
async fn backdate(home: &std::path::Path, job: &str) {
    let url = format!("sqlite://{}", home.join("sentinel.db").display());
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    let hour_ago = (Utc::now() - chrono::Duration::hours(1)).timestamp_millis();
    sqlx::query("UPDATE jobs SET created_at = ? WHERE name = ?")
        .bind(hour_ago)
        .bind(job)
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fire_times_missed_while_the_engine_was_down_run_once_or_are_skipped() {
    let home = tempfile::tempdir().unwrap();
    let engine = open(home.path()).await;
    let every = |missed| ScheduleSpec {
        every: Some(Duration::from_secs(600)),
        missed,
        ..Default::default()
    };
    engine
        .add(task("catch-up", "true", every(MissedPolicy::RunOnce)))
        .await
        .unwrap();
    engine
        .add(task("skipper", "true", every(MissedPolicy::Skip)))
        .await
        .unwrap();
    engine.shutdown().await;
    for job in ["catch-up", "skipper"] {
        backdate(home.path(), job).await;
    }

    let engine = open(home.path()).await;
    // The catch-up may start before anyone could subscribe: wait for its record instead.
    let deadline = tokio::time::Instant::now() + DEADLINE;
    let runs = loop {
        let runs = engine.runs("catch-up", 10).await.unwrap();
        if !runs.is_empty() {
            break runs;
        }
        assert!(tokio::time::Instant::now() < deadline, "no catch-up run");
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    assert_eq!(runs[0].trigger, Trigger::CatchUp);
    assert_eq!(runs.len(), 1, "six missed fire times run once");
    let scheduled = runs[0].scheduled_at.unwrap();
    assert!(
        Utc::now() - scheduled < chrono::Duration::minutes(10),
        "it runs for the latest missed time"
    );
    // Once the next fire time is in the future, the scheduler has dealt with the missed ones.
    eventually("the skipped fire times to be dealt with", || {
        engine
            .get("skipper")
            .unwrap()
            .status
            .next_run_at
            .is_some_and(|next| next > Utc::now())
    })
    .await;
    assert!(
        engine.runs("skipper", 10).await.unwrap().is_empty(),
        "missed = skip ran anyway"
    );
    let next = engine.get("skipper").unwrap().status.next_run_at.unwrap();
    assert!(next > Utc::now() && next - Utc::now() <= chrono::Duration::minutes(10));
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disabled_schedule_does_not_fire_until_enabled() {
    let t = TestEngine::new().await;
    let mut events = t.engine.subscribe();
    t.engine
        .add(task("paused", "true", cron("* * * * * *")))
        .await
        .unwrap();
    started(&mut events, "paused", 1).await;
    let status = t.engine.act_on(Action::Disable, "paused").await.unwrap();
    assert!(!status.enabled);
    eventually("the schedule to pause", || {
        t.engine.get("paused").unwrap().status.next_run_at.is_none()
    })
    .await;
    let runs_when_paused = t.engine.runs("paused", 100).await.unwrap().len();
    // While paused, another every-second job fires twice: the paused one must not.
    t.engine
        .add(task("other", "true", cron("* * * * * *")))
        .await
        .unwrap();
    started(&mut events, "other", 2).await;
    assert_eq!(
        t.engine.runs("paused", 100).await.unwrap().len(),
        runs_when_paused
    );
    t.engine.act_on(Action::Enable, "paused").await.unwrap();
    started(&mut events, "paused", 1).await;
    t.engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_one_time_job_runs_once_and_never_again_even_after_a_restart() {
    let home = tempfile::tempdir().unwrap();
    let engine = open(home.path()).await;
    let mut events = engine.subscribe();
    let at = (Utc::now() + chrono::Duration::seconds(2)).to_rfc3339_opts(SecondsFormat::Secs, true);
    let once = ScheduleSpec {
        at: Some(at.clone()),
        ..Default::default()
    };
    engine.add(task("once", "true", once)).await.unwrap();
    assert_eq!(
        started(&mut events, "once", 1).await[0].1,
        Trigger::Schedule
    );
    eventually("the schedule to be done", || {
        engine.get("once").unwrap().status.next_run_at.is_none()
    })
    .await;
    engine.shutdown().await;

    let engine = open(home.path()).await;
    let mut events = engine.subscribe();
    // A witness firing every second: after two of its runs, the scheduler has long decided
    // about "once".
    engine
        .add(task("witness", "true", cron("* * * * * *")))
        .await
        .unwrap();
    started(&mut events, "witness", 2).await;
    assert_eq!(engine.runs("once", 10).await.unwrap().len(), 1);
    assert_eq!(engine.get("once").unwrap().status.next_run_at, None);
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_keeps_the_next_fire_time_unless_it_changes_the_schedule() {
    let t = TestEngine::new().await;
    let hourly = ScheduleSpec {
        every: Some(Duration::from_secs(3600)),
        ..Default::default()
    };
    let mut report = task("report", "true", hourly);
    t.engine.add(report.clone()).await.unwrap();
    // Another scheduled job: the scheduler handles plans in order, so once an edit of this one
    // shows, every edit before it has been handled too.
    let mut marker = task("marker", "true", cron("0 * * * *"));
    t.engine.add(marker.clone()).await.unwrap();
    let next_of = |name: &str| t.engine.get(name).unwrap().status.next_run_at;
    eventually("both planned", || {
        next_of("report").is_some() && next_of("marker").is_some()
    })
    .await;
    let planned = next_of("report");
    let marker_planned = next_of("marker");

    // A change of everything but the schedule keeps the phase.
    report.env.insert("COLOUR".into(), "blue".into());
    t.engine.update(report.clone()).await.unwrap();
    marker.schedule = Some(cron("30 * * * *"));
    t.engine.update(marker.clone()).await.unwrap();
    eventually("the marker replanned", || {
        next_of("marker") != marker_planned
    })
    .await;
    assert_eq!(next_of("report"), planned);

    // A new interval counts from the edit.
    report.schedule.as_mut().unwrap().every = Some(Duration::from_secs(7200));
    let edited_at = Utc::now();
    t.engine.update(report).await.unwrap();
    eventually("the new interval planned", || {
        next_of("report").is_some_and(|next| next >= edited_at + chrono::Duration::hours(2))
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_now_leaves_the_schedule_alone() {
    let t = TestEngine::new().await;
    let mut events = t.engine.subscribe();
    let hourly = cron("0 * * * *");
    t.engine.add(task("report", "true", hourly)).await.unwrap();
    eventually("the next fire time", || {
        t.engine.get("report").unwrap().status.next_run_at.is_some()
    })
    .await;
    let planned = t.engine.get("report").unwrap().status.next_run_at;
    t.engine.act_on(Action::Start, "report").await.unwrap();
    assert_eq!(
        started(&mut events, "report", 1).await[0].1,
        Trigger::Manual
    );
    state_of(&mut events, "report", "exited").await;
    assert_eq!(t.engine.get("report").unwrap().status.next_run_at, planned);
    assert_eq!(
        t.engine.runs("report", 1).await.unwrap()[0].scheduled_at,
        None
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_restarts_on_its_restart_schedule() {
    let t = TestEngine::new().await;
    let mut events = t.engine.subscribe();
    let mut spec = job("svc", "sleep 1000");
    spec.restart_schedule = Some("* * * * * *".into());
    t.engine.add(spec).await.unwrap();
    t.engine.act_on(Action::Start, "svc").await.unwrap();
    let (_, trigger) = started(&mut events, "svc", 2).await[1];
    assert_eq!(trigger, Trigger::Restart);
    let runs = t.engine.runs("svc", 10).await.unwrap();
    let replaced = runs
        .iter()
        .find(|r| r.outcome == Some(RunOutcome::Stopped))
        .unwrap();
    assert_eq!(
        replaced.reason.as_deref(),
        Some("stopped for its scheduled restart")
    );
    t.engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schedules_are_checked_when_a_job_is_added() {
    let t = TestEngine::new().await;
    let mut service = job("svc", "true");
    service.schedule = Some(cron("@daily"));
    let err = t.engine.add(service).await.unwrap_err().to_string();
    assert!(
        err.contains("schedule: only tasks run on a schedule"),
        "{err}"
    );
    let past = task(
        "past",
        "true",
        ScheduleSpec {
            at: Some("2020-01-01 00:00".into()),
            ..Default::default()
        },
    );
    let err = t.engine.add(past).await.unwrap_err().to_string();
    assert!(
        err.contains("schedule.at: 2020-01-01 00:00:00 is in the past"),
        "{err}"
    );
    let bad = task("bad", "true", cron("0 25 * * *"));
    let err = t.engine.add(bad).await.unwrap_err().to_string();
    assert!(
        err.contains("schedule.cron: \"0 25 * * *\" is not a valid cron expression"),
        "{err}"
    );
    assert!(t.engine.list().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_retry_within_an_occurrence_and_the_next_starts_fresh() {
    let t = TestEngine::new().await;
    let mut events = t.engine.subscribe();
    let mut spec = task("flaky", "exit 1", cron("*/2 * * * * *"));
    spec.restart.max_retries = 1;
    t.engine.add(spec).await.unwrap();
    let triggers: Vec<Trigger> = started(&mut events, "flaky", 4)
        .await
        .into_iter()
        .map(|(_, t)| t)
        .collect();
    assert_eq!(
        triggers,
        vec![
            Trigger::Schedule,
            Trigger::Retry,
            Trigger::Schedule,
            Trigger::Retry
        ]
    );
    t.engine.shutdown().await;
    let engine = open(t.path()).await;
    let mut runs = engine.runs("flaky", 10).await.unwrap();
    runs.reverse();
    assert_eq!(
        runs[0].scheduled_at, runs[1].scheduled_at,
        "a retry belongs to its occurrence"
    );
    assert_eq!(runs[2].scheduled_at, runs[3].scheduled_at);
    assert_ne!(runs[0].scheduled_at, runs[2].scheduled_at);
    engine.shutdown().await;
}
