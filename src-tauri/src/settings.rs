//! What the settings window may ask of the app: job definitions (with the engine's own
//! validator, so the UI, the CLI and the API say the same thing about the same mistake), runs,
//! logs, schedule previews and the app's settings. The popover's capability grants none of it.

use std::marker::PhantomData;

use chrono::Utc;
use sentinel_app_macros::app_command;
use sentinel_proto::api::{JobDefaults, JobDetail, Missed, SchedulePreview};
use sentinel_proto::restart::RestartPreview;
use sentinel_proto::schedule;
use sentinel_proto::secret::Secrets;
use sentinel_proto::settings::Settings;
use sentinel_proto::stack::EnvVar;
use sentinel_proto::{
    FieldError, JobSpec, JobStatus, LogLine, RestartPolicy, RunRecord, SpecError,
};
use serde::{Deserialize, Serialize};
use tauri::ipc::Channel;
use tauri::{AppHandle, Manager, Runtime, State, WebviewUrl, WebviewWindowBuilder};

use crate::commands::{AppError, AppState, Page};
use sentinel_engine::EngineError;

/// The settings window's label (capabilities/settings.json).
pub const SETTINGS: &str = "settings";

/// The app-wide settings as the settings page shows them.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct AppSettings {
    pub settings: Settings,
    pub launch_at_login: bool,
    /// The bearer token of the metrics endpoint, once there is one.
    pub metrics_token: Option<String>,
    pub settings_file: String,
    /// The file differs from what the running engine uses: it applies at the next start.
    pub restart_needed: bool,
}

/// One item of a log stream: a line, or how many lines the window missed.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub enum LogItem {
    Line(LogLine),
    Missed(Missed),
}

/// JSON the UI sends as a `T`, read by the command itself rather than by Tauri: so a mistake
/// comes back as the field it is in (`restart.delay: …`), and the UI's wrapper still takes a `T`.
#[derive(Deserialize)]
#[serde(transparent)]
pub struct Unparsed<T> {
    json: serde_json::Value,
    #[serde(skip)]
    reads_as: PhantomData<T>,
}

/// A spec from the UI, read exactly as the API reads one: parse errors name their field.
fn parse_spec(spec: &Unparsed<JobSpec>) -> Result<JobSpec, Vec<FieldError>> {
    JobSpec::from_json(&spec.json.to_string()).map_err(SpecError::into_field_errors)
}

/// Every problem with a definition the editor holds, by the engine's one check (the same an
/// add or update applies); empty when it can be saved.
#[app_command]
pub fn validate_job(
    state: State<'_, AppState>,
    spec: Unparsed<JobSpec>,
    original: Option<String>,
) -> Vec<FieldError> {
    let spec = match parse_spec(&spec) {
        Ok(spec) => spec,
        Err(errors) => return errors,
    };
    match state.engine.check(&spec, original.as_deref()) {
        Ok(()) => Vec::new(),
        Err(EngineError::Invalid(errors)) => errors.0,
        Err(error) => vec![FieldError {
            field: if error.code() == "already_exists" {
                "name".into()
            } else {
                String::new()
            },
            message: error.to_string(),
        }],
    }
}

/// Creates the job (`original` absent) or replaces the definition of `original`.
#[app_command]
pub async fn save_job(
    state: State<'_, AppState>,
    spec: Unparsed<JobSpec>,
    original: Option<String>,
) -> Result<JobStatus, AppError> {
    let spec = parse_spec(&spec).map_err(AppError::Fields)?;
    Ok(match original {
        Some(original) => {
            if let Some(problem) = spec.rename_problem(&original) {
                return Err(AppError::Fields(vec![problem]));
            }
            state.engine.update(spec).await?
        }
        None => state.engine.add(spec).await?,
    })
}

#[app_command]
pub async fn delete_job(state: State<'_, AppState>, name: String) -> Result<(), AppError> {
    Ok(state.engine.remove(&name).await?)
}

/// A job's definition and status; secret values are masked unless `show_secrets` (the
/// editor sends a masked value back unchanged, and the engine keeps the real one).
#[app_command]
pub fn get_job(
    state: State<'_, AppState>,
    name: String,
    show_secrets: Option<bool>,
) -> Result<JobDetail, AppError> {
    let secrets = Secrets::shown(show_secrets.unwrap_or(false));
    Ok(state.engine.get(&name)?.with_secrets(secrets))
}

/// The variables the job's next run gets from its env files and `env`, with their sources;
/// secret values masked unless `show_secrets`.
#[app_command]
pub fn job_env(
    state: State<'_, AppState>,
    name: String,
    show_secrets: Option<bool>,
) -> Result<Vec<EnvVar>, AppError> {
    let secrets = Secrets::shown(show_secrets.unwrap_or(false));
    Ok(state.engine.job_env(&name, secrets)?)
}

#[app_command]
pub async fn job_runs(
    state: State<'_, AppState>,
    name: String,
    limit: Option<u32>,
) -> Result<Vec<RunRecord>, AppError> {
    Ok(state
        .engine
        .runs(&name, limit.unwrap_or(100).min(10_000))
        .await?)
}

#[app_command]
pub fn log_tail(
    state: State<'_, AppState>,
    name: String,
    lines: Option<usize>,
) -> Result<Vec<LogLine>, AppError> {
    Ok(state.engine.log_tail(&name, lines.unwrap_or(1000), None)?)
}

/// The last `lines` lines, then every new one, until the window goes away. Answers once
/// subscribed.
#[app_command]
pub fn follow_logs(
    state: State<'_, AppState>,
    name: String,
    lines: Option<usize>,
    on_line: Channel<LogItem>,
) -> Result<(), AppError> {
    let (tail, mut live) = state
        .engine
        .follow_logs(&name, lines.unwrap_or(1000), None)?;
    tauri::async_runtime::spawn(async move {
        for line in tail {
            if on_line.send(LogItem::Line(line)).is_err() {
                return;
            }
        }
        loop {
            let item = match live.recv().await {
                Ok(line) => LogItem::Line(line),
                Err(tokio::sync::broadcast::error::RecvError::Lagged(count)) => {
                    LogItem::Missed(Missed::new(count))
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            };
            if on_line.send(item).is_err() {
                return;
            }
        }
    });
    Ok(())
}

/// What a schedule means and when it fires next, before it is saved.
#[app_command]
pub fn schedule_preview(
    cron: Option<String>,
    every: Option<String>,
    at: Option<String>,
    n: Option<usize>,
) -> Result<SchedulePreview, AppError> {
    schedule::preview(cron, every.as_deref(), at, n, Utc::now())
        .map_err(|error| AppError::Fields(vec![error]))
}

/// What a new job starts with, and a health check or file watch once turned on: the engine's
/// defaults, so the editor keeps no copy of its own.
#[app_command]
pub fn job_defaults() -> Result<JobDefaults, AppError> {
    JobDefaults::new().map_err(|err| AppError::Unavailable(format!("the defaults: {err}")))
}

/// What a restart policy does to a failing job, in the engine's words, as the editor shows it
/// while the user types (the same text `sentinel status` prints).
#[app_command]
pub fn restart_preview(policy: Unparsed<RestartPolicy>) -> Result<RestartPreview, AppError> {
    let text = policy.json.to_string();
    let de = &mut serde_json::Deserializer::from_str(&text);
    let policy: RestartPolicy = serde_path_to_error::deserialize(de).map_err(|err| {
        AppError::Fields(vec![FieldError {
            field: format!("restart.{}", err.path())
                .trim_end_matches('.')
                .to_string(),
            message: err.into_inner().to_string(),
        }])
    })?;
    Ok(policy.preview())
}

fn home() -> Result<std::path::PathBuf, AppError> {
    directories::BaseDirs::new()
        .map(|dirs| dirs.home_dir().to_path_buf())
        .ok_or_else(|| AppError::Unavailable("cannot find your home directory".into()))
}

fn read_app_settings(state: &AppState) -> Result<AppSettings, AppError> {
    let paths = state.engine.paths();
    let file = paths.settings_file();
    let on_disk = match std::fs::read_to_string(&file) {
        Ok(text) => Settings::from_toml(&text).map_err(AppError::Fields)?,
        Err(_) => Settings::default(),
    };
    Ok(AppSettings {
        restart_needed: on_disk != *state.engine.settings(),
        settings: on_disk,
        launch_at_login: crate::login::is_enabled(&home()?),
        metrics_token: std::fs::read_to_string(paths.metrics_token())
            .ok()
            .map(|t| t.trim().to_string()),
        settings_file: file.display().to_string(),
    })
}

#[app_command]
pub fn app_settings(state: State<'_, AppState>) -> Result<AppSettings, AppError> {
    read_app_settings(&state)
}

/// Checks and writes `settings.toml` (whole, or not at all); it applies at the next start.
#[app_command]
pub fn save_settings(
    state: State<'_, AppState>,
    settings: Unparsed<Settings>,
) -> Result<AppSettings, AppError> {
    let text = settings.json.to_string();
    let de = &mut serde_json::Deserializer::from_str(&text);
    let settings: Settings = serde_path_to_error::deserialize(de).map_err(|err| {
        AppError::Fields(vec![FieldError {
            field: err.path().to_string(),
            message: err.into_inner().to_string(),
        }])
    })?;
    settings.validate().map_err(AppError::Fields)?;
    let toml = toml::to_string(&settings)
        .map_err(|err| AppError::Unavailable(format!("cannot write the settings: {err}")))?;
    let file = state.engine.paths().settings_file();
    // Written aside, then renamed over: the file is never half-written. 0600 whatever the
    // umask and never through a link: the engine refuses a settings.toml others may write.
    let partial = file.with_extension("toml.partial");
    let write = || -> std::io::Result<()> {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let _ = std::fs::remove_file(&partial);
        let mut out = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(nix::libc::O_NOFOLLOW)
            .open(&partial)?;
        out.write_all(toml.as_bytes())?;
        std::fs::rename(&partial, &file)
    };
    write()
        .map_err(|err| AppError::Unavailable(format!("cannot write {}: {err}", file.display())))?;
    read_app_settings(&state)
}

#[app_command]
pub fn set_launch_at_login(
    state: State<'_, AppState>,
    enabled: bool,
) -> Result<AppSettings, AppError> {
    let home = home()?;
    let result = if enabled {
        std::env::current_exe().and_then(|program| crate::login::enable(&home, &program))
    } else {
        crate::login::disable(&home)
    };
    result.map_err(|err| AppError::Unavailable(format!("cannot change the login item: {err}")))?;
    read_app_settings(&state)
}

/// A new metrics token; scrapers need the new one (the endpoint reads it at start).
#[app_command]
pub fn regenerate_metrics_token(state: State<'_, AppState>) -> Result<AppSettings, AppError> {
    let path = state.engine.paths().metrics_token();
    match std::fs::remove_file(&path) {
        Err(err) if err.kind() != std::io::ErrorKind::NotFound => {
            return Err(AppError::Unavailable(format!(
                "cannot replace {}: {err}",
                path.display()
            )))
        }
        _ => {}
    }
    sentinel_engine::control::ensure_metrics_token(&path).map_err(AppError::Engine)?;
    read_app_settings(&state)
}

/// The page answered a close request by staying (unsaved changes kept): the window, hidden by
/// the app on the request, comes back, and counts as watched again.
#[app_command]
pub fn keep_settings_open<R: Runtime>(app: AppHandle<R>) {
    if let Some(window) = app.get_webview_window(SETTINGS) {
        bring_back(&app, &window);
    }
}

/// Shows the settings window in front, and its figures at the full rate (`watching.rs`).
fn bring_back<R: Runtime>(app: &AppHandle<R>, window: &tauri::WebviewWindow<R>) {
    let _ = window.show();
    let _ = window.set_focus();
    crate::watching::shown(app, SETTINGS);
}

/// Opens (or brings forward) the settings window at a page.
pub fn open_window<R: Runtime>(
    app: &AppHandle<R>,
    job: Option<&str>,
    page: Page,
) -> Result<(), AppError> {
    let page_name = match page {
        Page::Logs => "logs",
        Page::Editor => "editor",
        Page::New => "new",
        Page::Runs => "runs",
        Page::App => "app",
    };
    let hash = match job {
        Some(job) => format!("job={job}&page={page_name}"),
        None => format!("page={page_name}"),
    };
    let url = format!("settings.html#{hash}");
    let unavailable = |err: tauri::Error| {
        AppError::Unavailable(format!("cannot open the settings window: {err}"))
    };
    if let Some(window) = app.get_webview_window(SETTINGS) {
        let mut current = window.url().map_err(unavailable)?;
        current.set_fragment(Some(&hash));
        window.navigate(current).map_err(unavailable)?;
        bring_back(app, &window);
        return Ok(());
    }
    WebviewWindowBuilder::new(app, SETTINGS, WebviewUrl::App(url.into()))
        .title("SentinelZero")
        .inner_size(900.0, 620.0)
        .min_inner_size(640.0, 420.0)
        .build()
        .map_err(unavailable)?;
    crate::watching::shown(app, SETTINGS);
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::testing::{app, invoke};
    use serde_json::json;
    use tauri::Manager;

    #[test]
    fn a_settings_window_kept_open_on_a_close_request_is_watched_again() {
        let t = app();
        // No settings window: nothing to bring back.
        invoke(&t, "keep_settings_open", json!({})).unwrap();
        assert!(!t.engine.resources_watched());

        let handle = t.webview.app_handle();
        let window = tauri::WebviewWindowBuilder::new(handle, super::SETTINGS, Default::default())
            .build()
            .unwrap();
        crate::watching::shown(handle, super::SETTINGS);
        assert!(t.engine.resources_watched());
        // A close request: the app hides the window and stops watching (lib.rs).
        let _ = window.hide();
        crate::watching::hidden(handle, super::SETTINGS);
        assert!(!t.engine.resources_watched());
        // The page keeps its unsaved changes: the window is back, and watched.
        invoke(&t, "keep_settings_open", json!({})).unwrap();
        assert!(t.engine.resources_watched());
    }

    fn spec(name: &str) -> serde_json::Value {
        json!({"name": name, "command": "sleep 1000", "autostart": false})
    }

    #[test]
    fn validation_speaks_like_the_api() {
        let t = app();
        let ok = invoke(
            &t,
            "validate_job",
            json!({"spec": spec("api"), "original": null}),
        )
        .unwrap();
        assert_eq!(ok, json!([]));
        let mut bad = spec("api");
        bad["restart"] = json!({"delay": "5 hours", "backoff": 1.5});
        let errors = invoke(&t, "validate_job", json!({"spec": bad, "original": null})).unwrap();
        assert_eq!(errors[0]["field"], "restart.delay");
        assert!(
            errors[0]["message"]
                .as_str()
                .unwrap()
                .contains("write each number and its unit together"),
            "{errors}"
        );
        let mut several = spec("bad name!");
        several["cwd"] = json!("relative/dir");
        let errors = invoke(
            &t,
            "validate_job",
            json!({"spec": several, "original": null}),
        )
        .unwrap();
        let fields: Vec<&str> = errors
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        assert_eq!(fields, ["name", "cwd"]);
        tauri::async_runtime::block_on(t.engine.shutdown());
    }

    #[test]
    fn save_creates_updates_refuses_renames_and_delete_removes() {
        let t = app();
        let created = invoke(
            &t,
            "save_job",
            json!({"spec": spec("api"), "original": null}),
        )
        .unwrap();
        assert_eq!(created["state"], "stopped");
        let taken = invoke(
            &t,
            "validate_job",
            json!({"spec": spec("api"), "original": null}),
        )
        .unwrap();
        assert!(taken[0]["message"]
            .as_str()
            .unwrap()
            .contains("already exists"));

        let mut changed = spec("api");
        changed["restart"] = json!({"delay": "3s", "backoff": 2.0, "max_retries": 7});
        invoke(&t, "save_job", json!({"spec": changed, "original": "api"})).unwrap();
        let detail = invoke(&t, "get_job", json!({"name": "api"})).unwrap();
        assert_eq!(detail["spec"]["restart"]["delay"], "3s");
        assert_eq!(detail["spec"]["restart"]["max_retries"], 7);

        let renamed = invoke(
            &t,
            "save_job",
            json!({"spec": spec("api2"), "original": "api"}),
        )
        .unwrap_err();
        assert_eq!(renamed["code"], "invalid");
        assert_eq!(renamed["field"], "name");
        let mut invalid = spec("api");
        invalid["stop_timeout"] = json!("0s");
        let refused =
            invoke(&t, "save_job", json!({"spec": invalid, "original": "api"})).unwrap_err();
        assert_eq!(refused["errors"][0]["field"], "stop_timeout");

        invoke(&t, "delete_job", json!({"name": "api"})).unwrap();
        let gone = invoke(&t, "get_job", json!({"name": "api"})).unwrap_err();
        assert_eq!(gone["code"], "not_found");
        tauri::async_runtime::block_on(t.engine.shutdown());
    }

    #[test]
    fn ports_and_environment_of_a_job() {
        let t = app();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(".env"), "FROM_FILE=1\n").unwrap();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let mut web = spec("web");
        web["cwd"] = json!(dir.path());
        web["env_files"] = json!([".env"]);
        web["ports"] = json!([port]);
        invoke(&t, "save_job", json!({"spec": web, "original": null})).unwrap();

        let env = invoke(&t, "job_env", json!({"name": "web"})).unwrap();
        assert_eq!(env[0]["key"], "FROM_FILE");
        assert_eq!(env[0]["source"]["kind"], "file");
        let ports = invoke(&t, "job_ports", json!({"name": "web"})).unwrap();
        assert_eq!(ports["ports"][0]["port"], port);
        assert_eq!(ports["ports"][0]["in_use"], true);
        // This test process holds it: not the job's leftover, so nothing is stopped.
        assert_eq!(ports["ports"][0]["holders"][0]["pid"], std::process::id());
        let freed = invoke(&t, "free_ports", json!({"name": "web"})).unwrap();
        assert_eq!(freed["stopped"], json!([]));
        assert_eq!(freed["kept"][0]["pid"], std::process::id());
        drop(listener);
        tauri::async_runtime::block_on(t.engine.shutdown());
    }

    #[test]
    fn runs_logs_and_schedule_previews() {
        let t = app();
        let mut echo = spec("hello");
        echo["command"] = json!("sh -c 'echo hello from the job'");
        echo["kind"] = json!("task");
        invoke(&t, "save_job", json!({"spec": echo, "original": null})).unwrap();
        invoke(
            &t,
            "act",
            json!({"action": "start", "selection": {"names": ["hello"]}}),
        )
        .unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        let runs = loop {
            let runs = invoke(&t, "job_runs", json!({"name": "hello", "limit": 10})).unwrap();
            if runs[0]["outcome"] == "success" || std::time::Instant::now() > deadline {
                break runs;
            }
            std::thread::yield_now();
        };
        assert_eq!(runs[0]["outcome"], "success");
        assert_eq!(runs[0]["trigger"], "manual");
        let lines = invoke(&t, "log_tail", json!({"name": "hello", "lines": 10})).unwrap();
        assert_eq!(lines[0]["text"], "hello from the job");
        assert_eq!(lines[0]["stream"], "stdout");

        let preview = invoke(
            &t,
            "schedule_preview",
            json!({"cron": "0 9 * * 1-5", "n": 3}),
        )
        .unwrap();
        assert_eq!(preview["next"].as_array().unwrap().len(), 3);
        assert!(
            preview["description"].as_str().unwrap().contains("Monday"),
            "{preview}"
        );
        let wrong = invoke(&t, "schedule_preview", json!({"cron": "0 25 * * *"})).unwrap_err();
        assert_eq!(wrong["field"], "schedule.cron");
        tauri::async_runtime::block_on(t.engine.shutdown());
    }

    #[test]
    fn settings_are_checked_written_whole_and_applied_at_the_next_start() {
        let t = app();
        let current = invoke(&t, "app_settings", json!({})).unwrap();
        assert_eq!(current["restart_needed"], false);
        assert_eq!(current["settings"]["monitor"]["sample_interval"], "2s");
        let mut settings = current["settings"].clone();
        settings["notifications"]["throttle"] = json!("1m");
        settings["metrics"]["port"] = json!(9464);
        let saved = invoke(&t, "save_settings", json!({"settings": settings})).unwrap();
        assert_eq!(saved["restart_needed"], true);
        let file = std::fs::read_to_string(t.home.path().join("settings.toml")).unwrap();
        assert!(
            file.contains("throttle = \"1m\"") && file.contains("port = 9464"),
            "{file}"
        );

        let mut bad = saved["settings"].clone();
        bad["monitor"]["sample_interval"] = json!("10ms");
        let refused = invoke(&t, "save_settings", json!({"settings": bad})).unwrap_err();
        assert_eq!(refused["field"], "monitor.sample_interval");
        let unchanged = std::fs::read_to_string(t.home.path().join("settings.toml")).unwrap();
        assert_eq!(unchanged, file, "a refused change writes nothing");

        let token = invoke(&t, "regenerate_metrics_token", json!({})).unwrap();
        let first = token["metrics_token"].as_str().unwrap().to_string();
        assert_eq!(first.len(), 64);
        let again = invoke(&t, "regenerate_metrics_token", json!({})).unwrap();
        assert_ne!(again["metrics_token"].as_str().unwrap(), first);
        tauri::async_runtime::block_on(t.engine.shutdown());
    }
}
