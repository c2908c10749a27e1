//! Dev-stack listings: who holds jobs' ports, what freeing them did, and a job's environment
//! with where each variable comes from.

use sentinel_proto::stack::{EnvSource, EnvVar, FreedPorts, JobPorts};

/// One line per declared port: who holds it, and whether the engine may stop that.
pub fn ports_table(jobs: &[JobPorts]) -> String {
    let mut out = format!(
        "{:<20}  {:<5}  {:<8}  {}\n",
        "JOB", "PORT", "PID", "HELD BY"
    );
    for job in jobs {
        for port in &job.ports {
            let mut rows: Vec<(String, String)> = Vec::new();
            if port.own {
                rows.push(("-".into(), "this job (running)".into()));
            }
            for holder in &port.holders {
                let whose = match (&holder.job, holder.orphan) {
                    (_, true) => " [orphan of an earlier run; --free stops it]".to_string(),
                    (Some(other), false) => format!(" [job {other}]"),
                    (None, false) => String::new(),
                };
                rows.push((holder.pid.to_string(), format!("{}{whose}", holder.command)));
            }
            if rows.is_empty() {
                rows.push((
                    "-".into(),
                    if port.in_use {
                        "a process this user cannot see".into()
                    } else {
                        "free".into()
                    },
                ));
            }
            for (pid, what) in rows {
                out.push_str(&format!(
                    "{:<20}  {:<5}  {pid:<8}  {what}\n",
                    job.job, port.port
                ));
            }
        }
    }
    out
}

/// What freeing ports did, in words.
pub fn freed_ports(freed: &FreedPorts) -> String {
    let mut out = String::new();
    for holder in &freed.stopped {
        out.push_str(&format!(
            "stopped pid {} ({}), left over from an earlier run of {}\n",
            holder.pid, holder.command, freed.job
        ));
    }
    for holder in &freed.kept {
        out.push_str(&format!(
            "left pid {} ({}) alone: it is not {}'s own\n",
            holder.pid, holder.command, freed.job
        ));
    }
    if out.is_empty() {
        out = format!("{}: no leftover process holds its ports\n", freed.job);
    }
    out
}

/// `KEY=value   # from .env (overrides …)`, one variable per line.
pub fn env_listing(vars: &[EnvVar]) -> String {
    let source = |source: &EnvSource| match source {
        EnvSource::Spec => "env".to_string(),
        EnvSource::File(path) => path.display().to_string(),
    };
    let lines: Vec<(String, String)> = vars
        .iter()
        .map(|var| {
            let mut from = format!("from {}", source(&var.source));
            if var.secret {
                from.push_str(", secret");
            }
            if !var.overrides.is_empty() {
                let earlier: Vec<String> = var.overrides.iter().map(source).collect();
                from.push_str(&format!(", overrides {}", earlier.join(", ")));
            }
            (format!("{}={}", var.key, var.value), from)
        })
        .collect();
    let width = lines
        .iter()
        .map(|(kv, _)| kv.chars().count())
        .max()
        .unwrap_or(0);
    lines
        .into_iter()
        .map(|(kv, from)| format!("{kv:<width$}  # {from}\n"))
        .collect()
}
