use super::*;
use std::time::Duration;

fn fields(spec: &JobSpec) -> Vec<String> {
    spec.validate()
        .unwrap_err()
        .0
        .into_iter()
        .map(|e| e.field)
        .collect()
}

#[test]
fn a_default_spec_is_valid() {
    JobSpec::new("api", "node server.js").validate().unwrap();
}

#[test]
fn commands_parse_into_argv() {
    assert_eq!(
        command_argv("python3 -c 'print(\"hi there\")' --flag", false).unwrap(),
        vec!["python3", "-c", "print(\"hi there\")", "--flag"]
    );
    assert_eq!(
        command_argv("echo a | wc", true).unwrap(),
        vec!["/bin/sh", "-c", "echo a | wc"]
    );
    assert!(command_argv("echo 'oops", false)
        .unwrap_err()
        .contains("unbalanced quote"));
    assert!(command_argv("   ", false).is_err());
}

#[test]
fn names_must_be_file_names() {
    for good in ["a", "api-server", "worker.1", "A_B", &"x".repeat(64)] {
        validate_name(good).unwrap();
    }
    for bad in [
        "",
        "..",
        ".",
        "a/b",
        "../etc",
        "a b",
        "dröm",
        "x;DROP TABLE jobs",
        &"x".repeat(65),
    ] {
        assert!(validate_name(bad).is_err(), "{bad:?} should be refused");
    }
}

#[test]
fn every_problem_is_reported_with_its_field() {
    let mut spec = JobSpec::new("bad name", "echo 'unbalanced");
    spec.cwd = Some("relative/dir".into());
    spec.env.insert("1BAD".into(), "x".into());
    spec.env.insert("GOOD".into(), "ok".into());
    spec.env.insert("ALSO-BAD".into(), "x".into());
    spec.group = Some("a/b".into());
    spec.restart.backoff = 0.5;
    spec.restart.delay = Duration::from_secs(600);
    spec.restart.max_delay = Duration::from_secs(60);
    spec.restart.success_exit_codes = vec![0, 300];
    spec.stop_timeout = Duration::ZERO;
    spec.logs.max_size = 10;
    spec.logs.max_files = 5000;
    assert_eq!(
        fields(&spec),
        vec![
            "name",
            "command",
            "cwd",
            "env.1BAD",
            "env.ALSO-BAD",
            "group",
            "restart.backoff",
            "stop_timeout",
            "restart.delay",
            "restart.success_exit_codes",
            "logs.max_size",
            "logs.max_files",
        ]
    );
}

#[test]
fn durations_sizes_and_counts_have_upper_bounds() {
    // What an adversarial pass used: each must be refused by name, never accepted.
    let spec = JobSpec::from_toml(
            "name = \"x\"\ncommand = \"true\"\nkind = \"task\"\nstop_timeout = \"400000000000y\"\n\
             schedule = { every = \"1000000y\" }\n\
             restart = { delay = \"1000000y\", max_delay = \"1000000y\", min_uptime = \"100y\", max_retries = 4000000000 }\n\
             health = { exec = \"true\", interval = \"10y\", timeout = \"2h\", start_period = \"2days\", retries = 5000 }\n\
             logs = { max_size = \"2TiB\" }\nmax_memory = \"100TiB\"\n\
             rlimits = { nofile = 99999999, core = \"2TiB\" }\n",
        );
    let Err(SpecError::Invalid(errors)) = spec else {
        panic!("accepted: {spec:?}");
    };
    let named: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
    for field in [
        "schedule.every",
        "restart.delay",
        "restart.max_delay",
        "restart.min_uptime",
        "restart.max_retries",
        "stop_timeout",
        "health.interval",
        "health.timeout",
        "health.start_period",
        "health.retries",
        "logs.max_size",
        "max_memory",
        "rlimits.nofile",
        "rlimits.core",
    ] {
        assert!(named.contains(&field), "{field} not refused: {errors}");
    }
    assert!(
        errors.to_string().contains("is too long; use at most 1day"),
        "{errors}"
    );

    // A size too large for 64 bits is an error, not silently the largest number.
    let err = JobSpec::from_toml(
        "name = \"x\"\ncommand = \"true\"\nlogs = { max_size = \"99999999999999999999GiB\" }\n",
    )
    .unwrap_err();
    assert!(err.to_string().contains("too large"), "{err}");
}

#[test]
fn intervals_have_a_lower_bound() {
    let mut spec = JobSpec::new("x", "true");
    spec.kind = JobKind::Task;
    spec.schedule = Some(crate::schedule::ScheduleSpec {
        every: Some(Duration::from_nanos(1)),
        ..Default::default()
    });
    let errors = spec.validate().unwrap_err();
    assert_eq!(errors.0[0].field, "schedule.every");
    assert_eq!(errors.0[0].message, "1ns is too short; use at least 1s");
}

#[test]
fn paths_with_nul_and_long_lists_are_refused() {
    let mut spec = JobSpec::new("x", "true");
    spec.cwd = Some(std::path::PathBuf::from("/tmp/a\0b"));
    spec.env_files = vec!["a\0b".into()];
    spec.ports = (1..=300).collect();
    spec.command = format!("echo {}", "a".repeat(200 * 1024));
    assert_eq!(
        fields(&spec),
        vec!["command", "cwd", "ports", "env_files[0]"]
    );
}

#[test]
fn dev_stack_fields_are_checked() {
    let spec = JobSpec::from_toml(
            "name = 'api'\ncommand = 'x'\ndepends_on = ['db', { job = 'cache', condition = 'healthy' }]\nenv_files = ['.env', '.env.local']\nports = [8080, 9090]\nnice = 5\nrlimits = { nofile = 4096, core = '0' }\n[watch]\npaths = ['src']\nignore = ['*.log']\ndebounce = '200ms'\n",
        )
        .unwrap();
    assert_eq!(spec.depends_on[1].condition, crate::Condition::Healthy);
    assert_eq!(
        spec.watch.as_ref().unwrap().debounce,
        Duration::from_millis(200)
    );
    assert_eq!(spec.rlimits.core, Some(0));
    let again = JobSpec::from_json(&serde_json::to_string(&spec).unwrap()).unwrap();
    assert_eq!(again, spec);

    let mut bad = JobSpec::new("api", "x");
    bad.depends_on = vec![
        crate::Dependency {
            job: "api".into(),
            condition: crate::Condition::Started,
            restart: false,
        },
        crate::Dependency {
            job: "db".into(),
            condition: crate::Condition::Started,
            restart: false,
        },
        crate::Dependency {
            job: "db".into(),
            condition: crate::Condition::Healthy,
            restart: false,
        },
        crate::Dependency {
            job: "a b".into(),
            condition: crate::Condition::Started,
            restart: false,
        },
    ];
    bad.ports = vec![80, 0, 80];
    bad.nice = Some(40);
    bad.rlimits.nofile = Some(1);
    bad.env_files = vec!["".into()];
    assert_eq!(
        fields(&bad),
        vec![
            "depends_on[0].job",
            "depends_on[2].job",
            "depends_on[3].job",
            "env_files[0]",
            "ports[1]",
            "ports[2]",
            "nice",
            "rlimits.nofile",
        ]
    );
    let mut task = JobSpec::new("t", "x");
    task.kind = JobKind::Task;
    task.watch = Some(crate::WatchSpec::default());
    assert_eq!(fields(&task), vec!["watch"]);
}

#[test]
fn empty_success_codes_and_nan_backoff_are_refused() {
    let mut spec = JobSpec::new("a", "true");
    spec.restart.success_exit_codes.clear();
    spec.restart.backoff = f64::NAN;
    assert_eq!(
        fields(&spec),
        vec!["restart.backoff", "restart.success_exit_codes"]
    );
}

#[test]
fn json_parse_errors_name_the_field() {
    let err = JobSpec::from_json(r#"{"name":"a","command":"x","restart":{"delay":"5 parsecs"}}"#)
        .unwrap_err();
    match err {
        SpecError::Parse { field, message } => {
            assert_eq!(field, "restart.delay");
            assert!(message.contains("5 parsecs"), "{message}");
        }
        other => panic!("expected a parse error, got {other:?}"),
    }
    let err = JobSpec::from_json(r#"{"name":"a","command":"x","stop_signal":"BANG"}"#).unwrap_err();
    assert!(
        matches!(err, SpecError::Parse { ref field, .. } if field == "stop_signal"),
        "{err:?}"
    );
    let err = JobSpec::from_json(r#"{"name":"a b","command":"x"}"#).unwrap_err();
    assert!(
        matches!(err, SpecError::Invalid(ref e) if e.first_field() == Some("name")),
        "{err:?}"
    );
}

#[test]
fn toml_errors_say_what_is_wrong() {
    let err = JobSpec::from_toml("name = 'a'\ncommand = 'x'\nstop_timeout = 'soon'").unwrap_err();
    assert!(err.to_string().contains("soon"), "{err}");
    let err = JobSpec::from_toml("name = 'a'").unwrap_err();
    assert!(err.to_string().contains("command"), "{err}");
}
