//! Dev stacks from the command line: dependencies, env files and ports, through the real CLI
//! and daemon.

use sentinel_tests::*;

#[test]
fn dependencies_env_files_and_ports_from_the_cli() {
    let home = Home::new();
    let _daemon = home.daemon();
    let project = home.path().join("project");
    std::fs::create_dir_all(&project).unwrap();
    std::fs::write(project.join(".env"), "GREETING=hello\nNAME=file\n").unwrap();
    let cwd = project.display().to_string();

    home.ok(&[
        "add",
        "db",
        "--group",
        "stack",
        "--no-autostart",
        "--",
        "sleep",
        "1000",
    ]);
    let refused = home.run(&[
        "add",
        "api",
        "--depends-on",
        "ghost:healthy",
        "--",
        "sleep",
        "1000",
    ]);
    assert_ne!(refused.code, 0);
    assert!(
        refused
            .stderr
            .contains("depends_on[0].job: no job named \"ghost\""),
        "{}",
        refused.stderr
    );
    let bad_condition = home.run(&["add", "api", "--depends-on", "db:ready", "--", "true"]);
    assert!(
        bad_condition
            .stderr
            .contains("\"ready\" is not a condition"),
        "{}",
        bad_condition.stderr
    );

    let port = free_port();
    home.ok(&[
        "add",
        "api",
        "--group",
        "stack",
        "--no-autostart",
        "--depends-on",
        "db",
        "--cwd",
        &cwd,
        "--env-file",
        ".env",
        "--env",
        "NAME=flag",
        "--port",
        &port.to_string(),
        "--nice",
        "5",
        "--",
        "sleep",
        "1000",
    ]);
    let status = home.ok(&["status", "api"]).stdout;
    assert!(status.contains("needs      db (running)"), "{status}");
    assert!(status.contains("env files  .env"), "{status}");
    assert!(status.contains(&format!("ports      {port}")), "{status}");
    assert!(status.contains("limits     nice 5"), "{status}");

    // Started alone it waits, and says for what.
    home.ok(&["start", "api"]);
    let waiting = home.ok(&["status", "api"]).stdout;
    assert!(waiting.starts_with("api  waiting"), "{waiting}");
    assert!(
        waiting.contains("reason     waiting for db to be running (db is stopped)"),
        "{waiting}"
    );
    home.ok(&["start", "db"]);
    wait_until("api runs once db does", || {
        home.ok(&["status", "api", "--json"]).json()["status"]["state"] == "running"
    });

    let env = home.ok(&["env", "api"]).stdout;
    let env_file = project.join(".env").display().to_string();
    let lines: Vec<&str> = env.lines().collect();
    assert_eq!(lines.len(), 2, "{env}");
    assert!(lines[0].starts_with("GREETING=hello"), "{env}");
    assert!(lines[0].ends_with(&format!("# from {env_file}")), "{env}");
    assert!(lines[1].starts_with("NAME=flag"), "{env}");
    assert!(
        lines[1].ends_with(&format!("# from env, overrides {env_file}")),
        "{env}"
    );

    let ports = home.ok(&["ports"]).stdout;
    let row: Vec<&str> = ports.lines().nth(1).unwrap().split_whitespace().collect();
    assert_eq!(row[..2], ["api", port.to_string().as_str()], "{ports}");
    let json = home.ok(&["ports", "api", "--json"]).json();
    assert_eq!(json[0]["ports"][0]["port"], port);
    let freed = home.ok(&["ports", "api", "--free"]).stdout;
    assert_eq!(freed.trim(), "api: no leftover process holds its ports");

    // The group stops dependants first.
    home.ok(&["stop", "--group", "stack"]);
    let events = home.ok(&["events", "--json", "-n", "200"]).json();
    let exits: Vec<String> = events
        .as_array()
        .unwrap()
        .iter()
        .filter(|event| event["type"] == "run_exited")
        .map(|event| event["job"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(exits, ["api", "db"]);
}
