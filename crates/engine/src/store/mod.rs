//! SQLite persistence. Definitions are written synchronously (a caller that was told "added"
//! can rely on it); runs and events go through one writer task that batches them into
//! transactions, so a crash loop or a burst of starts never waits on the disk.

mod backlog;
mod history;
mod jobs;
mod migrate;
mod retention;

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sentinel_proto::{EventEnvelope, JobSpec, RunOutcome, Trigger};
use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{QueryBuilder, Sqlite, SqlitePool};
use tokio::sync::{mpsc, oneshot};

use crate::error::Result;
use crate::home::sibling;
use backlog::Backlog;
use migrate::migrate;
use retention::{prune_events, prune_runs, Retention, RETENTION};

/// How many queued writes go into one transaction at most.
const WRITE_BATCH: usize = 1024;

/// The database holds every job's environment, secrets included: only its owner may read it.
/// SQLite gives the WAL and shared-memory files the database file's mode, so creating it (or
/// correcting an older one) as 0600 covers all three. None of them may be a link or another
/// user's: sqlx cannot ask SQLite for `SQLITE_OPEN_NOFOLLOW`, so they are checked here, just
/// before SQLite opens them (the remaining race is in docs/security.md).
fn make_private(path: &Path) -> Result<()> {
    use crate::home::{check_file, open, Kind};
    open(
        path,
        std::fs::OpenOptions::new().create(true).append(true),
        Kind::Trusted,
    )?;
    for suffix in ["-wal", "-shm"] {
        check_file(&sibling(path, suffix), Kind::Trusted)?;
    }
    Ok(())
}

pub(crate) fn millis(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

fn from_millis(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

/// A run as it starts.
#[derive(Debug, Clone)]
pub(crate) struct NewRun {
    pub id: i64,
    pub job: String,
    pub trigger: Trigger,
    pub started_at: DateTime<Utc>,
    pub pid: Option<u32>,
    pub proc_start: Option<u64>,
    pub scheduled_at: Option<DateTime<Utc>>,
}

/// A job as stored.
pub(crate) struct StoredJob {
    pub spec: JobSpec,
    pub created_at: DateTime<Utc>,
    /// The latest fire time a run was started for.
    pub last_scheduled: Option<DateTime<Utc>>,
}

/// How a run ended.
#[derive(Debug, Clone)]
pub(crate) struct RunEnd {
    pub id: i64,
    pub ended_at: DateTime<Utc>,
    pub outcome: RunOutcome,
    pub exit_code: Option<i32>,
    pub signal: Option<i32>,
    pub reason: Option<String>,
}

enum Write {
    RunStarted(NewRun),
    RunEnded(RunEnd),
    Event(EventEnvelope),
    Flush(oneshot::Sender<()>),
}

#[derive(Clone)]
pub(crate) struct Store {
    pool: SqlitePool,
    writes: mpsc::UnboundedSender<Write>,
    kept: Retention,
    /// Runs and events the writer holds (see `backlog.rs`).
    held: Arc<AtomicUsize>,
}

impl Store {
    pub async fn open(path: &Path) -> Result<Store> {
        Store::open_keeping(path, RETENTION).await
    }

    /// Opens the store, keeping the history `kept` says.
    async fn open_keeping(path: &Path, kept: Retention) -> Result<Store> {
        Store::open_with(path, kept, &sqlx::migrate!("./migrations")).await
    }

    async fn open_with(path: &Path, kept: Retention, migrator: &Migrator) -> Result<Store> {
        make_private(path)?;
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true)
            // The engine reads little and writes in batches: a small page cache per connection
            // keeps its memory flat as the history grows (SQLite's default is 2 MB each).
            .pragma("cache_size", "-256");
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await?;
        migrate(&pool, path, migrator).await?;
        let (writes, queue) = mpsc::unbounded_channel();
        let held = Arc::new(AtomicUsize::new(0));
        tokio::spawn(write_loop(
            pool.clone(),
            queue,
            Backlog::new(kept, held.clone()),
        ));
        Ok(Store {
            pool,
            writes,
            kept,
            held,
        })
    }

    /// Runs and events waiting to be written: a handful normally, many while the database
    /// refuses writes.
    pub fn backlog(&self) -> usize {
        self.held.load(Ordering::Relaxed)
    }

    pub async fn close(&self) {
        self.flush().await;
        self.pool.close().await;
    }

    /// Waits until every queued write is in the database.
    pub async fn flush(&self) {
        let (done, wait) = oneshot::channel();
        if self.writes.send(Write::Flush(done)).is_ok() {
            let _ = wait.await;
        }
    }

    pub fn record_run_started(&self, run: NewRun) {
        let _ = self.writes.send(Write::RunStarted(run));
    }

    pub fn record_run_ended(&self, end: RunEnd) {
        let _ = self.writes.send(Write::RunEnded(end));
    }

    pub fn record_event(&self, event: EventEnvelope) {
        let _ = self.writes.send(Write::Event(event));
    }
}

async fn write_loop(
    pool: SqlitePool,
    mut queue: mpsc::UnboundedReceiver<Write>,
    mut backlog: Backlog,
) {
    let kept = backlog.kept();
    // Pruning every tenth of the budget keeps each table near its size at little cost.
    let prune_events_every = (kept.events / 10).max(1) as usize;
    let prune_runs_every = (kept.runs_per_job / 10).max(1);
    let mut events_since_prune = 0;
    let mut runs_since_prune: HashMap<String, i64> = HashMap::new();
    // Set while the database refuses writes: how long to wait before the next try.
    let mut retry_delay: Option<Duration> = None;
    loop {
        if backlog.is_empty() {
            match queue.recv().await {
                Some(write) => _ = backlog.push(write),
                None => return,
            }
        }
        // Normally only what the next batch needs leaves the channel, so a burst costs no
        // more memory than before. While the database refuses writes everything does, so that
        // the backlog can trim it.
        let wanted = if retry_delay.is_some() {
            usize::MAX
        } else {
            WRITE_BATCH
        };
        while backlog.len() < wanted {
            let Ok(write) = queue.try_recv() else { break };
            if let Some(trimmed) = backlog.push(write) {
                tracing::warn!(
                    "the database has refused writes for long: let go of {} events and {} runs \
                     that pruning would have deleted anyway",
                    trimmed.events,
                    trimmed.runs
                );
            }
        }
        let batch = backlog.front(WRITE_BATCH);
        let written = batch.len();
        match write_batch(&pool, batch).await {
            Ok(()) => {
                if retry_delay.take().is_some() {
                    tracing::info!("recording runs and events again");
                }
            }
            // The database is locked by another process, or its disk is full or failing: the
            // batch stays first in line and is tried again, so nothing is lost.
            Err(err) if is_transient(&err) => {
                let delay = match retry_delay {
                    Some(delay) => (delay * 2).min(MAX_RETRY_DELAY),
                    None => {
                        tracing::error!(
                            "cannot record runs and events for now ({err}); keeping them and trying again"
                        );
                        Duration::from_millis(50)
                    }
                };
                retry_delay = Some(delay);
                tokio::time::sleep(delay).await;
                continue;
            }
            // Another try cannot fix it: the batch is dropped.
            Err(err) => tracing::error!("could not record runs and events: {err}"),
        }
        let batch = backlog.take_front(written);
        for write in &batch {
            match write {
                Write::Event(_) => events_since_prune += 1,
                Write::RunStarted(run) => {
                    *runs_since_prune.entry(run.job.clone()).or_default() += 1;
                }
                _ => {}
            }
        }
        if events_since_prune >= prune_events_every {
            events_since_prune = 0;
            if let Err(err) = prune_events(&pool, kept.events).await {
                tracing::error!("could not prune old events: {err}");
            }
        }
        let due: Vec<String> = runs_since_prune
            .iter()
            .filter(|(_, &runs)| runs >= prune_runs_every)
            .map(|(job, _)| job.clone())
            .collect();
        for job in due {
            runs_since_prune.remove(&job);
            if let Err(err) = prune_runs(&pool, &job, kept.runs_per_job).await {
                tracing::error!(job = %job, "could not prune old runs: {err}");
            }
        }
        // Last, so that whoever waits for a flush sees the tables as they stay.
        for write in batch {
            if let Write::Flush(done) = write {
                let _ = done.send(());
            }
        }
    }
}

/// Longest wait between tries of a batch the database refuses for now.
const MAX_RETRY_DELAY: Duration = Duration::from_secs(5);

/// Errors that go away by themselves: busy or locked (another process holds the file), a full
/// disk, I/O errors, a pool that timed out waiting.
fn is_transient(err: &sqlx::Error) -> bool {
    const BUSY: i32 = 5;
    const LOCKED: i32 = 6;
    const IOERR: i32 = 10;
    const FULL: i32 = 13;
    const CANTOPEN: i32 = 14;
    match err {
        sqlx::Error::Database(db) => db
            .code()
            .and_then(|code| code.parse::<i32>().ok())
            // Extended result codes keep the primary code in their low byte.
            .is_some_and(|code| matches!(code & 0xff, BUSY | LOCKED | IOERR | FULL | CANTOPEN)),
        sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) => true,
        _ => false,
    }
}

/// Rows per multi-row INSERT: one statement instead of hundreds when many jobs start at once.
const ROWS_PER_INSERT: usize = 200;

/// `first` and the writes of the same kind right after it, up to one statement's worth.
fn gather<'a, T>(
    first: &'a T,
    writes: &mut std::iter::Peekable<impl Iterator<Item = &'a Write>>,
    take: fn(&'a Write) -> Option<&'a T>,
) -> Vec<&'a T> {
    let mut all = vec![first];
    while all.len() < ROWS_PER_INSERT {
        match writes.next_if(|w| take(w).is_some()).and_then(take) {
            Some(item) => all.push(item),
            None => break,
        }
    }
    all
}

async fn write_batch(pool: &SqlitePool, batch: &[Write]) -> std::result::Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    // Consecutive writes of one kind go into one statement; the order between kinds is kept.
    let mut writes = batch.iter().peekable();
    while let Some(write) = writes.next() {
        match write {
            Write::RunStarted(run) => {
                let runs = gather(run, &mut writes, |w| match w {
                    Write::RunStarted(run) => Some(run),
                    _ => None,
                });
                let mut insert = QueryBuilder::<Sqlite>::new(
                    "INSERT INTO runs (id, job, trigger, started_at, pid, pgid, proc_start, scheduled_at) ",
                );
                insert.push_values(&runs, |mut row, run| {
                    row.push_bind(run.id)
                        .push_bind(&run.job)
                        .push_bind(run.trigger.as_str())
                        .push_bind(millis(run.started_at))
                        .push_bind(run.pid.map(i64::from))
                        // Every run leads its own process group, so its group id is its pid.
                        .push_bind(run.pid.map(i64::from))
                        .push_bind(run.proc_start.map(|s| s as i64))
                        .push_bind(run.scheduled_at.map(millis));
                });
                // A statement per row count: not worth keeping in the statement cache.
                insert.build().persistent(false).execute(&mut *tx).await?;
            }
            Write::Event(event) => {
                let events = gather(event, &mut writes, |w| match w {
                    Write::Event(event) => Some(event),
                    _ => None,
                });
                let mut insert = QueryBuilder::<Sqlite>::new(
                    "INSERT OR REPLACE INTO events (seq, at, job, kind, data) ",
                );
                insert.push_values(&events, |mut row, envelope| {
                    row.push_bind(envelope.seq as i64)
                        .push_bind(millis(envelope.at))
                        .push_bind(envelope.event.job().unwrap_or(""))
                        .push_bind(envelope.event.kind())
                        .push_bind(serde_json::to_string(&envelope.event).unwrap_or_default());
                });
                // A statement per row count: not worth keeping in the statement cache.
                insert.build().persistent(false).execute(&mut *tx).await?;
            }
            Write::RunEnded(end) => {
                sqlx::query(
                    "UPDATE runs SET ended_at = ?, outcome = ?, exit_code = ?, signal = ?, reason = ? WHERE id = ?",
                )
                .bind(millis(end.ended_at))
                .bind(end.outcome.as_str())
                .bind(end.exit_code)
                .bind(end.signal)
                .bind(&end.reason)
                .bind(end.id)
                .execute(&mut *tx)
                .await?;
            }
            Write::Flush(_) => {}
        }
    }
    tx.commit().await
}

/// Runs of a crash loop, for the tests of the store and its backlog.
#[cfg(test)]
mod samples {
    use super::*;

    pub fn run_started(id: i64, job: &str) -> NewRun {
        NewRun {
            id,
            job: job.into(),
            trigger: Trigger::Retry,
            started_at: Utc::now(),
            pid: Some(1),
            proc_start: None,
            scheduled_at: None,
        }
    }

    pub fn run_failed(id: i64) -> RunEnd {
        RunEnd {
            id,
            ended_at: Utc::now(),
            outcome: RunOutcome::Failure,
            exit_code: Some(1),
            signal: None,
            reason: None,
        }
    }
}
