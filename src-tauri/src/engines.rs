//! What the windows may ask about engines: the local one and the remote ones of
//! `contexts.toml`, each with its state; adding (checked by the same rules as `sentinel
//! context add`), testing and removing a remote; trying an unreachable one now. Acting on a
//! remote's jobs is `act` with its name (commands.rs).

use std::sync::Arc;

use sentinel_app_macros::app_command;
use sentinel_proto::remote::EngineContext;
use serde::{Deserialize, Serialize};
use tauri::State;

use crate::commands::{AppError, AppState};
use crate::remote::{self, EditError, EngineProblem, RemoteEngines, Remotes};

/// Every engine the app shows: this machine's, then the remote ones.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct EngineList {
    pub local: LocalEngine,
    pub remotes: RemoteEngines,
    /// Where the remote engines are kept (`sentinel context` reads and writes it too).
    pub contexts_file: String,
    /// Why that file cannot be read, if it cannot (the engines shown are the last read).
    pub problem: Option<String>,
}

/// The engine inside the app.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct LocalEngine {
    pub version: String,
    pub jobs: u32,
}

/// What a test connection found.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct EngineTest {
    pub version: String,
    pub jobs: u32,
}

impl From<EditError> for AppError {
    fn from(error: EditError) -> AppError {
        match error {
            EditError::Fields(errors) => AppError::Fields(errors),
            EditError::File(error) => AppError::Unavailable(error.to_string()),
        }
    }
}

fn list(state: &AppState, remotes: &Remotes) -> EngineList {
    EngineList {
        local: LocalEngine {
            version: env!("CARGO_PKG_VERSION").into(),
            jobs: u32::try_from(state.engine.list().len()).unwrap_or(u32::MAX),
        },
        remotes: remotes.views(),
        contexts_file: remotes.file().display().to_string(),
        problem: remotes.problem(),
    }
}

/// The engines, after reading `contexts.toml` again: a context `sentinel context add` made
/// since is watched from now on.
#[app_command]
pub fn engines(state: State<'_, AppState>, remotes: State<'_, Arc<Remotes>>) -> EngineList {
    // A file that cannot be read is reported in the list.
    let _ = remotes.sync();
    list(&state, &remotes)
}

/// Adds a remote engine and starts watching it; a mistake comes back under its field (`name`,
/// `host`, `description`, `sentinel`).
#[app_command]
pub fn add_engine(
    state: State<'_, AppState>,
    remotes: State<'_, Arc<Remotes>>,
    context: EngineContext,
) -> Result<EngineList, AppError> {
    remotes.add(context)?;
    Ok(list(&state, &remotes))
}

/// Stops watching a remote engine and forgets it.
#[app_command]
pub fn remove_engine(
    state: State<'_, AppState>,
    remotes: State<'_, Arc<Remotes>>,
    name: String,
) -> Result<EngineList, AppError> {
    if !remotes.remove(&name)? {
        return Err(no_engine(&name));
    }
    Ok(list(&state, &remotes))
}

/// Connects once to the engine a context names (saved or not): its version and how many jobs
/// it has, or why it cannot be reached.
#[app_command]
pub async fn test_engine(context: EngineContext) -> Result<EngineTest, AppError> {
    // The name is not needed to connect: an engine can be tried before it is named.
    let problems: Vec<_> = context
        .problems("")
        .into_iter()
        .filter(|p| p.field != "name")
        .collect();
    if !problems.is_empty() {
        return Err(AppError::Fields(problems));
    }
    let client = remote::client_for(&context);
    let health = remote::timed(client.live(), remote::COMMAND_TIMEOUT)
        .await
        .map_err(AppError::Remote)?;
    Ok(EngineTest {
        version: health.version,
        jobs: u32::try_from(health.jobs).unwrap_or(u32::MAX),
    })
}

/// Tries an unreachable engine now rather than at its next try.
#[app_command]
pub fn retry_engine(remotes: State<'_, Arc<Remotes>>, name: String) -> Result<(), AppError> {
    if remotes.retry(&name) {
        Ok(())
    } else {
        Err(no_engine(&name))
    }
}

pub fn no_engine(name: &str) -> AppError {
    AppError::Remote(EngineProblem::new(
        "not_found",
        format!("no engine named {name:?}"),
    ))
}
