//! Log throughput: a child writing as fast as it can, and nothing lost.

use super::*;

/// A child writing `mib` MiB of 100-byte lines as fast as it can.
pub(super) fn log_throughput(mib: u64) {
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
