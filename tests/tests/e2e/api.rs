//! The HTTP API itself: error bodies, limits, health, the OpenAPI document, many clients.

use std::path::PathBuf;

use sentinel_tests::*;

#[test]
fn errors_are_json_with_a_code_a_message_and_the_field() {
    let home = Home::new();
    let _daemon = home.daemon();
    let socket = home.socket();

    let malformed = request(
        &socket,
        "POST",
        "/api/jobs",
        Some(b"{\"name\": \"a\", \"command\": "),
    )
    .unwrap();
    assert_eq!(malformed.status, 400);
    let body = malformed.json();
    assert_eq!(body["code"], "bad_json");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("EOF while parsing"),
        "{body}"
    );

    let wrong_type = request(
        &socket,
        "POST",
        "/api/jobs",
        Some(br#"{"name":"a","command":"x","restart":{"max_retries":"three"}}"#),
    )
    .unwrap();
    assert_eq!(wrong_type.status, 400);
    assert_eq!(wrong_type.json()["field"], "restart.max_retries");

    let invalid = request(
        &socket,
        "POST",
        "/api/jobs",
        Some(br#"{"name":"../x","command":"echo 'a","env":{"1X":"y"}}"#),
    )
    .unwrap();
    assert_eq!(invalid.status, 422);
    let body = invalid.json();
    assert_eq!(body["code"], "invalid");
    assert_eq!(body["field"], "name");
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, vec!["name", "command", "env.1X"]);

    let huge = vec![b'x'; 2 * 1024 * 1024];
    let too_large = request(&socket, "POST", "/api/jobs", Some(&huge)).unwrap();
    assert_eq!(too_large.status, 413);
    assert_eq!(too_large.json()["code"], "too_large");

    let missing = request(&socket, "GET", "/api/jobs/ghost", None).unwrap();
    assert_eq!(
        (missing.status, missing.json()["code"].as_str().unwrap()),
        (404, "not_found")
    );
    let no_route = request(&socket, "GET", "/api/nothing-here", None).unwrap();
    assert_eq!(
        (no_route.status, no_route.json()["code"].as_str().unwrap()),
        (404, "no_route")
    );
    let method = request(&socket, "PATCH", "/api/jobs", None).unwrap();
    assert_eq!(
        (method.status, method.json()["code"].as_str().unwrap()),
        (405, "method_not_allowed")
    );

    request(
        &socket,
        "POST",
        "/api/jobs",
        Some(br#"{"name":"a","command":"true","autostart":false}"#),
    )
    .unwrap();
    let rename = request(
        &socket,
        "PUT",
        "/api/jobs/a",
        Some(br#"{"name":"b","command":"true"}"#),
    )
    .unwrap();
    assert_eq!(
        (rename.status, rename.json()["field"].as_str().unwrap()),
        (422, "name")
    );
    let created = request(
        &socket,
        "POST",
        "/api/jobs",
        Some(br#"{"name":"c","command":"true","autostart":false}"#),
    )
    .unwrap();
    assert_eq!(created.status, 201);
    let deleted = request(&socket, "DELETE", "/api/jobs/c", None).unwrap();
    assert_eq!(deleted.status, 204);
}

#[test]
fn health_probes_answer() {
    let home = Home::new();
    let _daemon = home.daemon();
    let live = request(&home.socket(), "GET", "/api/health/live", None).unwrap();
    assert_eq!(
        (live.status, live.json()["status"].as_str().unwrap()),
        (200, "ok")
    );
    let ready = request(&home.socket(), "GET", "/api/health/ready", None).unwrap();
    assert_eq!(
        (ready.status, ready.json()["status"].as_str().unwrap()),
        (200, "ready")
    );
}

fn checked_in_openapi() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/openapi.json")
}

/// The served document is the checked-in one; `UPDATE_OPENAPI=1` rewrites it after a change.
#[test]
fn the_openapi_document_is_served_and_checked_in() {
    let home = Home::new();
    let _daemon = home.daemon();
    let served = request(&home.socket(), "GET", "/api/openapi.json", None).unwrap();
    assert_eq!(served.status, 200);
    let document = served.json();
    for path in [
        "/api/jobs",
        "/api/jobs/{name}",
        "/api/jobs/{name}/logs",
        "/api/actions",
        "/api/jobs/{name}/{action}",
        "/api/events",
        "/api/health/ready",
    ] {
        assert!(
            document["paths"].get(path).is_some(),
            "{path} is not documented"
        );
    }
    let pretty = serde_json::to_string_pretty(&document).unwrap() + "\n";
    let path = checked_in_openapi();
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, &pretty).unwrap();
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(checked_in == pretty, "docs/openapi.json is out of date: run `UPDATE_OPENAPI=1 cargo test -p sentinel-tests openapi`");
}
