//! Reads of the run and event history, and of the runs an engine that died left open.

use chrono::{DateTime, Utc};
use sentinel_proto::{EventEnvelope, RunOutcome, RunRecord, Trigger};
use sqlx::Row;

use super::{from_millis, millis, Store};
use crate::error::Result;
use crate::process::recover::OpenRun;

impl Store {
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
