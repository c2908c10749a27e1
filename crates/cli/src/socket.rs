//! The engine's socket: where it is, and what a failed connection to it means.

use std::path::{Path, PathBuf};

use crate::error::CliError;

/// `--socket` (or `SENTINEL_SOCKET`), else the engine's own default for this home.
pub fn socket_path(socket: Option<PathBuf>) -> Result<PathBuf, CliError> {
    socket
        .or_else(|| sentinel_engine::EnginePaths::from_env().map(|p| p.socket))
        .ok_or_else(|| {
            CliError::Other(
                "cannot tell where the engine's socket is: set SENTINEL_HOME or --socket".into(),
            )
        })
}

/// What a failed connection to the socket means: nobody listens there (no engine), the socket
/// (or a directory on its way) is not this user's to open, or something else the OS says.
pub fn connect_error(socket: &Path, err: &std::io::Error) -> CliError {
    use std::io::ErrorKind;
    match err.kind() {
        ErrorKind::NotFound | ErrorKind::ConnectionRefused => {
            CliError::NoEngine(socket.to_path_buf())
        }
        ErrorKind::PermissionDenied => CliError::PermissionDenied {
            socket: socket.to_path_buf(),
            owner: owner_of(socket),
        },
        _ => CliError::Other(format!(
            "cannot connect to the engine at {}: {err}",
            socket.display()
        )),
    }
}

/// Who owns the socket, or the nearest directory on its way this user can see: `root`, or
/// `/tmp/x (root)` for a directory.
fn owner_of(socket: &Path) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let (path, metadata) = socket
        .ancestors()
        .find_map(|path| std::fs::metadata(path).ok().map(|m| (path, m)))?;
    let user = user_name(metadata.uid()).unwrap_or_else(|| format!("uid {}", metadata.uid()));
    Some(if path == socket {
        user
    } else {
        format!("{user}, who owns {}", path.display())
    })
}

/// A user's name from `/etc/passwd`, when it is there.
fn user_name(uid: u32) -> Option<String> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        (fields.nth(1)?.parse::<u32>().ok()? == uid).then(|| name.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_socket_this_user_may_not_open_is_permission_denied_not_no_engine() {
        let dir = std::env::temp_dir();
        let socket = dir.join("sentinel-test-nowhere").join("sentinel.sock");
        let denied = std::io::Error::from(std::io::ErrorKind::PermissionDenied);
        let message = connect_error(&socket, &denied).to_string();
        assert!(message.contains("permission denied"), "{message}");
        assert!(message.contains(&socket.display().to_string()), "{message}");
        assert!(!message.contains("no SentinelZero engine"), "{message}");
        // The nearest directory that exists is named with its owner.
        assert!(message.contains(&dir.display().to_string()), "{message}");

        let missing = std::io::Error::from(std::io::ErrorKind::NotFound);
        assert!(matches!(
            connect_error(&socket, &missing),
            CliError::NoEngine(_)
        ));
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert!(matches!(
            connect_error(&socket, &refused),
            CliError::NoEngine(_)
        ));
    }

    #[test]
    fn user_names_come_from_the_password_file() {
        assert_eq!(user_name(0).as_deref(), Some("root"));
    }
}
