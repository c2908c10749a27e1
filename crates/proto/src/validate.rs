//! One place that says whether a job spec is acceptable, listing every problem by field.

use std::fmt;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::job::{JobKind, JobSpec};
use crate::limits;

/// One problem with one field, e.g. `restart.delay: must not exceed restart.max_delay`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// Every problem found in a spec; never empty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ValidationErrors(pub Vec<FieldError>);

impl ValidationErrors {
    pub fn first_field(&self) -> Option<&str> {
        self.0.first().map(|e| e.field.as_str())
    }
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ValidationErrors {}

/// A spec that could not be read or is not acceptable.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SpecError {
    /// The text is not a spec at all (syntax, wrong type, unknown field).
    #[error("{field}: {message}")]
    Parse { field: String, message: String },
    #[error("{0}")]
    Invalid(ValidationErrors),
}

impl SpecError {
    pub fn into_field_errors(self) -> Vec<FieldError> {
        match self {
            SpecError::Parse { field, message } => vec![FieldError { field, message }],
            SpecError::Invalid(errors) => errors.0,
        }
    }
}

impl JobSpec {
    /// A job keeps the name it was saved under (`original`): the name is what its logs and
    /// run history are filed under. Every adapter (the API's path, the editor) asks this.
    pub fn rename_problem(&self, original: &str) -> Option<FieldError> {
        (self.name != original).then(|| FieldError {
            field: "name".into(),
            message: format!(
                "jobs cannot be renamed: {original:?} names its logs and run history; add a copy named {:?} instead",
                self.name
            ),
        })
    }

    /// Reads and validates a spec from JSON; a parse error names the field it is in.
    pub fn from_json(text: &str) -> Result<JobSpec, SpecError> {
        let de = &mut serde_json::Deserializer::from_str(text);
        let spec: JobSpec = serde_path_to_error::deserialize(de).map_err(|err| {
            let path = err.path().to_string();
            SpecError::Parse {
                field: if path == "." { String::new() } else { path },
                message: err.into_inner().to_string(),
            }
        })?;
        spec.validate().map_err(SpecError::Invalid)?;
        Ok(spec)
    }

    /// Reads and validates a spec from TOML.
    pub fn from_toml(text: &str) -> Result<JobSpec, SpecError> {
        let spec: JobSpec = toml::from_str(text).map_err(|err| SpecError::Parse {
            field: String::new(),
            message: err.message().to_string(),
        })?;
        spec.validate().map_err(SpecError::Invalid)?;
        Ok(spec)
    }

    /// Checks everything a type cannot: names, command syntax, env keys, numeric ranges.
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = Vec::new();
        let mut problem = |field: &str, message: String| {
            errors.push(FieldError {
                field: field.to_string(),
                message,
            })
        };

        if let Err(message) = validate_name(&self.name) {
            problem("name", message);
        } else if self.name == "bulk" {
            // /api/jobs/bulk/start and friends would shadow the job's own routes.
            problem(
                "name",
                "\"bulk\" is reserved for the API's bulk actions; choose another name".into(),
            );
        }
        if let Some(project) = &self.project {
            if let Some(message) = crate::project::project_name_problem(&project.name) {
                problem("project.name", message);
            } else if !self
                .name
                .strip_prefix(project.name.as_str())
                .is_some_and(|rest| rest.starts_with('.') && rest.len() > 1)
            {
                problem(
                    "name",
                    format!(
                        "a job of project {:?} is named {:?}",
                        project.name,
                        crate::project::scoped(&project.name, "NAME")
                    ),
                );
            }
            if let Some(message) = path_problem(&project.file) {
                problem("project.file", message);
            } else if !project.file.is_absolute() {
                problem(
                    "project.file",
                    format!("{} is not an absolute path", project.file.display()),
                );
            }
        }
        if self.command.len() > limits::MAX_COMMAND {
            problem(
                "command",
                format!(
                    "is {} bytes long; use at most {} KiB (or a script)",
                    self.command.len(),
                    limits::MAX_COMMAND / 1024
                ),
            );
        } else if let Err(message) = command_argv(&self.command, self.shell) {
            problem("command", message);
        }
        if let Some(cwd) = &self.cwd {
            if let Some(message) = path_problem(cwd) {
                problem("cwd", message);
            } else if cwd.as_os_str().is_empty() {
                problem(
                    "cwd",
                    "is empty; leave it out to use the engine's directory".into(),
                );
            } else if !cwd.is_absolute() {
                problem(
                    "cwd",
                    format!("{:?} must be an absolute path", cwd.display().to_string()),
                );
            }
        }
        if self.env.len() > limits::MAX_ENV_VARS {
            problem(
                "env",
                format!(
                    "has {} variables; use at most {}",
                    self.env.len(),
                    limits::MAX_ENV_VARS
                ),
            );
        }
        for (field, len) in [
            ("secrets", self.secrets.len()),
            ("env_files", self.env_files.len()),
            ("ports", self.ports.len()),
            ("depends_on", self.depends_on.len()),
            (
                "restart.success_exit_codes",
                self.restart.success_exit_codes.len(),
            ),
        ] {
            if len > limits::MAX_LIST {
                problem(
                    field,
                    format!("has {len} entries; use at most {}", limits::MAX_LIST),
                );
            }
        }
        for (key, value) in &self.env {
            if let Err(message) = validate_env_key(key) {
                problem(&format!("env.{key}"), message);
            }
            if value.contains('\0') {
                problem(&format!("env.{key}"), "value contains a NUL byte".into());
            } else if key.len() + 1 + value.len() >= MAX_ENV_ENTRY {
                problem(
                    &format!("env.{key}"),
                    format!(
                        "value is {} bytes; a variable can hold less than {} KiB (the OS refuses to start a program with a longer one)",
                        value.len(),
                        MAX_ENV_ENTRY / 1024
                    ),
                );
            }
        }
        for (index, key) in self.secrets.iter().enumerate() {
            if let Err(message) = validate_env_key(key) {
                problem(&format!("secrets[{index}]"), message);
            } else if self.secrets[..index].contains(key) {
                problem(
                    &format!("secrets[{index}]"),
                    format!("{key} is listed twice"),
                );
            }
        }
        if let Some(group) = &self.group {
            if let Err(message) = validate_name(group) {
                problem("group", message);
            }
        }
        let policy = &self.restart;
        if !policy.backoff.is_finite() || policy.backoff < 1.0 || policy.backoff > 100.0 {
            problem(
                "restart.backoff",
                format!(
                    "{} must be between 1.0 (constant delay) and 100",
                    policy.backoff
                ),
            );
        }
        for (field, value, range) in [
            ("restart.delay", policy.delay, limits::RESTART_DELAY),
            ("restart.max_delay", policy.max_delay, limits::RESTART_DELAY),
            ("restart.min_uptime", policy.min_uptime, limits::MIN_UPTIME),
            ("stop_timeout", self.stop_timeout, limits::STOP_TIMEOUT),
        ] {
            if let Some(message) = range.problem(value) {
                problem(field, message);
            }
        }
        if policy.max_retries > limits::MAX_RETRIES {
            problem(
                "restart.max_retries",
                format!(
                    "{} is too many; use at most {} (or 0 to never give up)",
                    policy.max_retries,
                    limits::MAX_RETRIES
                ),
            );
        }
        if policy.delay > policy.max_delay {
            problem(
                "restart.delay",
                format!(
                    "{} is longer than restart.max_delay ({})",
                    crate::duration::format(policy.delay),
                    crate::duration::format(policy.max_delay)
                ),
            );
        }
        if policy.success_exit_codes.is_empty() {
            problem(
                "restart.success_exit_codes",
                "needs at least one exit code (usually 0)".into(),
            );
        }
        for code in &policy.success_exit_codes {
            if !(0..=255).contains(code) {
                problem(
                    "restart.success_exit_codes",
                    format!("{code} is not an exit code (0-255)"),
                );
            }
        }
        match (&self.schedule, self.kind) {
            (Some(_), JobKind::Service) => problem(
                "schedule",
                "only tasks run on a schedule; set kind = \"task\", or restart a service with restart_schedule".into(),
            ),
            (Some(schedule), JobKind::Task) => {
                if let Err((field, message)) = schedule.when() {
                    problem(field, message);
                }
            }
            (None, _) => {}
        }
        if let Some(expr) = &self.restart_schedule {
            if self.kind == JobKind::Task {
                problem(
                    "restart_schedule",
                    "is for services; give a task a schedule instead".into(),
                );
            } else if let Err(message) = crate::schedule::parse_cron(expr) {
                problem("restart_schedule", message);
            }
        }
        let (smallest_log, largest_log) = limits::LOG_FILE_SIZE;
        if self.logs.max_size < smallest_log {
            problem(
                "logs.max_size",
                format!(
                    "{} bytes is too small; use at least 1KiB",
                    self.logs.max_size
                ),
            );
        } else if self.logs.max_size > largest_log {
            problem(
                "logs.max_size",
                format!(
                    "{} is too large; use at most 1TiB",
                    crate::job::byte_size::format(self.logs.max_size)
                ),
            );
        }
        if let Some(health) = &self.health {
            for (field, message) in health.problems() {
                problem(field, message);
            }
        }
        if let Some(limit) = self.max_memory {
            if limit > limits::MAX_MEMORY.1 {
                problem(
                    "max_memory",
                    format!(
                        "{} is more than any machine has; use at most 64TiB",
                        crate::job::byte_size::format(limit)
                    ),
                );
            } else if limit < limits::MAX_MEMORY.0 {
                problem(
                    "max_memory",
                    format!(
                        "{} is too small for a process; use at least 1MiB",
                        crate::job::byte_size::format(limit)
                    ),
                );
            }
        }
        if let Some(url) = &self.webhook {
            if let Err(message) = validate_webhook_url(url) {
                problem("webhook", message);
            }
        }
        for (i, dependency) in self.depends_on.iter().enumerate() {
            let field = format!("depends_on[{i}].job");
            if let Err(message) = validate_name(&dependency.job) {
                problem(&field, message);
            } else if dependency.job == self.name {
                problem(&field, format!("{} cannot wait for itself", self.name));
            } else if self.depends_on[..i].iter().any(|d| d.job == dependency.job) {
                problem(&field, format!("{} is listed twice", dependency.job));
            }
        }
        if let Some(watch) = &self.watch {
            if self.kind == JobKind::Task {
                problem(
                    "watch",
                    "is for services; a task runs again on its schedule".into(),
                );
            }
            for (field, message) in watch.problems() {
                problem(&field, message);
            }
        }
        for (i, file) in self.env_files.iter().enumerate() {
            if let Some(message) = path_problem(file) {
                problem(&format!("env_files[{i}]"), message);
            } else if file.as_os_str().is_empty() {
                problem(&format!("env_files[{i}]"), "is empty".into());
            }
        }
        for (i, port) in self.ports.iter().enumerate() {
            if *port == 0 {
                problem(
                    &format!("ports[{i}]"),
                    "0 is not a port; use 1-65535".into(),
                );
            } else if self.ports[..i].contains(port) {
                problem(&format!("ports[{i}]"), format!("{port} is listed twice"));
            }
        }
        if let Some(nice) = self.nice {
            if !(-20..=19).contains(&nice) {
                problem(
                    "nice",
                    format!("{nice} is out of range; use -20 (first) to 19 (last)"),
                );
            }
        }
        if self.rlimits.nofile.is_some_and(|n| n < 3) {
            problem(
                "rlimits.nofile",
                "is too low for any process (stdin, stdout and stderr are open files); use at least 3".into(),
            );
        } else if let Some(n) = self.rlimits.nofile.filter(|&n| n > limits::MAX_NOFILE) {
            problem(
                "rlimits.nofile",
                format!(
                    "{n} is more than a system allows a process (Linux: 1048576 by default); use at most {}",
                    limits::MAX_NOFILE
                ),
            );
        }
        if let Some(core) = self.rlimits.core.filter(|&c| c > limits::MAX_CORE) {
            problem(
                "rlimits.core",
                format!(
                    "{} is too large; use at most 1TiB",
                    crate::job::byte_size::format(core)
                ),
            );
        }
        if self.logs.max_files > limits::MAX_LOG_FILES {
            problem(
                "logs.max_files",
                format!(
                    "{} is too many; use at most {}",
                    self.logs.max_files,
                    limits::MAX_LOG_FILES
                ),
            );
        }

        if errors.is_empty() {
            Ok(())
        } else {
            Err(ValidationErrors(errors))
        }
    }
}

/// Longest `KEY=value` the kernel passes to a program (Linux's MAX_ARG_STRLEN); longer and
/// every start would fail with "argument list too long".
pub const MAX_ENV_ENTRY: usize = 128 * 1024;

/// A webhook receives POSTs over HTTP or HTTPS.
pub fn validate_webhook_url(url: &str) -> Result<(), String> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| format!("{url:?} must start with https:// or http://"))?;
    match rest.split(['/', '?', '#']).next() {
        Some(host) if !host.is_empty() => Ok(()),
        _ => Err(format!("{url:?} has no host")),
    }
}

/// What makes a path unusable by the OS: a NUL byte ends it early, and no call takes one
/// longer than PATH_MAX.
pub fn path_problem(path: &std::path::Path) -> Option<String> {
    use std::os::unix::ffi::OsStrExt;
    let bytes = path.as_os_str().as_bytes();
    if bytes.contains(&0) {
        return Some("contains a NUL byte".into());
    }
    if bytes.len() > limits::MAX_PATH {
        return Some(format!(
            "is {} bytes long; a path can be at most {} bytes",
            bytes.len(),
            limits::MAX_PATH
        ));
    }
    None
}

/// Names become file names: 1–64 of `A-Za-z0-9._-`, and not `.` or `..`.
pub fn validate_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("is empty; use 1-64 letters, digits, '.', '_' or '-'".into());
    }
    if name.len() > 64 {
        return Err(format!(
            "is {} characters long; the limit is 64",
            name.len()
        ));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        return Err(format!(
            "{name:?} contains {bad:?}; use only letters, digits, '.', '_' or '-'"
        ));
    }
    if name == "." || name == ".." {
        return Err(format!("{name:?} is not allowed"));
    }
    Ok(())
}

/// POSIX environment names: a letter or `_`, then letters, digits or `_`.
pub fn validate_env_key(key: &str) -> Result<(), String> {
    let mut chars = key.chars();
    match chars.next() {
        None => Err("an environment variable needs a name".into()),
        Some(first) if !(first.is_ascii_alphabetic() || first == '_') => {
            Err(format!("{key:?} must start with a letter or '_'"))
        }
        Some(_) if !chars.all(|c| c.is_ascii_alphanumeric() || c == '_') => {
            Err(format!("{key:?} may contain only letters, digits and '_'"))
        }
        Some(_) => Ok(()),
    }
}

/// The argv a command runs as: shell-like quoting, or `/bin/sh -c` when `shell` is set.
pub fn command_argv(command: &str, shell: bool) -> Result<Vec<String>, String> {
    if command.trim().is_empty() {
        return Err("is empty; give the program to run and its arguments".into());
    }
    if command.contains('\0') {
        return Err("contains a NUL byte".into());
    }
    if shell {
        return Ok(vec!["/bin/sh".into(), "-c".into(), command.into()]);
    }
    match shlex::split(command) {
        Some(argv) if !argv.is_empty() => Ok(argv),
        Some(_) => Err("is empty; give the program to run and its arguments".into()),
        None => Err(format!(
            "{command:?} has an unbalanced quote or a trailing backslash; close the quote, or set shell = true"
        )),
    }
}

#[cfg(test)]
mod tests;
