//! `sentinel import --from process-compose`: a realistic process-compose.yaml through the real
//! CLI into a real daemon, every mapped key read back from the definitions, and the stack
//! coming up in its order (a database stand-in that prints its ready line late, a migration
//! that waits for it, an api and a worker that wait for the migration).

use sentinel_tests::*;

const FILE: &str = r#"
version: "0.5"
environment:
  - "APP_ENV=test"
x-restart: &restart
  availability:
    restart: always
    backoff_seconds: 1

processes:
  db:
    command: "echo starting; sleep 1; echo 'LOG:  database system is ready to accept connections'; exec sleep 1000"
    ready_log_line: "ready to accept connections"
    namespace: data
    availability:
      restart: on_failure
      backoff_seconds: 2
      max_restarts: 3
    shutdown:
      signal: 2
      timeout_seconds: 5

  migrate:
    command: "echo \"migrated $APP_ENV\" > migrated.txt"
    working_dir: work
    depends_on:
      db:
        condition: process_log_ready

  api:
    <<: *restart
    command: "python3 -m http.server PORT --bind 127.0.0.1"
    working_dir: web
    env_file: api.env
    environment:
      - "GREETING=hello"
    namespace: web
    depends_on:
      migrate:
        condition: process_completed_successfully
    readiness_probe:
      http_get:
        host: 127.0.0.1
        port: PORT
        path: /
      period_seconds: 1
      timeout_seconds: 2
      failure_threshold: 5

  worker:
    command: "sleep 1000"
    depends_on:
      migrate:
        condition: process_completed_successfully
    liveness_probe:
      exec:
        command: "test -f work/migrated.txt"
      initial_delay_seconds: 1
      period_seconds: 1
      failure_threshold: 2
    availability:
      restart: on_failure
      max_restarts: 4
    success_exit_codes: [3]
    shutdown:
      signal: 15
      timeout_seconds: 3

  nightly:
    command: "echo report"
    schedule:
      cron: "0 3 * * *"

  legacy:
    command: "sleep 1000"
    disabled: true
    log_location: /tmp/legacy.log
    replicas: 2
"#;

fn spec(home: &Home, job: &str) -> serde_json::Value {
    home.ok(&["status", job, "--json"]).json()["spec"].clone()
}

fn status(home: &Home, job: &str) -> serde_json::Value {
    home.ok(&["status", job, "--json"]).json()["status"].clone()
}

#[test]
fn a_process_compose_stack_comes_up() {
    let home = Home::new();
    let _daemon = home.daemon();
    let project = home.path().join("stack");
    for dir in ["work", "web"] {
        std::fs::create_dir_all(project.join(dir)).unwrap();
    }
    std::fs::write(project.join("web/api.env"), "FROM_FILE=yes\n").unwrap();
    let port = free_port();
    let file = project.join("process-compose.yaml");
    std::fs::write(&file, FILE.replace("PORT", &port.to_string())).unwrap();
    let file = file.to_str().unwrap();

    let dry = home.ok(&["import", "--from", "process-compose", file, "--dry-run"]);
    assert_eq!(
        dry.stdout,
        "add        db\nadd        migrate\nadd        api\nadd        worker\nadd        nightly\nadd        legacy\n(dry run: nothing was changed)\n"
    );
    let imported = home.ok(&["import", "--from", "process-compose", file]);
    let notes: Vec<&str> = imported.stderr.lines().collect();
    assert_eq!(
        notes,
        [
            "sentinel: not carried over: legacy: replicas = 2: a job runs one process; add a job for each copy",
            "sentinel: not carried over: legacy: log_location = \"/tmp/legacy.log\" is not carried over: sentinel keeps each job's output in its own files (sentinel logs NAME)",
        ]
    );

    let db = spec(&home, "db");
    assert_eq!(db["shell"], true);
    assert_eq!(db["cwd"], project.display().to_string());
    assert_eq!(db["env"]["APP_ENV"], "test");
    assert_eq!(db["group"], "data");
    assert_eq!(db["health"]["log"], "ready to accept connections");
    assert_eq!(db["health"]["start_period"], "5m");
    assert_eq!(db["health"]["restart"], false);
    assert_eq!(db["restart"]["mode"], "on-failure");
    assert_eq!(db["restart"]["delay"], "2s");
    assert_eq!(db["restart"]["backoff"], 1.0);
    assert_eq!(db["restart"]["max_retries"], 3);
    assert_eq!(db["stop_signal"], "INT");
    assert_eq!(db["stop_timeout"], "5s");

    let migrate = spec(&home, "migrate");
    assert_eq!(migrate["cwd"], project.join("work").display().to_string());
    assert_eq!(
        migrate["depends_on"],
        serde_json::json!([{"job": "db", "condition": "healthy"}])
    );
    assert_eq!(migrate["restart"]["mode"], "never");

    let api = spec(&home, "api");
    assert_eq!(api["shell"], false, "no shell syntax: it runs directly");
    assert_eq!(api["cwd"], project.join("web").display().to_string());
    assert_eq!(api["env_files"], serde_json::json!(["api.env"]));
    assert_eq!(api["env"]["GREETING"], "hello");
    assert_eq!(api["group"], "web");
    assert_eq!(
        api["depends_on"],
        serde_json::json!([{"job": "migrate", "condition": "completed"}])
    );
    assert_eq!(api["health"]["http"], format!("http://127.0.0.1:{port}/"));
    assert_eq!(api["health"]["interval"], "1s");
    assert_eq!(api["health"]["timeout"], "2s");
    assert_eq!(api["health"]["retries"], 5);
    assert_eq!(api["health"]["restart"], false);
    assert_eq!(api["restart"]["mode"], "always", "from the merged anchor");
    assert_eq!(api["restart"]["max_retries"], 0);

    let worker = spec(&home, "worker");
    assert_eq!(worker["health"]["exec"], "test -f work/migrated.txt");
    assert_eq!(worker["health"]["start_period"], "1s");
    assert_eq!(worker["health"]["retries"], 2);
    assert_eq!(worker["health"]["restart"], true);
    assert_eq!(worker["restart"]["mode"], "on-failure");
    assert_eq!(worker["restart"]["max_retries"], 4);
    assert_eq!(
        worker["restart"]["success_exit_codes"],
        serde_json::json!([0, 3])
    );
    assert_eq!(worker["stop_signal"], "TERM");
    assert_eq!(worker["stop_timeout"], "3s");

    let nightly = spec(&home, "nightly");
    assert_eq!(nightly["kind"], "task");
    assert_eq!(nightly["schedule"]["cron"], "0 3 * * *");
    assert_eq!(spec(&home, "legacy")["enabled"], false);

    // The stack comes up in its order: db's line, then the migration, then api and worker.
    wait_until("api and worker to be healthy", || {
        ["api", "worker"]
            .iter()
            .all(|job| status(&home, job)["health"] == "healthy")
    });
    assert_eq!(status(&home, "db")["health"], "healthy");
    assert_eq!(status(&home, "migrate")["state"], "exited");
    assert_eq!(
        std::fs::read_to_string(project.join("work/migrated.txt")).unwrap(),
        "migrated test\n"
    );
    let env = home.ok(&["env", "api"]).stdout;
    assert!(env.contains("FROM_FILE=yes"), "{env}");
    assert!(env.contains("GREETING=hello"), "{env}");
    assert_eq!(status(&home, "legacy")["state"], "stopped");
}
