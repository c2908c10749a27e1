//! A real engine in a temporary home, and ways to wait for it without sleeping.

use std::path::{Path, PathBuf};
use std::time::Duration;

use sentinel_engine::proto::{EngineEvent, EventEnvelope, JobSpec, JobState, JobStatus};
use sentinel_engine::{EngineConfig, EngineHandle, EnginePaths, EventSubscription, Received};
use tokio::time::{timeout_at, Instant};

/// Generous: a deadline guards against hangs, it is not a performance claim.
pub const DEADLINE: Duration = Duration::from_secs(30);

pub struct TestEngine {
    pub engine: EngineHandle,
    pub home: tempfile::TempDir,
}

impl TestEngine {
    pub async fn new() -> TestEngine {
        let home = tempfile::tempdir().unwrap();
        let engine = open(home.path()).await;
        TestEngine { engine, home }
    }

    pub fn path(&self) -> &Path {
        self.home.path()
    }
}

pub async fn open(home: &Path) -> EngineHandle {
    let mut config = EngineConfig::new(EnginePaths::under(home));
    // No desktop notifications from tests; the notification tests bring their own notifiers.
    config.notifiers = Some(Vec::new());
    EngineHandle::open(config).await.expect("engine starts")
}

/// A job that does not start on its own, with quick restarts.
pub fn job(name: &str, command: &str) -> JobSpec {
    let mut spec = JobSpec::new(name, command);
    spec.autostart = false;
    spec.restart.delay = Duration::ZERO;
    spec.stop_timeout = Duration::from_secs(5);
    spec
}

pub fn sh(name: &str, script: &str) -> JobSpec {
    let mut spec = job(name, script);
    spec.shell = true;
    spec
}

/// Waits for the first event that `pick` accepts; panics at the deadline.
pub async fn next_event<T>(
    events: &mut EventSubscription,
    mut pick: impl FnMut(&EventEnvelope) -> Option<T>,
) -> T {
    let deadline = Instant::now() + DEADLINE;
    loop {
        match timeout_at(deadline, events.recv()).await {
            Ok(Some(Received::Event(envelope))) => {
                if let Some(found) = pick(&envelope) {
                    return found;
                }
            }
            Ok(Some(Received::Missed(n))) => panic!("the test missed {n} events"),
            Ok(None) => panic!("the engine went away"),
            Err(_) => panic!("no matching event within {DEADLINE:?}"),
        }
    }
}

/// The first `n` events that `pick` accepts, in order.
pub async fn collect<T>(
    events: &mut EventSubscription,
    n: usize,
    mut pick: impl FnMut(&EventEnvelope) -> Option<T>,
) -> Vec<T> {
    let mut found = Vec::with_capacity(n);
    while found.len() < n {
        found.push(next_event(events, &mut pick).await);
    }
    found
}

/// Waits until the job enters the named state, and returns its status then.
pub async fn state_of(events: &mut EventSubscription, job: &str, state: &str) -> JobStatus {
    next_event(events, |e| match &e.event {
        EngineEvent::StateChanged { status }
            if status.name == job && status.state.name() == state =>
        {
            Some(status.as_ref().clone())
        }
        _ => None,
    })
    .await
}

/// Polls a condition until it holds, or panics at the deadline.
pub async fn eventually(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + DEADLINE;
    let mut pause = Duration::from_millis(1);
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}

pub fn pid_alive(pid: i32) -> bool {
    !matches!(
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None),
        Err(nix::errno::Errno::ESRCH)
    )
}

pub fn group_alive(pgid: i32) -> bool {
    !matches!(
        nix::sys::signal::killpg(nix::unistd::Pid::from_raw(pgid), None),
        Err(nix::errno::Errno::ESRCH)
    )
}

pub fn running_pid(status: &JobStatus) -> u32 {
    match status.state {
        JobState::Running { pid, .. } => pid,
        ref other => panic!("{} is not running but {other:?}", status.name),
    }
}

pub fn write_file(dir: &Path, name: &str, body: &str, mode: u32) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(name);
    std::fs::write(&path, body).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    path
}

/// A TCP port nobody listens on right now, chosen below the ephemeral ranges (Linux
/// 32768–60999, macOS 49152–65535): a port the system may hand to any outgoing connection could
/// be taken between this call and the bind of whoever is to listen on it.
pub fn free_port() -> u16 {
    use std::hash::{BuildHasher, Hasher};
    loop {
        // A fresh RandomState is a fresh random number, without a dependency for it.
        let random = std::collections::hash_map::RandomState::new()
            .build_hasher()
            .finish();
        let port = 20_000 + (random % 12_000) as u16;
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}
