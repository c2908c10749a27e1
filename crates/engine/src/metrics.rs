//! Prometheus metrics. Counters (runs, restarts, CPU time, schedule lateness) are fed by the
//! events as they are published; gauges (up, state, memory, health, last exit code) are read
//! from the engine's current statuses when the metrics are rendered, so they always match
//! what the API says.

use std::sync::Mutex;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{
    DescriptorEncoder, EncodeGaugeValue, EncodeLabelSet, EncodeMetric,
};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::metrics::info::Info;
use prometheus_client::metrics::MetricType;
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
    pub fn render(&self, statuses: Vec<JobStatus>, store_backlog: usize) -> String {
        let mut registry = Registry::with_prefix("sentinel");
        registry.register(
            "build",
            "SentinelZero engine build",
            Info::new(VersionLabel {
                version: env!("CARGO_PKG_VERSION").into(),
            }),
        );
        let jobs_defined = statuses.len();
        let jobs: Gauge = Gauge::default();
        jobs.set(i64::try_from(jobs_defined).unwrap_or(i64::MAX));
        registry.register("jobs", "Jobs defined", jobs);
        let backlog: Gauge = Gauge::default();
        backlog.set(i64::try_from(store_backlog).unwrap_or(i64::MAX));
        registry.register(
            "store_backlog",
            "Runs and events not yet written to the database (grows while it refuses writes)",
            backlog,
        );

        registry.register_collector(Box::new(JobGauges(statuses)));
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
        let mut text = String::with_capacity(256 * jobs_defined.max(16));
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &registry);
        text
    }
}

/// The gauges of every job, read from its status at a scrape and written straight out: no map
/// of label sets is built and hashed per scrape, which with 500 jobs was most of its cost.
#[derive(Debug)]
struct JobGauges(Vec<JobStatus>);

impl Collector for JobGauges {
    fn encode(&self, mut encoder: DescriptorEncoder) -> std::fmt::Result {
        let jobs = &self.0;
        gauges(
            &mut encoder,
            "job_up",
            "1 when the job's process is running.",
            jobs.iter().map(|status| {
                let running = matches!(status.state, JobState::Running { .. });
                (job(status), i64::from(running))
            }),
        )?;
        gauges(
            &mut encoder,
            "job_state",
            "1 for the job's current state, 0 for the others.",
            jobs.iter().flat_map(|status| {
                let now = status.state.name();
                STATES.iter().map(move |&state| {
                    let labels = [("job", status.name.as_str()), ("state", state)];
                    (labels, i64::from(now == state))
                })
            }),
        )?;
        gauges(
            &mut encoder,
            "job_health",
            "1 for the health check's current verdict (jobs with a check only).",
            jobs.iter().flat_map(|status| {
                status.health.into_iter().flat_map(move |verdict| {
                    HEALTH.iter().map(move |&candidate| {
                        let labels = [("job", status.name.as_str()), ("state", candidate.as_str())];
                        (labels, i64::from(verdict == candidate))
                    })
                })
            }),
        )?;
        let sampled = || {
            jobs.iter()
                .filter_map(|status| Some((job(status), status.resources.as_ref()?)))
        };
        gauges(
            &mut encoder,
            "job_memory_bytes",
            "Resident memory of the job's processes.",
            sampled().map(|(labels, sample)| {
                (
                    labels,
                    i64::try_from(sample.memory_bytes).unwrap_or(i64::MAX),
                )
            }),
        )?;
        gauges(
            &mut encoder,
            "job_processes",
            "Processes in the job's group.",
            sampled().map(|(labels, sample)| (labels, i64::from(sample.processes))),
        )?;
        gauges(
            &mut encoder,
            "job_cpu_percent",
            "CPU use over the last sampling interval, percent of one core.",
            sampled().map(|(labels, sample)| (labels, sample.cpu_percent)),
        )?;
        gauges(
            &mut encoder,
            "job_last_exit_code",
            "Exit code of the job's last run (128 + N for signal N).",
            jobs.iter().filter_map(|status| {
                let exit = status.last_exit.as_ref()?;
                // A death by signal N reads as 128 + N, as shells report it (an exit read back
                // from the database may hold any number: checked).
                let code = exit
                    .code
                    .or(exit.signal.and_then(|signal| signal.checked_add(128)))?;
                Some((job(status), i64::from(code)))
            }),
        )
    }
}

/// A job's own label.
fn job(status: &JobStatus) -> [(&'static str, &str); 1] {
    [("job", status.name.as_str())]
}

/// One gauge family from its samples; a family with none is left out, as the registry leaves
/// out an empty one.
fn gauges<L: EncodeLabelSet, V: EncodeGaugeValue>(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    samples: impl Iterator<Item = (L, V)>,
) -> std::fmt::Result {
    let mut samples = samples.peekable();
    if samples.peek().is_none() {
        return Ok(());
    }
    let mut family = encoder.encode_descriptor(name, help, None, MetricType::Gauge)?;
    for (labels, value) in samples {
        ConstGauge::new(value).encode(family.encode_family(&labels)?)?;
    }
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use sentinel_proto::monitor::ResourceSample;
    use sentinel_proto::status::ExitInfo;
    use sentinel_proto::JobKind;

    fn status(name: &str, state: JobState) -> JobStatus {
        JobStatus::new(name, JobKind::Service, state)
    }

    /// The exposition's lines for one metric name, in order.
    fn lines<'a>(text: &'a str, metric: &str) -> Vec<&'a str> {
        let prefix = format!("sentinel_{metric}");
        text.lines()
            .filter(|line| {
                line.strip_prefix(&prefix)
                    .is_some_and(|rest| rest.starts_with('{') || rest.starts_with(' '))
                    || line.starts_with(&format!("# HELP {prefix} "))
                    || line.starts_with(&format!("# TYPE {prefix} "))
            })
            .collect()
    }

    #[test]
    fn the_gauges_follow_the_statuses_and_leave_out_families_with_no_job() {
        let mut web = status(
            "web",
            JobState::Running {
                pid: 7,
                since: Utc::now(),
            },
        );
        web.health = Some(HealthState::Healthy);
        web.resources = Some(ResourceSample {
            at: Utc::now(),
            cpu_percent: 12.5,
            memory_bytes: 4096,
            processes: 2,
            disk_read_bytes: 0,
            disk_written_bytes: 0,
            cpu_seconds: 1.0,
        });
        let mut batch = status(
            "batch",
            JobState::Failed {
                reason: "killed".into(),
                since: Utc::now(),
            },
        );
        batch.last_exit = Some(ExitInfo {
            code: None,
            signal: Some(9),
            at: Utc::now(),
            duration_ms: 5,
        });
        let text = Metrics::new().render(vec![web, batch], 3);

        assert_eq!(
            lines(&text, "job_up"),
            [
                "# HELP sentinel_job_up 1 when the job's process is running.",
                "# TYPE sentinel_job_up gauge",
                "sentinel_job_up{job=\"web\"} 1",
                "sentinel_job_up{job=\"batch\"} 0",
            ]
        );
        let states = lines(&text, "job_state");
        assert_eq!(states.len(), 2 + 2 * STATES.len(), "{states:?}");
        assert!(states.contains(&"sentinel_job_state{job=\"web\",state=\"running\"} 1"));
        assert!(states.contains(&"sentinel_job_state{job=\"web\",state=\"failed\"} 0"));
        assert!(states.contains(&"sentinel_job_state{job=\"batch\",state=\"failed\"} 1"));
        assert_eq!(
            lines(&text, "job_health")[2..],
            [
                "sentinel_job_health{job=\"web\",state=\"unknown\"} 0",
                "sentinel_job_health{job=\"web\",state=\"healthy\"} 1",
                "sentinel_job_health{job=\"web\",state=\"unhealthy\"} 0",
            ]
        );
        assert_eq!(
            lines(&text, "job_memory_bytes")[2..],
            ["sentinel_job_memory_bytes{job=\"web\"} 4096"]
        );
        assert_eq!(
            lines(&text, "job_processes")[2..],
            ["sentinel_job_processes{job=\"web\"} 2"]
        );
        assert_eq!(
            lines(&text, "job_cpu_percent")[2..],
            ["sentinel_job_cpu_percent{job=\"web\"} 12.5"]
        );
        // Killed by signal 9 reads as 137.
        assert_eq!(
            lines(&text, "job_last_exit_code")[2..],
            ["sentinel_job_last_exit_code{job=\"batch\"} 137"]
        );
        assert_eq!(lines(&text, "jobs")[2..], ["sentinel_jobs 2"]);
        assert_eq!(
            lines(&text, "store_backlog")[2..],
            ["sentinel_store_backlog 3"]
        );
        assert!(text.ends_with("# EOF\n"), "{text}");

        // No job sampled or checked, and an exit no shell could report (a signal past
        // i32::MAX - 128, as a database could hold): those families are not there at all.
        let mut odd = status("odd", JobState::Stopped);
        odd.last_exit = Some(ExitInfo {
            code: None,
            signal: Some(i32::MAX),
            at: Utc::now(),
            duration_ms: 0,
        });
        let quiet = Metrics::new().render(vec![status("idle", JobState::Stopped), odd], 0);
        for empty in [
            "job_health",
            "job_memory_bytes",
            "job_processes",
            "job_cpu_percent",
            "job_last_exit_code",
        ] {
            assert_eq!(lines(&quiet, empty), Vec::<&str>::new(), "{empty}");
        }
        assert_eq!(
            lines(&quiet, "job_up")[2..],
            [
                "sentinel_job_up{job=\"idle\"} 0",
                "sentinel_job_up{job=\"odd\"} 0"
            ]
        );
    }
}
