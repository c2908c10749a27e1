//! The command line, as clap reads it.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use sentinel_proto::config::ConfigFormat;
use sentinel_proto::schedule::{MissedPolicy, Overlap};
use sentinel_proto::{Condition, Dependency, JobKind, RestartMode, SignalName};

const EXAMPLES: &str = "\
Examples:
  sentinel daemon                                   run the engine headless, in the foreground
  sentinel add api --cwd ~/code/api --restart always -- node server.js
  sentinel add backup --cron '0 2 * * *' --shell --cmd 'rsync -a ~/docs /mnt/backup'
  sentinel add report --every 15m -- python3 report.py
  sentinel schedule '30 9 * * 1-5' -n 3
  sentinel ls
  sentinel logs api -f
  sentinel restart --group backend
  sentinel edit api --delay 5s --max-retries 10
  sentinel runs api
  sentinel events -f --json";

const UP_HELP: &str = "\
A project file is a job file whose jobs belong together:

  project = \"shop\"            # default: the directory's name
  [[jobs]]
  name = \"db\"
  command = \"postgres -D data\"
  health = { log = \"ready to accept connections\", timeout = \"60s\" }
  [[jobs]]
  name = \"api\"
  command = \"cargo run\"
  cwd = \"api\"                   # relative to the file
  depends_on = [{ job = \"db\", condition = \"healthy\", restart = true }]

Its jobs are named PROJECT.NAME (shop.db). `up` again leaves unchanged jobs running, restarts
changed ones and removes jobs the file no longer has.

Examples:
  sentinel up
  sentinel up ~/code/shop -f
  sentinel stack shop --timings
  sentinel down";

/// Start, watch and restart command-line processes.
#[derive(Debug, Parser)]
#[command(name = "sentinel", version, after_help = EXAMPLES)]
pub struct Cli {
    /// The engine's socket [default: $SENTINEL_HOME/sentinel.sock or the platform's]
    #[arg(long, global = true, env = "SENTINEL_SOCKET", value_name = "PATH")]
    pub socket: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the engine in the foreground, headless; Ctrl-C stops its jobs and exits
    Daemon,
    /// Add a job: `sentinel add NAME -- CMD ARGS…` or `--cmd "CMD ARGS…"`
    #[command(
        after_help = "Example:\n  sentinel add worker --group backend --env QUEUE=high -- python3 -u worker.py"
    )]
    Add {
        name: String,
        #[command(flatten)]
        job: JobArgs,
        /// The command and its arguments, after `--`
        #[arg(last = true, value_name = "CMD")]
        argv: Vec<String>,
    },
    /// Change a job; only the flags given change
    #[command(
        after_help = "Example:\n  sentinel edit api --restart on-failure --delay 2s --env PORT=8080"
    )]
    Edit {
        name: String,
        #[command(flatten)]
        job: JobArgs,
        #[command(flatten)]
        toggles: EditToggles,
        #[arg(last = true, value_name = "CMD")]
        argv: Vec<String>,
    },
    /// Stop and remove jobs
    Rm {
        #[arg(required = true)]
        names: Vec<String>,
    },
    /// List jobs with their state
    Ls {
        /// Only jobs of this group
        #[arg(long)]
        group: Option<String>,
        /// Only jobs of this project
        #[arg(long, short)]
        project: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Bring a project up: create or update the jobs of its sentinel.toml (or
    /// process-compose.yaml) and start them in dependency order, showing each until it is ready
    #[command(after_help = UP_HELP)]
    Up {
        /// The project's directory or file [default: the current directory, or the nearest
        /// parent with a sentinel.toml]
        dir: Option<PathBuf>,
        /// Stay attached with the jobs' merged output (Ctrl-C detaches; the jobs keep running)
        #[arg(short, long)]
        follow: bool,
        /// How long to wait for every job to be ready
        #[arg(long, value_parser = duration, default_value = "5m", value_name = "DURATION")]
        wait: Duration,
        #[arg(long)]
        json: bool,
    },
    /// Stop a project's jobs, dependants first
    Down {
        /// The project's directory or file [default: the current directory, or the nearest
        /// parent with a sentinel.toml]
        dir: Option<PathBuf>,
        /// The project's name instead of its directory
        #[arg(long, short, conflicts_with = "dir")]
        project: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// List projects, or show one project's jobs (with --timings: how its latest start went)
    Stack {
        /// The project [default: the one of the current directory]
        name: Option<String>,
        /// Each job's time to start and to ready, and the critical chain
        #[arg(long)]
        timings: bool,
        #[arg(long)]
        json: bool,
    },
    /// Live CPU, memory and disk use of jobs (Ctrl-C to quit)
    Top {
        /// Only jobs of this group
        #[arg(long)]
        group: Option<String>,
        /// Order by
        #[arg(long, value_enum, default_value_t = TopOrder::Cpu)]
        sort: TopOrder,
        /// Print the table once and exit (the default when output is not a terminal)
        #[arg(long)]
        once: bool,
    },
    /// Show one job in detail
    Status {
        name: String,
        #[arg(long)]
        json: bool,
        /// Show the values of secret variables
        #[arg(long)]
        show_secrets: bool,
    },
    /// Start jobs
    Start {
        #[command(flatten)]
        which: Selection,
        #[arg(long)]
        json: bool,
    },
    /// Stop jobs (and everything they started)
    Stop {
        #[command(flatten)]
        which: Selection,
        #[arg(long)]
        json: bool,
    },
    /// Restart jobs
    Restart {
        #[command(flatten)]
        which: Selection,
        #[arg(long)]
        json: bool,
    },
    /// Run a job now, whatever its schedule (which stays as it is)
    Run { name: String },
    /// Enable a job: it may start, and its schedule fires again
    Enable { name: String },
    /// Disable a job without removing it: it stops and its schedule pauses
    Disable { name: String },
    /// Show when a schedule fires and what it means, without creating anything
    #[command(
        after_help = "Examples:\n  sentinel schedule \"0 */15 * * * *\" -n 5\n  sentinel schedule \"30 2 * * 1-5\"\n  sentinel schedule --every 90m"
    )]
    Schedule {
        /// A cron expression: 5 fields, 6 with seconds first, or @hourly, @daily, @weekly, @monthly
        #[arg(required_unless_present_any = ["every", "at"], conflicts_with_all = ["every", "at"])]
        cron: Option<String>,
        #[arg(long, value_name = "DURATION")]
        every: Option<String>,
        #[arg(long, value_name = "TIME", conflicts_with = "every")]
        at: Option<String>,
        /// How many fire times
        #[arg(short = 'n', default_value_t = 5)]
        count: usize,
        #[arg(long)]
        json: bool,
    },
    /// Show a job's output
    Logs {
        name: String,
        /// Keep printing new lines as they come
        #[arg(short, long)]
        follow: bool,
        /// How many of the last lines
        #[arg(short = 'n', long = "lines", default_value_t = 100)]
        lines: usize,
        /// Only standard error
        #[arg(long, conflicts_with = "stdout")]
        stderr: bool,
        /// Only standard output
        #[arg(long)]
        stdout: bool,
        /// Show each line's time and stream
        #[arg(short, long)]
        timestamps: bool,
        #[arg(long)]
        json: bool,
    },
    /// Show a job's runs, newest first
    Runs {
        name: String,
        #[arg(short = 'n', long = "limit", default_value_t = 20)]
        limit: u32,
        #[arg(long)]
        json: bool,
    },
    /// Show what the engine did; with -f, as it happens
    Events {
        #[arg(short, long)]
        follow: bool,
        #[arg(short = 'n', long = "limit", default_value_t = 50)]
        limit: u32,
        #[arg(long)]
        json: bool,
    },
    /// Write jobs to a file you can keep in git (all, a group, or named jobs)
    #[command(
        after_help = "Examples:\n  sentinel export > jobs.toml\n  sentinel export --group backend --format json\n  sentinel export api --as systemd > api.service"
    )]
    Export {
        names: Vec<String>,
        #[arg(long)]
        group: Option<String>,
        #[arg(long, value_enum, default_value = "toml")]
        format: FormatArg,
        /// Hand one job to the OS: a LaunchAgent plist or a systemd user unit
        #[arg(long = "as", value_enum, value_name = "SYSTEM")]
        handoff: Option<crate::handoff::System>,
        /// Write the values of secret variables (masked otherwise; an import of a masked
        /// value keeps the value the job already has)
        #[arg(long)]
        show_secrets: bool,
    },
    /// Read jobs from a file: ours (TOML/JSON), or another tool's with --from
    #[command(
        after_help = "Examples:\n  sentinel import jobs.toml --dry-run\n  sentinel import jobs.toml --replace\n  sentinel import --from launchd ~/Library/LaunchAgents\n  sentinel import --from pm2 ecosystem.config.json\n  sentinel import --from supervisord /etc/supervisor/conf.d/app.conf\n  sentinel import --from procfile Procfile"
    )]
    Import {
        file: PathBuf,
        /// Also remove the jobs the file does not have
        #[arg(long)]
        replace: bool,
        /// Only show what would change
        #[arg(long)]
        dry_run: bool,
        /// The file is another tool's
        #[arg(long, value_enum)]
        from: Option<crate::migrate::Source>,
    },
    /// Show who listens on jobs' declared ports; --free stops a job's own leftovers
    #[command(
        after_help = "Examples:\n  sentinel ports\n  sentinel ports api\n  sentinel ports api --free"
    )]
    Ports {
        /// One job (default: every job that declares ports)
        name: Option<String>,
        /// Stop the processes left over from earlier runs of the job that hold its ports
        #[arg(long, requires = "name")]
        free: bool,
        #[arg(long)]
        json: bool,
    },
    /// Show the environment a job's next run gets from its env files and env, with sources
    Env {
        name: String,
        #[arg(long)]
        json: bool,
        /// Show the values of secret variables
        #[arg(long)]
        show_secrets: bool,
    },
    /// Print shell completions: `sentinel completions zsh > ~/.zfunc/_sentinel`
    Completions { shell: clap_complete::Shell },
    /// Serve the Model Context Protocol on stdio, for coding agents: `claude mcp add sentinel -- sentinel mcp`
    Mcp,
}

/// Which jobs an action applies to: names, a group, or all.
#[derive(Debug, Args)]
#[group(skip)]
pub struct Selection {
    #[arg(required_unless_present_any = ["group", "all"], conflicts_with_all = ["group", "all"])]
    pub names: Vec<String>,
    /// Every job of this group
    #[arg(long, conflicts_with = "all")]
    pub group: Option<String>,
    /// Every job
    #[arg(long)]
    pub all: bool,
}

impl From<Selection> for sentinel_proto::action::Selection {
    fn from(which: Selection) -> Self {
        match (which.group, which.all) {
            (Some(group), _) => sentinel_proto::action::Selection::Group(group),
            (None, true) => sentinel_proto::action::Selection::All,
            (None, false) => sentinel_proto::action::Selection::Names(which.names),
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FormatArg {
    Toml,
    Json,
}

impl From<FormatArg> for ConfigFormat {
    fn from(format: FormatArg) -> ConfigFormat {
        match format {
            FormatArg::Toml => ConfigFormat::Toml,
            FormatArg::Json => ConfigFormat::Json,
        }
    }
}

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

fn duration(text: &str) -> Result<Duration, String> {
    sentinel_proto::duration::parse(text)
}

fn size(text: &str) -> Result<u64, String> {
    sentinel_proto::job::byte_size::parse(text)
}

/// `db`, `db:healthy`, `migrate:completed`.
fn dependency(text: &str) -> Result<Dependency, String> {
    let (job, condition) = match text.split_once(':') {
        None => (text, Condition::Started),
        Some((job, "started")) => (job, Condition::Started),
        Some((job, "healthy")) => (job, Condition::Healthy),
        Some((job, "completed")) => (job, Condition::Completed),
        Some((_, other)) => {
            return Err(format!(
                "{other:?} is not a condition; use started, healthy or completed"
            ))
        }
    };
    Ok(Dependency {
        job: job.to_string(),
        condition,
        restart: false,
    })
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
    /// Wait for another job first: JOB, JOB:healthy or JOB:completed; repeatable
    #[arg(long = "depends-on", value_name = "JOB[:CONDITION]", value_parser = dependency)]
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

/// How `sentinel top` orders its rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TopOrder {
    Cpu,
    Memory,
    Name,
}
