//! SQLite persistence. Definitions are written synchronously (a caller that was told "added"
//! can rely on it); runs and events go through one writer task that batches them into
//! transactions, so a crash loop or a burst of starts never waits on the disk.

mod backlog;
mod migrate;

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sentinel_proto::{EventEnvelope, JobSpec, RunOutcome, RunRecord, Trigger};
use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{QueryBuilder, Row, Sqlite, SqlitePool};
use tokio::sync::{mpsc, oneshot};

use crate::error::{EngineError, Result};
use crate::home::sibling;
use crate::process::recover::OpenRun;
use backlog::Backlog;
use migrate::migrate;

/// How many events the database keeps; older ones are pruned at start-up and as it runs.
const EVENTS_KEPT: i64 = 50_000;
/// Runs kept per job, the newest; a crash-looping job must not grow the database for ever.
const RUNS_KEPT_PER_JOB: i64 = 1_000;
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

    /// Every job with when it was defined and the last fire time its schedule ran for.
    pub async fn load_jobs(&self) -> Result<Vec<StoredJob>> {
        let rows = sqlx::query(
            "SELECT name, spec, created_at, \
             (SELECT MAX(scheduled_at) FROM runs WHERE runs.job = jobs.name) AS last_scheduled \
             FROM jobs ORDER BY name",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut specs = Vec::with_capacity(rows.len());
        for row in rows {
            let name: String = row.get("name");
            let text: String = row.get("spec");
            match serde_json::from_str::<JobSpec>(&text) {
                Ok(spec) => specs.push(StoredJob {
                    spec,
                    created_at: from_millis(row.get("created_at")),
                    last_scheduled: row.get::<Option<i64>, _>("last_scheduled").map(from_millis),
                }),
                // A row this version cannot read is kept untouched rather than dropped.
                Err(err) => tracing::error!(job = %name, "stored definition cannot be read: {err}"),
            }
        }
        Ok(specs)
    }

    pub async fn insert_job(&self, spec: &JobSpec) -> Result<()> {
        let now = millis(Utc::now());
        let result = sqlx::query(
            "INSERT INTO jobs (name, spec, created_at, updated_at) VALUES (?, ?, ?, ?)",
        )
        .bind(&spec.name)
        .bind(spec_json(spec))
        .bind(now)
        .bind(now)
        .execute(&self.pool)
        .await;
        match result {
            Err(sqlx::Error::Database(err)) if err.is_unique_violation() => {
                Err(EngineError::AlreadyExists(spec.name.clone()))
            }
            other => other.map(|_| ()).map_err(EngineError::from),
        }
    }

    pub async fn update_job(&self, spec: &JobSpec) -> Result<()> {
        sqlx::query("UPDATE jobs SET spec = ?, updated_at = ? WHERE name = ?")
            .bind(spec_json(spec))
            .bind(millis(Utc::now()))
            .bind(&spec.name)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Writes an import's definitions in one transaction.
    pub async fn apply_import(
        &self,
        adds: &[JobSpec],
        updates: &[JobSpec],
        removes: &[String],
    ) -> Result<()> {
        self.flush().await;
        let now = millis(Utc::now());
        let mut tx = self.pool.begin().await?;
        for spec in adds {
            sqlx::query(
                "INSERT INTO jobs (name, spec, created_at, updated_at) VALUES (?, ?, ?, ?)",
            )
            .bind(&spec.name)
            .bind(spec_json(spec))
            .bind(now)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        for spec in updates {
            sqlx::query("UPDATE jobs SET spec = ?, updated_at = ? WHERE name = ?")
                .bind(spec_json(spec))
                .bind(now)
                .bind(&spec.name)
                .execute(&mut *tx)
                .await?;
        }
        for name in removes {
            sqlx::query("DELETE FROM runs WHERE job = ?")
                .bind(name)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM jobs WHERE name = ?")
                .bind(name)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Removes a job and its run history.
    pub async fn delete_job(&self, name: &str) -> Result<()> {
        self.flush().await;
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM runs WHERE job = ?")
            .bind(name)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM jobs WHERE name = ?")
            .bind(name)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The next free run id and event sequence number.
    pub async fn next_ids(&self) -> Result<(i64, u64)> {
        let run: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) + 1 FROM runs")
            .fetch_one(&self.pool)
            .await?;
        let seq: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) + 1 FROM events")
            .fetch_one(&self.pool)
            .await?;
        Ok((run, seq.max(1) as u64))
    }

    /// Runs left open by an engine that died, so their processes can be found.
    pub async fn open_runs(&self) -> Result<Vec<OpenRun>> {
        let rows = sqlx::query(
            "SELECT id, job, pid, proc_start FROM runs WHERE outcome IS NULL ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(|row| OpenRun {
                run_id: row.get("id"),
                job: row.get("job"),
                pid: row.get::<Option<i64>, _>("pid").map(|p| p as u32),
                proc_start: row.get::<Option<i64>, _>("proc_start").map(|s| s as u64),
            })
            .collect())
    }

    /// Marks runs left open by an engine that died as interrupted.
    pub async fn mark_interrupted(&self, now: DateTime<Utc>) -> Result<u64> {
        let done = sqlx::query(
            "UPDATE runs SET outcome = 'interrupted', ended_at = ?, \
             reason = 'the engine stopped unexpectedly while this run was in progress' \
             WHERE outcome IS NULL",
        )
        .bind(millis(now))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    pub async fn prune_events(&self) -> Result<()> {
        prune_events(&self.pool, self.kept.events).await
    }

    /// The newest `limit` events, oldest first.
    pub async fn recent_events(&self, limit: u32) -> Result<Vec<EventEnvelope>> {
        self.flush().await;
        let rows = sqlx::query("SELECT seq, at, data FROM events ORDER BY seq DESC LIMIT ?")
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        let mut events: Vec<EventEnvelope> = rows
            .iter()
            .filter_map(|row| {
                let event = serde_json::from_str(row.get::<&str, _>("data")).ok()?;
                Some(EventEnvelope {
                    seq: row.get::<i64, _>("seq") as u64,
                    at: from_millis(row.get("at")),
                    event,
                })
            })
            .collect();
        events.reverse();
        Ok(events)
    }

    /// The newest runs of a job first.
    pub async fn runs(&self, job: &str, limit: u32) -> Result<Vec<RunRecord>> {
        self.flush().await;
        let rows = sqlx::query(
            "SELECT id, job, trigger, scheduled_at, started_at, ended_at, pid, outcome, exit_code, signal, reason \
             FROM runs WHERE job = ? ORDER BY id DESC LIMIT ?",
        )
        .bind(job)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(|row| RunRecord {
                id: row.get("id"),
                job: row.get("job"),
                trigger: Trigger::parse(row.get("trigger")).unwrap_or(Trigger::Manual),
                scheduled_at: row.get::<Option<i64>, _>("scheduled_at").map(from_millis),
                started_at: from_millis(row.get("started_at")),
                ended_at: row.get::<Option<i64>, _>("ended_at").map(from_millis),
                pid: row.get::<Option<i64>, _>("pid").map(|p| p as u32),
                outcome: row
                    .get::<Option<String>, _>("outcome")
                    .and_then(|o| RunOutcome::parse(&o)),
                exit_code: row.get("exit_code"),
                signal: row.get("signal"),
                reason: row.get("reason"),
            })
            .collect())
    }
}

fn spec_json(spec: &JobSpec) -> String {
    serde_json::to_string(spec).expect("a job spec always serialises")
}

async fn prune_events(pool: &SqlitePool, kept: i64) -> Result<()> {
    sqlx::query("DELETE FROM events WHERE seq <= (SELECT MAX(seq) FROM events) - ?")
        .bind(kept)
        .execute(pool)
        .await?;
    Ok(())
}

/// How much history the database keeps: the newest events, and the newest runs of each job.
#[derive(Debug, Clone, Copy)]
struct Retention {
    events: i64,
    runs_per_job: i64,
}

const RETENTION: Retention = Retention {
    events: EVENTS_KEPT,
    runs_per_job: RUNS_KEPT_PER_JOB,
};

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

/// Deletes a job's finished runs older than its newest `kept`.
async fn prune_runs(pool: &SqlitePool, job: &str, kept: i64) -> Result<()> {
    sqlx::query(
        "DELETE FROM runs WHERE job = ?1 AND outcome IS NOT NULL AND id <
           (SELECT id FROM runs WHERE job = ?1 ORDER BY id DESC LIMIT 1 OFFSET ?2)",
    )
    .bind(job)
    .bind(kept - 1)
    .execute(pool)
    .await?;
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::samples::{run_failed, run_started};
    use super::*;
    use sentinel_proto::EngineEvent;

    #[tokio::test]
    async fn each_job_keeps_its_newest_runs_and_its_open_one() {
        let dir = tempfile::tempdir().unwrap();
        let kept = Retention {
            runs_per_job: 5,
            ..RETENTION
        };
        let store = Store::open_keeping(&dir.path().join("test.db"), kept)
            .await
            .unwrap();
        for id in 1..=30 {
            let job = if id % 10 == 0 { "calm" } else { "looping" };
            store.record_run_started(run_started(id, job));
            // Left open: the newest run of each job, and one a crash left behind long ago.
            if id < 29 && id != 20 && id != 2 {
                store.record_run_ended(run_failed(id));
            }
            store.flush().await;
        }
        let ids = |job: &'static str| {
            let pool = store.pool.clone();
            async move {
                sqlx::query_scalar::<_, i64>("SELECT id FROM runs WHERE job = ? ORDER BY id")
                    .bind(job)
                    .fetch_all(&pool)
                    .await
                    .unwrap()
            }
        };
        assert_eq!(ids("looping").await, vec![2, 25, 26, 27, 28, 29]);
        assert_eq!(ids("calm").await, vec![10, 20, 30]);
        store.close().await;
    }

    #[tokio::test]
    async fn old_events_are_pruned_while_the_engine_runs() {
        let dir = tempfile::tempdir().unwrap();
        let kept = Retention {
            events: 10,
            ..RETENTION
        };
        let store = Store::open_keeping(&dir.path().join("test.db"), kept)
            .await
            .unwrap();
        for seq in 1..=100 {
            store.record_event(EventEnvelope {
                seq,
                at: Utc::now(),
                event: EngineEvent::JobAdded {
                    job: format!("job{seq}"),
                },
            });
        }
        store.flush().await;
        let (count, oldest): (i64, i64) = sqlx::query_as("SELECT COUNT(*), MIN(seq) FROM events")
            .fetch_one(&store.pool)
            .await
            .unwrap();
        assert_eq!((count, oldest), (10, 91));
        store.close().await;
    }
}
