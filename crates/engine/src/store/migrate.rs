//! Schema migrations, and the backup taken before them and put back if one fails.

use std::path::Path;

use sqlx::migrate::Migrator;
use sqlx::SqlitePool;

use crate::error::{EngineError, Result};
use crate::home::sibling;

/// Runs the migrations that are pending. A database that already holds data is first copied
/// with `VACUUM INTO` next to itself (`sentinel.db.before-migration-N`, N its schema version),
/// and copied back if a migration fails, so a failed upgrade never leaves half a schema.
pub(super) async fn migrate(pool: &SqlitePool, path: &Path, migrator: &Migrator) -> Result<()> {
    let has_table: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations')",
    )
    .fetch_one(pool)
    .await?;
    let applied: Vec<i64> = if has_table {
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version")
            .fetch_all(pool)
            .await?
    } else {
        Vec::new()
    };
    let pending = migrator
        .iter()
        .any(|migration| !applied.contains(&migration.version));
    if !pending {
        return Ok(());
    }
    let Some(&version) = applied.last() else {
        // A new database: nothing to keep.
        migrator.run(pool).await?;
        return Ok(());
    };
    let backup = sibling(path, &format!(".before-migration-{version}"));
    let _ = std::fs::remove_file(&backup);
    sqlx::query("VACUUM INTO ?")
        .bind(backup.to_string_lossy().into_owned())
        .execute(pool)
        .await?;
    // Made private through a descriptor, never through a link.
    crate::home::check_file(&backup, crate::home::Kind::Trusted)?;
    tracing::info!(
        "database backed up to {} before migrating",
        backup.display()
    );
    let Err(source) = migrator.run(pool).await else {
        return Ok(());
    };
    // Nothing may hold the file while it is put back.
    pool.close().await;
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(sibling(path, suffix));
    }
    restore(&backup, path)?;
    tracing::error!(
        "database migration failed ({source}); restored {}",
        backup.display()
    );
    Err(EngineError::MigrationRolledBack { source, backup })
}

/// Copies the backup back over the database, following no link on either side.
fn restore(backup: &Path, path: &Path) -> Result<()> {
    use crate::home::{open, Kind};
    let failed = |err| EngineError::io(format!("cannot restore {}", backup.display()), err);
    let mut from = open(
        backup,
        std::fs::OpenOptions::new().read(true),
        Kind::Trusted,
    )?;
    let mut to = open(
        path,
        std::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(true),
        Kind::Trusted,
    )?;
    std::io::copy(&mut from, &mut to).map_err(failed)?;
    to.sync_all().map_err(failed)
}

#[cfg(test)]
mod tests {
    use sentinel_proto::JobSpec;

    use super::*;
    use crate::store::retention::RETENTION;
    use crate::store::Store;

    /// The real migrations plus `extra` (named 9999_extra.sql), as a migrator read from disk.
    async fn migrator_with(dir: &Path, extra: &str) -> Migrator {
        let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
        std::fs::create_dir_all(dir).unwrap();
        for entry in std::fs::read_dir(source).unwrap().flatten() {
            std::fs::copy(entry.path(), dir.join(entry.file_name())).unwrap();
        }
        std::fs::write(dir.join("9999_extra.sql"), extra).unwrap();
        Migrator::new(dir.to_path_buf()).await.unwrap()
    }

    async fn store_with_a_job(path: &Path) {
        let store = Store::open(path).await.unwrap();
        store
            .insert_job(&JobSpec::new("kept", "sleep 1"))
            .await
            .unwrap();
        store.close().await;
    }

    #[tokio::test]
    async fn a_failed_migration_puts_the_database_back() {
        let home = tempfile::tempdir().unwrap();
        let db = home.path().join("sentinel.db");
        store_with_a_job(&db).await;
        let broken = migrator_with(
            &home.path().join("broken"),
            "ALTER TABLE jobs ADD COLUMN half_done INTEGER;\nTHIS IS NOT SQL;\n",
        )
        .await;
        let err = Store::open_with(&db, RETENTION, &broken)
            .await
            .err()
            .expect("the broken migration fails");
        let EngineError::MigrationRolledBack { backup, .. } = &err else {
            panic!("expected a rolled-back migration, got {err}")
        };
        assert!(backup.exists());
        assert!(
            err.to_string().contains("the database is as it was before"),
            "{err}"
        );
        // The same data and schema as before, and the current engine opens it.
        let store = Store::open(&db).await.unwrap();
        let jobs = store.load_jobs().await.unwrap();
        assert_eq!(jobs.len(), 1);
        assert_eq!(jobs[0].spec.name, "kept");
        let columns: Vec<String> = sqlx::query_scalar("SELECT name FROM pragma_table_info('jobs')")
            .fetch_all(&store.pool)
            .await
            .unwrap();
        assert!(!columns.contains(&"half_done".to_string()), "{columns:?}");
        let integrity: String = sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_one(&store.pool)
            .await
            .unwrap();
        assert_eq!(integrity, "ok");
        store.close().await;
    }

    #[tokio::test]
    async fn a_pending_migration_is_preceded_by_a_backup() {
        let home = tempfile::tempdir().unwrap();
        let db = home.path().join("sentinel.db");
        store_with_a_job(&db).await;
        let upgrade = migrator_with(
            &home.path().join("upgrade"),
            "ALTER TABLE jobs ADD COLUMN note TEXT;\n",
        )
        .await;
        let store = Store::open_with(&db, RETENTION, &upgrade).await.unwrap();
        store.close().await;
        let backups: Vec<String> = std::fs::read_dir(home.path())
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|name| {
                name.starts_with("sentinel.db.before-migration-")
                    && !name.ends_with("-wal")
                    && !name.ends_with("-shm")
            })
            .collect();
        assert_eq!(backups.len(), 1, "{backups:?}");
        // The backup is a database of its own, with the job, at the old schema.
        let old = Store::open(&home.path().join(&backups[0])).await.unwrap();
        assert_eq!(old.load_jobs().await.unwrap()[0].spec.name, "kept");
        old.close().await;
        // Nothing pending: no new backup.
        let again = Store::open_with(&db, RETENTION, &upgrade).await.unwrap();
        again.close().await;
        assert_eq!(
            std::fs::read_dir(home.path())
                .unwrap()
                .flatten()
                .filter(|e| {
                    let name = e.file_name().to_string_lossy().into_owned();
                    name.contains("before-migration")
                        && !name.ends_with("-wal")
                        && !name.ends_with("-shm")
                })
                .count(),
            1
        );
    }
}
