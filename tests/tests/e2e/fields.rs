//! Every field from the command line: a health check on a log line, a memory limit,
//! notifications and a webhook set with `sentinel add`, changed one setting at a time with
//! `sentinel edit`, and removed again with the `--no-…` flags, against a real daemon.

use sentinel_tests::*;

fn detail(home: &Home, job: &str) -> serde_json::Value {
    home.ok(&["status", job, "--json"]).json()
}

#[test]
fn health_memory_notify_and_webhook_from_flags() {
    let home = Home::new();
    let _daemon = home.daemon();
    home.ok(&[
        "add",
        "db",
        "--health-log",
        "ready to accept connections",
        "--health-start-period",
        "1m",
        "--health-restart",
        "false",
        "--max-memory-restart",
        "512MiB",
        "--no-notify",
        "--webhook",
        "http://127.0.0.1:9/hook",
        "--nice",
        "5",
        "--max-open-files",
        "512",
        "--shell",
        "--cmd",
        "echo booting; sleep 0.3; echo 'LOG: ready to accept connections'; exec sleep 1000",
    ]);
    let spec = &detail(&home, "db")["spec"];
    assert_eq!(spec["health"]["log"], "ready to accept connections");
    assert_eq!(spec["health"]["start_period"], "1m");
    assert_eq!(spec["health"]["restart"], false);
    assert_eq!(spec["max_memory"], "512MiB");
    assert_eq!(spec["notify"], false);
    assert_eq!(spec["webhook"], "http://127.0.0.1:9/hook");
    wait_until("db's ready line to make it healthy", || {
        detail(&home, "db")["status"]["health"] == "healthy"
    });

    // One setting changes alone; the engine still judges each value.
    home.ok(&["edit", "db", "--health-timeout", "9s"]);
    let spec = &detail(&home, "db")["spec"];
    assert_eq!(spec["health"]["timeout"], "9s");
    assert_eq!(spec["health"]["log"], "ready to accept connections");
    assert_eq!(spec["health"]["start_period"], "1m");
    let refused = home.run(&["edit", "db", "--health-log", "ready ("]);
    assert_ne!(refused.code, 0);
    assert!(
        refused
            .stderr
            .contains("health.log: \"ready (\" is not a regular expression"),
        "{}",
        refused.stderr
    );
    let refused = home.run(&["edit", "db", "--max-memory", "1KiB"]);
    assert!(
        refused.stderr.contains("max_memory: 1KiB is too small"),
        "{}",
        refused.stderr
    );

    home.ok(&[
        "edit",
        "db",
        "--no-health",
        "--no-max-memory",
        "--notify",
        "--no-webhook",
        "--no-nice",
        "--no-rlimits",
    ]);
    let spec = detail(&home, "db")["spec"].clone();
    for field in [
        "health",
        "max_memory",
        "notify",
        "webhook",
        "nice",
        "rlimits",
    ] {
        assert!(spec.get(field).is_none(), "{field} is still set: {spec}");
    }

    // A setting of a check the job does not have says which flag, and how to add one.
    let refused = home.run(&["edit", "db", "--health-interval", "5s"]);
    assert_ne!(refused.code, 0);
    assert!(
        refused.stderr.contains(
            "--health-interval changes a health check, and db has none: add one with --health-cmd"
        ),
        "{}",
        refused.stderr
    );
}
