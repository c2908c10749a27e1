//! Schedules: how late a burst of runs fires, and what idle timers cost.

use super::*;

/// Lateness of scheduled runs (20 jobs firing every second together), and the idle cost of
/// 1,000 schedules that do not fire during the measurement.
pub(super) fn schedule_lateness(seconds: u64, idle_seconds: u64) {
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
