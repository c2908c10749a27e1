//! When a process restarts, runs on a schedule, and how it is stopped.

use sentinel_proto::schedule::ScheduleSpec;
use sentinel_proto::{JobSpec, RestartMode, SignalName};
use serde::Deserialize;
use serde_norway::{Mapping, Value};

use super::{is_off, seconds, show, Notes, Process};

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct Availability {
    restart: Option<String>,
    backoff_seconds: Option<i64>,
    max_restarts: Option<i64>,
    #[serde(flatten)]
    other: Mapping,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct Schedule {
    cron: Option<String>,
    interval: Option<String>,
    max_concurrent: Option<i64>,
    #[serde(flatten)]
    other: Mapping,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct Shutdown {
    signal: Option<Value>,
    timeout_seconds: Option<i64>,
    #[serde(flatten)]
    other: Mapping,
}

pub(super) fn restart(job: &mut JobSpec, process: &Process, notes: &mut Notes) {
    // Without `availability` process-compose runs a process once.
    job.restart.mode = RestartMode::Never;
    // process-compose retries forever unless max_restarts says otherwise, at a constant pace.
    job.restart.max_retries = 0;
    job.restart.backoff = 1.0;
    if !process.success_exit_codes.is_empty() {
        let mut codes = vec![0];
        for code in &process.success_exit_codes {
            match i32::try_from(*code) {
                Ok(code) if !codes.contains(&code) => codes.push(code),
                Ok(_) => {}
                Err(_) => notes.push(format!(
                    "success_exit_codes: {code} is not an exit code; not carried over"
                )),
            }
        }
        job.restart.success_exit_codes = codes;
    }
    let Some(availability) = &process.availability else {
        return;
    };
    notes.unmapped("availability", &availability.other);
    match availability.restart.as_deref() {
        None | Some("no") => {}
        Some("always") => job.restart.mode = RestartMode::Always,
        Some("on_failure") => job.restart.mode = RestartMode::OnFailure,
        Some("exit_on_failure") => notes.push(
            "availability.restart = exit_on_failure: sentinel does not stop every job when one fails; it is not restarted",
        ),
        Some(other) => notes.push(format!(
            "availability.restart = {other:?} is unknown; it is not restarted"
        )),
    }
    if let Some(delay) = seconds(availability.backoff_seconds, 0) {
        job.restart.delay = delay;
        job.restart.max_delay = job.restart.max_delay.max(delay);
    }
    match availability.max_restarts.map(u32::try_from) {
        None => {}
        Some(Ok(n)) => job.restart.max_retries = n,
        Some(Err(_)) => notes.push(format!(
            "availability.max_restarts = {} is not a count; not carried over",
            availability.max_restarts.unwrap_or_default()
        )),
    }
}

pub(super) fn schedule_spec(schedule: &Schedule, notes: &mut Notes) -> Option<ScheduleSpec> {
    notes.unmapped("schedule", &schedule.other);
    if schedule.max_concurrent.is_some_and(|n| n > 1) {
        notes.push("schedule.max_concurrent: one run at a time here; a fire time that finds it running is skipped");
    }
    let cron = schedule.cron.clone().filter(|c| !c.trim().is_empty());
    let every = match schedule
        .interval
        .as_deref()
        .filter(|i| !i.trim().is_empty())
    {
        None => None,
        Some(_) if cron.is_some() => {
            notes.push(
                "schedule.interval is not carried over: a task has one schedule, and cron is kept",
            );
            None
        }
        Some(interval) => match sentinel_proto::duration::parse(interval) {
            Ok(every) => Some(every),
            Err(err) => {
                notes.push(format!("schedule.interval: {err}; not carried over"));
                None
            }
        },
    };
    if cron.is_none() && every.is_none() {
        return None;
    }
    Some(ScheduleSpec {
        cron,
        every,
        ..ScheduleSpec::default()
    })
}

/// Signal numbers that are the same on macOS and Linux.
pub(super) fn signal_name(number: i64) -> Option<&'static str> {
    Some(match number {
        1 => "HUP",
        2 => "INT",
        3 => "QUIT",
        9 => "KILL",
        14 => "ALRM",
        15 => "TERM",
        _ => return None,
    })
}

pub(super) fn stop(job: &mut JobSpec, shutdown: &Shutdown, notes: &mut Notes) {
    notes.unmapped("shutdown", &shutdown.other);
    if let Some(signal) = &shutdown.signal {
        let parsed = match signal {
            Value::Number(n) => n
                .as_i64()
                .and_then(signal_name)
                .and_then(|name| SignalName::parse(name).ok()),
            Value::String(name) => SignalName::parse(name).ok(),
            _ => None,
        };
        match parsed {
            Some(signal) => job.stop_signal = signal,
            None if is_off(signal) => {}
            None => notes.push(format!(
                "shutdown.signal = {} is not carried over: use HUP (1), INT (2), QUIT (3), KILL (9), ALRM (14) or TERM (15)",
                show(signal)
            )),
        }
    }
    if let Some(timeout) = seconds(shutdown.timeout_seconds, 1) {
        job.stop_timeout = timeout;
    }
}
