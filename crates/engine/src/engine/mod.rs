//! `EngineHandle`: the one way in. The app, the control server and the CLI's daemon all go
//! through it; it holds no business logic of its own beyond keeping the registry of jobs.

mod actions;
mod boot;
mod cascade;
mod definitions;
mod projects;
mod queries;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

use sentinel_proto::settings::Settings;
use sentinel_proto::{JobSpec, JobStatus, ValidationErrors};
use tokio::sync::Mutex;

use crate::context::Context;
use crate::error::{EngineError, Result};
use crate::events::EventSubscription;
use crate::job::JobHandle;
use crate::lock::EngineLock;
use crate::notify::Notifier;
use crate::paths::EnginePaths;
use crate::schedule::Scheduler;

pub use cascade::{CASCADE_LIMIT, CASCADE_WINDOW};

/// How an engine is set up.
#[derive(Clone)]
pub struct EngineConfig {
    pub paths: EnginePaths,
    /// Bytes of each job's newest log records kept in memory for instant tails.
    pub log_memory: usize,
    /// Start `autostart` services when the engine starts.
    pub autostart: bool,
    /// `None`: read `settings.toml` from the data directory (defaults when it is absent).
    pub settings: Option<Settings>,
    /// `None`: the notifiers the settings ask for (desktop, webhooks).
    pub notifiers: Option<Vec<Arc<dyn Notifier>>>,
}

impl std::fmt::Debug for EngineConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EngineConfig")
            .field("paths", &self.paths)
            .field("log_memory", &self.log_memory)
            .field("autostart", &self.autostart)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl EngineConfig {
    pub fn new(paths: EnginePaths) -> EngineConfig {
        EngineConfig {
            paths,
            log_memory: 128 * 1024,
            autostart: true,
            settings: None,
            notifiers: None,
        }
    }

    /// `SENTINEL_HOME` or the platform's locations.
    pub fn from_env() -> Result<EngineConfig> {
        EnginePaths::from_env()
            .map(EngineConfig::new)
            .ok_or(EngineError::NoHome)
    }
}

struct Registered {
    /// Shared with the job's actor: one copy of each definition, however many hold it.
    spec: Arc<JobSpec>,
    handle: JobHandle,
}

struct Inner {
    context: Arc<Context>,
    jobs: RwLock<BTreeMap<String, Registered>>,
    // Serialises definition changes, so that the registry and the database agree.
    edits: Mutex<()>,
    shutting_down: AtomicBool,
    lock: std::sync::Mutex<Option<EngineLock>>,
    scheduler: Scheduler,
}

/// A cheap, cloneable handle to a running engine.
#[derive(Clone)]
pub struct EngineHandle {
    inner: Arc<Inner>,
}

impl EngineHandle {
    fn read_jobs(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<String, Registered>> {
        self.inner.jobs.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write_jobs(&self) -> std::sync::RwLockWriteGuard<'_, BTreeMap<String, Registered>> {
        self.inner.jobs.write().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn handle(&self, name: &str) -> Result<JobHandle> {
        self.read_jobs()
            .get(name)
            .map(|job| job.handle.clone())
            .ok_or_else(|| EngineError::NotFound(name.to_string()))
    }

    fn refuse_if_shutting_down(&self) -> Result<()> {
        if self.inner.shutting_down.load(Ordering::Acquire) {
            Err(EngineError::ShuttingDown)
        } else {
            Ok(())
        }
    }

    pub fn is_shutting_down(&self) -> bool {
        self.inner.shutting_down.load(Ordering::Acquire)
    }

    /// The settings the engine runs with.
    pub fn settings(&self) -> &Settings {
        &self.inner.context.settings
    }

    pub fn subscribe(&self) -> EventSubscription {
        self.inner.context.bus.subscribe()
    }

    /// The sequence number of the newest event: a snapshot taken now is current up to it.
    pub fn last_seq(&self) -> u64 {
        self.inner.context.bus.last_seq()
    }

    pub fn paths(&self) -> &EnginePaths {
        &self.inner.context.paths
    }
}

/// `settings.toml`, or the defaults when there is none; a bad file stops the engine with
/// every problem by field.
fn load_settings(path: &Path) -> Result<Settings> {
    let file = match crate::home::open(
        path,
        std::fs::OpenOptions::new().read(true),
        crate::home::Kind::Trusted,
    ) {
        Ok(file) => file,
        Err(EngineError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            return Ok(Settings::default())
        }
        Err(err) => return Err(err),
    };
    let text = std::io::read_to_string(file)
        .map_err(|err| EngineError::io(format!("cannot read {}", path.display()), err))?;
    Settings::from_toml(&text).map_err(|errors| EngineError::Settings {
        path: path.to_path_buf(),
        errors: ValidationErrors(errors),
    })
}

/// The pid of a job's running process.
fn running_pid(status: &JobStatus) -> Option<u32> {
    match status.state {
        sentinel_proto::JobState::Running { pid, .. } => Some(pid),
        _ => None,
    }
}
