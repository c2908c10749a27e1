use super::*;

#[test]
fn sizes_read_back_to_the_same_bytes() {
    for text in [
        "512MB", "1500MiB", "10MiB", "1GB", "300M", "4096", "0", "1234567",
    ] {
        let bytes = byte_size::parse(text).unwrap();
        let written = byte_size::exact(bytes);
        assert_eq!(
            byte_size::parse(&written).unwrap(),
            bytes,
            "{text} → {written}"
        );
    }
    assert_eq!(byte_size::exact(512_000_000), "512MB");
    assert_eq!(byte_size::exact(1500 * 1024 * 1024), "1500MiB");
    assert_eq!(byte_size::exact(1_234_567), "1234567");
    assert_eq!(byte_size::format(60 * 1024 * 1024), "60MiB");
    assert_eq!(byte_size::format(70_570_000), "67.3MiB");
    assert_eq!(byte_size::format(512_000_000), "488.3MiB");
}

#[test]
fn minimal_toml_gets_every_default() {
    let spec: JobSpec = toml::from_str("name = \"api\"\ncommand = \"node server.js\"").unwrap();
    assert_eq!(spec, JobSpec::new("api", "node server.js"));
    assert_eq!(spec.restart.delay, Duration::from_secs(1));
    assert_eq!(spec.restart.backoff, 1.5);
    assert_eq!(spec.restart.max_delay, Duration::from_secs(300));
    assert_eq!(spec.restart.min_uptime, Duration::from_secs(10));
    assert_eq!(spec.restart.success_exit_codes, vec![0]);
    assert_eq!(spec.stop_timeout, Duration::from_secs(10));
    assert_eq!(spec.stop_signal.as_str(), "TERM");
    assert_eq!(spec.logs.max_size, 10 * 1024 * 1024);
    assert_eq!(spec.logs.max_files, 5);
}

#[test]
fn restart_reads_as_a_string_or_a_table() {
    let short: JobSpec = toml::from_str("name='a'\ncommand='x'\nrestart='always'").unwrap();
    assert_eq!(short.restart.mode, RestartMode::Always);
    assert_eq!(short.restart.max_retries, 5);

    let table: JobSpec = toml::from_str(
            "name='a'\ncommand='x'\n[restart]\nmode='never'\ndelay='30m'\nmax_retries=0\nsuccess_exit_codes=[0,3]",
        )
        .unwrap();
    assert_eq!(table.restart.mode, RestartMode::Never);
    assert_eq!(table.restart.delay, Duration::from_secs(1800));
    assert_eq!(table.restart.max_retries, 0);
    assert_eq!(table.restart.success_exit_codes, vec![0, 3]);
    assert_eq!(table.restart.backoff, 1.5);
}

#[test]
fn json_and_toml_round_trip() {
    let mut spec = JobSpec::new("worker.1", "python3 -u worker.py --queue 'high prio'");
    spec.env.insert("RUST_LOG".into(), "debug".into());
    spec.group = Some("backend".into());
    spec.restart.mode = RestartMode::Always;
    spec.restart.delay = Duration::from_millis(250);
    spec.stop_signal = SignalName::parse("SIGINT").unwrap();
    spec.logs.max_size = 1024 * 1024;

    let json = serde_json::to_string(&spec).unwrap();
    assert_eq!(serde_json::from_str::<JobSpec>(&json).unwrap(), spec);
    let text = toml::to_string(&spec).unwrap();
    assert_eq!(toml::from_str::<JobSpec>(&text).unwrap(), spec);
}

#[test]
fn null_means_absent_for_optional_fields() {
    let spec: JobSpec = serde_json::from_str(
        r#"{"name":"a","command":"x","max_memory":null,"cwd":null,"group":null,
                "schedule":null,"health":null,"webhook":null,"restart_schedule":null}"#,
    )
    .unwrap();
    assert_eq!(spec, JobSpec::new("a", "x"));
    let task: JobSpec = serde_json::from_str(
            r#"{"name":"t","command":"x","kind":"task","schedule":{"cron":"@daily","every":null,"at":null}}"#,
        )
        .unwrap();
    assert_eq!(task.schedule.unwrap().every, None);
    let sized: JobSpec =
        serde_json::from_str(r#"{"name":"a","command":"x","max_memory":"300MiB"}"#).unwrap();
    assert_eq!(sized.max_memory, Some(300 * 1024 * 1024));
}

#[test]
fn unknown_fields_are_refused_by_name() {
    let err = toml::from_str::<JobSpec>("name='a'\ncommand='x'\nrestrat='always'").unwrap_err();
    assert!(err.to_string().contains("restrat"), "{err}");
    let err =
        serde_json::from_str::<JobSpec>(r#"{"name":"a","command":"x","restart":{"dealy":"1s"}}"#)
            .unwrap_err();
    assert!(err.to_string().contains("dealy"), "{err}");
}

#[test]
fn signal_names_are_normalised() {
    assert_eq!(SignalName::parse("sigterm").unwrap().as_str(), "TERM");
    assert_eq!(SignalName::parse("INT").unwrap().as_str(), "INT");
    assert!(SignalName::parse("SIGFOO").is_err());
    assert!(SignalName::parse("STOP").is_err());
}

#[test]
fn only_what_a_process_starts_with_needs_a_restart() {
    type Change = (&'static str, fn(&mut JobSpec));
    let old = JobSpec::new("api", "node server.js");
    let changes: [Change; 8] = [
        ("command", |s| s.command = "node other.js".into()),
        ("shell", |s| s.shell = true),
        ("cwd", |s| s.cwd = Some("/srv".into())),
        ("env", |s| {
            s.env.insert("PORT".into(), "80".into());
        }),
        ("env_files", |s| s.env_files = vec![".env".into()]),
        ("nice", |s| s.nice = Some(5)),
        ("rlimits", |s| s.rlimits.nofile = Some(256)),
        ("kind", |s| s.kind = JobKind::Task),
    ];
    for (field, change) in changes {
        let mut new = old.clone();
        change(&mut new);
        assert!(new.restart_needed(&old), "{field} needs a restart");
    }
    let live: [Change; 12] = [
        ("group", |s| s.group = Some("web".into())),
        ("enabled", |s| s.enabled = false),
        ("restart", |s| s.restart.max_retries = 9),
        ("stop_signal", |s| {
            s.stop_signal = SignalName::parse("INT").unwrap()
        }),
        ("stop_timeout", |s| s.stop_timeout = Duration::from_secs(1)),
        ("logs", |s| s.logs.max_files = 2),
        ("health", |s| {
            s.health = Some(serde_json::from_str(r#"{"tcp":"127.0.0.1:1"}"#).unwrap())
        }),
        ("max_memory", |s| s.max_memory = Some(1 << 30)),
        ("notify", |s| s.notify = false),
        ("depends_on", |s| {
            s.depends_on = vec![crate::stack::Dependency {
                job: "db".into(),
                condition: crate::stack::Condition::Started,
                restart: false,
            }]
        }),
        ("watch", |s| {
            s.watch = Some(crate::stack::WatchSpec::default())
        }),
        ("ports", |s| s.ports = vec![8080]),
    ];
    for (field, change) in live {
        let mut new = old.clone();
        change(&mut new);
        assert!(
            !new.restart_needed(&old),
            "{field} applies without a restart"
        );
    }
    assert!(!old.clone().restart_needed(&old));
}

#[test]
fn sizes_read_as_text_or_bytes() {
    assert_eq!(byte_size::parse("10MiB").unwrap(), 10 * 1024 * 1024);
    assert_eq!(byte_size::parse("512KB").unwrap(), 512_000);
    let spec: JobSpec = toml::from_str("name='a'\ncommand='x'\n[logs]\nmax_size=4096").unwrap();
    assert_eq!(spec.logs.max_size, 4096);
    assert!(byte_size::parse("lots").is_err());
}

#[test]
fn the_field_names_are_the_structs() {
    let names = JobSpec::field_names();
    for field in [
        "name",
        "command",
        "secrets",
        "depends_on",
        "rlimits",
        "restart",
    ] {
        assert!(names.iter().any(|n| n == field), "{field} in {names:?}");
    }
    // Every field of a full definition is listed, and nothing else.
    let full = serde_json::to_value(JobSpec::new("a", "b")).unwrap();
    for key in full.as_object().unwrap().keys() {
        assert!(names.contains(key), "{key}");
    }
    assert!(names.len() >= 25, "{names:?}");
}
