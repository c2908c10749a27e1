//! Monitoring through the real daemon: /metrics read by the Prometheus project's own parser,
//! the loopback metrics endpoint and its guards, `sentinel top` and `status`, and a real
//! desktop notification delivered to a real notification daemon on a private D-Bus session.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use sentinel_tests::*;

/// The venv `scripts/setup.sh` makes, with prometheus-client.
fn parser_python() -> PathBuf {
    let python = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.tools/venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run scripts/setup.sh",
        python.display()
    );
    python
}

/// (name, sorted labels) → value, as the OpenMetrics parser of prometheus_client reads it.
fn parse_openmetrics(text: &str) -> HashMap<String, f64> {
    let script = r#"
import json, sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families
out = {}
for family in text_string_to_metric_families(sys.stdin.read()):
    for s in family.samples:
        labels = ",".join(f"{k}={v}" for k, v in sorted(s.labels.items()))
        out[f"{s.name}{{{labels}}}"] = s.value
print(json.dumps(out))
"#;
    let mut child = Command::new(parser_python())
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "the OpenMetrics parser refused the text: {}\n{text}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

fn metric(metrics: &HashMap<String, f64>, key: &str) -> f64 {
    *metrics
        .get(key)
        .unwrap_or_else(|| panic!("no {key} in {:#?}", metrics.keys().collect::<Vec<_>>()))
}

fn state_of(home: &Home, job: &str) -> serde_json::Value {
    request(&home.socket(), "GET", &format!("/api/jobs/{job}"), None)
        .unwrap()
        .json()["status"]
        .clone()
}

#[test]
fn metrics_parse_and_match_the_engine() {
    let home = Home::new();
    home.write_settings(
        "[monitor]\nsample_interval = \"200ms\"\n[notifications]\nenabled = false\n",
    );
    let _daemon = home.daemon();
    home.ok(&["add", "up", "--", "sleep", "60"]);
    home.ok(&[
        "add",
        "bad",
        "--restart",
        "never",
        "--",
        "sh",
        "-c",
        "exit 3",
    ]);
    home.ok(&["add", "twice", "--kind", "task", "--", "true"]);
    home.ok(&["run", "twice"]);
    wait_until("bad to fail and twice to exit once", || {
        state_of(&home, "bad")["state"] == "failed" && state_of(&home, "twice")["state"] == "exited"
    });
    home.ok(&["run", "twice"]);
    // A restart and a health check, so that every metric the dashboard uses has a series.
    home.ok(&["restart", "up"]);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let checked = serde_json::json!({
        "name": "checked",
        "command": "sleep 60",
        "health": {"tcp": listener.local_addr().unwrap().to_string(), "interval": "100ms"},
    });
    let created = request(
        &home.socket(),
        "POST",
        "/api/jobs",
        Some(checked.to_string().as_bytes()),
    )
    .unwrap();
    assert_eq!(created.status, 201, "{}", created.body);
    // A scrape is a look: every job is sampled at the full rate for the next minute (nobody
    // watching, a job just started waits for the once-a-minute sample).
    assert_eq!(
        request(&home.socket(), "GET", "/metrics", None)
            .unwrap()
            .status,
        200
    );
    wait_until("twice to run again and up to be sampled", || {
        let runs = request(&home.socket(), "GET", "/api/jobs/twice/runs", None)
            .unwrap()
            .json();
        runs.as_array()
            .is_some_and(|r| r.len() == 2 && r.iter().all(|r| r["outcome"] == "success"))
            && state_of(&home, "up")["resources"]["memory_bytes"].is_u64()
    });

    let response = request(&home.socket(), "GET", "/metrics", None).unwrap();
    assert_eq!(response.status, 200);
    let metrics = parse_openmetrics(&response.body);
    assert_eq!(metric(&metrics, "sentinel_jobs{}"), 4.0);
    assert_eq!(metric(&metrics, "sentinel_job_restarts_total{job=up}"), 1.0);
    assert_eq!(
        metric(&metrics, "sentinel_job_health{job=checked,state=healthy}")
            + metric(&metrics, "sentinel_job_health{job=checked,state=unknown}"),
        1.0
    );
    assert_eq!(metric(&metrics, "sentinel_job_up{job=up}"), 1.0);
    assert_eq!(metric(&metrics, "sentinel_job_up{job=bad}"), 0.0);
    assert_eq!(
        metric(&metrics, "sentinel_job_state{job=bad,state=failed}"),
        1.0
    );
    assert_eq!(
        metric(&metrics, "sentinel_job_state{job=bad,state=running}"),
        0.0
    );
    assert_eq!(
        metric(&metrics, "sentinel_job_last_exit_code{job=bad}"),
        3.0
    );
    assert_eq!(
        metric(&metrics, "sentinel_job_runs_total{job=bad,outcome=failure}"),
        1.0
    );
    assert_eq!(
        metric(
            &metrics,
            "sentinel_job_runs_total{job=twice,outcome=success}"
        ),
        2.0
    );
    let version = env!("CARGO_PKG_VERSION");
    assert_eq!(
        metric(
            &metrics,
            &format!("sentinel_build_info{{version={version}}}")
        ),
        1.0
    );
    assert!(metrics.contains_key("sentinel_schedule_lateness_seconds_count{}"));
    // Nothing waits for a database that takes every write.
    wait_until("an empty store backlog", || {
        let text = request(&home.socket(), "GET", "/metrics", None)
            .unwrap()
            .body;
        metric(&parse_openmetrics(&text), "sentinel_store_backlog{}") == 0.0
    });
    assert!(metric(&metrics, "sentinel_job_cpu_seconds_total{job=up}") >= 0.0);

    // Every metric the shipped Grafana dashboard queries exists.
    let declared: Vec<&str> = response
        .body
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    let dashboard = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/grafana/sentinelzero-dashboard.json"),
    )
    .unwrap();
    let mut queried: Vec<String> = dashboard
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|word| word.starts_with("sentinel_"))
        .map(|word| {
            ["_total", "_bucket"]
                .iter()
                .fold(word.to_string(), |w, suffix| {
                    w.trim_end_matches(suffix).to_string()
                })
        })
        .collect();
    queried.sort();
    queried.dedup();
    assert!(queried.len() >= 10, "{queried:?}");
    for name in &queried {
        assert!(
            declared.contains(&name.as_str()),
            "the dashboard queries {name}, which /metrics lacks: {declared:?}"
        );
    }

    // Memory: the same figure the API reports, read from the same sample.
    wait_until("/metrics and the API to agree on memory", || {
        let before = state_of(&home, "up")["resources"]["memory_bytes"].as_f64();
        let text = request(&home.socket(), "GET", "/api/metrics/prometheus", None)
            .unwrap()
            .body;
        let after = state_of(&home, "up")["resources"]["memory_bytes"].as_f64();
        let metrics = parse_openmetrics(&text);
        before == after && before == Some(metric(&metrics, "sentinel_job_memory_bytes{job=up}"))
    });
}

fn http_get(port: u16, host: &str, token: Option<&str>) -> (u16, String) {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    write!(
        stream,
        "GET /metrics HTTP/1.1\r\nHost: {host}\r\n{auth}Connection: close\r\n\r\n"
    )
    .unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).unwrap();
    let status = reply
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, reply)
}

#[test]
fn the_loopback_endpoint_wants_the_token_and_a_loopback_host() {
    let home = Home::new();
    let port = free_port();
    home.write_settings(&format!(
        "[metrics]\nport = {port}\n[notifications]\nenabled = false\n"
    ));
    let _daemon = home.daemon();
    let token_file = home.path().join("metrics.token");
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(&token_file).unwrap().permissions(),
    );
    assert_eq!(mode & 0o777, 0o600);
    let token = std::fs::read_to_string(&token_file).unwrap();
    let token = token.trim();
    let here = format!("127.0.0.1:{port}");

    let (status, reply) = http_get(port, &here, None);
    assert_eq!(status, 401, "{reply}");
    assert!(reply.contains("metrics.token"), "{reply}");
    let (status, _) = http_get(port, &here, Some("not-the-token"));
    assert_eq!(status, 401);
    let (status, reply) = http_get(port, &format!("attacker.example:{port}"), Some(token));
    assert_eq!(status, 403, "{reply}");
    let (status, reply) = http_get(port, &here, Some(token));
    assert_eq!(status, 200, "{reply}");
    let body = reply.split_once("\r\n\r\n").unwrap().1;
    assert!(body.contains("sentinel_jobs 0"), "{body}");
    let (status, _) = http_get(port, &format!("localhost:{port}"), Some(token));
    assert_eq!(status, 200);

    // Anyone on the machine can connect before the token is checked: a body is never waited
    // for (declared or chunked, it is refused at once), so nobody can hold the engine's memory
    // and descriptors with bodies that never come.
    use std::io::{Read, Write};
    for head in [
        "POST /metrics HTTP/1.1\r\nHost: {here}\r\nContent-Length: 1000000\r\n\r\n",
        "POST /metrics HTTP/1.1\r\nHost: {here}\r\nTransfer-Encoding: chunked\r\n\r\n",
    ] {
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        stream
            .set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .unwrap();
        stream
            .write_all(head.replace("{here}", &here).as_bytes())
            .unwrap();
        let mut reply = String::new();
        let _ = stream.read_to_string(&mut reply);
        assert!(reply.starts_with("HTTP/1.1 413"), "{head}: {reply}");
    }
}

#[test]
fn top_and_status_show_resources_and_health() {
    let home = Home::new();
    home.write_settings(
        "[monitor]\nsample_interval = \"200ms\"\n[notifications]\nenabled = false\n",
    );
    let _daemon = home.daemon();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    let spec = serde_json::json!({
        "name": "db",
        "command": "sleep 60",
        "health": {"tcp": address.to_string(), "interval": "100ms"},
        "max_memory": "512MB",
    });
    let created = request(
        &home.socket(),
        "POST",
        "/api/jobs",
        Some(spec.to_string().as_bytes()),
    )
    .unwrap();
    assert_eq!(created.status, 201, "{}", created.body);
    wait_until("db to be sampled and healthy", || {
        let status = state_of(&home, "db");
        status["health"] == "healthy" && status["resources"].is_object()
    });

    let top = home.ok(&["top", "--once"]).stdout;
    let header = top.lines().next().unwrap();
    for column in ["NAME", "STATE", "CPU%", "MEM", "PROCS", "HEALTH"] {
        assert!(header.contains(column), "{top}");
    }
    let row = top.lines().find(|l| l.starts_with("db ")).unwrap();
    assert!(row.contains("running") && row.contains("healthy"), "{top}");

    let status = home.ok(&["status", "db"]).stdout;
    assert!(
        status.contains(&format!("healthy; connects to {address} every 100ms")),
        "{status}"
    );
    assert!(status.contains("resources  CPU "), "{status}");
    assert!(status.contains("memory max 488.3MiB"), "{status}");

    let history = request(&home.socket(), "GET", "/api/jobs/db/resources", None)
        .unwrap()
        .json();
    assert_eq!(history["interval_ms"], 200);
    assert!(!history["samples"].as_array().unwrap().is_empty());
}

/// Kills what it started when dropped.
struct Spawned(Vec<Child>);

impl Drop for Spawned {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn bus_has_notification_daemon(bus: &str) -> bool {
    Command::new("dbus-send")
        .args([
            "--print-reply",
            "--dest=org.freedesktop.DBus",
            "/org/freedesktop/DBus",
            "org.freedesktop.DBus.NameHasOwner",
            "string:org.freedesktop.Notifications",
        ])
        .env("DBUS_SESSION_BUS_ADDRESS", bus)
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("boolean true"))
}

#[test]
#[cfg_attr(
    target_os = "macos",
    ignore = "needs dunst on a private D-Bus session under Xvfb (Linux desktop notifications)"
)]
fn a_failure_reaches_a_real_notification_daemon() {
    let home = Home::new();
    let session = SessionBus::start();
    let bus = session.address();
    let mut spawned = Spawned(Vec::new());
    // A display of our own for dunst.
    let xvfb = Xvfb::start();
    spawned.0.push(
        Command::new("dunst")
            .env("DISPLAY", xvfb.name())
            .env("DBUS_SESSION_BUS_ADDRESS", bus)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("dunst (scripts/setup.sh installs it)"),
    );
    wait_until("dunst to own org.freedesktop.Notifications", || {
        bus_has_notification_daemon(bus)
    });

    home.write_settings("[notifications]\nenabled = true\n");
    let _daemon = home.daemon_with(|command| {
        command.env("DBUS_SESSION_BUS_ADDRESS", bus);
    });
    home.ok(&[
        "add",
        "crashy",
        "--restart",
        "never",
        "--",
        "sh",
        "-c",
        "echo 'cannot bind :8080' >&2; exit 7",
    ]);
    home.ok(&["start", "crashy"]);

    let dunstctl = |args: &[&str]| {
        let output = Command::new("dunstctl")
            .args(args)
            .env("DBUS_SESSION_BUS_ADDRESS", bus)
            .output()
            .unwrap();
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let mut history = String::new();
    wait_until("the notification in dunst's history", || {
        // Notifications enter the history once closed.
        dunstctl(&["close-all"]);
        history = dunstctl(&["history"]);
        history.contains("crashy failed")
    });
    let history: serde_json::Value = serde_json::from_str(&history).unwrap();
    let entry = &history["data"][0][0];
    assert_eq!(entry["appname"]["data"], "SentinelZero");
    assert_eq!(entry["summary"]["data"], "crashy failed");
    let body = entry["body"]["data"].as_str().unwrap();
    assert!(body.contains("exit code 7"), "{body}");
    assert!(body.contains("not restarted (restart = never)"), "{body}");
    assert!(body.contains("cannot bind :8080"), "{body}");
}

#[test]
fn a_bad_settings_file_stops_the_daemon_with_every_problem() {
    let home = Home::new();
    home.write_settings("[monitor]\nsample_interval = \"5 s\"\n[metrics]\nport = 0\n");
    let output = home.run(&["daemon"]);
    assert_eq!(output.code, 1, "{}{}", output.stdout, output.stderr);
    assert!(output.stderr.contains("settings.toml"), "{}", output.stderr);
    assert!(
        output.stderr.contains("sample_interval"),
        "{}",
        output.stderr
    );
    home.write_settings("[monitor]\nhistory = \"1s\"\n[metrics]\nport = 0\n");
    let output = home.run(&["daemon"]);
    assert_eq!(output.code, 1);
    assert!(
        output
            .stderr
            .contains("monitor.history: must be at least one sample_interval long")
            && output.stderr.contains("metrics.port: 0 is not a port"),
        "{}",
        output.stderr
    );
}
