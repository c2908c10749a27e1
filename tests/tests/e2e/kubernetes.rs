//! `sentinel export --as kubernetes` against a real daemon: a realistic set of jobs added
//! through the CLI, exported, read back by PyYAML (a YAML 1.1 reader, as Kubernetes' is) and
//! checked by `kubernetes-validate` against the official schemas it bundles (offline), both
//! from the venv `scripts/setup.sh` makes.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

use sentinel_tests::*;

const IMAGE: &str = "example/app:1.0";

fn tool(name: &str) -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../.tools/venv/bin")
        .join(name);
    assert!(
        path.exists(),
        "{} is missing: run scripts/setup.sh",
        path.display()
    );
    path
}

/// The documents as PyYAML reads them, as JSON.
fn documents(yaml: &str) -> Vec<Value> {
    let script = "import json, sys, yaml\nprint(json.dumps([d for d in yaml.safe_load_all(sys.stdin) if d is not None]))";
    let mut child = Command::new(tool("python"))
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
        .write_all(yaml.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "PyYAML refused the manifests: {}\n{yaml}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// Runs kubernetes-validate (strict: no unknown fields) on the file for one Kubernetes version.
fn validate(file: &Path, version: &str) {
    let output = Command::new(tool("kubernetes-validate"))
        .args(["--strict", "--kubernetes-version", version])
        .arg(file)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "kubernetes-validate {version} refused the manifests:\n{stdout}{}\n{}",
        String::from_utf8_lossy(&output.stderr),
        std::fs::read_to_string(file).unwrap_or_default()
    );
    assert!(!stdout.contains("ERROR"), "{stdout}");
}

fn find<'a>(docs: &'a [Value], kind: &str, name: &str) -> &'a Value {
    docs.iter()
        .find(|d| d["kind"] == kind && d["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name} in {docs:#?}"))
}

fn container(workload: &Value) -> &Value {
    let pod = if workload["kind"] == "CronJob" {
        &workload["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    } else {
        &workload["spec"]["template"]["spec"]
    };
    &pod["containers"][0]
}

/// The job set: a web service, a worker behind it, scheduled and one-off tasks, and a service
/// whose health check and watch have no Kubernetes equivalent.
fn add_jobs(home: &Home, app: &Path) {
    std::fs::create_dir_all(app.join("src")).unwrap();
    std::fs::write(
        app.join(".env"),
        "DB_HOST=db.internal\nDB_PASSWORD=pa55-word\nLOG_LEVEL=on\n",
    )
    .unwrap();
    let cwd = app.to_str().unwrap();
    #[rustfmt::skip]
    let jobs: [&[&str]; 8] = [
        &["add", "web", "--group", "shop", "--cwd", cwd, "--no-autostart",
          "--env", "PORT=8080", "--env", "FEATURE=yes", "--env", "API_TOKEN=tok-123456",
          "--secret", "API_TOKEN", "--secret", "DB_PASSWORD", "--env-file", ".env",
          "--port", "8080", "--max-memory", "256MiB", "--stop-timeout", "20s",
          "--health-http", "http://127.0.0.1:8080/healthz", "--health-interval", "15s",
          "--health-timeout", "3s", "--health-retries", "4", "--health-start-period", "20s",
          "--", "python3", "-m", "http.server", "8080"],
        &["add", "worker", "--group", "shop", "--cwd", cwd, "--no-autostart", "--shell",
          "--restart", "on-failure", "--max-retries", "3", "--depends-on", "web:healthy",
          "--health-cmd", "test -f /tmp/worker.ready", "--stop-signal", "INT",
          "--cmd", "python3 worker.py | tee -a worker.log"],
        &["add", "nightly_backup", "--cron", "0 30 2 * * 7", "--overlap", "queue",
          "--missed", "skip", "--max-retries", "2", "--", "backup", "--all"],
        &["add", "sync", "--every", "15m", "--overlap", "replace", "--", "sync-data"],
        &["add", "poll", "--every", "7m", "--", "poll-feeds"],
        &["add", "migrate", "--at", "2030-01-02 12:00", "--restart", "never", "--", "migrate", "up"],
        &["add", "report", "--kind", "task", "--", "make-report"],
        &["add", "tailer", "--cwd", cwd, "--no-autostart", "--health-log", "listening on",
          "--watch", "src", "--nice", "5", "--", "tail-server"],
    ];
    for args in jobs {
        home.ok(args);
    }
}

#[test]
fn jobs_become_manifests_that_pass_the_official_schemas() {
    let home = Home::new();
    let _daemon = home.daemon();
    let app = home.dir.path().join("app");
    add_jobs(&home, &app);

    let export = home.ok(&["export", "--all", "--as", "kubernetes", "--image", IMAGE]);
    let yaml = export.stdout;
    let file = home.dir.path().join("manifests.yaml");
    std::fs::write(&file, &yaml).unwrap();
    validate(&file, "1.31.0");
    validate(&file, "1.37.0");
    assert!(
        export.stderr.contains("--show-secrets"),
        "{}",
        export.stderr
    );
    for secret in ["pa55-word", "tok-123456"] {
        assert!(
            !yaml.contains(secret),
            "{secret} written without --show-secrets:\n{yaml}"
        );
    }

    let docs = documents(&yaml);
    let mut kinds: Vec<String> = docs
        .iter()
        .map(|d| {
            format!(
                "{} {}",
                d["kind"].as_str().unwrap(),
                d["metadata"]["name"].as_str().unwrap()
            )
        })
        .collect();
    kinds.sort();
    assert_eq!(
        kinds,
        [
            "ConfigMap web-env",
            "CronJob nightly-backup",
            "CronJob poll",
            "CronJob sync",
            "Deployment tailer",
            "Deployment web",
            "Deployment worker",
            "Job migrate",
            "Job report",
            "Secret web-secrets",
        ]
    );

    let web = find(&docs, "Deployment", "web");
    assert_eq!(web["spec"]["replicas"], 1);
    assert_eq!(
        web["metadata"]["labels"]["app.kubernetes.io/part-of"],
        "shop"
    );
    assert_eq!(
        web["metadata"]["labels"]["app.kubernetes.io/managed-by"],
        "sentinelzero-export"
    );
    assert_eq!(
        web["spec"]["template"]["spec"]["terminationGracePeriodSeconds"],
        20
    );
    let c = container(web);
    assert_eq!(c["image"], IMAGE);
    assert_eq!(c["command"], serde_json::json!(["python3"]));
    assert_eq!(c["args"], serde_json::json!(["-m", "http.server", "8080"]));
    assert_eq!(c["workingDir"], app.to_str().unwrap());
    assert_eq!(c["ports"][0]["containerPort"], 8080);
    assert_eq!(c["resources"]["limits"]["memory"], "256Mi");
    assert_eq!(c["envFrom"][0]["configMapRef"]["name"], "web-env");
    let env = c["env"].as_array().unwrap();
    let value = |name: &str| env.iter().find(|e| e["name"] == name).unwrap().clone();
    assert_eq!(
        value("FEATURE")["value"],
        "yes",
        "still a string after YAML 1.1"
    );
    assert_eq!(value("PORT")["value"], "8080");
    assert_eq!(
        value("API_TOKEN")["valueFrom"]["secretKeyRef"]["name"],
        "web-secrets"
    );
    assert_eq!(
        value("DB_PASSWORD")["valueFrom"]["secretKeyRef"]["key"],
        "DB_PASSWORD"
    );
    for probe in ["livenessProbe", "readinessProbe"] {
        let p = &c[probe];
        assert_eq!(p["httpGet"]["path"], "/healthz");
        assert_eq!(p["httpGet"]["port"], 8080);
        assert_eq!(p["periodSeconds"], 15);
        assert_eq!(p["timeoutSeconds"], 3);
        assert_eq!(p["failureThreshold"], 4);
        assert_eq!(p["initialDelaySeconds"], 20);
    }
    let config = find(&docs, "ConfigMap", "web-env");
    assert_eq!(
        config["data"],
        serde_json::json!({"DB_HOST": "db.internal", "LOG_LEVEL": "on"})
    );
    let secret = find(&docs, "Secret", "web-secrets");
    assert_eq!(
        secret["stringData"],
        serde_json::json!({"API_TOKEN": "", "DB_PASSWORD": ""})
    );

    let worker = find(&docs, "Deployment", "worker");
    let c = container(worker);
    assert_eq!(c["command"], serde_json::json!(["/bin/sh"]));
    assert_eq!(
        c["args"],
        serde_json::json!(["-c", "python3 worker.py | tee -a worker.log"])
    );
    assert_eq!(
        c["readinessProbe"]["exec"]["command"],
        serde_json::json!(["test", "-f", "/tmp/worker.ready"])
    );
    assert!(c["livenessProbe"].is_object());

    let nightly = find(&docs, "CronJob", "nightly-backup");
    assert_eq!(nightly["spec"]["schedule"], "30 2 * * 0");
    assert_eq!(nightly["spec"]["concurrencyPolicy"], "Forbid");
    assert_eq!(nightly["spec"]["startingDeadlineSeconds"], 60);
    assert_eq!(nightly["spec"]["jobTemplate"]["spec"]["backoffLimit"], 2);
    assert_eq!(container(nightly)["command"], serde_json::json!(["backup"]));
    let sync = find(&docs, "CronJob", "sync");
    assert_eq!(sync["spec"]["schedule"], "*/15 * * * *");
    assert_eq!(sync["spec"]["concurrencyPolicy"], "Replace");
    assert!(sync["spec"]["suspend"].is_null());
    let poll = find(&docs, "CronJob", "poll");
    assert_eq!(poll["spec"]["suspend"], true);
    let migrate = find(&docs, "Job", "migrate");
    assert_eq!(migrate["spec"]["backoffLimit"], 0);
    assert_eq!(
        migrate["spec"]["template"]["spec"]["restartPolicy"],
        "Never"
    );
    let report = find(&docs, "Job", "report");
    assert_eq!(
        report["spec"]["template"]["spec"]["restartPolicy"],
        "OnFailure"
    );
    let tailer = container(find(&docs, "Deployment", "tailer"));
    assert!(tailer["readinessProbe"].is_null());

    // What does not map is named above the job's manifests.
    for words in [
        "job \"nightly_backup\" (scheduled task) -> CronJob nightly-backup (renamed",
        "depends_on web (healthy)",
        "STOPSIGNAL SIGINT",
        "overlap = queue",
        "every 7m cannot be written as cron",
        "scheduled once at 2030-01-02",
        "an on-demand task",
        "a line matching \"listening on\"",
        "watch (restart on file changes)",
        "nice = 5",
        "the values are left empty",
    ] {
        assert!(
            yaml.lines()
                .any(|l| l.starts_with('#') && l.contains(words)),
            "no comment with {words:?} in\n{yaml}"
        );
    }
}

#[test]
fn secrets_a_group_and_usage_errors() {
    let home = Home::new();
    let _daemon = home.daemon();
    let app = home.dir.path().join("app");
    add_jobs(&home, &app);

    let shown = home
        .ok(&[
            "export",
            "--group",
            "shop",
            "--as",
            "kubernetes",
            "--image",
            IMAGE,
            "--show-secrets",
        ])
        .stdout;
    let docs = documents(&shown);
    assert_eq!(
        docs.len(),
        4,
        "web's ConfigMap, Secret and Deployment, and the worker"
    );
    let secret = find(&docs, "Secret", "web-secrets");
    assert_eq!(
        secret["stringData"],
        serde_json::json!({"API_TOKEN": "tok-123456", "DB_PASSWORD": "pa55-word"})
    );
    let file = home.dir.path().join("shop.yaml");
    std::fs::write(&file, &shown).unwrap();
    validate(&file, "1.31.0");

    // One job by name; an env file the engine cannot read is named with how to make the map.
    home.ok(&[
        "add",
        "broken",
        "--no-autostart",
        "--cwd",
        app.to_str().unwrap(),
        "--env-file",
        "missing.env",
        "--",
        "serve",
    ]);
    let one = home
        .ok(&["export", "broken", "--as", "kubernetes", "--image", IMAGE])
        .stdout;
    let docs = documents(&one);
    assert_eq!(docs.len(), 1);
    assert_eq!(
        container(&docs[0])["envFrom"][0]["configMapRef"]["name"],
        "broken-env"
    );
    assert!(
        one.contains("kubectl create configmap broken-env --from-env-file="),
        "{one}"
    );

    let no_image = home.run(&["export", "--all", "--as", "kubernetes"]);
    assert_eq!(no_image.code, 2, "{}", no_image.stderr);
    assert!(no_image.stderr.contains("--image"), "{}", no_image.stderr);
    let image_elsewhere = home.run(&["export", "web", "--as", "systemd", "--image", IMAGE]);
    assert_eq!(image_elsewhere.code, 2, "{}", image_elsewhere.stderr);
    let unknown = home.run(&["export", "nope", "--as", "kubernetes", "--image", IMAGE]);
    assert_ne!(unknown.code, 0);
    assert!(unknown.stderr.contains("nope"), "{}", unknown.stderr);
    let empty_group = home.run(&[
        "export",
        "--group",
        "none",
        "--as",
        "kubernetes",
        "--image",
        IMAGE,
    ]);
    assert_eq!(empty_group.code, 1, "{}", empty_group.stderr);
    assert!(
        empty_group
            .stderr
            .contains("no job is in the group \"none\""),
        "{}",
        empty_group.stderr
    );
}
