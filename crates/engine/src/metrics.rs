//! Prometheus metrics. Counters (runs, restarts, CPU time, schedule lateness) are fed by the
//! events as they are published; gauges (up, state, memory, health, last exit code) are read
//! from the engine's current statuses when the metrics are rendered, so they always match
//! what the API says.

use std::sync::Mutex;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::Registry;
use sentinel_proto::{EngineEvent, EventEnvelope, HealthState, JobState, JobStatus, Trigger};
use std::collections::HashMap;
use std::sync::atomic::AtomicU64;

/// The content type of what `render` returns.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct JobLabel {
    job: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    job: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabels {
    job: String,
    state: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct VersionLabel {
    version: String,
}

const STATES: [&str; 8] = [
    "stopped", "starting", "running", "stopping", "backoff", "failed", "exited", "waiting",
];
const HEALTH: [HealthState; 3] = [
    HealthState::Unknown,
    HealthState::Healthy,
    HealthState::Unhealthy,
];

pub(crate) struct Metrics {
    runs: Family<OutcomeLabels, Counter>,
    restarts: Family<JobLabel, Counter>,
    cpu_seconds: Family<JobLabel, Counter<f64, AtomicU64>>,
    lateness: Histogram,
    /// The CPU seconds already counted per job, to add only what is new.
    cpu_seen: Mutex<HashMap<String, f64>>,
}

impl Metrics {
    pub fn new() -> Metrics {
        Metrics {
            runs: Family::default(),
            restarts: Family::default(),
            cpu_seconds: Family::default(),
            // 1 ms to about 33 s.
            lateness: Histogram::new(prometheus_client::metrics::histogram::exponential_buckets(
                0.001, 2.0, 16,
            )),
            cpu_seen: Mutex::new(HashMap::new()),
        }
    }

    /// Counts what an event says; called for every event as it is published.
    pub fn observe(&self, envelope: &EventEnvelope) {
        match &envelope.event {
            EngineEvent::RunExited { job, outcome, .. } => {
                self.runs
                    .get_or_create(&OutcomeLabels {
                        job: job.clone(),
                        outcome: outcome.as_str().into(),
                    })
                    .inc();
            }
            EngineEvent::SpawnFailed { job, .. } => {
                self.runs
                    .get_or_create(&OutcomeLabels {
                        job: job.clone(),
                        outcome: "spawn_failed".into(),
                    })
                    .inc();
            }
            EngineEvent::RunStarted {
                job,
                trigger,
                scheduled_at,
                ..
            } => {
                if is_restart(*trigger) {
                    self.restarts
                        .get_or_create(&JobLabel { job: job.clone() })
                        .inc();
                }
                if let (Trigger::Schedule, Some(scheduled_at)) = (trigger, scheduled_at) {
                    let late = (envelope.at - *scheduled_at)
                        .num_microseconds()
                        .unwrap_or(0);
                    self.lateness.observe(late.max(0) as f64 / 1e6);
                }
            }
            EngineEvent::ResourcesSampled { samples } => {
                let mut seen = self.cpu_seen.lock().unwrap_or_else(|p| p.into_inner());
                for sample in samples {
                    let total = sample.sample.cpu_seconds;
                    let before = seen.insert(sample.job.clone(), total).unwrap_or(0.0);
                    let new = if total >= before {
                        total - before
                    } else {
                        total
                    };
                    // Created at the first sample, so an idle job shows 0 rather than nothing.
                    let counter = self.cpu_seconds.get_or_create(&JobLabel {
                        job: sample.job.clone(),
                    });
                    if new > 0.0 {
                        counter.inc_by(new);
                    }
                }
            }
            EngineEvent::JobRemoved { job } => self.forget(job),
            _ => {}
        }
    }

    fn forget(&self, job: &str) {
        let label = JobLabel { job: job.into() };
        self.restarts.remove(&label);
        self.cpu_seconds.remove(&label);
        self.cpu_seen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(job);
        for outcome in [
            "success",
            "failure",
            "stopped",
            "spawn_failed",
            "interrupted",
        ] {
            self.runs.remove(&OutcomeLabels {
                job: job.into(),
                outcome: outcome.into(),
            });
        }
    }

    /// The text exposition of everything, with the gauges taken from `statuses` and the
    /// store's backlog of unwritten records.
    pub fn render(&self, statuses: &[JobStatus], store_backlog: usize) -> String {
        let mut registry = Registry::with_prefix("sentinel");
        registry.register(
            "build",
            "SentinelZero engine build",
            Info::new(VersionLabel {
                version: env!("CARGO_PKG_VERSION").into(),
            }),
        );
        let jobs: Gauge = Gauge::default();
        jobs.set(statuses.len() as i64);
        registry.register("jobs", "Jobs defined", jobs);
        let backlog: Gauge = Gauge::default();
        backlog.set(i64::try_from(store_backlog).unwrap_or(i64::MAX));
        registry.register(
            "store_backlog",
            "Runs and events not yet written to the database (grows while it refuses writes)",
            backlog,
        );

        let up = Family::<JobLabel, Gauge>::default();
        let state = Family::<StateLabels, Gauge>::default();
        let health = Family::<StateLabels, Gauge>::default();
        let memory = Family::<JobLabel, Gauge>::default();
        let processes = Family::<JobLabel, Gauge>::default();
        let cpu_percent = Family::<JobLabel, Gauge<f64, AtomicU64>>::default();
        let last_exit = Family::<JobLabel, Gauge>::default();
        for status in statuses {
            let job = JobLabel {
                job: status.name.clone(),
            };
            let running = matches!(status.state, JobState::Running { .. });
            up.get_or_create(&job).set(i64::from(running));
            for name in STATES {
                state
                    .get_or_create(&StateLabels {
                        job: status.name.clone(),
                        state: name.into(),
                    })
                    .set(i64::from(status.state.name() == name));
            }
            if let Some(verdict) = status.health {
                for candidate in HEALTH {
                    health
                        .get_or_create(&StateLabels {
                            job: status.name.clone(),
                            state: candidate.as_str().into(),
                        })
                        .set(i64::from(verdict == candidate));
                }
            }
            if let Some(sample) = &status.resources {
                memory
                    .get_or_create(&job)
                    .set(i64::try_from(sample.memory_bytes).unwrap_or(i64::MAX));
                processes
                    .get_or_create(&job)
                    .set(i64::from(sample.processes));
                cpu_percent.get_or_create(&job).set(sample.cpu_percent);
            }
            if let Some(exit) = &status.last_exit {
                // A death by signal N reads as 128 + N, as shells report it.
                let code = exit.code.or(exit.signal.map(|s| 128 + s));
                if let Some(code) = code {
                    last_exit.get_or_create(&job).set(i64::from(code));
                }
            }
        }
        registry.register("job_up", "1 when the job's process is running", up);
        registry.register(
            "job_state",
            "1 for the job's current state, 0 for the others",
            state,
        );
        registry.register(
            "job_health",
            "1 for the health check's current verdict (jobs with a check only)",
            health,
        );
        registry.register(
            "job_memory_bytes",
            "Resident memory of the job's processes",
            memory,
        );
        registry.register("job_processes", "Processes in the job's group", processes);
        registry.register(
            "job_cpu_percent",
            "CPU use over the last sampling interval, percent of one core",
            cpu_percent,
        );
        registry.register(
            "job_last_exit_code",
            "Exit code of the job's last run (128 + N for signal N)",
            last_exit,
        );
        registry.register("job_runs", "Runs that ended, by outcome", self.runs.clone());
        registry.register(
            "job_restarts",
            "Restarts by the restart policy, a user, a schedule or a watchdog",
            self.restarts.clone(),
        );
        registry.register(
            "job_cpu_seconds",
            "CPU time used by the job's processes",
            self.cpu_seconds.clone(),
        );
        registry.register(
            "schedule_lateness_seconds",
            "Time from a scheduled fire time to the start of its run",
            self.lateness.clone(),
        );
        let mut text = String::with_capacity(256 * statuses.len().max(16));
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &registry);
        text
    }
}

fn is_restart(trigger: Trigger) -> bool {
    matches!(
        trigger,
        Trigger::Retry
            | Trigger::Restart
            | Trigger::Recovery
            | Trigger::MemoryLimit
            | Trigger::HealthCheck
    )
}
