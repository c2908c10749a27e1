//! What the tray says at a glance: the verdict and tooltip over the jobs of every engine, and
//! the order its menu lists them in. Plain functions of the statuses, tested without a display.

use sentinel_proto::{JobState, JobStatus};

use crate::remote::{Link, RemoteView};

/// The tray's verdict is the worst of its jobs', by the engine's one rule.
pub use sentinel_proto::status::Glance;

/// What the tray shows for these jobs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub glance: Glance,
    pub tooltip: String,
}

fn is_failing(job: &JobStatus) -> bool {
    job.glance() == Glance::Failing
}

fn is_busy(job: &JobStatus) -> bool {
    job.glance() == Glance::Busy
}

fn is_running(job: &JobStatus) -> bool {
    matches!(job.state, JobState::Running { .. })
}

/// Up to three names, then how many more.
fn some_names(names: &[&str]) -> String {
    let mut text = names.iter().take(3).copied().collect::<Vec<_>>().join(", ");
    if names.len() > 3 {
        text.push_str(&format!(" and {} more", names.len() - 3));
    }
    text
}

pub fn summarize(jobs: &[JobStatus]) -> Summary {
    let failing: Vec<&str> = jobs
        .iter()
        .filter(|j| is_failing(j))
        .map(|j| j.name.as_str())
        .collect();
    let busy = jobs.iter().filter(|j| is_busy(j)).count();
    let running = jobs.iter().filter(|j| is_running(j)).count();
    let (glance, tooltip) = if !failing.is_empty() {
        let names = some_names(&failing);
        (Glance::Failing, format!("SentinelZero: {names} failing"))
    } else if busy > 0 {
        (
            Glance::Busy,
            format!("SentinelZero: {busy} starting, stopping or waiting, {running} running"),
        )
    } else if jobs.is_empty() {
        (Glance::Fine, "SentinelZero: no jobs yet".to_string())
    } else {
        (
            Glance::Fine,
            format!(
                "SentinelZero: all fine, {running} of {} running",
                jobs.len()
            ),
        )
    };
    Summary { glance, tooltip }
}

/// What the tray shows for this machine's jobs and the remote engines': the worst of them all.
/// Trouble on a remote names the engine ("2 failing on build-box", "build-box unreachable");
/// an engine that cannot be reached counts as failing, since what it runs cannot be seen.
pub fn summarize_engines(local: &[JobStatus], remotes: &[RemoteView]) -> Summary {
    if remotes.is_empty() {
        return summarize(local);
    }
    let mut trouble: Vec<String> = Vec::new();
    let local_failing: Vec<&str> = local
        .iter()
        .filter(|j| is_failing(j))
        .map(|j| j.name.as_str())
        .collect();
    if !local_failing.is_empty() {
        trouble.push(format!("{} failing", some_names(&local_failing)));
    }
    let mut connecting: Vec<&str> = Vec::new();
    let (mut busy, mut running, mut total) = (0, 0, 0);
    let mut count = |jobs: &[JobStatus]| {
        busy += jobs.iter().filter(|j| is_busy(j)).count();
        running += jobs.iter().filter(|j| is_running(j)).count();
        total += jobs.len();
    };
    count(local);
    for remote in remotes {
        let engine = remote.context.name.as_str();
        match &remote.link {
            Link::Connecting { .. } => connecting.push(engine),
            Link::Unreachable { .. } => trouble.push(format!("{engine} unreachable")),
            Link::Connected { jobs, .. } => {
                let failing: Vec<&str> = jobs
                    .iter()
                    .filter(|j| is_failing(j))
                    .map(|j| j.name.as_str())
                    .collect();
                match failing.as_slice() {
                    [] => {}
                    [one] => trouble.push(format!("{one} failing on {engine}")),
                    many => trouble.push(format!("{} failing on {engine}", many.len())),
                }
                count(jobs);
            }
        }
    }
    if !trouble.is_empty() {
        let shown = trouble.len().min(3);
        let mut tooltip = format!("SentinelZero: {}", trouble[..shown].join("; "));
        if trouble.len() > shown {
            tooltip.push_str(&format!("; and {} more", trouble.len() - shown));
        }
        return Summary {
            glance: Glance::Failing,
            tooltip,
        };
    }
    let mut parts = Vec::new();
    if busy > 0 {
        parts.push(format!(
            "{busy} starting, stopping or waiting, {running} running"
        ));
    }
    if !connecting.is_empty() {
        parts.push(format!("connecting to {}", some_names(&connecting)));
    }
    if !parts.is_empty() {
        return Summary {
            glance: Glance::Busy,
            tooltip: format!("SentinelZero: {}", parts.join("; ")),
        };
    }
    Summary {
        glance: Glance::Fine,
        tooltip: format!(
            "SentinelZero: all fine, {running} of {total} running on {} engines",
            remotes.len() + 1
        ),
    }
}

/// Jobs in menu order: failing, then busy (starting, stopping, waiting), then the rest, by name.
pub fn menu_order(jobs: &[JobStatus]) -> Vec<&JobStatus> {
    let mut ordered: Vec<&JobStatus> = jobs.iter().collect();
    ordered.sort_by_key(|job| (job.glance(), job.name.clone()));
    ordered
}

#[cfg(test)]
mod tests {
    use super::*;
    use sentinel_proto::HealthState;
    use sentinel_proto::{Condition, DependencyState, JobKind, WaitReason};

    pub(super) fn job(name: &str, state: JobState) -> JobStatus {
        JobStatus::new(name, JobKind::Service, state)
    }

    pub(super) fn running(name: &str) -> JobStatus {
        job(
            name,
            JobState::Running {
                pid: 1,
                since: chrono::Utc::now(),
            },
        )
    }

    pub(super) fn failed(name: &str) -> JobStatus {
        job(
            name,
            JobState::Failed {
                reason: "x".into(),
                since: chrono::Utc::now(),
            },
        )
    }

    #[test]
    fn the_glance_says_the_worst() {
        assert_eq!(summarize(&[]).tooltip, "SentinelZero: no jobs yet");
        let fine = summarize(&[running("a"), job("b", JobState::Stopped)]);
        assert_eq!(fine.glance, Glance::Fine);
        assert_eq!(fine.tooltip, "SentinelZero: all fine, 1 of 2 running");
        let busy = summarize(&[running("a"), job("b", JobState::Starting)]);
        assert_eq!(busy.glance, Glance::Busy);
        let waiting = summarize(&[
            running("a"),
            job(
                "b",
                JobState::waiting(
                    WaitReason::Dependency {
                        job: "a".into(),
                        condition: Condition::Healthy,
                        now: DependencyState::Starting,
                    },
                    chrono::Utc::now(),
                ),
            ),
        ]);
        assert_eq!(
            waiting.tooltip,
            "SentinelZero: 1 starting, stopping or waiting, 1 running"
        );
        let mut sick = running("c");
        sick.health = Some(HealthState::Unhealthy);
        let failing = summarize(&[
            failed("a"),
            job("b", JobState::Starting),
            sick,
            failed("d"),
            failed("e"),
        ]);
        assert_eq!(failing.glance, Glance::Failing);
        assert_eq!(failing.tooltip, "SentinelZero: a, c, d and 1 more failing");
        // Retrying after a crash is failing, as the popover and the CLI say too.
        let retrying = summarize(&[
            running("a"),
            job(
                "b",
                JobState::Backoff {
                    next_try_at: chrono::Utc::now(),
                    attempt: 1,
                },
            ),
        ]);
        assert_eq!(retrying.glance, Glance::Failing);
        assert_eq!(retrying.tooltip, "SentinelZero: b failing");
    }

    #[test]
    fn the_menu_lists_failing_jobs_first() {
        let jobs = [
            running("alpha"),
            failed("zulu"),
            job("mike", JobState::Starting),
            running("bravo"),
        ];
        let names: Vec<&str> = menu_order(&jobs).iter().map(|j| j.name.as_str()).collect();
        assert_eq!(names, ["zulu", "mike", "alpha", "bravo"]);
    }
}

#[cfg(test)]
mod engines_tests {
    use super::tests::{failed, job, running};
    use super::*;
    use crate::remote::EngineProblem;
    use sentinel_proto::remote::EngineContext;

    fn remote(name: &str, link: Link) -> RemoteView {
        RemoteView {
            context: EngineContext {
                name: name.into(),
                host: format!("ssh://{name}"),
                description: String::new(),
                sentinel: None,
            },
            link,
        }
    }

    fn connected(name: &str, jobs: Vec<JobStatus>) -> RemoteView {
        remote(
            name,
            Link::Connected {
                version: "1".into(),
                since: chrono::Utc::now(),
                jobs,
            },
        )
    }

    fn unreachable(name: &str) -> RemoteView {
        remote(
            name,
            Link::Unreachable {
                problem: EngineProblem::new("unreachable", "Connection refused"),
                since: chrono::Utc::now(),
                next_try_at: chrono::Utc::now(),
                attempt: 1,
            },
        )
    }

    #[test]
    fn without_remotes_the_tray_reads_as_before() {
        let local = [running("a"), failed("b")];
        assert_eq!(summarize_engines(&local, &[]), summarize(&local));
    }

    #[test]
    fn the_worst_engine_wins_and_remote_trouble_names_its_engine() {
        let local = [running("web")];
        let fine = summarize_engines(
            &local,
            &[connected(
                "build-box",
                vec![running("ci"), job("old", JobState::Stopped)],
            )],
        );
        assert_eq!(fine.glance, Glance::Fine);
        assert_eq!(
            fine.tooltip,
            "SentinelZero: all fine, 2 of 3 running on 2 engines"
        );

        let two = summarize_engines(
            &local,
            &[connected(
                "build-box",
                vec![failed("ci"), failed("db"), running("x")],
            )],
        );
        assert_eq!(two.glance, Glance::Failing);
        assert_eq!(two.tooltip, "SentinelZero: 2 failing on build-box");
        let one = summarize_engines(&local, &[connected("build-box", vec![failed("ci")])]);
        assert_eq!(one.tooltip, "SentinelZero: ci failing on build-box");

        // Here first, then each engine in order; an unreachable one is trouble too.
        let all = summarize_engines(
            &[failed("web")],
            &[
                connected("build-box", vec![failed("ci")]),
                unreachable("vps"),
                connected("nas", vec![running("plex")]),
            ],
        );
        assert_eq!(all.glance, Glance::Failing);
        assert_eq!(
            all.tooltip,
            "SentinelZero: web failing; ci failing on build-box; vps unreachable"
        );
        let many = summarize_engines(
            &local,
            &[
                unreachable("a"),
                unreachable("b"),
                unreachable("c"),
                unreachable("d"),
            ],
        );
        assert_eq!(
            many.tooltip,
            "SentinelZero: a unreachable; b unreachable; c unreachable; and 1 more"
        );
    }

    #[test]
    fn busy_and_connecting_engines_are_busy() {
        let connecting = summarize_engines(
            &[running("web")],
            &[remote(
                "vps",
                Link::Connecting {
                    since: chrono::Utc::now(),
                },
            )],
        );
        assert_eq!(connecting.glance, Glance::Busy);
        assert_eq!(connecting.tooltip, "SentinelZero: connecting to vps");
        let starting = summarize_engines(
            &[running("web")],
            &[connected("vps", vec![job("api", JobState::Starting)])],
        );
        assert_eq!(starting.glance, Glance::Busy);
        assert_eq!(
            starting.tooltip,
            "SentinelZero: 1 starting, stopping or waiting, 1 running"
        );
    }
}
