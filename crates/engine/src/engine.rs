//! `EngineHandle`: the one way in. The app, the control server and the CLI's daemon all go
//! through it; it holds no business logic of its own beyond keeping the registry of jobs.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

use chrono::Utc;
use sentinel_proto::{EngineEvent, JobKind, JobSpec, JobStatus, LogLine, RunRecord, Trigger};
use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, Mutex};
use tokio::task::JoinSet;

use crate::context::Context;
use crate::error::{EngineError, Result};
use crate::events::{EventBus, EventSubscription};
use crate::job::{spawn_job, JobHandle};
use crate::paths::EnginePaths;
use crate::store::Store;

/// How an engine is set up.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    pub paths: EnginePaths,
    /// Recent lines kept in memory per job for instant tails.
    pub log_ring_lines: usize,
    /// Start `autostart` services when the engine starts.
    pub autostart: bool,
}

impl EngineConfig {
    pub fn new(paths: EnginePaths) -> EngineConfig {
        EngineConfig {
            paths,
            log_ring_lines: 1000,
            autostart: true,
        }
    }

    /// `SENTINEL_HOME` or the platform's locations.
    pub fn from_env() -> Result<EngineConfig> {
        EnginePaths::from_env()
            .map(EngineConfig::new)
            .ok_or(EngineError::NoHome)
    }
}

/// A job's definition and its current status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobDetail {
    pub spec: JobSpec,
    pub status: JobStatus,
}

struct Registered {
    spec: JobSpec,
    handle: JobHandle,
}

struct Inner {
    context: Arc<Context>,
    jobs: RwLock<BTreeMap<String, Registered>>,
    // Serialises definition changes, so that the registry and the database agree.
    edits: Mutex<()>,
    shutting_down: AtomicBool,
}

/// A cheap, cloneable handle to a running engine.
#[derive(Clone)]
pub struct EngineHandle {
    inner: Arc<Inner>,
}

impl EngineHandle {
    /// Opens the store, loads every job and starts the autostart services.
    pub async fn open(config: EngineConfig) -> Result<EngineHandle> {
        let paths = config.paths.clone();
        create_private_dir(&paths.data_dir)?;
        std::fs::create_dir_all(&paths.log_dir).map_err(|err| {
            EngineError::io(format!("cannot create {}", paths.log_dir.display()), err)
        })?;
        crate::process::become_subreaper();

        let store = Store::open(&paths.database()).await?;
        let interrupted = store.mark_interrupted(Utc::now()).await?;
        if interrupted > 0 {
            tracing::warn!("{interrupted} runs were interrupted by the engine's previous exit");
        }
        store.prune_events().await?;
        let (first_run_id, first_seq) = store.next_ids().await?;
        let context = Arc::new(Context::new(
            paths,
            store.clone(),
            EventBus::new(first_seq),
            first_run_id,
            config.log_ring_lines,
        ));

        let mut jobs = BTreeMap::new();
        for spec in store.load_jobs().await? {
            let handle = spawn_job(spec.clone(), context.clone());
            jobs.insert(spec.name.clone(), Registered { spec, handle });
        }
        let engine = EngineHandle {
            inner: Arc::new(Inner {
                context,
                jobs: RwLock::new(jobs),
                edits: Mutex::new(()),
                shutting_down: AtomicBool::new(false),
            }),
        };
        if config.autostart {
            engine.autostart_all().await;
        }
        Ok(engine)
    }

    async fn autostart_all(&self) {
        let handles: Vec<JobHandle> = self
            .read_jobs()
            .values()
            .filter(|job| starts_with_engine(&job.spec))
            .map(|job| job.handle.clone())
            .collect();
        let mut starts = JoinSet::new();
        for handle in handles {
            starts.spawn(async move { handle.start(Trigger::Autostart).await });
        }
        starts.join_all().await;
    }

    fn read_jobs(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<String, Registered>> {
        self.inner.jobs.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write_jobs(&self) -> std::sync::RwLockWriteGuard<'_, BTreeMap<String, Registered>> {
        self.inner.jobs.write().unwrap_or_else(|p| p.into_inner())
    }

    fn handle(&self, name: &str) -> Result<JobHandle> {
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

    /// Adds a job. An enabled `autostart` service starts right away, as it would with the
    /// engine.
    pub async fn add(&self, spec: JobSpec) -> Result<JobStatus> {
        spec.validate().map_err(EngineError::Invalid)?;
        self.refuse_if_shutting_down()?;
        let _edit = self.inner.edits.lock().await;
        if self.read_jobs().contains_key(&spec.name) {
            return Err(EngineError::AlreadyExists(spec.name));
        }
        self.inner.context.store.insert_job(&spec).await?;
        let handle = spawn_job(spec.clone(), self.inner.context.clone());
        self.write_jobs().insert(
            spec.name.clone(),
            Registered {
                spec: spec.clone(),
                handle: handle.clone(),
            },
        );
        self.inner.context.emit(EngineEvent::JobAdded {
            job: spec.name.clone(),
        });
        if starts_with_engine(&spec) {
            return handle.start(Trigger::Autostart).await;
        }
        Ok(handle.status())
    }

    /// Replaces a job's definition. A running job is restarted only when the change needs it
    /// (command, shell, cwd, env, kind); disabling stops it.
    pub async fn update(&self, spec: JobSpec) -> Result<JobStatus> {
        spec.validate().map_err(EngineError::Invalid)?;
        self.refuse_if_shutting_down()?;
        let _edit = self.inner.edits.lock().await;
        let handle = self.handle(&spec.name)?;
        self.inner.context.store.update_job(&spec).await?;
        if let Some(job) = self.write_jobs().get_mut(&spec.name) {
            job.spec = spec.clone();
        }
        let restarted = handle.update(spec.clone()).await?;
        self.inner.context.emit(EngineEvent::JobUpdated {
            job: spec.name,
            restarted,
        });
        Ok(handle.status())
    }

    /// Stops a job (the whole process group) and forgets it and its run history.
    pub async fn remove(&self, name: &str) -> Result<()> {
        let _edit = self.inner.edits.lock().await;
        let handle = self.handle(name)?;
        handle.shutdown().await;
        self.inner.context.store.delete_job(name).await?;
        self.write_jobs().remove(name);
        self.inner.context.emit(EngineEvent::JobRemoved {
            job: name.to_string(),
        });
        Ok(())
    }

    /// Starts a job; returns once it runs (or could not be started, which the status says).
    pub async fn start(&self, name: &str) -> Result<JobStatus> {
        self.refuse_if_shutting_down()?;
        self.handle(name)?.start(Trigger::Manual).await
    }

    /// Stops a job; returns once nothing of its process group is left.
    pub async fn stop(&self, name: &str) -> Result<JobStatus> {
        self.handle(name)?.stop().await
    }

    pub async fn restart(&self, name: &str) -> Result<JobStatus> {
        self.refuse_if_shutting_down()?;
        self.handle(name)?.restart().await
    }

    /// Every job's status, by name.
    pub fn list(&self) -> Vec<JobStatus> {
        self.read_jobs()
            .values()
            .map(|job| job.handle.status())
            .collect()
    }

    pub fn get(&self, name: &str) -> Result<JobDetail> {
        self.read_jobs()
            .get(name)
            .map(|job| JobDetail {
                spec: job.spec.clone(),
                status: job.handle.status(),
            })
            .ok_or_else(|| EngineError::NotFound(name.to_string()))
    }

    /// The newest runs of a job first.
    pub async fn runs(&self, name: &str, limit: u32) -> Result<Vec<RunRecord>> {
        self.handle(name)?;
        self.inner.context.store.runs(name, limit).await
    }

    /// The last `lines` captured lines of a job.
    pub fn log_tail(&self, name: &str, lines: usize) -> Result<Vec<LogLine>> {
        Ok(self.handle(name)?.logs.tail(lines))
    }

    /// The last `lines` lines, then every new line as it is captured.
    pub fn follow_logs(
        &self,
        name: &str,
        lines: usize,
    ) -> Result<(Vec<LogLine>, broadcast::Receiver<LogLine>)> {
        Ok(self.handle(name)?.logs.follow(lines))
    }

    /// A job's log files, oldest first.
    pub fn log_files(&self, name: &str) -> Result<Vec<std::path::PathBuf>> {
        Ok(self.handle(name)?.logs.files())
    }

    pub fn subscribe(&self) -> EventSubscription {
        self.inner.context.bus.subscribe()
    }

    pub fn paths(&self) -> &EnginePaths {
        &self.inner.context.paths
    }

    /// Stops every job concurrently, writes what is pending, and returns when all is done.
    pub async fn shutdown(&self) {
        self.inner.shutting_down.store(true, Ordering::Release);
        let _edit = self.inner.edits.lock().await;
        let handles: Vec<JobHandle> = self
            .read_jobs()
            .values()
            .map(|job| job.handle.clone())
            .collect();
        let mut stops = JoinSet::new();
        for handle in handles {
            stops.spawn(async move { handle.shutdown().await });
        }
        stops.join_all().await;
        self.inner.context.store.close().await;
    }
}

fn starts_with_engine(spec: &JobSpec) -> bool {
    spec.enabled && spec.autostart && spec.kind == JobKind::Service
}

/// The data directory holds the socket and the database: only its owner may enter.
fn create_private_dir(dir: &std::path::Path) -> Result<()> {
    std::fs::create_dir_all(dir)
        .map_err(|err| EngineError::io(format!("cannot create {}", dir.display()), err))?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
        .map_err(|err| EngineError::io(format!("cannot restrict {}", dir.display()), err))
}
