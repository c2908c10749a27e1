//! The flags of `sentinel add` and `sentinel edit`: every job field, and on `edit` the flags
//! that remove a setting or turn it back on.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};
use sentinel_proto::schedule::{MissedPolicy, Overlap};
use sentinel_proto::{Condition, Dependency, JobKind, RestartMode, SignalName};

use super::duration;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum KindArg {
    Service,
    Task,
}

impl From<KindArg> for JobKind {
    fn from(kind: KindArg) -> JobKind {
        match kind {
            KindArg::Service => JobKind::Service,
            KindArg::Task => JobKind::Task,
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum RestartArg {
    Always,
    OnFailure,
    Never,
}

impl From<RestartArg> for RestartMode {
    fn from(mode: RestartArg) -> RestartMode {
        match mode {
            RestartArg::Always => RestartMode::Always,
            RestartArg::OnFailure => RestartMode::OnFailure,
            RestartArg::Never => RestartMode::Never,
        }
    }
}

fn size(text: &str) -> Result<u64, String> {
    sentinel_proto::job::byte_size::parse(text)
}

/// `db`, `db:healthy`, `migrate:completed`, `db:healthy:restart` (restart with db).
fn dependency(text: &str) -> Result<Dependency, String> {
    let mut parts = text.split(':');
    let job = parts.next().unwrap_or_default();
    let mut dependency = Dependency::on(job);
    for part in parts {
        dependency = match part {
            "started" => dependency.when(Condition::Started),
            "healthy" => dependency.when(Condition::Healthy),
            "completed" => dependency.when(Condition::Completed),
            "restart" => dependency.restarting(),
            other => {
                return Err(format!(
                    "{other:?} is not a condition; use started, healthy or completed, and :restart to restart with {job}"
                ))
            }
        };
    }
    Ok(dependency)
}

fn signal(text: &str) -> Result<SignalName, String> {
    SignalName::parse(text)
}

fn env_pair(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) => Ok((key.to_string(), value.to_string())),
        None => Err(format!("{text:?} is not KEY=VALUE")),
    }
}

/// Every job field, as flags.
#[derive(Debug, Args)]
pub struct JobArgs {
    /// The command as one string, parsed with shell-like quoting
    #[arg(long, value_name = "COMMAND")]
    pub cmd: Option<String>,
    /// Run the command through /bin/sh -c (pipes, globs, &&)
    #[arg(long)]
    pub shell: bool,
    /// Working directory
    #[arg(long, value_name = "DIR")]
    pub cwd: Option<PathBuf>,
    /// Environment variable, repeatable
    #[arg(long = "env", value_name = "KEY=VALUE", value_parser = env_pair)]
    pub env: Vec<(String, String)>,
    /// Keep this variable's value (from --env or an env file) out of output, logs and
    /// exports; repeatable
    #[arg(long = "secret", value_name = "KEY")]
    pub secrets: Vec<String>,
    #[arg(long)]
    pub group: Option<String>,
    #[arg(long, value_enum)]
    pub kind: Option<KindArg>,
    /// When to restart
    #[arg(long, value_enum)]
    pub restart: Option<RestartArg>,
    /// Retries of a failing job before it is `failed` (0 = never give up)
    #[arg(long, value_name = "N")]
    pub max_retries: Option<u32>,
    /// Delay before the first retry, e.g. 1s, 30s, 5m
    #[arg(long, value_name = "DURATION", value_parser = duration)]
    pub delay: Option<Duration>,
    /// Multiplier of the delay after each consecutive failure (1.0 = constant)
    #[arg(long, value_name = "FACTOR")]
    pub backoff: Option<f64>,
    /// Longest delay between retries
    #[arg(long, value_name = "DURATION", value_parser = duration)]
    pub max_delay: Option<Duration>,
    /// Exit codes that count as success, e.g. 0,3
    #[arg(long, value_name = "CODES", value_delimiter = ',')]
    pub success_codes: Option<Vec<i32>>,
    /// A run this long resets the failure count
    #[arg(long, value_name = "DURATION", value_parser = duration)]
    pub min_uptime: Option<Duration>,
    /// Signal sent to the job's process group on stop
    #[arg(long, value_name = "SIGNAL", value_parser = signal)]
    pub stop_signal: Option<SignalName>,
    /// Grace period before KILL
    #[arg(long, value_name = "DURATION", value_parser = duration)]
    pub stop_timeout: Option<Duration>,
    /// Size of a log file before it rotates, e.g. 10MiB
    #[arg(long, value_name = "SIZE", value_parser = size)]
    pub log_max_size: Option<u64>,
    /// Rotated log files kept
    #[arg(long, value_name = "N")]
    pub log_max_files: Option<u32>,
    /// Run the task on a cron schedule: "0 2 * * *", "*/30 * * * * *", "@hourly"
    #[arg(long, value_name = "EXPR", conflicts_with_all = ["every", "at"])]
    pub cron: Option<String>,
    /// Run the task at a fixed interval, e.g. 15m
    #[arg(long, value_name = "DURATION", value_parser = duration, conflicts_with = "at")]
    pub every: Option<Duration>,
    /// Run the task once: "2026-12-01 09:00" (local) or RFC 3339
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
    /// When a scheduled run is due and the last one still runs
    #[arg(long, value_enum)]
    pub overlap: Option<OverlapArg>,
    /// Fire times passed while asleep or stopped: run once, or skip
    #[arg(long, value_enum)]
    pub missed: Option<MissedArg>,
    /// Restart a running service on a cron schedule, e.g. "0 4 * * *"
    #[arg(long, value_name = "EXPR")]
    pub restart_schedule: Option<String>,
    /// Keep the job but never start it
    #[arg(long)]
    pub disabled: bool,
    /// Do not start it with the engine
    #[arg(long)]
    pub no_autostart: bool,
    /// Wait for another job first: JOB, JOB:healthy or JOB:completed, with :restart to restart
    /// along with it (JOB:healthy:restart); repeatable
    #[arg(long = "depends-on", value_name = "JOB[:CONDITION][:restart]", value_parser = dependency)]
    pub depends_on: Vec<Dependency>,
    /// Restart the service when files under this path change (relative to --cwd); repeatable
    #[arg(long = "watch", value_name = "PATH")]
    pub watch: Vec<PathBuf>,
    /// Changes under the watched paths that do not count, as a glob; repeatable
    #[arg(long = "watch-ignore", value_name = "GLOB")]
    pub watch_ignore: Vec<String>,
    /// Changes closer together than this are one restart (default 500ms)
    #[arg(long, value_name = "DURATION", value_parser = duration)]
    pub watch_debounce: Option<Duration>,
    /// A KEY=value file read at every start (relative to --cwd); repeatable, later files win
    #[arg(long = "env-file", value_name = "FILE")]
    pub env_files: Vec<PathBuf>,
    /// A TCP port the service listens on, checked before it starts; repeatable
    #[arg(long = "port", value_name = "PORT")]
    pub ports: Vec<u16>,
    /// Scheduling priority, -20 (first) to 19 (last)
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub nice: Option<i32>,
    /// Most open files (RLIMIT_NOFILE)
    #[arg(long, value_name = "N")]
    pub max_open_files: Option<u64>,
    /// Largest core dump, e.g. 0 (none) or 1GiB (RLIMIT_CORE)
    #[arg(long, value_name = "SIZE", value_parser = size)]
    pub max_core_size: Option<u64>,
    /// Health check: a command run like the job's own; exit 0 is healthy
    #[arg(long, value_name = "COMMAND", conflicts_with_all = ["health_http", "health_tcp", "health_log"])]
    pub health_cmd: Option<String>,
    /// Health check: a URL fetched with GET; 2xx or 3xx is healthy
    #[arg(long, value_name = "URL", conflicts_with_all = ["health_tcp", "health_log"])]
    pub health_http: Option<String>,
    /// Health check: HOST:PORT must accept a TCP connection
    #[arg(long, value_name = "HOST:PORT", conflicts_with = "health_log")]
    pub health_tcp: Option<String>,
    /// Readiness on a log line: healthy once a line of output matches this regex, unhealthy
    /// if none has within --health-start-period + --health-timeout
    #[arg(long, value_name = "REGEX")]
    pub health_log: Option<String>,
    /// Time between health checks (default 10s)
    #[arg(long, value_name = "DURATION", value_parser = duration)]
    pub health_interval: Option<Duration>,
    /// A health check that takes longer has failed (default 5s)
    #[arg(long, value_name = "DURATION", value_parser = duration)]
    pub health_timeout: Option<Duration>,
    /// Failed health checks in a row before the job is unhealthy (default 3)
    #[arg(long, value_name = "N")]
    pub health_retries: Option<u32>,
    /// Failed health checks this soon after a start do not count (default 0s)
    #[arg(long, value_name = "DURATION", value_parser = duration)]
    pub health_start_period: Option<Duration>,
    /// Restart the job when it turns unhealthy (default true; false only reports it)
    #[arg(long, value_name = "BOOL")]
    pub health_restart: Option<bool>,
    /// Restart the job when its memory exceeds this, e.g. 512MiB (PM2's --max-memory-restart
    /// works too)
    #[arg(long, value_name = "SIZE", value_parser = size, visible_alias = "max-memory-restart")]
    pub max_memory: Option<u64>,
    /// No desktop notification, nor the global webhook, for this job's failures
    #[arg(long)]
    pub no_notify: bool,
    /// A URL that receives a JSON POST for this job's failures, besides the global webhook
    #[arg(long, value_name = "URL")]
    pub webhook: Option<String>,
}

impl JobArgs {
    /// The health-check settings given, by flag, for the message when there is no check.
    pub fn health_settings(&self) -> Vec<&'static str> {
        [
            ("--health-interval", self.health_interval.is_some()),
            ("--health-timeout", self.health_timeout.is_some()),
            ("--health-retries", self.health_retries.is_some()),
            ("--health-start-period", self.health_start_period.is_some()),
            ("--health-restart", self.health_restart.is_some()),
        ]
        .into_iter()
        .filter(|(_, given)| *given)
        .map(|(flag, _)| flag)
        .collect()
    }
}

/// Flags that turn a setting back on, or remove one, when editing.
#[derive(Debug, Args)]
pub struct EditToggles {
    #[arg(long, conflicts_with = "disabled")]
    pub enabled: bool,
    #[arg(long, conflicts_with = "no_autostart")]
    pub autostart: bool,
    /// Run the command directly again
    #[arg(long, conflicts_with = "shell")]
    pub no_shell: bool,
    /// Remove an environment variable, repeatable
    #[arg(long, value_name = "KEY")]
    pub unset_env: Vec<String>,
    /// Show a variable's value again (it was marked --secret), repeatable
    #[arg(long, value_name = "KEY")]
    pub not_secret: Vec<String>,
    /// Remove the job from its group
    #[arg(long, conflicts_with = "group")]
    pub no_group: bool,
    /// Use the engine's working directory
    #[arg(long, conflicts_with = "cwd")]
    pub no_cwd: bool,
    /// Remove the schedule (the task then runs only when asked)
    #[arg(long, conflicts_with_all = ["cron", "every", "at"])]
    pub no_schedule: bool,
    /// Remove the restart schedule
    #[arg(long, conflicts_with = "restart_schedule")]
    pub no_restart_schedule: bool,
    /// Remove every dependency
    #[arg(long, conflicts_with = "depends_on")]
    pub no_depends_on: bool,
    /// Stop watching files
    #[arg(long, conflicts_with_all = ["watch", "watch_ignore", "watch_debounce"])]
    pub no_watch: bool,
    /// Remove every env file
    #[arg(long, conflicts_with = "env_files")]
    pub no_env_files: bool,
    /// Remove every declared port
    #[arg(long, conflicts_with = "ports")]
    pub no_ports: bool,
    /// Remove the health check
    #[arg(long, conflicts_with_all = [
        "health_cmd", "health_http", "health_tcp", "health_log", "health_interval",
        "health_timeout", "health_retries", "health_start_period", "health_restart",
    ])]
    pub no_health: bool,
    /// Remove the memory limit
    #[arg(long, conflicts_with = "max_memory")]
    pub no_max_memory: bool,
    /// Notify about this job's failures again
    #[arg(long, conflicts_with = "no_notify")]
    pub notify: bool,
    /// Remove the job's own webhook
    #[arg(long, conflicts_with = "webhook")]
    pub no_webhook: bool,
    /// Back to the engine's priority
    #[arg(long, conflicts_with = "nice")]
    pub no_nice: bool,
    /// Remove the open-files limit
    #[arg(long, conflicts_with = "max_open_files")]
    pub no_max_open_files: bool,
    /// Remove the core-dump limit
    #[arg(long, conflicts_with = "max_core_size")]
    pub no_max_core_size: bool,
    /// Remove every resource limit (--max-open-files, --max-core-size)
    #[arg(long, conflicts_with_all = ["max_open_files", "max_core_size"])]
    pub no_rlimits: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum OverlapArg {
    Skip,
    Queue,
    Replace,
}

impl From<OverlapArg> for Overlap {
    fn from(overlap: OverlapArg) -> Overlap {
        match overlap {
            OverlapArg::Skip => Overlap::Skip,
            OverlapArg::Queue => Overlap::Queue,
            OverlapArg::Replace => Overlap::Replace,
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum MissedArg {
    Skip,
    RunOnce,
}

impl From<MissedArg> for MissedPolicy {
    fn from(missed: MissedArg) -> MissedPolicy {
        match missed {
            MissedArg::Skip => MissedPolicy::Skip,
            MissedArg::RunOnce => MissedPolicy::RunOnce,
        }
    }
}
