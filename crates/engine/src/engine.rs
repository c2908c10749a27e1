//! `EngineHandle`: the one way in. The app, the control server and the CLI's daemon all go
//! through it; it holds no business logic of its own beyond keeping the registry of jobs.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use chrono::Utc;
use sentinel_proto::api::{BulkRequest, JobDetail};
use sentinel_proto::config::{job_field, ConfigFile, ImportPlan};
use sentinel_proto::secret::Secrets;
use sentinel_proto::{
    EngineEvent, EventEnvelope, JobKind, JobSpec, JobStatus, LogLine, LogStream, RunRecord, Trigger,
};
use sentinel_proto::{FieldError, ValidationErrors};
use tokio::sync::{broadcast, Mutex};
use tokio::task::JoinSet;

use crate::context::Context;
use crate::error::{EngineError, Result};
use crate::events::{EventBus, EventSubscription};
use crate::job::{graph, spawn_job, JobHandle};
use crate::lock::EngineLock;
use crate::monitor::{spawn_sampler, SampleTarget};
use crate::notify::{default_notifiers, Alerts, Notifier};
use crate::paths::EnginePaths;
use crate::process::{marker, recover};
use crate::schedule::{refuse_unschedulable, Scheduler};
use crate::store::Store;
use sentinel_proto::monitor::ResourceHistory;
use sentinel_proto::settings::Settings;
use sentinel_proto::stack::{EnvVar, FreedPorts, JobPorts};

/// How long orphans of a crashed engine get to exit on TERM before KILL.
const RECOVERY_GRACE: Duration = Duration::from_secs(1);

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
    spec: JobSpec,
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
    /// Opens the store, loads every job and starts the autostart services.
    pub async fn open(config: EngineConfig) -> Result<EngineHandle> {
        let paths = config.paths.clone();
        // The home holds secrets and what runs as this user: refused unless it is this
        // user's alone. Logs can hold secrets a job printed: private too.
        crate::home::secure(&paths)?;
        let settings = match config.settings {
            Some(settings) => settings,
            None => load_settings(&paths.settings_file())?,
        };
        let lock = EngineLock::acquire(&paths.data_dir)?;
        crate::process::become_subreaper();
        crate::process::fds::raise_limit();

        let store = Store::open(&paths.database()).await?;
        // What a crashed engine left running is stopped before anything starts again: the
        // runs it recorded, and the processes that carry this home (runs not yet written).
        let open_runs = store.open_runs().await?;
        let mut orphans = recover::orphaned_groups(&open_runs);
        let (marked, lone) = marker::find(&marker::engine_marker(&paths.data_dir));
        orphans.extend(marked);
        orphans.sort_unstable();
        orphans.dedup();
        if !orphans.is_empty() || !lone.is_empty() {
            tracing::warn!(
                "stopping {} process groups and {} processes left by the previous engine",
                orphans.len(),
                lone.len()
            );
        }
        tokio::join!(
            recover::stop_groups(&orphans, RECOVERY_GRACE),
            marker::stop_processes(&lone, RECOVERY_GRACE)
        );
        let interrupted: BTreeSet<String> = open_runs.into_iter().map(|run| run.job).collect();
        store.mark_interrupted(Utc::now()).await?;
        store.prune_events().await?;
        let (first_run_id, first_seq) = store.next_ids().await?;
        let notifiers = config
            .notifiers
            .unwrap_or_else(|| default_notifiers(&settings.notifications));
        let alerts = Alerts::start(settings.notifications.clone(), notifiers);
        let context = Arc::new(Context::new(
            paths,
            store.clone(),
            EventBus::new(first_seq),
            first_run_id,
            config.log_memory,
            settings,
            alerts,
        ));

        let scheduler = Scheduler::start();
        let mut jobs = BTreeMap::new();
        for stored in store.load_jobs().await? {
            let spec = stored.spec;
            let handle = spawn_job(spec.clone(), context.clone());
            // A definition an older version stored may break a bound this one checks: it is
            // kept (to be seen, changed or removed) but never started or scheduled.
            if let Err(errors) = spec.validate() {
                tracing::error!(job = %spec.name, "stored definition is invalid, not started: {errors}");
                jobs.insert(spec.name.clone(), Registered { spec, handle });
                continue;
            }
            // Fire times that passed while the engine was down are caught up (or skipped).
            scheduler.plan(
                &spec,
                handle.clone(),
                stored.last_scheduled,
                stored.created_at,
            );
            jobs.insert(spec.name.clone(), Registered { spec, handle });
        }
        let engine = EngineHandle {
            inner: Arc::new(Inner {
                context,
                jobs: RwLock::new(jobs),
                edits: Mutex::new(()),
                shutting_down: AtomicBool::new(false),
                lock: std::sync::Mutex::new(Some(lock)),
                scheduler,
            }),
        };
        if let Some(max_age) = engine.inner.context.settings.logs.max_age {
            spawn_log_retention(Arc::downgrade(&engine.inner), max_age);
        }
        let weak = Arc::downgrade(&engine.inner);
        spawn_sampler(Arc::downgrade(&engine.inner.context), move || {
            weak.upgrade()
                .map(|inner| sample_targets(&inner))
                .unwrap_or_default()
        });
        if config.autostart {
            engine.start_with_engine(&interrupted).await;
        }
        Ok(engine)
    }

    /// Starts the autostart services, and the services that were running when the previous
    /// engine died.
    async fn start_with_engine(&self, interrupted: &BTreeSet<String>) {
        let starts: Vec<(JobHandle, Trigger)> = self
            .read_jobs()
            .values()
            .filter_map(|job| {
                let service = job.spec.enabled
                    && job.spec.kind == JobKind::Service
                    && job.spec.validate().is_ok();
                if service && interrupted.contains(&job.spec.name) {
                    Some((job.handle.clone(), Trigger::Recovery))
                } else {
                    (service && job.spec.autostart)
                        .then(|| (job.handle.clone(), Trigger::Autostart))
                }
            })
            .collect();
        let mut running = JoinSet::new();
        for (handle, trigger) in starts {
            running.spawn(async move { handle.start(trigger).await });
        }
        running.join_all().await;
    }

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

    /// Adds a job. An enabled `autostart` service starts right away, as it would with the
    /// engine.
    pub async fn add(&self, mut spec: JobSpec) -> Result<JobStatus> {
        spec.restore_secrets(None, "")
            .map_err(EngineError::Invalid)?;
        spec.validate().map_err(EngineError::Invalid)?;
        refuse_unschedulable(&spec, true)?;
        self.refuse_if_shutting_down()?;
        let _edit = self.inner.edits.lock().await;
        if self.read_jobs().contains_key(&spec.name) {
            return Err(EngineError::AlreadyExists(spec.name));
        }
        self.check_dependencies(std::slice::from_ref(&spec), &[], false)?;
        self.inner.context.store.insert_job(&spec).await?;
        self.install(spec).await
    }

    /// Runs a job that is in the database: its actor, schedule and autostart.
    async fn install(&self, spec: JobSpec) -> Result<JobStatus> {
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
        self.inner
            .scheduler
            .plan(&spec, handle.clone(), None, Utc::now());
        if starts_with_engine(&spec) {
            return handle.start(Trigger::Autostart).await;
        }
        Ok(handle.status())
    }

    /// Replaces a job's definition. A running job is restarted only when the change needs it
    /// (command, shell, cwd, env, kind); disabling stops it.
    pub async fn update(&self, mut spec: JobSpec) -> Result<JobStatus> {
        self.refuse_if_shutting_down()?;
        let _edit = self.inner.edits.lock().await;
        let (stored, _) = self.spec_and_status(&spec.name)?;
        spec.restore_secrets(Some(&stored), "")
            .map_err(EngineError::Invalid)?;
        spec.validate().map_err(EngineError::Invalid)?;
        refuse_unschedulable(&spec, false)?;
        self.check_dependencies(std::slice::from_ref(&spec), &[], false)?;
        self.inner.context.store.update_job(&spec).await?;
        self.reinstall(spec).await
    }

    /// Applies a definition already in the database to the running job.
    async fn reinstall(&self, spec: JobSpec) -> Result<JobStatus> {
        let handle = self.handle(&spec.name)?;
        if let Some(job) = self.write_jobs().get_mut(&spec.name) {
            job.spec = spec.clone();
        }
        let restarted = handle.update(spec.clone()).await?;
        self.inner
            .scheduler
            .plan(&spec, handle.clone(), None, Utc::now());
        self.inner.context.emit(EngineEvent::JobUpdated {
            job: spec.name,
            restarted,
        });
        Ok(handle.status())
    }

    /// Stops a job (the whole process group) and forgets it and its run history.
    pub async fn remove(&self, name: &str) -> Result<()> {
        let _edit = self.inner.edits.lock().await;
        self.handle(name)?;
        self.uninstall(name).await;
        self.inner.context.store.delete_job(name).await
    }

    async fn uninstall(&self, name: &str) {
        let Ok(handle) = self.handle(name) else {
            return;
        };
        // First, so that nobody waits on a status that is about to close.
        self.inner.context.unlist_job(name);
        self.inner.scheduler.forget(name);
        handle.shutdown().await;
        self.write_jobs().remove(name);
        self.inner.context.resources.forget(name);
        self.inner.context.emit(EngineEvent::JobRemoved {
            job: name.to_string(),
        });
    }

    /// The definitions of all jobs, a group, or named jobs, as a job file.
    pub fn export(
        &self,
        group: Option<&str>,
        names: &[String],
        secrets: Secrets,
    ) -> Result<ConfigFile> {
        let jobs = self.read_jobs();
        if let Some(missing) = names.iter().find(|name| !jobs.contains_key(*name)) {
            return Err(EngineError::NotFound(missing.clone()));
        }
        let specs = jobs
            .values()
            .filter(|job| names.is_empty() || names.contains(&job.spec.name))
            .filter(|job| group.is_none() || job.spec.group.as_deref() == group)
            .map(|job| job.spec.clone().with_secrets(secrets))
            .collect();
        Ok(ConfigFile::new(specs))
    }

    /// Imports a job file: adds new jobs, updates changed ones, and with `replace` removes
    /// the jobs the file does not have. All or nothing; `dry_run` only says what would change.
    pub async fn import(
        &self,
        mut file: ConfigFile,
        replace: bool,
        dry_run: bool,
    ) -> Result<ImportPlan> {
        self.refuse_if_shutting_down()?;
        let _edit = self.inner.edits.lock().await;
        let mut plan = ImportPlan::default();
        let mut problems = Vec::new();
        {
            let jobs = self.read_jobs();
            for (index, spec) in file.jobs.iter_mut().enumerate() {
                let stored = jobs.get(&spec.name).map(|job| &job.spec);
                let prefix = job_field(index, &spec.name, "");
                if let Err(errors) = spec.restore_secrets(stored, &prefix) {
                    problems.extend(errors.0);
                }
            }
            for (index, spec) in file.jobs.iter().enumerate() {
                let known = jobs.get(&spec.name);
                if let Err(EngineError::Invalid(errors)) =
                    refuse_unschedulable(spec, known.is_none())
                {
                    problems.extend(errors.0.into_iter().map(|e| FieldError {
                        field: job_field(index, &spec.name, &e.field),
                        message: e.message,
                    }));
                }
                match known {
                    None => plan.add.push(spec.name.clone()),
                    Some(job) if job.spec == *spec => plan.unchanged.push(spec.name.clone()),
                    Some(_) => plan.update.push(spec.name.clone()),
                }
            }
            if replace {
                let keep: BTreeSet<&str> =
                    file.jobs.iter().map(|spec| spec.name.as_str()).collect();
                plan.remove = jobs
                    .keys()
                    .filter(|name| !keep.contains(name.as_str()))
                    .cloned()
                    .collect();
            }
        }
        if let Err(EngineError::Invalid(errors)) =
            self.check_dependencies(&file.jobs, &plan.remove, true)
        {
            problems.extend(errors.0);
        }
        if !problems.is_empty() {
            return Err(EngineError::Invalid(ValidationErrors(problems)));
        }
        if dry_run {
            return Ok(plan);
        }
        let specs_named = |names: &[String]| -> Vec<JobSpec> {
            file.jobs
                .iter()
                .filter(|spec| names.contains(&spec.name))
                .cloned()
                .collect()
        };
        let (adds, updates) = (specs_named(&plan.add), specs_named(&plan.update));
        // One transaction for every definition: the database never holds half an import.
        self.inner
            .context
            .store
            .apply_import(&adds, &updates, &plan.remove)
            .await?;
        for name in &plan.remove {
            self.uninstall(name).await;
        }
        for spec in updates {
            self.reinstall(spec).await?;
        }
        for spec in adds {
            self.install(spec).await?;
        }
        plan.applied = true;
        Ok(plan)
    }

    /// Refuses definitions whose dependencies do not hold together once `incoming` are in
    /// and `removed` are gone: unknown jobs, cycles, waiting for health nobody checks. With
    /// `in_file`, fields name the job as a job file does (`jobs[1] (api).depends_on`).
    fn check_dependencies(
        &self,
        incoming: &[JobSpec],
        removed: &[String],
        in_file: bool,
    ) -> Result<()> {
        // Only a definition with dependencies can add a cycle or name a missing job; most have
        // none, and adding thousands of jobs should not copy the registry each time.
        if incoming.iter().all(|spec| spec.depends_on.is_empty()) {
            return Ok(());
        }
        let mut world: BTreeMap<String, JobSpec> = self
            .read_jobs()
            .iter()
            .filter(|(name, _)| !removed.contains(name))
            .map(|(name, job)| (name.clone(), job.spec.clone()))
            .collect();
        for spec in incoming {
            world.insert(spec.name.clone(), spec.clone());
        }
        let checked: BTreeSet<&str> = incoming.iter().map(|spec| spec.name.as_str()).collect();
        let problems: Vec<FieldError> = graph::problems(&world, |name| checked.contains(name))
            .into_iter()
            .map(|(job, error)| FieldError {
                field: if in_file {
                    let index = incoming.iter().position(|spec| spec.name == job);
                    job_field(index.unwrap_or_default(), &job, &error.field)
                } else {
                    error.field
                },
                message: error.message,
            })
            .collect();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(EngineError::Invalid(ValidationErrors(problems)))
        }
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

    /// Enables or disables a job: a disabled job is stopped and its schedule paused.
    pub async fn set_enabled(&self, name: &str, enabled: bool) -> Result<JobStatus> {
        let mut spec = self.get(name)?.spec;
        spec.enabled = enabled;
        self.update(spec).await
    }

    /// Runs a job now: a task runs once more, a service starts if it is not running.
    pub async fn run_now(&self, name: &str) -> Result<JobStatus> {
        self.refuse_if_shutting_down()?;
        self.handle(name)?.start(Trigger::Manual).await
    }

    pub fn is_shutting_down(&self) -> bool {
        self.inner.shutting_down.load(Ordering::Acquire)
    }

    pub async fn restart(&self, name: &str) -> Result<JobStatus> {
        self.refuse_if_shutting_down()?;
        self.handle(name)?.restart().await
    }

    /// Starts, stops or restarts several jobs at once, concurrently; one result per job.
    pub async fn bulk(
        &self,
        action: BulkAction,
        selection: &BulkRequest,
    ) -> Result<Vec<(String, Result<JobStatus>)>> {
        let names = self.select(selection)?;
        let layers = graph::layers(&self.specs(), &names);
        let mut results: BTreeMap<String, Result<JobStatus>> = BTreeMap::new();
        // Dependencies start first and stop last; the jobs of one layer go together. A
        // restart stops the whole selection before starting it again, in order.
        if matches!(action, BulkAction::Stop | BulkAction::Restart) {
            for layer in layers.iter().rev() {
                results.extend(self.each(layer, BulkAction::Stop).await);
            }
        }
        if matches!(action, BulkAction::Start | BulkAction::Restart) {
            for layer in &layers {
                let starts = match action {
                    BulkAction::Restart => layer
                        .iter()
                        .filter(|name| results.get(*name).is_some_and(Result::is_ok))
                        .cloned()
                        .collect(),
                    _ => layer.clone(),
                };
                results.extend(self.each(&starts, action).await);
            }
        }
        Ok(names
            .into_iter()
            .map(|name| {
                let result = results
                    .remove(&name)
                    .unwrap_or_else(|| Err(EngineError::NotFound(name.clone())));
                (name, result)
            })
            .collect())
    }

    /// One action on several jobs at once.
    async fn each(&self, names: &[String], action: BulkAction) -> Vec<(String, Result<JobStatus>)> {
        let mut actions = JoinSet::new();
        for name in names.iter().cloned() {
            let engine = self.clone();
            actions.spawn(async move {
                let result = match action {
                    BulkAction::Start => engine.start(&name).await,
                    BulkAction::Stop => engine.stop(&name).await,
                    BulkAction::Restart => match engine
                        .refuse_if_shutting_down()
                        .and_then(|()| engine.handle(&name))
                    {
                        Ok(handle) => handle.start(Trigger::Restart).await,
                        Err(err) => Err(err),
                    },
                };
                (name, result)
            });
        }
        actions.join_all().await
    }

    fn specs(&self) -> BTreeMap<String, JobSpec> {
        self.read_jobs()
            .iter()
            .filter(|(_, job)| !job.spec.depends_on.is_empty())
            .map(|(name, job)| (name.clone(), job.spec.clone()))
            .collect()
    }

    /// The jobs a bulk request names: exactly one of a list of names, a group, or all.
    fn select(&self, selection: &BulkRequest) -> Result<Vec<String>> {
        selection.validate().map_err(EngineError::Invalid)?;
        let jobs = self.read_jobs();
        if let Some(group) = &selection.group {
            let names: Vec<String> = jobs
                .values()
                .filter(|job| job.spec.group.as_deref() == Some(group.as_str()))
                .map(|job| job.spec.name.clone())
                .collect();
            if names.is_empty() {
                return Err(EngineError::EmptyGroup(group.clone()));
            }
            return Ok(names);
        }
        if selection.all {
            return Ok(jobs.keys().cloned().collect());
        }
        Ok(selection.names.clone())
    }

    /// Every job's status, by name.
    pub fn list(&self) -> Vec<JobStatus> {
        self.read_jobs()
            .values()
            .map(|job| self.current_status(&job.handle))
            .collect()
    }

    /// The actor's status with the newest resource sample.
    fn current_status(&self, handle: &JobHandle) -> JobStatus {
        let mut status = handle.status();
        status.resources = match status.state {
            sentinel_proto::JobState::Running { .. } => {
                self.inner.context.resources.latest(&status.name)
            }
            _ => None,
        };
        status
    }

    /// A job's recent resource samples, oldest first.
    pub fn resource_history(&self, name: &str) -> Result<ResourceHistory> {
        self.handle(name)?;
        Ok(self.inner.context.resources.history(name))
    }

    /// Every metric in the Prometheus text format.
    pub fn render_metrics(&self) -> String {
        let context = &self.inner.context;
        context
            .metrics
            .render(&self.list(), context.store.backlog())
    }

    /// The settings the engine runs with.
    pub fn settings(&self) -> &Settings {
        &self.inner.context.settings
    }

    pub fn get(&self, name: &str) -> Result<JobDetail> {
        self.read_jobs()
            .get(name)
            .map(|job| JobDetail {
                spec: job.spec.clone(),
                status: self.current_status(&job.handle),
                log_file: job.handle.logs.active_path().display().to_string(),
            })
            .ok_or_else(|| EngineError::NotFound(name.to_string()))
    }

    /// A job's declared ports and who listens on them.
    pub fn ports(&self, name: &str) -> Result<JobPorts> {
        let (spec, status) = self.spec_and_status(name)?;
        Ok(JobPorts {
            ports: crate::ports::blocking(|| {
                crate::ports::inspect(name, &spec.ports, running_pid(&status))
            }),
            job: spec.name,
        })
    }

    /// The declared ports of every job that has some.
    pub fn all_ports(&self) -> Vec<JobPorts> {
        let names: Vec<String> = self
            .read_jobs()
            .values()
            .filter(|job| !job.spec.ports.is_empty())
            .map(|job| job.spec.name.clone())
            .collect();
        names
            .iter()
            .filter_map(|name| self.ports(name).ok())
            .collect()
    }

    /// Stops the processes left over from earlier runs of the job that hold its ports; other
    /// holders are reported and left alone. A start waiting for the ports goes ahead.
    pub async fn free_ports(&self, name: &str) -> Result<FreedPorts> {
        let (spec, status) = self.spec_and_status(name)?;
        let freed =
            crate::ports::free(name, &spec.ports, running_pid(&status), spec.stop_timeout).await;
        self.handle(name)?.recheck();
        Ok(freed)
    }

    /// The variables the job's next run gets from its env files and `env`, with their
    /// sources.
    pub fn job_env(&self, name: &str, secrets: Secrets) -> Result<Vec<EnvVar>> {
        let (spec, _) = self.spec_and_status(name)?;
        let cwd = match &spec.cwd {
            Some(cwd) => cwd.clone(),
            None => std::env::current_dir().map_err(|source| EngineError::Io {
                context: "cannot read the engine's directory".into(),
                source,
            })?,
        };
        let vars = crate::process::env::resolve(&spec, &cwd).map_err(|message| {
            EngineError::Invalid(ValidationErrors(vec![FieldError {
                field: "env_files".into(),
                message,
            }]))
        })?;
        Ok(sentinel_proto::secret::mask_env(&spec, vars, secrets))
    }

    fn spec_and_status(&self, name: &str) -> Result<(JobSpec, JobStatus)> {
        self.read_jobs()
            .get(name)
            .map(|job| (job.spec.clone(), job.handle.status()))
            .ok_or_else(|| EngineError::NotFound(name.to_string()))
    }

    /// The newest runs of a job first.
    pub async fn runs(&self, name: &str, limit: u32) -> Result<Vec<RunRecord>> {
        self.handle(name)?;
        self.inner.context.store.runs(name, limit).await
    }

    /// The last `lines` captured lines of a job.
    pub fn log_tail(
        &self,
        name: &str,
        lines: usize,
        stream: Option<LogStream>,
    ) -> Result<Vec<LogLine>> {
        Ok(self.handle(name)?.logs.tail(lines, stream))
    }

    /// The last `lines` lines, then every new line as it is captured.
    pub fn follow_logs(
        &self,
        name: &str,
        lines: usize,
        stream: Option<LogStream>,
    ) -> Result<(Vec<LogLine>, broadcast::Receiver<LogLine>)> {
        Ok(self.handle(name)?.logs.follow(lines, stream))
    }

    /// A job's log files, oldest first.
    pub fn log_files(&self, name: &str) -> Result<Vec<std::path::PathBuf>> {
        Ok(self.handle(name)?.logs.files())
    }

    /// The newest recorded events, oldest first.
    pub async fn recent_events(&self, limit: u32) -> Result<Vec<EventEnvelope>> {
        self.inner.context.store.recent_events(limit).await
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

    /// Stops every job concurrently, writes what is pending, and returns when all is done.
    pub async fn shutdown(&self) {
        self.inner.shutting_down.store(true, Ordering::Release);
        let _edit = self.inner.edits.lock().await;
        let names: Vec<String> = self.read_jobs().keys().cloned().collect();
        // Dependants stop before what they depend on.
        for layer in graph::layers(&self.specs(), &names).iter().rev() {
            let handles: Vec<JobHandle> = {
                let jobs = self.read_jobs();
                layer
                    .iter()
                    .filter_map(|name| jobs.get(name).map(|job| job.handle.clone()))
                    .collect()
            };
            let mut stops = JoinSet::new();
            for handle in handles {
                stops.spawn(async move { handle.shutdown().await });
            }
            stops.join_all().await;
        }
        self.inner.context.store.close().await;
        // Another engine may use this home from now on.
        self.inner
            .lock
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
    }

    /// `shutdown`, but done within about `limit`: jobs still stopping then (a long
    /// `stop_timeout`, a process ignoring its stop signal) get KILL, with their whole group, so
    /// that whoever must exit soon (the app at logout) leaves nothing running. Returns whether
    /// every job stopped in time on its own.
    pub async fn shutdown_within(&self, limit: Duration) -> bool {
        if tokio::time::timeout(limit, self.shutdown()).await.is_ok() {
            return true;
        }
        let running: Vec<(String, u32)> = self
            .read_jobs()
            .values()
            .filter_map(|job| {
                let status = job.handle.status();
                status.state.pid().map(|pid| (status.name, pid))
            })
            .collect();
        for (name, pid) in &running {
            tracing::warn!(job = %name, "still stopping after {limit:?}; sending SIGKILL to its group");
            crate::process::signal_group(*pid, nix::sys::signal::Signal::SIGKILL);
        }
        // The actors see their runs end and record them; then the store is closed.
        let _ = tokio::time::timeout(Duration::from_secs(5), self.shutdown()).await;
        false
    }
}

/// Sweeps the log directory now and every hour while the engine lives.
fn spawn_log_retention(inner: std::sync::Weak<Inner>, max_age: Duration) {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(crate::logs::retention::SWEEP_EVERY);
        loop {
            ticks.tick().await;
            let Some(engine) = inner.upgrade() else {
                return;
            };
            let dir = engine.context.paths.log_dir.clone();
            let existing: BTreeSet<String> = engine
                .jobs
                .read()
                .unwrap_or_else(|p| p.into_inner())
                .keys()
                .cloned()
                .collect();
            drop(engine);
            let deleted = tokio::task::spawn_blocking(move || {
                crate::logs::retention::sweep(
                    &dir,
                    max_age,
                    &existing,
                    std::time::SystemTime::now(),
                )
            })
            .await
            .unwrap_or_default();
            if !deleted.is_empty() {
                tracing::info!("log retention deleted {} old log files", deleted.len());
            }
        }
    });
}

fn running_pid(status: &JobStatus) -> Option<u32> {
    match status.state {
        sentinel_proto::JobState::Running { pid, .. } => Some(pid),
        _ => None,
    }
}

/// The running jobs, for the sampler; each can be restarted when it exceeds its memory limit.
fn sample_targets(inner: &Inner) -> Vec<SampleTarget> {
    let jobs = inner.jobs.read().unwrap_or_else(|p| p.into_inner());
    jobs.values()
        .filter_map(|job| {
            let sentinel_proto::JobState::Running { pid, .. } = job.handle.status().state else {
                return None;
            };
            let handle = job.handle.clone();
            Some(SampleTarget {
                job: job.spec.name.clone(),
                leader: pid,
                max_memory: job.spec.max_memory,
                over_limit: Box::new(move |pid, used, limit| {
                    handle.watchdog(
                        pid,
                        Trigger::MemoryLimit,
                        format!(
                            "memory limit exceeded: {} used, max_memory = {}",
                            sentinel_proto::job::byte_size::format(used),
                            sentinel_proto::job::byte_size::format(limit)
                        ),
                    )
                }),
            })
        })
        .collect()
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

/// What a bulk request does to each job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BulkAction {
    Start,
    Stop,
    Restart,
}

fn starts_with_engine(spec: &JobSpec) -> bool {
    spec.enabled && spec.autostart && spec.kind == JobKind::Service
}
