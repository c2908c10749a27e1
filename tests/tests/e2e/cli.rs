//! Everyday use of the CLI, and every way it can be told no.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::process::Stdio;

use sentinel_tests::*;

#[test]
fn a_job_goes_through_its_whole_life() {
    let home = Home::new();
    let _daemon = home.daemon();
    let added = home.ok(&[
        "add",
        "api",
        "--group",
        "web",
        "--env",
        "PORT=8080",
        "--",
        "sleep",
        "1000",
    ]);
    assert_eq!(added.stdout.trim(), "added api (running)");

    let jobs = home.ok(&["ls", "--json"]).json();
    assert_eq!(jobs[0]["name"], "api");
    assert_eq!(jobs[0]["state"], "running");
    let first = pid_of(&home, "api").unwrap();

    let table = home.ok(&["ls"]).stdout;
    let header: Vec<&str> = table.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(
        header,
        vec!["NAME", "STATE", "PID", "UPTIME", "RESTARTS", "LAST", "EXIT", "GROUP"]
    );
    let row: Vec<&str> = table.lines().nth(1).unwrap().split_whitespace().collect();
    assert_eq!(
        (row[0], row[1], row[2]),
        ("api", "running", first.to_string().as_str())
    );
    assert!(!table.contains('\x1b'), "no colours when piped");

    let status = home.ok(&["status", "api"]).stdout;
    assert!(status.starts_with("api  running  (pid"), "{status}");
    assert!(status.contains("env        PORT=8080"), "{status}");
    assert!(
        status.contains("argv       [\"sleep\", \"1000\"]"),
        "{status}"
    );

    home.ok(&["stop", "api"]);
    assert_eq!(
        home.ok(&["status", "api", "--json"]).json()["status"]["state"],
        "stopped"
    );
    assert!(!group_alive(first));
    home.ok(&["start", "api"]);
    let second = pid_of(&home, "api").unwrap();
    home.ok(&["restart", "api"]);
    let third = pid_of(&home, "api").unwrap();
    assert!(first != second && second != third);

    home.ok(&["edit", "api", "--group", "backend", "--delay", "2s"]);
    let detail = home.ok(&["status", "api", "--json"]).json();
    assert_eq!(detail["spec"]["group"], "backend");
    assert_eq!(detail["spec"]["restart"]["delay"], "2s");
    assert_eq!(
        pid_of(&home, "api"),
        Some(third),
        "a group change does not restart"
    );

    let runs = home.ok(&["runs", "api", "--json"]).json();
    let triggers: Vec<&str> = runs
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["trigger"].as_str().unwrap())
        .collect();
    assert_eq!(triggers, vec!["restart", "manual", "autostart"]);
    let table = home.ok(&["runs", "api"]).stdout;
    assert!(table.contains("stopped by request"), "{table}");

    home.ok(&["rm", "api"]);
    assert!(!group_alive(third));
    assert_eq!(home.ok(&["ls", "--json"]).json(), serde_json::json!([]));
}

#[test]
fn bulk_actions_by_group_and_all() {
    let home = Home::new();
    let _daemon = home.daemon();
    for (name, group) in [("a1", "alpha"), ("a2", "alpha"), ("b1", "beta")] {
        home.ok(&["add", name, "--group", group, "--", "sleep", "1000"]);
    }
    let out = home.ok(&["stop", "--group", "alpha"]).stdout;
    assert_eq!(out, "a1: stopped\na2: stopped\n");
    let states: Vec<(String, String)> = home
        .ok(&["ls", "--json"])
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|j| {
            (
                j["name"].as_str().unwrap().into(),
                j["state"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        states,
        vec![
            ("a1".into(), "stopped".into()),
            ("a2".into(), "stopped".into()),
            ("b1".into(), "running".into())
        ]
    );

    home.ok(&["start", "--all"]);
    assert!(home
        .ok(&["ls", "--json"])
        .json()
        .as_array()
        .unwrap()
        .iter()
        .all(|j| j["state"] == "running"));
    let restarted = home.ok(&["restart", "--group", "beta", "--json"]).json();
    assert_eq!(restarted[0]["name"], "b1");

    let empty = home.run(&["stop", "--group", "gamma"]);
    assert_eq!(empty.code, 1);
    assert!(
        empty.stderr.contains("no job is in group \"gamma\""),
        "{}",
        empty.stderr
    );
    // One unknown name fails that name only.
    let mixed = home.run(&["stop", "a1", "nope"]);
    assert_eq!(mixed.code, 1);
    assert!(mixed.stdout.contains("a1: stopped"));
    assert!(
        mixed.stderr.contains("nope: no job named \"nope\""),
        "{}",
        mixed.stderr
    );
    let usage = home.run(&["stop"]);
    assert_eq!(usage.code, 2, "no selection is a usage error");
}

#[test]
fn logs_follow_receives_lines_while_they_are_written() {
    let home = Home::new();
    let _daemon = home.daemon();
    let fifo = home.path().join("go");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).unwrap();
    // The FIFO is opened once, so no line can fall between two opens.
    let script = format!("exec 3< {f}; echo one; while read line <&3; do echo \"got $line\"; echo \"warn $line\" >&2; done", f = fifo.display());
    home.ok(&["add", "talker", "--shell", "--cmd", &script]);
    let mut input = fifo_writer(&fifo);
    wait_until("the first line", || {
        home.ok(&["logs", "talker"]).stdout == "one\n"
    });

    let mut follower = home
        .command(&["logs", "talker", "-f", "-n", "1"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let lines = Lines::of(&mut follower);
    assert_eq!(lines.next(), "one");
    for n in 0..3 {
        input.write_all(format!("{n}\n").as_bytes()).unwrap();
        lines.until(&format!("got {n}"), |l| l == format!("got {n}"));
    }
    follower.kill().unwrap();
    follower.wait().unwrap();

    // "got 2" was read from stdout; "warn 2" comes through the other pipe, maybe a moment later.
    wait_until("the last stderr line", || {
        home.ok(&["logs", "talker", "--stderr"]).stdout == "warn 0\nwarn 1\nwarn 2\n"
    });
    // `-n` counts the lines of the stream asked for, whatever the other printed after them.
    let last_two = home.ok(&["logs", "talker", "--stderr", "-n", "2"]).stdout;
    assert_eq!(last_two, "warn 1\nwarn 2\n");
    // stdout and stderr are separate pipes: their lines may interleave in any order.
    let with_times = home.ok(&["logs", "talker", "-n", "7", "-t"]).stdout;
    assert!(
        with_times.contains(" stderr warn 2\n") && with_times.contains(" stdout got 2\n"),
        "{with_times}"
    );
    let as_json = home.ok(&["logs", "talker", "--json", "-n", "2"]).json();
    assert_eq!(as_json.as_array().unwrap().len(), 2);
    assert!(as_json[0]["ts"].is_string());
}

#[test]
fn the_event_stream_shows_what_happens() {
    let home = Home::new();
    let _daemon = home.daemon();
    let mut events = home
        .command(&["events", "-f", "--json"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let lines = Lines::of(&mut events);
    // Events before the stream connects are not in it: poke until one shows.
    wait_until("the event stream to connect", || {
        home.ok(&["add", "blip", "--no-autostart", "--", "true"]);
        home.ok(&["rm", "blip"]);
        std::iter::from_fn(|| lines.next_within(std::time::Duration::from_millis(200)))
            .any(|l| l.contains("job_removed"))
    });
    home.ok(&[
        "add",
        "once",
        "--restart",
        "never",
        "--",
        "sh",
        "-c",
        "exit 4",
    ]);
    let exited = lines.until("run_exited", |l| l.contains("\"run_exited\""));
    let event: serde_json::Value = serde_json::from_str(&exited).unwrap();
    assert_eq!(event["job"], "once");
    assert_eq!(event["outcome"], "failure");
    assert_eq!(event["exit"]["code"], 4);
    let failed = lines.until("failed", |l| l.contains("\"failed\""));
    assert!(failed.contains("exit code 4 (restart = never)"), "{failed}");
    events.kill().unwrap();
    events.wait().unwrap();

    let recent = home.ok(&["events", "-n", "3"]).stdout;
    assert_eq!(recent.lines().count(), 3);
    assert!(
        recent.contains("once  failed: exit code 4 (restart = never)"),
        "{recent}"
    );
}

#[test]
fn every_error_says_what_is_wrong() {
    let home = Home::new();
    let socket = home.socket();
    let none = home.run(&["ls"]);
    assert_eq!(none.code, 1);
    assert_eq!(
        none.stderr.trim(),
        format!("sentinel: no SentinelZero engine is running at {} — open the app or run `sentinel daemon`", socket.display())
    );

    let daemon = home.daemon();
    let unknown = home.run(&["status", "ghost"]);
    assert_eq!(
        (unknown.code, unknown.stderr.trim()),
        (1, "sentinel: no job named \"ghost\"")
    );

    home.ok(&["add", "dup", "--no-autostart", "--", "true"]);
    let duplicate = home.run(&["add", "dup", "--", "true"]);
    assert_eq!(
        (duplicate.code, duplicate.stderr.trim()),
        (1, "sentinel: a job named \"dup\" already exists")
    );

    let delay = home.run(&["add", "slow", "--delay", "5 hours", "--", "true"]);
    assert_eq!(delay.code, 2);
    assert!(
        delay.stderr.contains("--delay") && delay.stderr.contains("\"5 hours\" is not a duration"),
        "{}",
        delay.stderr
    );

    let quote = home.run(&["add", "q", "--cmd", "echo 'oops"]);
    assert_eq!(quote.code, 1);
    assert!(
        quote
            .stderr
            .contains("command: \"echo 'oops\" has an unbalanced quote"),
        "{}",
        quote.stderr
    );

    let nothing = home.run(&["add", "empty"]);
    assert_eq!(nothing.code, 2);
    assert!(
        nothing.stderr.contains("what should \"empty\" run?"),
        "{}",
        nothing.stderr
    );

    let several = home.run(&["add", "bad/name", "--backoff", "0.5", "--", "true"]);
    assert_eq!(several.code, 1);
    assert!(
        several.stderr.contains("name: \"bad/name\" contains '/'"),
        "{}",
        several.stderr
    );
    assert!(
        several
            .stderr
            .contains("restart.backoff: 0.5 must be between"),
        "{}",
        several.stderr
    );

    // A missing working directory is a failed start, with the OS error, not a refusal.
    let missing = home.path().join("nowhere");
    home.ok(&[
        "add",
        "lost",
        "--max-retries",
        "1",
        "--delay",
        "0s",
        "--cwd",
        missing.to_str().unwrap(),
        "--",
        "true",
    ]);
    wait_until("the job to give up", || {
        home.ok(&["status", "lost", "--json"]).json()["status"]["state"] == "failed"
    });
    let status = home.ok(&["status", "lost"]).stdout;
    assert!(
        status.contains(&format!(
            "working directory {}: No such file or directory",
            missing.display()
        )),
        "{status}"
    );

    let usage = home.run(&["frobnicate"]);
    assert_eq!(usage.code, 2);

    let second = home.run(&["daemon"]);
    assert_eq!(second.code, 1);
    assert!(
        second
            .stderr
            .contains("another SentinelZero engine is already running"),
        "{}",
        second.stderr
    );
    assert!(
        second.stderr.contains(&format!("pid {}", daemon.pid())),
        "{}",
        second.stderr
    );
    assert_eq!(daemon.stop(), 0, "SIGTERM is a clean exit");
}

#[test]
fn the_socket_database_and_logs_are_private() {
    let home = Home::new();
    let _daemon = home.daemon();
    home.ok(&["add", "talker", "--", "echo", "hello"]);
    wait_until("the job's log file", || {
        home.path().join("logs/talker.log").exists()
    });
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&home.socket()), 0o600);
    assert_eq!(mode(&home.path()), 0o700);
    assert_eq!(mode(&home.path().join("logs")), 0o700);
    // Definitions (with every environment value) and output are the owner's alone.
    for file in [
        "sentinel.db",
        "sentinel.db-wal",
        "sentinel.db-shm",
        "logs/talker.log",
    ] {
        assert_eq!(mode(&home.path().join(file)), 0o600, "{file}");
    }
}

#[test]
#[cfg_attr(
    target_os = "macos",
    ignore = "uses util-linux `script -qec`; BSD script takes other arguments"
)]
fn ls_colours_states_on_a_terminal_only() {
    let home = Home::new();
    let _daemon = home.daemon();
    home.ok(&["add", "up", "--", "sleep", "1000"]);
    // `script` gives the command a pseudo-terminal.
    let bin = sentinel_bin();
    let on_tty = std::process::Command::new("script")
        .args(["-qec", &format!("{} ls", bin.display()), "/dev/null"])
        .env("SENTINEL_HOME", home.path())
        .env_remove("NO_COLOR")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&on_tty.stdout);
    assert!(text.contains("\x1b[32mrunning"), "{text:?}");
    let piped = home
        .command(&["ls"])
        .env_remove("NO_COLOR")
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&piped.stdout).contains('\x1b'));
}

#[test]
fn help_has_examples_and_completions_are_generated() {
    let home = Home::new();
    let help = home.ok(&["--help"]).stdout;
    assert!(
        help.contains("Examples:") && help.contains("sentinel add api"),
        "{help}"
    );
    let add = home.ok(&["add", "--help"]).stdout;
    for flag in [
        "--cwd",
        "--env",
        "--group",
        "--restart",
        "--max-retries",
        "--delay",
        "--backoff",
        "--max-delay",
        "--success-codes",
        "--min-uptime",
        "--stop-signal",
        "--stop-timeout",
        "--disabled",
        "--no-autostart",
        "--shell",
    ] {
        assert!(add.contains(flag), "add --help lacks {flag}");
    }
    for shell in ["bash", "zsh", "fish"] {
        let script = home.ok(&["completions", shell]).stdout;
        assert!(
            script.contains("sentinel") && script.contains("restart"),
            "{shell}"
        );
    }
}

#[test]
fn schedules_from_the_command_line() {
    let home = Home::new();
    let _daemon = home.daemon();
    let preview = home.ok(&["schedule", "0 */15 * * * *", "-n", "5"]).stdout;
    let lines: Vec<&str> = preview.lines().collect();
    assert_eq!(lines[0], "every 15 minutes");
    assert_eq!(lines.len(), 6, "{preview}");
    assert!(
        lines[1..].iter().all(|l| l.contains(":00:00")
            || l.contains(":15:00")
            || l.contains(":30:00")
            || l.contains(":45:00")),
        "{preview}"
    );
    let weekdays = home.ok(&["schedule", "30 9 * * 1-5", "--json"]).json();
    assert_eq!(weekdays["description"], "at 09:30, Monday to Friday");
    assert_eq!(weekdays["next"].as_array().unwrap().len(), 5);
    let bad = home.run(&["schedule", "0 25 * * *"]);
    assert_eq!(bad.code, 1);
    assert!(
        bad.stderr
            .contains("schedule.cron: \"0 25 * * *\" is not a valid cron expression"),
        "{}",
        bad.stderr
    );

    home.ok(&[
        "add",
        "report",
        "--every",
        "1h",
        "--overlap",
        "queue",
        "--",
        "true",
    ]);
    let detail = home.ok(&["status", "report", "--json"]).json();
    assert_eq!(detail["spec"]["kind"], "task", "a schedule makes a task");
    assert_eq!(detail["spec"]["schedule"]["every"], "1h");
    assert_eq!(detail["spec"]["schedule"]["overlap"], "queue");
    wait_until("the next run in ls", || {
        home.ok(&["ls"]).stdout.contains("next in 59m")
    });
    let status = home.ok(&["status", "report"]).stdout;
    assert!(
        status.contains("schedule   every 1h; overlap queue, missed runs run once"),
        "{status}"
    );

    home.ok(&["disable", "report"]);
    wait_until("the schedule to pause", || {
        home.ok(&["status", "report", "--json"]).json()["status"]
            .get("next_run_at")
            .is_none()
    });
    home.ok(&["enable", "report"]);
    wait_until("the schedule to resume", || {
        home.ok(&["status", "report", "--json"]).json()["status"]
            .get("next_run_at")
            .is_some()
    });
    home.ok(&["run", "report"]);
    wait_until("the manual run", || {
        home.ok(&["runs", "report", "--json"])
            .json()
            .as_array()
            .is_some_and(|r| r.len() == 1)
    });
    assert_eq!(
        home.ok(&["runs", "report", "--json"]).json()[0]["trigger"],
        "manual"
    );

    let no_schedule = home.run(&["add", "x", "--overlap", "skip", "--", "true"]);
    assert_eq!(no_schedule.code, 2);
    assert!(
        no_schedule
            .stderr
            .contains("--overlap and --missed apply to a schedule"),
        "{}",
        no_schedule.stderr
    );
    let past = home.run(&["add", "late", "--at", "2020-01-01 00:00", "--", "true"]);
    assert_eq!(past.code, 1);
    assert!(
        past.stderr
            .contains("schedule.at: 2020-01-01 00:00:00 is in the past"),
        "{}",
        past.stderr
    );
}

#[test]
fn jobs_go_to_a_file_and_come_back() {
    let home = Home::new();
    let _daemon = home.daemon();
    home.ok(&[
        "add",
        "api",
        "--group",
        "web",
        "--no-autostart",
        "--env",
        "PORT=8080",
        "--",
        "node",
        "server.js",
        "my arg",
    ]);
    home.ok(&["add", "nightly", "--cron", "0 2 * * *", "--", "true"]);
    let exported = home.ok(&["export"]).stdout;
    assert!(exported.starts_with("version = 1\n"), "{exported}");
    let file = home.dir.path().join("jobs.toml");
    std::fs::write(&file, &exported).unwrap();
    let same = home
        .ok(&["import", file.to_str().unwrap(), "--replace"])
        .stdout;
    assert_eq!(same, "unchanged  api\nunchanged  nightly\n");
    let json = home
        .ok(&["export", "--group", "web", "--format", "json"])
        .json();
    assert_eq!(json["jobs"].as_array().unwrap().len(), 1);

    // A file with problems changes nothing and lists every one.
    let bad = home.dir.path().join("bad.toml");
    std::fs::write(&bad, "version = 1\n[[jobs]]\nname = \"a b\"\ncommand = \"x\"\n[[jobs]]\nname = \"api\"\ncommand = \"echo 'x\"\n").unwrap();
    let refused = home.run(&["import", bad.to_str().unwrap()]);
    assert_eq!(refused.code, 1);
    assert!(
        refused
            .stderr
            .contains("the file has 2 problems; nothing was changed"),
        "{}",
        refused.stderr
    );
    assert!(
        refused.stderr.contains("jobs[0] (a b).name:"),
        "{}",
        refused.stderr
    );
    assert!(
        refused.stderr.contains("jobs[1] (api).command:"),
        "{}",
        refused.stderr
    );

    let procfile = home.dir.path().join("Procfile");
    std::fs::write(
        &procfile,
        "web: python3 -m http.server $PORT\nworker: sleep 1000\n",
    )
    .unwrap();
    let dry = home
        .ok(&[
            "import",
            "--from",
            "procfile",
            procfile.to_str().unwrap(),
            "--dry-run",
        ])
        .stdout;
    assert_eq!(
        dry,
        "add        web\nadd        worker\n(dry run: nothing was changed)\n"
    );
    assert_eq!(
        home.ok(&["ls", "--json"]).json().as_array().unwrap().len(),
        2
    );

    let unit = home.ok(&["export", "api", "--as", "systemd"]).stdout;
    assert!(
        unit.contains("ExecStart=node server.js \"my arg\""),
        "{unit}"
    );
    let plist = home.ok(&["export", "nightly", "--as", "launchd"]).stdout;
    assert!(
        plist.contains("<key>StartCalendarInterval</key>"),
        "{plist}"
    );
}

#[test]
fn sigterm_sighup_and_sigint_stop_every_job_then_the_daemon() {
    use nix::sys::signal::{kill, Signal};
    use nix::unistd::Pid;

    for signal in [Signal::SIGTERM, Signal::SIGHUP, Signal::SIGINT] {
        let home = Home::new();
        let mut daemon = home.daemon();
        home.ok(&[
            "add",
            "svc",
            "--shell",
            "--cmd",
            "sleep 1000 & sleep 1000 & wait",
        ]);
        let pgid = pid_of(&home, "svc").unwrap();
        kill(Pid::from_raw(daemon.pid() as i32), signal).unwrap();
        let mut exit = None;
        wait_until("the daemon to exit", || {
            exit = daemon.child.try_wait().unwrap();
            exit.is_some()
        });
        assert_eq!(exit.unwrap().code(), Some(0), "{signal}: a clean exit");
        assert!(!group_alive(pgid), "{signal}: the job's group was stopped");
    }
}
