//! The mapping, kind by kind and field by field: each test renders jobs, reads the text back
//! as YAML documents and checks the fields and the comments.

use std::path::PathBuf;
use std::time::Duration;

use sentinel_proto::monitor::{HealthCheck, Probe};
use sentinel_proto::schedule::{MissedPolicy, Overlap, ScheduleSpec};
use sentinel_proto::secret::Secrets;
use sentinel_proto::stack::{EnvSource, EnvVar};
use sentinel_proto::{Condition, Dependency, JobKind, JobSpec, RestartMode, SignalName};
use serde::Deserialize;
use serde_norway::Value;

use super::*;

fn options() -> Options {
    Options {
        image: "example/app:1.0".into(),
        secrets: Secrets::Masked,
        time_zone: Some("Europe/Berlin".into()),
    }
}

fn job(spec: JobSpec) -> Job {
    Job {
        spec,
        file_env: Ok(Vec::new()),
    }
}

fn task(name: &str, command: &str, schedule: Option<ScheduleSpec>) -> JobSpec {
    let mut spec = JobSpec::new(name, command);
    spec.kind = JobKind::Task;
    spec.schedule = schedule;
    spec
}

/// The text and its documents as YAML reads them.
fn export_with(jobs: Vec<Job>, options: &Options) -> (String, Vec<Value>) {
    let text = render(&jobs, options).unwrap();
    let docs: Vec<Value> = serde_norway::Deserializer::from_str(&text)
        .map(|doc| Value::deserialize(doc).unwrap_or_else(|e| panic!("{e}\n{text}")))
        .collect();
    (text, docs)
}

fn export(jobs: Vec<Job>) -> (String, Vec<Value>) {
    export_with(jobs, &options())
}

/// The document of this kind and name.
fn doc<'a>(docs: &'a [Value], kind: &str, name: &str) -> &'a Value {
    docs.iter()
        .find(|d| d["kind"].as_str() == Some(kind) && d["metadata"]["name"].as_str() == Some(name))
        .unwrap_or_else(|| panic!("no {kind} {name} in {docs:?}"))
}

/// A value by a dotted path of keys and list indexes.
fn at<'a>(value: &'a Value, path: &str) -> &'a Value {
    path.split('.')
        .fold(value, |v, step| match step.parse::<usize>() {
            Ok(i) => &v[i],
            Err(_) => &v[step],
        })
}

fn s<'a>(value: &'a Value, path: &str) -> &'a str {
    at(value, path)
        .as_str()
        .unwrap_or_else(|| panic!("{path} is not a string: {:?}", at(value, path)))
}

fn n(value: &Value, path: &str) -> i64 {
    at(value, path)
        .as_i64()
        .unwrap_or_else(|| panic!("{path} is not a number: {:?}", at(value, path)))
}

fn strings(value: &Value, path: &str) -> Vec<String> {
    at(value, path)
        .as_sequence()
        .unwrap_or_else(|| panic!("{path} is not a list"))
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

const POD: &str = "spec.template.spec";
const CONTAINER: &str = "spec.template.spec.containers.0";
const JOB_POD: &str = "spec.jobTemplate.spec.template.spec";

fn has_comment(text: &str, words: &str) {
    assert!(
        text.lines()
            .any(|l| l.starts_with('#') && l.contains(words)),
        "no comment with {words:?} in\n{text}"
    );
}

#[test]
fn a_service_becomes_a_deployment() {
    let mut spec = JobSpec::new("web", "node server.js --title 'my api'");
    spec.group = Some("shop".into());
    spec.cwd = Some(PathBuf::from("/srv/web"));
    spec.env.insert("PORT".into(), "8080".into());
    spec.env.insert("FEATURE".into(), "on".into());
    spec.ports = vec![8080, 9090];
    spec.max_memory = Some(512 << 20);
    spec.stop_timeout = Duration::from_secs(30);
    spec.restart.mode = RestartMode::Always;
    spec.restart.max_retries = 0;
    let (text, docs) = export(vec![job(spec)]);
    assert_eq!(docs.len(), 1, "{text}");
    let d = doc(&docs, "Deployment", "web");
    assert_eq!(s(d, "apiVersion"), "apps/v1");
    assert_eq!(n(d, "spec.replicas"), 1);
    assert_eq!(
        at(d, "spec.selector.matchLabels")["app.kubernetes.io/name"].as_str(),
        Some("web")
    );
    for labels in ["metadata.labels", "spec.template.metadata.labels"] {
        let labels = at(d, labels);
        assert_eq!(labels["app.kubernetes.io/name"].as_str(), Some("web"));
        assert_eq!(labels["app.kubernetes.io/part-of"].as_str(), Some("shop"));
        assert_eq!(
            labels["app.kubernetes.io/managed-by"].as_str(),
            Some("sentinelzero-export")
        );
    }
    assert_eq!(s(d, &format!("{POD}.restartPolicy")), "Always");
    assert_eq!(n(d, &format!("{POD}.terminationGracePeriodSeconds")), 30);
    assert_eq!(s(d, &format!("{CONTAINER}.image")), "example/app:1.0");
    assert_eq!(strings(d, &format!("{CONTAINER}.command")), ["node"]);
    assert_eq!(
        strings(d, &format!("{CONTAINER}.args")),
        ["server.js", "--title", "my api"]
    );
    assert_eq!(s(d, &format!("{CONTAINER}.workingDir")), "/srv/web");
    assert_eq!(n(d, &format!("{CONTAINER}.ports.1.containerPort")), 9090);
    assert_eq!(
        s(d, &format!("{CONTAINER}.resources.limits.memory")),
        "512Mi"
    );
    // The environment in order, and "on" still a string after YAML 1.1 would have read it.
    assert_eq!(s(d, &format!("{CONTAINER}.env.0.name")), "FEATURE");
    assert_eq!(s(d, &format!("{CONTAINER}.env.0.value")), "on");
    assert!(text.contains("value: \"on\""), "{text}");
    assert_eq!(s(d, &format!("{CONTAINER}.env.1.value")), "8080");
    has_comment(&text, "job \"web\" (service) -> Deployment web");
    has_comment(&text, "no Service is written");
    has_comment(&text, "image example/app:1.0");
}

#[test]
fn a_shell_command_runs_through_sh_and_restart_policies_are_named() {
    let mut spec = JobSpec::new("worker", "./work.sh | tee out.log");
    spec.shell = true;
    spec.restart.mode = RestartMode::OnFailure;
    spec.restart.max_retries = 3;
    let mut never = JobSpec::new("once", "true");
    never.restart.mode = RestartMode::Never;
    let mut off = JobSpec::new("off", "true");
    off.enabled = false;
    let (text, docs) = export(vec![job(spec), job(never), job(off)]);
    let d = doc(&docs, "Deployment", "worker");
    assert_eq!(strings(d, &format!("{CONTAINER}.command")), ["/bin/sh"]);
    assert_eq!(
        strings(d, &format!("{CONTAINER}.args")),
        ["-c", "./work.sh | tee out.log"]
    );
    has_comment(
        &text,
        "restart = on-failure and max_retries = 3: a Deployment restarts its container after every exit, clean or not, and never gives up",
    );
    has_comment(&text, "restart = never: a Deployment always restarts");
    assert!(at(
        doc(&docs, "Deployment", "once"),
        &format!("{CONTAINER}.args")
    )
    .is_null());
    assert_eq!(n(doc(&docs, "Deployment", "off"), "spec.replicas"), 0);
    has_comment(&text, "disabled: written with replicas: 0");
}

#[test]
fn exec_http_and_tcp_checks_become_probes_and_a_log_check_is_named() {
    let mut web = JobSpec::new("web", "server");
    let mut health = HealthCheck::new(Probe::Http {
        url: "http://127.0.0.1:8080/healthz?deep=1".into(),
    });
    health.interval = Duration::from_secs(15);
    health.timeout = Duration::from_millis(2500);
    health.retries = 4;
    health.start_period = Duration::from_secs(20);
    web.health = Some(health);
    let mut worker = JobSpec::new("worker", "work");
    let mut exec = HealthCheck::new(Probe::Exec("check --quick 'a b'".into()));
    exec.restart = false;
    worker.health = Some(exec);
    let mut db = JobSpec::new("db-proxy", "proxy");
    db.health = Some(HealthCheck::new(Probe::Tcp("db.internal:5432".into())));
    let mut logged = JobSpec::new("logged", "server");
    logged.health = Some(HealthCheck::new(Probe::Log("listening on".into())));
    let (text, docs) = export(vec![job(web), job(worker), job(db), job(logged)]);

    let web = doc(&docs, "Deployment", "web");
    for probe in ["livenessProbe", "readinessProbe"] {
        let p = at(web, &format!("{CONTAINER}.{probe}"));
        assert_eq!(s(p, "httpGet.path"), "/healthz?deep=1");
        assert_eq!(n(p, "httpGet.port"), 8080);
        assert!(
            p["httpGet"]["host"].is_null(),
            "the pod's own address: no host"
        );
        assert_eq!(n(p, "periodSeconds"), 15);
        assert_eq!(n(p, "timeoutSeconds"), 3);
        assert_eq!(n(p, "failureThreshold"), 4);
        assert_eq!(n(p, "initialDelaySeconds"), 20);
    }
    has_comment(&text, "must listen on all interfaces");
    has_comment(&text, "health.timeout 2s 500ms is rounded up");

    let worker = doc(&docs, "Deployment", "worker");
    assert!(at(worker, &format!("{CONTAINER}.livenessProbe")).is_null());
    assert_eq!(
        strings(worker, &format!("{CONTAINER}.readinessProbe.exec.command")),
        ["check", "--quick", "a b"]
    );
    assert!(at(
        worker,
        &format!("{CONTAINER}.readinessProbe.initialDelaySeconds")
    )
    .is_null());
    has_comment(&text, "health.restart = false: only a readiness probe");

    let db = doc(&docs, "Deployment", "db-proxy");
    assert_eq!(
        s(db, &format!("{CONTAINER}.livenessProbe.tcpSocket.host")),
        "db.internal"
    );
    assert_eq!(
        n(db, &format!("{CONTAINER}.livenessProbe.tcpSocket.port")),
        5432
    );
    has_comment(&text, "probes db.internal, from the node");

    let logged = doc(&docs, "Deployment", "logged");
    assert!(at(logged, &format!("{CONTAINER}.readinessProbe")).is_null());
    has_comment(&text, "a line matching \"listening on\"");
}

fn var(key: &str, value: &str, file: &str) -> EnvVar {
    EnvVar {
        key: key.into(),
        value: value.into(),
        source: EnvSource::File(PathBuf::from(file)),
        overrides: Vec::new(),
        secret: false,
    }
}

/// A job with env, env files and secrets in both, as the engine hands them over.
fn configured(values: &str) -> Job {
    let mut spec = JobSpec::new("api", "server");
    spec.cwd = Some("/srv/api".into());
    spec.env_files = vec![".env".into()];
    spec.env.insert("MODE".into(), "production".into());
    spec.env.insert("API_TOKEN".into(), values.into());
    spec.secrets = vec!["API_TOKEN".into(), "DB_PASSWORD".into(), "NOWHERE".into()];
    let mut overridden = var("MODE", "production", "/srv/api/.env");
    overridden.source = EnvSource::Spec;
    Job {
        spec,
        file_env: Ok(vec![
            var("DB_HOST", "db", "/srv/api/.env"),
            var("DB_PASSWORD", values, "/srv/api/.env"),
            var("LEVEL", "yes", "/srv/api/.env"),
            var("bad key", "x", "/srv/api/.env"),
            overridden,
        ]),
    }
}

#[test]
fn env_files_become_a_config_map_and_secrets_a_secret_without_values() {
    let (text, docs) = export(vec![configured(sentinel_proto::secret::MASK)]);
    let kinds: Vec<&str> = docs.iter().map(|d| d["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["ConfigMap", "Secret", "Deployment"]);
    let config = doc(&docs, "ConfigMap", "api-env");
    assert_eq!(s(config, "data.DB_HOST"), "db");
    assert_eq!(s(config, "data.LEVEL"), "yes");
    let data = config["data"].as_mapping().unwrap();
    assert_eq!(data.len(), 2, "no secret, no env key, no bad key: {data:?}");
    has_comment(&text, "\"bad key\", which a ConfigMap cannot hold");
    has_comment(&text, "the variables of /srv/api/.env");

    let secret = doc(&docs, "Secret", "api-secrets");
    assert_eq!(s(secret, "type"), "Opaque");
    assert_eq!(s(secret, "stringData.API_TOKEN"), "");
    assert_eq!(s(secret, "stringData.DB_PASSWORD"), "");
    assert!(!text.contains(sentinel_proto::secret::MASK), "{text}");
    has_comment(&text, "the values are left empty");
    has_comment(
        &text,
        "secrets names \"NOWHERE\", which neither env nor the env files set",
    );

    let d = doc(&docs, "Deployment", "api");
    assert_eq!(
        s(d, &format!("{CONTAINER}.envFrom.0.configMapRef.name")),
        "api-env"
    );
    let env = at(d, &format!("{CONTAINER}.env")).as_sequence().unwrap();
    let names: Vec<&str> = env.iter().map(|e| e["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["API_TOKEN", "MODE", "DB_PASSWORD"]);
    assert_eq!(s(&env[0], "valueFrom.secretKeyRef.name"), "api-secrets");
    assert_eq!(s(&env[0], "valueFrom.secretKeyRef.key"), "API_TOKEN");
    assert_eq!(s(&env[1], "value"), "production");
    assert_eq!(s(&env[2], "valueFrom.secretKeyRef.key"), "DB_PASSWORD");
}

#[test]
fn secret_values_are_written_only_when_shown() {
    let mut shown = options();
    shown.secrets = Secrets::Shown;
    let (text, docs) = export_with(vec![configured("s3cr3t")], &shown);
    let secret = doc(&docs, "Secret", "api-secrets");
    assert_eq!(s(secret, "stringData.API_TOKEN"), "s3cr3t");
    assert_eq!(s(secret, "stringData.DB_PASSWORD"), "s3cr3t");
    has_comment(&text, "keep this file out of version control");
    let (masked, _) = export(vec![configured("s3cr3t")]);
    assert!(!masked.contains("s3cr3t"), "{masked}");
}

#[test]
fn env_files_the_engine_cannot_read_are_referred_to_with_how_to_create_them() {
    let mut job = configured(sentinel_proto::secret::MASK);
    job.file_env = Err("env file /srv/api/.env: not found".into());
    let (text, docs) = export(vec![job]);
    assert!(docs.iter().all(|d| d["kind"].as_str() != Some("ConfigMap")));
    let d = doc(&docs, "Deployment", "api");
    assert_eq!(
        s(d, &format!("{CONTAINER}.envFrom.0.configMapRef.name")),
        "api-env"
    );
    has_comment(
        &text,
        "kubectl create configmap api-env --from-env-file=/srv/api/.env",
    );
    has_comment(&text, "(env file /srv/api/.env: not found)");
    // A secret the files may set is still referred to, for the user to fill in.
    let secret = doc(&docs, "Secret", "api-secrets");
    assert_eq!(s(secret, "stringData.NOWHERE"), "");
}

#[test]
fn a_cron_task_becomes_a_cron_job() {
    let schedule = ScheduleSpec {
        cron: Some("0 30 2 * * 7".into()),
        overlap: Overlap::Queue,
        missed: MissedPolicy::Skip,
        ..Default::default()
    };
    let mut spec = task("nightly_backup.db", "backup --all", Some(schedule));
    spec.restart.max_retries = 2;
    let (text, docs) = export(vec![job(spec)]);
    let d = doc(&docs, "CronJob", "nightly-backup-db");
    assert_eq!(s(d, "apiVersion"), "batch/v1");
    assert_eq!(s(d, "spec.schedule"), "30 2 * * 0");
    assert_eq!(s(d, "spec.timeZone"), "Europe/Berlin");
    assert_eq!(s(d, "spec.concurrencyPolicy"), "Forbid");
    assert_eq!(n(d, "spec.startingDeadlineSeconds"), 60);
    assert!(d["spec"]["suspend"].is_null());
    assert_eq!(n(d, "spec.jobTemplate.spec.backoffLimit"), 2);
    assert_eq!(s(d, &format!("{JOB_POD}.restartPolicy")), "OnFailure");
    assert_eq!(
        strings(d, &format!("{JOB_POD}.containers.0.args")),
        ["--all"]
    );
    has_comment(&text, "(renamed: Kubernetes names are lowercase");
    has_comment(&text, "overlap = queue");
    has_comment(&text, "missed = skip");
}

#[test]
fn overlap_replace_and_intervals_map_and_odd_intervals_are_suspended() {
    let every = |secs, overlap| ScheduleSpec {
        every: Some(Duration::from_secs(secs)),
        overlap,
        ..Default::default()
    };
    let quarter = task("sync", "sync", Some(every(900, Overlap::Replace)));
    let odd = task("poll", "poll", Some(every(420, Overlap::Skip)));
    let (text, docs) = export(vec![job(quarter), job(odd)]);
    let sync = doc(&docs, "CronJob", "sync");
    assert_eq!(s(sync, "spec.schedule"), "*/15 * * * *");
    assert_eq!(s(sync, "spec.concurrencyPolicy"), "Replace");
    assert!(sync["spec"]["suspend"].is_null());
    assert!(
        sync["spec"]["timeZone"].is_null(),
        "an interval needs no zone"
    );
    let poll = doc(&docs, "CronJob", "poll");
    assert_eq!(s(poll, "spec.schedule"), "*/7 * * * *");
    assert_eq!(poll["spec"]["suspend"].as_bool(), Some(true));
    has_comment(&text, "every 7m cannot be written as cron");
}

#[test]
fn one_time_and_on_demand_tasks_become_jobs() {
    let at = ScheduleSpec {
        at: Some("2030-01-02T03:04:05Z".into()),
        ..Default::default()
    };
    let mut once = task("migrate", "migrate up", Some(at));
    once.restart.mode = RestartMode::Never;
    let mut report = task("report", "report", None);
    report.restart.max_retries = 0;
    let mut off = task("off", "true", None);
    off.enabled = false;
    let (text, docs) = export(vec![job(once), job(report), job(off)]);
    let migrate = doc(&docs, "Job", "migrate");
    assert_eq!(s(migrate, "apiVersion"), "batch/v1");
    assert_eq!(s(migrate, &format!("{POD}.restartPolicy")), "Never");
    assert_eq!(n(migrate, "spec.backoffLimit"), 0);
    has_comment(&text, "scheduled once at 2030-01-02T03:04:05+00:00");
    let report = doc(&docs, "Job", "report");
    assert_eq!(s(report, &format!("{POD}.restartPolicy")), "OnFailure");
    assert!(report["spec"]["backoffLimit"].is_null());
    has_comment(&text, "max_retries = 0 (retry forever)");
    has_comment(&text, "an on-demand task");
    assert_eq!(
        doc(&docs, "Job", "off")["spec"]["suspend"].as_bool(),
        Some(true)
    );
}

#[test]
fn what_a_pod_has_no_field_for_is_listed() {
    let mut spec = JobSpec::new("api", "server");
    spec.depends_on = vec![
        Dependency::on("db").when(Condition::Healthy),
        Dependency::on("cache"),
    ];
    spec.stop_signal = SignalName::parse("INT").unwrap();
    spec.stop_timeout = Duration::from_millis(1500);
    spec.nice = Some(5);
    spec.rlimits.nofile = Some(4096);
    spec.watch = Some(sentinel_proto::WatchSpec::default());
    spec.webhook = Some("https://hooks.example/t0ken".into());
    spec.restart_schedule = Some("0 4 * * *".into());
    spec.restart.delay = Duration::from_secs(5);
    spec.restart.success_exit_codes = vec![0, 3];
    spec.logs.max_files = 9;
    let (text, docs) = export(vec![job(spec)]);
    let d = doc(&docs, "Deployment", "api");
    assert_eq!(n(d, &format!("{POD}.terminationGracePeriodSeconds")), 2);
    for words in [
        "depends_on db (healthy), cache (running)",
        "STOPSIGNAL SIGINT",
        "stop_timeout is rounded up",
        "nice = 5",
        "rlimits",
        "watch (restart on file changes)",
        "failure webhook",
        "restart_schedule \"0 4 * * *\"",
        "restart delay 5s",
        "success_exit_codes",
        "logs (max_size, max_files)",
    ] {
        has_comment(&text, words);
    }
    assert!(
        !text.contains("t0ken"),
        "the webhook's URL may hold a token: {text}"
    );
}

#[test]
fn names_are_dns_labels_and_a_clash_is_refused() {
    assert_eq!(resource_name("My_App.web", 63).unwrap(), "my-app-web");
    assert_eq!(resource_name(&"a".repeat(70), 63).unwrap().len(), 63);
    assert_eq!(
        resource_name(&format!("{}-x", "b".repeat(51)), 52).unwrap(),
        "b".repeat(51)
    );
    assert!(resource_name("__", 63).is_err());
    let err = render(
        &[
            job(JobSpec::new("api.v1", "a")),
            job(JobSpec::new("api_v1", "b")),
        ],
        &options(),
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("\"api.v1\" and \"api_v1\" would both be named \"api-v1\""),
        "{err}"
    );
    let mut project = JobSpec::new("shop.web", "server");
    project.project = Some(sentinel_proto::ProjectRef {
        name: "shop".into(),
        file: "/srv/shop/sentinel.toml".into(),
    });
    let (_, docs) = export(vec![job(project)]);
    let d = doc(&docs, "Deployment", "shop-web");
    assert_eq!(
        at(d, "metadata.labels")["app.kubernetes.io/part-of"].as_str(),
        Some("shop")
    );
}

#[test]
fn the_image_is_required_and_checked() {
    for image in ["", "  ", "example/app:1.0 extra"] {
        let mut o = options();
        o.image = image.into();
        let err = render(&[job(JobSpec::new("a", "b"))], &o).unwrap_err();
        assert!(matches!(err, CliError::Usage(_)), "{image:?}: {err}");
        assert!(err.to_string().contains("--image"), "{err}");
    }
}

/// Every field of a job is either mapped or named in a note (or, for notifications, in the
/// header): a new field fails this test until the export says what becomes of it.
#[test]
fn every_job_field_is_mapped_or_named() {
    const CONSIDERED: &[&str] = &[
        "name",
        "command",
        "shell",
        "cwd",
        "env",
        "secrets",
        "group",
        "project",
        "enabled",
        "autostart",
        "kind",
        "restart",
        "stop_signal",
        "stop_timeout",
        "logs",
        "schedule",
        "restart_schedule",
        "health",
        "max_memory",
        "notify",
        "webhook",
        "depends_on",
        "watch",
        "env_files",
        "ports",
        "nice",
        "rlimits",
    ];
    let missing: Vec<String> = JobSpec::field_names()
        .into_iter()
        .filter(|field| !CONSIDERED.contains(&field.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "say in kubernetes/ what becomes of {missing:?}, then add them here"
    );
    let (text, _) = export(vec![job(JobSpec::new("a", "b"))]);
    has_comment(
        &text,
        "Failure notifications and webhooks stay with SentinelZero",
    );
}
