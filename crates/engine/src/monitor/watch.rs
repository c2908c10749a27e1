//! Whether anyone is looking at resource figures right now. Sampling every job at the full rate
//! only pays when someone watches: an open popover or settings window (a [`Watching`] guard),
//! `sentinel top` (an event stream that asks for samples), or a Prometheus scrape in the last
//! minute. Otherwise the sampler reads each job only now and then, and a job with a memory
//! limit at the full rate, since the limit is enforced from the samples.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

/// How long a scrape or a history request counts as watching.
pub const LOOKED_AT: Duration = Duration::from_secs(60);

pub(crate) struct Watchers {
    /// Open guards.
    holders: AtomicUsize,
    /// Until when (ms after `epoch`) a recent look counts.
    until_ms: AtomicU64,
    epoch: Instant,
    /// Wakes the sampler when watching starts, so the first figures come at once, and when a
    /// job with a memory limit starts, so the limit is enforced from the start.
    started: Notify,
}

/// Someone watches for as long as this lives.
pub struct Watching {
    watchers: Arc<Watchers>,
}

impl Drop for Watching {
    fn drop(&mut self) {
        self.watchers.holders.fetch_sub(1, Ordering::AcqRel);
    }
}

impl std::fmt::Debug for Watching {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Watching")
    }
}

impl Watchers {
    pub fn new() -> Arc<Watchers> {
        Arc::new(Watchers {
            holders: AtomicUsize::new(0),
            until_ms: AtomicU64::new(0),
            epoch: Instant::now(),
            started: Notify::new(),
        })
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    pub fn is_watched(&self) -> bool {
        self.holders.load(Ordering::Acquire) > 0
            || self.now_ms() < self.until_ms.load(Ordering::Acquire)
    }

    /// Watching until the guard is dropped.
    pub fn hold(self: &Arc<Self>) -> Watching {
        let was_watched = self.is_watched();
        self.holders.fetch_add(1, Ordering::AcqRel);
        if !was_watched {
            self.started.notify_one();
        }
        Watching {
            watchers: self.clone(),
        }
    }

    /// Someone looked at the figures: watching for [`LOOKED_AT`] from now.
    pub fn looked(&self) {
        let was_watched = self.is_watched();
        let looked_at = u64::try_from(LOOKED_AT.as_millis()).unwrap_or(u64::MAX);
        let until = self.now_ms().saturating_add(looked_at);
        self.until_ms.fetch_max(until, Ordering::AcqRel);
        if !was_watched {
            self.started.notify_one();
        }
    }

    /// A job with a memory limit started: the sampler measures it now and then at the full
    /// rate, however slowly it samples the rest.
    pub fn limited_job_started(&self) {
        self.started.notify_one();
    }

    /// Resolves when watching starts or a job with a memory limit starts (or has since the
    /// last call).
    pub async fn started(&self) {
        self.started.notified().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_guard_watches_while_it_lives_and_a_look_for_a_minute() {
        let watchers = Watchers::new();
        assert!(!watchers.is_watched());
        let guard = watchers.hold();
        let second = watchers.hold();
        assert!(watchers.is_watched());
        // The sampler hears that watching started.
        tokio::time::timeout(Duration::from_secs(1), watchers.started())
            .await
            .unwrap();
        drop(guard);
        assert!(watchers.is_watched(), "one guard is still open");
        drop(second);
        assert!(!watchers.is_watched());

        watchers.looked();
        assert!(watchers.is_watched());
        tokio::time::advance(LOOKED_AT - Duration::from_secs(1)).await;
        assert!(watchers.is_watched());
        tokio::time::advance(Duration::from_secs(2)).await;
        assert!(!watchers.is_watched());
    }
}
