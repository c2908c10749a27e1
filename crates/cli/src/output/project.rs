//! Projects on a terminal: what `up` changed, each job's progress while it comes up, the
//! timings and critical chain, the merged output of `up -f`, and the list of projects.

use std::time::Duration;

use sentinel_proto::config::ImportPlan;
use sentinel_proto::project::timings::Timings;
use sentinel_proto::project::ProjectSummary;
use sentinel_proto::{
    DependencyState, HealthState, JobKind, JobSpec, JobState, JobStatus, LogLine, WaitReason,
};

use super::{exit_text, short_duration, Style};

/// Where a job is on its way up, as `up` shows it; a line is printed when it changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// The engine does not have it (removed meanwhile).
    Missing,
    Waiting(String),
    /// Waiting for a dependency that failed: it will not come up by itself.
    Blocked(String),
    Starting,
    /// A task at work.
    Running {
        pid: u32,
    },
    /// Running, its health check not yet passed.
    Checking {
        pid: u32,
    },
    Unhealthy,
    Retrying {
        attempt: u32,
        exit: Option<String>,
    },
    Ready {
        pid: Option<u32>,
        after: Option<Duration>,
    },
    Failed(String),
}

impl Progress {
    pub fn of(spec: &JobSpec, status: &JobStatus) -> Progress {
        let after = status
            .startup
            .and_then(|s| (s.ready_at? - s.started_at?).to_std().ok());
        match &status.state {
            JobState::Waiting {
                reason, message, ..
            } => match reason.as_ref() {
                WaitReason::Dependency {
                    now: DependencyState::Failed { .. } | DependencyState::Missing,
                    ..
                } => Progress::Blocked(message.clone()),
                _ => Progress::Waiting(message.clone()),
            },
            JobState::Starting | JobState::Stopping { .. } => Progress::Starting,
            JobState::Running { pid, .. } if spec.kind == JobKind::Task => {
                Progress::Running { pid: *pid }
            }
            JobState::Running { pid, .. } => match (&spec.health, status.health) {
                (None, _) | (Some(_), Some(HealthState::Healthy)) => Progress::Ready {
                    pid: Some(*pid),
                    after,
                },
                (Some(_), Some(HealthState::Unhealthy)) => Progress::Unhealthy,
                (Some(_), _) => Progress::Checking { pid: *pid },
            },
            JobState::Backoff { attempt, .. } => Progress::Retrying {
                attempt: *attempt,
                exit: status.last_exit.as_ref().map(|exit| exit.describe()),
            },
            JobState::Exited { .. } if spec.kind == JobKind::Task => {
                Progress::Ready { pid: None, after }
            }
            JobState::Exited { .. } => Progress::Failed(format!(
                "exited ({}) and is not restarted",
                status.last_exit.as_ref().map_or("?".into(), exit_text)
            )),
            JobState::Failed { reason, .. } => Progress::Failed(reason.clone()),
            JobState::Stopped => Progress::Failed("stopped".into()),
        }
    }
}

/// `shop.db      ready in 1.2s (pid 4242)`.
pub fn progress_line(name: &str, width: usize, progress: &Progress, style: &Style) -> String {
    let text = match progress {
        Progress::Missing => style.failing("no longer exists"),
        Progress::Waiting(message) => style.paint("33", message),
        Progress::Blocked(message) => style.failing(&format!("blocked: {message}")),
        Progress::Starting => style.paint("33", "starting"),
        Progress::Running { pid } => style.paint("33", &format!("running (pid {pid})")),
        Progress::Checking { pid } => style.paint(
            "33",
            &format!("running (pid {pid}), waiting for its health check"),
        ),
        Progress::Unhealthy => style.failing("unhealthy"),
        Progress::Retrying { attempt, exit } => style.failing(&format!(
            "crashed{}; retry {attempt}",
            exit.as_ref().map(|e| format!(" ({e})")).unwrap_or_default()
        )),
        Progress::Ready { pid, after } => {
            let mut text = String::from("ready");
            if let Some(after) = after {
                text.push_str(&format!(" in {}", short_duration(*after)));
            }
            if let Some(pid) = pid {
                text.push_str(&format!(" (pid {pid})"));
            }
            style.paint("32", &text)
        }
        Progress::Failed(reason) => style.failing(&format!("failed: {reason}")),
    };
    format!("  {name:<width$}  {text}")
}

/// What `up` changed: a line per added, updated or removed job.
pub fn project_plan(plan: &ImportPlan) -> String {
    let mut out = String::new();
    for (sign, verb, names) in [
        ("+", "added", &plan.add),
        ("~", "updated", &plan.update),
        ("-", "removed", &plan.remove),
    ] {
        for name in names {
            out.push_str(&format!("  {sign} {name} ({verb})\n"));
        }
    }
    if out.is_empty() && !plan.unchanged.is_empty() {
        out.push_str("  (no definition changed)\n");
    }
    out
}

/// Each job's wait, time to ready and when it was ready, then the critical chain.
pub fn timings_table(timings: &Timings, style: &Style) -> String {
    let width = timings
        .jobs
        .iter()
        .map(|job| job.name.len())
        .max()
        .unwrap_or(0)
        .max(3);
    let cell = |value: Option<Duration>| value.map_or("-".into(), short_duration);
    let mut out = format!(
        "\n{:<width$}  {:>8}  {:>8}  {:>8}\n",
        "JOB", "WAITED", "TO READY", "READY AT"
    );
    for job in &timings.jobs {
        out.push_str(&format!(
            "{:<width$}  {:>8}  {:>8}  {:>8}\n",
            job.name,
            cell(job.waited),
            cell(job.to_ready),
            job.ready_after
                .map_or("-".into(), |d| format!("+{}", short_duration(d))),
        ));
    }
    if !timings.chain.is_empty() {
        let links: Vec<String> = timings
            .chain
            .iter()
            .map(|name| {
                let job = timings.jobs.iter().find(|job| &job.name == name);
                match job.and_then(|job| job.ready_after) {
                    Some(after) => format!("{name} @+{}", short_duration(after)),
                    None => name.clone(),
                }
            })
            .collect();
        out.push_str(&format!(
            "{} {}\n",
            style.bold("critical chain:"),
            links.join(" → ")
        ));
    }
    out
}

/// The colours the merged output gives its jobs, in turn.
const JOB_COLOURS: &[&str] = &["36", "35", "34", "32", "33", "96", "95", "94"];

/// A line of `up -f`: the job's name in its colour, a bar, the line.
pub fn merged_line(
    index: usize,
    name: &str,
    width: usize,
    line: &LogLine,
    style: &Style,
) -> String {
    let colour = JOB_COLOURS[index % JOB_COLOURS.len()];
    let prefix = style.paint(colour, &format!("{name:<width$} |"));
    format!("{prefix} {}", super::log_line(line, false, style))
}

/// `sentinel stack` with no project: every project with its job count and file.
pub fn projects_table(projects: &[ProjectSummary]) -> String {
    if projects.is_empty() {
        return "No projects yet: `sentinel up` in a directory with a sentinel.toml creates one.\n"
            .into();
    }
    let width = projects
        .iter()
        .map(|p| p.name.len())
        .max()
        .unwrap_or(0)
        .max(7);
    let mut out = format!("{:<width$}  {:>4}  FILE\n", "PROJECT", "JOBS");
    for project in projects {
        out.push_str(&format!(
            "{:<width$}  {:>4}  {}\n",
            project.name,
            project.jobs.len(),
            project.file.display()
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use sentinel_proto::{Condition, ExitInfo, StartTimings};

    use super::*;

    fn status(state: JobState) -> JobStatus {
        JobStatus::new("shop.api", JobKind::Service, state)
    }

    #[test]
    fn progress_reads_the_state_and_the_health() {
        let mut spec = JobSpec::new("shop.api", "true");
        let running = status(JobState::Running {
            pid: 7,
            since: Utc::now(),
        });
        assert!(matches!(
            Progress::of(&spec, &running),
            Progress::Ready { pid: Some(7), .. }
        ));
        spec.health = Some(sentinel_proto::HealthCheck::new(
            sentinel_proto::monitor::Probe::Log("ready".into()),
        ));
        assert_eq!(Progress::of(&spec, &running), Progress::Checking { pid: 7 });
        let mut healthy = running.clone();
        healthy.health = Some(HealthState::Healthy);
        let now = Utc::now();
        healthy.startup = Some(StartTimings {
            requested_at: now,
            started_at: Some(now),
            ready_at: Some(now + chrono::Duration::milliseconds(1500)),
        });
        assert_eq!(
            Progress::of(&spec, &healthy),
            Progress::Ready {
                pid: Some(7),
                after: Some(Duration::from_millis(1500))
            }
        );
        let blocked = status(JobState::waiting(
            WaitReason::Dependency {
                job: "shop.db".into(),
                condition: Condition::Healthy,
                now: DependencyState::Failed {
                    reason: "exit code 1".into(),
                },
            },
            now,
        ));
        assert!(matches!(
            Progress::of(&spec, &blocked),
            Progress::Blocked(_)
        ));
        let mut task = JobSpec::new("shop.migrate", "true");
        task.kind = JobKind::Task;
        let mut done = status(JobState::Exited { since: now });
        done.last_exit = Some(ExitInfo {
            code: Some(0),
            signal: None,
            at: now,
            duration_ms: 5,
        });
        assert!(matches!(
            Progress::of(&task, &done),
            Progress::Ready { pid: None, .. }
        ));
        assert!(matches!(Progress::of(&spec, &done), Progress::Failed(_)));
    }

    #[test]
    fn lines_have_no_colour_when_piped() {
        let style = Style { colour: false };
        let line = progress_line(
            "shop.db",
            8,
            &Progress::Ready {
                pid: Some(42),
                after: Some(Duration::from_millis(1200)),
            },
            &style,
        );
        assert_eq!(line, "  shop.db   ready in 1.2s (pid 42)");
        let plan = ImportPlan {
            add: vec!["shop.db".into()],
            update: vec!["shop.api".into()],
            remove: vec!["shop.old".into()],
            ..Default::default()
        };
        assert_eq!(
            project_plan(&plan),
            "  + shop.db (added)\n  ~ shop.api (updated)\n  - shop.old (removed)\n"
        );
    }
}
