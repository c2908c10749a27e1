//! How much history the database keeps, and the pruning that holds it there.

use sqlx::SqlitePool;

use super::Store;
use crate::error::Result;

/// How many events the database keeps; older ones are pruned at start-up and as it runs.
const EVENTS_KEPT: i64 = 50_000;
/// Runs kept per job, the newest; a crash-looping job must not grow the database for ever.
const RUNS_KEPT_PER_JOB: i64 = 1_000;

/// How much history the database keeps: the newest events, and the newest runs of each job.
#[derive(Debug, Clone, Copy)]
pub(super) struct Retention {
    pub events: i64,
    pub runs_per_job: i64,
}

pub(super) const RETENTION: Retention = Retention {
    events: EVENTS_KEPT,
    runs_per_job: RUNS_KEPT_PER_JOB,
};

impl Store {
    pub async fn prune_events(&self) -> Result<()> {
        prune_events(&self.pool, self.kept.events).await
    }
}

pub(super) async fn prune_events(pool: &SqlitePool, kept: i64) -> Result<()> {
    sqlx::query("DELETE FROM events WHERE seq <= (SELECT MAX(seq) FROM events) - ?")
        .bind(kept)
        .execute(pool)
        .await?;
    Ok(())
}

/// Deletes a job's finished runs older than its newest `kept`.
pub(super) async fn prune_runs(pool: &SqlitePool, job: &str, kept: i64) -> Result<()> {
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

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use sentinel_proto::{EngineEvent, EventEnvelope};

    use super::*;
    use crate::store::samples::{run_failed, run_started};

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
                event: EngineEvent::JobRemoved {
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
