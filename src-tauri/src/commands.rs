//! What the popover may ask of the app. Each command is a thin call into the same
//! `EngineHandle` the tray, the control socket and the CLI use.

use std::collections::BTreeMap;

use sentinel_engine::{BulkAction, EngineError, EngineHandle, Received};
use sentinel_proto::api::{BulkRequest, BulkResult, ErrorBody};
use sentinel_proto::monitor::HistoryPoint;
use sentinel_proto::{EngineEvent, EventEnvelope, JobStatus};
use serde::{Deserialize, Serialize};
use tauri::ipc::Channel;
use tauri::{AppHandle, Manager, Runtime, State};

/// What the popover loads once, before it follows events.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct Snapshot {
    pub jobs: Vec<JobStatus>,
    /// Recent samples per running job, for the sparklines.
    pub history: BTreeMap<String, Vec<HistoryPoint>>,
    /// The snapshot is current up to this event; older events are already in it.
    pub seq: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub enum JobAction {
    Start,
    Stop,
    Restart,
}

impl From<JobAction> for BulkAction {
    fn from(action: JobAction) -> BulkAction {
        match action {
            JobAction::Start => BulkAction::Start,
            JobAction::Stop => BulkAction::Stop,
            JobAction::Restart => BulkAction::Restart,
        }
    }
}

/// Which page the popover wants opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub enum Page {
    Logs,
    Editor,
    New,
}

/// One item of the event stream: an event, or how many the popover missed.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub enum StreamItem {
    Event(Box<EventEnvelope>),
    Missed(sentinel_proto::api::Missed),
}

/// Errors reach the UI as the API's error body: `{code, message, field?}`.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error("{0}")]
    Unavailable(String),
}

impl Serialize for AppError {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let body = match self {
            AppError::Engine(error) => ErrorBody {
                code: error.code().into(),
                message: error.to_string(),
                field: None,
                errors: Vec::new(),
            },
            AppError::Unavailable(message) => ErrorBody {
                code: "unavailable".into(),
                message: message.clone(),
                field: None,
                errors: Vec::new(),
            },
        };
        body.serialize(serializer)
    }
}

type AppResult<T> = Result<T, AppError>;

/// The engine the app hosts.
pub struct AppState {
    pub engine: EngineHandle,
}

#[tauri::command]
pub fn snapshot(state: State<'_, AppState>) -> Snapshot {
    let engine = &state.engine;
    // The sequence number first: events after it may or may not be in the snapshot, and the
    // UI applies them anyway (every event carries whole states).
    let seq = engine.last_seq();
    let jobs = engine.list();
    let history = jobs
        .iter()
        .filter_map(|job| {
            let points = engine.resource_history(&job.name).ok()?.samples;
            (!points.is_empty()).then(|| (job.name.clone(), points))
        })
        .collect();
    Snapshot { jobs, history, seq }
}

#[tauri::command]
pub async fn job_action(
    state: State<'_, AppState>,
    name: String,
    action: JobAction,
) -> AppResult<JobStatus> {
    let engine = &state.engine;
    Ok(match action {
        JobAction::Start => engine.start(&name).await?,
        JobAction::Stop => engine.stop(&name).await?,
        JobAction::Restart => engine.restart(&name).await?,
    })
}

#[tauri::command]
pub async fn group_action(
    state: State<'_, AppState>,
    group: String,
    action: JobAction,
) -> AppResult<Vec<BulkResult>> {
    let request = BulkRequest {
        group: Some(group),
        ..BulkRequest::default()
    };
    let results = state.engine.bulk(action.into(), &request).await?;
    Ok(results
        .into_iter()
        .map(|(name, result)| match result {
            Ok(status) => BulkResult {
                name,
                status: Some(status),
                error: None,
            },
            Err(error) => BulkResult {
                name,
                status: None,
                error: Some(ErrorBody {
                    code: error.code().into(),
                    message: error.to_string(),
                    field: None,
                    errors: Vec::new(),
                }),
            },
        })
        .collect())
}

/// Forwards every engine event to the popover until it goes away. Answers once subscribed, so
/// the snapshot the popover takes next misses nothing.
#[tauri::command]
pub fn subscribe<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    on_event: Channel<StreamItem>,
) {
    let mut events = state.engine.subscribe();
    tauri::async_runtime::spawn(async move {
        while let Some(received) = events.recv().await {
            let item = match received {
                // A hidden popover skips resource samples (it reloads when shown): with 500
                // jobs, drawing them cost the idle app about 9 % of a core.
                Received::Event(envelope)
                    if matches!(envelope.event, EngineEvent::ResourcesSampled { .. })
                        && !popover_visible(&app) =>
                {
                    continue
                }
                Received::Event(envelope) => StreamItem::Event(Box::new(envelope)),
                Received::Missed(count) => {
                    StreamItem::Missed(sentinel_proto::api::Missed::new(count))
                }
            };
            if on_event.send(item).is_err() {
                return;
            }
        }
    });
}

/// Opens a job's logs (the log file, in the system's viewer). The editor pages belong to the
/// settings window.
#[tauri::command]
pub fn open_settings<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    job: Option<String>,
    page: Option<Page>,
) -> AppResult<()> {
    match (page.unwrap_or(Page::Logs), job) {
        (Page::Logs, Some(job)) => crate::open_logs(&app, &state.engine, &job),
        (Page::Logs, None) => Err(AppError::Unavailable("say which job's logs to open".into())),
        (Page::Editor | Page::New, _) => Err(AppError::Unavailable(
            "the job editor lives in the settings window, which this build does not have yet; use `sentinel add` or `sentinel edit`".into(),
        )),
    }
}

fn popover_visible<R: Runtime>(app: &AppHandle<R>) -> bool {
    app.get_webview_window(crate::POPOVER)
        .and_then(|window| window.is_visible().ok())
        .unwrap_or(true)
}

#[tauri::command]
pub fn hide_popover<R: Runtime>(app: AppHandle<R>) {
    if let Some(window) = app.get_webview_window(crate::POPOVER) {
        let _ = window.hide();
    }
}

/// Every command, for the invoke handler.
pub fn handler<R: Runtime>() -> impl Fn(tauri::ipc::Invoke<R>) -> bool + Send + Sync + 'static {
    tauri::generate_handler![
        snapshot,
        job_action,
        group_action,
        subscribe,
        open_settings,
        hide_popover
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use sentinel_engine::{EngineConfig, EnginePaths};
    use serde_json::{json, Value};
    use tauri::ipc::{CallbackFn, InvokeBody};
    use tauri::test::{get_ipc_response, mock_builder, mock_context, noop_assets, MockRuntime};
    use tauri::webview::InvokeRequest;

    struct TestApp {
        _app: tauri::App<MockRuntime>,
        webview: tauri::WebviewWindow<MockRuntime>,
        engine: EngineHandle,
        _home: tempfile::TempDir,
    }

    /// The commands over mocked IPC, against a real engine in a temporary home.
    fn app() -> TestApp {
        let home = tempfile::tempdir().unwrap();
        let mut config = EngineConfig::new(EnginePaths::under(home.path()));
        config.notifiers = Some(Vec::new());
        let engine = tauri::async_runtime::block_on(EngineHandle::open(config)).unwrap();
        let app = mock_builder()
            .manage(AppState {
                engine: engine.clone(),
            })
            .invoke_handler(handler())
            .build(mock_context(noop_assets()))
            .unwrap();
        let webview = tauri::WebviewWindowBuilder::new(&app, crate::POPOVER, Default::default())
            .build()
            .unwrap();
        TestApp {
            _app: app,
            webview,
            engine,
            _home: home,
        }
    }

    fn invoke(t: &TestApp, cmd: &str, body: Value) -> Result<Value, Value> {
        get_ipc_response(
            &t.webview,
            InvokeRequest {
                cmd: cmd.into(),
                callback: CallbackFn(0),
                error: CallbackFn(1),
                url: "tauri://localhost".parse().unwrap(),
                body: InvokeBody::Json(body),
                headers: Default::default(),
                invoke_key: tauri::test::INVOKE_KEY.to_string(),
            },
        )
        .map(|body| body.deserialize::<Value>().unwrap())
    }

    fn add(t: &TestApp, name: &str, group: &str) {
        let mut spec = sentinel_proto::JobSpec::new(name, "sleep 1000");
        spec.autostart = false;
        spec.group = Some(group.into());
        tauri::async_runtime::block_on(t.engine.add(spec)).unwrap();
    }

    #[test]
    fn snapshot_then_actions_on_a_job_and_a_group() {
        let t = app();
        add(&t, "api", "web");
        add(&t, "worker", "web");
        let snapshot = invoke(&t, "snapshot", json!({})).unwrap();
        let names: Vec<&str> = snapshot["jobs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|j| j["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["api", "worker"]);
        assert!(snapshot["seq"].as_u64().unwrap() >= 2, "{snapshot}");

        let started = invoke(&t, "job_action", json!({"name": "api", "action": "start"})).unwrap();
        assert_eq!(started["state"], "running");
        assert!(started["pid"].as_u64().is_some());
        let stopped = invoke(&t, "job_action", json!({"name": "api", "action": "stop"})).unwrap();
        assert_eq!(stopped["state"], "stopped");

        let results = invoke(
            &t,
            "group_action",
            json!({"group": "web", "action": "start"}),
        )
        .unwrap();
        assert_eq!(results.as_array().unwrap().len(), 2);
        assert!(results
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["status"]["state"] == "running"));
        let results = invoke(
            &t,
            "group_action",
            json!({"group": "web", "action": "stop"}),
        )
        .unwrap();
        assert!(results
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["status"]["state"] == "stopped"));
        tauri::async_runtime::block_on(t.engine.shutdown());
    }

    #[test]
    fn errors_carry_a_code_and_a_message() {
        let t = app();
        let missing = invoke(
            &t,
            "job_action",
            json!({"name": "nope", "action": "restart"}),
        )
        .unwrap_err();
        assert_eq!(missing["code"], "not_found");
        assert_eq!(missing["message"], "no job named \"nope\"");
        let empty = invoke(
            &t,
            "group_action",
            json!({"group": "none", "action": "stop"}),
        )
        .unwrap_err();
        assert_eq!(empty["code"], "not_found");
        let bad_action =
            invoke(&t, "job_action", json!({"name": "x", "action": "explode"})).unwrap_err();
        assert!(
            bad_action.as_str().unwrap_or("").contains("explode"),
            "{bad_action}"
        );
        let editor =
            invoke(&t, "open_settings", json!({"job": "x", "page": "editor"})).unwrap_err();
        assert_eq!(editor["code"], "unavailable");
        tauri::async_runtime::block_on(t.engine.shutdown());
    }
}
