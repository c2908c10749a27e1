//! The control API served on a real Unix socket by the engine in this process: every route
//! answers as documented, and every mistake is a 4xx with a JSON body naming the problem.

use std::path::{Path, PathBuf};

use sentinel_client::{Client, Follow, LogQuery};
use sentinel_engine::control::ControlServer;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;

use crate::common::*;

struct Reply {
    status: u16,
    /// The response head as sent, when read off the wire ([`send_raw`]).
    head: String,
    /// The `Content-Type`, from [`call`].
    content_type: String,
    body: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|err| panic!("not JSON ({err}): {}", self.body))
    }
}

/// Any request through the client's low-level call, answered whatever its status.
async fn call(socket: &Path, method: &str, path: &str, body: Option<&str>) -> Reply {
    let answer = tokio::time::timeout(
        DEADLINE,
        Client::new(socket).request(method, path, body.map(str::as_bytes)),
    )
    .await
    .expect("the server answers")
    .unwrap();
    Reply {
        status: answer.status,
        head: String::new(),
        content_type: answer.content_type.unwrap_or_default(),
        body: answer.body,
    }
}

/// A response read off the wire as it came, for requests no HTTP client sends; the engine's
/// refusals have a length, never chunks.
fn parse(raw: &str) -> Reply {
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((raw, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Reply {
        status,
        head: head.to_string(),
        content_type: String::new(),
        body: body.to_string(),
    }
}

/// Reads a followed answer until every one of `needles` has been seen, in any order, and
/// hangs up.
async fn read_until<T: DeserializeOwned>(mut stream: Follow<T>, needles: &[&str]) -> String {
    let mut seen = String::new();
    while !needles.iter().all(|needle| seen.contains(needle)) {
        let line = tokio::time::timeout(DEADLINE, stream.next_line())
            .await
            .expect("more of the stream")
            .unwrap_or_else(|| panic!("the stream ended early: {seen}"))
            .unwrap();
        seen.push_str(&String::from_utf8_lossy(&line));
        seen.push('\n');
    }
    seen
}

async fn serve(t: &TestEngine) -> (ControlServer, PathBuf) {
    let socket = t.path().join("api.sock");
    let server = ControlServer::bind(t.engine.clone(), &socket)
        .await
        .unwrap();
    (server, socket)
}

fn spec(name: &str, command: &str) -> String {
    json!({"name": name, "command": command, "autostart": false, "group": "web",
           "restart": {"delay": "0s"}, "stop_timeout": "5s"})
    .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_job_route_answers_and_explains_its_errors() {
    let t = TestEngine::new().await;
    let (server, socket) = serve(&t).await;
    let s = socket.as_path();

    let live = call(s, "GET", "/api/health/live", None).await;
    assert_eq!(
        (live.status, live.json()["status"].clone()),
        (200, json!("ok"))
    );
    assert_eq!(call(s, "GET", "/api/health/ready", None).await.status, 200);

    // Create, refuse duplicates, bad JSON and invalid specs, each with a JSON error.
    let created = call(s, "POST", "/api/jobs", Some(&spec("api", "sleep 300"))).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let duplicate = call(s, "POST", "/api/jobs", Some(&spec("api", "sleep 300"))).await;
    assert_eq!(duplicate.status, 409);
    assert_eq!(duplicate.json()["code"], "already_exists");
    let bad_json = call(s, "POST", "/api/jobs", Some("{\"name\": ")).await;
    assert_eq!(bad_json.status, 400);
    assert!(bad_json.json()["message"].is_string());
    let invalid = call(
        s,
        "POST",
        "/api/jobs",
        Some(&json!({"name": "bad name", "command": "x", "nice": 99}).to_string()),
    )
    .await;
    assert_eq!(invalid.status, 422, "{}", invalid.body);
    let fields: Vec<Value> = invalid.json()["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].clone())
        .collect();
    assert_eq!(fields, [json!("name"), json!("nice")]);
    let missing = call(s, "GET", "/api/jobs/ghost", None).await;
    assert_eq!(
        (missing.status, missing.json()["code"].clone()),
        (404, json!("not_found"))
    );

    // Read, change, act.
    call(s, "POST", "/api/jobs", Some(&spec("worker", "sleep 300"))).await;
    let list = call(s, "GET", "/api/jobs", None).await.json();
    assert_eq!(list.as_array().unwrap().len(), 2);
    let detail = call(s, "GET", "/api/jobs/api", None).await.json();
    assert_eq!(detail["spec"]["group"], "web");
    let mut changed: Value = serde_json::from_str(&spec("api", "sleep 301")).unwrap();
    changed["group"] = json!("backend");
    let updated = call(s, "PUT", "/api/jobs/api", Some(&changed.to_string())).await;
    assert_eq!(updated.status, 200, "{}", updated.body);
    let renamed = call(s, "PUT", "/api/jobs/api", Some(&spec("other", "true"))).await;
    assert!(
        renamed.status >= 400 && renamed.status < 500,
        "{}",
        renamed.body
    );

    for (action, state) in [
        ("start", "running"),
        ("restart", "running"),
        ("stop", "stopped"),
        ("run", "running"),
    ] {
        let reply = call(s, "POST", &format!("/api/jobs/api/{action}"), None).await;
        assert_eq!(reply.status, 200, "{action}: {}", reply.body);
        assert_eq!(reply.json()["state"], state, "{action}");
    }
    let disabled = call(s, "POST", "/api/jobs/api/disable", None).await;
    assert_eq!(disabled.json()["enabled"], false);
    let refused = call(s, "POST", "/api/jobs/api/start", None).await;
    assert_eq!(refused.status, 409, "{}", refused.body);
    assert!(refused.json()["message"]
        .as_str()
        .unwrap()
        .contains("disabled"));
    call(s, "POST", "/api/jobs/api/enable", None).await;

    // Several jobs by group and by names; a selection that is not exactly one kind is refused.
    let bulk = call(
        s,
        "POST",
        "/api/actions",
        Some(r#"{"action": "start", "selection": {"group": "web"}}"#),
    )
    .await;
    assert_eq!(bulk.status, 200, "{}", bulk.body);
    assert_eq!(bulk.json()[0]["name"], "worker");
    let restarted = call(
        s,
        "POST",
        "/api/actions",
        Some(r#"{"action": "restart", "selection": {"names": ["api", "worker", "ghost"]}}"#),
    )
    .await
    .json();
    assert_eq!(restarted[2]["error"]["code"], "not_found");
    let stopped = call(
        s,
        "POST",
        "/api/actions",
        Some(r#"{"action": "stop", "selection": "all"}"#),
    )
    .await;
    assert!(stopped
        .json()
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["status"]["state"] == "stopped"));
    let neither = call(
        s,
        "POST",
        "/api/actions",
        Some(r#"{"action": "stop", "selection": {"names": ["api"], "group": "web"}}"#),
    )
    .await;
    assert_eq!(neither.status, 400, "{}", neither.body);
    assert_eq!(neither.json()["code"], "bad_json", "{}", neither.body);
    let empty = call(
        s,
        "POST",
        "/api/actions",
        Some(r#"{"action": "stop", "selection": {"group": "nobody"}}"#),
    )
    .await;
    assert_eq!(empty.status, 404, "{}", empty.body);

    // History, logs, events, resources.
    let runs = call(s, "GET", "/api/jobs/api/runs?limit=2", None)
        .await
        .json();
    assert_eq!(runs.as_array().unwrap().len(), 2);
    assert!(runs[0]["trigger"].is_string());
    // A query parameter of the wrong type is a JSON error naming it, like any other.
    for (path, field) in [
        ("/api/jobs/api/runs?limit=lots", "limit"),
        ("/api/jobs/api/logs?tail=-1", "tail"),
        ("/api/jobs/api?show_secrets=maybe", "show_secrets"),
    ] {
        let bad = call(s, "GET", path, None).await;
        assert_eq!(bad.status, 400, "{path}: {}", bad.body);
        let body = bad.json();
        assert_eq!(body["code"], "bad_query", "{path}: {body}");
        assert_eq!(body["field"], field, "{path}: {body}");
        assert!(body["message"].as_str().unwrap().contains(field), "{body}");
    }
    let logs = call(s, "GET", "/api/jobs/api/logs?tail=5", None).await;
    assert_eq!(logs.status, 200, "{}", logs.body);
    let events = call(s, "GET", "/api/events?limit=5", None).await.json();
    assert_eq!(events.as_array().unwrap().len(), 5);
    let resources = call(s, "GET", "/api/jobs/api/resources", None).await.json();
    assert_eq!(resources["job"], "api");

    // Delete, and a second delete finds nothing.
    assert_eq!(
        call(s, "DELETE", "/api/jobs/worker", None).await.status,
        204
    );
    assert_eq!(
        call(s, "DELETE", "/api/jobs/worker", None).await.status,
        404
    );
    server.stop().await;
    t.engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_config_schedules_metrics_ports_and_env() {
    let t = TestEngine::new().await;
    let (server, socket) = serve(&t).await;
    let s = socket.as_path();
    let dir = t.path().join("app");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(".env"), "FROM_FILE=1\n").unwrap();
    let mut talker = json!({"name": "talker", "command": "sh -c 'echo one; echo two >&2; sleep 300'",
                            "autostart": false, "cwd": dir, "env_files": [".env"], "ports": [1]});
    call(s, "POST", "/api/jobs", Some(&talker.to_string())).await;

    // Follow the events and the logs while the job starts and prints (each answers its head
    // once it follows, so nothing from then on is missed).
    let client = Client::new(s);
    let events = client.follow_events().await.unwrap();
    let logs = client
        .follow_logs("talker", LogQuery::default())
        .await
        .unwrap();
    assert_eq!(
        call(s, "POST", "/api/jobs/talker/start", None).await.status,
        200
    );
    let events = read_until(events, &["\"run_started\""]).await;
    assert!(events.contains("\"job\":\"talker\""), "{events}");
    // Two streams, two capture tasks: "two" may be followed before "one".
    read_until(logs, &["one", "two"]).await;
    let stderr_only = call(s, "GET", "/api/jobs/talker/logs?stream=stderr", None)
        .await
        .json();
    assert!(stderr_only
        .as_array()
        .unwrap()
        .iter()
        .all(|line| line["stream"] == "stderr"));

    // Env with its sources; ports; freeing finds nothing of ours.
    let env = call(s, "GET", "/api/jobs/talker/env", None).await.json();
    assert_eq!(env[0]["key"], "FROM_FILE");
    assert_eq!(env[0]["source"]["kind"], "file");
    let ports = call(s, "GET", "/api/ports", None).await.json();
    assert_eq!(ports[0]["job"], "talker");
    assert_eq!(
        call(s, "GET", "/api/jobs/talker/ports", None).await.json()["ports"][0]["port"],
        1
    );
    let freed = call(s, "POST", "/api/jobs/talker/ports/free", None)
        .await
        .json();
    assert_eq!(freed["stopped"], json!([]));
    std::fs::remove_file(dir.join(".env")).unwrap();
    let missing = call(s, "GET", "/api/jobs/talker/env", None).await;
    assert_eq!(missing.status, 422);
    assert_eq!(missing.json()["field"], "env_files");

    // Export and import, TOML and JSON, dry run and real, all or nothing.
    let toml = call(s, "GET", "/api/config/export", None).await;
    assert_eq!(toml.status, 200);
    assert!(toml.body.contains("name = \"talker\""), "{}", toml.body);
    let json_file = call(
        s,
        "GET",
        "/api/config/export?format=json&names=talker",
        None,
    )
    .await
    .json();
    assert_eq!(json_file["jobs"][0]["name"], "talker");
    assert_eq!(
        call(s, "GET", "/api/config/export?names=ghost", None)
            .await
            .status,
        404
    );
    let file = "version = 1\n[[jobs]]\nname = \"nightly\"\ncommand = \"true\"\nkind = \"task\"\n[jobs.schedule]\ncron = \"0 2 * * *\"\n";
    let plan = call(s, "POST", "/api/config/import?dry_run=true", Some(file))
        .await
        .json();
    assert_eq!(
        (plan["add"].clone(), plan["applied"].clone()),
        (json!(["nightly"]), json!(false))
    );
    let applied = call(s, "POST", "/api/config/import", Some(file))
        .await
        .json();
    assert_eq!(applied["applied"], true);
    let broken = call(
        s,
        "POST",
        "/api/config/import",
        Some("version = 1\n[[jobs]]\nname = \"x\"\n"),
    )
    .await;
    assert_eq!(broken.status, 422, "{}", broken.body);
    assert_eq!(broken.json()["code"], "invalid_file");
    talker["name"] = json!("talker2");
    let as_json = json!({"version": 1, "jobs": [talker]}).to_string();
    let imported = call(s, "POST", "/api/config/import?format=json", Some(&as_json))
        .await
        .json();
    assert_eq!(imported["add"], json!(["talker2"]));

    // Schedule previews.
    let preview = call(
        s,
        "GET",
        "/api/schedule/preview?cron=0%209%20*%20*%201-5&n=3",
        None,
    )
    .await
    .json();
    assert_eq!(preview["next"].as_array().unwrap().len(), 3);
    assert!(preview["description"]
        .as_str()
        .unwrap()
        .contains("Monday to Friday"));
    let every = call(s, "GET", "/api/schedule/preview?every=15m", None).await;
    assert_eq!(every.status, 200, "{}", every.body);
    let bad = call(
        s,
        "GET",
        "/api/schedule/preview?cron=61%20*%20*%20*%20*",
        None,
    )
    .await;
    assert_eq!(
        (bad.status, bad.json()["field"].clone()),
        (422, json!("schedule.cron"))
    );

    // Metrics, in both places, and the OpenAPI document.
    let metrics = call(s, "GET", "/metrics", None).await;
    assert!(
        metrics
            .content_type
            .to_ascii_lowercase()
            .contains("openmetrics"),
        "{}",
        metrics.content_type
    );
    assert!(
        metrics.body.contains("sentinel_job_up{job=\"talker\"} 1"),
        "{}",
        metrics.body
    );
    let same = call(s, "GET", "/api/metrics/prometheus", None).await;
    assert!(same.body.contains("sentinel_jobs "), "{}", same.body);
    let openapi = call(s, "GET", "/api/openapi.json", None).await.json();
    assert!(openapi["paths"]["/api/jobs/{name}/ports/free"].is_object());

    // Not a route, not a method.
    assert_eq!(call(s, "GET", "/api/nothing", None).await.status, 404);
    assert_eq!(call(s, "DELETE", "/api/jobs", None).await.status, 405);

    server.stop().await;
    t.engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secret_values_are_masked_unless_asked_for() {
    use sentinel_engine::proto::secret::MASK;

    let t = TestEngine::new().await;
    let (_server, socket) = serve(&t).await;
    let body = json!({
        "name": "api", "command": "sleep 60", "autostart": false,
        "env": { "API_KEY": "sk-live-1234567890", "PORT": "8080" },
        "secrets": ["API_KEY"],
    });
    let created = call(&socket, "POST", "/api/jobs", Some(&body.to_string())).await;
    assert_eq!(created.status, 201, "{}", created.body);

    let everything_shown = [
        "/api/jobs/api",
        "/api/jobs/api/env",
        "/api/config/export",
        "/api/config/export?format=json",
        "/api/jobs",
        "/api/events?limit=100",
    ];
    for path in everything_shown {
        let reply = call(&socket, "GET", path, None).await;
        assert_eq!(reply.status, 200, "{path}: {}", reply.body);
        assert!(
            !reply.body.contains("sk-live"),
            "{path} shows the secret: {}",
            reply.body
        );
    }
    let detail = call(&socket, "GET", "/api/jobs/api", None).await.json();
    assert_eq!(detail["spec"]["env"]["API_KEY"], MASK);
    assert_eq!(detail["spec"]["env"]["PORT"], "8080");
    let env = call(&socket, "GET", "/api/jobs/api/env", None).await.json();
    let key = env
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["key"] == "API_KEY")
        .unwrap();
    assert_eq!(
        (key["value"].as_str(), key["secret"].as_bool()),
        (Some(MASK), Some(true))
    );

    // Asked for, it is there.
    for path in [
        "/api/jobs/api?show_secrets=true",
        "/api/jobs/api/env?show_secrets=true",
        "/api/config/export?show_secrets=true",
    ] {
        let reply = call(&socket, "GET", path, None).await;
        assert!(
            reply.body.contains("sk-live-1234567890"),
            "{path}: {}",
            reply.body
        );
    }

    // The masked definition sent back as it was shown keeps the real value.
    let mut spec = detail["spec"].clone();
    spec["env"]["PORT"] = json!("9090");
    let put = call(&socket, "PUT", "/api/jobs/api", Some(&spec.to_string())).await;
    assert_eq!(put.status, 200, "{}", put.body);
    assert_eq!(
        t.engine.get("api").unwrap().spec.env["API_KEY"],
        "sk-live-1234567890"
    );
    // A new job cannot be created with the placeholder as a value.
    spec["name"] = json!("copy");
    let refused = call(&socket, "POST", "/api/jobs", Some(&spec.to_string())).await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert_eq!(refused.json()["field"], "env.API_KEY", "{}", refused.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_too_slow_to_send_its_headers_is_disconnected() {
    use sentinel_engine::control::HEADER_READ_TIMEOUT;

    let t = TestEngine::new().await;
    let (_server, socket) = serve(&t).await;
    let mut slow = UnixStream::connect(&socket).await.unwrap();
    slow.write_all(b"GET /api/health/live HTTP/1.1\r\nHost: loc")
        .await
        .unwrap();
    let mut idle = UnixStream::connect(&socket).await.unwrap();
    let asked = std::time::Instant::now();
    // Both are hung up on by the server (read returns, without waiting for the deadline).
    for stream in [&mut slow, &mut idle] {
        let mut rest = Vec::new();
        tokio::time::timeout(HEADER_READ_TIMEOUT * 3, stream.read_to_end(&mut rest))
            .await
            .expect("the server closes a connection whose headers do not arrive")
            .ok();
    }
    assert!(asked.elapsed() >= HEADER_READ_TIMEOUT / 2);
    // Everyone else was served all along.
    assert_eq!(
        call(&socket, "GET", "/api/health/live", None).await.status,
        200
    );
}

/// Any body sent to any route that reads one gets an answer below 500, as JSON, and the
/// engine keeps serving: random bytes, random JSON, and valid definitions with one field
/// replaced by a random JSON value.
#[test]
fn fuzzed_request_bodies_get_clear_errors_and_never_break_the_engine() {
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (t, _server, socket) = runtime.block_on(async {
        let t = TestEngine::new().await;
        let (server, socket) = serve(&t).await;
        (t, server, socket)
    });
    let base = json!({
        "name": "fuzz", "command": "true", "kind": "task", "autostart": false,
        "env": { "A": "1" }, "restart": { "mode": "never" },
        "schedule": { "every": "1h" }, "logs": { "max_size": "1MB", "max_files": 2 },
    });
    let created = runtime.block_on(call(&socket, "POST", "/api/jobs", Some(&base.to_string())));
    assert_eq!(created.status, 201, "{}", created.body);

    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        ".{0,40}".prop_map(Value::from),
        Just(Value::from("1s")),
        Just(Value::from("@daily")),
    ];
    let value = leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            prop::collection::btree_map("[a-z_]{1,12}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    });
    let mut fields = sentinel_engine::proto::JobSpec::field_names();
    fields.push("unknown_field".into());
    let mutated = (prop::sample::select(fields), value.clone()).prop_map(move |(field, v)| {
        let mut spec = base.clone();
        spec[field.as_str()] = v;
        spec.to_string().into_bytes()
    });
    let body = prop_oneof![
        prop::collection::vec(any::<u8>(), 0..300),
        value.prop_map(|v| v.to_string().into_bytes()),
        mutated,
    ];
    let routes = prop::sample::select(vec![
        ("POST", "/api/jobs"),
        ("PUT", "/api/jobs/fuzz"),
        ("POST", "/api/actions"),
        ("POST", "/api/jobs/fuzz/stop"),
        ("POST", "/api/config/import?format=json&dry_run=true"),
        ("POST", "/api/config/import?dry_run=true"),
    ]);
    let mut runner = TestRunner::new(Config {
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&(routes, body), |((method, path), body)| {
            let body = String::from_utf8_lossy(&body).into_owned();
            let reply = runtime.block_on(call(&socket, method, path, Some(&body)));
            prop_assert!(
                reply.status < 500,
                "{method} {path} {body:?}: {} {}",
                reply.status,
                reply.body
            );
            if reply.status >= 400 {
                let error: Value = serde_json::from_str(&reply.body)
                    .map_err(|e| TestCaseError::fail(format!("not JSON ({e}): {}", reply.body)))?;
                prop_assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()));
            }
            Ok(())
        })
        .unwrap();
    let health = runtime.block_on(call(&socket, "GET", "/api/health/ready", None));
    assert_eq!(health.status, 200);
    // Nothing the fuzzer sent started anything.
    assert!(t
        .engine
        .list()
        .iter()
        .all(|job| !matches!(job.state, sentinel_engine::proto::JobState::Running { .. })));
}

/// Sends raw bytes (after which the client sends nothing more) and reads until the server
/// closes the connection, within `within`.
async fn send_raw(socket: &Path, raw: &[u8], within: std::time::Duration) -> Reply {
    let mut stream = UnixStream::connect(socket).await.unwrap();
    // A server may answer (413) and close before taking all of it: read the answer anyway.
    let _ = stream.write_all(raw).await;
    let mut reply = Vec::new();
    tokio::time::timeout(within, stream.read_to_end(&mut reply))
        .await
        .unwrap_or_else(|_| {
            panic!(
                "no answer and no close within {within:?} to {:?}",
                String::from_utf8_lossy(&raw[..raw.len().min(120)])
            )
        })
        .ok();
    parse(&String::from_utf8_lossy(&reply))
}

fn head_with_length(method: &str, path: &str, length: u64) -> Vec<u8> {
    format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {length}\r\n\r\n"
    )
    .into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declared_body_over_the_limit_is_refused_before_it_is_sent() {
    use sentinel_engine::control::{BODY_LIMIT, BODY_READ_TIMEOUT};

    let t = TestEngine::new().await;
    let (_server, socket) = serve(&t).await;
    for length in [BODY_LIMIT as u64 + 1, 2_000_000, 10_000_000_000] {
        for path in ["/api/jobs", "/api/config/import", "/api/actions"] {
            let asked = std::time::Instant::now();
            // Only the head: the answer must not wait for a body that is not coming.
            let reply = send_raw(
                &socket,
                &head_with_length("POST", path, length),
                BODY_READ_TIMEOUT / 2,
            )
            .await;
            assert_eq!(reply.status, 413, "{path} {length}: {}", reply.body);
            assert_eq!(reply.json()["code"], "too_large", "{}", reply.body);
            assert!(asked.elapsed() < BODY_READ_TIMEOUT / 2);
        }
    }
    // A body sent in chunks that grows past the limit is refused as well.
    let mut chunked = b"POST /api/config/import HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for _ in 0..(BODY_LIMIT / 65536 + 2) {
        chunked.extend_from_slice(b"10000\r\n");
        chunked.extend_from_slice(&[b'#'; 65536]);
        chunked.extend_from_slice(b"\r\n");
    }
    let reply = send_raw(&socket, &chunked, DEADLINE).await;
    assert_eq!(reply.status, 413, "{}", reply.body);
    assert_eq!(reply.json()["code"], "too_large");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_does_not_arrive_in_time_gets_408_and_the_connection_is_closed() {
    use sentinel_engine::control::BODY_READ_TIMEOUT;

    let t = TestEngine::new().await;
    let (_server, socket) = serve(&t).await;
    let asked = std::time::Instant::now();
    // Ten of the hundred bytes declared; and a chunked body whose last chunk never comes.
    let mut short = head_with_length("POST", "/api/jobs", 100);
    short.extend_from_slice(b"{\"name\": \"");
    let chunked = b"POST /api/actions HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{\"all\r\n".to_vec();
    let within = BODY_READ_TIMEOUT + DEADLINE;
    let stalled = [
        tokio::spawn({
            let socket = socket.clone();
            async move { send_raw(&socket, &short, within).await }
        }),
        tokio::spawn({
            let socket = socket.clone();
            async move { send_raw(&socket, &chunked, within).await }
        }),
    ];
    // Everyone else is served meanwhile.
    assert_eq!(
        call(&socket, "GET", "/api/health/live", None).await.status,
        200
    );
    assert!(asked.elapsed() < BODY_READ_TIMEOUT);
    for stalled in stalled {
        // send_raw returns once the server has closed the connection.
        let reply = stalled.await.unwrap();
        assert_eq!(reply.status, 408, "{}", reply.body);
        assert_eq!(reply.json()["code"], "body_timeout", "{}", reply.body);
        assert!(
            reply
                .head
                .to_ascii_lowercase()
                .contains("connection: close"),
            "{}",
            reply.head
        );
    }
    let waited = asked.elapsed();
    assert!(
        waited >= BODY_READ_TIMEOUT - std::time::Duration::from_millis(500),
        "{waited:?}"
    );
    assert!(t.engine.list().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_in_requests_are_bounded_and_answers_stay_small() {
    use sentinel_engine::proto::action::MAX_SELECTED_NAMES;
    use sentinel_engine::proto::api::MAX_LISTED_ERRORS;
    use sentinel_engine::proto::config::MAX_IMPORT_JOBS;

    let t = TestEngine::new().await;
    let (_server, socket) = serve(&t).await;
    let names = |n: usize| (0..n).map(|i| format!("nobody{i}")).collect::<Vec<_>>();

    // One name too many: refused, naming the field, in a few hundred bytes.
    let stop = |names: Vec<String>| {
        json!({ "action": "stop", "selection": { "names": names } }).to_string()
    };
    let body = stop(names(MAX_SELECTED_NAMES + 1));
    let refused = call(&socket, "POST", "/api/actions", Some(&body)).await;
    assert_eq!(refused.status, 422, "{}", &refused.body[..200]);
    assert_eq!(refused.json()["field"], "selection.names");
    assert_eq!(refused.json()["code"], "invalid");
    assert!(refused.body.len() < 1024, "{}", refused.body.len());
    // As many as allowed: one result each.
    let body = stop(names(MAX_SELECTED_NAMES));
    let answered = call(&socket, "POST", "/api/actions", Some(&body)).await;
    assert_eq!(answered.status, 200);
    assert_eq!(
        answered.json().as_array().unwrap().len(),
        MAX_SELECTED_NAMES
    );
    // A name twice would be a second result for the same job.
    let twice = call(
        &socket,
        "POST",
        "/api/actions",
        Some(r#"{"action": "start", "selection": {"names": ["a", "b", "a"]}}"#),
    )
    .await;
    assert_eq!(twice.status, 422, "{}", twice.body);
    assert_eq!(twice.json()["field"], "selection.names[2]");

    // A job file with one job too many: refused as a whole, without a problem per job.
    let jobs: Vec<Value> = (0..=MAX_IMPORT_JOBS)
        .map(|i| json!({"name": format!("j{i}"), "command": "true"}))
        .collect();
    let file = json!({"version": 1, "jobs": jobs}).to_string();
    let refused = call(
        &socket,
        "POST",
        "/api/config/import?format=json&dry_run=true",
        Some(&file),
    )
    .await;
    assert_eq!(refused.status, 422, "{}", &refused.body[..200]);
    assert_eq!(refused.json()["field"], "jobs");
    assert!(refused.body.len() < 1024, "{}", refused.body.len());

    // A file with a problem in each of thousands of jobs: the first problems are listed.
    let jobs: Vec<Value> = (0..5000)
        .map(|i| json!({"name": format!("j{i}"), "command": ""}))
        .collect();
    let file = json!({"version": 1, "jobs": jobs}).to_string();
    let refused = call(
        &socket,
        "POST",
        "/api/config/import?format=json",
        Some(&file),
    )
    .await;
    assert_eq!(refused.status, 422, "{}", &refused.body[..200]);
    let error = refused.json();
    assert_eq!(error["errors"].as_array().unwrap().len(), MAX_LISTED_ERRORS);
    assert!(
        error["message"].as_str().unwrap().contains("5000 problems"),
        "{}",
        error["message"]
    );
    // And a definition with a problem in each of thousands of entries.
    let env: serde_json::Map<String, Value> = (0..5000)
        .map(|i| (format!("{i}=bad"), Value::from("x")))
        .collect();
    let spec = json!({"name": "many", "command": "true", "env": env}).to_string();
    let refused = call(&socket, "POST", "/api/jobs", Some(&spec)).await;
    assert_eq!(refused.status, 422, "{}", &refused.body[..200]);
    let error = refused.json();
    assert_eq!(error["errors"].as_array().unwrap().len(), MAX_LISTED_ERRORS);
    assert!(refused.body.len() < 64 * 1024, "{}", refused.body.len());
    assert!(t.engine.list().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_rejection_is_json_with_a_code() {
    let t = TestEngine::new().await;
    let (_server, socket) = serve(&t).await;

    // Not UTF-8 in a path parameter.
    for (method, path) in [
        ("GET", "/api/jobs/%FF"),
        ("POST", "/api/jobs/%FF/start"),
        ("GET", "/api/jobs/%FF/logs"),
        ("GET", "/api/jobs/%C3%28/ports"),
    ] {
        let reply = call(&socket, method, path, None).await;
        assert_eq!(reply.status, 400, "{path}: {}", reply.body);
        assert_eq!(reply.json()["code"], "bad_path", "{path}");
        assert_eq!(reply.json()["field"], "name", "{path}");
    }

    // A job file that is not UTF-8.
    let file = b"version = 1 # \xff\xfe\xfd\xfc\n";
    let mut raw = head_with_length("POST", "/api/config/import?dry_run=true", file.len() as u64);
    raw.extend_from_slice(file);
    let reply = send_raw(&socket, &raw, DEADLINE).await;
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert_eq!(reply.json()["code"], "bad_json");

    // A job file of 2 MB, sent whole.
    let big = format!("version = 1\n{}", "# padding\n".repeat(200_000));
    let mut raw = head_with_length("POST", "/api/config/import", big.len() as u64);
    raw.extend_from_slice(big.as_bytes());
    let reply = send_raw(&socket, &raw, DEADLINE).await;
    assert_eq!(reply.status, 413, "{}", reply.body);
    assert_eq!(reply.json()["code"], "too_large");

    // No such route, and a route without that method.
    let reply = call(&socket, "GET", "/api/nothing/here", None).await;
    assert_eq!(reply.status, 404);
    assert_eq!(reply.json()["code"], "no_route");
    let reply = call(&socket, "PATCH", "/api/jobs", Some("{}")).await;
    assert_eq!(reply.status, 405);
    assert_eq!(reply.json()["code"], "method_not_allowed");
}
