//! Turning flags into a job definition.

use sentinel_proto::monitor::{HealthCheck, Probe};
use sentinel_proto::schedule::ScheduleSpec;
use sentinel_proto::{JobKind, JobSpec, WatchSpec};

use crate::args::{EditToggles, JobArgs};
use crate::error::CliError;

/// The command from `--cmd "…"` or from the words after `--`.
fn command(job: &JobArgs, argv: &[String]) -> Result<Option<String>, CliError> {
    match (&job.cmd, argv.is_empty()) {
        (Some(_), false) => Err(CliError::Usage(
            "give the command either after `--` or with --cmd, not both".into(),
        )),
        (Some(cmd), true) => Ok(Some(cmd.clone())),
        (None, false) => shlex::try_join(argv.iter().map(String::as_str))
            .map(Some)
            .map_err(|err| CliError::Usage(format!("cannot quote the command: {err}"))),
        (None, true) => Ok(None),
    }
}

pub fn new_spec(name: &str, job: &JobArgs, argv: &[String]) -> Result<JobSpec, CliError> {
    let command = command(job, argv)?.ok_or_else(|| {
        CliError::Usage(format!(
            "what should {name:?} run? `sentinel add {name} -- CMD ARGS…` or `sentinel add {name} --cmd \"CMD ARGS…\"`"
        ))
    })?;
    let mut spec = JobSpec::new(name, command);
    // A schedule makes a task unless told otherwise.
    if job.kind.is_none() && (job.cron.is_some() || job.every.is_some() || job.at.is_some()) {
        spec.kind = JobKind::Task;
    }
    apply(&mut spec, job, argv)?;
    Ok(spec)
}

/// Applies the flags that were given; the rest of the spec stays as it is.
pub fn apply(spec: &mut JobSpec, job: &JobArgs, argv: &[String]) -> Result<(), CliError> {
    if let Some(command) = command(job, argv)? {
        spec.command = command;
    }
    if job.shell {
        spec.shell = true;
    }
    if let Some(cwd) = &job.cwd {
        // Relative to where the command was typed, since the engine's directory is elsewhere.
        spec.cwd = Some(std::path::absolute(cwd).unwrap_or_else(|_| cwd.clone()));
    }
    for (key, value) in &job.env {
        spec.env.insert(key.clone(), value.clone());
    }
    for key in &job.secrets {
        if !spec.is_secret(key) {
            spec.secrets.push(key.clone());
        }
    }
    if let Some(group) = &job.group {
        spec.group = Some(group.clone());
    }
    if let Some(kind) = job.kind {
        spec.kind = kind.into();
    }
    let policy = &mut spec.restart;
    if let Some(mode) = job.restart {
        policy.mode = mode.into();
    }
    if let Some(n) = job.max_retries {
        policy.max_retries = n;
    }
    if let Some(delay) = job.delay {
        policy.delay = delay;
    }
    if let Some(backoff) = job.backoff {
        policy.backoff = backoff;
    }
    if let Some(max_delay) = job.max_delay {
        policy.max_delay = max_delay;
    }
    if let Some(codes) = &job.success_codes {
        policy.success_exit_codes = codes.clone();
    }
    if let Some(min_uptime) = job.min_uptime {
        policy.min_uptime = min_uptime;
    }
    if let Some(signal) = &job.stop_signal {
        spec.stop_signal = signal.clone();
    }
    if let Some(timeout) = job.stop_timeout {
        spec.stop_timeout = timeout;
    }
    if let Some(size) = job.log_max_size {
        spec.logs.max_size = size;
    }
    if let Some(files) = job.log_max_files {
        spec.logs.max_files = files;
    }
    if job.cron.is_some() || job.every.is_some() || job.at.is_some() {
        let previous = spec.schedule.take().unwrap_or_default();
        spec.schedule = Some(ScheduleSpec {
            cron: job.cron.clone(),
            every: job.every,
            at: job.at.clone(),
            ..previous
        });
    }
    if job.overlap.is_some() || job.missed.is_some() {
        let schedule = spec.schedule.as_mut().ok_or_else(|| {
            CliError::Usage(
                "--overlap and --missed apply to a schedule: add --cron, --every or --at".into(),
            )
        })?;
        if let Some(overlap) = job.overlap {
            schedule.overlap = overlap.into();
        }
        if let Some(missed) = job.missed {
            schedule.missed = missed.into();
        }
    }
    if let Some(expr) = &job.restart_schedule {
        spec.restart_schedule = Some(expr.clone());
    }
    if job.disabled {
        spec.enabled = false;
    }
    if job.no_autostart {
        spec.autostart = false;
    }
    for dependency in &job.depends_on {
        spec.depends_on.retain(|d| d.job != dependency.job);
        spec.depends_on.push(dependency.clone());
    }
    if !job.watch.is_empty() || !job.watch_ignore.is_empty() || job.watch_debounce.is_some() {
        let watch = spec.watch.get_or_insert_with(WatchSpec::default);
        if !job.watch.is_empty() {
            watch.paths = job.watch.clone();
        }
        if !job.watch_ignore.is_empty() {
            watch.ignore = job.watch_ignore.clone();
        }
        if let Some(debounce) = job.watch_debounce {
            watch.debounce = debounce;
        }
    }
    if !job.env_files.is_empty() {
        spec.env_files = job.env_files.clone();
    }
    if !job.ports.is_empty() {
        spec.ports = job.ports.clone();
    }
    if let Some(nice) = job.nice {
        spec.nice = Some(nice);
    }
    if let Some(files) = job.max_open_files {
        spec.rlimits.nofile = Some(files);
    }
    if let Some(bytes) = job.max_core_size {
        spec.rlimits.core = Some(bytes);
    }
    apply_health(spec, job)?;
    if let Some(bytes) = job.max_memory {
        spec.max_memory = Some(bytes);
    }
    if job.no_notify {
        spec.notify = false;
    }
    if let Some(url) = &job.webhook {
        spec.webhook = Some(url.clone());
    }
    Ok(())
}

/// A probe flag replaces the check's probe and keeps its settings; a setting flag changes that
/// one setting of the check the job has. Whether the result is a valid check is the engine's
/// to say.
fn apply_health(spec: &mut JobSpec, job: &JobArgs) -> Result<(), CliError> {
    let probe = job
        .health_cmd
        .clone()
        .map(Probe::Exec)
        .or_else(|| job.health_http.clone().map(|url| Probe::Http { url }))
        .or_else(|| job.health_tcp.clone().map(Probe::Tcp))
        .or_else(|| job.health_log.clone().map(Probe::Log));
    if let Some(probe) = probe {
        let fresh = HealthCheck::new(probe);
        match &mut spec.health {
            Some(health) => {
                health.exec = fresh.exec;
                health.http = fresh.http;
                health.tcp = fresh.tcp;
                health.log = fresh.log;
            }
            None => spec.health = Some(fresh),
        }
    }
    let settings = job.health_settings();
    if settings.is_empty() {
        return Ok(());
    }
    let Some(health) = spec.health.as_mut() else {
        return Err(CliError::Usage(format!(
            "{} changes a health check, and {} has none: add one with --health-cmd, --health-http, --health-tcp or --health-log",
            settings.join(", "),
            spec.name
        )));
    };
    if let Some(interval) = job.health_interval {
        health.interval = interval;
    }
    if let Some(timeout) = job.health_timeout {
        health.timeout = timeout;
    }
    if let Some(retries) = job.health_retries {
        health.retries = retries;
    }
    if let Some(period) = job.health_start_period {
        health.start_period = period;
    }
    if let Some(restart) = job.health_restart {
        health.restart = restart;
    }
    Ok(())
}

pub fn apply_toggles(spec: &mut JobSpec, toggles: &EditToggles) {
    if toggles.enabled {
        spec.enabled = true;
    }
    if toggles.autostart {
        spec.autostart = true;
    }
    if toggles.no_shell {
        spec.shell = false;
    }
    for key in &toggles.unset_env {
        spec.env.remove(key);
    }
    spec.secrets.retain(|key| !toggles.not_secret.contains(key));
    if toggles.no_group {
        spec.group = None;
    }
    if toggles.no_cwd {
        spec.cwd = None;
    }
    if toggles.no_schedule {
        spec.schedule = None;
    }
    if toggles.no_restart_schedule {
        spec.restart_schedule = None;
    }
    if toggles.no_depends_on {
        spec.depends_on.clear();
    }
    if toggles.no_watch {
        spec.watch = None;
    }
    if toggles.no_env_files {
        spec.env_files.clear();
    }
    if toggles.no_ports {
        spec.ports.clear();
    }
    if toggles.no_health {
        spec.health = None;
    }
    if toggles.no_max_memory {
        spec.max_memory = None;
    }
    if toggles.notify {
        spec.notify = true;
    }
    if toggles.no_webhook {
        spec.webhook = None;
    }
    if toggles.no_nice {
        spec.nice = None;
    }
    if toggles.no_max_open_files || toggles.no_rlimits {
        spec.rlimits.nofile = None;
    }
    if toggles.no_max_core_size || toggles.no_rlimits {
        spec.rlimits.core = None;
    }
}

#[cfg(test)]
mod tests;
