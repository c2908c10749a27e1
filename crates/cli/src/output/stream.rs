//! What streams past: an event, or a line of a job's output, one line each.

use std::time::Duration;

use chrono::Local;
use sentinel_proto::{EngineEvent, EventEnvelope, JobState, LogLine, LogStream};

use super::{short_duration, Style};

/// One event in words; `None` for resource samples, which would drown the rest.
pub fn event_line(envelope: &EventEnvelope) -> Option<String> {
    let at = envelope.at.with_timezone(&Local).format("%H:%M:%S%.3f");
    let job = envelope.event.job()?;
    let what = match &envelope.event {
        EngineEvent::JobAdded { .. } => "added".to_string(),
        EngineEvent::JobUpdated { restarted, .. } => {
            if *restarted {
                "changed, restarted".into()
            } else {
                "changed".into()
            }
        }
        EngineEvent::JobRemoved { .. } => "removed".into(),
        EngineEvent::StateChanged { status } => match &status.state {
            JobState::Running { pid, .. } => format!("running (pid {pid})"),
            JobState::Backoff {
                next_try_at,
                attempt,
            } => format!(
                "backoff, retry {attempt} in {}",
                short_duration((*next_try_at - envelope.at).to_std().unwrap_or_default())
            ),
            JobState::Failed { reason, .. } => format!("failed: {reason}"),
            JobState::Waiting { message, .. } => message.clone(),
            other => other.name().to_string(),
        },
        EngineEvent::RunStarted {
            run_id,
            pid,
            trigger,
            ..
        } => format!("run {run_id} started (pid {pid}, {})", trigger.as_str()),
        EngineEvent::RunExited {
            run_id,
            outcome,
            exit,
            ..
        } => format!(
            "run {run_id} ended: {} ({}) after {}",
            outcome.as_str(),
            exit.describe(),
            short_duration(Duration::from_millis(exit.duration_ms))
        ),
        EngineEvent::SpawnFailed { run_id, error, .. } => {
            format!("run {run_id} could not start: {error}")
        }
        EngineEvent::ScheduleSkipped {
            scheduled_at,
            reason,
            ..
        } => format!(
            "run for {} skipped: {reason}",
            scheduled_at.with_timezone(&Local).format("%H:%M:%S")
        ),
        EngineEvent::HealthChanged { health, detail, .. } => match detail {
            Some(detail) => format!("{}: {detail}", health.as_str()),
            None => health.as_str().to_string(),
        },
        EngineEvent::ResourcesSampled { .. } => return None,
    };
    Some(format!("{at}  {job}  {what}"))
}

pub fn log_line(line: &LogLine, timestamps: bool, style: &Style) -> String {
    let mut out = String::new();
    if timestamps {
        out.push_str(
            &line
                .ts
                .with_timezone(&Local)
                .format("%Y-%m-%d %H:%M:%S%.3f ")
                .to_string(),
        );
        out.push_str(line.stream.as_str());
        out.push(' ');
    }
    if line.stream == LogStream::Stderr {
        out.push_str(&style.paint("31", &line.text));
    } else {
        out.push_str(&line.text);
    }
    if !line.partial {
        out.push('\n');
    }
    out
}
