//! File-watch restarts: a watcher per job (inotify on Linux, FSEvents on macOS, through the
//! notify crate) whose changes are debounced into one report per burst.

use std::path::{Path, PathBuf};

use ::notify::{EventKind, RecursiveMode, Watcher};
use globset::{Glob, GlobSet, GlobSetBuilder};
use sentinel_proto::stack::{WatchSpec, ALWAYS_IGNORED};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// A job's watcher; dropping it stops watching.
pub(crate) struct WatchTask {
    _watcher: ::notify::RecommendedWatcher,
    task: JoinHandle<()>,
}

impl Drop for WatchTask {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Which changed paths count.
struct Filter {
    roots: Vec<PathBuf>,
    ignore: GlobSet,
    /// The engine's own files when they lie under a watched path (writing a job's log must
    /// not restart it): everything under the log directory, and the files directly in the
    /// data directory (database, settings), whose subdirectories may well be projects.
    engine: EngineFiles,
}

/// Where the engine writes.
#[derive(Clone)]
pub(crate) struct EngineFiles {
    pub log_dir: PathBuf,
    pub data_dir: PathBuf,
}

impl EngineFiles {
    fn canonical(self) -> EngineFiles {
        EngineFiles {
            log_dir: self.log_dir.canonicalize().unwrap_or(self.log_dir),
            data_dir: self.data_dir.canonicalize().unwrap_or(self.data_dir),
        }
    }

    fn owns(&self, path: &Path) -> bool {
        path.starts_with(&self.log_dir) || path.parent() == Some(self.data_dir.as_path())
    }
}

impl Filter {
    fn counts(&self, path: &Path) -> bool {
        if self.engine.owns(path) {
            return false;
        }
        let relative = self
            .roots
            .iter()
            .filter_map(|root| path.strip_prefix(root).ok())
            .min_by_key(|rel| rel.components().count())
            .unwrap_or(path);
        if relative
            .components()
            .any(|part| ALWAYS_IGNORED.iter().any(|dir| part.as_os_str() == *dir))
        {
            return false;
        }
        // A glob ignores a path when it matches the path or any directory above it, so
        // `tmp` and `tmp/**` both keep out everything under tmp/.
        !relative
            .ancestors()
            .filter(|p| !p.as_os_str().is_empty())
            .any(|p| self.ignore.is_match(p))
    }
}

/// Starts watching `spec.paths` (relative to `cwd`); `changed` hears the paths of each burst
/// of changes, once the burst has been quiet for `spec.debounce`.
pub(crate) fn spawn_watch(
    spec: &WatchSpec,
    cwd: &Path,
    engine: EngineFiles,
    changed: impl Fn(Vec<PathBuf>) + Send + 'static,
) -> Result<WatchTask, String> {
    let mut ignore = GlobSetBuilder::new();
    for glob in &spec.ignore {
        ignore.add(Glob::new(glob).map_err(|err| format!("watch.ignore {glob:?}: {err}"))?);
    }
    let ignore = ignore
        .build()
        .map_err(|err| format!("watch.ignore: {err}"))?;
    let roots: Vec<PathBuf> = spec
        .paths
        .iter()
        .map(|path| {
            let path = cwd.join(path);
            // Events name canonical paths (macOS reports /private/var for /var).
            path.canonicalize().unwrap_or(path)
        })
        .collect();
    let filter = Filter {
        roots: roots.clone(),
        ignore,
        engine: engine.canonical(),
    };

    let (sender, mut events) = mpsc::unbounded_channel::<Vec<PathBuf>>();
    let mut watcher =
        ::notify::recommended_watcher(move |event: ::notify::Result<::notify::Event>| {
            let Ok(event) = event else { return };
            // Reads (open, close after reading) are not changes; a job reading its own sources
            // must not restart itself.
            if matches!(
                event.kind,
                EventKind::Create(_) | EventKind::Modify(_) | EventKind::Remove(_)
            ) {
                let _ = sender.send(event.paths);
            }
        })
        .map_err(|err| format!("cannot watch files: {err}"))?;
    for root in &roots {
        let mode = if root.is_dir() {
            RecursiveMode::Recursive
        } else {
            RecursiveMode::NonRecursive
        };
        watcher
            .watch(root, mode)
            .map_err(|err| format!("cannot watch {}: {err}", root.display()))?;
    }

    let debounce = spec.debounce;
    let task = tokio::spawn(async move {
        while let Some(paths) = events.recv().await {
            let mut burst: Vec<PathBuf> = paths.into_iter().filter(|p| filter.counts(p)).collect();
            if burst.is_empty() {
                continue;
            }
            // Trailing debounce: wait until nothing has changed for `debounce` (a file saved
            // in a tight loop restarts once it settles, as with nodemon).
            loop {
                match tokio::time::timeout(debounce, events.recv()).await {
                    Ok(Some(more)) => burst.extend(more.into_iter().filter(|p| filter.counts(p))),
                    Ok(None) => return,
                    Err(_) => break,
                }
            }
            burst.sort();
            burst.dedup();
            changed(burst);
        }
    });
    Ok(WatchTask {
        _watcher: watcher,
        task,
    })
}

/// "src/main.rs", or "src/main.rs and 3 more", relative to `cwd` where possible.
pub(crate) fn describe_changes(paths: &[PathBuf], cwd: &Path) -> String {
    let cwd = cwd.canonicalize().unwrap_or_else(|_| cwd.to_path_buf());
    let first = paths
        .first()
        .map(|p| p.strip_prefix(&cwd).unwrap_or(p).display().to_string())
        .unwrap_or_default();
    match paths.len() {
        0 => "files changed".into(),
        1 => first,
        n => format!("{first} and {} more", n - 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(ignore: &[&str]) -> Filter {
        let mut set = GlobSetBuilder::new();
        for glob in ignore {
            set.add(Glob::new(glob).unwrap());
        }
        Filter {
            roots: vec![PathBuf::from("/p")],
            ignore: set.build().unwrap(),
            engine: EngineFiles {
                log_dir: PathBuf::from("/p/.sentinel/logs"),
                data_dir: PathBuf::from("/p/.sentinel"),
            },
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_burst_of_writes_is_reported_once() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("src")).unwrap();
        let (sender, mut reports) = tokio::sync::mpsc::unbounded_channel();
        let spec = WatchSpec {
            debounce: std::time::Duration::from_millis(200),
            ..WatchSpec::default()
        };
        let engine = EngineFiles {
            log_dir: dir.path().join("logs"),
            data_dir: dir.path().to_path_buf(),
        };
        let _task = spawn_watch(&spec, dir.path(), engine, move |paths| {
            let _ = sender.send(paths);
        })
        .unwrap();
        std::fs::write(dir.path().join("engine.db"), "not a change of the project").unwrap();
        for i in 0..10 {
            std::fs::write(dir.path().join("src/a.txt"), format!("{i}")).unwrap();
        }
        let paths = tokio::time::timeout(std::time::Duration::from_secs(10), reports.recv())
            .await
            .expect("a report")
            .unwrap();
        assert_eq!(
            paths,
            vec![dir.path().canonicalize().unwrap().join("src/a.txt")]
        );
    }

    #[test]
    fn defaults_globs_and_engine_files_are_ignored() {
        let f = filter(&["*.log", "tmp"]);
        assert!(f.counts(Path::new("/p/src/main.rs")));
        assert!(f.counts(Path::new("/p/README")));
        assert!(f.counts(Path::new("/p/.sentinel/project/app.js")));
        for ignored in [
            "/p/.git/index",
            "/p/web/node_modules/x/index.js",
            "/p/target/debug/app",
            "/p/out.log",
            "/p/deep/er/out.log",
            "/p/tmp/cache/x",
            "/p/tmp",
            "/p/.sentinel/logs/api.log",
            "/p/.sentinel/engine.db-wal",
        ] {
            assert!(!f.counts(Path::new(ignored)), "{ignored} should be ignored");
        }
    }
}
