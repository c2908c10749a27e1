//! process-compose files (`process-compose.yaml`): each entry of `processes` becomes a job.
//!
//! process-compose runs `command` through a shell, waits on dependencies by condition, and has
//! a readiness and a liveness probe where a job here has one health check. Keys that do not
//! map are listed in the notes (process-compose files vary, so an unknown key is a note, not an
//! error); `x-` keys are the file's own extensions and mean nothing to either tool.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use sentinel_proto::monitor::{HealthCheck, Probe};
use sentinel_proto::schedule::ScheduleSpec;
use sentinel_proto::{Condition, Dependency, JobKind, JobSpec, RestartMode, SignalName};
use serde::Deserialize;
use serde_norway::{Mapping, Value};

use super::{job_name, join, Migrated};
use crate::error::CliError;

/// How long a `ready_log_line` may take to appear: process-compose waits as long as it takes,
/// and a database restoring a dump can take minutes.
const LOG_READY_WITHIN: Duration = Duration::from_secs(5 * 60);

/// Keys that change nothing here: process-compose's own strictness and display settings.
const HARMLESS: &[&str] = &[
    "version",
    "is_strict",
    "is_tui_disabled",
    "ordered_shutdown",
    "name",
    "description",
    "disable_ansi_colors",
    "is_template_disabled",
];

/// Why a key that is not carried over matters, where there is more to say than "no equivalent".
const WHY: &[(&str, &str)] = &[
    ("is_daemon", "the command detaches, and sentinel supervises a process that stays in the foreground: run it without its daemon option"),
    ("log_location", "sentinel keeps each job's output in its own files (sentinel logs NAME)"),
    ("log_configuration", "sentinel keeps each job's output in its own files (sentinel logs NAME)"),
    ("vars", "templates such as {{.NAME}} are not expanded here; check the commands"),
    ("shell", "commands that need a shell run with /bin/sh -c"),
    ("extends", "the file it extends is not read; import that file too"),
    ("shutdown.command", "sentinel stops a job with its stop signal, then KILL"),
    ("shutdown.parent_only", "sentinel signals the job's whole process group"),
    ("schedule.timezone", "cron schedules run in the machine's local time"),
    ("schedule.run_on_start", "a scheduled task runs at its fire times; `sentinel run NAME` runs it now"),
    ("availability.exit_on_end", "sentinel keeps running when one job ends"),
    ("availability.exit_on_skipped", "sentinel keeps running when one job ends"),
    ("watch", "set a watch with `sentinel edit NAME --watch PATH`"),
];

#[derive(Deserialize)]
struct File {
    #[serde(default)]
    processes: Option<Mapping>,
    #[serde(default)]
    environment: Option<Value>,
    #[serde(flatten)]
    other: Mapping,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Process {
    command: Option<String>,
    entrypoint: Option<Vec<String>>,
    working_dir: Option<String>,
    environment: Option<Value>,
    env_file: Option<String>,
    is_dotenv_disabled: bool,
    depends_on: BTreeMap<String, DependsOn>,
    readiness_probe: Option<ProbeConfig>,
    liveness_probe: Option<ProbeConfig>,
    ready_log_line: Option<String>,
    availability: Option<Availability>,
    success_exit_codes: Vec<i64>,
    disabled: bool,
    schedule: Option<Schedule>,
    shutdown: Option<Shutdown>,
    namespace: Option<Value>,
    replicas: Option<i64>,
    #[serde(flatten)]
    other: Mapping,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct DependsOn {
    condition: Option<String>,
    #[serde(flatten)]
    other: Mapping,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ProbeConfig {
    exec: Option<ExecProbe>,
    http_get: Option<HttpProbe>,
    initial_delay_seconds: Option<i64>,
    period_seconds: Option<i64>,
    timeout_seconds: Option<i64>,
    failure_threshold: Option<i64>,
    success_threshold: Option<i64>,
    #[serde(flatten)]
    other: Mapping,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ExecProbe {
    command: Option<String>,
    #[serde(flatten)]
    other: Mapping,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct HttpProbe {
    host: Option<String>,
    /// A string in process-compose's schema, but files write a number as often.
    port: Option<Value>,
    path: Option<String>,
    scheme: Option<String>,
    #[serde(flatten)]
    other: Mapping,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Availability {
    restart: Option<String>,
    backoff_seconds: Option<i64>,
    max_restarts: Option<i64>,
    #[serde(flatten)]
    other: Mapping,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Schedule {
    cron: Option<String>,
    interval: Option<String>,
    max_concurrent: Option<i64>,
    #[serde(flatten)]
    other: Mapping,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Shutdown {
    signal: Option<Value>,
    timeout_seconds: Option<i64>,
    #[serde(flatten)]
    other: Mapping,
}

/// Reads a process-compose file whose relative paths are relative to `dir`.
pub fn parse(text: &str, dir: &Path) -> Result<Migrated, CliError> {
    let mut value: Value = serde_norway::from_str(text)
        .map_err(|err| CliError::Other(format!("not a process-compose file: {err}")))?;
    // Anchors with `<<: *defaults` are common in these files; YAML leaves merging to the reader.
    value
        .apply_merge()
        .map_err(|err| CliError::Other(format!("not a process-compose file: {err}")))?;
    let file: File = serde_path_to_error::deserialize(value)
        .map_err(|err| CliError::Other(format!("not a process-compose file: {err}")))?;
    let Some(processes) = file.processes else {
        return Err(CliError::Other(
            "a process-compose file needs a \"processes\" map".into(),
        ));
    };
    let mut migrated = Migrated::default();
    let mut global_env = BTreeMap::new();
    if let Some(environment) = &file.environment {
        read_environment(
            environment,
            "the file",
            &mut global_env,
            &mut migrated.notes,
        );
    }
    for (key, value) in &file.other {
        unmapped(&mut migrated.notes, "the file", "", key, value);
    }
    // Dependants need to know which dependencies print a ready line, so read them all first.
    let mut read = Vec::new();
    for (key, value) in processes {
        let Some(raw) = key.as_str().map(str::to_string) else {
            migrated.notes.push(format!(
                "processes: the key {} is not a name; skipped",
                show(&key)
            ));
            continue;
        };
        let name = job_name(&raw);
        match serde_path_to_error::deserialize::<_, Process>(value) {
            Ok(process) => read.push((name, process)),
            Err(err) => migrated.notes.push(format!("{name}: {err}; skipped")),
        }
    }
    let log_ready: Vec<String> = read
        .iter()
        .filter(|(_, p)| p.ready_log_line.is_some() && p.readiness_probe.is_none())
        .map(|(name, _)| name.clone())
        .collect();
    for (name, process) in read {
        let mut notes = Notes {
            name: &name,
            lines: &mut migrated.notes,
        };
        if let Some(job) = process_to_job(&name, process, dir, &global_env, &log_ready, &mut notes)
        {
            migrated.jobs.push(job);
        }
    }
    Ok(migrated)
}

/// The notes of one process, each line starting with its name.
struct Notes<'a> {
    name: &'a str,
    lines: &'a mut Vec<String>,
}

impl Notes<'_> {
    fn push(&mut self, text: impl std::fmt::Display) {
        self.lines.push(format!("{}: {text}", self.name));
    }

    /// Every key of `other` under `path` ("" for the process itself).
    fn unmapped(&mut self, path: &str, other: &Mapping) {
        for (key, value) in other {
            unmapped(self.lines, self.name, path, key, value);
        }
    }
}

fn unmapped(lines: &mut Vec<String>, owner: &str, path: &str, key: &Value, value: &Value) {
    let key = key
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| show(key));
    if key.starts_with("x-") || HARMLESS.contains(&key.as_str()) || is_off(value) {
        return;
    }
    let full = if path.is_empty() {
        key
    } else {
        format!("{path}.{key}")
    };
    let why = WHY
        .iter()
        .find(|(k, _)| *k == full)
        .map(|(_, why)| format!("is not carried over: {why}"))
        .unwrap_or_else(|| "has no equivalent; not carried over".into());
    lines.push(format!("{owner}: {full} = {} {why}", show(value)));
}

/// A value that switches nothing on, so nothing is lost by leaving it out.
fn is_off(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Bool(on) => !on,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s.is_empty(),
        Value::Sequence(items) => items.is_empty(),
        Value::Mapping(map) => map.is_empty(),
        Value::Tagged(_) => false,
    }
}

/// A value for a note: compact and short.
fn show(value: &Value) -> String {
    let text = match value {
        Value::String(s) => format!("{s:?}"),
        other => serde_json::to_string(other).unwrap_or_else(|_| "(a YAML value)".into()),
    };
    if text.chars().count() > 60 {
        let cut: String = text.chars().take(57).collect();
        format!("{cut}…")
    } else {
        text
    }
}

/// process-compose hands `command` to a shell; a command with no shell syntax runs directly
/// here, the same program with one process fewer.
fn needs_shell(command: &str) -> bool {
    command.contains(|c: char| "|&;<>()$`\\*?[]{}~#!\n".contains(c))
        || shlex::split(command).is_none_or(|words| words.is_empty())
}

/// `environment` as a list of `KEY=VALUE` (process-compose's form) or a map.
fn read_environment(
    value: &Value,
    owner: &str,
    env: &mut BTreeMap<String, String>,
    notes: &mut Vec<String>,
) {
    match value {
        Value::Sequence(items) => {
            for item in items {
                match item.as_str().and_then(|text| text.split_once('=')) {
                    Some((key, value)) => {
                        env.insert(key.to_string(), value.to_string());
                    }
                    None => notes.push(format!(
                        "{owner}: environment entry {} is not KEY=VALUE; not carried over",
                        show(item)
                    )),
                }
            }
        }
        Value::Mapping(map) => {
            for (key, value) in map {
                match (key.as_str(), scalar(value)) {
                    (Some(key), Some(value)) => {
                        env.insert(key.to_string(), value);
                    }
                    _ => notes.push(format!(
                        "{owner}: environment {} = {} is not a variable; not carried over",
                        show(key),
                        show(value)
                    )),
                }
            }
        }
        Value::Null => {}
        other => notes.push(format!(
            "{owner}: environment {} is not a list of KEY=VALUE; not carried over",
            show(other)
        )),
    }
}

fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Whole seconds from a count that process-compose reads as "unset" when below `least`.
fn seconds(value: Option<i64>, least: i64) -> Option<Duration> {
    value
        .filter(|secs| *secs >= least)
        .and_then(|secs| u64::try_from(secs).ok())
        .map(Duration::from_secs)
}

fn process_to_job(
    name: &str,
    process: Process,
    dir: &Path,
    global_env: &BTreeMap<String, String>,
    log_ready: &[String],
    notes: &mut Notes,
) -> Option<JobSpec> {
    let (command, shell) = match (&process.command, &process.entrypoint) {
        (Some(command), _) if !command.trim().is_empty() => (command.clone(), needs_shell(command)),
        (_, Some(argv)) if !argv.is_empty() => match join(argv) {
            Ok(command) => (command, false),
            Err(err) => {
                notes.push(format!("{err}; skipped"));
                return None;
            }
        },
        _ => {
            notes.push("no command or entrypoint; skipped");
            return None;
        }
    };
    if process.command.is_some() && process.entrypoint.is_some() {
        notes.push("has both command and entrypoint; the command is used, as process-compose does");
    }
    if command.contains("{{") {
        notes.push("the command uses {{…}} templates, which are not expanded here; check it");
    }
    let mut job = JobSpec::new(name, command);
    job.shell = shell;
    let cwd = match &process.working_dir {
        Some(wd) if !wd.is_empty() => dir.join(wd),
        _ => dir.to_path_buf(),
    };
    job.cwd = Some(cwd);
    // process-compose reads the project's .env into every process (lowest precedence).
    let dot_env = dir.join(".env");
    if !process.is_dotenv_disabled && dot_env.is_file() {
        job.env_files.push(dot_env);
    }
    if let Some(file) = process.env_file.as_deref().filter(|f| !f.is_empty()) {
        // Relative to the working directory in both tools.
        job.env_files.push(PathBuf::from(file));
    }
    job.env = global_env.clone();
    if let Some(environment) = &process.environment {
        read_environment(environment, name, &mut job.env, notes.lines);
    }
    for (dependency, on) in &process.depends_on {
        if let Some(dependency) = depends_on(dependency, on, log_ready, notes) {
            job.depends_on.push(dependency);
        }
    }
    job.health = health(&process, notes);
    restart(&mut job, &process, notes);
    if process.disabled {
        job.enabled = false;
    }
    if let Some(schedule) = &process.schedule {
        if let Some(spec) = schedule_spec(schedule, notes) {
            job.schedule = Some(spec);
            job.kind = JobKind::Task;
        }
    }
    if let Some(shutdown) = &process.shutdown {
        stop(&mut job, shutdown, notes);
    }
    match &process.namespace {
        Some(Value::String(group)) if !group.is_empty() => job.group = Some(group.clone()),
        Some(Value::Sequence(groups)) => {
            let mut groups = groups.iter().filter_map(Value::as_str);
            job.group = groups.next().map(str::to_string);
            let rest: Vec<&str> = groups.collect();
            if !rest.is_empty() {
                notes.push(format!(
                    "namespace: a job has one group; {} kept, {} not carried over",
                    job.group.as_deref().unwrap_or_default(),
                    rest.join(", ")
                ));
            }
        }
        Some(Value::Null) | None => {}
        Some(other) => notes.push(format!(
            "namespace = {} is not a name; not carried over",
            show(other)
        )),
    }
    if let Some(replicas) = process.replicas.filter(|n| *n > 1) {
        notes.push(format!(
            "replicas = {replicas}: a job runs one process; add a job for each copy"
        ));
    }
    notes.unmapped("", &process.other);
    Some(job)
}

fn depends_on(
    dependency: &str,
    on: &DependsOn,
    log_ready: &[String],
    notes: &mut Notes,
) -> Option<Dependency> {
    let job = job_name(dependency);
    notes.unmapped(&format!("depends_on.{dependency}"), &on.other);
    let condition = match on.condition.as_deref().unwrap_or("process_started") {
        "process_started" => Condition::Started,
        "process_healthy" => Condition::Healthy,
        "process_completed_successfully" => Condition::Completed,
        "process_completed" => {
            notes.push(format!(
                "depends_on.{dependency}: process_completed also goes on after a failed run; here {job} must complete cleanly"
            ));
            Condition::Completed
        }
        "process_log_ready" if log_ready.contains(&job) => Condition::Healthy,
        "process_log_ready" => {
            notes.push(format!(
                "depends_on.{dependency}: process_log_ready needs {job} to have a ready_log_line; waits for it to start instead"
            ));
            Condition::Started
        }
        other => {
            notes.push(format!(
                "depends_on.{dependency}: condition {other:?} is unknown; not carried over"
            ));
            return None;
        }
    };
    Some(Dependency::on(job).when(condition))
}

/// The one health check: the readiness check (what dependants wait for) when there is one,
/// else the liveness probe, which restarts the job.
fn health(process: &Process, notes: &mut Notes) -> Option<HealthCheck> {
    let log_line = process.ready_log_line.as_deref().filter(|l| !l.is_empty());
    let readiness = match (&process.readiness_probe, log_line) {
        (Some(probe), line) => {
            if line.is_some() {
                notes.push("ready_log_line is not carried over: a job has one health check, and readiness_probe is kept");
            }
            probe_check(probe, "readiness_probe", false, notes)
        }
        (None, Some(line)) => {
            // process-compose looks for the line as a substring; ours is a regex.
            let mut check = HealthCheck::new(Probe::Log(regex::escape(line)));
            check.start_period = LOG_READY_WITHIN;
            check.restart = false;
            Some(check)
        }
        (None, None) => None,
    };
    match (readiness, &process.liveness_probe) {
        (Some(check), Some(_)) => {
            notes.push("liveness_probe is not carried over: a job has one health check, and the readiness check is kept");
            Some(check)
        }
        (Some(check), None) => Some(check),
        (None, Some(probe)) => probe_check(probe, "liveness_probe", true, notes),
        (None, None) => None,
    }
}

fn probe_check(
    probe: &ProbeConfig,
    which: &str,
    restart: bool,
    notes: &mut Notes,
) -> Option<HealthCheck> {
    notes.unmapped(which, &probe.other);
    let kind = match (&probe.exec, &probe.http_get) {
        (Some(exec), _) => {
            notes.unmapped(&format!("{which}.exec"), &exec.other);
            let command = exec.command.as_deref().unwrap_or_default();
            if needs_shell(command) {
                // Our exec check runs without a shell, process-compose's with one.
                let argv = ["sh".to_string(), "-c".to_string(), command.to_string()];
                Probe::Exec(join(&argv).ok()?)
            } else {
                Probe::Exec(command.to_string())
            }
        }
        (None, Some(http)) => {
            notes.unmapped(&format!("{which}.http_get"), &http.other);
            let scheme = http.scheme.as_deref().unwrap_or("http");
            if !scheme.eq_ignore_ascii_case("http") {
                notes.push(format!(
                    "{which}: the {scheme} check is not carried over: health checks fetch plain http://"
                ));
                return None;
            }
            let host = http
                .host
                .as_deref()
                .filter(|h| !h.trim().is_empty())
                .unwrap_or("127.0.0.1");
            let port = http.port.as_ref().and_then(scalar).unwrap_or_default();
            let path = http.path.as_deref().unwrap_or("/");
            let slash = if path.starts_with('/') { "" } else { "/" };
            let url = if port.is_empty() {
                format!("http://{host}{slash}{path}")
            } else {
                format!("http://{host}:{port}{slash}{path}")
            };
            Probe::Http { url }
        }
        (None, None) => {
            notes.push(format!(
                "{which} has neither exec nor http_get; not carried over"
            ));
            return None;
        }
    };
    if probe.exec.is_some() && probe.http_get.is_some() {
        notes.push(format!(
            "{which}: http_get is not carried over: a check probes one thing, and exec is kept"
        ));
    }
    if probe.success_threshold.is_some_and(|n| n > 1) {
        notes.push(format!(
            "{which}.success_threshold: one passing check is enough here"
        ));
    }
    let mut check = HealthCheck::new(kind);
    // process-compose's defaults where the file says nothing: every 10s, 1s to answer, 3 failures.
    check.interval = seconds(probe.period_seconds, 1).unwrap_or(Duration::from_secs(10));
    check.timeout = seconds(probe.timeout_seconds, 1).unwrap_or(Duration::from_secs(1));
    check.retries = probe
        .failure_threshold
        .filter(|n| *n >= 1)
        .and_then(|n| u32::try_from(n).ok())
        .unwrap_or(3);
    check.start_period = seconds(probe.initial_delay_seconds, 0).unwrap_or_default();
    check.restart = restart;
    Some(check)
}

fn restart(job: &mut JobSpec, process: &Process, notes: &mut Notes) {
    // Without `availability` process-compose runs a process once.
    job.restart.mode = RestartMode::Never;
    // process-compose retries forever unless max_restarts says otherwise, at a constant pace.
    job.restart.max_retries = 0;
    job.restart.backoff = 1.0;
    if !process.success_exit_codes.is_empty() {
        let mut codes = vec![0];
        for code in &process.success_exit_codes {
            match i32::try_from(*code) {
                Ok(code) if !codes.contains(&code) => codes.push(code),
                Ok(_) => {}
                Err(_) => notes.push(format!(
                    "success_exit_codes: {code} is not an exit code; not carried over"
                )),
            }
        }
        job.restart.success_exit_codes = codes;
    }
    let Some(availability) = &process.availability else {
        return;
    };
    notes.unmapped("availability", &availability.other);
    match availability.restart.as_deref() {
        None | Some("no") => {}
        Some("always") => job.restart.mode = RestartMode::Always,
        Some("on_failure") => job.restart.mode = RestartMode::OnFailure,
        Some("exit_on_failure") => notes.push(
            "availability.restart = exit_on_failure: sentinel does not stop every job when one fails; it is not restarted",
        ),
        Some(other) => notes.push(format!(
            "availability.restart = {other:?} is unknown; it is not restarted"
        )),
    }
    if let Some(delay) = seconds(availability.backoff_seconds, 0) {
        job.restart.delay = delay;
        job.restart.max_delay = job.restart.max_delay.max(delay);
    }
    match availability.max_restarts.map(u32::try_from) {
        None => {}
        Some(Ok(n)) => job.restart.max_retries = n,
        Some(Err(_)) => notes.push(format!(
            "availability.max_restarts = {} is not a count; not carried over",
            availability.max_restarts.unwrap_or_default()
        )),
    }
}

fn schedule_spec(schedule: &Schedule, notes: &mut Notes) -> Option<ScheduleSpec> {
    notes.unmapped("schedule", &schedule.other);
    if schedule.max_concurrent.is_some_and(|n| n > 1) {
        notes.push("schedule.max_concurrent: one run at a time here; a fire time that finds it running is skipped");
    }
    let cron = schedule.cron.clone().filter(|c| !c.trim().is_empty());
    let every = match schedule
        .interval
        .as_deref()
        .filter(|i| !i.trim().is_empty())
    {
        None => None,
        Some(_) if cron.is_some() => {
            notes.push(
                "schedule.interval is not carried over: a task has one schedule, and cron is kept",
            );
            None
        }
        Some(interval) => match sentinel_proto::duration::parse(interval) {
            Ok(every) => Some(every),
            Err(err) => {
                notes.push(format!("schedule.interval: {err}; not carried over"));
                None
            }
        },
    };
    if cron.is_none() && every.is_none() {
        return None;
    }
    Some(ScheduleSpec {
        cron,
        every,
        ..ScheduleSpec::default()
    })
}

/// Signal numbers that are the same on macOS and Linux.
fn signal_name(number: i64) -> Option<&'static str> {
    Some(match number {
        1 => "HUP",
        2 => "INT",
        3 => "QUIT",
        9 => "KILL",
        14 => "ALRM",
        15 => "TERM",
        _ => return None,
    })
}

fn stop(job: &mut JobSpec, shutdown: &Shutdown, notes: &mut Notes) {
    notes.unmapped("shutdown", &shutdown.other);
    if let Some(signal) = &shutdown.signal {
        let parsed = match signal {
            Value::Number(n) => n
                .as_i64()
                .and_then(signal_name)
                .and_then(|name| SignalName::parse(name).ok()),
            Value::String(name) => SignalName::parse(name).ok(),
            _ => None,
        };
        match parsed {
            Some(signal) => job.stop_signal = signal,
            None if is_off(signal) => {}
            None => notes.push(format!(
                "shutdown.signal = {} is not carried over: use HUP (1), INT (2), QUIT (3), KILL (9), ALRM (14) or TERM (15)",
                show(signal)
            )),
        }
    }
    if let Some(timeout) = seconds(shutdown.timeout_seconds, 1) {
        job.stop_timeout = timeout;
    }
}

#[cfg(test)]
mod tests;
