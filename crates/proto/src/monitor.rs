//! Monitoring vocabulary: resource samples, health checks and their state.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What a job's whole process group used, at one instant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ResourceSample {
    pub at: DateTime<Utc>,
    /// Percent of one core since the previous sample (200 = two cores busy).
    pub cpu_percent: f64,
    /// Resident memory summed over the group's processes.
    pub memory_bytes: u64,
    /// Processes in the group.
    pub processes: u32,
    /// Bytes the group read from and wrote to storage since the engine started.
    pub disk_read_bytes: u64,
    pub disk_written_bytes: u64,
    /// CPU time the job's processes used since the engine started, in seconds.
    pub cpu_seconds: f64,
}

/// A sample together with the job it belongs to, as the sampling event carries it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct JobSample {
    pub job: String,
    #[serde(flatten)]
    pub sample: ResourceSample,
}

/// One point of a job's sample history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct HistoryPoint {
    pub at: DateTime<Utc>,
    pub cpu_percent: f64,
    pub memory_bytes: u64,
    pub processes: u32,
}

/// A job's recent samples, oldest first, for sparklines.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ResourceHistory {
    pub job: String,
    /// Time between samples.
    pub interval_ms: u64,
    pub samples: Vec<HistoryPoint>,
}

/// What the health check last concluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum HealthState {
    /// Not checked yet, or still inside the start period.
    Unknown,
    Healthy,
    /// `retries` checks in a row failed.
    Unhealthy,
}

impl HealthState {
    pub fn as_str(self) -> &'static str {
        match self {
            HealthState::Unknown => "unknown",
            HealthState::Healthy => "healthy",
            HealthState::Unhealthy => "unhealthy",
        }
    }
}

/// A health check: exactly one of `exec`, `http`, `tcp` or `log`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct HealthCheck {
    /// A command run like the job's own (same cwd and env); exit 0 is healthy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exec: Option<String>,
    /// A URL fetched with GET; a 2xx or 3xx answer is healthy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http: Option<String>,
    /// `host:port` that must accept a TCP connection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp: Option<String>,
    /// A regular expression matched against each line the job prints (stdout and stderr):
    /// healthy at the first match; unhealthy when none matched within `start_period` +
    /// `timeout` of the start. `interval` and `retries` do not apply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log: Option<String>,
    #[serde(default = "default_interval", with = "crate::duration")]
    #[schema(value_type = String, example = "10s")]
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub interval: Duration,
    /// A check that takes longer has failed.
    #[serde(default = "default_timeout", with = "crate::duration")]
    #[schema(value_type = String, example = "5s")]
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub timeout: Duration,
    /// Failed checks in a row before the job is unhealthy.
    #[serde(default = "default_retries")]
    pub retries: u32,
    /// Failures in this time after a start do not count (a success ends it early).
    #[serde(default, with = "crate::duration")]
    #[schema(value_type = String, example = "30s")]
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub start_period: Duration,
    /// Restart the job when it turns unhealthy.
    #[serde(default = "yes")]
    pub restart: bool,
}

fn default_interval() -> Duration {
    Duration::from_secs(10)
}

fn default_timeout() -> Duration {
    Duration::from_secs(5)
}

fn default_retries() -> u32 {
    3
}

fn yes() -> bool {
    true
}

/// The one kind of probe a health check names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Probe {
    Exec(String),
    /// Host (with port) and path of a plain-HTTP URL.
    Http {
        url: String,
    },
    Tcp(String),
    /// A pattern that marks the job ready when a line of its output matches.
    Log(String),
}

/// The longest `health.log` pattern; a readiness line is a phrase, not a program.
pub const MAX_LOG_PATTERN: usize = 1024;

/// Compiles a `health.log` pattern with a bounded program size, so that no definition can make
/// the engine build a huge automaton.
pub fn log_pattern(pattern: &str) -> Result<regex::Regex, String> {
    if pattern.is_empty() {
        return Err("is empty; give a pattern such as \"listening on\"".into());
    }
    if pattern.len() > MAX_LOG_PATTERN {
        return Err(format!(
            "is {} bytes; use at most {MAX_LOG_PATTERN}",
            pattern.len()
        ));
    }
    regex::RegexBuilder::new(pattern)
        .size_limit(1 << 20)
        .dfa_size_limit(1 << 20)
        .build()
        .map_err(|err| match err {
            regex::Error::CompiledTooBig(_) => "is too complex a pattern".to_string(),
            other => format!(
                "{pattern:?} is not a regular expression: {}",
                first_line(&other.to_string())
            ),
        })
}

fn first_line(text: &str) -> String {
    // regex's messages draw the pattern with a caret over several lines; the last says why.
    text.lines()
        .rev()
        .find(|line| !line.trim().is_empty())
        .unwrap_or(text)
        .trim()
        .trim_start_matches("error: ")
        .to_string()
}

impl HealthCheck {
    /// A check of one kind with every default.
    pub fn new(probe: Probe) -> HealthCheck {
        let (mut exec, mut http, mut tcp, mut log) = (None, None, None, None);
        match probe {
            Probe::Exec(command) => exec = Some(command),
            Probe::Http { url } => http = Some(url),
            Probe::Tcp(address) => tcp = Some(address),
            Probe::Log(pattern) => log = Some(pattern),
        }
        HealthCheck {
            exec,
            http,
            tcp,
            log,
            interval: default_interval(),
            timeout: default_timeout(),
            retries: default_retries(),
            start_period: Duration::ZERO,
            restart: true,
        }
    }

    /// The probe, or the field at fault and why.
    pub fn probe(&self) -> Result<Probe, (&'static str, String)> {
        let given = [&self.exec, &self.http, &self.tcp, &self.log]
            .iter()
            .filter(|probe| probe.is_some())
            .count();
        if given > 1 {
            return Err((
                "health",
                "give only one of exec, http, tcp or log; a check probes one thing".into(),
            ));
        }
        if let Some(command) = &self.exec {
            if command.trim().is_empty() {
                return Err(("health.exec", "is empty; give a command to run".into()));
            }
            crate::validate::command_argv(command, false)
                .map_err(|message| ("health.exec", message))?;
            return Ok(Probe::Exec(command.clone()));
        }
        if let Some(url) = &self.http {
            check_http_url(url).map_err(|message| ("health.http", message))?;
            return Ok(Probe::Http { url: url.clone() });
        }
        if let Some(address) = &self.tcp {
            check_host_port(address).map_err(|message| ("health.tcp", message))?;
            return Ok(Probe::Tcp(address.clone()));
        }
        if let Some(pattern) = &self.log {
            log_pattern(pattern).map_err(|message| ("health.log", message))?;
            return Ok(Probe::Log(pattern.clone()));
        }
        Err((
            "health",
            "needs one of exec, http, tcp or log to say what to check".into(),
        ))
    }

    /// How long after a start a `log` check waits for its line before the job is unhealthy.
    pub fn log_deadline(&self) -> Duration {
        self.start_period.saturating_add(self.timeout)
    }

    /// Every problem with the check, by field.
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut problems = Vec::new();
        if let Err(problem) = self.probe() {
            problems.push(problem);
        }
        for (field, value, range) in [
            (
                "health.interval",
                self.interval,
                crate::limits::HEALTH_INTERVAL,
            ),
            (
                "health.timeout",
                self.timeout,
                crate::limits::HEALTH_TIMEOUT,
            ),
            (
                "health.start_period",
                self.start_period,
                crate::limits::HEALTH_START_PERIOD,
            ),
        ] {
            if let Some(message) = range.problem(value) {
                problems.push((field, message));
            }
        }
        if self.retries > crate::limits::MAX_HEALTH_RETRIES {
            problems.push((
                "health.retries",
                format!(
                    "{} is too many; use at most {}",
                    self.retries,
                    crate::limits::MAX_HEALTH_RETRIES
                ),
            ));
        }
        if self.retries == 0 {
            problems.push((
                "health.retries",
                "must be at least 1 (failed checks in a row before unhealthy)".into(),
            ));
        }
        problems
    }
}

/// `http://host:port/path` (plain HTTP: health endpoints live on the machine or the LAN).
fn check_http_url(url: &str) -> Result<(), String> {
    let Some(rest) = url.strip_prefix("http://") else {
        return Err(format!(
            "{url:?} must start with http:// (for example \"http://127.0.0.1:8080/health\")"
        ));
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.is_empty() {
        return Err(format!("{url:?} has no host"));
    }
    if authority.contains('@') {
        return Err(format!("{url:?}: credentials in the URL are not supported"));
    }
    Ok(())
}

/// `host:port`, with a port number.
fn check_host_port(address: &str) -> Result<(), String> {
    let Some((host, port)) = address.rsplit_once(':') else {
        return Err(format!(
            "{address:?} needs a port, as in \"127.0.0.1:5432\""
        ));
    };
    if host.is_empty() {
        return Err(format!("{address:?} has no host"));
    }
    match port.parse::<u16>() {
        Ok(0) | Err(_) => Err(format!("{port:?} in {address:?} is not a port (1-65535)")),
        Ok(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(toml_text: &str) -> HealthCheck {
        toml::from_str(toml_text).unwrap()
    }

    #[test]
    fn defaults_fill_everything_but_the_probe() {
        let health = check("tcp = \"127.0.0.1:5432\"");
        assert_eq!(health.probe(), Ok(Probe::Tcp("127.0.0.1:5432".into())));
        assert_eq!(health.interval, Duration::from_secs(10));
        assert_eq!(health.timeout, Duration::from_secs(5));
        assert_eq!(health.retries, 3);
        assert_eq!(health.start_period, Duration::ZERO);
        assert!(health.restart);
        assert!(health.problems().is_empty());
    }

    #[test]
    fn exactly_one_probe() {
        let none = check("interval = \"5s\"");
        assert_eq!(none.probe().unwrap_err().0, "health");
        let two = check("exec = \"true\"\ntcp = \"a:1\"");
        assert!(two.probe().unwrap_err().1.contains("only one"));
    }

    #[test]
    fn each_probe_is_checked() {
        let bad = [
            (
                "http = \"https://x/health\"",
                "health.http",
                "must start with http://",
            ),
            ("http = \"http:///health\"", "health.http", "has no host"),
            ("tcp = \"localhost\"", "health.tcp", "needs a port"),
            ("tcp = \"localhost:99999\"", "health.tcp", "is not a port"),
            ("exec = \"check 'unclosed\"", "health.exec", "quote"),
            ("exec = \"  \"", "health.exec", "is empty"),
            ("log = \"\"", "health.log", "is empty"),
            (
                "log = \"ready (\"",
                "health.log",
                "not a regular expression",
            ),
            ("log = \"\\\\w{1000}{1000}\"", "health.log", "too complex"),
        ];
        for (text, field, message) in bad {
            let (got_field, got_message) = check(text).probe().unwrap_err();
            assert_eq!(got_field, field, "{text}");
            assert!(got_message.contains(message), "{text}: {got_message}");
        }
        assert!(check("http = \"http://127.0.0.1:8080/health?x=1\"")
            .probe()
            .is_ok());
        assert_eq!(
            check("log = \"ready to accept connections\"").probe(),
            Ok(Probe::Log("ready to accept connections".into()))
        );
        let long = format!("log = \"{}\"", "a".repeat(MAX_LOG_PATTERN + 1));
        assert_eq!(check(&long).probe().unwrap_err().0, "health.log");
        let two = check("log = \"ready\"\nexec = \"true\"");
        assert!(two.probe().unwrap_err().1.contains("only one"));
    }

    #[test]
    fn ranges_are_checked() {
        let health = check("exec = \"true\"\ninterval = \"10ms\"\ntimeout = \"0s\"\nretries = 0");
        let fields: Vec<&str> = health.problems().iter().map(|p| p.0).collect();
        assert_eq!(
            fields,
            ["health.interval", "health.timeout", "health.retries"]
        );
    }

    #[test]
    fn unknown_fields_are_refused() {
        let err = toml::from_str::<HealthCheck>("exec = \"true\"\nretry = 2").unwrap_err();
        assert!(err.message().contains("unknown field `retry`"), "{err}");
    }
}
