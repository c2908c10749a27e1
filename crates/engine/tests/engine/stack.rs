//! Dev stacks: dependencies between jobs, file-watch restarts, env files, declared ports,
//! priority and limits — with real processes, files and sockets.

use sentinel_engine::proto::action::{Action, Selection};
use std::path::Path;
use std::time::Duration;

use sentinel_engine::proto::config::ConfigFile;
use sentinel_engine::proto::monitor::{HealthCheck, Probe};
use sentinel_engine::proto::secret::Secrets;
use sentinel_engine::proto::stack::EnvSource;
use sentinel_engine::proto::{
    Condition, Dependency, EngineEvent, JobKind, JobSpec, JobState, RestartMode, Trigger,
    WaitReason, WatchSpec,
};
use sentinel_engine::EngineError;

use crate::common::*;

fn needs(job: &str, condition: Condition) -> Dependency {
    Dependency {
        job: job.into(),
        condition,
        restart: false,
    }
}

fn service(name: &str, group: &str, deps: Vec<Dependency>) -> JobSpec {
    let mut spec = job(name, "sleep 300");
    spec.group = Some(group.into());
    spec.depends_on = deps;
    spec
}

/// Why the job waits, in words.
fn waiting_reason(state: &JobState) -> &str {
    match state {
        JobState::Waiting { message, .. } => message,
        other => panic!("not waiting but {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chain_comes_up_in_order_and_goes_down_in_reverse() {
    let t = TestEngine::new().await;
    let mut events = t.engine.subscribe();
    // A dependency must exist.
    t.engine
        .add(service(
            "worker",
            "stack",
            vec![needs("api", Condition::Started)],
        ))
        .await
        .unwrap_err();
    t.engine.add(service("db", "stack", vec![])).await.unwrap();
    t.engine
        .add(service(
            "api",
            "stack",
            vec![needs("db", Condition::Started)],
        ))
        .await
        .unwrap();
    t.engine
        .add(service(
            "worker",
            "stack",
            vec![needs("api", Condition::Started)],
        ))
        .await
        .unwrap();

    // Alone, the worker waits and says for what.
    let status = t.engine.act_on(Action::Start, "worker").await.unwrap();
    assert_eq!(
        waiting_reason(&status.state),
        "waiting for api to be running (api is stopped)"
    );
    assert!(t.engine.runs("worker", 10).await.unwrap().is_empty());

    let group = Selection::Group("stack".into());
    t.engine.act(Action::Start, &group).await.unwrap();
    let started = collect(&mut events, 3, |e| match &e.event {
        EngineEvent::RunStarted { job, .. } => Some(job.clone()),
        _ => None,
    })
    .await;
    assert_eq!(started, ["db", "api", "worker"]);
    for name in ["db", "api", "worker"] {
        eventually(&format!("{name} running"), || {
            matches!(
                t.engine.get(name).unwrap().status.state,
                JobState::Running { .. }
            )
        })
        .await;
    }

    t.engine.act(Action::Stop, &group).await.unwrap();
    let stopped = collect(&mut events, 3, |e| match &e.event {
        EngineEvent::RunExited { job, .. } => Some(job.clone()),
        _ => None,
    })
    .await;
    assert_eq!(stopped, ["worker", "api", "db"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cycle_is_refused_with_its_path() {
    let t = TestEngine::new().await;
    t.engine.add(service("c", "g", vec![])).await.unwrap();
    t.engine
        .add(service("b", "g", vec![needs("c", Condition::Started)]))
        .await
        .unwrap();
    t.engine
        .add(service("a", "g", vec![needs("b", Condition::Started)]))
        .await
        .unwrap();
    let err = t
        .engine
        .update(service("c", "g", vec![needs("a", Condition::Started)]))
        .await
        .unwrap_err();
    let EngineError::Invalid(errors) = err else {
        panic!("expected a validation error, got {err:?}")
    };
    assert_eq!(errors.0[0].field, "depends_on");
    assert_eq!(errors.0[0].message, "dependency cycle: a → b → c → a");
    // Nothing was written: c still depends on nothing.
    assert!(t.engine.get("c").unwrap().spec.depends_on.is_empty());

    // In a job file, the problem names the job too, and nothing is imported.
    let file = ConfigFile {
        version: 1,
        jobs: vec![
            service("x", "h", vec![needs("y", Condition::Started)]),
            service("y", "h", vec![needs("x", Condition::Started)]),
            service("z", "h", vec![needs("ghost", Condition::Started)]),
        ],
    };
    let EngineError::Invalid(errors) = t.engine.import(file, false, false).await.unwrap_err()
    else {
        panic!("expected a validation error")
    };
    let problems: Vec<(String, String)> =
        errors.0.into_iter().map(|e| (e.field, e.message)).collect();
    assert_eq!(
        problems,
        [
            (
                "jobs[2] (z).depends_on[0].job".to_string(),
                "no job named \"ghost\"".to_string()
            ),
            (
                "jobs[0] (x).depends_on".to_string(),
                "dependency cycle: x → y → x".to_string()
            ),
        ]
    );
    assert!(t.engine.get("x").is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthy_waits_for_a_real_health_check() {
    let t = TestEngine::new().await;
    let mut events = t.engine.subscribe();
    let port = free_port();
    // The database listens only after a moment; its TCP check says when it is ready.
    let mut db = sh(
        "db",
        &format!("sleep 0.5; exec python3 -m http.server {port} --bind 127.0.0.1"),
    );
    let mut check = HealthCheck::new(Probe::Tcp(format!("127.0.0.1:{port}")));
    check.interval = Duration::from_millis(100);
    check.retries = 1;
    // Failures while it starts up do not count; the first success ends the start period.
    check.start_period = Duration::from_secs(20);
    db.health = Some(check);
    t.engine.add(db).await.unwrap();

    // Waiting for health nobody checks is refused.
    t.engine.add(service("plain", "g", vec![])).await.unwrap();
    let err = t
        .engine
        .add(service(
            "bad",
            "g",
            vec![needs("plain", Condition::Healthy)],
        ))
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("plain has no health check"),
        "{err}"
    );

    t.engine
        .add(service("api", "g", vec![needs("db", Condition::Healthy)]))
        .await
        .unwrap();
    let status = t.engine.act_on(Action::Start, "api").await.unwrap();
    assert!(
        waiting_reason(&status.state).starts_with("waiting for db to be healthy (db is stopped"),
        "{status:?}"
    );
    t.engine.act_on(Action::Start, "db").await.unwrap();
    let order = collect(&mut events, 2, |e| match &e.event {
        EngineEvent::HealthChanged { job, health, .. } if job == "db" => {
            Some(format!("db {}", health.as_str()))
        }
        EngineEvent::RunStarted { job, .. } if job == "api" => Some("api started".into()),
        _ => None,
    })
    .await;
    assert_eq!(order, ["db healthy", "api started"]);
    t.engine.act_on(Action::Stop, "api").await.unwrap();
    t.engine.act_on(Action::Stop, "db").await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_dependency_leaves_dependants_waiting_with_the_reason() {
    let t = TestEngine::new().await;
    let mut events = t.engine.subscribe();
    // It never runs at all, so "started" can never be met, not even for a moment.
    let mut db = job("db", "/nonexistent/db-server");
    db.restart.mode = RestartMode::Never;
    t.engine.add(db).await.unwrap();
    t.engine
        .add(service("api", "g", vec![needs("db", Condition::Started)]))
        .await
        .unwrap();
    t.engine.act_on(Action::Start, "api").await.unwrap();
    t.engine.act_on(Action::Start, "db").await.unwrap();
    let status = next_event(&mut events, |e| match &e.event {
        EngineEvent::StateChanged { status }
            if status.name == "api"
                && matches!(&status.state, JobState::Waiting { message, .. } if message.contains("db failed")) =>
        {
            Some(status.clone())
        }
        _ => None,
    })
    .await;
    let reason = waiting_reason(&status.state);
    assert!(
        reason.starts_with("waiting for db to be running (db failed: could not start: ")
            && reason.contains("/nonexistent/db-server"),
        "{reason}"
    );
    assert!(t.engine.runs("api", 10).await.unwrap().is_empty());
    // Stopping cancels the wait.
    let stopped = t.engine.act_on(Action::Stop, "api").await.unwrap();
    assert_eq!(stopped.state, JobState::Stopped);
}

fn watched(name: &str, dir: &Path, paths: &[&str], ignore: &[&str], debounce_ms: u64) -> JobSpec {
    let mut spec = job(name, "sleep 300");
    spec.cwd = Some(dir.to_path_buf());
    spec.stop_timeout = Duration::from_secs(2);
    spec.watch = Some(WatchSpec {
        paths: paths.iter().map(Into::into).collect(),
        ignore: ignore.iter().map(|s| s.to_string()).collect(),
        debounce: Duration::from_millis(debounce_ms),
    });
    spec
}

/// Waits for the next run of each of `jobs` started because files changed, in any order:
/// their debounces run out apart, but their restarts race.
async fn file_change_restarts(events: &mut sentinel_engine::EventSubscription, jobs: &[&str]) {
    let mut restarted = collect(events, jobs.len(), |e| match &e.event {
        EngineEvent::RunStarted { job, trigger, .. }
            if jobs.contains(&job.as_str()) && *trigger == Trigger::FileChange =>
        {
            Some(job.clone())
        }
        _ => None,
    })
    .await;
    restarted.sort();
    let mut expected: Vec<String> = jobs.iter().map(|job| job.to_string()).collect();
    expected.sort();
    assert_eq!(restarted, expected, "restarted for file changes");
}

async fn file_change_runs(t: &TestEngine, job: &str) -> usize {
    t.engine
        .runs(job, 100)
        .await
        .unwrap()
        .iter()
        .filter(|run| run.trigger == Trigger::FileChange)
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watched_files_restart_once_per_burst_and_ignored_files_never() {
    let t = TestEngine::new().await;
    let project = t.path().join("project");
    for dir in ["src", "node_modules", ".git"] {
        std::fs::create_dir_all(project.join(dir)).unwrap();
    }
    std::fs::write(project.join("src/main.txt"), "v0").unwrap();
    let mut events = t.engine.subscribe();
    // `app` is the job under test. `witness` sees the same files without ignoring any and
    // waits longer, so once it has restarted, app's own (shorter) debounce has surely run out.
    // App's debounce is long enough that a stalled test thread cannot split the burst below.
    t.engine
        .add(watched("app", &project, &["."], &["*.log"], 1000))
        .await
        .unwrap();
    t.engine
        .add(watched(
            "witness",
            &project,
            &[".", "node_modules", ".git"],
            &[],
            2500,
        ))
        .await
        .unwrap();
    t.engine.act_on(Action::Start, "app").await.unwrap();
    t.engine.act_on(Action::Start, "witness").await.unwrap();

    std::fs::write(project.join("server.log"), "noise").unwrap();
    std::fs::write(project.join("node_modules/dep.js"), "noise").unwrap();
    std::fs::write(project.join(".git/index"), "noise").unwrap();
    file_change_restarts(&mut events, &["witness"]).await;
    assert_eq!(
        file_change_runs(&t, "app").await,
        0,
        "ignored files restarted app"
    );

    // Ten saves within ~100 ms are one change.
    for i in 1..=10 {
        std::fs::write(project.join("src/main.txt"), format!("v{i}")).unwrap();
        std::thread::sleep(Duration::from_millis(10));
    }
    file_change_restarts(&mut events, &["app", "witness"]).await;
    assert_eq!(file_change_runs(&t, "app").await, 1);
    let runs = t.engine.runs("app", 10).await.unwrap();
    assert_eq!(
        runs[1].reason.as_deref(),
        Some("stopped to restart because watched files changed: src/main.txt")
    );

    // A job stopped by hand stays stopped whatever changes.
    t.engine.act_on(Action::Stop, "app").await.unwrap();
    std::fs::write(project.join("src/main.txt"), "after stop").unwrap();
    file_change_restarts(&mut events, &["witness"]).await;
    assert_eq!(t.engine.get("app").unwrap().status.state, JobState::Stopped);
    t.engine.act_on(Action::Stop, "witness").await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn env_files_are_read_at_each_start_and_env_wins() {
    let t = TestEngine::new().await;
    let mut events = t.engine.subscribe();
    let dir = t.path().join("app");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(".env"), "A=base\nB=base\nC=base\n").unwrap();
    std::fs::write(dir.join(".env.local"), "B=local\nC=local\n").unwrap();
    let mut spec = sh("printer", "echo \"A=$A B=$B C=$C\"");
    spec.kind = JobKind::Task;
    spec.cwd = Some(dir.clone());
    spec.env_files = vec![".env".into(), ".env.local".into()];
    spec.env.insert("C".into(), "spec".into());
    t.engine.add(spec).await.unwrap();

    let vars = t.engine.job_env("printer", Secrets::Shown).unwrap();
    let source_of = |key: &str| vars.iter().find(|v| v.key == key).unwrap().source.clone();
    assert_eq!(source_of("A"), EnvSource::File(dir.join(".env")));
    assert_eq!(source_of("B"), EnvSource::File(dir.join(".env.local")));
    assert_eq!(source_of("C"), EnvSource::Spec);

    let last_line = |t: &TestEngine| {
        t.engine.log_tail("printer", 1, None).unwrap()[0]
            .text
            .clone()
    };
    t.engine.act_on(Action::Start, "printer").await.unwrap();
    state_of(&mut events, "printer", "exited").await;
    assert_eq!(last_line(&t), "A=base B=local C=spec");

    // A changed file is read on the next start.
    std::fs::write(dir.join(".env"), "A=changed\n").unwrap();
    t.engine.act_on(Action::Start, "printer").await.unwrap();
    state_of(&mut events, "printer", "exited").await;
    assert_eq!(last_line(&t), "A=changed B=local C=spec");

    // A missing file stops the start, naming the file.
    std::fs::remove_file(dir.join(".env.local")).unwrap();
    t.engine.act_on(Action::Start, "printer").await.unwrap();
    let error = next_event(&mut events, |e| match &e.event {
        EngineEvent::SpawnFailed { job, error, .. } if job == "printer" => Some(error.clone()),
        _ => None,
    })
    .await;
    assert_eq!(
        error,
        format!("env file {}: not found", dir.join(".env.local").display())
    );
}

/// A process of the test (not of the engine) listening on `port`.
fn listener_process(port: u16) -> std::process::Child {
    std::process::Command::new("python3")
        .args([
            "-m",
            "http.server",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_port_held_by_another_process_is_reported_and_the_job_starts_once_it_is_free() {
    let t = TestEngine::new().await;
    let mut events = t.engine.subscribe();
    let port = free_port();
    let mut holder = listener_process(port);
    eventually("the holder listens", || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    })
    .await;

    let mut spec = job(
        "web",
        &format!("python3 -m http.server {port} --bind 127.0.0.1"),
    );
    spec.ports = vec![port];
    t.engine.add(spec).await.unwrap();
    let status = t.engine.act_on(Action::Start, "web").await.unwrap();
    let reason = waiting_reason(&status.state).to_string();
    assert!(
        reason.starts_with(&format!("port {port} is in use by pid {} (", holder.id())),
        "{reason}"
    );
    assert!(reason.contains("http.server"), "{reason}");
    assert!(!reason.contains("left over"), "{reason}");
    let ports = t.engine.ports("web").unwrap();
    assert_eq!(ports.ports[0].holders[0].pid, holder.id());
    assert!(!ports.ports[0].holders[0].orphan);
    // Freeing leaves a stranger's process alone.
    let freed = t.engine.free_ports("web").await.unwrap();
    assert!(freed.stopped.is_empty());
    assert_eq!(freed.kept[0].pid, holder.id());

    holder.kill().unwrap();
    holder.wait().unwrap();
    state_of(&mut events, "web", "running").await;
    eventually("web holds its port", || {
        t.engine.ports("web").unwrap().ports[0].own
    })
    .await;
    t.engine.act_on(Action::Stop, "web").await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_orphan_of_an_earlier_run_is_recognised_and_freed() {
    let t = TestEngine::new().await;
    let mut events = t.engine.subscribe();
    let port = free_port();
    // Each run leaves a server behind in a session of its own, as a daemonising tool would.
    // The server is in a session of its own before the job's process exits (so the end of
    // the run, which clears its process group, cannot reach it), and listens before it exits.
    let leave_server = format!(
        "import socket, subprocess, time\n\
         subprocess.Popen(['python3', '-m', 'http.server', '{port}', '--bind', '127.0.0.1'],\n\
             start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n\
         while socket.socket().connect_ex(('127.0.0.1', {port})) != 0: time.sleep(0.01)\n"
    );
    let script = write_file(t.path(), "leave_server.py", &leave_server, 0o644);
    let mut spec = job("leaky", &format!("python3 {}", script.display()));
    spec.kind = JobKind::Task;
    spec.ports = vec![port];
    t.engine.add(spec).await.unwrap();
    t.engine.act_on(Action::Start, "leaky").await.unwrap();
    state_of(&mut events, "leaky", "exited").await;
    eventually("the orphan listens", || {
        t.engine.ports("leaky").unwrap().ports[0].in_use
    })
    .await;
    let orphan = t.engine.ports("leaky").unwrap().ports[0].holders[0].clone();
    assert!(orphan.orphan, "{orphan:?}");
    assert_eq!(orphan.job.as_deref(), Some("leaky"));

    let status = t.engine.act_on(Action::Start, "leaky").await.unwrap();
    let JobState::Waiting { reason, .. } = &status.state else {
        panic!("not waiting: {status:?}");
    };
    assert_eq!(
        **reason,
        WaitReason::Port {
            port,
            holder: Some(orphan.clone())
        }
    );
    assert_eq!(
        waiting_reason(&status.state),
        format!(
            "port {port} is in use by pid {} ({}), left over from an earlier run of leaky; `sentinel ports leaky --free` stops it",
            orphan.pid, orphan.command
        )
    );
    let freed = t.engine.free_ports("leaky").await.unwrap();
    assert_eq!(freed.stopped.len(), 1);
    assert!(!pid_alive(orphan.pid as i32) || zombie(orphan.pid));
    // The waiting start goes ahead once the port is free (and leaves another orphan).
    state_of(&mut events, "leaky", "running").await;
    state_of(&mut events, "leaky", "exited").await;
    eventually("the new orphan listens", || {
        t.engine.ports("leaky").unwrap().ports[0].in_use
    })
    .await;
    t.engine.free_ports("leaky").await.unwrap();
    assert!(!t.engine.ports("leaky").unwrap().ports[0].in_use);
}

fn zombie(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|stat| stat.contains(") Z "))
        .unwrap_or(true)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nice_and_limits_apply_to_the_process() {
    let t = TestEngine::new().await;
    let mut events = t.engine.subscribe();
    let mut spec = sh("limited", "echo \"$(nice) $(ulimit -n) $(ulimit -c)\"");
    spec.kind = JobKind::Task;
    spec.nice = Some(7);
    spec.rlimits.nofile = Some(256);
    spec.rlimits.core = Some(0);
    t.engine.add(spec).await.unwrap();
    t.engine.act_on(Action::Start, "limited").await.unwrap();
    state_of(&mut events, "limited", "exited").await;
    assert_eq!(
        t.engine.log_tail("limited", 1, None).unwrap()[0].text,
        "7 256 0"
    );
}
