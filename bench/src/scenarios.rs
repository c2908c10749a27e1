//! The scenarios, each against a real daemon in a temporary home.

use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use sentinel_client::{ClientError, Follow, Streamed};
use sentinel_engine::logs::format::reassemble;
use sentinel_proto::secret::Secrets;
use sentinel_proto::{Action, EngineEvent, EventEnvelope, JobSpec, JobState, LogStream, Selection};
use sentinel_tests::{block_on, group_alive, request, wait_until, Home};
use serde_json::{json, Value};

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
            "idle" => idle_footprint(
                if quick { &[20] } else { &[50, 500, 2000] },
                if quick { 1 } else { 20 },
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

/// A program that exits 1 at once, with each supervisor's default restart policy, watched for
/// `seconds`: how often it is started again, how far apart, and whether the supervisor gives up.
fn crash_loop(seconds: u64) {
    println!(
        "## Crash loop (a program that exits 1 at once, default restart policies, {seconds} s)\n"
    );
    println!("| | starts | median gap | min–max gap | in the end |\n|---|---|---|---|---|");
    let window = Duration::from_secs(seconds);
    let home = Home::new();
    let daemon = home.daemon();
    let file = home.dir.path().join("starts");
    add(
        &home,
        json!({"name": "crasher", "command": format!("{} child-fail {}", self_exe(), file.display()), "autostart": false}),
    );
    api(home.client().act_on(Action::Start, "crasher"));
    std::thread::sleep(window);
    let detail = api(home.client().job("crasher", Secrets::Masked));
    let end = match detail.status.state.name() {
        "failed" => "gave up (failed)".to_string(),
        "backoff" => "still retrying (backoff)".to_string(),
        other => other.to_string(),
    };
    crash_row("SentinelZero", &stamps(&file), &end);
    drop(daemon);
    for peer in peers::all() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("starts");
        let running = (peer.start)(&[Program {
            defaults: true,
            ..Program::service(
                "crasher",
                format!("{} child-fail {}", self_exe(), file.display()),
            )
        }]);
        std::thread::sleep(window);
        let state = running.state_of("crasher");
        crash_row(peer.name, &stamps(&file), &state);
    }
    println!(
        "\nDefaults: SentinelZero on-failure, 5 retries, 1 s growing ×1.5; supervisord autorestart=unexpected, \
         startsecs=1, startretries=3; PM2 autorestart, min_uptime 1 s, max_restarts 16; horust restart = never.\n"
    );
}

fn crash_row(name: &str, starts: &[u128], end: &str) {
    let gaps: Vec<Duration> = starts
        .windows(2)
        .map(|w| Duration::from_nanos(w[1].saturating_sub(w[0]) as u64))
        .collect();
    let (median, range) = if gaps.is_empty() {
        ("-".to_string(), "-".to_string())
    } else {
        let s = summarize(&gaps);
        (
            format!("{:.0} ms", s.median),
            format!("{:.0}–{:.0} ms", s.min, s.max),
        )
    };
    println!("| {name} | {} | {median} | {range} | {end} |", starts.len());
}

static QUICK: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Lets a start-up settle before a steady state is measured; barely at all in quick mode,
/// whose figures mean nothing anyway.
fn settle(normally: Duration) {
    if QUICK.load(std::sync::atomic::Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(100));
    } else {
        std::thread::sleep(normally);
    }
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// One call to the engine through the typed client; a refusal ends the benchmark.
fn api<T>(call: impl std::future::Future<Output = Result<T, ClientError>>) -> T {
    block_on(call).unwrap_or_else(|err| panic!("the engine refused: {err}"))
}

/// Adds a job given as its JSON definition.
fn add(home: &Home, spec: Value) {
    let spec: JobSpec = serde_json::from_value(spec).expect("a valid job definition");
    api(home.client().add(&spec));
}

fn start_all(home: &Home) {
    api(home.client().act(Action::Start, Selection::All));
}

fn running_pid(home: &Home, job: &str) -> Option<u32> {
    match api(home.client().job(job, Secrets::Masked)).status.state {
        JobState::Running { pid, .. } => Some(pid),
        _ => None,
    }
}

fn self_exe() -> String {
    std::env::current_exe().unwrap().display().to_string()
}

fn now_ns() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

fn stamps(path: &Path) -> Vec<u128> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.parse().ok())
        .collect()
}

/// From SIGKILL of a service to its replacement running its first instruction, delay 0.
fn restart_latency(trials: usize) {
    let file = |dir: &Path| dir.join("stamps");
    let home = Home::new();
    let daemon = home.daemon();
    let stamps_file = file(home.dir.path());
    add(
        &home,
        json!({
            "name": "victim",
            "command": format!("{} child-stamp {}", self_exe(), stamps_file.display()),
            "restart": {"mode": "always", "delay": "0s", "max_retries": 0},
        }),
    );
    let ours = measure_restarts(trials, &stamps_file, || running_pid(&home, "victim"));
    drop(daemon);
    let mut rows = vec![("SentinelZero", summarize(&ours))];
    for peer in peers::all() {
        let dir = tempfile::tempdir().unwrap();
        let stamps_file = file(dir.path());
        let running = (peer.start)(&[Program::service(
            "victim",
            format!("{} child-stamp {}", self_exe(), stamps_file.display()),
        )]);
        let samples = measure_restarts(trials, &stamps_file, || running.pid_of("victim"));
        rows.push((peer.name, summarize(&samples)));
    }
    println!("## Restart latency (SIGKILL → replacement's first instruction, delay 0, {trials} trials)\n");
    println!("| | median | min–max | p90 | × SentinelZero |\n|---|---|---|---|---|");
    let base = rows[0].1.median;
    for (name, s) in &rows {
        println!(
            "| {name} | {:.2} ms | {:.2}–{:.2} ms | {:.2} ms | {} |",
            s.median,
            s.min,
            s.max,
            s.p90,
            ratio(s.median, base)
        );
        chart::record("Restart latency, median", name, s.median, "ms");
    }
    println!("\nTarget: ≤ 5 ms median.\n");
}

fn measure_restarts(trials: usize, file: &Path, pid: impl Fn() -> Option<u32>) -> Vec<Duration> {
    wait_until("the first start", || !stamps(file).is_empty());
    let mut samples = Vec::new();
    let mut last = 0;
    for _ in 0..trials {
        let mut current = 0;
        wait_until("the job to run", || {
            pid().is_some_and(|p| {
                current = p;
                p != last
            })
        });
        let before = stamps(file).len();
        let killed_at = now_ns();
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(current as i32),
            nix::sys::signal::Signal::SIGKILL,
        )
        .unwrap();
        wait_until("the replacement", || stamps(file).len() > before);
        samples.push(Duration::from_nanos(
            stamps(file).last().unwrap().saturating_sub(killed_at) as u64,
        ));
        last = current;
    }
    samples
}

/// N sleeping services: time to start them all, then the daemon's memory and CPU while idle.
fn idle_footprint(sizes: &[usize], seconds: u64) {
    println!("## Idle footprint (N sleeping services; CPU over {seconds} s)\n");
    for &n in sizes {
        let floor = spawn_floor(n);
        println!(
            "Floor on this machine: a bare loop of posix_spawn starts {n} sleeps in {:.0} ms.",
            floor.as_secs_f64() * 1000.0
        );
    }
    println!();
    println!("| N | supervisor | all children running | daemon RSS | daemon CPU (% of one core) |\n|---|---|---|---|---|");
    for &n in sizes {
        let home = Home::new();
        let daemon = home.daemon();
        for i in 0..n {
            add(
                &home,
                json!({"name": format!("sleeper{i}"), "command": "sleep 100000", "autostart": false}),
            );
        }
        let began = Instant::now();
        start_all(&home);
        wait_until("every child", || {
            procs::children_named(daemon.pid(), "sleep") == n
        });
        let row = steady_state(daemon.pid(), began.elapsed(), seconds);
        row.print(n, "SentinelZero");
        drop(daemon);
        for peer in peers::all() {
            let began = Instant::now();
            let running = start_sleepers(peer.start, n);
            let row = steady_state(running.daemon_pid(), began.elapsed(), seconds);
            row.print(n, peer.name);
        }
    }
    println!("\nTargets: 500 jobs started in ≤ 500 ms, under 20 MB RSS and 0.15 % of one core.\n");
}

/// A peer supervising `n` sleeping services, once all of them run.
fn start_sleepers(start: peers::Start, n: usize) -> Box<dyn peers::Peer> {
    let programs: Vec<Program> = (0..n)
        .map(|i| Program::service(&format!("sleeper{i}"), "sleep 100000"))
        .collect();
    let peer = start(&programs);
    wait_until("every child", || {
        procs::children_named(peer.daemon_pid(), "sleep") == n
    });
    peer
}

/// A supervisor at rest: how long it took to start everything, its memory and CPU.
struct SteadyState {
    started_all: Duration,
    rss_mib: f64,
    cpu_percent: f64,
}

impl SteadyState {
    fn print(&self, n: usize, name: &str) {
        println!(
            "| {n} | {name} | {:.0} ms | {:.1} MiB | {:.3} % |",
            self.started_all.as_secs_f64() * 1000.0,
            self.rss_mib,
            self.cpu_percent
        );
        if n == 500 {
            chart::record(
                "All 500 children started",
                name,
                self.started_all.as_secs_f64() * 1000.0,
                "ms",
            );
            chart::record("Idle RSS, 500 jobs", name, self.rss_mib, "MiB");
        }
    }
}

/// Time to all children, then the supervisor's RSS and CPU while nothing happens.
fn steady_state(pid: u32, started_all: Duration, seconds: u64) -> SteadyState {
    // Let the start-up settle before measuring the steady state.
    settle(Duration::from_secs(1));
    let rss_mib = rss_mib(pid);
    let cpu_before = cpu_seconds(pid);
    let wall = Instant::now();
    std::thread::sleep(Duration::from_secs(seconds));
    let cpu_percent = (cpu_seconds(pid) - cpu_before) / wall.elapsed().as_secs_f64() * 100.0;
    SteadyState {
        started_all,
        rss_mib,
        cpu_percent,
    }
}

/// Stop of a shell with two background children: time, and whether anything is left.
fn tree_stop(trials: usize) {
    let home = Home::new();
    let _daemon = home.daemon();
    add(
        &home,
        json!({"name": "tree", "command": "sleep 1000 & sleep 1000 & wait", "shell": true, "autostart": false}),
    );
    let mut samples = Vec::new();
    let mut leftovers = 0;
    for _ in 0..trials {
        api(home.client().act_on(Action::Start, "tree"));
        let pid = running_pid(&home, "tree").unwrap();
        wait_until("both children", || procs::in_group(pid) == 3);
        let began = Instant::now();
        api(home.client().act_on(Action::Stop, "tree"));
        samples.push(began.elapsed());
        if group_alive(pid) {
            leftovers += 1;
        }
    }
    let mut rows = vec![("SentinelZero", summarize(&samples), leftovers)];
    for kind in peers::with_controls() {
        let name = kind.name;
        let peer = (kind.start)(&[Program {
            restart: false,
            ..Program::service("tree", "sh -c 'sleep 1000 & sleep 1000 & wait'")
        }]);
        let mut samples = Vec::new();
        let mut leftovers = 0;
        for trial in 0..trials {
            if trial > 0 {
                peer.start("tree");
            }
            let mut pid = 0;
            wait_until("the tree", || {
                pid = peer.pid_of("tree").unwrap_or(0);
                pid > 0 && procs::children_named(pid, "sleep") == 2
            });
            let grandchildren = procs::children(pid);
            let began = Instant::now();
            peer.stop("tree");
            samples.push(began.elapsed());
            let alive: Vec<u32> = grandchildren
                .into_iter()
                .filter(|&p| procs::alive(p))
                .collect();
            if !alive.is_empty() {
                leftovers += 1;
                // Clean up what the peer left behind.
                for pid in alive {
                    let _ = nix::sys::signal::kill(
                        nix::unistd::Pid::from_raw(pid as i32),
                        nix::sys::signal::Signal::SIGKILL,
                    );
                }
            }
        }
        rows.push((name, summarize(&samples), leftovers));
    }
    println!(
        "## Stop of a process tree (sh + 2 background sleeps, {trials} trials, default settings)\n"
    );
    println!("| | median stop | min–max | p90 | runs with leftovers |\n|---|---|---|---|---|");
    for (name, s, leftovers) in rows {
        println!(
            "| {name} | {:.2} ms | {:.2}–{:.2} ms | {:.2} ms | {leftovers} |",
            s.median, s.min, s.max, s.p90
        );
        chart::record("Stop of a process tree, median", name, s.median, "ms");
    }
    println!("\nhorust 0.1 has no command to stop one service, so it is not in this table.\n");
}

/// A child writing `mib` MiB of 100-byte lines as fast as it can.
fn log_throughput(mib: u64) {
    let total = mib * 1024 * 1024;
    // The writer into a pipe that `cat` empties: what a child can do when nothing slows it.
    let began = Instant::now();
    let status = std::process::Command::new("sh")
        .args([
            "-c",
            &format!("{} child-write {total} | cat > /dev/null", self_exe()),
        ])
        .status()
        .unwrap();
    assert!(status.success());
    let alone = began.elapsed();

    let home = Home::new();
    let _daemon = home.daemon();
    add(
        &home,
        json!({
            "name": "writer",
            "command": format!("{} child-write {total}", self_exe()),
            "autostart": false,
            "restart": "never",
            "logs": {"max_size": "64MiB", "max_files": 100},
        }),
    );
    let exited = EventWaiter::new(
        &home,
        |event| matches!(&event.event, EngineEvent::RunExited { job, .. } if job == "writer"),
    );
    let began = Instant::now();
    api(home.client().act_on(Action::Start, "writer"));
    exited.wait();
    let captured = began.elapsed();
    let files: Vec<Vec<u8>> = {
        let dir = home.path().join("logs");
        let mut names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .collect();
        // Oldest first: writer.log.N … writer.log.1, writer.log.
        names.sort_by_key(|p| {
            std::cmp::Reverse(
                p.extension()
                    .and_then(|e| e.to_str())
                    .and_then(|e| e.parse::<u32>().ok())
                    .unwrap_or(0),
            )
        });
        names.iter().map(|p| std::fs::read(p).unwrap()).collect()
    };
    let bytes = reassemble(&files, LogStream::Stdout).len() as u64;
    let rate = |d: Duration| total as f64 / d.as_secs_f64() / 1e6;
    println!("## Log throughput ({mib} MiB of 100-byte lines)\n");
    println!("| | time | MB/s | bytes lost |\n|---|---|---|---|");
    println!(
        "| writer alone (into a pipe read by cat) | {:.0} ms | {:.0} | - |",
        alone.as_secs_f64() * 1000.0,
        rate(alone)
    );
    println!(
        "| SentinelZero (to its rotated log files) | {:.0} ms | {:.0} | {} |",
        captured.as_secs_f64() * 1000.0,
        rate(captured),
        total as i64 - bytes as i64
    );
    chart::record(
        "Log throughput, time",
        "SentinelZero",
        captured.as_secs_f64() * 1000.0,
        "ms",
    );
    for peer in peers::all()
        .into_iter()
        .filter(|p| p.controls && p.captures_output)
    {
        let running = (peer.start)(&[Program {
            autostart: false,
            restart: false,
            ..Program::service("writer", format!("{} child-write {total}", self_exe()))
        }]);
        let began = Instant::now();
        running.start("writer");
        // Done when the log holds every byte, or when it has stopped growing for 5 s.
        let mut last = (0, Instant::now());
        let took = loop {
            let bytes = running.stdout_bytes("writer");
            if bytes >= total {
                break began.elapsed();
            }
            if bytes != last.0 {
                last = (bytes, Instant::now());
            } else if last.1.elapsed() > Duration::from_secs(5) {
                break last.1 - began;
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        let bytes = running.stdout_bytes("writer");
        println!(
            "| {} (to its log files) | {:.0} ms | {:.0} | {} |",
            peer.name,
            took.as_secs_f64() * 1000.0,
            rate(took),
            total as i64 - bytes as i64
        );
        chart::record(
            "Log throughput, time",
            peer.name,
            took.as_secs_f64() * 1000.0,
            "ms",
        );
    }
    println!("\nPeers' times are from their start command to the last byte in the file (polled every 5 ms); horust has the child write its file directly, so there is nothing to compare.\n");
}

/// `sentinel ls`, the whole process, with 50 and 500 jobs.
fn cli_latency(sizes: &[usize], runs: usize) {
    println!("## CLI latency (`sentinel ls`, whole process, {runs} runs)\n");
    println!("| jobs | command | median | min–max | p90 |\n|---|---|---|---|---|");
    for &n in sizes {
        let home = Home::new();
        let _daemon = home.daemon();
        for i in 0..n {
            add(
                &home,
                json!({"name": format!("job{i}"), "command": "sleep 100000", "autostart": false}),
            );
        }
        start_all(&home);
        let samples: Vec<Duration> = (0..runs)
            .map(|_| {
                let began = Instant::now();
                let out = home.command(&["ls"]).output().unwrap();
                assert!(out.status.success());
                began.elapsed()
            })
            .collect();
        let s = summarize(&samples);
        println!(
            "| {n} | SentinelZero `sentinel ls` | {:.1} ms | {:.1}–{:.1} ms | {:.1} ms |",
            s.median, s.min, s.max, s.p90
        );
        if n == 500 {
            chart::record("CLI list, 500 jobs, median", "SentinelZero", s.median, "ms");
        }
        for kind in peers::with_controls() {
            let name = kind.name;
            let peer = start_sleepers(kind.start, n);
            let samples: Vec<Duration> = (0..runs)
                .map(|_| {
                    let began = Instant::now();
                    peer.list();
                    began.elapsed()
                })
                .collect();
            let s = summarize(&samples);
            println!(
                "| {n} | {name} `{}` | {:.1} ms | {:.1}–{:.1} ms | {:.1} ms |",
                peer.list_name(),
                s.median,
                s.min,
                s.max,
                s.p90
            );
            if n == 500 {
                chart::record("CLI list, 500 jobs, median", name, s.median, "ms");
            }
        }
    }
    println!("\nTarget: ≤ 10 ms median with 500 jobs.\n");
}

/// 50 concurrent clients, each a connection per request, like the CLI.
fn api_round_trip(per_client: usize) {
    let home = Home::new();
    let _daemon = home.daemon();
    for i in 0..50 {
        add(
            &home,
            json!({"name": format!("job{i}"), "command": "sleep 100000"}),
        );
    }
    let socket = home.socket();
    let threads: Vec<_> = (0..50)
        .map(|client| {
            let socket = socket.clone();
            std::thread::spawn(move || {
                (0..per_client)
                    .map(|_| {
                        let began = Instant::now();
                        api(sentinel_client::Client::new(&socket)
                            .job(&format!("job{client}"), Secrets::Masked));
                        began.elapsed()
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let samples: Vec<Duration> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    let s = summarize(&samples);
    println!("## API round trip (50 concurrent clients × {per_client} `GET /api/jobs/NAME`)\n");
    println!("| | median | p99 | target |\n|---|---|---|---|");
    println!(
        "| SentinelZero | {:.2} ms | {:.2} ms | p99 ≤ 5 ms |\n",
        s.median, s.p99
    );
}

/// Waits for an event on the daemon's event stream: precise where polling would add its
/// own interval to the measurement.
struct EventWaiter<F> {
    events: Follow<EventEnvelope>,
    wanted: F,
}

impl<F: Fn(&EventEnvelope) -> bool> EventWaiter<F> {
    /// Returns once the engine follows the events for us, so none is missed from then on.
    fn new(home: &Home, wanted: F) -> EventWaiter<F> {
        let events = api(home.client().follow_events());
        EventWaiter { events, wanted }
    }

    fn wait(mut self) {
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
fn spawn_floor(n: usize) -> Duration {
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

/// Lateness of scheduled runs (20 jobs firing every second together), and the idle cost of
/// 1,000 schedules that do not fire during the measurement.
fn schedule_lateness(seconds: u64, idle_seconds: u64) {
    println!("## Schedule lateness (jobs firing together every second for {seconds} s)\n");
    println!("| jobs | runs | median | p99 | target |\n|---|---|---|---|---|");
    for jobs in [1, 20] {
        let home = Home::new();
        let daemon = home.daemon();
        for i in 0..jobs {
            add(
                &home,
                json!({"name": format!("tick{i}"), "command": "true", "kind": "task", "schedule": {"cron": "* * * * * *"}}),
            );
        }
        std::thread::sleep(Duration::from_secs(seconds));
        let mut samples = Vec::new();
        for i in 0..jobs {
            let name = format!("tick{i}");
            api(home.client().act_on(Action::Disable, &name));
            for run in api(home.client().runs(&name, Some(1000))) {
                let Some(scheduled) = run.scheduled_at else {
                    continue;
                };
                let late = (run.started_at - scheduled).num_milliseconds();
                samples.push(Duration::from_millis(late.max(0) as u64));
            }
        }
        let s = summarize(&samples);
        println!(
            "| {jobs} | {} | {:.1} ms | {:.1} ms | p99 ≤ 10 ms |",
            s.n, s.median, s.p99
        );
        drop(daemon);
    }
    println!("\nLateness: from the scheduled instant to the process having started.\n");

    let home = Home::new();
    let daemon = home.daemon();
    for i in 0..1000 {
        add(
            &home,
            json!({"name": format!("yearly{i}"), "command": "true", "kind": "task", "schedule": {"cron": "0 0 1 1 *"}}),
        );
    }
    settle(Duration::from_secs(1));
    let pid = daemon.pid();
    let cpu_before = cpu_seconds(pid);
    let wall = Instant::now();
    std::thread::sleep(Duration::from_secs(idle_seconds));
    let cpu = (cpu_seconds(pid) - cpu_before) / wall.elapsed().as_secs_f64() * 100.0;
    println!("## 1,000 schedules idle ({idle_seconds} s)\n");
    println!("| | daemon CPU (% of one core) | daemon RSS | target |\n|---|---|---|---|");
    println!(
        "| SentinelZero | {cpu:.3} % | {:.1} MiB | < 0.5 % |\n",
        rss_mib(pid)
    );
}

/// What resource sampling costs with 500 running jobs (sampled every 2 s against sampling
/// practically off), and how long `/metrics` takes for 500 jobs.
fn monitoring_cost(n: usize, seconds: u64, renders: usize) {
    println!("## Monitoring cost ({n} running services; daemon CPU over {seconds} s)\n");
    println!("| sampling | daemon CPU (% of one core) | daemon RSS |\n|---|---|---|");
    let mut cpu = Vec::new();
    for (label, interval) in [("off (every 1h)", "1h"), ("every 2s (default)", "2s")] {
        let home = Home::new();
        home.write_settings(&format!(
            "[monitor]\nsample_interval = \"{interval}\"\nhistory = \"1h\"\n[notifications]\nenabled = false\n"
        ));
        let daemon = home.daemon();
        for i in 0..n {
            add(
                &home,
                json!({"name": format!("sleeper{i}"), "command": "sleep 100000", "autostart": false}),
            );
        }
        start_all(&home);
        wait_until("every child", || {
            procs::children_named(daemon.pid(), "sleep") == n
        });
        settle(Duration::from_secs(3));
        let before = cpu_seconds(daemon.pid());
        let wall = Instant::now();
        std::thread::sleep(Duration::from_secs(seconds));
        let percent = (cpu_seconds(daemon.pid()) - before) / wall.elapsed().as_secs_f64() * 100.0;
        println!(
            "| {label} | {percent:.3} % | {:.1} MiB |",
            rss_mib(daemon.pid())
        );
        cpu.push(percent);
        if interval == "2s" {
            let mut times = Vec::with_capacity(renders);
            for _ in 0..renders {
                let began = Instant::now();
                let response = request(&home.socket(), "GET", "/metrics", None).unwrap();
                times.push(began.elapsed());
                assert_eq!(response.status, 200);
            }
            let size = request(&home.socket(), "GET", "/metrics", None)
                .unwrap()
                .body
                .len();
            let summary = summarize(&times);
            println!(
                "\n`GET /metrics` with {n} jobs ({} KiB), whole request over the socket: {:.2} ms median, {:.2} ms p99 ({} requests)\n",
                size / 1024,
                summary.median,
                summary.p99,
                summary.n
            );
        }
    }
    println!(
        "Sampling {n} jobs every 2 s costs {:.3} % of one core (target < 1 %); /metrics target < 5 ms.\n",
        cpu[1] - cpu[0]
    );
}

/// The menu-bar app (release build) under Xvfb: launch until the tray is ready, and its CPU
/// (with its WebKit processes) while 500 jobs idle, with the popover closed and open.
fn app_footprint(n: usize, seconds: u64, launches: usize) {
    use std::io::BufRead;
    use std::process::{Command, Stdio};
    let app = sentinel_tests::sentinel_bin().with_file_name("sentinelzero");
    if !app.exists()
        || std::process::Command::new("Xvfb")
            .arg("-help")
            .output()
            .is_err()
    {
        println!("## App\n\n(skipped: needs {} and Xvfb)\n", app.display());
        return;
    }
    println!("## The app (release build, under Xvfb)\n");
    let xvfb = sentinel_tests::Xvfb::start();
    let display = xvfb.display;
    let start = |home: &Home, show: bool| {
        let began = Instant::now();
        let mut child = Command::new(&app)
            .args(if show { &["--show"][..] } else { &[][..] })
            .env("DISPLAY", format!(":{display}"))
            .env("SENTINEL_HOME", home.path())
            .env("SENTINEL_POPOVER_STAYS", "1")
            .env("NO_AT_BRIDGE", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = std::io::BufReader::new(child.stderr.take().unwrap()).lines();
        let ready = loop {
            match lines.next() {
                Some(Ok(line)) if line.contains("tray ready") => break began.elapsed(),
                Some(_) => continue,
                None => panic!("the app exited before its tray was ready"),
            }
        };
        // Keep draining its log so it never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        (child, ready)
    };
    let mut launches_ms = Vec::new();
    for _ in 0..launches {
        let home = Home::new();
        home.write_settings("[notifications]\nenabled = false\n");
        let (mut child, ready) = start(&home, true);
        launches_ms.push(ready);
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(child.id() as i32),
            nix::sys::signal::Signal::SIGTERM,
        );
        let _ = child.wait();
    }
    let launch = summarize(&launches_ms);
    println!(
        "Launch until the tray is ready: {:.0} ms median, {:.0} ms slowest of {} (target < 1 s).\n",
        launch.median,
        launches_ms.iter().max().unwrap().as_secs_f64() * 1000.0,
        launch.n
    );

    for show in [false, true] {
        let home = Home::new();
        home.write_settings("[notifications]\nenabled = false\n");
        let (mut child, _) = start(&home, show);
        wait_until("the app's socket", || {
            block_on(home.client().ready()).is_ok()
        });
        for i in 0..n {
            add(
                &home,
                json!({"name": format!("sleeper{i}"), "command": "sleep 100000", "autostart": false}),
            );
        }
        start_all(&home);
        wait_until("every child", || {
            procs::children_named(child.id(), "sleep") == n
        });
        settle(Duration::from_secs(3));
        // The app and the WebKit processes it started (the popover's web content).
        let family = |root: u32| -> Vec<u32> {
            let mut pids = vec![root];
            pids.extend(
                procs::all()
                    .filter(|p| p.ppid == root && p.comm.starts_with("WebKit"))
                    .map(|p| p.pid),
            );
            pids
        };
        let pids = family(child.id());
        let cpu = |pids: &[u32]| pids.iter().map(|&p| cpu_seconds(p)).sum::<f64>();
        let each_before: Vec<f64> = pids.iter().map(|&p| cpu_seconds(p)).collect();
        let before = cpu(&pids);
        let wall = Instant::now();
        std::thread::sleep(Duration::from_secs(seconds));
        let percent = (cpu(&pids) - before) / wall.elapsed().as_secs_f64() * 100.0;
        let split: Vec<String> = pids
            .iter()
            .zip(&each_before)
            .map(|(&p, b)| {
                let name = procs::read(p).map_or("?".into(), |p| p.comm);
                let share = (cpu_seconds(p) - b) / wall.elapsed().as_secs_f64() * 100.0;
                format!("{name} {share:.2} %")
            })
            .collect();
        let rss: f64 = pids.iter().map(|&p| rss_mib(p)).sum();
        println!(
                "{n} sleeping jobs, sampling every 2 s, popover {}: app + {} WebKit processes {percent:.2} % of one core over {seconds} s ({}), {rss:.0} MiB RSS together{}.\n",
                if show { "open" } else { "closed" },
                pids.len() - 1,
                split.join(", "),
                if show { "" } else { " (target < 1 %)" }
            );
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(child.id() as i32),
            nix::sys::signal::Signal::SIGTERM,
        );
        let _ = child.wait();
    }
    drop(xvfb);
}
