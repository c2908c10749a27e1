//! The real app under Xvfb: its memory at rest and how fast it starts.

use super::*;

/// The menu-bar app (release build) under Xvfb: launch until the tray is ready, and its CPU
/// (with its WebKit processes) while 500 jobs idle, with the popover closed and open.
pub(super) fn app_footprint(n: usize, seconds: u64, launches: usize) {
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
    // A desktop has a session bus: without one the app's single-instance check and the tray
    // take other paths than a user's.
    let bus = sentinel_tests::SessionBus::start();
    let start = |home: &Home, show: bool| {
        let began = Instant::now();
        let mut child = Command::new(&app)
            .args(if show { &["--show"][..] } else { &[][..] })
            .env("DISPLAY", format!(":{display}"))
            .env("DBUS_SESSION_BUS_ADDRESS", bus.address())
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
    super::app_rest::app_rest(&app, display, launches);
    drop(bus);
    drop(xvfb);
}
