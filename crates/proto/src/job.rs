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
mod tests {
    #[test]
    fn sizes_read_back_to_the_same_bytes() {
        for text in [
            "512MB", "1500MiB", "10MiB", "1GB", "300M", "4096", "0", "1234567",
        ] {
            let bytes = byte_size::parse(text).unwrap();
            let written = byte_size::exact(bytes);
            assert_eq!(
                byte_size::parse(&written).unwrap(),
                bytes,
                "{text} → {written}"
            );
        }
        assert_eq!(byte_size::exact(512_000_000), "512MB");
        assert_eq!(byte_size::exact(1500 * 1024 * 1024), "1500MiB");
        assert_eq!(byte_size::exact(1_234_567), "1234567");
        assert_eq!(byte_size::format(60 * 1024 * 1024), "60MiB");
        assert_eq!(byte_size::format(70_570_000), "67.3MiB");
        assert_eq!(byte_size::format(512_000_000), "488.3MiB");
    }
    use super::*;

    #[test]
    fn minimal_toml_gets_every_default() {
        let spec: JobSpec = toml::from_str("name = \"api\"\ncommand = \"node server.js\"").unwrap();
        assert_eq!(spec, JobSpec::new("api", "node server.js"));
        assert_eq!(spec.restart.delay, Duration::from_secs(1));
        assert_eq!(spec.restart.backoff, 1.5);
        assert_eq!(spec.restart.max_delay, Duration::from_secs(300));
        assert_eq!(spec.restart.min_uptime, Duration::from_secs(10));
        assert_eq!(spec.restart.success_exit_codes, vec![0]);
        assert_eq!(spec.stop_timeout, Duration::from_secs(10));
        assert_eq!(spec.stop_signal.as_str(), "TERM");
        assert_eq!(spec.logs.max_size, 10 * 1024 * 1024);
        assert_eq!(spec.logs.max_files, 5);
    }

    #[test]
    fn restart_reads_as_a_string_or_a_table() {
        let short: JobSpec = toml::from_str("name='a'\ncommand='x'\nrestart='always'").unwrap();
        assert_eq!(short.restart.mode, RestartMode::Always);
        assert_eq!(short.restart.max_retries, 5);

        let table: JobSpec = toml::from_str(
            "name='a'\ncommand='x'\n[restart]\nmode='never'\ndelay='30m'\nmax_retries=0\nsuccess_exit_codes=[0,3]",
        )
        .unwrap();
        assert_eq!(table.restart.mode, RestartMode::Never);
        assert_eq!(table.restart.delay, Duration::from_secs(1800));
        assert_eq!(table.restart.max_retries, 0);
        assert_eq!(table.restart.success_exit_codes, vec![0, 3]);
        assert_eq!(table.restart.backoff, 1.5);
    }

    #[test]
    fn json_and_toml_round_trip() {
        let mut spec = JobSpec::new("worker.1", "python3 -u worker.py --queue 'high prio'");
        spec.env.insert("RUST_LOG".into(), "debug".into());
        spec.group = Some("backend".into());
        spec.restart.mode = RestartMode::Always;
        spec.restart.delay = Duration::from_millis(250);
        spec.stop_signal = SignalName::parse("SIGINT").unwrap();
        spec.logs.max_size = 1024 * 1024;

        let json = serde_json::to_string(&spec).unwrap();
        assert_eq!(serde_json::from_str::<JobSpec>(&json).unwrap(), spec);
        let text = toml::to_string(&spec).unwrap();
        assert_eq!(toml::from_str::<JobSpec>(&text).unwrap(), spec);
    }

    #[test]
    fn null_means_absent_for_optional_fields() {
        let spec: JobSpec = serde_json::from_str(
            r#"{"name":"a","command":"x","max_memory":null,"cwd":null,"group":null,
                "schedule":null,"health":null,"webhook":null,"restart_schedule":null}"#,
        )
        .unwrap();
        assert_eq!(spec, JobSpec::new("a", "x"));
        let task: JobSpec = serde_json::from_str(
            r#"{"name":"t","command":"x","kind":"task","schedule":{"cron":"@daily","every":null,"at":null}}"#,
        )
        .unwrap();
        assert_eq!(task.schedule.unwrap().every, None);
        let sized: JobSpec =
            serde_json::from_str(r#"{"name":"a","command":"x","max_memory":"300MiB"}"#).unwrap();
        assert_eq!(sized.max_memory, Some(300 * 1024 * 1024));
    }

    #[test]
    fn unknown_fields_are_refused_by_name() {
        let err = toml::from_str::<JobSpec>("name='a'\ncommand='x'\nrestrat='always'").unwrap_err();
        assert!(err.to_string().contains("restrat"), "{err}");
        let err = serde_json::from_str::<JobSpec>(
            r#"{"name":"a","command":"x","restart":{"dealy":"1s"}}"#,
        )
        .unwrap_err();
        assert!(err.to_string().contains("dealy"), "{err}");
    }

    #[test]
    fn signal_names_are_normalised() {
        assert_eq!(SignalName::parse("sigterm").unwrap().as_str(), "TERM");
        assert_eq!(SignalName::parse("INT").unwrap().as_str(), "INT");
        assert!(SignalName::parse("SIGFOO").is_err());
        assert!(SignalName::parse("STOP").is_err());
    }

    #[test]
    fn only_what_a_process_starts_with_needs_a_restart() {
        type Change = (&'static str, fn(&mut JobSpec));
        let old = JobSpec::new("api", "node server.js");
        let changes: [Change; 8] = [
            ("command", |s| s.command = "node other.js".into()),
            ("shell", |s| s.shell = true),
            ("cwd", |s| s.cwd = Some("/srv".into())),
            ("env", |s| {
                s.env.insert("PORT".into(), "80".into());
            }),
            ("env_files", |s| s.env_files = vec![".env".into()]),
            ("nice", |s| s.nice = Some(5)),
            ("rlimits", |s| s.rlimits.nofile = Some(256)),
            ("kind", |s| s.kind = JobKind::Task),
        ];
        for (field, change) in changes {
            let mut new = old.clone();
            change(&mut new);
            assert!(new.restart_needed(&old), "{field} needs a restart");
        }
        let live: [Change; 12] = [
            ("group", |s| s.group = Some("web".into())),
            ("enabled", |s| s.enabled = false),
            ("restart", |s| s.restart.max_retries = 9),
            ("stop_signal", |s| {
                s.stop_signal = SignalName::parse("INT").unwrap()
            }),
            ("stop_timeout", |s| s.stop_timeout = Duration::from_secs(1)),
            ("logs", |s| s.logs.max_files = 2),
            ("health", |s| {
                s.health = Some(serde_json::from_str(r#"{"tcp":"127.0.0.1:1"}"#).unwrap())
            }),
            ("max_memory", |s| s.max_memory = Some(1 << 30)),
            ("notify", |s| s.notify = false),
            ("depends_on", |s| {
                s.depends_on = vec![crate::stack::Dependency {
                    job: "db".into(),
                    condition: crate::stack::Condition::Started,
                }]
            }),
            ("watch", |s| {
                s.watch = Some(crate::stack::WatchSpec::default())
            }),
            ("ports", |s| s.ports = vec![8080]),
        ];
        for (field, change) in live {
            let mut new = old.clone();
            change(&mut new);
            assert!(
                !new.restart_needed(&old),
                "{field} applies without a restart"
            );
        }
        assert!(!old.clone().restart_needed(&old));
    }

    #[test]
    fn sizes_read_as_text_or_bytes() {
        assert_eq!(byte_size::parse("10MiB").unwrap(), 10 * 1024 * 1024);
        assert_eq!(byte_size::parse("512KB").unwrap(), 512_000);
        let spec: JobSpec = toml::from_str("name='a'\ncommand='x'\n[logs]\nmax_size=4096").unwrap();
        assert_eq!(spec.logs.max_size, 4096);
        assert!(byte_size::parse("lots").is_err());
    }
}
