//! `sentinel runs NAME`: a job's runs, one line each, newest first.

use chrono::Local;
use sentinel_proto::RunRecord;

use super::short_duration;

pub fn runs_table(runs: &[RunRecord]) -> String {
    let mut out = format!(
        "{:<6}  {:<19}  {:<9}  {:<9}  {:<12}  {:<6}  {}\n",
        "RUN", "STARTED", "DURATION", "TRIGGER", "OUTCOME", "EXIT", "REASON"
    );
    for run in runs {
        let started = run
            .started_at
            .with_timezone(&Local)
            .format("%Y-%m-%d %H:%M:%S")
            .to_string();
        let duration = run
            .ended_at
            .map(|end| short_duration((end - run.started_at).to_std().unwrap_or_default()))
            .unwrap_or_else(|| "running".into());
        let outcome = run.outcome.map_or("running", |o| o.as_str());
        let exit = match (run.exit_code, run.signal) {
            (Some(code), _) => code.to_string(),
            (None, Some(signal)) => format!("sig {signal}"),
            _ => "-".into(),
        };
        let line = format!(
            "{:<6}  {started:<19}  {duration:<9}  {:<9}  {outcome:<12}  {exit:<6}  {}",
            run.id,
            run.trigger.as_str(),
            run.reason.as_deref().unwrap_or("")
        );
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}
