//! What every job actor shares: the store, the event bus, run ids, the search PATH.

use std::ffi::OsString;
use std::sync::atomic::{AtomicI64, Ordering};

use sentinel_proto::settings::Settings;
use sentinel_proto::EngineEvent;

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
    pub log_memory: usize,
    pub settings: Settings,
    pub resources: ResourceBook,
    pub metrics: Metrics,
    pub alerts: Alerts,
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
    ) -> Context {
        Context {
            paths,
            store,
            bus,
            search_path: crate::process::default_search_path(),
            log_memory,
            resources: ResourceBook::new(settings.monitor.clone()),
            metrics: Metrics::new(),
            alerts,
            settings,
            next_run_id: AtomicI64::new(first_run_id),
        }
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
