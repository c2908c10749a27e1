//! What every job actor shares: the store, the event bus, run ids, the search PATH.

use std::ffi::OsString;
use std::sync::atomic::{AtomicI64, Ordering};

use sentinel_proto::EngineEvent;

use crate::events::EventBus;
use crate::paths::EnginePaths;
use crate::store::Store;

pub(crate) struct Context {
    pub paths: EnginePaths,
    pub store: Store,
    pub bus: EventBus,
    pub search_path: OsString,
    pub log_memory: usize,
    next_run_id: AtomicI64,
}

impl Context {
    pub fn new(
        paths: EnginePaths,
        store: Store,
        bus: EventBus,
        first_run_id: i64,
        log_memory: usize,
    ) -> Context {
        Context {
            paths,
            store,
            bus,
            search_path: crate::process::default_search_path(),
            log_memory,
            next_run_id: AtomicI64::new(first_run_id),
        }
    }

    pub fn next_run_id(&self) -> i64 {
        self.next_run_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Publishes an event and records it.
    pub fn emit(&self, event: EngineEvent) {
        let envelope = self.bus.publish(event);
        self.store.record_event(envelope);
    }
}
