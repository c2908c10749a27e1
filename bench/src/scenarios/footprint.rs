//! Sleeping services at rest: time to start them all, then memory and CPU while idle.

use super::*;
use crate::stats::{memory, Memory};

/// N sleeping services: time to start them all, then the daemon's memory and CPU while idle.
pub(super) fn idle_footprint(sizes: &[usize], seconds: u64) {
    println!("## Idle footprint (N sleeping services; CPU over {seconds} s)\n");
    for &n in sizes {
        let floor = spawn_floor(n);
        println!(
            "Floor on this machine: a bare loop of posix_spawn starts {n} sleeps in {:.0} ms.",
            floor.as_secs_f64() * 1000.0
        );
    }
    println!("\n{}\n", code_layout());
    println!("| N | supervisor | all children running | daemon RSS | USS | PSS | daemon CPU (% of one core) |\n|---|---|---|---|---|---|---|");
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
    println!(
        "\nUSS is the memory only the daemon holds, PSS its share of what it maps with others."
    );
    println!("Targets: 500 jobs started in ≤ 500 ms; daemon RSS ≤ 6 MiB with 50 jobs and ≤ 12 MiB with 500; 0.15 % of one core.\n");
}

/// How much of the list of functions the idle daemon runs (`crates/cli/sentineld.order`, placed
/// together by release builds) the daemon's executable matches: the list names exact symbols,
/// which a toolchain or dependency update changes.
fn code_layout() -> String {
    let listed: Vec<&str> = include_str!("../../../crates/cli/sentineld.order")
        .lines()
        .collect();
    let daemon = sentinel_tests::sentinel_bin().with_file_name("sentineld");
    let symbols = match std::process::Command::new("nm")
        .arg("--defined-only")
        .arg(&daemon)
        .output()
    {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout).into_owned(),
        _ => {
            return format!(
                "Code layout: cannot list the symbols of {}.",
                daemon.display()
            )
        }
    };
    let defined: std::collections::HashSet<&str> = symbols
        .lines()
        .filter_map(|line| line.split_whitespace().nth(2))
        .collect();
    let matched = listed.iter().filter(|name| defined.contains(*name)).count();
    format!(
        "Code layout: {} holds {matched} of the {} functions the idle daemon runs by name \
         (release builds place them together; when few match, remake the list with \
         `scripts/daemon-order.sh`).",
        daemon.display(),
        listed.len()
    )
}

/// A peer supervising `n` sleeping services, once all of them run.
pub(super) fn start_sleepers(start: peers::Start, n: usize) -> Box<dyn peers::Peer> {
    let programs: Vec<Program> = (0..n)
        .map(|i| Program::service(&format!("sleeper{i}"), "sleep 100000"))
        .collect();
    let peer = start(&programs);
    // Slow peers take over 20 s for 2,000 (horust, one start at a time): a minute, plus
    // 30 ms a service, before calling it hung.
    let deadline = Instant::now() + Duration::from_secs(60) + Duration::from_millis(30) * n as u32;
    let mut pause = Duration::from_millis(2);
    while procs::children_named(peer.daemon_pid(), "sleep") != n {
        assert!(
            Instant::now() < deadline,
            "timed out waiting for the peer's {n} children"
        );
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(50));
    }
    peer
}

/// A supervisor at rest: how long it took to start everything, its memory and CPU.
pub(super) struct SteadyState {
    started_all: Duration,
    memory: Memory,
    cpu_percent: f64,
}

impl SteadyState {
    fn print(&self, n: usize, name: &str) {
        println!(
            "| {n} | {name} | {:.0} ms | {:.1} MiB | {:.1} MiB | {:.1} MiB | {:.3} % |",
            self.started_all.as_secs_f64() * 1000.0,
            self.memory.rss,
            self.memory.uss,
            self.memory.pss,
            self.cpu_percent
        );
        if n == 500 {
            chart::record(
                "All 500 children started",
                name,
                self.started_all.as_secs_f64() * 1000.0,
                "ms",
            );
            chart::record("Idle RSS, 500 jobs", name, self.memory.rss, "MiB");
        }
    }
}

/// Time to all children, then the supervisor's memory and CPU while nothing happens: CPU over
/// the whole quiet spell, memory the highest seen in its last minute, read each second. That
/// is for every supervisor alike what it holds at rest including its own periodic work (the
/// sentinel daemon samples each job once a minute), after what a start-up burst left behind
/// had half a minute to go, and not a lucky moment between two ticks.
pub(super) fn steady_state(pid: u32, started_all: Duration, seconds: u64) -> SteadyState {
    // Let the start-up settle before measuring the steady state.
    settle(Duration::from_secs(1));
    let cpu_before = cpu_seconds(pid);
    let wall = Instant::now();
    let quiet = Duration::from_secs(seconds);
    let watched_from = quiet.saturating_sub(Duration::from_secs(60));
    let mut memory = Memory::default();
    loop {
        let elapsed = wall.elapsed();
        if elapsed >= watched_from {
            memory = memory.max(&self::memory(pid));
        }
        let left = quiet.saturating_sub(elapsed);
        if left.is_zero() {
            break;
        }
        std::thread::sleep(left.min(Duration::from_secs(1)));
    }
    let cpu_percent = (cpu_seconds(pid) - cpu_before) / wall.elapsed().as_secs_f64() * 100.0;
    SteadyState {
        started_all,
        memory,
        cpu_percent,
    }
}
