//! Opening the engine (recovery of what a crashed engine left, loading jobs, autostart) and
//! shutting it down, with the background chores that live as long as it does.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use chrono::Utc;
use sentinel_proto::{JobKind, Trigger};
use tokio::sync::Mutex;
use tokio::task::JoinSet;

use super::{load_settings, EngineConfig, EngineHandle, Inner, Registered};
use crate::context::Context;
use crate::error::Result;
use crate::events::EventBus;
use crate::job::{graph, spawn_job, JobHandle};
use crate::lock::EngineLock;
use crate::monitor::{spawn_sampler, DueFilter, SampleTarget};
use crate::notify::{default_notifiers, Alerts};
use crate::process::{marker, recover};
use crate::schedule::Scheduler;
use crate::store::Store;

/// How long orphans of a crashed engine get to exit on TERM before KILL.
const RECOVERY_GRACE: Duration = Duration::from_secs(1);

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
        crate::process::fds::keep_inherited_from_jobs();

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
        let (restarting, restarts) = tokio::sync::mpsc::unbounded_channel();
        let context = Arc::new(Context::new(
            paths,
            store.clone(),
            EventBus::new(first_seq),
            first_run_id,
            config.log_memory,
            settings,
            alerts,
            restarting,
        ));

        let scheduler = Scheduler::start();
        let mut jobs = BTreeMap::new();
        for stored in store.load_jobs().await? {
            let spec = Arc::new(stored.spec);
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
        super::cascade::spawn_cascades(Arc::downgrade(&engine.inner), restarts);
        let weak = Arc::downgrade(&engine.inner);
        spawn_sampler(Arc::downgrade(&engine.inner.context), move |due| {
            weak.upgrade()
                .map(|inner| sample_targets(&inner, due))
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

    /// Stops every job concurrently, writes what is pending, and returns when all is done.
    pub async fn shutdown(&self) {
        self.inner.shutting_down.store(true, Ordering::Release);
        let _edit = self.inner.edits.lock().await;
        let names: Vec<String> = self.read_jobs().keys().cloned().collect();
        // Dependants stop before what they depend on.
        for layer in graph::layers(&self.dependency_specs(), &names).iter().rev() {
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

/// The running jobs, for the sampler; each can be restarted when it exceeds its memory limit.
fn sample_targets(inner: &Inner, due: DueFilter) -> Vec<SampleTarget> {
    let jobs = inner.jobs.read().unwrap_or_else(|p| p.into_inner());
    jobs.values()
        .filter_map(|job| {
            let pid = job.handle.running_pid()?;
            if !due(&job.spec.name, job.spec.max_memory.is_some()) {
                return None;
            }
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
