//! The command line, as clap reads it.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use sentinel_proto::config::ConfigFormat;

mod job;
pub use job::{EditToggles, JobArgs};

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

    /// The engine of another machine, reached with your ssh: ssh://[user@]host[:port]
    /// (or unix:///path/to/sentinel.sock)
    #[arg(
        long,
        short = 'H',
        global = true,
        env = "SENTINEL_HOST",
        value_name = "URL"
    )]
    pub host: Option<String>,

    /// A named engine from `sentinel context ls` (`default`: this machine's)
    #[arg(long, global = true, env = "SENTINEL_CONTEXT", value_name = "NAME")]
    pub context: Option<String>,

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
        after_help = "Examples:\n  sentinel export > jobs.toml\n  sentinel export --group backend --format json\n  sentinel export api --as systemd > api.service\n  sentinel export --all --as kubernetes --image example/app:1.0 > k8s.yaml"
    )]
    Export {
        #[arg(conflicts_with_all = ["group", "all"])]
        names: Vec<String>,
        #[arg(long, conflicts_with = "all")]
        group: Option<String>,
        /// Every job (what no names and no group also mean)
        #[arg(long)]
        all: bool,
        #[arg(long, value_enum, default_value = "toml")]
        format: FormatArg,
        /// Write the jobs as another system's files: one job as a LaunchAgent plist or a
        /// systemd user unit, or any jobs as Kubernetes manifests
        #[arg(long = "as", value_enum, value_name = "SYSTEM")]
        target: Option<ExportAs>,
        /// With --as kubernetes: the image every container runs its job's command in
        /// (required: jobs run commands, not images)
        #[arg(long, value_name = "IMAGE")]
        image: Option<String>,
        /// Write the values of secret variables (masked otherwise; an import of a masked
        /// value keeps the value the job already has)
        #[arg(long)]
        show_secrets: bool,
    },
    /// Read jobs from a file: ours (TOML/JSON), or another tool's with --from
    #[command(
        after_help = "Examples:\n  sentinel import jobs.toml --dry-run\n  sentinel import jobs.toml --replace\n  sentinel import --from launchd ~/Library/LaunchAgents\n  sentinel import --from pm2 ecosystem.config.json\n  sentinel import --from supervisord /etc/supervisor/conf.d/app.conf\n  sentinel import --from procfile Procfile\n  sentinel import --from process-compose process-compose.yaml"
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
    /// Name the engines of other machines, and choose the one commands talk to
    #[command(subcommand, after_help = CONTEXT_HELP)]
    Context(ContextCommand),
    /// Connect stdin and stdout to this machine's engine: what `--host ssh://…` runs on the
    /// remote machine
    DialStdio,
    /// Serve the Model Context Protocol on stdio, for coding agents: `claude mcp add sentinel -- sentinel mcp`
    Mcp,
}

const CONTEXT_HELP: &str = "\
Examples:
  sentinel context add build-box ssh://deploy@build.example.com
  sentinel context add pi ssh://pi@10.0.0.7:2222 --sentinel /home/pi/.cargo/bin/sentinel
  sentinel context use build-box        every command now talks to build-box
  sentinel --context pi ls              one command to another engine
  sentinel context use default          back to this machine's engine

The remote machine needs SentinelZero's `sentinel` and a running engine (the app, or
`sentinel daemon`); ssh logs in with your keys, agent and ~/.ssh/config.";

#[derive(Debug, Subcommand)]
pub enum ContextCommand {
    /// Name an engine of another machine
    Add {
        /// 1 to 32 letters, digits, '_' and '-'
        name: String,
        /// ssh://[user@]host[:port]
        host: String,
        #[arg(long, default_value = "")]
        description: String,
        /// The remote `sentinel`, when it is not on the PATH of a non-interactive ssh session
        /// there
        #[arg(long, value_name = "PATH")]
        sentinel: Option<String>,
    },
    /// List the engines, the one in use marked with *
    Ls {
        #[arg(long)]
        json: bool,
    },
    /// Use this engine for every command from now on (`default`: this machine's)
    Use { name: String },
    /// Print the name of the engine in use
    Show,
    /// Forget engines
    Rm {
        #[arg(required = true)]
        names: Vec<String>,
    },
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

/// What `export --as` writes. Kubernetes is one more value of the same flag rather than a
/// flag of its own: `--as` already means "the jobs as another system's files", and the
/// launchd and systemd hand-offs keep their spelling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportAs {
    /// A LaunchAgent plist (one job)
    Launchd,
    /// A systemd user unit (one job)
    Systemd,
    /// Kubernetes manifests: Deployments, CronJobs, Jobs, ConfigMaps and Secrets
    Kubernetes,
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

fn duration(text: &str) -> Result<Duration, String> {
    sentinel_proto::duration::parse(text)
}

/// How `sentinel top` orders its rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TopOrder {
    Cpu,
    Memory,
    Name,
}
