//! `sentinel daemon` hands over to the lean `sentineld` beside it (same pid, so service managers
//! keep signalling the daemon), and runs the engine itself when there is none. Every other
//! end-to-end test exercises the daemon's behaviour through the handover.

use std::path::{Path, PathBuf};

use sentinel_tests::*;

/// The executable a process runs, as the kernel sees it.
fn exe_of(pid: u32) -> PathBuf {
    std::fs::read_link(format!("/proc/{pid}/exe")).expect("the process's executable")
}

fn lean_daemon() -> PathBuf {
    sentinel_bin().with_file_name("sentineld")
}

/// The parent of a process, from `/proc/PID/stat` (the name may hold spaces: after the last ')').
fn parent_of(pid: u32) -> u32 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after_name = &stat[stat.rfind(')').unwrap() + 1..];
    after_name
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap()
}

/// A job started through the daemon is the daemon's child, and SIGTERM stops it and is a
/// clean exit.
fn supervises(home: &Home, daemon: Daemon) {
    home.ok(&["add", "sleeper", "--", "sleep", "1000"]);
    home.ok(&["start", "sleeper"]);
    let job = pid_of(home, "sleeper").expect("the job runs");
    assert_eq!(parent_of(job), daemon.pid());
    assert_eq!(daemon.stop(), 0, "SIGTERM is a clean exit");
    assert!(
        !group_alive(job),
        "the daemon stopped its job on the way out"
    );
}

#[test]
fn sentinel_daemon_hands_over_to_the_lean_daemon_in_the_same_process() {
    assert!(
        lean_daemon().is_file(),
        "{} is built with the CLI",
        lean_daemon().display()
    );
    let home = Home::new();
    let daemon = home.daemon();
    // The pid `sentinel daemon` started with now runs sentineld: an exec, not a child.
    assert_eq!(exe_of(daemon.pid()), lean_daemon());
    supervises(&home, daemon);
}

#[test]
fn the_handover_keeps_a_socket_given_on_the_command_line() {
    let home = Home::new();
    home.write_settings("[notifications]\nenabled = false\n");
    let socket = home.dir.path().join("elsewhere.sock");
    let child = home
        .command(&["--socket", socket.to_str().unwrap(), "daemon"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("the daemon starts");
    let daemon = Daemon { child };
    let client = Client::new(&socket);
    wait_until("the daemon to answer on the socket it was given", || {
        within_deadline(client.ready()).is_ok()
    });
    assert_eq!(exe_of(daemon.pid()), lean_daemon());
    assert!(
        !home.socket().exists(),
        "nothing listens on the default socket"
    );
    assert_eq!(daemon.stop(), 0);
}

#[test]
fn without_the_lean_daemon_beside_it_sentinel_runs_the_engine_itself() {
    let home = Home::new();
    // `sentinel` alone in a directory: a link to this build's binary (a copy if links fail).
    let alone = home.dir.path().join("bin");
    std::fs::create_dir(&alone).unwrap();
    let sentinel = alone.join("sentinel");
    if std::fs::hard_link(sentinel_bin(), &sentinel).is_err() {
        std::fs::copy(sentinel_bin(), &sentinel).unwrap();
    }
    let daemon = home.daemon_from(home.command_of(&sentinel, &["daemon"]));
    assert_eq!(exe_of(daemon.pid()), sentinel);
    supervises(&home, daemon);
}

#[test]
fn sentineld_answers_help_and_version_and_refuses_what_it_does_not_know() {
    let home = Home::new();
    let run = |args: &[&str]| {
        home.command_of(Path::new(&lean_daemon()), args)
            .output()
            .expect("sentineld runs")
    };
    let version = run(&["--version"]);
    assert!(version.status.success());
    assert!(String::from_utf8_lossy(&version.stdout).starts_with("sentineld "));
    assert!(String::from_utf8_lossy(&run(&["--help"]).stdout).contains("--socket PATH"));
    let wrong = run(&["daemon"]);
    assert_eq!(wrong.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("unexpected argument"));
}
