//! Health checks of each kind against real loopback servers that go up and down.

use sentinel_engine::proto::action::Action;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::Arc;
use std::time::Duration;

use sentinel_engine::proto::monitor::{HealthCheck, Probe};
use sentinel_engine::proto::{EngineEvent, HealthState, RunOutcome, Trigger};

use crate::common::*;
use crate::*;

fn check(probe: Probe, restart: bool) -> HealthCheck {
    let mut check = HealthCheck::new(probe);
    check.interval = Duration::from_millis(100);
    check.timeout = Duration::from_millis(500);
    check.retries = 2;
    check.restart = restart;
    check
}

/// The next verdict the job's health check reaches, with what it saw.
async fn verdict(
    events: &mut sentinel_engine::EventSubscription,
    job: &str,
) -> (HealthState, String) {
    next_event(events, |e| match &e.event {
        EngineEvent::HealthChanged {
            job: j,
            health,
            detail,
        } if j == job => Some((*health, detail.clone().unwrap_or_default())),
        _ => None,
    })
    .await
}

/// An HTTP server on loopback whose /health answers with the status in `answer`.
async fn http_server(answer: Arc<AtomicU16>) -> SocketAddr {
    let app = axum::Router::new().route(
        "/health",
        axum::routing::get(move || {
            let answer = answer.clone();
            async move { axum::http::StatusCode::from_u16(answer.load(Ordering::SeqCst)).unwrap() }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    address
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_follows_a_listener_that_goes_away_and_comes_back() {
    let _shared = CPU_QUIET.read().await;
    let t = TestEngine::new().await;
    let mut events = t.engine.subscribe();
    // A port no outgoing connection can take while the listener is away.
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", free_port()))
        .await
        .unwrap();
    let address = listener.local_addr().unwrap();
    let mut spec = job("db", "sleep 60");
    spec.health = Some(check(Probe::Tcp(address.to_string()), false));
    t.engine.add(spec).await.unwrap();
    let status = t.engine.act_on(Action::Start, "db").await.unwrap();
    assert_eq!(status.health, Some(HealthState::Unknown));

    let (health, detail) = verdict(&mut events, "db").await;
    assert_eq!(health, HealthState::Healthy, "{detail}");
    assert_eq!(
        t.engine.get("db").unwrap().status.health,
        Some(HealthState::Healthy)
    );

    drop(listener);
    let (health, detail) = verdict(&mut events, "db").await;
    assert_eq!(health, HealthState::Unhealthy);
    assert!(
        detail.contains("cannot connect") && detail.contains("2 failed checks"),
        "{detail}"
    );
    // restart = false: the same process carries on.
    assert_eq!(
        running_pid(&t.engine.get("db").unwrap().status),
        running_pid(&status)
    );

    let _back = tokio::net::TcpListener::bind(address).await.unwrap();
    let (health, _) = verdict(&mut events, "db").await;
    assert_eq!(health, HealthState::Healthy);
    t.engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_unhealthy_restarts_the_job() {
    let _shared = CPU_QUIET.read().await;
    let t = TestEngine::new().await;
    let mut events = t.engine.subscribe();
    let answer = Arc::new(AtomicU16::new(200));
    let address = http_server(answer.clone()).await;
    let mut spec = job("web", "sleep 60");
    spec.health = Some(check(
        Probe::Http {
            url: format!("http://{address}/health"),
        },
        true,
    ));
    t.engine.add(spec).await.unwrap();
    let first = running_pid(&t.engine.act_on(Action::Start, "web").await.unwrap());
    let (health, detail) = verdict(&mut events, "web").await;
    assert_eq!(health, HealthState::Healthy);
    assert!(detail.contains("HTTP 200"), "{detail}");

    answer.store(503, Ordering::SeqCst);
    let (health, detail) = verdict(&mut events, "web").await;
    assert_eq!(health, HealthState::Unhealthy);
    assert!(detail.contains("HTTP 503"), "{detail}");
    let trigger = next_event(&mut events, |e| match &e.event {
        EngineEvent::RunStarted { job, trigger, .. } if job == "web" => Some(*trigger),
        _ => None,
    })
    .await;
    assert_eq!(trigger, Trigger::HealthCheck);
    let runs = t.engine.runs("web", 5).await.unwrap();
    let failed = runs.iter().find(|r| r.pid == Some(first)).unwrap();
    assert_eq!(failed.outcome, Some(RunOutcome::Failure));
    assert!(
        failed
            .reason
            .as_deref()
            .unwrap_or("")
            .starts_with("health check failed: GET"),
        "{failed:?}"
    );
    // The new run starts unknown and becomes healthy once the server answers again.
    answer.store(204, Ordering::SeqCst);
    loop {
        let (health, _) = verdict(&mut events, "web").await;
        if health == HealthState::Healthy {
            break;
        }
    }
    assert_ne!(running_pid(&t.engine.get("web").unwrap().status), first);
    t.engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_checks_a_command_and_a_hung_check_times_out() {
    let _shared = CPU_QUIET.read().await;
    let t = TestEngine::new().await;
    let mut events = t.engine.subscribe();
    let marker = t.path().join("ready");
    std::fs::write(&marker, "").unwrap();
    let mut spec = job("worker", "sleep 60");
    spec.health = Some(check(
        Probe::Exec(format!("test -f {}", marker.display())),
        false,
    ));
    t.engine.add(spec).await.unwrap();
    t.engine.act_on(Action::Start, "worker").await.unwrap();
    assert_eq!(verdict(&mut events, "worker").await.0, HealthState::Healthy);
    std::fs::remove_file(&marker).unwrap();
    let (health, detail) = verdict(&mut events, "worker").await;
    assert_eq!(health, HealthState::Unhealthy);
    assert!(detail.contains("test ended with exit code 1"), "{detail}");

    // A check that hangs is a failed check once its timeout passes.
    let mut spec = t.engine.get("worker").unwrap().spec;
    spec.health = Some(check(Probe::Exec("sleep 30".into()), false));
    t.engine.update(spec).await.unwrap();
    let (health, detail) = verdict(&mut events, "worker").await;
    assert_eq!(health, HealthState::Unhealthy);
    assert!(detail.contains("no answer within 500ms"), "{detail}");
    t.engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_in_the_start_period_do_not_count() {
    let _shared = CPU_QUIET.read().await;
    let t = TestEngine::new().await;
    let mut events = t.engine.subscribe();
    // The check fails until `ready` exists and counts its attempts in `tries`.
    let ready = t.path().join("ready");
    let tries = t.path().join("tries");
    let script = t.path().join("check.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho x >> {}\ntest -f {}\n",
            tries.display(),
            ready.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut health = check(Probe::Exec(script.display().to_string()), true);
    health.retries = 1;
    health.start_period = Duration::from_secs(300);
    let mut spec = job("slow", "sleep 60");
    spec.health = Some(health);
    t.engine.add(spec).await.unwrap();
    t.engine.act_on(Action::Start, "slow").await.unwrap();
    // Five failed checks inside the start period: still unknown, not restarted.
    eventually("five failed checks", || {
        std::fs::read_to_string(&tries).is_ok_and(|t| t.lines().count() >= 5)
    })
    .await;
    std::fs::write(&ready, "").unwrap();
    // The first verdict is healthy: nothing unhealthy came before it.
    assert_eq!(verdict(&mut events, "slow").await.0, HealthState::Healthy);
    // A success ends the start period: the next failure counts at once.
    std::fs::remove_file(&ready).unwrap();
    assert_eq!(verdict(&mut events, "slow").await.0, HealthState::Unhealthy);
    t.engine.shutdown().await;
}
