use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use clap::{Arg, CommandFactory, Parser};
use sentinel_proto::{Condition, Dependency, JobSpec};
use serde_json::Value;

use super::*;
use crate::args::{Cli, Command};

/// `sentinel edit x ARGS…` applied to `spec`, as the command does it.
fn edit(spec: &JobSpec, args: &[&str]) -> Result<JobSpec, String> {
    let argv = ["sentinel", "edit", "x"].iter().chain(args);
    let cli = Cli::try_parse_from(argv).map_err(|err| err.to_string())?;
    let Command::Edit {
        job, toggles, argv, ..
    } = cli.command
    else {
        unreachable!("parsed an edit");
    };
    let mut spec = spec.clone();
    apply(&mut spec, &job, &argv).map_err(|err| err.to_string())?;
    apply_toggles(&mut spec, &toggles);
    Ok(spec)
}

fn add(args: &[&str]) -> Result<JobSpec, String> {
    let argv = ["sentinel", "add", "x"].iter().chain(args);
    let cli = Cli::try_parse_from(argv).map_err(|err| err.to_string())?;
    let Command::Add { name, job, argv } = cli.command else {
        unreachable!("parsed an add");
    };
    new_spec(&name, &job, &argv).map_err(|err| err.to_string())
}

#[test]
fn a_health_check_from_flags() {
    let spec = add(&[
        "--health-log",
        "ready to accept",
        "--health-start-period",
        "2m",
        "--health-timeout",
        "9s",
        "--health-restart",
        "false",
        "--",
        "postgres",
    ])
    .unwrap();
    let health = spec.health.clone().unwrap();
    assert_eq!(health.log.as_deref(), Some("ready to accept"));
    assert_eq!(health.start_period, Duration::from_secs(120));
    assert_eq!(health.timeout, Duration::from_secs(9));
    assert!(!health.restart);
    assert_eq!(health.interval, Duration::from_secs(10), "the default");

    // One setting changes that setting only; a new probe keeps the settings.
    let edited = edit(&spec, &["--health-retries", "7"]).unwrap();
    let mut expected = health.clone();
    expected.retries = 7;
    assert_eq!(edited.health, Some(expected.clone()));
    let probed = edit(&edited, &["--health-http", "http://127.0.0.1:5/ok"]).unwrap();
    expected.log = None;
    expected.http = Some("http://127.0.0.1:5/ok".into());
    assert_eq!(probed.health, Some(expected));

    assert_eq!(edit(&probed, &["--no-health"]).unwrap().health, None);
    let bare = JobSpec::new("api", "serve");
    let refused = edit(&bare, &["--health-interval", "5s", "--health-retries", "2"]).unwrap_err();
    assert_eq!(
        refused,
        "--health-interval, --health-retries changes a health check, and api has none: add one with --health-cmd, --health-http, --health-tcp or --health-log"
    );
    let tcp = edit(
        &bare,
        &["--health-tcp", "127.0.0.1:5432", "--health-interval", "5s"],
    )
    .unwrap();
    assert_eq!(tcp.health.unwrap().interval, Duration::from_secs(5));
    // One probe at a time, and no removing what is being set.
    assert!(add(&["--health-cmd", "a", "--health-log", "b", "--", "x"])
        .unwrap_err()
        .contains("cannot be used with"));
    assert!(edit(&bare, &["--no-health", "--health-retries", "2"])
        .unwrap_err()
        .contains("cannot be used with"));
    // The engine judges the values: a bad regex still reaches it.
    let bad = add(&["--health-log", "(", "--", "x"]).unwrap();
    assert_eq!(bad.validate().unwrap_err().0[0].field, "health.log");
}

#[test]
fn memory_notifications_and_webhook_from_flags() {
    let spec = add(&[
        "--max-memory-restart",
        "300MiB",
        "--no-notify",
        "--webhook",
        "https://hooks.example.com/x",
        "--nice",
        "5",
        "--max-open-files",
        "4096",
        "--max-core-size",
        "0",
        "--",
        "x",
    ])
    .unwrap();
    assert_eq!(spec.max_memory, Some(300 << 20));
    assert!(!spec.notify);
    assert_eq!(spec.webhook.as_deref(), Some("https://hooks.example.com/x"));
    let edited = edit(&spec, &["--max-memory", "1GiB"]).unwrap();
    assert_eq!(edited.max_memory, Some(1 << 30));
    let cleared = edit(
        &spec,
        &[
            "--no-max-memory",
            "--notify",
            "--no-webhook",
            "--no-nice",
            "--no-max-core-size",
        ],
    )
    .unwrap();
    assert_eq!(cleared.max_memory, None);
    assert!(cleared.notify);
    assert_eq!(cleared.webhook, None);
    assert_eq!(cleared.nice, None);
    assert_eq!(
        (cleared.rlimits.nofile, cleared.rlimits.core),
        (Some(4096), None)
    );
    assert!(edit(&spec, &["--no-rlimits"]).unwrap().rlimits.is_empty());
    assert!(edit(&spec, &["--notify", "--no-notify"]).is_err());
    assert!(add(&["--max-memory", "lots", "--", "x"])
        .unwrap_err()
        .contains("is not a size"));
}

#[test]
fn dependencies_with_condition_and_restart() {
    let spec = add(&[
        "--depends-on",
        "db:healthy:restart",
        "--depends-on",
        "cache:restart",
        "--depends-on",
        "migrate:completed",
        "--",
        "x",
    ])
    .unwrap();
    assert_eq!(
        spec.depends_on,
        [
            Dependency::on("db").when(Condition::Healthy).restarting(),
            Dependency::on("cache").restarting(),
            Dependency::on("migrate").when(Condition::Completed),
        ]
    );
    let err = add(&["--depends-on", "db:ready", "--", "x"]).unwrap_err();
    assert!(err.contains("\"ready\" is not a condition"), "{err}");
}

/// Every field of a definition, read from the schema the API documents: the top-level
/// fields, and the fields of each table (`health.interval`) and of each list of tables
/// (`depends_on[].restart`).
fn field_paths() -> Vec<String> {
    use utoipa::{PartialSchema, ToSchema};
    let job = serde_json::to_value(<JobSpec as PartialSchema>::schema()).unwrap();
    let mut named = Vec::new();
    <JobSpec as ToSchema>::schemas(&mut named);
    let named: BTreeMap<String, Value> = named
        .into_iter()
        .map(|(name, schema)| (name, serde_json::to_value(schema).unwrap()))
        .collect();
    let mut paths = Vec::new();
    for field in JobSpec::field_names() {
        let property = &job["properties"][&field];
        let table = first_ref(property)
            .and_then(|name| named.get(name))
            .and_then(|schema| schema["properties"].as_object());
        let list = property["type"] == "array";
        paths.push(field.clone());
        for key in table.into_iter().flat_map(|t| t.keys()) {
            paths.push(format!("{field}{}.{key}", if list { "[]" } else { "" }));
        }
    }
    paths
}

/// The name of the first schema `schema` refers to.
fn first_ref(schema: &Value) -> Option<&str> {
    match schema {
        Value::Object(map) => match map.get("$ref").and_then(Value::as_str) {
            Some(reference) => reference.rsplit('/').next(),
            None => map.values().find_map(first_ref),
        },
        Value::Array(items) => items.iter().find_map(first_ref),
        _ => None,
    }
}

/// The value at a field path; for a list of tables, the values its entries have.
fn at(spec: &Value, path: &str) -> Value {
    let (field, key) = path.split_once('.').unwrap_or((path, ""));
    if let Some(list) = field.strip_suffix("[]") {
        let entries = spec[list].as_array().cloned().unwrap_or_default();
        return entries
            .iter()
            .map(|entry| entry[key].clone())
            .filter(|value| !value.is_null())
            .collect();
    }
    if key.is_empty() {
        spec[field].clone()
    } else {
        spec[field][key].clone()
    }
}

/// Unset: not written at all, as a definition leaves out what it does not set.
fn absent(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Array(items) => items.is_empty(),
        Value::Object(map) => map.is_empty(),
        _ => false,
    }
}

/// A value for a flag, by what its help calls the value.
fn samples(arg: &Arg) -> Vec<String> {
    let possible: Vec<String> = arg
        .get_possible_values()
        .iter()
        .map(|value| value.get_name().to_string())
        .collect();
    if !possible.is_empty() {
        return possible;
    }
    let value_name = arg
        .get_value_names()
        .and_then(|names| names.first())
        .map(|name| name.to_string())
        .unwrap_or_else(|| arg.get_id().to_string().to_uppercase());
    let sample = match value_name.as_str() {
        "DURATION" => "7s",
        "N" | "FACTOR" => "7",
        "SIZE" => "7MiB",
        "KEY=VALUE" => "SAMPLE=7",
        "KEY" => "SAMPLE",
        "COMMAND" => "echo seven",
        "DIR" => "/tmp/seven",
        "EXPR" => "7 7 * * *",
        "TIME" => "2031-07-07 07:07",
        "JOB[:CONDITION][:restart]" => "other:completed:restart",
        "PATH" => "seven",
        "GLOB" => "*.seven",
        "FILE" => "seven.env",
        "PORT" => "7777",
        "SIGNAL" => "INT",
        "CODES" => "0,7",
        "URL" => "http://127.0.0.1:7/seven",
        "HOST:PORT" => "127.0.0.1:7",
        "REGEX" => "seven",
        "GROUP" => "seven",
        other => panic!(
            "--{}: give its {other} a sample value in samples()",
            arg.get_long().unwrap_or_default()
        ),
    };
    vec![sample.to_string()]
}

/// Every field set, some side by side that a valid job cannot have (every kind of probe and
/// of schedule), so that each flag has something to change or remove. Not validated.
const FULL: &str = r#"
name = "x"
command = "sleep 1"
shell = true
cwd = "/srv"
env = { SAMPLE = "1" }
secrets = ["SAMPLE"]
group = "g"
enabled = false
autostart = false
kind = "task"
restart = { mode = "always", max_retries = 2, delay = "2s", backoff = 2.0, max_delay = "20s", success_exit_codes = [0, 2], min_uptime = "2s" }
stop_signal = "HUP"
stop_timeout = "2s"
logs = { max_size = "2MiB", max_files = 2 }
schedule = { cron = "0 2 * * *", every = "2h", at = "2030-01-01 02:00", overlap = "queue", missed = "skip" }
restart_schedule = "0 3 * * *"
health = { exec = "check", http = "http://127.0.0.1:2/", tcp = "127.0.0.1:2", log = "two", interval = "2s", timeout = "2s", retries = 2, start_period = "2s", restart = false }
max_memory = "2MiB"
notify = false
webhook = "http://127.0.0.1:2/hook"
depends_on = [{ job = "db", condition = "healthy", restart = true }]
watch = { paths = ["src"], ignore = ["*.log"], debounce = "2s" }
env_files = [".env"]
ports = [2222]
nice = 2
rlimits = { nofile = 2048, core = "2MiB" }
"#;

/// Fields no flag can be: the name is the command's argument (and `edit` does not rename), and
/// a job's project is what `sentinel up` gives it.
const NOT_FLAGS: &[&str] = &["name", "project"];

/// Every field of a definition can be set from `sentinel add`/`edit`, and every field a job
/// may leave unset can be removed with `edit`. A new field fails this test, by name, until
/// it has its flags.
#[test]
fn every_field_has_a_flag() {
    let paths = field_paths();
    assert!(
        paths.iter().any(|p| p == "health.start_period")
            && paths.iter().any(|p| p == "depends_on[].restart"),
        "the schema's tables were not read: {paths:?}"
    );
    let minimal = serde_json::to_value(JobSpec::new("x", "true")).unwrap();
    let full_spec: JobSpec = toml::from_str(FULL).unwrap();
    let full = serde_json::to_value(&full_spec).unwrap();
    let bases = [JobSpec::new("x", "true"), full_spec];

    let cli = Cli::command();
    let edit_command = cli.find_subcommand("edit").unwrap();
    let mut set_by: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut cleared_by: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for arg in edit_command.get_arguments() {
        let Some(long) = arg.get_long() else { continue };
        if arg.is_global_set() || long == "help" {
            continue;
        }
        let flag = format!("--{long}");
        let values = if arg.get_action().takes_values() {
            samples(arg)
        } else {
            vec![String::new()]
        };
        for value in &values {
            let mut args = vec![flag.as_str()];
            if !value.is_empty() {
                args.push(value);
            }
            for base in &bases {
                let before = serde_json::to_value(base).unwrap();
                // A setting of something the base does not have is refused; the other base has it.
                let Ok(after) = edit(base, &args) else {
                    continue;
                };
                let after = serde_json::to_value(after).unwrap();
                for path in &paths {
                    let (was, is) = (at(&before, path), at(&after, path));
                    // A table made anew brings every default along; only a change within a
                    // table the job had says that this flag sets that field.
                    let table = path.split('.').next().unwrap_or_default();
                    let table = table.trim_end_matches("[]");
                    let made = table != path && absent(&before[table]);
                    if was != is && !made && !absent(&is) {
                        set_by.entry(path.clone()).or_default().insert(flag.clone());
                    }
                    if !absent(&was) && absent(&is) {
                        cleared_by
                            .entry(path.clone())
                            .or_default()
                            .insert(flag.clone());
                    }
                }
            }
        }
    }

    let mut missing = Vec::new();
    for path in &paths {
        let field = path.split(['.', '[']).next().unwrap_or_default();
        if NOT_FLAGS.contains(&field) {
            continue;
        }
        if absent(&at(&full, path)) {
            missing.push(format!(
                "{path}: set it in FULL, this test's job with every field"
            ));
            continue;
        }
        if !set_by.contains_key(path) {
            missing.push(format!("{path}: no `sentinel add`/`edit` flag sets it"));
        }
        if absent(&at(&minimal, path)) && !cleared_by.contains_key(path) {
            missing.push(format!(
                "{path}: no `sentinel edit` flag removes it (a --no-… flag)"
            ));
        }
    }
    assert!(
        missing.is_empty(),
        "fields without flags:\n{}",
        missing.join("\n")
    );
}
