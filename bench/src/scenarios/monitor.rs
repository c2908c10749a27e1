//! What resource sampling costs.

use super::*;

/// What resource sampling costs with 500 running jobs: nobody watching (the default settings),
/// and watched at 2 s against watched with sampling practically off; and how long `/metrics`
/// takes for 500 jobs.
pub(super) fn monitoring_cost(n: usize, seconds: u64, renders: usize) {
    println!("## Monitoring cost ({n} running services; daemon CPU over {seconds} s)\n");
    println!("| sampling | daemon CPU (% of one core) | daemon RSS |\n|---|---|---|");
    let mut cpu = Vec::new();
    for (label, interval, watched) in [
        ("nobody watching (default: each job every 1m)", "2s", false),
        ("watched, every 1h (sampling off)", "1h", true),
        ("watched, every 2s (default)", "2s", true),
    ] {
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
        if watched {
            watch(&home);
        }
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
        if watched && interval == "2s" {
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
        "Sampling {n} jobs every 2 s while watched costs {:.3} % of one core (target < 1 %); nobody watching, the daemon uses {:.3} % in all; /metrics target < 5 ms.\n",
        cpu[2] - cpu[1],
        cpu[0]
    );
}

/// Someone watching, as `sentinel top` does: an event stream that asks for samples, read on a
/// thread of its own until the daemon goes.
fn watch(home: &Home) {
    let client = home.client();
    std::thread::spawn(move || {
        block_on(async {
            let Ok(mut stream) = client.follow_events_watching().await else {
                return;
            };
            while let Some(Ok(_)) = stream.next_line().await {}
        })
    });
}
