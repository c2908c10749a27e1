//! The app's commands over mocked IPC (tauri::test), against a real engine in a temporary
//! home.

use sentinel_engine::{EngineConfig, EngineHandle, EnginePaths};
use serde_json::Value;
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{get_ipc_response, mock_builder, mock_context, noop_assets, MockRuntime};
use tauri::webview::InvokeRequest;

use std::sync::Arc;

use sentinel_engine::notify::Alerts;

use crate::commands::{handler, AppState};
use crate::remote::Remotes;

pub struct TestApp {
    _app: tauri::App<MockRuntime>,
    pub webview: tauri::WebviewWindow<MockRuntime>,
    pub engine: EngineHandle,
    pub remotes: Arc<Remotes>,
    pub home: tempfile::TempDir,
}

pub fn app() -> TestApp {
    app_with_alerts(None)
}

/// The app, with remote jobs' failures told through `alerts`.
pub fn app_with_alerts(alerts: Option<Alerts>) -> TestApp {
    let home = tempfile::tempdir().unwrap();
    let mut config = EngineConfig::new(EnginePaths::under(home.path()));
    config.notifiers = Some(Vec::new());
    let engine = tauri::async_runtime::block_on(EngineHandle::open(config)).unwrap();
    let remotes = Arc::new(Remotes::new(
        home.path().join(sentinel_client::contexts::CONTEXTS_FILE),
        alerts,
    ));
    let app = mock_builder()
        .manage(AppState {
            engine: engine.clone(),
        })
        .manage(remotes.clone())
        .manage(crate::watching::WindowWatch::new(engine.clone()))
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
        remotes,
        home,
    }
}

pub fn invoke(t: &TestApp, cmd: &str, body: Value) -> Result<Value, Value> {
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
