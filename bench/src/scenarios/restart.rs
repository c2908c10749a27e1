//! Restarts: how fast a killed service is running again, and a program that crashes at once.

use super::*;

/// A program that exits 1 at once, with each supervisor's default restart policy, watched for
/// `seconds`: how often it is started again, how far apart, and whether the supervisor gives up.
pub(super) fn crash_loop(seconds: u64) {
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

pub(super) fn crash_row(name: &str, starts: &[u128], end: &str) {
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

/// From SIGKILL of a service to its replacement running its first instruction, delay 0.
pub(super) fn restart_latency(trials: usize) {
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

pub(super) fn measure_restarts(
    trials: usize,
    file: &Path,
    pid: impl Fn() -> Option<u32>,
) -> Vec<Duration> {
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
