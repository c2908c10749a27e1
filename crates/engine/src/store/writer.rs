//! The write task: the runs and events the engine records go into the database in batched
//! transactions, held and tried again while the database refuses them, pruned as they go.

use std::collections::HashMap;
use std::time::Duration;

use sentinel_proto::EventEnvelope;
use sqlx::{QueryBuilder, Sqlite, SqlitePool};
use tokio::sync::{mpsc, oneshot};

use super::backlog::Backlog;
use super::retention::{prune_events, prune_runs};
use super::{millis, NewRun, RunEnd};

/// How many queued writes go into one transaction at most.
pub(super) const WRITE_BATCH: usize = 1024;

pub(super) enum Write {
    RunStarted(NewRun),
    RunEnded(RunEnd),
    Event(EventEnvelope),
    Flush(oneshot::Sender<()>),
}

pub(super) async fn write_loop(
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
