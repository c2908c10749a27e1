//! The scenarios, each against a real daemon in a temporary home.

use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use sentinel_client::{ClientError, Follow, Streamed};
use sentinel_engine::logs::format::reassemble;
use sentinel_proto::secret::Secrets;
use sentinel_proto::{Action, EngineEvent, EventEnvelope, JobSpec, JobState, LogStream, Selection};
use sentinel_tests::{block_on, group_alive, request, wait_until, Home};
use serde_json::{json, Value};

mod app;
mod app_rest;
mod clients;
mod footprint;
mod logs;
mod monitor;
mod restart;
mod schedule;
mod tree;

use app::app_footprint;
use clients::{api_round_trip, cli_latency};
use footprint::idle_footprint;
use logs::log_throughput;
use monitor::monitoring_cost;
use restart::{crash_loop, restart_latency};
use schedule::schedule_lateness;
use tree::tree_stop;

use crate::chart;
use crate::peers::{self, Program};
use crate::procs;
use crate::stats::{cpu_seconds, ratio, rss_mib, summarize};

pub const ALL: &[&str] = &[
    "restart", "crash", "idle", "tree", "logs", "cli", "api", "schedule", "monitor", "app",
];

pub fn run(args: &[String]) {
    let quick = args.iter().any(|a| a == "--quick");
    QUICK.store(quick, std::sync::atomic::Ordering::Relaxed);
    let chart_file = args
        .iter()
        .position(|a| a == "--chart")
        .and_then(|i| args.get(i + 1));
    let chosen: Vec<&str> = args
        .iter()
        .map(String::as_str)
        .filter(|a| !a.starts_with("--") && Some(*a) != chart_file.map(String::as_str))
        .collect();
    let chosen = if chosen.is_empty() {
        ALL.to_vec()
    } else {
        chosen
    };
    println!(
        "# SentinelZero benchmarks{}\n",
        if quick { " (quick)" } else { "" }
    );
    println!(
        "{}; {} cores; {}; SentinelZero {}; `sentinel`: {}\n",
        chrono::Local::now().format("%Y-%m-%d"),
        cores(),
        peers::versions(),
        env!("CARGO_PKG_VERSION"),
        sentinel_tests::sentinel_bin().display()
    );
    for scenario in chosen {
        let began = Instant::now();
        match scenario {
            // Quick: every scenario and every peer driver runs, on tiny inputs, so that the
            // harness cannot rot; the figures mean nothing.
            "restart" => restart_latency(if quick { 1 } else { 25 }),
            "crash" => crash_loop(if quick { 1 } else { 20 }),
            // 90 s: half a minute to settle after the starts, then a minute with every
            // supervisor's periodic work in it (sentineld samples each job once a minute while
            // nobody watches).
            "idle" => idle_footprint(
                if quick { &[20] } else { &[50, 500, 2000] },
                if quick { 1 } else { 90 },
            ),
            "tree" => tree_stop(if quick { 1 } else { 10 }),
            "logs" => log_throughput(if quick { 10 } else { 200 }),
            "cli" => cli_latency(
                if quick { &[20] } else { &[50, 500] },
                if quick { 3 } else { 30 },
            ),
            "api" => api_round_trip(if quick { 10 } else { 200 }),
            "schedule" => schedule_lateness(if quick { 1 } else { 15 }, if quick { 1 } else { 20 }),
            "monitor" => monitoring_cost(
                if quick { 20 } else { 500 },
                if quick { 1 } else { 20 },
                if quick { 10 } else { 200 },
            ),
            "app" => app_footprint(
                if quick { 20 } else { 500 },
                if quick { 1 } else { 20 },
                if quick { 1 } else { 10 },
            ),
            other => eprintln!("unknown scenario {other:?}; known: {}", ALL.join(", ")),
        }
        eprintln!("{scenario}: {:.1} s", began.elapsed().as_secs_f64());
    }
    if let Some(file) = chart_file {
        let title = format!(
            "SentinelZero against its peers, {} ({} cores)",
            chrono::Local::now().format("%Y-%m-%d"),
            cores()
        );
        if let Some(svg) = chart::render(&title) {
            std::fs::write(file, svg).expect("the chart is written");
            eprintln!("chart written to {file}");
        }
    }
}

pub(super) static QUICK: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Lets a start-up settle before a steady state is measured; barely at all in quick mode,
/// whose figures mean nothing anyway.
pub(super) fn settle(normally: Duration) {
    if QUICK.load(std::sync::atomic::Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(100));
    } else {
        std::thread::sleep(normally);
    }
}

pub(super) fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// One call to the engine through the typed client; a refusal ends the benchmark.
pub(super) fn api<T>(call: impl std::future::Future<Output = Result<T, ClientError>>) -> T {
    block_on(call).unwrap_or_else(|err| panic!("the engine refused: {err}"))
}

/// Adds a job given as its JSON definition.
pub(super) fn add(home: &Home, spec: Value) {
    let spec: JobSpec = serde_json::from_value(spec).expect("a valid job definition");
    api(home.client().add(&spec));
}

pub(super) fn start_all(home: &Home) {
    api(home.client().act(Action::Start, Selection::All));
}

fn running_pid(home: &Home, job: &str) -> Option<u32> {
    match api(home.client().job(job, Secrets::Masked)).status.state {
        JobState::Running { pid, .. } => Some(pid),
        _ => None,
    }
}

pub(super) fn self_exe() -> String {
    std::env::current_exe().unwrap().display().to_string()
}

pub(super) fn now_ns() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

pub(super) fn stamps(path: &Path) -> Vec<u128> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.parse().ok())
        .collect()
}

/// Waits for an event on the daemon's event stream: precise where polling would add its
/// own interval to the measurement.
pub(super) struct EventWaiter<F> {
    events: Follow<EventEnvelope>,
    wanted: F,
}

impl<F: Fn(&EventEnvelope) -> bool> EventWaiter<F> {
    /// Returns once the engine follows the events for us, so none is missed from then on.
    pub(super) fn new(home: &Home, wanted: F) -> EventWaiter<F> {
        let events = api(home.client().follow_events());
        EventWaiter { events, wanted }
    }

    pub(super) fn wait(mut self) {
        block_on(async {
            loop {
                match self.events.next().await {
                    Some(Ok(Streamed::Item(event))) if (self.wanted)(&event) => return,
                    Some(Ok(_)) => continue,
                    Some(Err(err)) => panic!("the event stream broke: {err}"),
                    None => panic!("the event stream ended"),
                }
            }
        })
    }
}

/// How long this machine takes to start `n` sleeping processes with nothing else going on:
/// the floor under any supervisor's "start all".
pub(super) fn spawn_floor(n: usize) -> Duration {
    use std::os::unix::process::CommandExt;
    let began = Instant::now();
    let mut children: Vec<std::process::Child> = (0..n)
        .map(|_| {
            std::process::Command::new("sleep")
                .arg("100000")
                .process_group(0)
                .spawn()
                .unwrap()
        })
        .collect();
    let took = began.elapsed();
    for child in &mut children {
        let _ = child.kill();
    }
    for child in &mut children {
        let _ = child.wait();
    }
    took
}
