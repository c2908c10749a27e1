//! Notifications: what they say, the per-job throttle, opting out, recovery, and webhooks.

use sentinel_engine::proto::action::Action;
use std::sync::Arc;
use std::time::Duration;

use sentinel_engine::notify::{AlertKind, Notification, WebhookNotifier};
use sentinel_engine::proto::monitor::{HealthCheck, Probe};
use sentinel_engine::proto::{JobKind, RestartMode};
use tokio::sync::mpsc;

use crate::common::*;
use crate::*;

/// Waits until the recorder holds `n` notifications.
async fn received(recorder: &Recorder, n: usize) -> Vec<Notification> {
    eventually(&format!("{n} notifications"), || recorder.all().len() >= n).await;
    recorder.all()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_loop_gets_one_notification_then_a_summary() {
    let _shared = CPU_QUIET.read().await;
    let home = tempfile::tempdir().unwrap();
    let recorder = Arc::new(Recorder::default());
    // Three quick failures, then it gives up: all inside one throttle period, long enough for a
    // busy machine to spawn and reap three runs.
    let mut settings = quick_settings();
    settings.notifications.throttle = Duration::from_secs(3);
    let engine = open_with(home.path(), settings, vec![recorder.clone()]).await;
    let mut events = engine.subscribe();
    let mut spec = sh(
        "api",
        "echo 'listening on :8080'; echo 'panic: config missing' >&2; exit 3",
    );
    spec.restart.mode = RestartMode::OnFailure;
    spec.restart.max_retries = 2;
    engine.add(spec).await.unwrap();
    engine.act_on(Action::Start, "api").await.unwrap();
    state_of(&mut events, "api", "failed").await;

    let first = received(&recorder, 1).await.remove(0);
    assert_eq!(first.kind, AlertKind::Crashed);
    assert_eq!(first.title, "api exited unexpectedly");
    assert!(first.body.starts_with("exit code 3"), "{}", first.body);
    assert!(first.body.contains("restarting now"), "{}", first.body);
    assert_eq!(first.exit.as_ref().and_then(|e| e.code), Some(3));
    assert!(
        first.log_tail.iter().any(|l| l == "panic: config missing"),
        "{:?}",
        first.log_tail
    );

    // The other two are summed up when the period ends, in the words of the last one.
    let all = received(&recorder, 2).await;
    assert_eq!(all.len(), 2, "{all:#?}");
    let summary = &all[1];
    assert_eq!(summary.kind, AlertKind::GaveUp);
    assert_eq!(summary.suppressed, 2);
    assert_eq!(summary.title, "api failed");
    assert!(
        summary
            .body
            .contains("gave up after 3 failed runs in a row (max_retries = 2)"),
        "{}",
        summary.body
    );
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scheduled_failure_and_an_opted_out_job() {
    let _shared = CPU_QUIET.read().await;
    let home = tempfile::tempdir().unwrap();
    let recorder = Arc::new(Recorder::default());
    let engine = open_with(home.path(), quick_settings(), vec![recorder.clone()]).await;
    let mut backup = sh("backup", "echo 'disk full' >&2; exit 2");
    backup.kind = JobKind::Task;
    backup.restart.mode = RestartMode::Never;
    backup.schedule = Some(sentinel_engine::proto::schedule::ScheduleSpec {
        cron: None,
        every: Some(Duration::from_secs(1)),
        at: None,
        overlap: Default::default(),
        missed: Default::default(),
    });
    let mut quiet = sh("quiet", "exit 1");
    quiet.restart.mode = RestartMode::Never;
    quiet.notify = false;
    engine.add(backup).await.unwrap();
    engine.add(quiet).await.unwrap();
    engine.act_on(Action::Start, "quiet").await.unwrap();

    eventually("both jobs reported", || {
        let all = recorder.all();
        all.iter().any(|n| n.job == "backup") && all.iter().any(|n| n.job == "quiet")
    })
    .await;
    let all = recorder.all();
    let backup = all.iter().find(|n| n.job == "backup").unwrap();
    assert_eq!(backup.kind, AlertKind::ScheduledRunFailed, "{backup:#?}");
    assert_eq!(backup.title, "backup: scheduled run failed");
    assert!(backup.body.contains("exit code 2"), "{}", backup.body);
    assert!(backup.log_tail.iter().any(|l| l == "disk full"));
    assert!(!backup.muted);
    let quiet = all.iter().find(|n| n.job == "quiet").unwrap();
    assert!(
        quiet.muted,
        "notify = false mutes the desktop and the global webhook"
    );
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recovery_is_reported_when_asked_for() {
    let _shared = CPU_QUIET.read().await;
    let home = tempfile::tempdir().unwrap();
    let recorder = Arc::new(Recorder::default());
    let mut settings = quick_settings();
    settings.notifications.recovered = true;
    let engine = open_with(home.path(), settings, vec![recorder.clone()]).await;
    // Nobody listens yet; no outgoing connection can take the port meanwhile.
    let address = std::net::SocketAddr::from(([127, 0, 0, 1], free_port()));
    let mut health = HealthCheck::new(Probe::Tcp(address.to_string()));
    health.interval = Duration::from_millis(100);
    health.retries = 1;
    health.restart = false;
    let mut spec = job("svc", "sleep 60");
    spec.health = Some(health);
    engine.add(spec).await.unwrap();
    engine.act_on(Action::Start, "svc").await.unwrap();

    let unhealthy = received(&recorder, 1).await.remove(0);
    assert_eq!(unhealthy.kind, AlertKind::Unhealthy);
    assert_eq!(unhealthy.title, "svc is unhealthy");
    assert!(unhealthy
        .body
        .contains("not restarted (health.restart = false)"));
    let _up = tokio::net::TcpListener::bind(address).await.unwrap();
    let recovered = received(&recorder, 2).await.remove(1);
    assert_eq!(recovered.kind, AlertKind::Recovered);
    assert_eq!(recovered.title, "svc recovered");
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_receive_the_notification_as_json() {
    let _shared = CPU_QUIET.read().await;
    let (posted, mut inbox) = mpsc::unbounded_channel::<(String, serde_json::Value)>();
    let app = axum::Router::new().route(
        "/{hook}",
        axum::routing::post(
            move |axum::extract::Path(hook): axum::extract::Path<String>,
                  axum::Json(body): axum::Json<serde_json::Value>| {
                let posted = posted.clone();
                async move {
                    let _ = posted.send((hook, body));
                    axum::http::StatusCode::NO_CONTENT
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });

    let home = tempfile::tempdir().unwrap();
    let webhook = WebhookNotifier::new(
        Some(format!("http://{address}/global")),
        Duration::from_secs(5),
    );
    let engine = open_with(home.path(), quick_settings(), vec![Arc::new(webhook)]).await;
    let mut spec = sh("etl", "echo 'row 17 is bad'; exit 4");
    spec.restart.mode = RestartMode::Never;
    spec.webhook = Some(format!("http://{address}/etl-team"));
    engine.add(spec).await.unwrap();
    engine.act_on(Action::Start, "etl").await.unwrap();

    let mut hooks = Vec::new();
    for _ in 0..2 {
        let got = tokio::time::timeout(DEADLINE, inbox.recv())
            .await
            .unwrap()
            .unwrap();
        hooks.push(got);
    }
    hooks.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(hooks[0].0, "etl-team");
    assert_eq!(hooks[1].0, "global");
    let body = &hooks[0].1;
    assert_eq!(body["job"], "etl");
    assert_eq!(body["kind"], "gave_up");
    assert_eq!(body["title"], "etl failed");
    assert_eq!(body["exit"]["code"], 4);
    assert_eq!(body["log_tail"][0], "row 17 is bad");
    assert_eq!(hooks[0].1, hooks[1].1);
    engine.shutdown().await;
}
