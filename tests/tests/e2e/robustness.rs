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
