//! Engines on other machines, watched from the menu bar: one task per context of
//! `contexts.toml` (the file `sentinel context add` writes), each keeping a [`RemoteView`] of
//! its engine. The app publishes them to the windows as the `remote-engines` event, and the
//! tray reads them for its icon and tooltip. Remote work never runs on the local engine's
//! tasks or the UI's, and every request to a remote has a time limit.

pub mod alerts;
pub mod backoff;
pub mod view;
mod watch;

use std::future::Future;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use sentinel_client::contexts::{self, ContextError};
use sentinel_client::{Client, ClientError, Endpoint};
use sentinel_engine::notify::Alerts;
use sentinel_proto::remote::{ContextFile, EngineContext};
use serde::{Deserialize, Serialize};
use tauri::{AppHandle, Emitter, Runtime};
use tokio::sync::Notify;

pub use view::{EngineProblem, Link, RemoteView};
use watch::{Slot, Watch};

/// The event every window hears when a remote engine changes: a [`RemoteEngines`].
pub const REMOTE_ENGINES_EVENT: &str = "remote-engines";

/// How long a command on a remote engine (an action, a test) may take: a restart waits for
/// the job's stop, which may take its whole `stop_timeout`.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

/// The remote engines, in the file's order. `revision` grows with every change: a window that
/// took them with the `engines` command keeps whichever it has of the two that is newer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct RemoteEngines {
    pub revision: u64,
    pub engines: Vec<RemoteView>,
}

/// Tells whoever follows the remotes (the windows' publisher, the tray) that something changed.
#[derive(Clone)]
pub struct Changes(Arc<tokio::sync::watch::Sender<u64>>);

impl Changes {
    fn new() -> Changes {
        Changes(Arc::new(tokio::sync::watch::channel(0).0))
    }

    pub fn bump(&self) {
        self.0.send_modify(|revision| *revision += 1);
    }

    fn revision(&self) -> u64 {
        *self.0.borrow()
    }
}

struct Watcher {
    context: EngineContext,
    slot: Arc<Slot>,
    task: tauri::async_runtime::JoinHandle<()>,
}

/// Every remote engine the app watches (managed state).
pub struct Remotes {
    file: PathBuf,
    watchers: Mutex<Vec<Watcher>>,
    /// Whatever keeps `contexts.toml` from being read, until it can be.
    problem: Mutex<Option<String>>,
    /// One change to the file at a time: each reads it, changes it and writes it whole.
    editing: Mutex<()>,
    changes: Changes,
    alerts: Option<Arc<Alerts>>,
}

/// The client the app uses for a context: never asks for a password (nobody is at a terminal
/// to type one), and sends keepalives, so a connection whose network went away is noticed
/// within a minute rather than when TCP gives up.
pub fn client_for(context: &EngineContext) -> Client {
    let client = contexts::batch(&contexts::client_for(context));
    match client.endpoint() {
        Endpoint::Ssh(remote) => {
            let mut remote = remote.clone();
            remote.ssh.extend(
                [
                    "-o",
                    "ServerAliveInterval=15",
                    "-o",
                    "ServerAliveCountMax=3",
                ]
                .map(String::from),
            );
            Client::at(Endpoint::Ssh(remote))
        }
        Endpoint::Socket(_) => client,
    }
}

/// A request with a time limit; what went wrong, typed.
pub async fn timed<T>(
    call: impl Future<Output = Result<T, ClientError>>,
    limit: Duration,
) -> Result<T, EngineProblem> {
    match tokio::time::timeout(limit, call).await {
        Ok(Ok(answer)) => Ok(answer),
        Ok(Err(err)) => Err(EngineProblem::of(&err)),
        Err(_) => Err(EngineProblem::new(
            "timeout",
            format!("no answer within {} s", limit.as_secs()),
        )),
    }
}

impl Remotes {
    /// The remotes of `file` (`contexts.toml`), none watched yet ([`Remotes::sync`] starts
    /// them). Failures of remote jobs are told through `alerts`, when there are any.
    pub fn new(file: PathBuf, alerts: Option<Alerts>) -> Remotes {
        Remotes {
            file,
            watchers: Mutex::new(Vec::new()),
            problem: Mutex::new(None),
            editing: Mutex::new(()),
            changes: Changes::new(),
            alerts: alerts.map(Arc::new),
        }
    }

    pub fn file(&self) -> &std::path::Path {
        &self.file
    }

    /// Reads the file and watches exactly its contexts: new ones start, removed ones stop,
    /// changed ones start over. A file that cannot be read leaves the watchers as they are.
    pub fn sync(&self) -> Result<ContextFile, ContextError> {
        let _editing = self.editing.lock().unwrap_or_else(|p| p.into_inner());
        self.sync_locked()
    }

    fn sync_locked(&self) -> Result<ContextFile, ContextError> {
        let read = contexts::load(&self.file);
        let problem = read.as_ref().err().map(ToString::to_string);
        let mut changed = false;
        {
            let mut kept = self.problem.lock().unwrap_or_else(|p| p.into_inner());
            if *kept != problem {
                if let Some(problem) = &problem {
                    tracing::warn!("remote engines: {problem}");
                }
                *kept = problem;
                changed = true;
            }
        }
        if let Ok(file) = &read {
            changed |= self.watch_exactly(&file.contexts);
        }
        if changed {
            self.changes.bump();
        }
        read
    }

    /// Whether anything changed.
    fn watch_exactly(&self, wanted: &[EngineContext]) -> bool {
        let mut watchers = self.watchers.lock().unwrap_or_else(|p| p.into_inner());
        let before: Vec<String> = watchers.iter().map(|w| w.context.name.clone()).collect();
        let mut old: Vec<Watcher> = std::mem::take(&mut *watchers);
        let mut changed = false;
        for context in wanted {
            match old.iter().position(|w| w.context == *context) {
                Some(at) => watchers.push(old.remove(at)),
                None => {
                    watchers.push(self.start(context.clone()));
                    changed = true;
                }
            }
        }
        for gone in old {
            tracing::info!(engine = gone.context.name, "no longer watched");
            gone.task.abort();
            changed = true;
        }
        let after: Vec<String> = watchers.iter().map(|w| w.context.name.clone()).collect();
        changed || before != after
    }

    fn start(&self, context: EngineContext) -> Watcher {
        tracing::info!(engine = context.name, host = context.host, "watching");
        let slot = Arc::new(Slot {
            view: Mutex::new(RemoteView {
                context: context.clone(),
                link: Link::Connecting { since: Utc::now() },
            }),
            retry: Notify::new(),
        });
        let task = tauri::async_runtime::spawn(watch::run(Watch {
            client: client_for(&context),
            slot: slot.clone(),
            changes: self.changes.clone(),
            alerts: self.alerts.clone(),
        }));
        Watcher {
            context,
            slot,
            task,
        }
    }

    /// Adds a context to the file (checked by the same rules as `sentinel context add`) and
    /// starts watching it.
    pub fn add(&self, context: EngineContext) -> Result<(), EditError> {
        self.edit(|file| file.add(context).map_err(EditError::Fields))
    }

    /// Removes a context from the file and stops watching it; `false` when there was none.
    pub fn remove(&self, name: &str) -> Result<bool, EditError> {
        let mut removed = false;
        self.edit(|file| {
            removed = file.remove(name);
            Ok(())
        })?;
        Ok(removed)
    }

    fn edit(
        &self,
        change: impl FnOnce(&mut ContextFile) -> Result<(), EditError>,
    ) -> Result<(), EditError> {
        let _editing = self.editing.lock().unwrap_or_else(|p| p.into_inner());
        let mut file = contexts::load(&self.file).map_err(EditError::File)?;
        change(&mut file)?;
        contexts::save(&self.file, &file).map_err(EditError::File)?;
        self.sync_locked().map_err(EditError::File)?;
        Ok(())
    }

    /// Every remote engine as it is now.
    pub fn views(&self) -> RemoteEngines {
        let watchers = self.watchers.lock().unwrap_or_else(|p| p.into_inner());
        RemoteEngines {
            // Read before the views: a change after this is in a later revision too.
            revision: self.changes.revision(),
            engines: watchers.iter().map(|w| w.slot.view()).collect(),
        }
    }

    /// Why `contexts.toml` cannot be read, if it cannot.
    pub fn problem(&self) -> Option<String> {
        self.problem
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Wakes on every change.
    pub fn subscribe(&self) -> tokio::sync::watch::Receiver<u64> {
        self.changes.0.subscribe()
    }

    /// The client of a watched engine.
    pub fn client(&self, name: &str) -> Option<Client> {
        let watchers = self.watchers.lock().unwrap_or_else(|p| p.into_inner());
        watchers
            .iter()
            .find(|w| w.context.name == name)
            .map(|w| client_for(&w.context))
    }

    /// Tries an unreachable engine now instead of at its next try; `false` when there is no
    /// such engine.
    pub fn retry(&self, name: &str) -> bool {
        let watchers = self.watchers.lock().unwrap_or_else(|p| p.into_inner());
        let Some(watcher) = watchers.iter().find(|w| w.context.name == name) else {
            return false;
        };
        watcher.slot.retry.notify_one();
        true
    }

    /// Stops every watcher (their `ssh`s end with them): the app is quitting.
    pub fn stop_all(&self) {
        let mut watchers = self.watchers.lock().unwrap_or_else(|p| p.into_inner());
        for watcher in watchers.drain(..) {
            watcher.task.abort();
        }
    }
}

/// Why a change to the engines was not made.
#[derive(Debug, thiserror::Error)]
pub enum EditError {
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Fields(Vec<sentinel_proto::FieldError>),
    #[error(transparent)]
    File(ContextError),
}

/// Sends the remotes to every window when they change; a burst of changes is one event.
pub fn publish<R: Runtime>(app: AppHandle<R>, remotes: Arc<Remotes>) {
    let mut changed = remotes.subscribe();
    tauri::async_runtime::spawn(async move {
        while changed.changed().await.is_ok() {
            tokio::time::sleep(Duration::from_millis(100)).await;
            changed.mark_unchanged();
            if let Err(err) = app.emit(REMOTE_ENGINES_EVENT, remotes.views()) {
                tracing::debug!("cannot send the remote engines to the windows: {err}");
            }
        }
    });
}

#[cfg(test)]
mod tests;
