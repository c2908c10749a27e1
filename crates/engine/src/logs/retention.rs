//! Log retention (`[logs] max_age`): rotated files that have not been written for that long
//! are deleted, and so are the logs of jobs that no longer exist. The file a job is writing
//! is never touched; its size is bounded by the job's own `logs` settings.

use std::collections::BTreeSet;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// How often the log directory is swept.
pub(crate) const SWEEP_EVERY: Duration = Duration::from_secs(3600);

/// Deletes what retention allows in `dir` and returns what it deleted.
pub(crate) fn sweep(
    dir: &Path,
    max_age: Duration,
    existing_jobs: &BTreeSet<String>,
    now: SystemTime,
) -> Vec<PathBuf> {
    use nix::fcntl::AtFlags;
    use nix::sys::stat::fstatat;
    use nix::unistd::{unlinkat, UnlinkatFlags};
    let mut deleted = Vec::new();
    // Every look and every removal is relative to the directory opened without following a
    // link: a log directory swapped for a link to somewhere else is refused, never swept.
    let at = match crate::home::open_log_dir(dir, false) {
        Ok(at) => at,
        Err(err) => {
            if err.kind() != std::io::ErrorKind::NotFound {
                tracing::warn!("log retention skipped: {err}");
            }
            return deleted;
        }
    };
    let Ok(entries) = std::fs::read_dir(dir) else {
        return deleted;
    };
    for entry in entries.flatten() {
        let Some(name) = entry.file_name().to_str().map(str::to_string) else {
            continue;
        };
        let Some((job, rotated)) = log_file_of(&name) else {
            continue;
        };
        if !rotated && existing_jobs.contains(job) {
            continue;
        }
        let old_enough = fstatat(
            Some(at.as_raw_fd()),
            name.as_str(),
            AtFlags::AT_SYMLINK_NOFOLLOW,
        )
        .ok()
        .and_then(|stat| {
            let modified = SystemTime::UNIX_EPOCH
                .checked_add(Duration::from_secs(u64::try_from(stat.st_mtime).ok()?))?;
            now.duration_since(modified).ok()
        })
        .is_some_and(|age| age > max_age);
        if old_enough {
            match unlinkat(
                Some(at.as_raw_fd()),
                name.as_str(),
                UnlinkatFlags::NoRemoveDir,
            ) {
                Ok(()) => deleted.push(entry.path()),
                Err(err) => {
                    tracing::warn!("cannot delete old log {}: {err}", entry.path().display())
                }
            }
        }
    }
    deleted.sort();
    deleted
}

/// `api.log` → ("api", false); `api.log.3` → ("api", true); anything else → None.
fn log_file_of(file_name: &str) -> Option<(&str, bool)> {
    if let Some(job) = file_name.strip_suffix(".log") {
        return Some((job, false));
    }
    let (head, number) = file_name.rsplit_once('.')?;
    if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    head.strip_suffix(".log").map(|job| (job, true))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_read() {
        assert_eq!(log_file_of("api.log"), Some(("api", false)));
        assert_eq!(log_file_of("worker.1.log.12"), Some(("worker.1", true)));
        assert_eq!(log_file_of("notes.txt"), None);
        assert_eq!(log_file_of("api.log.x"), None);
    }

    #[test]
    fn old_rotated_files_and_removed_jobs_go_and_active_files_stay() {
        let dir = tempfile::tempdir().unwrap();
        let day = Duration::from_secs(86400);
        let now = SystemTime::now();
        let write = |name: &str, age: Duration| {
            let path = dir.path().join(name);
            std::fs::write(&path, b"line\n").unwrap();
            let file = std::fs::File::options().write(true).open(&path).unwrap();
            file.set_modified(now - age).unwrap();
        };
        write("api.log", 30 * day);
        write("api.log.1", day);
        write("api.log.2", 20 * day);
        write("gone.log", 20 * day);
        write("gone.log.1", 20 * day);
        write("recent-gone.log", day);
        write("other.txt", 100 * day);
        let existing = BTreeSet::from(["api".to_string()]);
        let deleted = sweep(dir.path(), 14 * day, &existing, now);
        let names: Vec<String> = deleted
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["api.log.2", "gone.log", "gone.log.1"]);
        for kept in ["api.log", "api.log.1", "recent-gone.log", "other.txt"] {
            assert!(dir.path().join(kept).exists(), "{kept} should be kept");
        }
    }

    #[test]
    fn a_log_directory_swapped_for_a_link_is_not_swept() {
        let home = tempfile::tempdir().unwrap();
        let victim = home.path().join("victim");
        std::fs::create_dir(&victim).unwrap();
        let old = victim.join("gone.log");
        std::fs::write(&old, b"keep me\n").unwrap();
        std::fs::File::options()
            .write(true)
            .open(&old)
            .unwrap()
            .set_modified(SystemTime::now() - Duration::from_secs(100 * 86400))
            .unwrap();
        let logs = home.path().join("logs");
        std::os::unix::fs::symlink(&victim, &logs).unwrap();
        let deleted = sweep(
            &logs,
            Duration::from_secs(60),
            &BTreeSet::new(),
            SystemTime::now(),
        );
        assert!(deleted.is_empty(), "{deleted:?}");
        assert!(old.exists(), "the link was followed");
    }
}
