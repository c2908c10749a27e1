//! How a stack came up: each job's wait, its time from spawn to ready, and the critical chain
//! (like `systemd-analyze critical-chain`): the dependencies that, one after another, held up
//! the job that was ready last.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{JobSpec, JobStatus};

/// One job's latest start, relative to when the first of the stack was asked to start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobTiming {
    pub name: String,
    /// From the start being asked for to its process being spawned (waiting for dependencies).
    pub waited: Option<Duration>,
    /// From its process being spawned to it being ready.
    pub to_ready: Option<Duration>,
    /// From the stack's first start request to this job being ready.
    pub ready_after: Option<Duration>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timings {
    /// In the order the jobs became ready; those never ready last, by name.
    pub jobs: Vec<JobTiming>,
    /// The critical chain, first dependency first, ending with the job ready last.
    pub chain: Vec<String>,
}

fn between(from: Option<DateTime<Utc>>, to: Option<DateTime<Utc>>) -> Option<Duration> {
    (to? - from?).to_std().ok()
}

/// The timings of `jobs` (their dependencies from `specs`) from their statuses.
pub fn timings(specs: &[JobSpec], statuses: &[JobStatus]) -> Timings {
    let by_name: BTreeMap<&str, &JobStatus> = statuses
        .iter()
        .filter(|status| specs.iter().any(|spec| spec.name == status.name))
        .map(|status| (status.name.as_str(), status))
        .collect();
    let first = by_name
        .values()
        .filter_map(|status| status.startup.map(|s| s.requested_at))
        .min();
    // A job failing now is not ready, whatever its latest start once reached.
    let ready = |status: &JobStatus| {
        let ready_at = status.startup?.ready_at?;
        (status.glance() != crate::status::Glance::Failing).then_some(ready_at)
    };
    let ready_at = |name: &str| by_name.get(name).and_then(|s| ready(s));
    let mut jobs: Vec<JobTiming> = by_name
        .values()
        .map(|status| {
            let startup = status.startup;
            JobTiming {
                name: status.name.clone(),
                waited: between(
                    startup.map(|s| s.requested_at),
                    startup.and_then(|s| s.started_at),
                ),
                to_ready: between(startup.and_then(|s| s.started_at), ready(status)),
                ready_after: between(first, ready(status)),
            }
        })
        .collect();
    jobs.sort_by(|a, b| match (a.ready_after, b.ready_after) {
        (Some(x), Some(y)) => x.cmp(&y).then_with(|| a.name.cmp(&b.name)),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.name.cmp(&b.name),
    });
    let mut chain = Vec::new();
    let mut current = jobs
        .iter()
        .rev()
        .find(|job| job.ready_after.is_some())
        .map(|job| job.name.clone());
    while let Some(name) = current.take() {
        if chain.contains(&name) {
            break;
        }
        let spec = specs.iter().find(|spec| spec.name == name);
        current = spec.and_then(|spec| {
            spec.depends_on
                .iter()
                .filter_map(|dependency| Some((ready_at(&dependency.job)?, &dependency.job)))
                .max()
                .map(|(_, job)| job.clone())
        });
        chain.push(name);
    }
    chain.reverse();
    Timings { jobs, chain }
}

#[cfg(test)]
mod tests {
    use super::timings as timings_of;
    use super::*;
    use crate::{Dependency, JobKind, JobState, StartTimings};

    fn at(ms: i64) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(1_700_000_000_000 + ms).unwrap()
    }

    fn status(name: &str, requested: i64, started: i64, ready: Option<i64>) -> JobStatus {
        let mut status = JobStatus::new(name, JobKind::Service, JobState::Stopped);
        status.startup = Some(StartTimings {
            requested_at: at(requested),
            started_at: Some(at(started)),
            ready_at: ready.map(at),
        });
        status
    }

    fn spec(name: &str, deps: &[&str]) -> JobSpec {
        let mut spec = JobSpec::new(name, "true");
        spec.depends_on = deps.iter().map(|d| Dependency::on(*d)).collect();
        spec
    }

    #[test]
    fn the_chain_follows_the_latest_dependency() {
        let specs = [
            spec("db", &[]),
            spec("cache", &[]),
            spec("migrate", &["db"]),
            spec("api", &["migrate", "cache"]),
            spec("broken", &[]),
        ];
        let statuses = [
            status("db", 0, 5, Some(1200)),
            status("cache", 0, 5, Some(100)),
            status("migrate", 0, 1200, Some(1500)),
            status("api", 0, 1500, Some(1800)),
            status("broken", 0, 5, None),
        ];
        let mut failed = status("cache", 0, 5, Some(100));
        failed.state = JobState::Failed {
            reason: "exit code 1".into(),
            since: at(200),
        };
        let with_failed = timings_of(&specs, &[failed]);
        assert_eq!(
            with_failed.jobs[0].to_ready, None,
            "a failing job is not ready"
        );
        let timings = timings_of(&specs, &statuses);
        assert_eq!(timings.chain, ["db", "migrate", "api"]);
        let names: Vec<&str> = timings.jobs.iter().map(|j| j.name.as_str()).collect();
        assert_eq!(names, ["cache", "db", "migrate", "api", "broken"]);
        let api = &timings.jobs[3];
        assert_eq!(api.waited, Some(Duration::from_millis(1500)));
        assert_eq!(api.to_ready, Some(Duration::from_millis(300)));
        assert_eq!(api.ready_after, Some(Duration::from_millis(1800)));
        assert_eq!(timings.jobs[4].ready_after, None);
    }

    #[test]
    fn nothing_ready_is_no_chain() {
        let timings = timings_of(&[spec("a", &[])], &[status("a", 0, 5, None)]);
        assert!(timings.chain.is_empty());
        assert_eq!(timings.jobs.len(), 1);
    }
}
