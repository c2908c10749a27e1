//! What a client waits for: `sentinel ls`, and many clients at once on the socket.

use super::footprint::start_sleepers;
use super::*;

/// `sentinel ls`, the whole process, with 50 and 500 jobs.
pub(super) fn cli_latency(sizes: &[usize], runs: usize) {
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
pub(super) fn api_round_trip(per_client: usize) {
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
