//! Projects and what dev stacks ask of them: `up` applied as a whole and again idempotently,
//! two projects side by side, readiness on a log line, cascading restarts — real processes.

use std::path::Path;

use sentinel_engine::proto::action::{Action, Selection};
use sentinel_engine::proto::config::ConfigFormat;
use sentinel_engine::proto::project::ProjectSpec;
use sentinel_engine::proto::{EngineEvent, HealthState, JobState, Outcome, Trigger};
use sentinel_engine::{EngineError, EngineHandle};

use crate::common::*;

/// The project `text` says, as if `dir/sentinel.toml` held it.
fn project(dir: &Path, text: &str) -> ProjectSpec {
    std::fs::create_dir_all(dir).unwrap();
    let file = dir.join("sentinel.toml");
    std::fs::write(&file, text).unwrap();
    ProjectSpec::read(text, ConfigFormat::Toml, &file).unwrap()
}

/// A database stand-in that prints its ready line a while after it starts, and an api that
/// must not start before that line.
const STACK: &str = r#"
project = "shop"

[[jobs]]
name = "db"
shell = true
command = "echo booting; sleep 0.4; echo 'database system is ready to accept connections'; exec sleep 300"
stop_timeout = "5s"
health = { log = "ready to accept connections$", timeout = "30s" }

[[jobs]]
name = "migrate"
kind = "task"
shell = true
command = "echo migrating; echo done >> migrations.log"
depends_on = [{ job = "db", condition = "healthy" }]

[[jobs]]
name = "api"
command = "sleep 300"
stop_timeout = "5s"
depends_on = [{ job = "migrate", condition = "completed" }, { job = "db", condition = "healthy", restart = true }]

[[jobs]]
name = "docs"
command = "sleep 300"
stop_timeout = "5s"
depends_on = ["db"]
"#;

fn pid(engine: &EngineHandle, name: &str) -> Option<u32> {
    match engine.get(name).ok()?.status.state {
        JobState::Running { pid, .. } => Some(pid),
        _ => None,
    }
}

async fn all_running(engine: &EngineHandle, names: &[&str]) {
    eventually("every job running", || {
        names.iter().all(|name| pid(engine, name).is_some())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn up_starts_in_order_waiting_for_the_ready_line() {
    let t = TestEngine::new().await;
    let dir = t.path().join("shop");
    let mut events = t.engine.subscribe();
    let up = t.engine.up(project(&dir, STACK)).await.unwrap();
    assert_eq!(
        up.plan.add,
        ["shop.db", "shop.migrate", "shop.api", "shop.docs"]
    );
    assert!(up
        .started
        .iter()
        .all(|r| matches!(r.outcome, Outcome::Status(_))));

    // The order the world sees: db's line makes it healthy, then migrate runs and completes,
    // then api starts.
    let mut order = Vec::new();
    while order.len() < 4 {
        let seen = next_event(&mut events, |e| match &e.event {
            EngineEvent::HealthChanged {
                job,
                health: HealthState::Healthy,
                detail,
            } => Some(format!(
                "{job} healthy: {}",
                detail.clone().unwrap_or_default()
            )),
            EngineEvent::RunStarted { job, .. } if job != "shop.db" && job != "shop.docs" => {
                Some(format!("{job} started"))
            }
            EngineEvent::RunExited { job, .. } if job == "shop.migrate" => {
                Some(format!("{job} exited"))
            }
            _ => None,
        })
        .await;
        order.push(seen);
    }
    assert!(
        order[0].starts_with("shop.db healthy: printed"),
        "{order:?}"
    );
    assert!(
        order[0].contains("ready to accept connections"),
        "{order:?}"
    );
    assert_eq!(
        order[1..],
        [
            "shop.migrate started",
            "shop.migrate exited",
            "shop.api started"
        ]
    );
    all_running(&t.engine, &["shop.db", "shop.api", "shop.docs"]).await;
    // Relative paths are the project's: the task ran in the project's directory.
    assert!(dir.join("migrations.log").exists());

    // The times of the start are kept: db was ready after its line, api after db.
    let db = t.engine.get("shop.db").unwrap().status.startup.unwrap();
    let api = t.engine.get("shop.api").unwrap().status.startup.unwrap();
    let db_ready = db.ready_at.unwrap();
    assert!(db_ready - db.started_at.unwrap() >= chrono::Duration::milliseconds(350));
    assert!(api.started_at.unwrap() >= db_ready);
    assert_eq!(
        t.engine.get("shop.api").unwrap().status.project_name(),
        Some("shop")
    );

    // down stops the project, dependants first.
    let stopped = t
        .engine
        .act(Action::Stop, &Selection::Project("shop".into()))
        .await
        .unwrap();
    assert_eq!(stopped.len(), 4);
    for name in ["shop.db", "shop.api", "shop.docs"] {
        assert_eq!(t.engine.get(name).unwrap().status.state, JobState::Stopped);
    }
    let err = t
        .engine
        .act(Action::Stop, &Selection::Project("none".into()))
        .await
        .unwrap_err();
    assert!(matches!(err, EngineError::NoProject(_)), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn up_again_changes_only_what_the_file_changed() {
    let t = TestEngine::new().await;
    let dir = t.path().join("shop");
    t.engine.up(project(&dir, STACK)).await.unwrap();
    all_running(&t.engine, &["shop.db", "shop.api", "shop.docs"]).await;
    let migrated = || std::fs::read_to_string(dir.join("migrations.log")).unwrap_or_default();
    eventually("the migration ran", || migrated().lines().count() == 1).await;
    let before: Vec<Option<u32>> = ["shop.db", "shop.api", "shop.docs"]
        .iter()
        .map(|n| pid(&t.engine, n))
        .collect();

    // The same file: nothing changes, nothing restarts, the finished migration is not run again.
    let again = t.engine.up(project(&dir, STACK)).await.unwrap();
    assert!(
        again.plan.add.is_empty() && again.plan.update.is_empty() && again.plan.remove.is_empty()
    );
    assert_eq!(again.plan.unchanged.len(), 4);
    let after: Vec<Option<u32>> = ["shop.db", "shop.api", "shop.docs"]
        .iter()
        .map(|n| pid(&t.engine, n))
        .collect();
    assert_eq!(before, after);
    assert_eq!(t.engine.runs("shop.migrate", 10).await.unwrap().len(), 1);

    // docs' command changes and api leaves the file: docs restarts, api is stopped and gone,
    // db runs on.
    let edited = STACK.replace(
        "name = \"docs\"\ncommand = \"sleep 300\"",
        "name = \"docs\"\ncommand = \"sleep 301\"",
    );
    let without_api = match edited.split_once("[[jobs]]\nname = \"api\"") {
        Some((head, tail)) => format!("{head}{}", &tail[tail.find("[[jobs]]").unwrap()..]),
        None => panic!("the stack has an api"),
    };
    let changed = t.engine.up(project(&dir, &without_api)).await.unwrap();
    assert_eq!(changed.plan.update, ["shop.docs"]);
    assert_eq!(changed.plan.remove, ["shop.api"]);
    assert!(t.engine.get("shop.api").is_err());
    let old_api = i32::try_from(before[1].unwrap()).unwrap();
    eventually("api's process gone", || !pid_alive(old_api)).await;
    eventually("docs restarted", || {
        pid(&t.engine, "shop.docs").is_some_and(|p| Some(p) != before[2])
    })
    .await;
    assert_eq!(pid(&t.engine, "shop.db"), before[0]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_projects_each_have_a_web() {
    let t = TestEngine::new().await;
    let web = "[[jobs]]\nname = \"web\"\ncommand = \"sleep 300\"\nstop_timeout = \"5s\"\n";
    t.engine
        .up(project(&t.path().join("blog"), web))
        .await
        .unwrap();
    t.engine
        .up(project(&t.path().join("shop"), web))
        .await
        .unwrap();
    all_running(&t.engine, &["blog.web", "shop.web"]).await;
    let projects = t.engine.projects();
    let names: Vec<&str> = projects.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["blog", "shop"]);
    assert_eq!(projects[1].jobs, ["shop.web"]);
    assert_eq!(projects[1].file, t.path().join("shop/sentinel.toml"));

    // Down on one leaves the other running.
    t.engine
        .act(Action::Stop, &Selection::Project("blog".into()))
        .await
        .unwrap();
    assert!(pid(&t.engine, "blog.web").is_none());
    assert!(pid(&t.engine, "shop.web").is_some());

    // A project may not take a job of another, nor one outside any project.
    let mut stolen = project(&t.path().join("other"), web);
    stolen.jobs[0].name = "shop.web".into();
    stolen.jobs[0].project.as_mut().unwrap().name = "other".into();
    let err = t.engine.up(stolen).await.unwrap_err();
    assert!(
        err.to_string().contains("belongs to project \"shop\"")
            || format!("{err:?}").contains("belongs to project"),
        "{err:?}"
    );
    t.engine.add(job("lone.web", "sleep 1")).await.unwrap();
    let err = t
        .engine
        .up(project(&t.path().join("lone"), web))
        .await
        .unwrap_err();
    assert!(
        format!("{err:?}").contains("exists outside the project"),
        "{err:?}"
    );
    // A job that does not say it is the project's is refused.
    let mut foreign = project(&t.path().join("shop"), web);
    foreign.jobs[0].project = None;
    let err = t.engine.up(foreign).await.unwrap_err();
    assert!(format!("{err:?}").contains("project"), "{err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_line_that_never_comes_makes_the_job_unhealthy() {
    let t = TestEngine::new().await;
    let mut events = t.engine.subscribe();
    let text = r#"
[[jobs]]
name = "db"
command = "sleep 300"
stop_timeout = "5s"
health = { log = "ready", timeout = "300ms", restart = false }
"#;
    t.engine
        .up(project(&t.path().join("quiet"), text))
        .await
        .unwrap();
    let detail = next_event(&mut events, |e| match &e.event {
        EngineEvent::HealthChanged {
            job,
            health: HealthState::Unhealthy,
            detail,
        } if job == "quiet.db" => detail.clone(),
        _ => None,
    })
    .await;
    assert!(
        detail.contains("no line matched \"ready\" within 300ms"),
        "{detail}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dependants_restart_with_their_dependency() {
    let t = TestEngine::new().await;
    let mut events = t.engine.subscribe();
    let text = r#"
[[jobs]]
name = "db"
command = "sleep 300"
stop_timeout = "5s"
restart = { mode = "always", delay = "0s" }

[[jobs]]
name = "api"
command = "sleep 300"
stop_timeout = "5s"
depends_on = [{ job = "db", restart = true }]

[[jobs]]
name = "worker"
command = "sleep 300"
stop_timeout = "5s"
depends_on = [{ job = "api", restart = true }]

[[jobs]]
name = "docs"
command = "sleep 300"
stop_timeout = "5s"
depends_on = ["db"]
"#;
    t.engine
        .up(project(&t.path().join("c"), text))
        .await
        .unwrap();
    let names = ["c.db", "c.api", "c.worker", "c.docs"];
    all_running(&t.engine, &names).await;
    let pids = |engine: &EngineHandle| names.map(|n| pid(engine, n));

    // By hand: the dependants (and theirs) stop first and start after.
    let first = pids(&t.engine);
    let results = t
        .engine
        .act(Action::Restart, &Selection::job("c.db"))
        .await
        .unwrap();
    let acted: Vec<&str> = results.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(acted, ["c.db", "c.api", "c.worker"]);
    all_running(&t.engine, &names).await;
    let second = pids(&t.engine);
    for i in 0..3 {
        assert_ne!(first[i], second[i], "{} was not restarted", names[i]);
    }
    assert_eq!(first[3], second[3], "docs has no restart = true");
    let api_runs = t.engine.runs("c.api", 10).await.unwrap();
    assert_eq!(api_runs[0].trigger, Trigger::Restart);

    // On its own: db is killed and restarted by its policy; api and worker follow.
    while events.try_recv().is_some() {}
    let db = nix::unistd::Pid::from_raw(i32::try_from(second[0].unwrap()).unwrap());
    nix::sys::signal::kill(db, nix::sys::signal::Signal::SIGKILL).unwrap();
    next_event(&mut events, |e| match &e.event {
        EngineEvent::RunStarted { job, .. } if job == "c.worker" => Some(()),
        _ => None,
    })
    .await;
    all_running(&t.engine, &names).await;
    let third = pids(&t.engine);
    for i in 0..3 {
        assert_ne!(second[i], third[i], "{} did not restart with db", names[i]);
    }
    assert_eq!(second[3], third[3]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_looping_dependency_does_not_drag_its_dependants_forever() {
    let t = TestEngine::new().await;
    let mut events = t.engine.subscribe();
    let text = r#"
[[jobs]]
name = "flaky"
shell = true
command = "sleep 0.2; exit 1"
restart = { mode = "always", delay = "0s", max_retries = 0 }

[[jobs]]
name = "api"
command = "sleep 300"
stop_timeout = "5s"
depends_on = [{ job = "flaky", restart = true }]
"#;
    t.engine
        .up(project(&t.path().join("loop"), text))
        .await
        .unwrap();
    // api is restarted with flaky a few times, then stopped and marked failed with the reason.
    let reason = next_event(&mut events, |e| match &e.event {
        EngineEvent::StateChanged { status } if status.name == "loop.api" => match &status.state {
            JobState::Failed { reason, .. } => Some(reason.clone()),
            _ => None,
        },
        _ => None,
    })
    .await;
    assert!(
        reason.contains("restarted with loop.flaky 5 times") && reason.contains("restart = true"),
        "{reason}"
    );
    // It stays down while flaky goes on failing.
    for _ in 0..2 {
        next_event(&mut events, |e| match &e.event {
            EngineEvent::RunExited { job, .. } if job == "loop.flaky" => Some(()),
            _ => None,
        })
        .await;
    }
    let state = t.engine.get("loop.api").unwrap().status.state;
    assert!(matches!(state, JobState::Failed { .. }), "{state:?}");
    t.engine
        .act(Action::Stop, &Selection::job("loop.flaky"))
        .await
        .unwrap();
}
