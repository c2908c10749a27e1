use std::path::Path;

use sentinel_proto::RestartMode;

use super::*;

fn import(text: &str) -> Migrated {
    parse(text, Path::new("/home/me/proj")).unwrap()
}

fn job<'a>(migrated: &'a Migrated, name: &str) -> &'a JobSpec {
    migrated
        .jobs
        .iter()
        .find(|job| job.name == name)
        .unwrap_or_else(|| panic!("no job {name}: {:?}", migrated.notes))
}

const STACK: &str = r#"
version: "0.5"
is_strict: true
environment:
  - "LOG_LEVEL=info"
  - "REGION=eu"
processes:
  db:
    command: "postgres -D ./data"
    ready_log_line: "ready to accept connections (pid 1)"
    namespace: data
    shutdown:
      signal: 2
      timeout_seconds: 30
  migrate:
    command: "./migrate.sh && echo done"
    working_dir: tools
    depends_on:
      db:
        condition: process_log_ready
  api:
    entrypoint: ["node", "server.js", "--name", "my api"]
    environment:
      - "PORT=8080"
      - "REGION=us"
    env_file: .env.api
    depends_on:
      migrate:
        condition: process_completed_successfully
      db:
        condition: process_healthy
    readiness_probe:
      http_get:
        host: 127.0.0.1
        port: 8080
        path: /health
      initial_delay_seconds: 2
      period_seconds: 5
      timeout_seconds: 3
      failure_threshold: 4
    availability:
      restart: always
      backoff_seconds: 2
      max_restarts: 5
    success_exit_codes: [3]
  worker:
    command: "python3 -u worker.py"
    working_dir: /srv/worker
    liveness_probe:
      exec:
        command: "pgrep -f worker.py | grep -q ."
      period_seconds: 20
    availability:
      restart: on_failure
    disabled: true
    namespace: [jobs, batch]
  report:
    command: "python3 report.py"
    schedule:
      cron: "0 2 * * *"
  tick:
    command: "date"
    schedule:
      interval: "1h30m"
"#;

#[test]
fn maps_a_stack() {
    let migrated = import(STACK);
    let names: Vec<&str> = migrated.jobs.iter().map(|j| j.name.as_str()).collect();
    assert_eq!(names, ["db", "migrate", "api", "worker", "report", "tick"]);

    let db = job(&migrated, "db");
    assert_eq!(db.command, "postgres -D ./data");
    assert!(!db.shell, "no shell syntax, so it runs directly");
    assert_eq!(db.cwd.as_deref(), Some(Path::new("/home/me/proj")));
    assert_eq!(db.env["LOG_LEVEL"], "info");
    assert_eq!(db.group.as_deref(), Some("data"));
    assert_eq!(db.stop_signal.as_str(), "INT");
    assert_eq!(db.stop_timeout, Duration::from_secs(30));
    assert_eq!(db.restart.mode, RestartMode::Never);
    let health = db.health.as_ref().unwrap();
    assert_eq!(
        health.log.as_deref(),
        Some(r"ready to accept connections \(pid 1\)")
    );
    assert!(
        sentinel_proto::monitor::log_pattern(health.log.as_deref().unwrap())
            .unwrap()
            .is_match("LOG: database system is ready to accept connections (pid 1)")
    );
    assert_eq!(health.start_period, Duration::from_secs(300));
    assert!(!health.restart);

    let migrate = job(&migrated, "migrate");
    assert!(migrate.shell, "&& needs a shell");
    assert_eq!(migrate.command, "./migrate.sh && echo done");
    assert_eq!(
        migrate.cwd.as_deref(),
        Some(Path::new("/home/me/proj/tools"))
    );
    assert_eq!(
        migrate.depends_on,
        [Dependency::on("db").when(Condition::Healthy)]
    );
    assert_eq!(migrate.kind, JobKind::Service);

    let api = job(&migrated, "api");
    assert_eq!(api.command, "node server.js --name 'my api'");
    assert!(!api.shell);
    assert_eq!(api.env["PORT"], "8080");
    assert_eq!(api.env["REGION"], "us", "the process's environment wins");
    assert_eq!(api.env["LOG_LEVEL"], "info");
    assert_eq!(api.env_files, [PathBuf::from(".env.api")]);
    assert_eq!(
        api.depends_on,
        [
            Dependency::on("db").when(Condition::Healthy),
            Dependency::on("migrate").when(Condition::Completed),
        ]
    );
    let health = api.health.as_ref().unwrap();
    assert_eq!(health.http.as_deref(), Some("http://127.0.0.1:8080/health"));
    assert_eq!(health.start_period, Duration::from_secs(2));
    assert_eq!(health.interval, Duration::from_secs(5));
    assert_eq!(health.timeout, Duration::from_secs(3));
    assert_eq!(health.retries, 4);
    assert!(!health.restart, "a readiness probe does not restart");
    assert_eq!(api.restart.mode, RestartMode::Always);
    assert_eq!(api.restart.delay, Duration::from_secs(2));
    assert_eq!(api.restart.backoff, 1.0);
    assert_eq!(api.restart.max_retries, 5);
    assert_eq!(api.restart.success_exit_codes, [0, 3]);

    let worker = job(&migrated, "worker");
    assert_eq!(worker.cwd.as_deref(), Some(Path::new("/srv/worker")));
    assert!(!worker.enabled);
    assert_eq!(worker.restart.mode, RestartMode::OnFailure);
    assert_eq!(
        worker.restart.max_retries, 0,
        "unlimited, as process-compose"
    );
    assert_eq!(worker.group.as_deref(), Some("jobs"));
    let health = worker.health.as_ref().unwrap();
    assert_eq!(
        health.exec.as_deref(),
        Some("sh -c 'pgrep -f worker.py | grep -q .'")
    );
    assert_eq!(health.interval, Duration::from_secs(20));
    assert_eq!(health.timeout, Duration::from_secs(1));
    assert_eq!(health.retries, 3);
    assert!(health.restart, "a liveness probe restarts");

    let report = job(&migrated, "report");
    assert_eq!(report.kind, JobKind::Task);
    let schedule = report.schedule.as_ref().unwrap();
    assert_eq!(schedule.cron.as_deref(), Some("0 2 * * *"));
    let tick = job(&migrated, "tick");
    assert_eq!(
        tick.schedule.as_ref().unwrap().every,
        Some(Duration::from_secs(5400))
    );

    assert_eq!(
        migrated.notes,
        ["worker: namespace: a job has one group; jobs kept, batch not carried over"]
    );
    for job in &migrated.jobs {
        job.validate().unwrap();
    }
}

#[test]
fn conditions_that_do_not_map_say_so() {
    let migrated = import(
        r#"
processes:
  a:
    command: "true"
  b:
    command: "true"
    depends_on:
      a:
        condition: process_completed
  c:
    command: "true"
    depends_on:
      a:
        condition: process_log_ready
      b: {}
      e:
  d:
    command: "true"
    depends_on:
      a:
        condition: when_ready
"#,
    );
    assert_eq!(
        job(&migrated, "b").depends_on,
        [Dependency::on("a").when(Condition::Completed)]
    );
    assert_eq!(
        job(&migrated, "c").depends_on,
        [
            Dependency::on("a"),
            Dependency::on("b"),
            Dependency::on("e")
        ]
    );
    assert!(job(&migrated, "d").depends_on.is_empty());
    assert_eq!(
        migrated.notes,
        [
            "b: depends_on.a: process_completed also goes on after a failed run; here a must complete cleanly",
            "c: depends_on.a: process_log_ready needs a to have a ready_log_line; waits for it to start instead",
            "d: depends_on.a: condition \"when_ready\" is unknown; not carried over",
        ]
    );
}

#[test]
fn one_health_check_per_job() {
    let migrated = import(
        r#"
processes:
  both:
    command: "srv"
    readiness_probe:
      exec: { command: "check ready" }
      success_threshold: 2
    liveness_probe:
      exec: { command: "check live" }
  line_and_probe:
    command: "srv"
    ready_log_line: "up"
    readiness_probe:
      http_get: { port: "9000" }
  secure:
    command: "srv"
    readiness_probe:
      http_get: { scheme: https, host: example.test, port: 443 }
  empty:
    command: "srv"
    liveness_probe:
      period_seconds: 3
"#,
    );
    let both = job(&migrated, "both").health.as_ref().unwrap();
    assert_eq!(both.exec.as_deref(), Some("check ready"));
    assert!(!both.restart);
    let line = job(&migrated, "line_and_probe").health.as_ref().unwrap();
    assert_eq!(line.http.as_deref(), Some("http://127.0.0.1:9000/"));
    assert_eq!(job(&migrated, "secure").health, None);
    assert_eq!(job(&migrated, "empty").health, None);
    assert_eq!(
        migrated.notes,
        [
            "both: readiness_probe.success_threshold: one passing check is enough here",
            "both: liveness_probe is not carried over: a job has one health check, and the readiness check is kept",
            "line_and_probe: ready_log_line is not carried over: a job has one health check, and readiness_probe is kept",
            "secure: readiness_probe: the https check is not carried over: health checks fetch plain http://",
            "empty: liveness_probe has neither exec nor http_get; not carried over",
        ]
    );
}

#[test]
fn what_does_not_map_is_listed() {
    let migrated = import(
        r#"
version: "0.5"
log_location: /tmp/pc.log
vars: { PORT: 80 }
x-defaults: &defaults
  availability: { restart: always, exit_on_end: true }
processes:
  web:
    <<: *defaults
    command: "serve --port {{.PORT}}"
    is_daemon: true
    log_location: /tmp/web.log
    replicas: 3
    description: "the web server"
    is_tty: false
    x-owner: me
    shutdown: { command: "serve stop", signal: 10 }
    schedule: { cron: "", timezone: UTC }
  one:
    command: "true"
    replicas: 1
    environment: ["NOEQUALS", 7]
"#,
    );
    let web = job(&migrated, "web");
    assert_eq!(
        web.restart.mode,
        RestartMode::Always,
        "merged from the anchor"
    );
    assert_eq!(web.schedule, None);
    assert_eq!(
        migrated.notes,
        [
            "the file: log_location = \"/tmp/pc.log\" is not carried over: sentinel keeps each job's output in its own files (sentinel logs NAME)",
            "the file: vars = {\"PORT\":80} is not carried over: templates such as {{.NAME}} are not expanded here; check the commands",
            "web: the command uses {{…}} templates, which are not expanded here; check it",
            "web: availability.exit_on_end = true is not carried over: sentinel keeps running when one job ends",
            "web: schedule.timezone = \"UTC\" is not carried over: cron schedules run in the machine's local time",
            "web: shutdown.command = \"serve stop\" is not carried over: sentinel stops a job with its stop signal, then KILL",
            "web: shutdown.signal = 10 is not carried over: use HUP (1), INT (2), QUIT (3), KILL (9), ALRM (14) or TERM (15)",
            "web: replicas = 3: a job runs one process; add a job for each copy",
            "web: is_daemon = true is not carried over: the command detaches, and sentinel supervises a process that stays in the foreground: run it without its daemon option",
            "web: log_location = \"/tmp/web.log\" is not carried over: sentinel keeps each job's output in its own files (sentinel logs NAME)",
            "one: environment entry \"NOEQUALS\" is not KEY=VALUE; not carried over",
            "one: environment entry 7 is not KEY=VALUE; not carried over",
        ]
    );
}

#[test]
fn a_project_env_file_comes_first_unless_disabled() {
    let dir = std::env::temp_dir().join(format!("sz-pc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(".env"), "A=1\n").unwrap();
    let text = "processes:\n  a:\n    command: x\n    env_file: local.env\n  b:\n    command: x\n    is_dotenv_disabled: true\n";
    let migrated = parse(text, &dir).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(
        migrated.jobs[0].env_files,
        [dir.join(".env"), PathBuf::from("local.env")]
    );
    assert!(migrated.jobs[1].env_files.is_empty());
}

#[test]
fn bad_files_and_bad_processes() {
    let err = |text: &str| parse(text, Path::new("/p")).unwrap_err().to_string();
    assert!(err("processes: [").contains("not a process-compose file"));
    assert!(err("version: 1\n").contains("needs a \"processes\" map"));
    assert!(err("- a\n- b\n").contains("not a process-compose file"));
    let migrated = import(
        "processes:\n  bad:\n    command: x\n    availability: { max_restarts: lots }\n  nocmd:\n    working_dir: /tmp\n  ok:\n    command: x\n    availability: { max_restarts: -1 }\n",
    );
    assert_eq!(migrated.jobs.len(), 1);
    assert_eq!(migrated.notes.len(), 3, "{:?}", migrated.notes);
    assert!(
        migrated.notes[0].starts_with("bad: availability.max_restarts: invalid type"),
        "{:?}",
        migrated.notes
    );
    assert_eq!(
        migrated.notes[1],
        "nocmd: no command or entrypoint; skipped"
    );
    assert_eq!(
        migrated.notes[2],
        "ok: availability.max_restarts = -1 is not a count; not carried over"
    );
}

#[test]
fn signals_by_number_or_name() {
    let migrated = import(
        "processes:\n  a: { command: x, shutdown: { signal: 15 } }\n  b: { command: x, shutdown: { signal: SIGQUIT } }\n  c: { command: x, shutdown: { signal: 9, timeout_seconds: 0 } }\n",
    );
    assert_eq!(migrated.jobs[0].stop_signal.as_str(), "TERM");
    assert_eq!(migrated.jobs[1].stop_signal.as_str(), "QUIT");
    assert_eq!(migrated.jobs[2].stop_signal.as_str(), "KILL");
    assert_eq!(migrated.jobs[2].stop_timeout, Duration::from_secs(10));
    assert!(migrated.notes.is_empty(), "{:?}", migrated.notes);
}
