//! The job definition: what to run, how to restart it, how to stop it, where its logs go.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use serde::{de, Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

/// A job as the user defines it. Unknown fields are refused so that a typo never passes
/// silently; every field but `name` and `command` has a default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct JobSpec {
    /// Unique, 1–64 of `A-Za-z0-9._-`; it names the log files.
    pub name: String,
    /// Parsed with shell-like quoting into argv and executed directly, unless `shell`.
    pub command: String,
    /// Run `command` through `/bin/sh -c` (pipes, globs, `&&`).
    #[serde(default)]
    pub shell: bool,
    /// Working directory; must exist when the job starts. Defaults to the engine's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub cwd: Option<PathBuf>,
    /// Extra environment, on top of the engine's.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, String>,
    /// Names of variables (from `env` or env files) whose values are secret: masked in the
    /// API, the app, exports and the job's own log output unless asked for.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secrets: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// The project (`sentinel up`) the job belongs to; its name is `PROJECT.NAME`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional = nullable))]
    pub project: Option<crate::project::ProjectRef>,
    /// A disabled job is kept but never started.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Start when the engine starts (services only).
    #[serde(default = "yes")]
    pub autostart: bool,
    #[serde(default)]
    pub kind: JobKind,
    #[serde(default)]
    pub restart: RestartPolicy,
    /// Sent to the whole process group on stop.
    #[serde(default)]
    pub stop_signal: SignalName,
    /// Grace period after `stop_signal` before KILL goes to the group.
    #[serde(default = "default_stop_timeout", with = "crate::duration")]
    #[schema(value_type = String, example = "10s")]
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub stop_timeout: Duration,
    #[serde(default)]
    pub logs: LogSettings,
    /// When a task runs on its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<crate::schedule::ScheduleSpec>,
    /// A cron expression at which a running service is restarted (like PM2's cron_restart).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restart_schedule: Option<String>,
    /// Checks that restart a service which is running but not working.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health: Option<crate::monitor::HealthCheck>,
    /// Restart the job when its process group's resident memory exceeds this ("512MB").
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "byte_size::option"
    )]
    #[schema(value_type = Option<String>, example = "512MB")]
    #[cfg_attr(feature = "ts", ts(type = "string | null", optional))]
    pub max_memory: Option<u64>,
    /// Desktop notifications (and the global webhook) for this job's failures.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub notify: bool,
    /// A URL that receives a JSON POST for this job's failures, besides the global webhook.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook: Option<String>,
    /// Jobs that must be running, healthy or completed before this one starts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<crate::stack::Dependency>,
    /// Restart the service when files under these paths change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub watch: Option<crate::stack::WatchSpec>,
    /// `KEY=value` files read at every start (relative to `cwd`); later files and `env` win.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(value_type = Vec<String>)]
    #[cfg_attr(feature = "ts", ts(type = "Array<string>"))]
    pub env_files: Vec<PathBuf>,
    /// TCP ports the service listens on; checked before each start.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<u16>,
    /// Scheduling priority, -20 (first) to 19 (last); below 0 needs root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(type = "number | null", optional))]
    pub nice: Option<i32>,
    #[serde(default, skip_serializing_if = "crate::stack::Rlimits::is_empty")]
    pub rlimits: crate::stack::Rlimits,
}

fn is_true(value: &bool) -> bool {
    *value
}

fn yes() -> bool {
    true
}

fn default_stop_timeout() -> Duration {
    Duration::from_secs(10)
}

impl JobSpec {
    /// Every field a definition may have, by its name in a file or a request, read from the
    /// schema the API documents: tests that try every field follow the struct by themselves.
    pub fn field_names() -> Vec<String> {
        use utoipa::openapi::{RefOr, Schema};
        match <JobSpec as utoipa::PartialSchema>::schema() {
            RefOr::T(Schema::Object(object)) => object.properties.keys().cloned().collect(),
            _ => Vec::new(),
        }
    }

    /// A spec with every default, for building one in code.
    pub fn new(name: impl Into<String>, command: impl Into<String>) -> Self {
        JobSpec {
            name: name.into(),
            command: command.into(),
            shell: false,
            cwd: None,
            env: BTreeMap::new(),
            secrets: Vec::new(),
            group: None,
            project: None,
            enabled: true,
            autostart: true,
            kind: JobKind::default(),
            restart: RestartPolicy::default(),
            stop_signal: SignalName::default(),
            stop_timeout: default_stop_timeout(),
            logs: LogSettings::default(),
            schedule: None,
            restart_schedule: None,
            health: None,
            max_memory: None,
            notify: true,
            webhook: None,
            depends_on: Vec::new(),
            watch: None,
            env_files: Vec::new(),
            ports: Vec::new(),
            nice: None,
            rlimits: crate::stack::Rlimits::default(),
        }
    }

    /// The argv the engine executes.
    pub fn argv(&self) -> Result<Vec<String>, String> {
        crate::validate::command_argv(&self.command, self.shell)
    }

    /// Whether a running process of `old` must be restarted for this definition to apply:
    /// what the process was started with (command, shell, cwd, environment, env files,
    /// priority, limits) and its kind. Everything else applies to the running process (logs,
    /// health check, watch), at its stop (signal, timeout) or at its next start or exit.
    pub fn restart_needed(&self, old: &JobSpec) -> bool {
        self.command != old.command
            || self.shell != old.shell
            || self.cwd != old.cwd
            || self.env != old.env
            || self.env_files != old.env_files
            || self.nice != old.nice
            || self.rlimits != old.rlimits
            || self.kind != old.kind
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum JobKind {
    /// Kept running.
    #[default]
    Service,
    /// Runs to completion (on demand or on a schedule); a clean exit is the end of the run.
    Task,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum RestartMode {
    Always,
    #[default]
    OnFailure,
    Never,
}

impl fmt::Display for RestartMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RestartMode::Always => "always",
            RestartMode::OnFailure => "on-failure",
            RestartMode::Never => "never",
        })
    }
}

/// When and how fast a job is restarted. Written either as a table or, when only the mode
/// matters, as a string: `restart = "always"`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RestartPolicy {
    pub mode: RestartMode,
    /// Retries of a failing job before it is `failed`; 0 = never give up.
    pub max_retries: u32,
    /// Delay before the first retry.
    #[serde(with = "crate::duration")]
    #[schema(value_type = String, example = "1s")]
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub delay: Duration,
    /// Each consecutive failure multiplies the delay by this (1.0 = constant).
    pub backoff: f64,
    #[serde(with = "crate::duration")]
    #[schema(value_type = String, example = "5m")]
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub max_delay: Duration,
    /// Exit codes that count as success.
    pub success_exit_codes: Vec<i32>,
    /// A run that lived this long resets the failure count.
    #[serde(with = "crate::duration")]
    #[schema(value_type = String, example = "10s")]
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub min_uptime: Duration,
}

impl Default for RestartPolicy {
    fn default() -> Self {
        RestartPolicy {
            mode: RestartMode::default(),
            max_retries: 5,
            delay: Duration::from_secs(1),
            backoff: 1.5,
            max_delay: Duration::from_secs(300),
            success_exit_codes: vec![0],
            min_uptime: Duration::from_secs(10),
        }
    }
}

/// The table form; every field optional so a partial table keeps the other defaults.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RestartPolicyTable {
    #[serde(default)]
    mode: Option<RestartMode>,
    #[serde(default)]
    max_retries: Option<u32>,
    #[serde(default, with = "optional_duration")]
    delay: Option<Duration>,
    #[serde(default)]
    backoff: Option<f64>,
    #[serde(default, with = "optional_duration")]
    max_delay: Option<Duration>,
    #[serde(default)]
    success_exit_codes: Option<Vec<i32>>,
    #[serde(default, with = "optional_duration")]
    min_uptime: Option<Duration>,
}

mod optional_duration {
    use std::time::Duration;

    use serde::{de, Deserialize, Deserializer};

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        let text = String::deserialize(d)?;
        crate::duration::parse(&text)
            .map(Some)
            .map_err(de::Error::custom)
    }
}

impl<'de> Deserialize<'de> for RestartPolicy {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct PolicyVisitor;
        impl<'de> de::Visitor<'de> for PolicyVisitor {
            type Value = RestartPolicy;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("\"always\", \"on-failure\", \"never\" or a restart policy table")
            }
            fn visit_str<E: de::Error>(self, mode: &str) -> Result<RestartPolicy, E> {
                let mode = RestartMode::deserialize(de::value::StrDeserializer::<E>::new(mode))?;
                Ok(RestartPolicy {
                    mode,
                    ..RestartPolicy::default()
                })
            }
            fn visit_map<M: de::MapAccess<'de>>(self, map: M) -> Result<RestartPolicy, M::Error> {
                let table =
                    RestartPolicyTable::deserialize(de::value::MapAccessDeserializer::new(map))?;
                let d = RestartPolicy::default();
                Ok(RestartPolicy {
                    mode: table.mode.unwrap_or(d.mode),
                    max_retries: table.max_retries.unwrap_or(d.max_retries),
                    delay: table.delay.unwrap_or(d.delay),
                    backoff: table.backoff.unwrap_or(d.backoff),
                    max_delay: table.max_delay.unwrap_or(d.max_delay),
                    success_exit_codes: table.success_exit_codes.unwrap_or(d.success_exit_codes),
                    min_uptime: table.min_uptime.unwrap_or(d.min_uptime),
                })
            }
        }
        deserializer.deserialize_any(PolicyVisitor)
    }
}

/// Log capture settings: one active file plus `max_files` rotated ones of `max_size` each.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LogSettings {
    #[serde(default = "default_log_size", with = "byte_size")]
    #[schema(value_type = String, example = "10MiB")]
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub max_size: u64,
    #[serde(default = "default_log_files")]
    pub max_files: u32,
}

fn default_log_size() -> u64 {
    10 * 1024 * 1024
}

fn default_log_files() -> u32 {
    5
}

impl Default for LogSettings {
    fn default() -> Self {
        LogSettings {
            max_size: default_log_size(),
            max_files: default_log_files(),
        }
    }
}

/// Sizes as "10MiB", "512KB" or a plain number of bytes.
pub mod byte_size {
    use serde::{de, Deserialize, Deserializer, Serializer};

    pub fn parse(text: &str) -> Result<u64, String> {
        let bytes = text
            .trim()
            .parse::<bytesize::ByteSize>()
            .map(|size| size.as_u64())
            .map_err(|err| {
                format!("{text:?} is not a size ({err}); use a form such as \"10MiB\" or \"512KB\"")
            })?;
        // bytesize saturates a size too large for 64 bits instead of refusing it.
        if bytes == u64::MAX {
            return Err(format!("{text:?} is too large a size"));
        }
        Ok(bytes)
    }

    /// For people: "60MiB", "67.3MiB" (rounded).
    pub fn format(bytes: u64) -> String {
        let binary = [(1u64 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")];
        // In the largest unit it reaches: whole when exact ("60MiB"), rounded otherwise.
        if let Some((unit, name)) = binary.iter().find(|(unit, _)| bytes >= *unit) {
            if bytes.is_multiple_of(*unit) {
                return format!("{}{name}", bytes / unit);
            }
        }
        bytesize::ByteSize::b(bytes)
            .display()
            .iec()
            .to_string()
            .replace(' ', "")
    }

    /// For files and the API: the same number of bytes when read back ("512MB" stays
    /// 512,000,000 bytes; an odd size is written as its number of bytes).
    pub fn exact(bytes: u64) -> String {
        whole_units(bytes).unwrap_or_else(|| bytes.to_string())
    }

    /// The size as a whole number of the unit that gives the shortest number (binary units
    /// win ties).
    fn whole_units(bytes: u64) -> Option<String> {
        const UNITS: [(u64, &str); 8] = [
            (1 << 40, "TiB"),
            (1 << 30, "GiB"),
            (1 << 20, "MiB"),
            (1 << 10, "KiB"),
            (1_000_000_000_000, "TB"),
            (1_000_000_000, "GB"),
            (1_000_000, "MB"),
            (1_000, "KB"),
        ];
        if bytes == 0 {
            return Some("0B".into());
        }
        UNITS
            .iter()
            .filter(|(unit, _)| bytes.is_multiple_of(*unit))
            .min_by_key(|(unit, _)| bytes / unit)
            .map(|(unit, name)| format!("{}{name}", bytes / unit))
    }

    pub fn serialize<S: Serializer>(bytes: &u64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&exact(*bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Size {
            Bytes(u64),
            Text(String),
        }
        match Size::deserialize(d)? {
            Size::Bytes(bytes) => Ok(bytes),
            Size::Text(text) => parse(&text).map_err(de::Error::custom),
        }
    }

    /// The same for optional sizes.
    pub mod option {
        use serde::{Deserialize, Deserializer, Serializer};

        pub fn serialize<S: Serializer>(bytes: &Option<u64>, s: S) -> Result<S::Ok, S::Error> {
            match bytes {
                Some(bytes) => super::serialize(bytes, s),
                None => s.serialize_none(),
            }
        }

        /// `null` reads as absent, as JSON clients send it.
        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
            #[derive(serde::Deserialize)]
            struct Size(#[serde(deserialize_with = "super::deserialize")] u64);
            Ok(Option::<Size>::deserialize(d)?.map(|size| size.0))
        }
    }
}

/// A signal by name, stored without the `SIG` prefix ("TERM", "INT", "HUP"…).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, ToSchema)]
#[serde(transparent)]
#[schema(value_type = String, example = "TERM")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "ts", ts(type = "string"))]
pub struct SignalName(String);

/// Signals that make sense to ask a process to stop with.
pub const STOP_SIGNALS: &[&str] = &[
    "TERM", "INT", "QUIT", "HUP", "KILL", "USR1", "USR2", "ALRM", "WINCH",
];

impl SignalName {
    pub fn parse(text: &str) -> Result<SignalName, String> {
        let upper = text.trim().to_ascii_uppercase();
        let bare = upper.strip_prefix("SIG").unwrap_or(&upper);
        if STOP_SIGNALS.contains(&bare) {
            Ok(SignalName(bare.to_string()))
        } else {
            Err(format!(
                "{text:?} is not a stop signal; use one of {}",
                STOP_SIGNALS.join(", ")
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for SignalName {
    fn default() -> Self {
        SignalName("TERM".into())
    }
}

impl fmt::Display for SignalName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SIG{}", self.0)
    }
}

impl<'de> Deserialize<'de> for SignalName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        SignalName::parse(&text).map_err(de::Error::custom)
    }
}

#[cfg(test)]
mod tests;
