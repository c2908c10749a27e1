//! Remote engines watched for real: a second engine in a temporary home serves its socket, and
//! the app reaches it through a `unix://` context (the same client, watcher and commands as an
//! `ssh://` one; tests/tests/app reaches one through a real sshd).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sentinel_engine::control::ControlServer;
use sentinel_engine::notify::{Alerts, Notification, Notifier, NotifyError};
use sentinel_engine::{EngineConfig, EngineHandle, EnginePaths};
use sentinel_proto::settings::NotificationSettings;
use sentinel_proto::{JobSpec, RestartMode};
use serde_json::{json, Value};

use super::*;
use crate::testing::{app, app_with_alerts, invoke, TestApp};

/// Polls until `condition` holds; fails with `what` after the deadline.
fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut pause = Duration::from_millis(2);
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}

/// An engine standing in for one on another machine.
struct Far {
    engine: EngineHandle,
    server: Option<ControlServer>,
    socket: PathBuf,
    _home: tempfile::TempDir,
}

impl Far {
    fn start() -> Far {
        let home = tempfile::tempdir().unwrap();
        let paths = EnginePaths::under(home.path());
        let socket = paths.socket.clone();
        let mut config = EngineConfig::new(paths);
        config.notifiers = Some(Vec::new());
        let (engine, server) = tauri::async_runtime::block_on(async {
            let engine = EngineHandle::open(config).await.unwrap();
            let server = ControlServer::bind(engine.clone(), &socket).await.unwrap();
            (engine, server)
        });
        Far {
            engine,
            server: Some(server),
            socket,
            _home: home,
        }
    }

    fn host(&self) -> String {
        format!("unix://{}", self.socket.display())
    }

    fn add(&self, name: &str, command: &str) {
        let mut spec = JobSpec::new(name, command);
        spec.autostart = false;
        tauri::async_runtime::block_on(self.engine.add(spec)).unwrap();
    }

    fn stop_serving(&mut self) {
        if let Some(server) = self.server.take() {
            tauri::async_runtime::block_on(server.stop());
        }
    }

    fn serve_again(&mut self) {
        let engine = self.engine.clone();
        let socket = self.socket.clone();
        self.server = Some(tauri::async_runtime::block_on(async move {
            ControlServer::bind(engine, &socket).await.unwrap()
        }));
    }
}

impl Drop for Far {
    fn drop(&mut self) {
        self.stop_serving();
        tauri::async_runtime::block_on(self.engine.shutdown());
    }
}

fn view(t: &TestApp, name: &str) -> Option<RemoteView> {
    t.remotes
        .views()
        .engines
        .into_iter()
        .find(|v| v.context.name == name)
}

fn remote_state(t: &TestApp, engine: &str, job: &str) -> Option<String> {
    match view(t, engine)?.link {
        Link::Connected { jobs, .. } => jobs
            .iter()
            .find(|j| j.name == job)
            .map(|j| j.state.name().to_string()),
        _ => None,
    }
}

fn context(name: &str, host: &str) -> Value {
    json!({"name": name, "host": host, "description": "the far engine"})
}

#[test]
fn a_remote_engine_is_watched_acted_on_lost_and_found_again() {
    let t = app();
    let mut far = Far::start();
    far.add("ci", "sleep 1000");

    let list = invoke(
        &t,
        "add_engine",
        json!({"context": context("box", &far.host())}),
    )
    .unwrap();
    assert_eq!(list["remotes"]["engines"][0]["context"]["name"], "box");
    assert_eq!(list["local"]["jobs"], 0);
    wait_until("the remote job in the view", || {
        remote_state(&t, "box", "ci").as_deref() == Some("stopped")
    });
    let Some(Link::Connected { version, .. }) = view(&t, "box").map(|v| v.link) else {
        panic!("not connected")
    };
    assert_eq!(version, env!("CARGO_PKG_VERSION"));

    // An action with the engine's name goes there, not to the local engine.
    let results = invoke(
        &t,
        "act",
        json!({"action": "start", "selection": {"names": ["ci"]}, "engine": "box"}),
    )
    .unwrap();
    assert_eq!(results[0]["status"]["state"], "running", "{results}");
    assert!(t.engine.list().is_empty());
    wait_until("the start to arrive as an event", || {
        remote_state(&t, "box", "ci").as_deref() == Some("running")
    });
    // A job added there appears here.
    far.add("nightly", "true");
    wait_until("the new remote job", || {
        remote_state(&t, "box", "nightly").is_some()
    });
    let missing = invoke(
        &t,
        "act",
        json!({"action": "stop", "selection": {"names": ["nope"]}, "engine": "box"}),
    )
    .unwrap();
    assert_eq!(missing[0]["error"]["code"], "not_found");

    // The engine goes away: unreachable, with why and when it is tried again.
    far.stop_serving();
    let mut lost = None;
    wait_until("the engine to be unreachable", || {
        lost = view(&t, "box").map(|v| v.link);
        matches!(lost, Some(Link::Unreachable { .. }))
    });
    let Some(Link::Unreachable {
        problem,
        since,
        next_try_at,
        attempt,
    }) = lost
    else {
        unreachable!()
    };
    assert!(next_try_at > since, "{next_try_at} after {since}");
    assert!(attempt >= 1);
    assert!(
        ["connection_lost", "unreachable"].contains(&problem.code.as_str()),
        "{problem:?}"
    );
    let refused = invoke(
        &t,
        "act",
        json!({"action": "stop", "selection": {"names": ["ci"]}, "engine": "box"}),
    )
    .unwrap_err();
    assert_eq!(refused["code"], "unreachable", "{refused}");
    // The local engine does not wait for it.
    let local = invoke(&t, "snapshot", json!({})).unwrap();
    assert_eq!(local["jobs"], json!([]));

    // Back again, and tried at once when asked.
    far.serve_again();
    invoke(&t, "retry_engine", json!({"name": "box"})).unwrap();
    wait_until("the engine to be reached again", || {
        remote_state(&t, "box", "ci").as_deref() == Some("running")
    });

    let list = invoke(&t, "remove_engine", json!({"name": "box"})).unwrap();
    assert_eq!(list["remotes"]["engines"], json!([]));
    let gone = invoke(
        &t,
        "act",
        json!({"action": "stop", "selection": "all", "engine": "box"}),
    )
    .unwrap_err();
    assert_eq!(gone["code"], "not_found");
    let again = invoke(&t, "remove_engine", json!({"name": "box"})).unwrap_err();
    assert_eq!(again["code"], "not_found");
    tauri::async_runtime::block_on(t.engine.shutdown());
}

#[test]
fn engines_are_checked_by_field_tested_and_read_from_the_file() {
    let t = app();
    let far = Far::start();
    far.add("a", "sleep 1000");
    far.add("b", "sleep 1000");

    let field = |context: Value| -> String {
        let error = invoke(&t, "add_engine", json!({ "context": context })).unwrap_err();
        assert_eq!(error["code"], "invalid", "{error}");
        error["field"].as_str().unwrap().to_string()
    };
    assert_eq!(field(context("box", "ftp://box")), "host");
    assert_eq!(field(context("default", "ssh://box")), "name");
    assert_eq!(field(context("box", "ssh://-oProxyCommand=x")), "host");
    invoke(
        &t,
        "add_engine",
        json!({"context": context("box", &far.host())}),
    )
    .unwrap();
    assert_eq!(field(context("box", "ssh://other")), "name");
    assert!(!t.home.path().join("contexts.toml.partial").exists());

    // A test connection: the engine's version and its jobs, or why not.
    let tested = invoke(
        &t,
        "test_engine",
        json!({"context": {"name": "", "host": far.host()}}),
    )
    .unwrap();
    assert_eq!(tested["jobs"], 2);
    assert_eq!(tested["version"], env!("CARGO_PKG_VERSION"));
    let nowhere = t.home.path().join("nothing.sock");
    let failed = invoke(
        &t,
        "test_engine",
        json!({"context": {"name": "x", "host": format!("unix://{}", nowhere.display())}}),
    )
    .unwrap_err();
    assert_eq!(failed["code"], "unreachable", "{failed}");
    assert!(
        failed["message"].as_str().unwrap().contains("nothing.sock"),
        "{failed}"
    );
    let bad = invoke(
        &t,
        "test_engine",
        json!({"context": {"name": "x", "host": "box"}}),
    )
    .unwrap_err();
    assert_eq!(bad["field"], "host");

    // What `sentinel context add` writes is watched once the engines are asked for.
    let file = t.remotes.file().to_path_buf();
    let mut contexts = sentinel_client::contexts::load(&file).unwrap();
    contexts
        .add(EngineContext {
            name: "second".into(),
            host: far.host(),
            description: String::new(),
            sentinel: None,
        })
        .unwrap();
    sentinel_client::contexts::save(&file, &contexts).unwrap();
    let list = invoke(&t, "engines", json!({})).unwrap();
    let names: Vec<&str> = list["remotes"]["engines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["context"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["box", "second"]);
    assert_eq!(list["problem"], Value::Null);
    wait_until("the second engine's jobs", || {
        remote_state(&t, "second", "b").is_some()
    });

    // A file that cannot be read is said, and the engines watched stay.
    std::fs::write(&file, "contexts = 3").unwrap();
    let list = invoke(&t, "engines", json!({})).unwrap();
    assert!(
        list["problem"].as_str().unwrap().contains("contexts.toml"),
        "{list}"
    );
    assert_eq!(list["remotes"]["engines"].as_array().unwrap().len(), 2);
    let refused = invoke(
        &t,
        "add_engine",
        json!({"context": context("third", "ssh://x")}),
    )
    .unwrap_err();
    assert_eq!(refused["code"], "unavailable");
    t.remotes.stop_all();
    tauri::async_runtime::block_on(t.engine.shutdown());
}

#[test]
fn a_request_nobody_answers_ends_at_its_time_limit() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("silent.sock");
    let listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    // Accepts, then says nothing.
    let held = std::thread::spawn(move || listener.accept().map(|(stream, _)| stream));
    let client = Client::new(&socket);
    let started = Instant::now();
    let problem = tauri::async_runtime::block_on(timed(client.live(), Duration::from_millis(300)))
        .unwrap_err();
    assert_eq!(problem.code, "timeout");
    assert!(started.elapsed() >= Duration::from_millis(300));
    drop(held.join());
}

/// Keeps what the app would have shown on the desktop.
#[derive(Default)]
struct Recorder(Mutex<Vec<Notification>>);

impl Notifier for Recorder {
    fn name(&self) -> &'static str {
        "recorder"
    }

    fn deliver(&self, notification: &Notification) -> Result<(), NotifyError> {
        self.0.lock().unwrap().push(notification.clone());
        Ok(())
    }
}

#[test]
fn a_remote_failure_is_notified_with_the_engines_name_and_a_muted_job_is_not() {
    let recorder = Arc::new(Recorder::default());
    let notifiers: Vec<Arc<dyn Notifier>> = vec![recorder.clone()];
    let alerts = tauri::async_runtime::block_on(async {
        Alerts::start(NotificationSettings::default(), notifiers)
    });
    let t = app_with_alerts(Some(alerts));
    let far = Far::start();
    for (name, notify) in [("quiet", false), ("crashy", true)] {
        let mut spec = JobSpec::new(name, "sh -c 'echo about to fail; exit 3'");
        spec.autostart = false;
        spec.restart.mode = RestartMode::Never;
        spec.notify = notify;
        tauri::async_runtime::block_on(far.engine.add(spec)).unwrap();
    }
    invoke(
        &t,
        "add_engine",
        json!({"context": context("build-box", &far.host())}),
    )
    .unwrap();
    wait_until("the remote jobs", || {
        remote_state(&t, "build-box", "crashy").is_some()
    });
    for job in ["quiet", "crashy"] {
        invoke(
            &t,
            "act",
            json!({"action": "start", "selection": {"names": [job]}, "engine": "build-box"}),
        )
        .unwrap();
    }
    let told = |job: &str| -> Option<Notification> {
        let told = recorder.0.lock().unwrap();
        told.iter()
            .find(|n| n.job == format!("{job} on build-box"))
            .cloned()
    };
    wait_until("both failures told", || {
        told("crashy").is_some() && told("quiet").is_some()
    });
    let crashy = told("crashy").unwrap();
    assert_eq!(crashy.kind, sentinel_engine::notify::AlertKind::GaveUp);
    assert_eq!(crashy.title, "crashy on build-box failed");
    assert_eq!(crashy.log_tail, ["about to fail"]);
    assert_eq!(crashy.exit.as_ref().and_then(|e| e.code), Some(3));
    assert!(!crashy.muted);
    // `notify = false` there mutes it here: the desktop notifier shows no muted one.
    assert!(told("quiet").unwrap().muted);
    assert_eq!(recorder.0.lock().unwrap().len(), 2, "each told once");
    t.remotes.stop_all();
    tauri::async_runtime::block_on(t.engine.shutdown());
}
