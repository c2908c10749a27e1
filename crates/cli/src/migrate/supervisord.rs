//! supervisord `[program:x]` sections.

use std::time::Duration;

use sentinel_proto::{JobSpec, RestartMode, SignalName};

use super::{job_name, Migrated};
use crate::error::CliError;

/// Settings that only concern supervisord itself or its log files.
const NOT_NEEDED: &[&str] = &[
    "stdout_logfile",
    "stderr_logfile",
    "redirect_stderr",
    "stdout_logfile_maxbytes",
    "stdout_logfile_backups",
    "stderr_logfile_maxbytes",
    "stderr_logfile_backups",
    "priority",
    "stopasgroup",
    "killasgroup",
];

pub fn parse(text: &str) -> Result<Migrated, CliError> {
    let ini = ini::Ini::load_from_str_noescape(text)
        .map_err(|err| CliError::Other(format!("not a supervisord file: {err}")))?;
    let mut migrated = Migrated::default();
    for (section, properties) in ini.iter() {
        let Some(program) = section.and_then(|s| s.strip_prefix("program:")) else {
            continue;
        };
        let name = job_name(program.trim());
        let Some(command) = properties.get("command") else {
            migrated.notes.push(format!("{name}: no command; skipped"));
            continue;
        };
        let mut job = JobSpec::new(&name, command.trim());
        // supervisord's default is to restart when the exit was unexpected.
        job.restart.mode = RestartMode::OnFailure;
        job.restart.max_retries = 3;
        job.restart.min_uptime = Duration::from_secs(1);
        for (key, value) in properties.iter() {
            let value = value.trim();
            let mut note = |why: &str| {
                migrated
                    .notes
                    .push(format!("{name}: {key} = {value} {why}"))
            };
            match key {
                "command" => {}
                "directory" => job.cwd = Some(value.into()),
                "environment" => match parse_environment(value) {
                    Some(env) => job.env.extend(env),
                    None => note("cannot be read; not carried over"),
                },
                "autostart" => job.autostart = value.eq_ignore_ascii_case("true"),
                "autorestart" => {
                    job.restart.mode = match value.to_ascii_lowercase().as_str() {
                        "true" => RestartMode::Always,
                        "false" => RestartMode::Never,
                        _ => RestartMode::OnFailure,
                    }
                }
                "exitcodes" => match value
                    .split(',')
                    .map(|c| c.trim().parse())
                    .collect::<Result<Vec<i32>, _>>()
                {
                    Ok(codes) => job.restart.success_exit_codes = codes,
                    Err(_) => note("is not a list of exit codes; not carried over"),
                },
                "startsecs" => match value.parse() {
                    Ok(secs) => job.restart.min_uptime = Duration::from_secs(secs),
                    Err(_) => note("is not a number of seconds; not carried over"),
                },
                "startretries" => match value.parse() {
                    Ok(n) => job.restart.max_retries = n,
                    Err(_) => note("is not a number; not carried over"),
                },
                "stopsignal" => match SignalName::parse(value) {
                    Ok(signal) => job.stop_signal = signal,
                    Err(_) => note("is not a stop signal; not carried over"),
                },
                "stopwaitsecs" => match value.parse::<u64>() {
                    Ok(secs) if secs > 0 => job.stop_timeout = Duration::from_secs(secs),
                    _ => note("is not a positive number of seconds; not carried over"),
                },
                key if NOT_NEEDED.contains(&key) => {}
                _ => note("has no equivalent; not carried over"),
            }
        }
        if job.command.contains("%(") {
            migrated.notes.push(format!(
                "{name}: the command uses supervisord %(…)s expansions; check it"
            ));
        }
        migrated.jobs.push(job);
    }
    Ok(migrated)
}

/// `KEY="value",KEY2="other, with comma"`.
fn parse_environment(text: &str) -> Option<Vec<(String, String)>> {
    let mut pairs = Vec::new();
    let mut rest = text.trim();
    while !rest.is_empty() {
        let (key, after) = rest.split_once('=')?;
        let after = after.trim_start();
        let (value, remaining) = if let Some(quoted) = after.strip_prefix('"') {
            let end = quoted.find('"')?;
            (quoted[..end].to_string(), &quoted[end + 1..])
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (after[..end].trim().to_string(), &after[end..])
        };
        pairs.push((key.trim().to_string(), value));
        rest = remaining
            .trim_start()
            .strip_prefix(',')
            .unwrap_or(remaining)
            .trim_start();
    }
    Some(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_program_sections() {
        let text = r#"
[supervisord]
logfile=/tmp/supervisord.log

[program:queue-worker]
command=/usr/bin/python3 -u worker.py --queue "high prio"
directory=/srv/worker
environment=QUEUE="high",GREETING="hello, world",DEBUG=1
autostart=false
autorestart=unexpected
exitcodes=0,2
startsecs=5
startretries=7
stopsignal=INT
stopwaitsecs=30
stdout_logfile=/var/log/worker.log
user=nobody

[program:web]
command=gunicorn app:app
autorestart=true
"#;
        let migrated = parse(text).unwrap();
        let worker = &migrated.jobs[0];
        assert_eq!(worker.name, "queue-worker");
        assert_eq!(
            worker.command,
            "/usr/bin/python3 -u worker.py --queue \"high prio\""
        );
        assert_eq!(worker.argv().unwrap().last().unwrap(), "high prio");
        assert_eq!(
            worker.cwd.as_deref(),
            Some(std::path::Path::new("/srv/worker"))
        );
        assert_eq!(worker.env["GREETING"], "hello, world");
        assert_eq!(worker.env["DEBUG"], "1");
        assert!(!worker.autostart);
        assert_eq!(worker.restart.mode, RestartMode::OnFailure);
        assert_eq!(worker.restart.success_exit_codes, vec![0, 2]);
        assert_eq!(worker.restart.min_uptime, Duration::from_secs(5));
        assert_eq!(worker.restart.max_retries, 7);
        assert_eq!(worker.stop_signal.as_str(), "INT");
        assert_eq!(worker.stop_timeout, Duration::from_secs(30));
        assert_eq!(migrated.jobs[1].restart.mode, RestartMode::Always);
        assert_eq!(
            migrated.notes,
            vec!["queue-worker: user = nobody has no equivalent; not carried over"]
        );
        for job in &migrated.jobs {
            job.validate().unwrap();
        }
    }
}
