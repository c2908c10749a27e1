use super::*;

#[test]
fn status_serialises_flat_with_a_state_tag() {
    let status = JobStatus {
        name: "api".into(),
        group: None,
        project: None,
        kind: JobKind::Service,
        enabled: true,
        state: JobState::Running {
            pid: 42,
            since: DateTime::from_timestamp(0, 0).unwrap(),
        },
        restarts: 0,
        failures: 0,
        last_exit: None,
        next_run_at: None,
        health: None,
        resources: None,
        log_error: None,
        startup: None,
    };
    let json = serde_json::to_value(&status).unwrap();
    assert_eq!(json["state"], "running");
    assert_eq!(json["pid"], 42);
    assert_eq!(serde_json::from_value::<JobStatus>(json).unwrap(), status);
}

fn dependency(job: &str, condition: Condition, now: DependencyState) -> WaitReason {
    WaitReason::Dependency {
        job: job.into(),
        condition,
        now,
    }
}

#[test]
fn a_wait_reason_says_what_it_waits_for() {
    let cases = [
            (
                dependency("api", Condition::Started, DependencyState::Stopped),
                "waiting for api to be running (api is stopped)",
            ),
            (
                dependency("db", Condition::Healthy, DependencyState::Starting),
                "waiting for db to be healthy (db is starting)",
            ),
            (
                dependency(
                    "db",
                    Condition::Healthy,
                    DependencyState::Running { health: None },
                ),
                "waiting for db to be healthy (db has no health check)",
            ),
            (
                dependency(
                    "db",
                    Condition::Healthy,
                    DependencyState::Running {
                        health: Some(HealthState::Unhealthy),
                    },
                ),
                "waiting for db to be healthy (db is running, health unhealthy)",
            ),
            (
                dependency(
                    "migrate",
                    Condition::Completed,
                    DependencyState::Running {
                        health: Some(HealthState::Healthy),
                    },
                ),
                "waiting for migrate to be completed (migrate is running)",
            ),
            (
                dependency(
                    "db",
                    Condition::Started,
                    DependencyState::Failed {
                        reason: "could not start: program not found".into(),
                    },
                ),
                "waiting for db to be running (db failed: could not start: program not found)",
            ),
            (
                dependency("db", Condition::Started, DependencyState::Backoff),
                "waiting for db to be running (db is restarting after a failure)",
            ),
            (
                dependency("db", Condition::Started, DependencyState::Waiting),
                "waiting for db to be running (db is waiting too)",
            ),
            (
                dependency("db", Condition::Healthy, DependencyState::Exited),
                "waiting for db to be healthy (db has exited)",
            ),
            (
                dependency("cache", Condition::Started, DependencyState::Missing),
                "waiting for cache to be running (there is no job named cache)",
            ),
            (
                WaitReason::Port {
                    port: 8080,
                    holder: None,
                },
                "port 8080 is in use by a process this user cannot see",
            ),
            (
                WaitReason::Port {
                    port: 8080,
                    holder: Some(PortHolder {
                        pid: 9,
                        command: "nginx".into(),
                        job: Some("proxy".into()),
                        orphan: false,
                    }),
                },
                "port 8080 is in use by pid 9 (nginx) of job proxy",
            ),
            (
                WaitReason::Port {
                    port: 8000,
                    holder: Some(PortHolder {
                        pid: 3121,
                        command: "python3 -m http.server".into(),
                        job: Some("docs".into()),
                        orphan: true,
                    }),
                },
                "port 8000 is in use by pid 3121 (python3 -m http.server), left over from an earlier run of docs; `sentinel ports docs --free` stops it",
            ),
            (
                WaitReason::Port {
                    port: 8000,
                    holder: Some(PortHolder {
                        pid: 12,
                        command: "python3 -m http.server".into(),
                        job: None,
                        orphan: false,
                    }),
                },
                "port 8000 is in use by pid 12 (python3 -m http.server)",
            ),
            (
                WaitReason::Slot { max_running: 2 },
                "waiting for a free slot (max_running = 2); waiting jobs start in the order they asked",
            ),
        ];
    for (reason, words) in cases {
        assert_eq!(reason.to_string(), words);
    }
}

#[test]
fn a_waiting_status_carries_the_reason_as_data_and_in_words() {
    let since = DateTime::from_timestamp(0, 0).unwrap();
    let status = JobStatus::new(
        "web",
        JobKind::Service,
        JobState::waiting(
            dependency(
                "db",
                Condition::Healthy,
                DependencyState::Running {
                    health: Some(HealthState::Unknown),
                },
            ),
            since,
        ),
    );
    let json = serde_json::to_value(&status).unwrap();
    assert_eq!(json["state"], "waiting");
    assert_eq!(
        json["reason"],
        serde_json::json!({
            "kind": "dependency",
            "job": "db",
            "condition": "healthy",
            "now": { "state": "running", "health": "unknown" },
        })
    );
    assert_eq!(
        json["message"],
        "waiting for db to be healthy (db is running, health unknown)"
    );
    assert_eq!(serde_json::from_value::<JobStatus>(json).unwrap(), status);

    let port = serde_json::to_value(WaitReason::Port {
        port: 8080,
        holder: None,
    })
    .unwrap();
    assert_eq!(port, serde_json::json!({ "kind": "port", "port": 8080 }));
    let slot = serde_json::to_value(WaitReason::Slot { max_running: 4 }).unwrap();
    assert_eq!(
        slot,
        serde_json::json!({ "kind": "slot", "max_running": 4 })
    );
}

#[test]
fn a_dependency_state_is_read_from_its_status() {
    let now = Utc::now();
    let mut status = JobStatus::new(
        "db",
        JobKind::Service,
        JobState::Running { pid: 1, since: now },
    );
    status.health = Some(HealthState::Healthy);
    assert_eq!(
        DependencyState::of(&status),
        DependencyState::Running {
            health: Some(HealthState::Healthy)
        }
    );
    status.state = JobState::Failed {
        reason: "exit code 1".into(),
        since: now,
    };
    assert_eq!(
        DependencyState::of(&status),
        DependencyState::Failed {
            reason: "exit code 1".into()
        }
    );
    status.state = JobState::waiting(WaitReason::Slot { max_running: 1 }, now);
    assert_eq!(DependencyState::of(&status), DependencyState::Waiting);
}

#[test]
fn outcome_and_trigger_names_round_trip() {
    for outcome in [
        "success",
        "failure",
        "stopped",
        "spawn_failed",
        "interrupted",
    ] {
        assert_eq!(RunOutcome::parse(outcome).unwrap().as_str(), outcome);
    }
    for trigger in [
        "manual",
        "autostart",
        "retry",
        "restart",
        "recovery",
        "schedule",
        "catch_up",
        "memory_limit",
        "health_check",
    ] {
        assert_eq!(Trigger::parse(trigger).unwrap().as_str(), trigger);
    }
}
