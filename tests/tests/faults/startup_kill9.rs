//! The daemon killed with SIGKILL while it is still starting: 20–250 ms after it was spawned,
//! when its services are being started and their runs are not yet in the database. The next
//! engine must stop what each killed one left, found by the home its processes carry.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::Duration;

use sentinel_tests::*;

use crate::{import, job_processes, statuses};

const SERVICES: usize = 20;
const KILLS: usize = 10;

#[test]
fn kill9s_during_start_up_leave_nothing_the_next_engine_does_not_stop() {
    let _machine = crate::shared_machine();
    let home = Home::new();
    let daemon = home.daemon();
    let mut jobs = String::from("version = 1\n");
    for n in 0..SERVICES {
        // Two processes per group, so a group outlives its leader's death by a moment.
        writeln!(
            jobs,
            "[[jobs]]\nname = \"svc{n}\"\nshell = true\ncommand = \"sleep 600 & exec sleep 601\"\n"
        )
        .unwrap();
    }
    import(&home, &jobs);
    every_service_running(&home);
    assert_eq!(daemon.stop(), 0);
    wait_until("the first daemon's processes to be gone", || {
        job_processes(&home).is_empty()
    });

    let log = home.dir.path().join("daemon.log");
    let mut left_behind = 0;
    for kill in 0..KILLS {
        let mut child = home
            .command(&["daemon"])
            .stdout(Stdio::from(open_append(&log)))
            .stderr(Stdio::from(open_append(&log)))
            .spawn()
            .expect("the daemon starts");
        // Even kills at a moment spread over 20–250 ms (before, while or after the services
        // start, however fast the machine is); odd ones as soon as this daemon has started its
        // first service, so start-up is caught however slow the machine is.
        let after = if kill % 2 == 0 {
            let after = Duration::from_millis(20 + (kill as u64 * 97) % 231);
            std::thread::sleep(after);
            after
        } else {
            let began = std::time::Instant::now();
            wait_until("this daemon's first service", || {
                children_of(child.id()) > 0
            });
            began.elapsed()
        };
        child.kill().unwrap();
        child.wait().unwrap();
        let found = job_processes(&home);
        eprintln!(
            "kill {kill} after {after:?}: {} job processes in {} groups",
            found.len(),
            found.iter().map(|p| p.pgid).collect::<BTreeSet<_>>().len()
        );
        left_behind = left_behind.max(found.len());
    }
    // The test means something only if some kill caught the services starting (the odd ones
    // always do).
    assert!(
        left_behind > 0,
        "no kill left a job process: start-up was never caught"
    );

    // A job's child that made its own session (setsid), carrying the home as every child of
    // an engine of this home does: not in any group the database knows.
    let marker = std::fs::canonicalize(home.path()).unwrap();
    let mut escaped = Command::new("sleep");
    escaped
        .arg("602")
        .env("SENTINEL_ENGINE", &marker)
        .env("SENTINEL_JOB", "svc0")
        .stdin(Stdio::null());
    // SAFETY: setsid is async-signal-safe and allocates nothing.
    unsafe {
        escaped.pre_exec(|| {
            nix::unistd::setsid()
                .map(drop)
                .map_err(std::io::Error::from)
        });
    }
    let mut escaped = escaped.spawn().unwrap();
    let escaped_pid = escaped.id();
    // Reaped by a thread, so that it is not left a zombie once stopped.
    let reaper = std::thread::spawn(move || escaped.wait());

    // The next engine that gets going stops all of it before it starts anything.
    let daemon = home.daemon();
    let groups = every_service_running(&home);
    for process in job_processes(&home) {
        assert!(
            groups.contains(&process.pgid),
            "{process:?} survived the start of a new engine (the live groups are {groups:?})"
        );
    }
    wait_until("the escaped process to be stopped", || reaper.is_finished());
    assert!(reaper.join().unwrap().is_ok());
    assert!(!process_alive(escaped_pid));

    // And a clean stop takes every process with it.
    assert_eq!(daemon.stop(), 0);
    wait_until("every job process to be gone", || {
        job_processes(&home).is_empty()
    });
}

fn open_append(path: &std::path::Path) -> std::fs::File {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap()
}

/// Whether a live (not zombie) process has this pid.
fn process_alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            let state = stat[stat.rfind(')')? + 2..].chars().next()?;
            Some(state != 'Z' && state != 'X')
        })
        .unwrap_or(false)
}

/// Waits until every service runs; their process groups.
fn every_service_running(home: &Home) -> BTreeSet<u32> {
    let mut groups = BTreeSet::new();
    wait_until("every service to run", || {
        groups = statuses(home)
            .iter()
            .filter(|s| s["state"] == "running")
            .map(|s| s["pid"].as_u64().unwrap() as u32)
            .collect();
        groups.len() == SERVICES
    });
    groups
}

/// How many live processes have `parent` as their parent.
fn children_of(parent: u32) -> usize {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|entry| std::fs::read_to_string(entry.path().join("stat")).ok())
        .filter(|stat| {
            // After the parenthesised command: state, then the parent's pid.
            stat.rfind(')')
                .and_then(|end| stat[end + 1..].split_whitespace().nth(1))
                .and_then(|ppid| ppid.parse::<u32>().ok())
                == Some(parent)
        })
        .count()
}
