//! What the popover may ask of the app. Each command is a thin call into the same
//! `EngineHandle` the tray, the control socket and the CLI use.

use std::collections::BTreeMap;

use sentinel_engine::{BulkAction, EngineError, EngineHandle, Received};
use sentinel_proto::api::{BulkRequest, BulkResult, ErrorBody};
use sentinel_proto::monitor::HistoryPoint;
use sentinel_proto::{EventEnvelope, JobStatus};
use serde::{Deserialize, Serialize};
use tauri::ipc::Channel;
use tauri::{AppHandle, Manager, Runtime, State};

/// What the popover loads once, before it follows events.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Snapshot {
    pub jobs: Vec<JobStatus>,
    /// Recent samples per running job, for the sparklines.
    pub history: BTreeMap<String, Vec<HistoryPoint>>,
    /// The snapshot is current up to this event; older events are already in it.
    pub seq: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
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
pub enum Page {
    Logs,
    Editor,
    New,
}

/// One item of the event stream: an event, or how many the popover missed.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
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
pub fn subscribe(state: State<'_, AppState>, on_event: Channel<StreamItem>) {
    let mut events = state.engine.subscribe();
    tauri::async_runtime::spawn(async move {
        while let Some(received) = events.recv().await {
            let item = match received {
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
