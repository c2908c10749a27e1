//! A process's readiness and liveness as the job's one health check.

use std::time::Duration;

use sentinel_proto::monitor::{HealthCheck, Probe};
use serde::Deserialize;
use serde_norway::{Mapping, Value};

use super::{join, needs_shell, scalar, seconds, Notes, Process};

/// How long a `ready_log_line` may take to appear: process-compose waits as long as it takes,
/// and a database restoring a dump can take minutes.
const LOG_READY_WITHIN: Duration = Duration::from_secs(5 * 60);

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct ProbeConfig {
    exec: Option<ExecProbe>,
    http_get: Option<HttpProbe>,
    initial_delay_seconds: Option<i64>,
    period_seconds: Option<i64>,
    timeout_seconds: Option<i64>,
    failure_threshold: Option<i64>,
    success_threshold: Option<i64>,
    #[serde(flatten)]
    other: Mapping,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct ExecProbe {
    command: Option<String>,
    #[serde(flatten)]
    other: Mapping,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct HttpProbe {
    host: Option<String>,
    /// A string in process-compose's schema, but files write a number as often.
    port: Option<Value>,
    path: Option<String>,
    scheme: Option<String>,
    #[serde(flatten)]
    other: Mapping,
}

/// The one health check: the readiness check (what dependants wait for) when there is one,
/// else the liveness probe, which restarts the job.
pub(super) fn health(process: &Process, notes: &mut Notes) -> Option<HealthCheck> {
    let log_line = process.ready_log_line.as_deref().filter(|l| !l.is_empty());
    let readiness = match (&process.readiness_probe, log_line) {
        (Some(probe), line) => {
            if line.is_some() {
                notes.push("ready_log_line is not carried over: a job has one health check, and readiness_probe is kept");
            }
            probe_check(probe, "readiness_probe", false, notes)
        }
        (None, Some(line)) => {
            // process-compose looks for the line as a substring; ours is a regex.
            let mut check = HealthCheck::new(Probe::Log(regex::escape(line)));
            check.start_period = LOG_READY_WITHIN;
            check.restart = false;
            Some(check)
        }
        (None, None) => None,
    };
    match (readiness, &process.liveness_probe) {
        (Some(check), Some(_)) => {
            notes.push("liveness_probe is not carried over: a job has one health check, and the readiness check is kept");
            Some(check)
        }
        (Some(check), None) => Some(check),
        (None, Some(probe)) => probe_check(probe, "liveness_probe", true, notes),
        (None, None) => None,
    }
}

pub(super) fn probe_check(
    probe: &ProbeConfig,
    which: &str,
    restart: bool,
    notes: &mut Notes,
) -> Option<HealthCheck> {
    notes.unmapped(which, &probe.other);
    let kind = match (&probe.exec, &probe.http_get) {
        (Some(exec), _) => {
            notes.unmapped(&format!("{which}.exec"), &exec.other);
            let command = exec.command.as_deref().unwrap_or_default();
            if needs_shell(command) {
                // Our exec check runs without a shell, process-compose's with one.
                let argv = ["sh".to_string(), "-c".to_string(), command.to_string()];
                Probe::Exec(join(&argv).ok()?)
            } else {
                Probe::Exec(command.to_string())
            }
        }
        (None, Some(http)) => {
            notes.unmapped(&format!("{which}.http_get"), &http.other);
            let scheme = http.scheme.as_deref().unwrap_or("http");
            if !scheme.eq_ignore_ascii_case("http") {
                notes.push(format!(
                    "{which}: the {scheme} check is not carried over: health checks fetch plain http://"
                ));
                return None;
            }
            let host = http
                .host
                .as_deref()
                .filter(|h| !h.trim().is_empty())
                .unwrap_or("127.0.0.1");
            let port = http.port.as_ref().and_then(scalar).unwrap_or_default();
            let path = http.path.as_deref().unwrap_or("/");
            let slash = if path.starts_with('/') { "" } else { "/" };
            let url = if port.is_empty() {
                format!("http://{host}{slash}{path}")
            } else {
                format!("http://{host}:{port}{slash}{path}")
            };
            Probe::Http { url }
        }
        (None, None) => {
            notes.push(format!(
                "{which} has neither exec nor http_get; not carried over"
            ));
            return None;
        }
    };
    if probe.exec.is_some() && probe.http_get.is_some() {
        notes.push(format!(
            "{which}: http_get is not carried over: a check probes one thing, and exec is kept"
        ));
    }
    if probe.success_threshold.is_some_and(|n| n > 1) {
        notes.push(format!(
            "{which}.success_threshold: one passing check is enough here"
        ));
    }
    let mut check = HealthCheck::new(kind);
    // process-compose's defaults where the file says nothing: every 10s, 1s to answer, 3 failures.
    check.interval = seconds(probe.period_seconds, 1).unwrap_or(Duration::from_secs(10));
    check.timeout = seconds(probe.timeout_seconds, 1).unwrap_or(Duration::from_secs(1));
    check.retries = probe
        .failure_threshold
        .filter(|n| *n >= 1)
        .and_then(|n| u32::try_from(n).ok())
        .unwrap_or(3);
    check.start_period = seconds(probe.initial_delay_seconds, 0).unwrap_or_default();
    check.restart = restart;
    Some(check)
}
