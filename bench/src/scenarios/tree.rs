//! Stopping a process tree: time, and whether anything is left.

use super::*;

/// Stop of a shell with two background children: time, and whether anything is left.
pub(super) fn tree_stop(trials: usize) {
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
