//! Sleeping services at rest: time to start them all, then memory and CPU while idle.

use super::*;

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
pub(super) fn start_sleepers(start: peers::Start, n: usize) -> Box<dyn peers::Peer> {
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
pub(super) struct SteadyState {
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
pub(super) fn steady_state(pid: u32, started_all: Duration, seconds: u64) -> SteadyState {
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
