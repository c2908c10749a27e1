//! process-compose files (`process-compose.yaml`): each entry of `processes` becomes a job.
//!
//! process-compose runs `command` through a shell, waits on dependencies by condition, and has
//! a readiness and a liveness probe where a job here has one health check. Keys that do not
//! map are listed in the notes (process-compose files vary, so an unknown key is a note, not an
//! error); `x-` keys are the file's own extensions and mean nothing to either tool.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use sentinel_proto::{Condition, Dependency, JobKind, JobSpec};
use serde::Deserialize;
use serde_norway::{Mapping, Value};

use super::{job_name, join, Migrated};
use crate::error::CliError;

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
    /// `db:` with nothing after it waits for db to start, as `db: {}` does.
    depends_on: BTreeMap<String, Option<DependsOn>>,
    readiness_probe: Option<probes::ProbeConfig>,
    liveness_probe: Option<probes::ProbeConfig>,
    ready_log_line: Option<String>,
    availability: Option<policy::Availability>,
    success_exit_codes: Vec<i64>,
    disabled: bool,
    schedule: Option<policy::Schedule>,
    shutdown: Option<policy::Shutdown>,
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
    let bare = DependsOn::default();
    for (dependency, on) in &process.depends_on {
        let on = on.as_ref().unwrap_or(&bare);
        if let Some(dependency) = depends_on(dependency, on, log_ready, notes) {
            job.depends_on.push(dependency);
        }
    }
    job.health = probes::health(&process, notes);
    policy::restart(&mut job, &process, notes);
    if process.disabled {
        job.enabled = false;
    }
    if let Some(schedule) = &process.schedule {
        if let Some(spec) = policy::schedule_spec(schedule, notes) {
            job.schedule = Some(spec);
            job.kind = JobKind::Task;
        }
    }
    if let Some(shutdown) = &process.shutdown {
        policy::stop(&mut job, shutdown, notes);
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

mod policy;
mod probes;

#[cfg(test)]
mod tests;
