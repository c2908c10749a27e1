//! The engine's home must be its own: a home another user owns or may write, or a link planted
//! in it, is refused at start with what to fix; files are never opened through a link; files
//! others may read are made private.

use sentinel_engine::proto::action::Action;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};

use sentinel_engine::proto::EngineEvent;
use sentinel_engine::{EngineConfig, EngineError, EngineHandle, EnginePaths};

use crate::common::*;

/// A test directory holding the home (`home/`, 0700 like the engine makes it) and, beside it,
/// a victim file no link may lead the engine to.
struct Setup {
    dir: tempfile::TempDir,
}

const PRECIOUS: &str = "precious, not the engine's\n";

impl Setup {
    fn new() -> Setup {
        let setup = Setup {
            dir: tempfile::tempdir().unwrap(),
        };
        std::fs::create_dir(setup.home()).unwrap();
        set_mode(&setup.home(), 0o700);
        std::fs::write(setup.victim(), PRECIOUS).unwrap();
        set_mode(&setup.victim(), 0o644);
        setup
    }

    fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    fn victim(&self) -> PathBuf {
        self.dir.path().join("victim")
    }

    /// The victim is as it was: same content, same mode.
    fn assert_victim_untouched(&self) {
        assert_eq!(std::fs::read_to_string(self.victim()).unwrap(), PRECIOUS);
        assert_eq!(mode(&self.victim()), 0o644);
    }
}

fn set_mode(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn mode(path: &Path) -> u32 {
    std::fs::symlink_metadata(path)
        .unwrap()
        .permissions()
        .mode()
        & 0o777
}

async fn try_open(home: &Path) -> Result<EngineHandle, EngineError> {
    let mut config = EngineConfig::new(EnginePaths::under(home));
    config.notifiers = Some(Vec::new());
    EngineHandle::open(config).await
}

/// The engine refuses to start, with the `unsafe_home` code and a message that names `path`
/// and contains `fix`.
async fn refused(home: &Path, path: &Path, fix: &str) -> String {
    let err = match try_open(home).await {
        Ok(engine) => {
            engine.shutdown().await;
            panic!("the engine started with {}", path.display());
        }
        Err(err) => err,
    };
    let message = err.to_string();
    assert_eq!(err.code(), "unsafe_home", "{message}");
    assert!(
        message.contains(&path.display().to_string()),
        "the message names {}: {message}",
        path.display()
    );
    assert!(message.contains(fix), "the message says {fix:?}: {message}");
    message
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_home_owned_by_another_user_is_refused_with_what_to_fix() {
    if !nix::unistd::geteuid().is_root() {
        eprintln!("skipped: only root can give a directory to another user");
        return;
    }
    let setup = Setup::new();
    let nobody = nix::unistd::Uid::from_raw(65534);
    nix::unistd::chown(&setup.home(), Some(nobody), None).unwrap();
    let message = refused(&setup.home(), &setup.home(), "chown -R 0").await;
    assert!(message.contains("uid 65534"), "{message}");
    // Nothing was created in it: not the lock, not the database, not the logs.
    assert_eq!(std::fs::read_dir(setup.home()).unwrap().count(), 0);

    // A file in the home given to another user is refused too.
    nix::unistd::chown(&setup.home(), Some(nix::unistd::geteuid()), None).unwrap();
    let settings = setup.home().join("settings.toml");
    std::fs::write(&settings, "").unwrap();
    set_mode(&settings, 0o600);
    nix::unistd::chown(&settings, Some(nobody), None).unwrap();
    refused(&setup.home(), &settings, "chown 0").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_home_others_may_write_is_refused_with_what_to_fix() {
    let setup = Setup::new();
    set_mode(&setup.home(), 0o777);
    refused(&setup.home(), &setup.home(), "chmod 700").await;
    assert_eq!(std::fs::read_dir(setup.home()).unwrap().count(), 0);

    // The log directory too, and a file whose content the engine believes.
    set_mode(&setup.home(), 0o700);
    let logs = setup.home().join("logs");
    std::fs::create_dir(&logs).unwrap();
    set_mode(&logs, 0o770);
    refused(&setup.home(), &logs, "chmod 700").await;
    set_mode(&logs, 0o700);
    let settings = setup.home().join("settings.toml");
    std::fs::write(&settings, "").unwrap();
    set_mode(&settings, 0o666);
    refused(&setup.home(), &settings, "chmod 600").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn links_planted_in_the_home_are_refused_and_their_targets_untouched() {
    for name in [
        "engine.lock",
        "sentinel.db",
        "sentinel.db-wal",
        "settings.toml",
        "metrics.token",
        "logs",
        "logs/api.log",
    ] {
        let setup = Setup::new();
        let link = setup.home().join(name);
        if name.starts_with("logs/") {
            std::fs::create_dir(setup.home().join("logs")).unwrap();
            set_mode(&setup.home().join("logs"), 0o700);
        }
        if name == "logs" {
            // A link to the victim's directory: the engine would write `JOB.log` files there.
            symlink(setup.dir.path(), &link).unwrap();
        } else {
            symlink(setup.victim(), &link).unwrap();
        }
        refused(&setup.home(), &link, "symbolic link").await;
        setup.assert_victim_untouched();
        assert!(!setup.dir.path().join("api.log").exists());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_log_file_or_directory_linked_after_start_is_not_followed() {
    let setup = Setup::new();
    let engine = try_open(&setup.home()).await.expect("engine starts");
    let mut events = engine.subscribe();
    let logs = setup.home().join("logs");

    // The job's log file, planted as a link before the job first writes.
    symlink(setup.victim(), logs.join("linked.log")).unwrap();
    engine
        .add(sh("linked", "while :; do echo tick; sleep 0.05; done"))
        .await
        .unwrap();
    engine.act_on(Action::Start, "linked").await.unwrap();
    let error = log_error(&mut events, "linked").await;
    assert!(error.contains("symbolic link"), "{error}");
    engine.act_on(Action::Stop, "linked").await.unwrap();
    setup.assert_victim_untouched();

    // The whole log directory swapped for a link to the victim's directory.
    std::fs::remove_file(logs.join("linked.log")).unwrap();
    std::fs::remove_dir(&logs).unwrap();
    symlink(setup.dir.path(), &logs).unwrap();
    engine
        .add(sh("swapped", "while :; do echo tick; sleep 0.05; done"))
        .await
        .unwrap();
    engine.act_on(Action::Start, "swapped").await.unwrap();
    let error = log_error(&mut events, "swapped").await;
    assert!(error.contains("symbolic link"), "{error}");
    assert!(!setup.dir.path().join("swapped.log").exists());
    setup.assert_victim_untouched();
    engine.shutdown().await;
}

/// The first log error the job's status announces.
async fn log_error(events: &mut sentinel_engine::EventSubscription, job: &str) -> String {
    next_event(events, |e| match &e.event {
        EngineEvent::StateChanged { status } if status.name == job => status.log_error.clone(),
        _ => None,
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_others_may_read_are_made_private() {
    let setup = Setup::new();
    let logs = setup.home().join("logs");
    std::fs::create_dir(&logs).unwrap();
    set_mode(&logs, 0o700);
    let files = [
        (logs.join("old.log"), 0o666),
        (setup.home().join("metrics.token"), 0o644),
        (setup.home().join("settings.toml"), 0o644),
        (setup.home().join("engine.lock"), 0o644),
    ];
    for (path, mode) in &files {
        std::fs::write(path, "").unwrap();
        set_mode(path, *mode);
    }
    let engine = try_open(&setup.home()).await.expect("engine starts");
    for (path, _) in &files {
        assert_eq!(mode(path), 0o600, "{}", path.display());
    }

    // A log file made 0666 while the engine runs is made private when it is opened.
    let planted = logs.join("late.log");
    std::fs::write(&planted, "").unwrap();
    set_mode(&planted, 0o666);
    let mut events = engine.subscribe();
    let mut spec = sh("late", "echo hello");
    spec.kind = sentinel_engine::proto::JobKind::Task;
    engine.add(spec).await.unwrap();
    engine.act_on(Action::Start, "late").await.unwrap();
    state_of(&mut events, "late", "exited").await;
    assert_eq!(mode(&planted), 0o600);
    assert!(std::fs::read_to_string(&planted).unwrap().contains("hello"));
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_socket_directory_others_may_write_is_refused() {
    let setup = Setup::new();
    let engine = try_open(&setup.home()).await.expect("engine starts");
    let shared = setup.dir.path().join("shared");
    std::fs::create_dir(&shared).unwrap();
    set_mode(&shared, 0o777);
    let socket = shared.join("sentinel.sock");
    let err = match sentinel_engine::control::ControlServer::bind(engine.clone(), &socket).await {
        Ok(server) => {
            server.stop().await;
            panic!("the socket was bound in a directory anyone may write");
        }
        Err(err) => err,
    };
    assert_eq!(err.code(), "unsafe_home", "{err}");
    assert!(err.to_string().contains("chmod 700"), "{err}");
    assert!(!socket.exists());
    engine.shutdown().await;
}
