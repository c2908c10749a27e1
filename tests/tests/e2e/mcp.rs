//! `sentinel mcp` driven by a real MCP client, the official Python SDK (`tests/mcp_client.py`
//! in the venv `scripts/setup.sh` makes), against a real daemon: what an agent sees and does.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{json, Value};

use sentinel_tests::*;

/// Runs the MCP client against `sentinel --socket SOCKET mcp` with these tool calls; its answer.
fn mcp_session(socket: &Path, calls: Value) -> Value {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let python = root.join("../.tools/venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run scripts/setup.sh",
        python.display()
    );
    let mut child = Command::new(python)
        .arg(root.join("mcp_client.py"))
        .arg(sentinel_bin())
        .arg("--socket")
        .arg(socket)
        .arg("mcp")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(calls.to_string().as_bytes()).unwrap();
    drop(stdin);
    // The client gives up by itself after a minute, so this wait is bounded.
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "the MCP client failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap_or_else(|err| {
        panic!(
            "not JSON ({err}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

/// The answer to the `index`th call, which must have succeeded (`ok`) or failed.
fn call(session: &Value, index: usize, ok: bool) -> &Value {
    let call = &session["calls"][index];
    assert_eq!(call["is_error"], !ok, "call {index}: {call}");
    call
}

/// A failed call's error body: its code and the field at fault.
fn error_of(session: &Value, index: usize) -> (&str, &str) {
    let body = &call(session, index, false)["json"];
    (
        body["code"].as_str().unwrap_or_default(),
        body["field"].as_str().unwrap_or_default(),
    )
}

#[test]
fn an_agent_lists_reads_and_restarts_jobs() {
    let home = Home::new();
    let _daemon = home.daemon();
    home.ok(&[
        "add",
        "web",
        "--group",
        "dev",
        "--shell",
        "--cmd",
        "echo web is listening; exec sleep 1000",
    ]);
    home.ok(&["add", "worker", "--", "sleep", "1000"]);
    let client = home.client();
    wait_until("web's first line", || {
        within_deadline(client.logs("web", Default::default()))
            .is_ok_and(|lines| lines.iter().any(|l| l.text == "web is listening"))
    });
    let before = pid_of(&home, "web").expect("web runs");

    let session = mcp_session(
        &home.socket(),
        json!([
            {"tool": "list_jobs"},
            {"tool": "list_jobs", "arguments": {"group": "dev"}},
            {"tool": "job_logs", "arguments": {"name": "web"}},
            {"tool": "job_status", "arguments": {"name": "web"}},
            {"tool": "restart_job", "arguments": {"name": "web"}},
            {"tool": "recent_runs", "arguments": {"name": "web", "limit": 5}},
            {"tool": "job_logs", "arguments": {"name": "web", "lines": 100000}},
            {"tool": "job_logs", "arguments": {"name": "ghost"}},
            {"tool": "restart_job", "arguments": {"name": "ghost"}},
            {"tool": "job_logs", "arguments": {"name": "web", "lines": "many"}},
            {"tool": "stop_job", "arguments": {"name": "../web"}},
            {"tool": "stop_job", "arguments": {"name": "worker"}},
            {"tool": "list_jobs", "arguments": {"group": "nobody"}},
            {"tool": "start_job", "arguments": {"name": "worker"}},
            {"tool": "job_logs", "arguments": {"name": "web", "stream": "stderr"}},
        ]),
    );

    assert_eq!(session["server"]["name"], "sentinel");
    let mut tools: Vec<&str> = session["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|tool| tool["name"].as_str().unwrap())
        .collect();
    tools.sort_unstable();
    assert_eq!(
        tools,
        [
            "job_logs",
            "job_status",
            "list_jobs",
            "list_projects",
            "project_down",
            "project_up",
            "recent_runs",
            "restart_job",
            "start_job",
            "stop_job"
        ]
    );
    for tool in session["tools"].as_array().unwrap() {
        assert!(tool["description"].as_str().unwrap().len() > 40, "{tool}");
        assert_eq!(tool["input_schema"]["type"], "object", "{tool}");
    }

    let jobs = call(&session, 0, true)["json"].as_array().unwrap().clone();
    assert_eq!(jobs.len(), 2, "{jobs:?}");
    let web = jobs.iter().find(|job| job["name"] == "web").unwrap();
    assert_eq!(web["state"], "running");
    assert_eq!(web["glance"], "fine");
    assert_eq!(web["group"], "dev");
    assert_eq!(web["pid"], before);
    let dev = &call(&session, 1, true)["json"];
    assert_eq!(dev.as_array().map(Vec::len), Some(1), "{dev}");
    assert_eq!(dev[0]["name"], "web");

    let logs = call(&session, 2, true)["text"].as_str().unwrap();
    assert!(logs.contains("stdout web is listening\n"), "{logs}");

    let status = &call(&session, 3, true)["json"];
    assert_eq!(status["status"]["pid"], before);
    assert_eq!(status["glance"], "fine");
    assert!(status["definition"]["command"]
        .as_str()
        .unwrap()
        .contains("web is listening"));

    // The restart answers with the new run, and the engine agrees.
    let restarted = &call(&session, 4, true)["json"];
    assert_eq!(restarted["state"], "running", "{restarted}");
    let after = restarted["pid"].as_u64().unwrap();
    assert_ne!(after, u64::from(before));
    assert_eq!(pid_of(&home, "web").map(u64::from), Some(after));

    let runs = call(&session, 5, true)["json"].as_array().unwrap().clone();
    assert_eq!(runs[0]["trigger"], "restart");
    assert_eq!(runs[0]["pid"], after);
    assert_eq!(runs[1]["pid"], before);
    assert_eq!(runs[1]["outcome"], "stopped");
    assert_eq!(runs[1]["reason"], "stopped to restart");

    assert_eq!(error_of(&session, 6), ("invalid", "lines"));
    let message = call(&session, 6, false)["json"]["message"]
        .as_str()
        .unwrap();
    assert!(message.contains("use 1 to 1000"), "{message}");
    assert_eq!(error_of(&session, 7), ("not_found", ""));
    assert_eq!(error_of(&session, 8), ("not_found", ""));
    assert_eq!(error_of(&session, 9), ("bad_json", "lines"));
    assert_eq!(error_of(&session, 10), ("invalid", "name"));

    assert_eq!(call(&session, 11, true)["json"]["state"], "stopped");
    assert_eq!(call(&session, 12, true)["json"], json!([]));
    let started = &call(&session, 13, true)["json"];
    assert_eq!(started["state"], "running", "{started}");
    assert_eq!(
        pid_of(&home, "worker").map(u64::from),
        started["pid"].as_u64()
    );
    // web printed nothing on stderr.
    let stderr = call(&session, 14, true)["text"].as_str().unwrap();
    assert!(!stderr.contains("web is listening"), "{stderr}");
}

#[test]
fn without_an_engine_each_call_says_to_start_one() {
    let dir = tempfile::tempdir().unwrap();
    let socket: PathBuf = dir.path().join("sentinel.sock");
    let session = mcp_session(&socket, json!([{"tool": "list_jobs"}]));
    // The server starts and lists its tools all the same: agents start it before the engine.
    assert_eq!(session["tools"].as_array().map(Vec::len), Some(10));
    assert_eq!(error_of(&session, 0), ("no_engine", ""));
    let message = call(&session, 0, false)["json"]["message"]
        .as_str()
        .unwrap();
    assert!(message.contains("sentinel daemon"), "{message}");
    assert!(message.contains(&socket.display().to_string()), "{message}");
}

#[test]
fn an_agent_brings_a_project_up_and_down() {
    let home = Home::new();
    let _daemon = home.daemon();
    let shop = home.dir.path().join("shop");
    let empty = home.dir.path().join("empty");
    std::fs::create_dir_all(&shop).unwrap();
    std::fs::create_dir_all(&empty).unwrap();
    std::fs::write(
        shop.join("sentinel.toml"),
        r#"
project = "shop"
[[jobs]]
name = "db"
command = "sh -c 'echo db ready; exec sleep 1000'"
health = { log = "db ready", timeout = "30s" }
[[jobs]]
name = "api"
command = "sleep 1000"
depends_on = [{ job = "db", condition = "healthy" }]
"#,
    )
    .unwrap();
    let up = json!({"tool": "project_up", "arguments": {"path": shop}});

    let session = mcp_session(
        &home.socket(),
        json!([
            {"tool": "list_projects"},
            up,
            {"tool": "project_up", "arguments": {"path": "shop"}},
            {"tool": "project_up", "arguments": {"path": empty}},
            {"tool": "list_projects"},
            {"tool": "list_jobs", "arguments": {"project": "shop"}},
            up,
            {"tool": "project_down", "arguments": {"project": "shop"}},
            {"tool": "project_down", "arguments": {"project": "nowhere"}},
            {"tool": "project_down", "arguments": {"project": "a.b"}},
        ]),
    );

    assert_eq!(call(&session, 0, true)["json"], json!([]));
    let first = &call(&session, 1, true)["json"];
    assert_eq!(first["project"], "shop");
    assert_eq!(
        first["plan"]["add"],
        json!(["shop.db", "shop.api"]),
        "{first}"
    );
    assert_eq!(error_of(&session, 2), ("invalid", "path"));
    assert_eq!(error_of(&session, 3), ("not_found", "path"));

    let projects = &call(&session, 4, true)["json"];
    assert_eq!(projects[0]["name"], "shop");
    assert_eq!(
        projects[0]["file"],
        shop.join("sentinel.toml").display().to_string()
    );
    let jobs = call(&session, 5, true)["json"].as_array().unwrap().clone();
    let mut names: Vec<&str> = jobs.iter().map(|j| j["name"].as_str().unwrap()).collect();
    names.sort_unstable();
    assert_eq!(names, ["shop.api", "shop.db"]);
    assert!(jobs.iter().all(|job| job["project"] == "shop"), "{jobs:?}");

    // Up again changes nothing.
    let again = &call(&session, 6, true)["json"];
    assert_eq!(again["plan"]["add"], json!([]), "{again}");
    assert_eq!(again["plan"]["update"], json!([]), "{again}");

    let down = call(&session, 7, true)["json"].as_array().unwrap().clone();
    assert_eq!(down.len(), 2, "{down:?}");
    assert!(down.iter().all(|job| job["state"] == "stopped"), "{down:?}");
    assert_eq!(pid_of(&home, "shop.db"), None);
    assert_eq!(error_of(&session, 8), ("not_found", ""));
    assert_eq!(error_of(&session, 9), ("invalid", "project"));
}
