//! Where the engine keeps its database, logs and socket.

use std::path::{Path, PathBuf};

/// Every location the engine uses. `SENTINEL_HOME` puts all of them under one directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnginePaths {
    pub data_dir: PathBuf,
    pub log_dir: PathBuf,
    pub socket: PathBuf,
}

impl EnginePaths {
    /// Everything under one directory: `sentinel.db`, `logs/`, `sentinel.sock`.
    pub fn under(home: &Path) -> EnginePaths {
        EnginePaths {
            data_dir: home.to_path_buf(),
            log_dir: home.join("logs"),
            socket: home.join("sentinel.sock"),
        }
    }

    /// `SENTINEL_HOME` if set, else the platform's conventions: on macOS
    /// `~/Library/Application Support/SentinelZero` and `~/Library/Logs/SentinelZero`; on Linux
    /// the XDG data dir, with the socket in `$XDG_RUNTIME_DIR` when there is one.
    pub fn from_env() -> Option<EnginePaths> {
        if let Some(home) = std::env::var_os("SENTINEL_HOME").filter(|v| !v.is_empty()) {
            return Some(EnginePaths::under(Path::new(&home)));
        }
        let dirs = directories::ProjectDirs::from("", "", "SentinelZero")?;
        let data_dir = dirs.data_dir().to_path_buf();
        let log_dir = platform_log_dir(&dirs);
        let socket = dirs
            .runtime_dir()
            .map(|dir| dir.join("sentinel.sock"))
            .unwrap_or_else(|| data_dir.join("sentinel.sock"));
        Some(EnginePaths {
            data_dir,
            log_dir,
            socket,
        })
    }

    pub fn database(&self) -> PathBuf {
        self.data_dir.join("sentinel.db")
    }

    /// Engine-wide settings; absent means defaults.
    pub fn settings_file(&self) -> PathBuf {
        self.data_dir.join("settings.toml")
    }

    /// The named engines of other machines (`sentinel context`, the app's Engines).
    pub fn contexts_file(&self) -> PathBuf {
        self.data_dir.join(sentinel_proto::remote::CONTEXTS_FILE)
    }

    /// The bearer token of the TCP metrics endpoint.
    pub fn metrics_token(&self) -> PathBuf {
        self.data_dir.join("metrics.token")
    }
}

#[cfg(target_os = "macos")]
fn platform_log_dir(_dirs: &directories::ProjectDirs) -> PathBuf {
    directories::BaseDirs::new()
        .map(|base| base.home_dir().join("Library/Logs/SentinelZero"))
        .unwrap_or_else(|| _dirs.data_dir().join("logs"))
}

#[cfg(not(target_os = "macos"))]
fn platform_log_dir(dirs: &directories::ProjectDirs) -> PathBuf {
    dirs.data_local_dir().join("logs")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_home_holds_everything() {
        let paths = EnginePaths::under(Path::new("/tmp/sz"));
        assert_eq!(paths.database(), Path::new("/tmp/sz/sentinel.db"));
        assert_eq!(paths.log_dir, Path::new("/tmp/sz/logs"));
        assert_eq!(paths.socket, Path::new("/tmp/sz/sentinel.sock"));
    }
}
