//! Job definitions: read at start-up, written as they are added, changed, imported or removed.

use chrono::Utc;
use sentinel_proto::JobSpec;
use sqlx::Row;

use super::{from_millis, millis, Store, StoredJob};
use crate::error::{EngineError, Result};

impl Store {
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
}

fn spec_json(spec: &JobSpec) -> String {
    serde_json::to_string(spec).expect("a job spec always serialises")
}
