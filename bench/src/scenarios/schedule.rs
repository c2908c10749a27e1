//! Schedules: how late a burst of runs fires, and what idle timers cost.

use super::*;
use std::os::unix::process::CommandExt;

/// Lateness of scheduled runs (20 jobs firing every second together), and the idle cost of
/// 1,000 schedules that do not fire during the measurement.
pub(super) fn schedule_lateness(seconds: u64, idle_seconds: u64) {
    println!("## Schedule lateness (jobs firing together every second for {seconds} s)\n");
    println!(
        "| jobs | runs | median | p99 | daemon CPU per run | target |\n|---|---|---|---|---|---|"
    );
    for jobs in [1, 20] {
        let home = Home::new();
        let daemon = home.daemon();
        for i in 0..jobs {
            add(
                &home,
                json!({"name": format!("tick{i}"), "command": "true", "kind": "task", "schedule": {"cron": "* * * * * *"}}),
            );
        }
        let cpu_before = cpu_seconds(daemon.pid());
        std::thread::sleep(Duration::from_secs(seconds));
        let cpu = cpu_seconds(daemon.pid()) - cpu_before;
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
            "| {jobs} | {} | {:.1} ms | {:.1} ms | {:.2} ms | p99 ≤ 10 ms |",
            s.n,
            s.median,
            s.p99,
            cpu * 1000.0 / s.n.max(1) as f64,
        );
        drop(daemon);
    }
    let floor = summarize(&bare_burst(20, seconds));
    println!(
        "| 20, the floor: bare threads | {} | {:.1} ms | {:.1} ms | | |",
        floor.n, floor.median, floor.p99
    );
    println!(
        "\nLateness: from the scheduled instant to the process having started (the engine records \
         whole milliseconds). The floor is the same burst with no supervisor: twenty threads \
         that sleep until each second and spawn `true` the way the engine does (posix_spawn, \
         a process group, piped output), timed the same way.\n"
    );

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

/// Lateness of `jobs` threads that each spawn `true` at every whole second for `seconds`: what
/// a burst costs on this machine with nothing but the spawns, in whole milliseconds as the
/// engine records them.
fn bare_burst(jobs: usize, seconds: u64) -> Vec<Duration> {
    let since_epoch = || SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    let first = Duration::from_secs(since_epoch().as_secs() + 2);
    let threads: Vec<_> = (0..jobs)
        .map(|_| {
            std::thread::spawn(move || {
                let mut late = Vec::new();
                for second in 0..seconds {
                    let instant = first + Duration::from_secs(second);
                    if let Some(wait) = instant.checked_sub(since_epoch()) {
                        std::thread::sleep(wait);
                    }
                    let mut child = std::process::Command::new("true")
                        .stdin(std::process::Stdio::null())
                        .stdout(std::process::Stdio::piped())
                        .stderr(std::process::Stdio::piped())
                        .process_group(0)
                        .spawn()
                        .expect("true starts");
                    let started = since_epoch().saturating_sub(instant);
                    late.push(Duration::from_millis(started.as_millis() as u64));
                    child.wait().expect("true ends");
                }
                late
            })
        })
        .collect();
    threads
        .into_iter()
        .flat_map(|thread| thread.join().expect("a spawning thread"))
        .collect()
}
