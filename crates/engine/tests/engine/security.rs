//! What a job definition cannot make the engine do behind the user's back.

use sentinel_engine::proto::action::{Action, Selection};
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
    t.engine.act_on(Action::Start, "echo").await.unwrap();
    state_of(&mut events, "echo", "exited").await;
    assert_eq!(
        t.engine.log_tail("echo", 1, None).unwrap()[0].text,
        format!("; rm -rf ~ ; touch {}", marker.display())
    );
    assert!(!marker.exists());

    // With shell = true the same text is a shell script: that is what the flag is for.
    let mut scripted = job("scripted", &format!("true ; touch {}", marker.display()));
    scripted.kind = JobKind::Task;
    scripted.shell = true;
    t.engine.add(scripted).await.unwrap();
    t.engine.act_on(Action::Start, "scripted").await.unwrap();
    state_of(&mut events, "scripted", "exited").await;
    assert!(marker.exists());
}

async fn engine_with_max_running(
    home: &std::path::Path,
    max: u32,
) -> sentinel_engine::EngineHandle {
    use sentinel_engine::proto::settings::Settings;
    use sentinel_engine::{EngineConfig, EngineHandle, EnginePaths};

    let mut config = EngineConfig::new(EnginePaths::under(home));
    config.notifiers = Some(Vec::new());
    let mut settings = Settings::default();
    settings.limits.max_running = max;
    config.settings = Some(settings);
    EngineHandle::open(config).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_more_than_max_running_jobs_run_and_the_rest_wait_in_order() {
    use sentinel_engine::proto::{EngineEvent, JobState, WaitReason};

    let home = tempfile::tempdir().unwrap();
    let engine = engine_with_max_running(home.path(), 2).await;
    for name in ["a", "b", "c", "d"] {
        engine.add(job(name, "sleep 300")).await.unwrap();
    }
    // One after the other, so the line has a known order.
    for name in ["a", "b", "c", "d"] {
        engine.act_on(Action::Start, name).await.unwrap();
    }
    let state = |name: &str| engine.get(name).unwrap().status.state;
    assert!(matches!(state("a"), JobState::Running { .. }));
    assert!(matches!(state("b"), JobState::Running { .. }));
    for name in ["c", "d"] {
        let JobState::Waiting {
            reason, message, ..
        } = state(name)
        else {
            panic!("{name} should wait: {:?}", state(name))
        };
        assert_eq!(*reason, WaitReason::Slot { max_running: 2 });
        assert_eq!(
            message,
            "waiting for a free slot (max_running = 2); waiting jobs start in the order they asked"
        );
    }

    // A slot that frees up goes to the first in line; the line moving is no news for the
    // others (with thousands waiting, it would be thousands of events each time).
    let mut events = engine.subscribe();
    engine.act_on(Action::Stop, "a").await.unwrap();
    let mut others = Vec::new();
    let next = next_event(&mut events, |e| match &e.event {
        EngineEvent::RunStarted { job, .. } if job != "a" && job != "b" => Some(job.clone()),
        EngineEvent::StateChanged { status } if status.name == "d" => {
            others.push(status.state.clone());
            None
        }
        _ => None,
    })
    .await;
    assert_eq!(next, "c");
    // Its run is announced a moment before its state says so.
    state_of(&mut events, "c", "running").await;
    assert!(matches!(state("d"), JobState::Waiting { .. }));
    assert!(others.is_empty(), "d heard of it: {others:?}");
    // Stopping a waiting job takes it out of line.
    engine.act_on(Action::Stop, "d").await.unwrap();
    assert_eq!(state("d"), JobState::Stopped);
    engine.act_on(Action::Stop, "b").await.unwrap();
    let all = engine.list();
    let running: Vec<&str> = all
        .iter()
        .filter(|s| matches!(s.state, JobState::Running { .. }))
        .map(|s| s.name.as_str())
        .collect();
    assert_eq!(running, ["c"], "only c runs: {all:#?}");
    engine.act(Action::Stop, &Selection::All).await.unwrap();
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_whose_dependency_goes_away_leaves_the_slot_line() {
    use sentinel_engine::proto::stack::{Condition, Dependency};
    use sentinel_engine::proto::{EngineEvent, JobState, WaitReason};

    let home = tempfile::tempdir().unwrap();
    let engine = engine_with_max_running(home.path(), 1).await;
    let mut events = engine.subscribe();
    engine.add(job("db", "sleep 300")).await.unwrap();
    let mut api = job("api", "sleep 300");
    api.depends_on = vec![Dependency {
        job: "db".into(),
        condition: Condition::Started,
        restart: false,
    }];
    engine.add(api).await.unwrap();
    engine.add(job("worker", "sleep 300")).await.unwrap();
    // db takes the only slot; api is ready to run but has to wait in line for it.
    engine.act_on(Action::Start, "db").await.unwrap();
    let waiting = engine.act_on(Action::Start, "api").await.unwrap();
    assert!(
        matches!(&waiting.state, JobState::Waiting { reason, message, .. }
            if **reason == WaitReason::Slot { max_running: 1 } && message.starts_with("waiting for a free slot")),
        "{waiting:?}"
    );
    // db stops: its slot is api's turn, but api now waits for db, not for a slot, so it leaves
    // the line and the next start gets the slot.
    engine.act_on(Action::Stop, "db").await.unwrap();
    let reason = next_event(&mut events, |e| match &e.event {
        EngineEvent::StateChanged { status } if status.name == "api" => match &status.state {
            JobState::Waiting {
                reason, message, ..
            } if !matches!(**reason, WaitReason::Slot { .. }) => {
                Some((*reason.clone(), message.clone()))
            }
            _ => None,
        },
        _ => None,
    })
    .await;
    let (reason, message) = reason;
    assert!(
        matches!(&reason, WaitReason::Dependency { job, .. } if job == "db"),
        "{reason:?}"
    );
    assert!(
        message.starts_with("waiting for db to be running"),
        "{message}"
    );
    let worker = engine.act_on(Action::Start, "worker").await.unwrap();
    assert!(
        matches!(worker.state, JobState::Running { .. }),
        "{worker:?}"
    );
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secret_values_stay_out_of_output_exports_and_edits() {
    use sentinel_engine::proto::config::ConfigFile;
    use sentinel_engine::proto::secret::{Secrets, MASK};

    let t = TestEngine::new().await;
    let mut events = t.engine.subscribe();
    std::fs::write(t.path().join(".env"), "FILE_TOKEN=from-file-secret\n").unwrap();
    let mut spec = sh(
        "printer",
        "echo api=$API_KEY file=$FILE_TOKEN short=$SHORT port=$PORT",
    );
    spec.kind = JobKind::Task;
    spec.cwd = Some(t.path().to_path_buf());
    spec.env_files = vec![".env".into()];
    spec.env
        .insert("API_KEY".into(), "sk-live-1234567890".into());
    spec.env.insert("SHORT".into(), "on".into());
    spec.env.insert("PORT".into(), "8080".into());
    spec.secrets = vec!["API_KEY".into(), "FILE_TOKEN".into(), "SHORT".into()];
    t.engine.add(spec.clone()).await.unwrap();

    // The job's own output: secret values (from env and env files) are masked; values too
    // short to search for safely are not.
    t.engine.act_on(Action::Start, "printer").await.unwrap();
    state_of(&mut events, "printer", "exited").await;
    let line = t.engine.log_tail("printer", 1, None).unwrap()[0]
        .text
        .clone();
    assert_eq!(line, format!("api={MASK} file={MASK} short=on port=8080"));
    let on_disk = std::fs::read(t.engine.log_files("printer").unwrap()[0].clone()).unwrap();
    assert!(!String::from_utf8_lossy(&on_disk).contains("sk-live"));

    // Exports and resolved environments mask unless asked.
    let masked = t.engine.export(None, &[], Secrets::Masked).unwrap();
    assert_eq!(masked.jobs[0].env["API_KEY"], MASK);
    assert_eq!(masked.jobs[0].env["PORT"], "8080");
    assert_eq!(
        t.engine.export(None, &[], Secrets::Shown).unwrap().jobs[0].env["API_KEY"],
        "sk-live-1234567890"
    );
    let vars = t.engine.job_env("printer", Secrets::Masked).unwrap();
    let file_token = vars.iter().find(|v| v.key == "FILE_TOKEN").unwrap();
    assert_eq!((file_token.value.as_str(), file_token.secret), (MASK, true));

    // What was shown can be sent back: the stored value is kept.
    let mut edited = masked.jobs[0].clone();
    edited.env.insert("PORT".into(), "9090".into());
    t.engine.update(edited).await.unwrap();
    let stored = t.engine.get("printer").unwrap().spec;
    assert_eq!(stored.env["API_KEY"], "sk-live-1234567890");
    assert_eq!(stored.env["PORT"], "9090");

    // Re-importing a masked export changes nothing; the mask never becomes a new job's value,
    // and a refused import writes nothing.
    let text = t
        .engine
        .export(None, &[], Secrets::Masked)
        .unwrap()
        .render(sentinel_engine::proto::config::ConfigFormat::Toml);
    let plan = t
        .engine
        .import(
            ConfigFile::parse(&text, sentinel_engine::proto::config::ConfigFormat::Toml).unwrap(),
            false,
            false,
        )
        .await
        .unwrap();
    assert_eq!(plan.unchanged, vec!["printer".to_string()]);
    let mut copy = masked.jobs[0].clone();
    copy.name = "copy".into();
    let err = t
        .engine
        .import(ConfigFile::new(vec![copy.clone()]), false, false)
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("jobs[0] (copy).env.API_KEY"),
        "the error names the field: {err}"
    );
    assert!(t.engine.get("copy").is_err());
    let err = t.engine.add(copy).await.unwrap_err();
    assert!(err.to_string().contains("env.API_KEY"), "{err}");
}
