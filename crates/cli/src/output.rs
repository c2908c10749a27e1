//! How things look on a terminal: aligned tables, colours only when writing to one.

use std::io::IsTerminal;
use std::time::Duration;

use chrono::{DateTime, Local, Utc};
use sentinel_engine::job::policy::delay_sequence;
use sentinel_proto::api::JobDetail;
use sentinel_proto::stack::{EnvSource, EnvVar, FreedPorts, JobPorts};
use sentinel_proto::{
    EngineEvent, EventEnvelope, ExitInfo, JobState, JobStatus, LogLine, LogStream, RunRecord,
};

pub struct Style {
    colour: bool,
}

impl Style {
    /// Colours on a terminal, never when piped, never with NO_COLOR.
    pub fn for_stdout() -> Style {
        Style {
            colour: std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
        }
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.colour {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    /// The state's name, coloured.
    pub fn state_name(&self, state: &JobState) -> String {
        self.state(state, state.name())
    }

    fn state(&self, state: &JobState, padded: &str) -> String {
        let code = match state {
            JobState::Running { .. } => "32",
            JobState::Starting
            | JobState::Stopping { .. }
            | JobState::Backoff { .. }
            | JobState::Waiting { .. } => "33",
            JobState::Failed { .. } => "31;1",
            JobState::Stopped | JobState::Exited { .. } => "2",
        };
        self.paint(code, padded)
    }
}

/// "45s", "3m 20s", "2h 5m", "4d 3h".
pub fn short_duration(duration: Duration) -> String {
    let secs = duration.as_secs();
    match secs {
        0..60 => {
            let millis = duration.as_millis();
            if millis < 1000 {
                format!("{millis}ms")
            } else if secs < 10 && millis % 1000 >= 100 {
                format!("{:.1}s", millis as f64 / 1000.0)
            } else {
                format!("{secs}s")
            }
        }
        60..3600 => format!("{}m {}s", secs / 60, secs % 60),
        3600..86400 => format!("{}h {}m", secs / 3600, secs % 3600 / 60),
        _ => format!("{}d {}h", secs / 86400, secs % 86400 / 3600),
    }
}

fn since(at: DateTime<Utc>) -> Duration {
    (Utc::now() - at).to_std().unwrap_or_default()
}

fn until(at: DateTime<Utc>) -> Duration {
    (at - Utc::now()).to_std().unwrap_or_default()
}

fn exit_text(exit: &ExitInfo) -> String {
    match (exit.code, exit.signal) {
        (Some(code), _) => code.to_string(),
        (None, Some(signal)) => format!("sig {signal}"),
        (None, None) => "?".into(),
    }
}

fn pid_of(state: &JobState) -> Option<u32> {
    match state {
        JobState::Running { pid, .. } | JobState::Stopping { pid } => Some(*pid),
        _ => None,
    }
}

/// What the UPTIME column says: how long it has run, when it tries again, or when its
/// schedule fires next.
fn timing(job: &JobStatus) -> String {
    match (&job.state, job.next_run_at) {
        (JobState::Running { since: at, .. }, _) => short_duration(since(*at)),
        (JobState::Backoff { next_try_at, .. }, _) => {
            format!("retry in {}", short_duration(until(*next_try_at)))
        }
        (_, Some(next)) => format!("next in {}", short_duration(until(next))),
        _ => "-".into(),
    }
}

pub fn job_table(jobs: &[JobStatus], style: &Style) -> String {
    let header = [
        "NAME",
        "STATE",
        "PID",
        "UPTIME",
        "RESTARTS",
        "LAST EXIT",
        "GROUP",
    ];
    let rows: Vec<(Vec<String>, &JobState)> = jobs
        .iter()
        .map(|job| {
            (
                vec![
                    job.name.clone(),
                    job.state.name().to_string(),
                    pid_of(&job.state).map_or("-".into(), |p| p.to_string()),
                    timing(job),
                    job.restarts.to_string(),
                    job.last_exit.as_ref().map_or("-".into(), exit_text),
                    job.group.clone().unwrap_or_else(|| "-".into()),
                ],
                &job.state,
            )
        })
        .collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for (cells, _) in &rows {
        for (width, cell) in widths.iter_mut().zip(cells) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let pad = |text: &str, width: usize| format!("{text:<width$}");
    let mut out = String::new();
    let line: Vec<String> = header
        .iter()
        .zip(&widths)
        .map(|(h, w)| pad(h, *w))
        .collect();
    out.push_str(line.join("  ").trim_end());
    out.push('\n');
    for (cells, state) in rows {
        let line: Vec<String> = cells
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(i, (cell, w))| {
                if i == 1 {
                    style.state(state, &pad(cell, *w))
                } else {
                    pad(cell, *w)
                }
            })
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out
}

pub fn job_detail(detail: &JobDetail, style: &Style) -> String {
    let spec = &detail.spec;
    let status = &detail.status;
    let mut headline = format!(
        "{}  {}",
        spec.name,
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
    let mut rows: Vec<(&str, String)> = vec![("command", spec.command.clone())];
    if let Some(error) = &status.log_error {
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
    let policy = &spec.restart;
    let delays = match delay_sequence(policy) {
        Some(delays) if delays.is_empty() => "no retries".to_string(),
        Some(delays) => {
            // A long sequence (max_retries may be a million) is its start and its count.
            const SHOWN: usize = 8;
            let shown = delays
                .iter()
                .take(SHOWN)
                .map(|d| short_duration(*d))
                .collect::<Vec<_>>()
                .join(", ");
            match delays.last() {
                Some(last) if delays.len() > SHOWN => format!(
                    "retries after {shown}, … ({} retries, the last after {}), then gives up",
                    delays.len(),
                    short_duration(*last)
                ),
                _ => format!("retries after {shown}, then gives up"),
            }
        }
        None => format!(
            "retries after {}, ×{} each time up to {}, never gives up",
            short_duration(policy.delay),
            policy.backoff,
            short_duration(policy.max_delay)
        ),
    };
    rows.push(("restart", format!("{}; {delays}", policy.mode)));
    rows.push((
        "success",
        format!(
            "exit codes {:?}; a run of {} resets failures",
            policy.success_exit_codes,
            short_duration(policy.min_uptime)
        ),
    ));
    if let Some(schedule) = &spec.schedule {
        let what = schedule
            .when()
            .map(|w| sentinel_proto::schedule::describe(&w))
            .unwrap_or_else(|(_, m)| m);
        let missed = match schedule.missed {
            sentinel_proto::schedule::MissedPolicy::Skip => "skipped",
            sentinel_proto::schedule::MissedPolicy::RunOnce => "run once",
        };
        rows.push((
            "schedule",
            format!("{what}; overlap {}, missed runs {missed}", schedule.overlap),
        ));
    }
    if let Some(expr) = &spec.restart_schedule {
        rows.push(("restarts", format!("on schedule {expr:?}")));
    }
    if let Some(next) = status.next_run_at {
        let when = next.with_timezone(&Local).format("%Y-%m-%d %H:%M:%S");
        rows.push((
            "next run",
            format!("{when} (in {})", short_duration(until(next))),
        ));
    }
    rows.push((
        "stop",
        format!(
            "{}, then SIGKILL after {}",
            spec.stop_signal,
            short_duration(spec.stop_timeout)
        ),
    ));
    rows.push((
        "restarts",
        format!(
            "{} ({} failures in a row)",
            status.restarts, status.failures
        ),
    ));
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
    if let Some(check) = &spec.health {
        let what = match check.probe() {
            Ok(sentinel_proto::monitor::Probe::Exec(command)) => format!("runs {command:?}"),
            Ok(sentinel_proto::monitor::Probe::Http { url }) => format!("GET {url}"),
            Ok(sentinel_proto::monitor::Probe::Tcp(address)) => format!("connects to {address}"),
            Err((_, message)) => message,
        };
        let verdict = status.health.map_or("unknown", |h| h.as_str());
        rows.push((
            "health",
            format!(
                "{verdict}; {what} every {}, unhealthy after {} failures{}",
                short_duration(check.interval),
                check.retries,
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
            format!(
                "{} (restarts above it)",
                sentinel_proto::job::byte_size::format(limit)
            ),
        ));
    }
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
    if let Some(bytes) = spec.rlimits.core {
        limits.push(format!(
            "core dumps up to {}",
            sentinel_proto::job::byte_size::format(bytes)
        ));
    }
    if !limits.is_empty() {
        rows.push(("limits", limits.join(", ")));
    }
    rows.push(("logs", detail.log_file.clone()));
    let mut out = headline;
    out.push('\n');
    for (key, value) in rows {
        out.push_str(&format!("  {key:<10} {value}\n"));
    }
    out
}

/// "CPU 12.5%, memory 48.2MiB in 3 processes, disk read 1.0MiB, written 12KiB".
pub fn resources_text(sample: &sentinel_proto::ResourceSample) -> String {
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

fn bytes(n: u64) -> String {
    sentinel_proto::job::byte_size::format(n)
}

/// The `sentinel top` table: running jobs first, in the chosen order.
pub fn top_table(jobs: &[JobStatus], order: crate::args::TopOrder, style: &Style) -> String {
    let mut jobs: Vec<&JobStatus> = jobs.iter().collect();
    let cpu = |j: &JobStatus| j.resources.as_ref().map_or(-1.0, |r| r.cpu_percent);
    let memory = |j: &JobStatus| j.resources.as_ref().map_or(0, |r| r.memory_bytes);
    match order {
        crate::args::TopOrder::Cpu => jobs.sort_by(|a, b| cpu(b).total_cmp(&cpu(a))),
        crate::args::TopOrder::Memory => jobs.sort_by_key(|j| std::cmp::Reverse(memory(j))),
        crate::args::TopOrder::Name => jobs.sort_by(|a, b| a.name.cmp(&b.name)),
    }
    let header = [
        "NAME", "STATE", "PID", "CPU%", "MEM", "PROCS", "READ", "WRITTEN", "HEALTH", "UPTIME",
    ];
    let rows: Vec<(Vec<String>, &JobState)> = jobs
        .iter()
        .map(|job| {
            let sample = job.resources.as_ref();
            (
                vec![
                    job.name.clone(),
                    job.state.name().to_string(),
                    pid_of(&job.state).map_or("-".into(), |p| p.to_string()),
                    sample.map_or("-".into(), |s| format!("{:.1}", s.cpu_percent)),
                    sample.map_or("-".into(), |s| bytes(s.memory_bytes)),
                    sample.map_or("-".into(), |s| s.processes.to_string()),
                    sample.map_or("-".into(), |s| bytes(s.disk_read_bytes)),
                    sample.map_or("-".into(), |s| bytes(s.disk_written_bytes)),
                    job.health.map_or("-".into(), |h| h.as_str().to_string()),
                    timing(job),
                ],
                &job.state,
            )
        })
        .collect();
    let right_aligned = [3, 4, 5, 6, 7];
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for (cells, _) in &rows {
        for (width, cell) in widths.iter_mut().zip(cells) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let pad = |i: usize, text: &str, width: usize| {
        if right_aligned.contains(&i) {
            format!("{text:>width$}")
        } else {
            format!("{text:<width$}")
        }
    };
    let mut out = String::new();
    let line: Vec<String> = header
        .iter()
        .enumerate()
        .map(|(i, h)| pad(i, h, widths[i]))
        .collect();
    out.push_str(line.join("  ").trim_end());
    out.push('\n');
    for (cells, state) in rows {
        let line: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(i, cell)| {
                let padded = pad(i, cell, widths[i]);
                if i == 1 {
                    style.state(state, &padded)
                } else {
                    padded
                }
            })
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out
}

pub fn runs_table(runs: &[RunRecord]) -> String {
    let mut out = format!(
        "{:<6}  {:<19}  {:<9}  {:<9}  {:<12}  {:<6}  {}\n",
        "RUN", "STARTED", "DURATION", "TRIGGER", "OUTCOME", "EXIT", "REASON"
    );
    for run in runs {
        let started = run
            .started_at
            .with_timezone(&Local)
            .format("%Y-%m-%d %H:%M:%S")
            .to_string();
        let duration = run
            .ended_at
            .map(|end| short_duration((end - run.started_at).to_std().unwrap_or_default()))
            .unwrap_or_else(|| "running".into());
        let outcome = run.outcome.map_or("running", |o| o.as_str());
        let exit = match (run.exit_code, run.signal) {
            (Some(code), _) => code.to_string(),
            (None, Some(signal)) => format!("sig {signal}"),
            _ => "-".into(),
        };
        let line = format!(
            "{:<6}  {started:<19}  {duration:<9}  {:<9}  {outcome:<12}  {exit:<6}  {}",
            run.id,
            run.trigger.as_str(),
            run.reason.as_deref().unwrap_or("")
        );
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// One line per declared port: who holds it, and whether the engine may stop that.
pub fn ports_table(jobs: &[JobPorts]) -> String {
    let mut out = format!(
        "{:<20}  {:<5}  {:<8}  {}\n",
        "JOB", "PORT", "PID", "HELD BY"
    );
    for job in jobs {
        for port in &job.ports {
            let mut rows: Vec<(String, String)> = Vec::new();
            if port.own {
                rows.push(("-".into(), "this job (running)".into()));
            }
            for holder in &port.holders {
                let whose = match (&holder.job, holder.orphan) {
                    (_, true) => " [orphan of an earlier run; --free stops it]".to_string(),
                    (Some(other), false) => format!(" [job {other}]"),
                    (None, false) => String::new(),
                };
                rows.push((holder.pid.to_string(), format!("{}{whose}", holder.command)));
            }
            if rows.is_empty() {
                rows.push((
                    "-".into(),
                    if port.in_use {
                        "a process this user cannot see".into()
                    } else {
                        "free".into()
                    },
                ));
            }
            for (pid, what) in rows {
                out.push_str(&format!(
                    "{:<20}  {:<5}  {pid:<8}  {what}\n",
                    job.job, port.port
                ));
            }
        }
    }
    out
}

/// What freeing ports did, in words.
pub fn freed_ports(freed: &FreedPorts) -> String {
    let mut out = String::new();
    for holder in &freed.stopped {
        out.push_str(&format!(
            "stopped pid {} ({}), left over from an earlier run of {}\n",
            holder.pid, holder.command, freed.job
        ));
    }
    for holder in &freed.kept {
        out.push_str(&format!(
            "left pid {} ({}) alone: it is not {}'s own\n",
            holder.pid, holder.command, freed.job
        ));
    }
    if out.is_empty() {
        out = format!("{}: no leftover process holds its ports\n", freed.job);
    }
    out
}

/// `KEY=value   # from .env (overrides …)`, one variable per line.
pub fn env_listing(vars: &[EnvVar]) -> String {
    let source = |source: &EnvSource| match source {
        EnvSource::Spec => "env".to_string(),
        EnvSource::File(path) => path.display().to_string(),
    };
    let lines: Vec<(String, String)> = vars
        .iter()
        .map(|var| {
            let mut from = format!("from {}", source(&var.source));
            if var.secret {
                from.push_str(", secret");
            }
            if !var.overrides.is_empty() {
                let earlier: Vec<String> = var.overrides.iter().map(source).collect();
                from.push_str(&format!(", overrides {}", earlier.join(", ")));
            }
            (format!("{}={}", var.key, var.value), from)
        })
        .collect();
    let width = lines
        .iter()
        .map(|(kv, _)| kv.chars().count())
        .max()
        .unwrap_or(0);
    lines
        .into_iter()
        .map(|(kv, from)| format!("{kv:<width$}  # {from}\n"))
        .collect()
}

/// One event in words; `None` for resource samples, which would drown the rest.
pub fn event_line(envelope: &EventEnvelope) -> Option<String> {
    let at = envelope.at.with_timezone(&Local).format("%H:%M:%S%.3f");
    let job = envelope.event.job()?;
    let what = match &envelope.event {
        EngineEvent::JobAdded { .. } => "added".to_string(),
        EngineEvent::JobUpdated { restarted, .. } => {
            if *restarted {
                "changed, restarted".into()
            } else {
                "changed".into()
            }
        }
        EngineEvent::JobRemoved { .. } => "removed".into(),
        EngineEvent::StateChanged { status } => match &status.state {
            JobState::Running { pid, .. } => format!("running (pid {pid})"),
            JobState::Backoff {
                next_try_at,
                attempt,
            } => format!(
                "backoff, retry {attempt} in {}",
                short_duration((*next_try_at - envelope.at).to_std().unwrap_or_default())
            ),
            JobState::Failed { reason, .. } => format!("failed: {reason}"),
            JobState::Waiting { message, .. } => message.clone(),
            other => other.name().to_string(),
        },
        EngineEvent::RunStarted {
            run_id,
            pid,
            trigger,
            ..
        } => format!("run {run_id} started (pid {pid}, {})", trigger.as_str()),
        EngineEvent::RunExited {
            run_id,
            outcome,
            exit,
            ..
        } => format!(
            "run {run_id} ended: {} ({}) after {}",
            outcome.as_str(),
            exit.describe(),
            short_duration(Duration::from_millis(exit.duration_ms))
        ),
        EngineEvent::SpawnFailed { run_id, error, .. } => {
            format!("run {run_id} could not start: {error}")
        }
        EngineEvent::ScheduleSkipped {
            scheduled_at,
            reason,
            ..
        } => format!(
            "run for {} skipped: {reason}",
            scheduled_at.with_timezone(&Local).format("%H:%M:%S")
        ),
        EngineEvent::HealthChanged { health, detail, .. } => match detail {
            Some(detail) => format!("{}: {detail}", health.as_str()),
            None => health.as_str().to_string(),
        },
        EngineEvent::ResourcesSampled { .. } => return None,
    };
    Some(format!("{at}  {job}  {what}"))
}

pub fn log_line(line: &LogLine, timestamps: bool, style: &Style) -> String {
    let mut out = String::new();
    if timestamps {
        out.push_str(
            &line
                .ts
                .with_timezone(&Local)
                .format("%Y-%m-%d %H:%M:%S%.3f ")
                .to_string(),
        );
        out.push_str(line.stream.as_str());
        out.push(' ');
    }
    if line.stream == LogStream::Stderr {
        out.push_str(&style.paint("31", &line.text));
    } else {
        out.push_str(&line.text);
    }
    if !line.partial {
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_at_a_glance() {
        assert_eq!(short_duration(Duration::from_millis(250)), "250ms");
        assert_eq!(short_duration(Duration::from_secs(45)), "45s");
        assert_eq!(short_duration(Duration::from_millis(4500)), "4.5s");
        assert_eq!(short_duration(Duration::from_millis(2000)), "2s");
        assert_eq!(short_duration(Duration::from_secs(200)), "3m 20s");
        assert_eq!(short_duration(Duration::from_secs(7500)), "2h 5m");
        assert_eq!(
            short_duration(Duration::from_secs(4 * 86400 + 3 * 3600)),
            "4d 3h"
        );
    }

    #[test]
    fn a_long_retry_sequence_is_its_start_and_its_count() {
        let mut spec = sentinel_proto::JobSpec::new("api", "true");
        spec.restart.max_retries = 1_000_000;
        let status = JobStatus::new("api", sentinel_proto::JobKind::Service, JobState::Stopped);
        let detail = JobDetail {
            spec,
            status,
            log_file: "api.log".into(),
        };
        let text = job_detail(&detail, &Style { colour: false });
        let restart = text.lines().find(|l| l.contains("retries after")).unwrap();
        assert!(restart.len() < 200, "{restart}");
        assert!(
            restart.contains("… (1000000 retries, the last after 5m 0s)"),
            "{restart}"
        );
    }

    #[test]
    fn tables_have_no_colour_when_piped() {
        let style = Style { colour: false };
        let job = JobStatus {
            name: "api".into(),
            group: Some("web".into()),
            kind: sentinel_proto::JobKind::Service,
            enabled: true,
            state: JobState::Failed {
                reason: "x".into(),
                since: Utc::now(),
            },
            restarts: 5,
            failures: 6,
            last_exit: None,
            next_run_at: None,
            health: None,
            resources: None,
            log_error: None,
        };
        let table = job_table(&[job], &style);
        assert!(!table.contains('\x1b'));
        assert_eq!(
            table
                .lines()
                .nth(1)
                .unwrap()
                .split_whitespace()
                .collect::<Vec<_>>(),
            vec!["api", "failed", "-", "-", "5", "-", "web"]
        );
        let coloured = job_table(&[], &Style { colour: true });
        assert!(coloured.starts_with("NAME"));
    }
}
