//! `sentinel status NAME`: one job in detail, a headline and then one row per aspect.

use std::time::Duration;

use chrono::Local;
use sentinel_proto::api::JobDetail;
use sentinel_proto::monitor::Probe;
use sentinel_proto::schedule::MissedPolicy;
use sentinel_proto::JobState;

use super::{bytes, short_duration, since, until, Style};

/// A row: its label and what it says.
type Row = (&'static str, String);

pub fn job_detail(detail: &JobDetail, style: &Style) -> String {
    let mut rows = Vec::new();
    rows.extend(definition(detail));
    rows.extend(restarts(detail));
    rows.extend(schedule(detail));
    rows.extend(history(detail));
    rows.extend(monitoring(detail));
    rows.extend(stack(detail));
    rows.push(("logs", detail.log_file.clone()));
    let mut out = headline(detail, style);
    out.push('\n');
    for (key, value) in rows {
        out.push_str(&format!("  {key:<10} {value}\n"));
    }
    out
}

/// "api  running  (pid 4242, up 3m 20s)".
fn headline(detail: &JobDetail, style: &Style) -> String {
    let status = &detail.status;
    let mut headline = format!(
        "{}  {}",
        detail.spec.name,
        style.state(&status.state, status.state.name())
    );
    match &status.state {
        JobState::Running { pid, since: at } => {
            headline.push_str(&format!("  (pid {pid}, up {})", short_duration(since(*at))))
        }
        JobState::Backoff {
            next_try_at,
            attempt,
        } => headline.push_str(&format!(
            "  (retry {attempt} in {})",
            short_duration(until(*next_try_at))
        )),
        JobState::Failed { since: at, .. } | JobState::Exited { since: at } => {
            headline.push_str(&format!("  ({} ago)", short_duration(since(*at))))
        }
        _ => {}
    }
    headline
}

/// What runs, where, with what, and whether it may.
fn definition(detail: &JobDetail) -> Vec<Row> {
    let spec = &detail.spec;
    let mut rows = vec![("command", spec.command.clone())];
    if let Some(error) = &detail.status.log_error {
        rows.push(("log error", error.clone()));
    }
    if let Ok(argv) = spec.argv() {
        rows.push(("argv", format!("{argv:?}")));
    }
    rows.push((
        "cwd",
        spec.cwd
            .as_ref()
            .map_or("(the engine's)".into(), |c| c.display().to_string()),
    ));
    if !spec.env.is_empty() {
        let env: Vec<String> = spec.env.iter().map(|(k, v)| format!("{k}={v}")).collect();
        rows.push(("env", env.join(" ")));
    }
    if !spec.secrets.is_empty() {
        rows.push(("secrets", spec.secrets.join(", ")));
    }
    if !spec.env_files.is_empty() {
        let files: Vec<String> = spec
            .env_files
            .iter()
            .map(|f| f.display().to_string())
            .collect();
        rows.push(("env files", files.join(", ")));
    }
    rows.push(("group", spec.group.clone().unwrap_or_else(|| "-".into())));
    rows.push(("kind", format!("{:?}", spec.kind).to_lowercase()));
    let flags = match (spec.enabled, spec.autostart) {
        (false, _) => "disabled",
        (true, true) => "enabled, starts with the engine",
        (true, false) => "enabled, started by hand",
    };
    rows.push(("enabled", flags.into()));
    rows
}

/// The restart policy and what counts as success.
fn restarts(detail: &JobDetail) -> Vec<Row> {
    let policy = &detail.spec.restart;
    vec![
        (
            "restart",
            format!("{}; {}", policy.mode, policy.preview().text),
        ),
        (
            "success",
            format!(
                "exit codes {:?}; a run of {} resets failures",
                policy.success_exit_codes,
                short_duration(policy.min_uptime)
            ),
        ),
    ]
}

/// When it runs on its own, and when next.
fn schedule(detail: &JobDetail) -> Vec<Row> {
    let spec = &detail.spec;
    let mut rows = Vec::new();
    if let Some(schedule) = &spec.schedule {
        let what = schedule
            .when()
            .map(|w| sentinel_proto::schedule::describe(&w))
            .unwrap_or_else(|(_, m)| m);
        let missed = match schedule.missed {
            MissedPolicy::Skip => "skipped",
            MissedPolicy::RunOnce => "run once",
        };
        rows.push((
            "schedule",
            format!("{what}; overlap {}, missed runs {missed}", schedule.overlap),
        ));
    }
    if let Some(expr) = &spec.restart_schedule {
        rows.push(("restarts", format!("on schedule {expr:?}")));
    }
    if let Some(next) = detail.status.next_run_at {
        let when = next.with_timezone(&Local).format("%Y-%m-%d %H:%M:%S");
        rows.push((
            "next run",
            format!("{when} (in {})", short_duration(until(next))),
        ));
    }
    rows
}

/// How it stops, and how its runs went.
fn history(detail: &JobDetail) -> Vec<Row> {
    let (spec, status) = (&detail.spec, &detail.status);
    let mut rows = vec![
        (
            "stop",
            format!(
                "{}, then SIGKILL after {}",
                spec.stop_signal,
                short_duration(spec.stop_timeout)
            ),
        ),
        (
            "restarts",
            format!(
                "{} ({} failures in a row)",
                status.restarts, status.failures
            ),
        ),
    ];
    if let Some(exit) = &status.last_exit {
        rows.push((
            "last exit",
            format!(
                "{} after {}, {} ago",
                exit.describe(),
                short_duration(Duration::from_millis(exit.duration_ms)),
                short_duration(since(exit.at))
            ),
        ));
    }
    if let JobState::Failed { reason: words, .. } | JobState::Waiting { message: words, .. } =
        &status.state
    {
        rows.push(("reason", words.clone()));
    }
    rows
}

/// Its health check, what it uses, and its memory limit.
fn monitoring(detail: &JobDetail) -> Vec<Row> {
    let (spec, status) = (&detail.spec, &detail.status);
    let mut rows = Vec::new();
    if let Some(check) = &spec.health {
        let every = |what: String| {
            format!(
                "{what} every {}, unhealthy after {} failures",
                short_duration(check.interval),
                check.retries,
            )
        };
        let what = match check.probe() {
            Ok(Probe::Exec(command)) => every(format!("runs {command:?}")),
            Ok(Probe::Http { url }) => every(format!("GET {url}")),
            Ok(Probe::Tcp(address)) => every(format!("connects to {address}")),
            Ok(Probe::Log(pattern)) => format!(
                "ready when a line matches {pattern:?}, unhealthy if none within {}",
                short_duration(check.log_deadline())
            ),
            Err((_, message)) => message,
        };
        let verdict = status.health.map_or("unknown", |h| h.as_str());
        rows.push((
            "health",
            format!(
                "{verdict}; {what}{}",
                if check.restart { ", then restarts" } else { "" }
            ),
        ));
    }
    if let Some(sample) = &status.resources {
        rows.push(("resources", resources_text(sample)));
    }
    if let Some(limit) = spec.max_memory {
        rows.push((
            "memory max",
            format!("{} (restarts above it)", bytes(limit)),
        ));
    }
    rows
}

/// "CPU 12.5%, memory 48.2MiB in 3 processes, disk read 1.0MiB, written 12KiB".
fn resources_text(sample: &sentinel_proto::ResourceSample) -> String {
    format!(
        "CPU {:.1}%, memory {} in {} process{}, disk read {}, written {}",
        sample.cpu_percent,
        bytes(sample.memory_bytes),
        sample.processes,
        if sample.processes == 1 { "" } else { "es" },
        bytes(sample.disk_read_bytes),
        bytes(sample.disk_written_bytes)
    )
}

/// What it needs, watches and holds, and the limits it runs under.
fn stack(detail: &JobDetail) -> Vec<Row> {
    let spec = &detail.spec;
    let mut rows = Vec::new();
    if !spec.depends_on.is_empty() {
        let deps: Vec<String> = spec
            .depends_on
            .iter()
            .map(|d| format!("{} ({})", d.job, d.condition.describe()))
            .collect();
        rows.push(("needs", deps.join(", ")));
    }
    if let Some(watch) = &spec.watch {
        let paths: Vec<String> = watch
            .paths
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        let mut text = format!(
            "{} (debounce {})",
            paths.join(", "),
            sentinel_proto::duration::format(watch.debounce)
        );
        if !watch.ignore.is_empty() {
            text.push_str(&format!(", ignoring {}", watch.ignore.join(", ")));
        }
        rows.push(("watches", text));
    }
    if !spec.ports.is_empty() {
        let ports: Vec<String> = spec.ports.iter().map(u16::to_string).collect();
        rows.push(("ports", ports.join(", ")));
    }
    let mut limits = Vec::new();
    if let Some(nice) = spec.nice {
        limits.push(format!("nice {nice}"));
    }
    if let Some(files) = spec.rlimits.nofile {
        limits.push(format!("{files} open files"));
    }
    if let Some(core) = spec.rlimits.core {
        limits.push(format!("core dumps up to {}", bytes(core)));
    }
    if !limits.is_empty() {
        rows.push(("limits", limits.join(", ")));
    }
    rows
}

#[cfg(test)]
mod tests {
    use sentinel_proto::{JobKind, JobSpec, JobStatus};

    use super::*;

    #[test]
    fn a_long_retry_sequence_is_its_start_and_its_count() {
        let mut spec = JobSpec::new("api", "true");
        spec.restart.max_retries = 1_000_000;
        let status = JobStatus::new("api", JobKind::Service, JobState::Stopped);
        let detail = JobDetail {
            spec,
            status,
            log_file: "api.log".into(),
        };
        let text = job_detail(&detail, &Style { colour: false });
        let restart = text.lines().find(|l| l.contains("gives up after")).unwrap();
        assert!(restart.len() < 200, "{restart}");
        assert!(
            restart.ends_with("17.1s, … — gives up after 1000000 failures"),
            "{restart}"
        );
    }
}
