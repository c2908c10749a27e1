//! What every job actor shares: the store, the event bus, run ids, the search PATH.

use std::collections::HashMap;
use std::ffi::OsString;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::RwLock;

use sentinel_proto::settings::Settings;
use sentinel_proto::{EngineEvent, JobStatus};
use tokio::sync::watch;

use crate::events::EventBus;
use crate::metrics::Metrics;
use crate::monitor::ResourceBook;
use crate::notify::Alerts;
use crate::paths::EnginePaths;
use crate::store::Store;

pub(crate) struct Context {
    pub paths: EnginePaths,
    pub store: Store,
    pub bus: EventBus,
    pub search_path: OsString,
    /// What every child carries in `SENTINEL_ENGINE`: this engine's home.
    pub engine_marker: OsString,
    pub log_memory: usize,
    pub settings: Settings,
    pub resources: ResourceBook,
    pub metrics: Metrics,
    pub alerts: Alerts,
    pub slots: std::sync::Arc<crate::job::slots::Slots>,
    /// Jobs restarting on their own (a crash, a health check, changed files, a schedule, a new
    /// definition): the engine restarts their `restart = true` dependants.
    pub restarting: tokio::sync::mpsc::UnboundedSender<String>,
    /// Every job's live status, for jobs that wait on others.
    directory: RwLock<HashMap<String, watch::Receiver<JobStatus>>>,
    next_run_id: AtomicI64,
}

impl Context {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        paths: EnginePaths,
        store: Store,
        bus: EventBus,
        first_run_id: i64,
        log_memory: usize,
        settings: Settings,
        alerts: Alerts,
        restarting: tokio::sync::mpsc::UnboundedSender<String>,
    ) -> Context {
        Context {
            engine_marker: crate::process::marker::engine_marker(&paths.data_dir),
            paths,
            store,
            bus,
            search_path: crate::process::default_search_path(),
            log_memory,
            resources: ResourceBook::new(settings.monitor.clone()),
            slots: crate::job::slots::Slots::new(settings.limits.max_running as usize),
            metrics: Metrics::new(),
            alerts,
            restarting,
            settings,
            directory: RwLock::default(),
            next_run_id: AtomicI64::new(first_run_id),
        }
    }

    pub fn list_job(&self, name: &str, status: watch::Receiver<JobStatus>) {
        self.directory
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(name.to_string(), status);
    }

    pub fn unlist_job(&self, name: &str) {
        self.directory
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(name);
    }

    /// A receiver of the job's status, marked as seen.
    pub fn job_status(&self, name: &str) -> Option<watch::Receiver<JobStatus>> {
        let mut status = self
            .directory
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(name)?
            .clone();
        status.mark_unchanged();
        Some(status)
    }

    pub fn next_run_id(&self) -> i64 {
        self.next_run_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Publishes an event and records it.
    pub fn emit(&self, event: EngineEvent) {
        let envelope = self.bus.publish(event);
        self.metrics.observe(&envelope);
        self.store.record_event(envelope);
    }

    /// Publishes an event that is not kept in the history (resource samples).
    pub fn emit_transient(&self, event: EngineEvent) {
        let envelope = self.bus.publish(event);
        self.metrics.observe(&envelope);
    }
}
