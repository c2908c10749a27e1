//! PM2 ecosystem files in JSON form: `{"apps": [...]}` or a bare array of apps.

use std::path::Path;
use std::time::Duration;

use sentinel_proto::{JobSpec, RestartMode, WatchSpec};
use serde_json::{Map, Value};

use super::{job_name, join, Migrated};
use crate::error::CliError;

/// Fields that mean nothing here, so a note about them would be noise.
const HARMLESS: &[&str] = &["merge_logs", "time", "log_date_format"];

pub fn parse(text: &str, dir: &Path) -> Result<Migrated, CliError> {
    let value: Value = serde_json::from_str(text)
        .map_err(|err| CliError::Other(format!("not a PM2 ecosystem file: {err}")))?;
    let apps = match &value {
        Value::Array(apps) => apps.clone(),
        Value::Object(root) => match root.get("apps") {
            Some(Value::Array(apps)) => apps.clone(),
            _ => {
                return Err(CliError::Other(
                    "a PM2 ecosystem file needs an \"apps\" list".into(),
                ))
            }
        },
        _ => {
            return Err(CliError::Other(
                "a PM2 ecosystem file is an object with \"apps\"".into(),
            ))
        }
    };
    let mut migrated = Migrated::default();
    for (index, app) in apps.iter().enumerate() {
        let Some(app) = app.as_object() else {
            migrated
                .notes
                .push(format!("apps[{index}] is not an object; skipped"));
            continue;
        };
        match app_to_job(app, dir, &mut migrated.notes) {
            Ok(job) => migrated.jobs.push(job),
            Err(note) => migrated
                .notes
                .push(format!("apps[{index}]: {note}; skipped")),
        }
    }
    Ok(migrated)
}

fn millis(value: &Value) -> Option<Duration> {
    match value {
        Value::Number(n) => n.as_u64().map(Duration::from_millis),
        Value::String(s) => s
            .parse::<u64>()
            .map(Duration::from_millis)
            .ok()
            .or_else(|| sentinel_proto::duration::parse(s).ok()),
        _ => None,
    }
}

/// PM2's sizes: bytes, or a number with K, M or G (powers of 1024), as in "300M".
fn pm2_size(value: &Value) -> Option<u64> {
    if let Some(bytes) = value.as_u64() {
        return Some(bytes);
    }
    let text = value.as_str()?.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number.parse().ok()?;
    let factor = match unit.trim().to_ascii_uppercase().trim_end_matches('B') {
        "" => 1,
        "K" => 1024,
        "M" => 1024 * 1024,
        "G" => 1024 * 1024 * 1024,
        _ => return None,
    };
    number.checked_mul(factor)
}

fn app_to_job(
    app: &Map<String, Value>,
    dir: &Path,
    notes: &mut Vec<String>,
) -> Result<JobSpec, String> {
    let script = app
        .get("script")
        .and_then(Value::as_str)
        .ok_or("no \"script\"")?;
    let name = job_name(app.get("name").and_then(Value::as_str).unwrap_or(script));
    let mut argv: Vec<String> = Vec::new();
    if let Some(interpreter) = app
        .get("interpreter")
        .and_then(Value::as_str)
        .filter(|i| *i != "none")
    {
        argv.push(interpreter.to_string());
    }
    argv.push(script.to_string());
    match app.get("args") {
        Some(Value::String(args)) => {
            argv.extend(shlex::split(args).ok_or("\"args\" has an unbalanced quote")?)
        }
        Some(Value::Array(args)) => argv.extend(args.iter().map(|a| {
            a.as_str()
                .map(str::to_string)
                .unwrap_or_else(|| a.to_string())
        })),
        _ => {}
    }
    let mut job = JobSpec::new(&name, join(&argv).map_err(|e| e.to_string())?);
    let cwd = app
        .get("cwd")
        .and_then(Value::as_str)
        .map(|c| dir.join(c))
        .unwrap_or_else(|| dir.to_path_buf());
    job.cwd = Some(cwd);
    // PM2 restarts on any exit unless told otherwise.
    job.restart.mode = RestartMode::Always;
    for (key, value) in app {
        match key.as_str() {
            "name" | "script" | "args" | "cwd" | "interpreter" => {}
            "env" => match value.as_object() {
                Some(env) => {
                    for (k, v) in env {
                        let text = v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string());
                        job.env.insert(k.clone(), text);
                    }
                }
                None => notes.push(format!("{name}: \"env\" is not an object; not carried over")),
            },
            "autorestart" => {
                if value == &Value::Bool(false) {
                    job.restart.mode = RestartMode::Never;
                }
            }
            "max_restarts" => match value.as_u64() {
                Some(n) => job.restart.max_retries = n as u32,
                None => notes.push(format!("{name}: max_restarts {value} is not a number")),
            },
            "min_uptime" => match millis(value) {
                Some(d) => job.restart.min_uptime = d,
                None => notes.push(format!("{name}: min_uptime {value} is not a duration")),
            },
            "restart_delay" => match millis(value) {
                Some(d) => {
                    job.restart.delay = d;
                    job.restart.backoff = 1.0;
                }
                None => notes.push(format!("{name}: restart_delay {value} is not a duration")),
            },
            "exp_backoff_restart_delay" => match millis(value) {
                Some(d) => {
                    job.restart.delay = d;
                    job.restart.backoff = 1.5;
                }
                None => notes.push(format!("{name}: exp_backoff_restart_delay {value} is not a duration")),
            },
            "cron_restart" => match value.as_str() {
                Some(expr) => job.restart_schedule = Some(expr.to_string()),
                None => notes.push(format!("{name}: cron_restart {value} is not an expression")),
            },
            "max_memory_restart" => match pm2_size(value) {
                Some(bytes) => job.max_memory = Some(bytes),
                None => notes.push(format!(
                    "{name}: max_memory_restart {value} is not a size such as \"300M\"; not carried over"
                )),
            },
            // PM2 watches the app's directory (`true`) or the paths given.
            "watch" => match value {
                Value::Bool(false) => {}
                Value::Bool(true) => {
                    job.watch.get_or_insert_with(WatchSpec::default);
                }
                Value::String(path) => job.watch.get_or_insert_with(WatchSpec::default).paths = vec![path.into()],
                Value::Array(paths) if paths.iter().all(Value::is_string) => {
                    job.watch.get_or_insert_with(WatchSpec::default).paths =
                        paths.iter().filter_map(Value::as_str).map(Into::into).collect();
                }
                _ => notes.push(format!("{name}: watch {value} is not true or a list of paths; not carried over")),
            },
            "ignore_watch" => match value {
                Value::String(glob) => job.watch.get_or_insert_with(WatchSpec::default).ignore = vec![glob.clone()],
                Value::Array(globs) if globs.iter().all(Value::is_string) => {
                    job.watch.get_or_insert_with(WatchSpec::default).ignore =
                        globs.iter().filter_map(Value::as_str).map(str::to_string).collect();
                }
                _ => notes.push(format!("{name}: ignore_watch {value} is not a list of patterns; not carried over")),
            },
            "watch_delay" => match millis(value) {
                Some(d) => job.watch.get_or_insert_with(WatchSpec::default).debounce = d,
                None => notes.push(format!("{name}: watch_delay {value} is not a duration")),
            },
            key if HARMLESS.contains(&key) => {}
            other => notes.push(format!("{name}: {other} = {value} has no equivalent; not carried over")),
        }
    }
    // ignore_watch and watch_delay mean nothing unless PM2 watches.
    if matches!(app.get("watch"), None | Some(Value::Bool(false))) {
        job.watch = None;
    }
    if job.restart.delay > job.restart.max_delay {
        job.restart.max_delay = job.restart.delay;
    }
    Ok(job)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_sizes_read_like_pm2() {
        assert_eq!(pm2_size(&Value::from("300M")), Some(300 << 20));
        assert_eq!(pm2_size(&Value::from("1G")), Some(1 << 30));
        assert_eq!(pm2_size(&Value::from("512K")), Some(512 << 10));
        assert_eq!(pm2_size(&Value::from(1_000_000)), Some(1_000_000));
        assert_eq!(pm2_size(&Value::from("lots")), None);
        assert_eq!(pm2_size(&Value::from("3T")), None);
    }

    #[test]
    fn watch_settings_become_a_file_watch() {
        let text = r#"[
            {"name": "web", "script": "app.js", "watch": ["src", "views"], "ignore_watch": ["*.log"], "watch_delay": 800},
            {"name": "all", "script": "app.js", "watch": true},
            {"name": "off", "script": "app.js", "watch": false, "ignore_watch": ["tmp"]}
        ]"#;
        let migrated = parse(text, Path::new("/p")).unwrap();
        let web = migrated.jobs[0].watch.as_ref().unwrap();
        assert_eq!(
            web.paths,
            vec![std::path::PathBuf::from("src"), "views".into()]
        );
        assert_eq!(web.ignore, vec!["*.log"]);
        assert_eq!(web.debounce, Duration::from_millis(800));
        assert_eq!(migrated.jobs[1].watch, Some(WatchSpec::default()));
        assert_eq!(migrated.jobs[2].watch, None);
        assert!(migrated.notes.is_empty(), "{:?}", migrated.notes);
        for job in &migrated.jobs {
            job.validate().unwrap();
        }
    }

    #[test]
    fn maps_an_ecosystem_file() {
        let text = r#"{
          "apps": [
            {"name": "api", "script": "server.js", "args": "--port 8080 --name 'my api'", "cwd": "api",
             "interpreter": "node", "env": {"NODE_ENV": "production", "WORKERS": 4},
             "max_restarts": 10, "min_uptime": "5s", "exp_backoff_restart_delay": 100,
             "cron_restart": "0 4 * * *", "max_memory_restart": "300M", "instances": 4},
            {"name": "once", "script": "./migrate.sh", "autorestart": false, "restart_delay": 3000},
            {"name": "no script"}
          ]
        }"#;
        let migrated = parse(text, Path::new("/home/me/proj")).unwrap();
        let api = &migrated.jobs[0];
        assert_eq!(api.command, "node server.js --port 8080 --name 'my api'");
        assert_eq!(api.cwd.as_deref(), Some(Path::new("/home/me/proj/api")));
        assert_eq!(api.env["WORKERS"], "4");
        assert_eq!(api.restart.mode, RestartMode::Always);
        assert_eq!(api.restart.max_retries, 10);
        assert_eq!(api.restart.min_uptime, Duration::from_secs(5));
        assert_eq!(
            (api.restart.delay, api.restart.backoff),
            (Duration::from_millis(100), 1.5)
        );
        assert_eq!(api.restart_schedule.as_deref(), Some("0 4 * * *"));
        assert_eq!(api.max_memory, Some(300 * 1024 * 1024));
        let once = &migrated.jobs[1];
        assert_eq!(once.restart.mode, RestartMode::Never);
        assert_eq!(once.restart.delay, Duration::from_secs(3));
        assert_eq!(migrated.jobs.len(), 2);
        assert_eq!(
            migrated.notes,
            vec![
                "api: instances = 4 has no equivalent; not carried over",
                "apps[2]: no \"script\"; skipped",
            ]
        );
        for job in &migrated.jobs {
            job.validate().unwrap();
        }
    }
}
