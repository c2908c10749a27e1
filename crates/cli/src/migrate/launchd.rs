//! launchd property lists (LaunchAgents and LaunchDaemons).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use plist::{Dictionary, Value};
use sentinel_proto::schedule::ScheduleSpec;
use sentinel_proto::{JobKind, JobSpec, RestartMode};

use super::{job_name, join, Migrated};
use crate::error::CliError;

/// Keys that only concern launchd's own bookkeeping.
const NOT_NEEDED: &[&str] = &["ProcessType", "LimitLoadToSessionType"];

pub fn parse(bytes: &[u8], path: &Path) -> Result<Migrated, CliError> {
    let value = Value::from_reader(std::io::Cursor::new(bytes)).map_err(|err| {
        CliError::Other(format!("{} is not a property list: {err}", path.display()))
    })?;
    let dict = value.as_dictionary().ok_or_else(|| {
        CliError::Other(format!(
            "{} is not a launchd job (no dictionary)",
            path.display()
        ))
    })?;
    let mut migrated = Migrated::default();
    let label = dict
        .get("Label")
        .and_then(Value::as_string)
        .unwrap_or("job");
    let name = job_name(label);
    let argv: Vec<String> = match (
        dict.get("ProgramArguments").and_then(Value::as_array),
        dict.get("Program").and_then(Value::as_string),
    ) {
        (Some(args), _) => args
            .iter()
            .filter_map(Value::as_string)
            .map(str::to_string)
            .collect(),
        (None, Some(program)) => vec![program.to_string()],
        (None, None) => {
            migrated.notes.push(format!(
                "{name}: neither Program nor ProgramArguments; skipped"
            ));
            return Ok(migrated);
        }
    };
    let mut job = JobSpec::new(&name, join(&argv)?);
    job.restart.mode = RestartMode::Never;
    job.autostart = false;
    for (key, value) in dict {
        let mut note = |why: String| migrated.notes.push(format!("{name}: {key} {why}"));
        match key.as_str() {
            "Label" | "Program" | "ProgramArguments" => {}
            "WorkingDirectory" => job.cwd = value.as_string().map(Into::into),
            "EnvironmentVariables" => {
                for (k, v) in value.as_dictionary().into_iter().flatten() {
                    if let Some(v) = v.as_string() {
                        job.env.insert(k.clone(), v.to_string());
                    }
                }
            }
            "RunAtLoad" => job.autostart = value.as_boolean().unwrap_or(false),
            "KeepAlive" => match value {
                Value::Boolean(true) => job.restart.mode = RestartMode::Always,
                Value::Boolean(false) => {}
                Value::Dictionary(conditions) => {
                    for (condition, setting) in conditions {
                        match (condition.as_str(), setting.as_boolean()) {
                            // Keep it alive while it does not exit successfully.
                            ("SuccessfulExit", Some(false)) => {
                                job.restart.mode = RestartMode::OnFailure
                            }
                            ("SuccessfulExit", Some(true)) => {
                                job.restart.mode = RestartMode::Always;
                                note("SuccessfulExit = true (restart only after success) is kept as restart = always".into());
                            }
                            _ => note(format!(
                                "condition {condition} has no equivalent; not carried over"
                            )),
                        }
                    }
                }
                _ => note("is not a boolean or a dictionary; not carried over".into()),
            },
            "StartInterval" => match value.as_unsigned_integer() {
                Some(secs) if secs > 0 => {
                    job.kind = JobKind::Task;
                    job.schedule = Some(ScheduleSpec {
                        every: Some(Duration::from_secs(secs)),
                        ..Default::default()
                    });
                }
                _ => note("is not a positive number of seconds; not carried over".into()),
            },
            "StartCalendarInterval" => match calendar_to_cron(value) {
                Ok((cron, leftover)) => {
                    job.kind = JobKind::Task;
                    job.schedule = Some(ScheduleSpec {
                        cron: Some(cron),
                        ..Default::default()
                    });
                    if let Some(leftover) = leftover {
                        note(leftover);
                    }
                }
                Err(why) => note(why),
            },
            "ThrottleInterval" => match value.as_unsigned_integer() {
                Some(secs) => {
                    job.restart.delay = Duration::from_secs(secs);
                    job.restart.backoff = 1.0;
                    job.restart.max_delay = job.restart.max_delay.max(job.restart.delay);
                }
                None => note("is not a number; not carried over".into()),
            },
            "Nice" => match value.as_signed_integer() {
                Some(nice) if (-20..=19).contains(&nice) => job.nice = Some(nice as i32),
                _ => note("is not a number from -20 to 19; not carried over".into()),
            },
            // A disabled agent stays disabled: kept, never started.
            "Disabled" => match value.as_boolean() {
                Some(disabled) => job.enabled = !disabled,
                None => note("is not a boolean; not carried over".into()),
            },
            "ExitTimeOut" => match value.as_unsigned_integer() {
                Some(secs) if secs > 0 => job.stop_timeout = Duration::from_secs(secs),
                _ => note("is not a positive number; not carried over".into()),
            },
            "StandardOutPath" | "StandardErrorPath" => note(format!(
                "= {} is not used: SentinelZero keeps the job's output in its own rotated log",
                value.as_string().unwrap_or("?")
            )),
            key if NOT_NEEDED.contains(&key) => {}
            _ => note("has no equivalent; not carried over".into()),
        }
    }
    if job.kind == JobKind::Task && job.restart.mode == RestartMode::Always {
        job.restart.mode = RestartMode::OnFailure;
    }
    migrated.jobs.push(job);
    Ok(migrated)
}

const FIELDS: [(&str, usize); 5] = [
    ("Minute", 0),
    ("Hour", 1),
    ("Day", 2),
    ("Month", 3),
    ("Weekday", 4),
];

/// One cron expression for a calendar interval (a dictionary, or an array of them that differ
/// in one field). Returns what could not be expressed, if anything.
fn calendar_to_cron(value: &Value) -> Result<(String, Option<String>), String> {
    let entries: Vec<&Dictionary> = match value {
        Value::Dictionary(one) => vec![one],
        Value::Array(many) => many.iter().filter_map(Value::as_dictionary).collect(),
        _ => return Err("is not a dictionary or an array of them; not carried over".into()),
    };
    let fields: Vec<[Option<u64>; 5]> = entries
        .iter()
        .map(|entry| {
            let mut fields = [None; 5];
            for (key, index) in FIELDS {
                fields[index] = entry.get(key).and_then(Value::as_unsigned_integer);
            }
            fields
        })
        .collect();
    let Some(first) = fields.first() else {
        return Err("is empty; not carried over".into());
    };
    let differing: Vec<usize> = (0..5)
        .filter(|&i| fields.iter().any(|f| f[i] != first[i]))
        .collect();
    let render = |value: Option<u64>| value.map_or("*".to_string(), |v| v.to_string());
    let mut cron: Vec<String> = first.iter().copied().map(render).collect();
    let mut leftover = None;
    match differing.as_slice() {
        [] => {}
        [field] if fields.iter().all(|f| f[*field].is_some()) => {
            let values: BTreeMap<u64, ()> = fields
                .iter()
                .filter_map(|f| f[*field])
                .map(|v| (v, ()))
                .collect();
            cron[*field] = values
                .keys()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(",");
        }
        _ => {
            leftover = Some(format!(
                "has {} entries that differ in several fields; only the first ({}) is carried over",
                fields.len(),
                cron.join(" ")
            ))
        }
    }
    Ok((cron.join(" "), leftover))
}

#[cfg(test)]
mod tests {
    use super::*;

    const AGENT: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
    <key>Label</key><string>com.example.sync</string>
    <key>ProgramArguments</key>
    <array><string>/usr/local/bin/rclone</string><string>sync</string><string>/Users/me/My Docs</string><string>remote:docs</string></array>
    <key>WorkingDirectory</key><string>/Users/me</string>
    <key>EnvironmentVariables</key><dict><key>RCLONE_CONFIG</key><string>/Users/me/.rclone.conf</string></dict>
    <key>StartCalendarInterval</key>
    <array>
        <dict><key>Hour</key><integer>9</integer><key>Minute</key><integer>0</integer></dict>
        <dict><key>Hour</key><integer>17</integer><key>Minute</key><integer>0</integer></dict>
    </array>
    <key>StandardOutPath</key><string>/tmp/sync.log</string>
    <key>Nice</key><integer>10</integer>
</dict>
</plist>"#;

    const SERVICE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<plist version="1.0"><dict>
    <key>Label</key><string>dev.ollama</string>
    <key>Program</key><string>/usr/local/bin/ollama</string>
    <key>RunAtLoad</key><true/>
    <key>KeepAlive</key><dict><key>SuccessfulExit</key><false/></dict>
    <key>Disabled</key><true/>
</dict></plist>"#;

    #[test]
    fn a_calendar_agent_becomes_a_scheduled_task() {
        let migrated = parse(AGENT.as_bytes(), Path::new("sync.plist")).unwrap();
        let job = &migrated.jobs[0];
        assert_eq!(job.name, "com.example.sync");
        assert_eq!(
            job.argv().unwrap(),
            vec![
                "/usr/local/bin/rclone",
                "sync",
                "/Users/me/My Docs",
                "remote:docs"
            ]
        );
        assert_eq!(job.kind, JobKind::Task);
        assert_eq!(
            job.schedule.as_ref().unwrap().cron.as_deref(),
            Some("0 9,17 * * *")
        );
        assert_eq!(job.env["RCLONE_CONFIG"], "/Users/me/.rclone.conf");
        assert_eq!(migrated.notes, vec![
            "com.example.sync: StandardOutPath = /tmp/sync.log is not used: SentinelZero keeps the job's output in its own rotated log",
        ]);
        assert_eq!(job.nice, Some(10));
        assert!(job.enabled);
        job.validate().unwrap();
    }

    #[test]
    fn keep_alive_on_failure_becomes_a_service() {
        let migrated = parse(SERVICE.as_bytes(), Path::new("ollama.plist")).unwrap();
        let job = &migrated.jobs[0];
        assert_eq!(job.command, "/usr/local/bin/ollama");
        assert!(!job.enabled, "Disabled = true is kept");
        assert_eq!(job.kind, JobKind::Service);
        assert_eq!(job.restart.mode, RestartMode::OnFailure);
        assert!(job.autostart);
        assert!(migrated.notes.is_empty());
    }

    #[test]
    fn calendar_entries_that_differ_in_several_fields_keep_the_first_and_say_so() {
        let mut a = Dictionary::new();
        a.insert("Hour".into(), Value::Integer(9.into()));
        a.insert("Weekday".into(), Value::Integer(1.into()));
        let mut b = Dictionary::new();
        b.insert("Hour".into(), Value::Integer(10.into()));
        b.insert("Weekday".into(), Value::Integer(5.into()));
        let (cron, leftover) = calendar_to_cron(&Value::Array(vec![
            Value::Dictionary(a),
            Value::Dictionary(b),
        ]))
        .unwrap();
        assert_eq!(cron, "* 9 * * 1");
        assert!(leftover.unwrap().contains("only the first"));
    }
}
