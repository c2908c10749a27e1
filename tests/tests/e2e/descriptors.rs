//! Open-file descriptors: the daemon raises its own soft limit once its descriptors crowd it,
//! gives its jobs the limit it was started with, and when descriptors run short it refuses
//! starts, not connections.

use std::fmt::Write as _;
use std::os::unix::process::CommandExt;
use std::process::Command;

use sentinel_tests::*;

/// Starts the daemon with this open-file limit (soft, hard).
fn daemon_with_files(home: &Home, soft: u64, hard: u64) -> Daemon {
    home.daemon_with(move |command: &mut Command| {
        // SAFETY: setrlimit is async-signal-safe and allocates nothing.
        unsafe {
            command.pre_exec(move || {
                nix::sys::resource::setrlimit(
                    nix::sys::resource::Resource::RLIMIT_NOFILE,
                    soft,
                    hard,
                )
                .map_err(std::io::Error::from)
            });
        }
    })
}

/// The open-file limit of a process, (soft, hard), from `/proc/PID/limits`.
fn files_limit(pid: u32) -> (u64, u64) {
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).unwrap();
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .unwrap();
    let figures: Vec<u64> = line
        .split_whitespace()
        .filter_map(|word| word.parse().ok())
        .collect();
    (figures[0], figures[1])
}

#[test]
fn the_daemon_raises_its_open_file_limit_when_crowded_and_its_jobs_keep_the_one_it_was_given() {
    let home = Home::new();
    let daemon = daemon_with_files(&home, 256, 4096);
    home.ok(&["add", "plain", "--", "sleep", "600"]);
    let plain = pid_of(&home, "plain").expect("plain runs");
    // A few jobs leave the limit as it was, so a start needs no fork to give it back.
    assert_eq!(files_limit(daemon.pid()), (256, 4096));
    assert_eq!(
        files_limit(plain),
        (256, 4096),
        "select() must keep working"
    );

    // Forty services hold over half of 256 descriptors: the daemon raises its limit.
    home.ok(&["import", services_file(&home, 40).to_str().unwrap()]);
    wait_until("the daemon to raise its open-file limit", || {
        files_limit(daemon.pid()) == (4096, 4096)
    });
    home.ok(&["add", "late", "--", "sleep", "600"]);
    let late = pid_of(&home, "late").expect("late runs");
    assert_eq!(
        files_limit(late),
        (256, 4096),
        "a job started after the raise gets the original limit back"
    );

    home.ok(&[
        "add",
        "own",
        "--max-open-files",
        "1000",
        "--",
        "sleep",
        "600",
    ]);
    let own = pid_of(&home, "own").expect("own runs");
    assert_eq!(files_limit(own), (1000, 1000), "the job's own rlimits win");
}

/// A jobs file of `count` services that print a line and sleep.
fn services_file(home: &Home, count: usize) -> std::path::PathBuf {
    let mut jobs = String::from("version = 1\n");
    for n in 0..count {
        writeln!(
            jobs,
            "[[jobs]]\nname = \"svc{n:03}\"\nshell = true\ncommand = \"echo up; exec sleep 600\"\n"
        )
        .unwrap();
    }
    let file = home.dir.path().join("jobs.toml");
    std::fs::write(&file, jobs).unwrap();
    file
}

const SERVICES: usize = 300;
const REASON: &str = "not enough file descriptors";

#[test]
fn a_daemon_short_of_descriptors_refuses_starts_and_keeps_answering() {
    let home = Home::new();
    let daemon = daemon_with_files(&home, 256, 256);
    home.ok(&["import", services_file(&home, SERVICES).to_str().unwrap()]);

    // Each running service holds four descriptors: some run, the rest are refused with the
    // reason in their run records, and the API answers throughout.
    let mut running = 0;
    let mut refused = String::new();
    wait_until("the services to run or be refused", || {
        let statuses = home.ok(&["ls", "--json"]).json();
        let statuses = statuses.as_array().unwrap().clone();
        running = statuses.iter().filter(|s| s["state"] == "running").count();
        let Some(first_refused) = statuses
            .iter()
            .find(|s| s["state"] != "running" && s["state"] != "starting")
        else {
            return false;
        };
        let name = first_refused["name"].as_str().unwrap();
        let runs = home.ok(&["runs", name, "--json"]).json();
        refused = runs[0]["reason"].as_str().unwrap_or_default().to_string();
        running > 0 && refused.contains(REASON)
    });
    assert_eq!(runs_outcome_of_a_refused_start(&home), "spawn_failed");
    assert!(
        running < SERVICES,
        "all {running} services run with 256 descriptors?"
    );
    eprintln!("{running} of {SERVICES} services run at ulimit -n 256; the others: {refused}");
    for _ in 0..20 {
        let jobs = request(&home.socket(), "GET", "/api/jobs", None).unwrap();
        assert_eq!(jobs.status, 200);
        home.ok(&["status", "svc299"]);
    }
    // Every running service has written its log file by now (it printed at once): the
    // descriptors kept for the socket and database are still there.
    wait_until("every running service's output to be logged", || {
        let logs = std::fs::read_dir(home.path().join("logs")).unwrap().count();
        logs >= running
    });
    let open = std::fs::read_dir(format!("/proc/{}/fd", daemon.pid()))
        .unwrap()
        .count();
    eprintln!("the daemon holds {open} of its 256 descriptors");
    assert!(open <= 256 - 32, "{open} of 256 descriptors open");

    // Stopping what runs gives the descriptors back: a refused service starts by hand.
    home.ok(&["stop", "--all"]);
    home.ok(&["start", "svc299"]);
    assert!(pid_of(&home, "svc299").is_some());

    assert_eq!(daemon.stop(), 0);
    let log = std::fs::read_to_string(home.dir.path().join("daemon.log")).unwrap();
    assert!(!log.contains("panicked"), "{log}");
}

/// The outcome recorded for the newest refused start of any service.
fn runs_outcome_of_a_refused_start(home: &Home) -> String {
    for n in (0..SERVICES).rev() {
        let runs = home.ok(&["runs", &format!("svc{n:03}"), "--json"]).json();
        if let Some(run) = runs
            .as_array()
            .unwrap()
            .iter()
            .find(|run| run["reason"].as_str().is_some_and(|r| r.contains(REASON)))
        {
            return run["outcome"].as_str().unwrap().to_string();
        }
    }
    panic!("no run records a refused start");
}
