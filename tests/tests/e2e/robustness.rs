//! Bad input at the socket: each gets a clear 4xx (or a closed connection for what is not
//! HTTP at all), and the daemon carries on serving everyone else.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::time::Duration;

use sentinel_tests::*;

fn still_serves(home: &Home) {
    let jobs = request(&home.socket(), "GET", "/api/jobs", None).unwrap();
    assert_eq!(jobs.status, 200, "the daemon stopped answering");
}

#[test]
fn garbage_bad_bytes_and_hostile_names_are_refused_and_the_daemon_carries_on() {
    let home = Home::new();
    let _daemon = home.daemon();
    let socket = home.socket();

    // Not HTTP at all.
    let garbage = raw_request(&socket, b"\x16\x03\x01 hello \xff\xfe\r\n\r\n").unwrap();
    assert!(
        garbage.status == 400 || garbage.status == 0,
        "{}",
        garbage.status
    );
    still_serves(&home);

    // A body that is not UTF-8.
    let invalid = request(
        &socket,
        "POST",
        "/api/jobs",
        Some(b"{\"name\": \"\xff\xfe\"}"),
    )
    .unwrap();
    assert_eq!(invalid.status, 400, "{}", invalid.body);
    assert_eq!(invalid.json()["code"], "bad_json");

    // Names become file names and go into SQL: neither may escape.
    for name in ["../../etc/passwd", "x'; DROP TABLE jobs; --", "a/b", ".."] {
        let body = serde_json::json!({"name": name, "command": "true"}).to_string();
        let refused = request(&socket, "POST", "/api/jobs", Some(body.as_bytes())).unwrap();
        assert_eq!(refused.status, 422, "{name}: {}", refused.body);
        assert_eq!(refused.json()["field"], "name", "{name}");
    }
    let traversal = request(
        &socket,
        "GET",
        "/api/jobs/..%2F..%2Fetc%2Fpasswd/logs",
        None,
    )
    .unwrap();
    assert_eq!(traversal.status, 404, "{}", traversal.body);
    assert_eq!(traversal.json()["code"], "not_found");

    // An environment value longer than the OS passes to a program.
    let big = "x".repeat(200 * 1024);
    let body =
        serde_json::json!({"name": "big", "command": "true", "env": {"BIG": big}}).to_string();
    let refused = request(&socket, "POST", "/api/jobs", Some(body.as_bytes())).unwrap();
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert_eq!(refused.json()["field"], "env.BIG");

    // The database still has its tables and nothing was created.
    let jobs = request(&socket, "GET", "/api/jobs", None).unwrap().json();
    assert_eq!(jobs, serde_json::json!([]));
}

#[test]
fn slow_and_vanishing_clients_do_not_hold_up_anyone_else() {
    let home = Home::new();
    let _daemon = home.daemon();
    home.ok(&[
        "add",
        "ticker",
        "--",
        "sh",
        "-c",
        "while :; do echo tick; sleep 0.05; done",
    ]);

    // A client that sends half a request and then nothing.
    let mut slow = UnixStream::connect(home.socket()).unwrap();
    slow.write_all(b"GET /api/jobs HTTP/1.1\r\nHost: loc")
        .unwrap();
    still_serves(&home);

    // Twenty clients that follow the events and the logs and hang up in the middle.
    for i in 0..20 {
        let path = if i % 2 == 0 {
            "/api/events?follow=true"
        } else {
            "/api/jobs/ticker/logs?follow=true"
        };
        let mut stream = UnixStream::connect(home.socket()).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        stream
            .write_all(format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n").as_bytes())
            .unwrap();
        let mut head = [0u8; 256];
        let n = stream.read(&mut head).unwrap();
        assert!(
            head[..n].starts_with(b"HTTP/1.1 200"),
            "{}",
            String::from_utf8_lossy(&head[..n])
        );
        drop(stream);
    }
    still_serves(&home);
    let status = home.ok(&["status", "ticker", "--json"]).json();
    assert_eq!(status["status"]["state"], "running");
    drop(slow);
}

/// A request whose body never comes, over and over: with its open-file limit at 256, three
/// hundred of them take every descriptor the daemon has (the rest wait in the socket's
/// backlog, and so does everyone after them). Each is answered 408 when its body is overdue and
/// closed, the accept loop carries on once descriptors come back, and the request behind them
/// is answered.
#[test]
fn stalled_bodies_that_take_every_descriptor_time_out_and_the_daemon_answers_again() {
    use std::os::unix::process::CommandExt;
    use std::time::Instant;

    use sentinel_engine::control::BODY_READ_TIMEOUT;

    const STALLED: usize = 300;
    let home = Home::new();
    let _daemon = home.daemon_with(|command| {
        // SAFETY: setrlimit is async-signal-safe and allocates nothing.
        unsafe {
            command.pre_exec(|| {
                nix::sys::resource::setrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE, 256, 256)
                    .map_err(std::io::Error::from)
            });
        }
    });
    let head = b"POST /api/jobs HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{";
    let mut stalled = Vec::new();
    for _ in 0..STALLED {
        let mut stream = UnixStream::connect(home.socket()).unwrap();
        stream.write_all(head).unwrap();
        stalled.push(stream);
    }
    let asked = Instant::now();
    // Behind them all: answered once the stalled ones have timed out, not never.
    let answered = std::thread::spawn({
        let socket = home.socket();
        move || request(&socket, "GET", "/api/jobs", None)
    });
    let within = BODY_READ_TIMEOUT * 3 + DEADLINE;
    let mut timed_out = 0;
    for stream in &mut stalled {
        stream
            .set_read_timeout(Some(within.saturating_sub(asked.elapsed())))
            .unwrap();
        let mut reply = Vec::new();
        // Ends when the daemon closes the connection (a reset counts: it did not read the body).
        let _ = stream.read_to_end(&mut reply);
        let reply = String::from_utf8_lossy(&reply);
        assert!(
            asked.elapsed() < within,
            "a stalled request was still open after {within:?}"
        );
        if reply.starts_with("HTTP/1.1 408") {
            assert!(reply.contains("\"body_timeout\""), "{reply}");
            timed_out += 1;
        }
    }
    assert!(timed_out > 0, "none of the stalled requests got a 408");
    let jobs = answered.join().unwrap().expect("the daemon answers again");
    assert_eq!(jobs.status, 200, "{}", jobs.body);
    still_serves(&home);
}

/// A socket this user may not open (another user's engine) is reported as such, naming the
/// socket and who owns it, not as "no engine is running". Run as `nobody` when the tests run as
/// root (root may open anything); otherwise the socket is made unreadable for its owner.
#[test]
fn a_socket_this_user_may_not_open_is_reported_as_permission_denied() {
    use std::os::unix::fs::PermissionsExt;

    let home = Home::new();
    let _daemon = home.daemon();
    let root = nix::unistd::Uid::effective().is_root();
    let mut command = if root {
        let mut command = std::process::Command::new("setpriv");
        command
            .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
            .arg(sentinel_bin())
            .arg("ls")
            .env("SENTINEL_HOME", home.path())
            .env_remove("SENTINEL_SOCKET");
        command
    } else {
        std::fs::set_permissions(home.socket(), std::fs::Permissions::from_mode(0o000)).unwrap();
        home.command(&["ls"])
    };
    let output = command.output().expect("setpriv (util-linux) runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("permission denied"), "{stderr}");
    assert!(
        stderr.contains(&home.socket().display().to_string()),
        "{stderr}"
    );
    let owner = if root { "root" } else { "owner: " };
    assert!(stderr.contains(owner), "the owner is named: {stderr}");
    assert!(!stderr.contains("no SentinelZero engine"), "{stderr}");
    if !root {
        std::fs::set_permissions(home.socket(), std::fs::Permissions::from_mode(0o600)).unwrap();
    }
}
