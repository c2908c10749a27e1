//! What the popover may ask of the app. Each command is a thin call into the same
//! `EngineHandle` the tray, the control socket and the CLI use.

use std::collections::BTreeMap;
use std::sync::Arc;

use sentinel_app_macros::{app_command, app_commands};
use sentinel_engine::{action_results, EngineError, EngineHandle, Received};
use sentinel_proto::action::{Action, ActionResult, Selection};
use sentinel_proto::api::ErrorBody;
use sentinel_proto::monitor::HistoryPoint;
use sentinel_proto::remote::LOCAL_CONTEXT;
use sentinel_proto::stack::{FreedPorts, JobPorts};
use sentinel_proto::{EngineEvent, EventEnvelope, JobStatus};
use serde::{Deserialize, Serialize};
use tauri::ipc::Channel;
use tauri::{AppHandle, Manager, Runtime, State};

use crate::remote::{self, Remotes};

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

/// Which page the popover wants opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub enum Page {
    Logs,
    Editor,
    New,
    Runs,
    App,
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
    /// What is wrong with a definition or settings, field by field.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Fields(Vec<sentinel_proto::FieldError>),
    #[error("{0}")]
    Unavailable(String),
    /// A remote engine could not be reached, or refused: its code and words.
    #[error("{}", .0.message)]
    Remote(crate::remote::EngineProblem),
}

impl Serialize for AppError {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let body = match self {
            AppError::Engine(error) => error.body(),
            AppError::Fields(errors) => ErrorBody {
                code: "invalid".into(),
                message: self.to_string(),
                field: errors
                    .first()
                    .map(|e| e.field.clone())
                    .filter(|f| !f.is_empty()),
                errors: errors.clone(),
            },
            AppError::Unavailable(message) => ErrorBody {
                code: "unavailable".into(),
                message: message.clone(),
                field: None,
                errors: Vec::new(),
            },
            AppError::Remote(problem) => ErrorBody {
                code: problem.code.clone(),
                message: problem.message.clone(),
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

/// Samples per job in a snapshot: what the popover's sparklines draw.
const SPARKLINE_POINTS: usize = 60;

#[app_command]
pub fn snapshot(state: State<'_, AppState>) -> Snapshot {
    let engine = &state.engine;
    // The sequence number first: events after it may or may not be in the snapshot, and the
    // UI applies them anyway (every event carries whole states).
    let seq = engine.last_seq();
    let jobs = engine.list();
    let history = jobs
        .iter()
        .filter_map(|job| {
            // Not a look: the page loads hidden at launch, and a shown window holds its own
            // guard (`watching.rs`). A look would sample every job at full rate for a minute.
            let mut points = engine.recent_resources(&job.name).ok()?.samples;
            // A sparkline's worth: the whole history of 500 jobs would be megabytes.
            points.drain(..points.len().saturating_sub(SPARKLINE_POINTS));
            (!points.is_empty()).then(|| (job.name.clone(), points))
        })
        .collect();
    Snapshot { jobs, history, seq }
}

/// Acts on jobs by name, group or all: the popover's rows and group headers, the settings
/// window's job page. One result per job, its new status or its error. `engine` names a
/// remote engine (a context); none (or `default`) is this machine's.
#[app_command]
pub async fn act(
    state: State<'_, AppState>,
    remotes: State<'_, Arc<Remotes>>,
    action: Action,
    selection: Selection,
    engine: Option<String>,
) -> AppResult<Vec<ActionResult>> {
    match engine.filter(|name| name != LOCAL_CONTEXT) {
        None => Ok(action_results(state.engine.act(action, &selection).await?)),
        Some(name) => {
            let client = remotes
                .client(&name)
                .ok_or_else(|| crate::engines::no_engine(&name))?;
            // On its own connection, with a time limit: a remote never holds up the window
            // longer than that.
            remote::timed(client.act(action, selection), remote::COMMAND_TIMEOUT)
                .await
                .map_err(AppError::Remote)
        }
    }
}

/// Forwards every engine event to the popover until it goes away. Answers once subscribed, so
/// the snapshot the popover takes next misses nothing.
#[app_command]
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

/// Opens the settings window at a job's page (or a page of its own).
#[app_command]
pub fn open_settings<R: Runtime>(
    app: AppHandle<R>,
    job: Option<String>,
    page: Option<Page>,
) -> AppResult<()> {
    let page = page.unwrap_or(if job.is_some() {
        Page::Editor
    } else {
        Page::App
    });
    crate::settings::open_window(&app, job.as_deref(), page)
}

fn popover_visible<R: Runtime>(app: &AppHandle<R>) -> bool {
    app.get_webview_window(crate::POPOVER)
        .and_then(|window| window.is_visible().ok())
        .unwrap_or(true)
}

/// A job's declared ports and who holds them (the popover shows a conflict's process).
#[app_command]
pub async fn job_ports(state: State<'_, AppState>, name: String) -> Result<JobPorts, AppError> {
    let engine = state.engine.clone();
    // Finding a port's process reads /proc (lsof on macOS): off the async workers.
    tauri::async_runtime::spawn_blocking(move || engine.ports(&name))
        .await
        .map_err(|_| EngineError::ShuttingDown)?
        .map_err(AppError::from)
}

/// Stops the leftovers of the job's earlier runs that hold its ports; a waiting start then
/// goes ahead.
#[app_command]
pub async fn free_ports(state: State<'_, AppState>, name: String) -> Result<FreedPorts, AppError> {
    Ok(state.engine.free_ports(&name).await?)
}

#[app_command]
pub fn hide_popover<R: Runtime>(app: AppHandle<R>) {
    if let Some(window) = app.get_webview_window(crate::POPOVER) {
        let _ = window.hide();
        crate::watching::hidden(&app, crate::POPOVER);
    }
}

// The invoke handler (`handler`) and the commands' signatures, from the one table.
include!("command_table.rs");

#[cfg(test)]
mod tests {
    use crate::testing::{app, invoke, TestApp};
    use serde_json::json;

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
        assert!(
            !t.engine.resources_watched(),
            "a snapshot (a page loading hidden) is not someone watching"
        );

        let on_api = |action: &str| {
            let results = invoke(
                &t,
                "act",
                json!({"action": action, "selection": {"names": ["api"]}}),
            )
            .unwrap();
            assert_eq!(results.as_array().unwrap().len(), 1, "{results}");
            assert_eq!(results[0]["name"], "api");
            results[0]["status"].clone()
        };
        let started = on_api("start");
        assert_eq!(started["state"], "running");
        assert!(started["pid"].as_u64().is_some());
        let stopped = on_api("stop");
        assert_eq!(stopped["state"], "stopped");

        let results = invoke(
            &t,
            "act",
            json!({"action": "start", "selection": {"group": "web"}}),
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
            "act",
            json!({"action": "stop", "selection": {"group": "web"}}),
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
        // A job that is not there is that job's error, beside the others' results.
        let results = invoke(
            &t,
            "act",
            json!({"action": "restart", "selection": {"names": ["nope"]}}),
        )
        .unwrap();
        let missing = &results[0]["error"];
        assert_eq!(results[0]["name"], "nope");
        assert_eq!(missing["code"], "not_found");
        assert_eq!(missing["message"], "no job named \"nope\"");
        let empty = invoke(
            &t,
            "act",
            json!({"action": "stop", "selection": {"group": "none"}}),
        )
        .unwrap_err();
        assert_eq!(empty["code"], "not_found");
        let bad_action = invoke(
            &t,
            "act",
            json!({"action": "explode", "selection": {"names": ["x"]}}),
        )
        .unwrap_err();
        assert!(
            bad_action.as_str().unwrap_or("").contains("explode"),
            "{bad_action}"
        );
        tauri::async_runtime::block_on(t.engine.shutdown());
    }
}
