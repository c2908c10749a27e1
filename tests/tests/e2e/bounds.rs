//! What bricked the engine once (a job every million years, an interval of a nanosecond,
//! restart delays and stop timeouts of millions of years): refused with the field named,
//! by the CLI, the API and an import alike, and the daemon restarts as before.

use sentinel_tests::*;

#[test]
fn out_of_bounds_definitions_are_refused_everywhere_and_the_daemon_restarts() {
    let home = Home::new();
    let daemon = home.daemon();
    let socket = home.socket();

    for (args, field) in [
        (
            &["add", "x", "--every", "1000000y", "--", "true"][..],
            "schedule.every",
        ),
        (
            &["add", "x", "--every", "1ns", "--", "true"][..],
            "schedule.every",
        ),
        (
            &[
                "add",
                "x",
                "--delay",
                "1000000y",
                "--max-delay",
                "1000000y",
                "--",
                "false",
            ][..],
            "restart.delay",
        ),
        (
            &["add", "x", "--stop-timeout", "400000000000y", "--", "true"][..],
            "stop_timeout",
        ),
    ] {
        let refused = home.run(args);
        assert_ne!(refused.code, 0, "{args:?} was accepted");
        assert!(
            refused.stderr.contains(field),
            "{args:?}: {}",
            refused.stderr
        );
    }

    let body =
        br#"{"name": "x", "command": "true", "kind": "task", "schedule": {"every": "1000000y"}}"#;
    let api = request(&socket, "POST", "/api/jobs", Some(body)).unwrap();
    assert_eq!(api.status, 422, "{}", api.body);
    assert_eq!(api.json()["field"], "schedule.every");

    let preview = request(&socket, "GET", "/api/schedule/preview?every=1ns", None).unwrap();
    assert_eq!(preview.status, 422, "{}", preview.body);

    let file = home.path().join("jobs.toml");
    std::fs::write(
        &file,
        "version = 1\n[[jobs]]\nname = \"x\"\ncommand = \"true\"\nkind = \"task\"\nschedule = { every = \"1000000y\" }\n",
    )
    .unwrap();
    let import = home.run(&["import", file.to_str().unwrap()]);
    assert_ne!(import.code, 0, "the import was accepted");
    assert!(
        import.stderr.contains("schedule.every"),
        "{}",
        import.stderr
    );

    let listed = request(&socket, "GET", "/api/jobs", None).unwrap();
    assert_eq!(
        listed.json().as_array().unwrap().len(),
        0,
        "nothing was saved"
    );

    // The daemon stops cleanly and starts again.
    assert_eq!(daemon.stop(), 0);
    let _again = home.daemon();
    home.ok(&["ls"]);
}
