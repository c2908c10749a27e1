//! Handing a job to the OS: an equivalent launchd LaunchAgent or systemd user unit. Pure text
//! generation, tested on any platform. What the OS cannot express is returned as notes.

use plist::{Dictionary, Value};
use sentinel_proto::schedule::When;
use sentinel_proto::{JobKind, JobSpec, RestartMode};

use crate::error::CliError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum System {
    Launchd,
    Systemd,
}

pub fn render(system: System, spec: &JobSpec) -> Result<(String, Vec<String>), CliError> {
    let argv = spec
        .argv()
        .map_err(|m| CliError::Other(format!("command: {m}")))?;
    let (text, mut notes) = match system {
        System::Launchd => launchd(spec, &argv)?,
        System::Systemd => systemd(spec, &argv),
    };
    notes.extend(left_behind(system, spec));
    Ok((text, notes))
}

/// What the OS's own supervisor has no word for, so the exported job runs without it.
fn left_behind(system: System, spec: &JobSpec) -> Vec<String> {
    let mut notes = Vec::new();
    if !spec.depends_on.is_empty() {
        let jobs: Vec<&str> = spec.depends_on.iter().map(|d| d.job.as_str()).collect();
        notes.push(format!(
            "depends_on ({}) is not carried over: order the units yourself",
            jobs.join(", ")
        ));
    }
    if spec.watch.is_some() {
        notes.push("watch (restart on file changes) has no equivalent; not carried over".into());
    }
    if !spec.ports.is_empty() {
        notes.push("ports are not checked before a start; not carried over".into());
    }
    if spec.health.is_some() {
        notes.push("the health check has no equivalent; not carried over".into());
    }
    if spec.max_memory.is_some() {
        notes.push("max_memory (restart above a memory limit) is not carried over".into());
    }
    if system == System::Launchd && !spec.env_files.is_empty() {
        notes.push("launchd has no env files: put the variables in EnvironmentVariables".into());
    }
    notes
}

/// The five crontab fields when each is `*` or one number (what launchd and OnCalendar take).
fn simple_cron(expr: &str) -> Option<[Option<u64>; 5]> {
    let fields: Vec<&str> = expr.split_whitespace().collect();
    if fields.len() != 5 {
        return None;
    }
    let mut out = [None; 5];
    for (slot, field) in out.iter_mut().zip(&fields) {
        *slot = match *field {
            "*" => None,
            number => Some(number.parse().ok()?),
        };
    }
    Some(out)
}

fn launchd(spec: &JobSpec, argv: &[String]) -> Result<(String, Vec<String>), CliError> {
    let mut notes = Vec::new();
    let mut dict = Dictionary::new();
    dict.insert(
        "Label".into(),
        Value::String(format!("com.sentinelzero.{}", spec.name)),
    );
    dict.insert(
        "ProgramArguments".into(),
        Value::Array(argv.iter().cloned().map(Value::String).collect()),
    );
    if let Some(cwd) = &spec.cwd {
        dict.insert(
            "WorkingDirectory".into(),
            Value::String(cwd.display().to_string()),
        );
    }
    if !spec.env.is_empty() {
        let env: Dictionary = spec
            .env
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        dict.insert("EnvironmentVariables".into(), Value::Dictionary(env));
    }
    dict.insert(
        "RunAtLoad".into(),
        Value::Boolean(spec.autostart && spec.kind == JobKind::Service),
    );
    if spec.kind == JobKind::Service {
        let keep_alive = match spec.restart.mode {
            RestartMode::Always => Value::Boolean(true),
            RestartMode::OnFailure => {
                let mut when = Dictionary::new();
                when.insert("SuccessfulExit".into(), Value::Boolean(false));
                Value::Dictionary(when)
            }
            RestartMode::Never => Value::Boolean(false),
        };
        dict.insert("KeepAlive".into(), keep_alive);
        dict.insert(
            "ThrottleInterval".into(),
            Value::Integer(spec.restart.delay.as_secs().max(1).into()),
        );
        notes.push(
            "launchd retries at a fixed interval: backoff and max_retries are not carried over"
                .into(),
        );
    }
    if let Some(schedule) = &spec.schedule {
        match schedule.when() {
            Ok(When::Every(every)) => {
                dict.insert(
                    "StartInterval".into(),
                    Value::Integer(every.as_secs().max(1).into()),
                );
            }
            Ok(When::Cron { source, .. }) => match simple_cron(&source) {
                Some(fields) => {
                    let mut calendar = Dictionary::new();
                    for (key, value) in ["Minute", "Hour", "Day", "Month", "Weekday"]
                        .iter()
                        .zip(fields)
                    {
                        if let Some(value) = value {
                            calendar.insert((*key).into(), Value::Integer(value.into()));
                        }
                    }
                    dict.insert("StartCalendarInterval".into(), Value::Dictionary(calendar));
                }
                None => notes.push(format!(
                    "the cron expression {source:?} has no StartCalendarInterval equivalent"
                )),
            },
            Ok(When::At(_)) => notes.push("one-time schedules have no launchd equivalent".into()),
            Err((_, message)) => notes.push(message),
        }
    }
    dict.insert(
        "ExitTimeOut".into(),
        Value::Integer(spec.stop_timeout.as_secs().max(1).into()),
    );
    if let Some(nice) = spec.nice {
        dict.insert("Nice".into(), Value::Integer(i64::from(nice).into()));
    }
    if !spec.rlimits.is_empty() {
        let mut limits = Dictionary::new();
        if let Some(files) = spec.rlimits.nofile {
            limits.insert("NumberOfFiles".into(), Value::Integer(files.into()));
        }
        if let Some(bytes) = spec.rlimits.core {
            limits.insert("Core".into(), Value::Integer(bytes.into()));
        }
        dict.insert(
            "SoftResourceLimits".into(),
            Value::Dictionary(limits.clone()),
        );
        dict.insert("HardResourceLimits".into(), Value::Dictionary(limits));
    }
    let logs = format!("~/Library/Logs/SentinelZero/{}.log", spec.name);
    notes.push(format!(
        "launchd does not expand ~: set StandardOutPath yourself if you want logs (e.g. {logs})"
    ));
    let mut out = Vec::new();
    Value::Dictionary(dict)
        .to_writer_xml(&mut out)
        .map_err(|err| CliError::Other(format!("cannot write the plist: {err}")))?;
    let mut text = String::from_utf8_lossy(&out).into_owned();
    text.push('\n');
    Ok((text, notes))
}

/// Quotes one argument for ExecStart= (systemd's own quoting, close to the shell's).
fn systemd_quote(arg: &str) -> String {
    if !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-=:,+@".contains(c))
    {
        return arg.to_string();
    }
    let escaped = arg
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('$', "$$")
        .replace('%', "%%");
    format!("\"{escaped}\"")
}

fn systemd(spec: &JobSpec, argv: &[String]) -> (String, Vec<String>) {
    let mut notes = Vec::new();
    let mut unit = format!(
        "[Unit]\nDescription={} (from SentinelZero)\n\n[Service]\n",
        spec.name
    );
    let kind = if spec.kind == JobKind::Task {
        "oneshot"
    } else {
        "simple"
    };
    unit.push_str(&format!("Type={kind}\n"));
    unit.push_str(&format!(
        "ExecStart={}\n",
        argv.iter()
            .map(|a| systemd_quote(a))
            .collect::<Vec<_>>()
            .join(" ")
    ));
    if let Some(cwd) = &spec.cwd {
        unit.push_str(&format!("WorkingDirectory={}\n", cwd.display()));
    }
    // Env files first: systemd, like SentinelZero, lets Environment= win over them.
    for file in &spec.env_files {
        let path = match &spec.cwd {
            Some(cwd) => cwd.join(file),
            None => file.clone(),
        };
        unit.push_str(&format!("EnvironmentFile={}\n", path.display()));
    }
    for (key, value) in &spec.env {
        unit.push_str(&format!(
            "Environment={}\n",
            systemd_quote(&format!("{key}={value}"))
        ));
    }
    if let Some(nice) = spec.nice {
        unit.push_str(&format!("Nice={nice}\n"));
    }
    if let Some(files) = spec.rlimits.nofile {
        unit.push_str(&format!("LimitNOFILE={files}\n"));
    }
    if let Some(bytes) = spec.rlimits.core {
        unit.push_str(&format!("LimitCORE={bytes}\n"));
    }
    if spec.kind == JobKind::Service {
        let restart = match spec.restart.mode {
            RestartMode::Always => "always",
            RestartMode::OnFailure => "on-failure",
            RestartMode::Never => "no",
        };
        unit.push_str(&format!(
            "Restart={restart}\nRestartSec={}ms\n",
            spec.restart.delay.as_millis().max(100)
        ));
        if spec.restart.backoff > 1.0 {
            notes
                .push("systemd restarts at a fixed RestartSec: backoff is not carried over".into());
        }
    }
    let codes: Vec<String> = spec
        .restart
        .success_exit_codes
        .iter()
        .filter(|c| **c != 0)
        .map(i32::to_string)
        .collect();
    if !codes.is_empty() {
        unit.push_str(&format!("SuccessExitStatus={}\n", codes.join(" ")));
    }
    unit.push_str(&format!(
        "KillMode=control-group\nKillSignal=SIG{}\nTimeoutStopSec={}\n",
        spec.stop_signal.as_str(),
        spec.stop_timeout.as_secs().max(1)
    ));
    let timer = spec
        .schedule
        .as_ref()
        .and_then(|schedule| match schedule.when() {
            Ok(When::Every(every)) => Some(format!(
                "OnActiveSec={0}s\nOnUnitActiveSec={0}s\n",
                every.as_secs().max(1)
            )),
            Ok(When::Cron { source, .. }) => match simple_cron(&source) {
                Some([minute, hour, day, month, weekday]) => {
                    let part = |v: Option<u64>, width: usize| {
                        v.map_or("*".to_string(), |v| format!("{v:0width$}"))
                    };
                    let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
                    let weekday = weekday
                        .map(|d| format!("{} ", days[(d as usize).min(7)]))
                        .unwrap_or_default();
                    Some(format!(
                        "OnCalendar={weekday}*-{}-{} {}:{}:00\nPersistent={}\n",
                        part(month, 2),
                        part(day, 2),
                        part(hour, 2),
                        part(minute, 2),
                        schedule.missed == sentinel_proto::schedule::MissedPolicy::RunOnce
                    ))
                }
                None => {
                    notes.push(format!(
                        "the cron expression {source:?} needs a hand-written OnCalendar="
                    ));
                    None
                }
            },
            Ok(When::At(at)) => Some(format!(
                "OnCalendar={}\n",
                at.format("%Y-%m-%d %H:%M:%S UTC")
            )),
            Err((_, message)) => {
                notes.push(message);
                None
            }
        });
    match timer {
        Some(timer) => {
            unit.push_str(&format!(
                "\n# ---- {name}.timer ----\n[Unit]\nDescription=Schedule of {name}\n\n[Timer]\n{timer}\n[Install]\nWantedBy=timers.target\n",
                name = spec.name
            ));
        }
        None => unit.push_str("\n[Install]\nWantedBy=default.target\n"),
    }
    (unit, notes)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use sentinel_proto::schedule::ScheduleSpec;

    use super::*;

    fn service() -> JobSpec {
        let mut spec = JobSpec::new("api", "node server.js --title 'my api'");
        spec.cwd = Some("/srv/api".into());
        spec.env.insert("PORT".into(), "8080".into());
        spec.restart.mode = RestartMode::Always;
        spec.restart.delay = Duration::from_secs(2);
        spec
    }

    #[test]
    fn a_service_becomes_a_keep_alive_agent() {
        let (plist, notes) = render(System::Launchd, &service()).unwrap();
        let value = Value::from_reader(std::io::Cursor::new(plist.as_bytes())).unwrap();
        let dict = value.as_dictionary().unwrap();
        assert_eq!(dict["Label"].as_string(), Some("com.sentinelzero.api"));
        let args: Vec<&str> = dict["ProgramArguments"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_string)
            .collect();
        assert_eq!(args, vec!["node", "server.js", "--title", "my api"]);
        assert_eq!(dict["KeepAlive"].as_boolean(), Some(true));
        assert_eq!(dict["RunAtLoad"].as_boolean(), Some(true));
        assert_eq!(
            dict["EnvironmentVariables"].as_dictionary().unwrap()["PORT"].as_string(),
            Some("8080")
        );
        assert!(notes.iter().any(|n| n.contains("backoff")));
    }

    #[test]
    fn a_scheduled_task_gets_a_calendar_interval_or_a_timer() {
        let mut task = JobSpec::new("backup", "rsync -a /a /b");
        task.kind = JobKind::Task;
        task.schedule = Some(ScheduleSpec {
            cron: Some("30 2 * * 1".into()),
            ..Default::default()
        });
        let (plist, _) = render(System::Launchd, &task).unwrap();
        let value = Value::from_reader(std::io::Cursor::new(plist.as_bytes())).unwrap();
        let calendar = value.as_dictionary().unwrap()["StartCalendarInterval"]
            .as_dictionary()
            .unwrap()
            .clone();
        assert_eq!(calendar["Minute"].as_unsigned_integer(), Some(30));
        assert_eq!(calendar["Hour"].as_unsigned_integer(), Some(2));
        assert_eq!(calendar["Weekday"].as_unsigned_integer(), Some(1));
        let (unit, _) = render(System::Systemd, &task).unwrap();
        assert!(
            unit.contains("Type=oneshot\nExecStart=rsync -a /a /b\n"),
            "{unit}"
        );
        assert!(
            unit.contains("OnCalendar=Mon *-*-* 02:30:00\nPersistent=true"),
            "{unit}"
        );
    }

    #[test]
    fn a_service_becomes_a_systemd_unit() {
        let (unit, notes) = render(System::Systemd, &service()).unwrap();
        assert!(
            unit.contains("ExecStart=node server.js --title \"my api\"\n"),
            "{unit}"
        );
        assert!(
            unit.contains("WorkingDirectory=/srv/api\nEnvironment=PORT=8080\n"),
            "{unit}"
        );
        assert!(
            unit.contains("Restart=always\nRestartSec=2000ms\n"),
            "{unit}"
        );
        assert!(
            unit.contains("KillMode=control-group\nKillSignal=SIGTERM\nTimeoutStopSec=10\n"),
            "{unit}"
        );
        assert!(unit.ends_with("[Install]\nWantedBy=default.target\n"));
        assert!(notes.iter().any(|n| n.contains("backoff")));
    }

    #[test]
    fn dev_stack_settings_map_where_the_os_can_and_are_named_where_it_cannot() {
        let mut spec = service();
        spec.cwd = Some("/srv/api".into());
        spec.env_files = vec![".env".into()];
        spec.nice = Some(5);
        spec.rlimits.nofile = Some(4096);
        spec.rlimits.core = Some(0);
        spec.ports = vec![8080];
        spec.depends_on = vec![sentinel_proto::Dependency {
            job: "db".into(),
            condition: sentinel_proto::Condition::Started,
            restart: false,
        }];
        spec.watch = Some(sentinel_proto::WatchSpec::default());
        let (unit, notes) = render(System::Systemd, &spec).unwrap();
        for line in [
            "EnvironmentFile=/srv/api/.env",
            "Nice=5",
            "LimitNOFILE=4096",
            "LimitCORE=0",
        ] {
            assert!(unit.contains(line), "{line} missing from\n{unit}");
        }
        for word in ["depends_on (db)", "watch", "ports"] {
            assert!(notes.iter().any(|n| n.contains(word)), "{word}: {notes:?}");
        }
        let (plist, notes) = render(System::Launchd, &spec).unwrap();
        let dict = plist::Value::from_reader_xml(plist.as_bytes())
            .unwrap()
            .into_dictionary()
            .unwrap();
        assert_eq!(dict["Nice"].as_signed_integer(), Some(5));
        let limits = dict["HardResourceLimits"].as_dictionary().unwrap();
        assert_eq!(limits["NumberOfFiles"].as_unsigned_integer(), Some(4096));
        assert!(notes.iter().any(|n| n.contains("env files")), "{notes:?}");
    }
}
