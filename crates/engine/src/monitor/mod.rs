//! Watching running jobs: resource sampling (and the memory limit) and health checks.

mod health;
mod members;
#[cfg(target_os = "linux")]
mod procfiles;
mod sampler;
mod watch;

pub(crate) use health::{spawn_health_check, HealthReport, HealthTask, ProbeEnv, RunOutput};
pub(crate) use sampler::{spawn_sampler, DueFilter, SampleTarget};
pub(crate) use watch::Watchers;
pub use watch::Watching;

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};
use sentinel_proto::monitor::{HistoryPoint, ResourceHistory};
use sentinel_proto::settings::MonitorSettings;
use sentinel_proto::ResourceSample;

/// The newest sample of each job and a bounded history for sparklines, shared by the sampler
/// (which writes) and everyone who reports a status (who read).
pub(crate) struct ResourceBook {
    settings: MonitorSettings,
    jobs: RwLock<HashMap<String, JobResources>>,
    /// Who looks at the figures, which sets how often they are taken.
    pub watchers: Arc<Watchers>,
}

#[derive(Default)]
struct JobResources {
    /// `None` once the job stopped running.
    latest: Option<ResourceSample>,
    history: VecDeque<CompactPoint>,
}

/// 24 bytes per point: a job keeps up to 900 of them by default.
#[derive(Clone, Copy)]
struct CompactPoint {
    at_ms: i64,
    cpu_percent: f32,
    processes: u32,
    memory_bytes: u64,
}

impl ResourceBook {
    pub fn new(settings: MonitorSettings) -> ResourceBook {
        ResourceBook {
            settings,
            jobs: RwLock::new(HashMap::new()),
            watchers: Watchers::new(),
        }
    }

    pub fn settings(&self) -> &MonitorSettings {
        &self.settings
    }

    pub fn latest(&self, job: &str) -> Option<ResourceSample> {
        let jobs = self.jobs.read().unwrap_or_else(|p| p.into_inner());
        jobs.get(job).and_then(|r| r.latest.clone())
    }

    pub fn history(&self, job: &str) -> ResourceHistory {
        let jobs = self.jobs.read().unwrap_or_else(|p| p.into_inner());
        let samples = jobs
            .get(job)
            .map(|r| {
                r.history
                    .iter()
                    .map(|p| HistoryPoint {
                        at: DateTime::from_timestamp_millis(p.at_ms).unwrap_or_default(),
                        cpu_percent: f64::from(p.cpu_percent),
                        memory_bytes: p.memory_bytes,
                        processes: p.processes,
                    })
                    .collect()
            })
            .unwrap_or_default();
        ResourceHistory {
            job: job.to_string(),
            interval_ms: self.settings.sample_interval.as_millis() as u64,
            samples,
        }
    }

    /// Records one tick's samples (of the running jobs that were due); a running job not
    /// sampled this time keeps its last figures, and a run that ends clears them
    /// ([`ResourceBook::clear_latest`]).
    pub fn record(&self, samples: &[(String, ResourceSample)], now: DateTime<Utc>) {
        let limit = self.settings.history_len().max(1);
        let mut jobs = self.jobs.write().unwrap_or_else(|p| p.into_inner());
        for (job, sample) in samples {
            let resources = jobs.entry(job.clone()).or_default();
            if resources.history.len() >= limit {
                resources.history.pop_front();
            }
            resources.history.push_back(CompactPoint {
                at_ms: now.timestamp_millis(),
                cpu_percent: sample.cpu_percent as f32,
                processes: sample.processes,
                memory_bytes: sample.memory_bytes,
            });
            resources.latest = Some(sample.clone());
        }
    }

    /// The job stopped: no current figures, history kept.
    pub fn clear_latest(&self, job: &str) {
        let mut jobs = self.jobs.write().unwrap_or_else(|p| p.into_inner());
        if let Some(resources) = jobs.get_mut(job) {
            resources.latest = None;
        }
    }

    pub fn is_known(&self, job: &str) -> bool {
        let jobs = self.jobs.read().unwrap_or_else(|p| p.into_inner());
        jobs.contains_key(job)
    }

    pub fn forget(&self, job: &str) {
        let mut jobs = self.jobs.write().unwrap_or_else(|p| p.into_inner());
        jobs.remove(job);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn sample(memory_bytes: u64) -> ResourceSample {
        ResourceSample {
            at: Utc::now(),
            cpu_percent: 50.0,
            memory_bytes,
            processes: 1,
            disk_read_bytes: 0,
            disk_written_bytes: 0,
            cpu_seconds: 1.0,
        }
    }

    #[test]
    fn history_is_bounded_and_latest_lasts_until_the_run_ends() {
        let book = ResourceBook::new(MonitorSettings {
            sample_interval: Duration::from_secs(1),
            history: Duration::from_secs(3),
            ..MonitorSettings::default()
        });
        for memory in 1..=5 {
            book.record(&[("a".into(), sample(memory))], Utc::now());
        }
        let history = book.history("a");
        assert_eq!(history.interval_ms, 1000);
        let memory: Vec<u64> = history.samples.iter().map(|p| p.memory_bytes).collect();
        assert_eq!(memory, [3, 4, 5]);
        assert_eq!(book.latest("a").unwrap().memory_bytes, 5);

        // A tick that did not sample the running job keeps its figures.
        book.record(&[("b".into(), sample(1))], Utc::now());
        assert_eq!(book.latest("a").unwrap().memory_bytes, 5);
        // The run ended: no current figures, but its history stays.
        book.clear_latest("a");
        assert!(book.latest("a").is_none());
        assert_eq!(book.history("a").samples.len(), 3);
        book.forget("a");
        assert!(book.history("a").samples.is_empty());
    }
}
