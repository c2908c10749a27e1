//! SQLite persistence. Definitions are written synchronously (a caller that was told "added"
//! can rely on it); runs and events go through one writer task that batches them into
//! transactions, so a crash loop or a burst of starts never waits on the disk.

mod backlog;
mod history;
mod jobs;
mod migrate;
mod retention;
mod writer;

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sentinel_proto::{EventEnvelope, JobSpec, RunOutcome, Trigger};
use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;
use tokio::sync::{mpsc, oneshot};

use crate::error::Result;
use crate::home::sibling;
use backlog::Backlog;
use migrate::migrate;
use retention::{Retention, RETENTION};
use writer::{write_loop, Write};

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
