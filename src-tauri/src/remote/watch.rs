//! One remote engine, watched on its own task: its health (for the version), its event stream
//! (one long-lived `ssh`), then its job list; every event keeps the list current. Any failure
//! marks it unreachable with why, and it is tried again after a backoff. Nothing here waits
//! on the local engine or the UI, and nothing there waits on this.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use sentinel_client::{Client, ClientError, Streamed};
use sentinel_engine::notify::Alerts;
use tokio::sync::Notify;
use tokio::time::Instant;

use super::alerts::{self, AlertRules};
use super::backoff::{self, Backoff};
use super::view::{apply, listed, Effect, EngineProblem, Jobs, Link, RemoteView};
use super::{timed, Changes};

/// How long connecting may take (ssh's own `ConnectTimeout` is 15 s; then the login).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// The job list is taken again at most this often for events this app cannot read (a newer
/// engine's, which may come every second): each take is one more `ssh`.
const RELIST_AT_MOST_EVERY: Duration = Duration::from_secs(5);

/// What a watcher shares with the app: the view it keeps, and a bell that cuts a wait short.
pub struct Slot {
    pub view: Mutex<RemoteView>,
    pub retry: Notify,
}

impl Slot {
    pub fn view(&self) -> RemoteView {
        self.view.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn set(&self, link: Link, changes: &Changes) {
        let mut view = self.view.lock().unwrap_or_else(|p| p.into_inner());
        if view.link != link {
            view.link = link;
            drop(view);
            changes.bump();
        }
    }
}

pub struct Watch {
    pub client: Client,
    pub slot: Arc<Slot>,
    pub changes: Changes,
    pub alerts: Option<Arc<Alerts>>,
}

impl Watch {
    fn engine(&self) -> String {
        self.slot.view().context.name
    }
}

/// Watches until aborted.
pub async fn run(watch: Watch) {
    let engine = watch.engine();
    let mut backoff = Backoff::default();
    let mut rules = AlertRules::default();
    loop {
        let (problem, connected) = session(&watch, &mut rules).await;
        if connected.is_some_and(|at| at.elapsed() >= backoff::STABLE) {
            backoff.reset();
        }
        let wait = backoff.fail();
        let now = Utc::now();
        let since = match &watch.slot.view().link {
            Link::Unreachable { since, .. } => *since,
            _ => {
                tracing::warn!(
                    engine,
                    code = problem.code,
                    "unreachable: {}",
                    problem.message
                );
                now
            }
        };
        tracing::debug!(engine, "next try in {wait:?}");
        watch.slot.set(
            Link::Unreachable {
                problem,
                since,
                next_try_at: now + wait,
                attempt: backoff.failures(),
            },
            &watch.changes,
        );
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = watch.slot.retry.notified() => {}
        }
    }
}

/// One connection, for as long as it lasts: why it ended, and when it was made (`None`: it
/// never was).
async fn session(watch: &Watch, rules: &mut AlertRules) -> (EngineProblem, Option<Instant>) {
    let client = &watch.client;
    let health = match timed(client.live(), CONNECT_TIMEOUT).await {
        Ok(health) => health,
        Err(problem) => return (problem, None),
    };
    // Following first, then listing: whatever happens between the two arrives as events,
    // which carry whole statuses, so the list ends current.
    let mut events = match timed(client.follow_events(), CONNECT_TIMEOUT).await {
        Ok(events) => events,
        Err(problem) => return (problem, None),
    };
    let mut jobs = match list(client).await {
        Ok(jobs) => jobs,
        Err(problem) => return (problem, None),
    };
    let engine = watch.engine();
    tracing::info!(
        engine,
        version = health.version,
        jobs = jobs.len(),
        "connected"
    );
    let connected = Instant::now();
    let mut listed_at = connected;
    // An event went unread since the list was taken: the list may be behind. Events lost are
    // worse: the list is surely behind, and taken again at once.
    let mut behind = false;
    let mut lost = false;
    let version = health.version;
    let since = Utc::now();
    let show = |jobs: &Jobs| {
        watch.slot.set(
            Link::Connected {
                version: version.clone(),
                since,
                jobs: listed(jobs),
            },
            &watch.changes,
        )
    };
    show(&jobs);
    loop {
        if lost || (behind && listed_at.elapsed() >= RELIST_AT_MOST_EVERY) {
            match list(client).await {
                Ok(fresh) => {
                    jobs = fresh;
                    listed_at = Instant::now();
                    (behind, lost) = (false, false);
                    show(&jobs);
                }
                Err(problem) => return (problem, Some(connected)),
            }
        }
        let envelope = match events.next().await {
            None => {
                let problem = EngineProblem::new(
                    "connection_lost",
                    "the connection to the engine ended (it stopped, or the network dropped)",
                );
                return (problem, Some(connected));
            }
            Some(Ok(Streamed::Item(envelope))) => envelope,
            // Events went missing: the list is taken again now.
            Some(Ok(Streamed::Missed(_))) => {
                lost = true;
                continue;
            }
            // One this app cannot read (a newer engine's): the list is taken again once the
            // last take is old enough.
            Some(Err(ClientError::Decode(_))) => {
                behind = true;
                continue;
            }
            Some(Err(err)) => return (EngineProblem::of(&err), Some(connected)),
        };
        if let Some(alert) = rules.on_event(&jobs, &envelope.event, Utc::now()) {
            if let Some(alerts) = &watch.alerts {
                tokio::spawn(alerts::raise(
                    alerts.clone(),
                    client.clone(),
                    engine.clone(),
                    alert,
                ));
            }
        }
        if apply(&mut jobs, &envelope.event) == Effect::Changed {
            show(&jobs);
        }
    }
}

async fn list(client: &Client) -> Result<Jobs, EngineProblem> {
    let jobs = timed(client.jobs(), CONNECT_TIMEOUT).await?;
    Ok(jobs
        .into_iter()
        .map(|job| (job.name.clone(), job))
        .collect())
}
