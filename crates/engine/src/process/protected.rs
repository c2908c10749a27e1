//! Protected folders on macOS. The privacy controls (TCC) charge what a job reads to the app
//! that started it: a job whose working directory or program is in ~/Documents, ~/Desktop,
//! ~/Downloads, iCloud Drive, a cloud-storage folder or another volume fails with EPERM
//! ("Operation not permitted") until SentinelZero is granted access. The run's reason then
//! says how to fix it. (BSD permissions and ACLs fail with EACCES instead, which gets no hint.)

use std::path::{Path, PathBuf};

use sentinel_proto::JobSpec;

/// What to do about it, appended to the reason.
pub const FULL_DISK_ACCESS_HINT: &str = "macOS privacy protection keeps SentinelZero out of Documents, Desktop, Downloads, iCloud Drive and other volumes until allowed: grant SentinelZero Full Disk Access in System Settings › Privacy & Security › Full Disk Access (on macOS 12: System Preferences › Security & Privacy › Privacy › Full Disk Access), then start the job again";

/// The folders TCC protects, under `home` and elsewhere.
fn protected_roots(home: &Path) -> Vec<PathBuf> {
    let mut roots: Vec<PathBuf> = [
        "Documents",
        "Desktop",
        "Downloads",
        // iCloud Drive, and file-provider folders (Dropbox, OneDrive, Google Drive…).
        "Library/Mobile Documents",
        "Library/CloudStorage",
    ]
    .iter()
    .map(|dir| home.join(dir))
    .collect();
    roots.push(PathBuf::from("/Volumes"));
    roots
}

/// Whether `path` is in a folder macOS's privacy controls protect (for `home`'s user).
pub fn is_protected(path: &Path, home: &Path) -> bool {
    // `/Volumes` itself is only the list of volumes.
    path != Path::new("/Volumes")
        && protected_roots(home)
            .iter()
            .any(|root| path.starts_with(root))
}

/// The hint for an error `errno` on `paths`: only EPERM (TCC's refusal) on a protected path.
pub fn protected_folder_hint(
    errno: Option<i32>,
    paths: &[&Path],
    home: &Path,
) -> Option<&'static str> {
    (errno == Some(nix::libc::EPERM) && paths.iter().any(|path| is_protected(path, home)))
        .then_some(FULL_DISK_ACCESS_HINT)
}

/// The OS error number in an `io::Error`'s message (`… (os error 1)`).
pub fn errno_in(message: &str) -> Option<i32> {
    let start = message.rfind("(os error ")? + "(os error ".len();
    let len = message[start..].find(')')?;
    message[start..start + len].parse().ok()
}

/// `reason` (why a job could not start), with the fix when it is a protected folder's refusal:
/// the job's working directory or program is protected, or the reason names a protected path.
pub fn explain_spawn_failure(
    reason: String,
    cwd: Option<&Path>,
    program: Option<&str>,
    home: &Path,
) -> String {
    let program = program.filter(|p| p.contains('/')).map(|p| match cwd {
        Some(cwd) => cwd.join(p),
        None => PathBuf::from(p),
    });
    // Paths the reason names ("cannot execute <path>: …", "working directory <path>: …"):
    // a program found on PATH.
    let mentioned: Vec<PathBuf> = protected_roots(home)
        .iter()
        .filter_map(|root| {
            let at = reason.find(&format!("{}/", root.display()))?;
            let named = &reason[at..];
            Some(PathBuf::from(
                &named[..named.find(": ").unwrap_or(named.len())],
            ))
        })
        .collect();
    let mut paths: Vec<&Path> = cwd.into_iter().collect();
    paths.extend(program.as_deref());
    paths.extend(mentioned.iter().map(PathBuf::as_path));
    match protected_folder_hint(errno_in(&reason), &paths, home) {
        Some(hint) => format!("{reason}; {hint}"),
        None => reason,
    }
}

/// [`explain_spawn_failure`] for `spec`, on macOS (elsewhere the reason as it is).
pub(crate) fn explain(reason: String, spec: &JobSpec) -> String {
    if !cfg!(target_os = "macos") {
        return reason;
    }
    let Some(home) = directories::BaseDirs::new().map(|dirs| dirs.home_dir().to_path_buf()) else {
        return reason;
    };
    let cwd = spec.cwd.clone().or_else(|| std::env::current_dir().ok());
    let argv = spec.argv().unwrap_or_default();
    explain_spawn_failure(
        reason,
        cwd.as_deref(),
        argv.first().map(String::as_str),
        &home,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOME: &str = "/Users/me";

    fn eperm() -> String {
        std::io::Error::from_raw_os_error(nix::libc::EPERM).to_string()
    }

    #[test]
    fn the_protected_folders() {
        let home = Path::new(HOME);
        for path in [
            "/Users/me/Documents/api",
            "/Users/me/Desktop/x/run.sh",
            "/Users/me/Downloads/tool",
            "/Users/me/Library/Mobile Documents/com~apple~CloudDocs/site",
            "/Users/me/Library/CloudStorage/Dropbox/app",
            "/Volumes/External/project",
            "/Users/me/Documents",
        ] {
            assert!(is_protected(Path::new(path), home), "{path}");
        }
        for path in [
            "/Users/me/code/api",
            "/Users/me/DocumentsOld/api",
            "/Users/other/Documents/api",
            "/Applications/Tool.app",
            "/VolumesX/a",
            "/Volumes",
            "/tmp",
        ] {
            assert!(!is_protected(Path::new(path), home), "{path}");
        }
    }

    #[test]
    fn only_eperm_on_a_protected_path_gets_the_hint() {
        let home = Path::new(HOME);
        let docs = Path::new("/Users/me/Documents/api");
        let code = Path::new("/Users/me/code/api");
        let eperm = Some(nix::libc::EPERM);
        assert_eq!(
            protected_folder_hint(eperm, &[docs], home),
            Some(FULL_DISK_ACCESS_HINT)
        );
        assert_eq!(
            protected_folder_hint(eperm, &[code, docs], home),
            Some(FULL_DISK_ACCESS_HINT)
        );
        assert_eq!(protected_folder_hint(eperm, &[code], home), None);
        assert_eq!(
            protected_folder_hint(Some(nix::libc::EACCES), &[docs], home),
            None,
            "permissions and ACLs are not TCC"
        );
        assert_eq!(protected_folder_hint(None, &[docs], home), None);
        assert!(FULL_DISK_ACCESS_HINT.contains(
            "grant SentinelZero Full Disk Access in System Settings › Privacy & Security › Full Disk Access"
        ));
    }

    #[test]
    fn the_errno_is_read_from_the_io_error_message() {
        // Pins std's format: if it changed, the hint would silently stop.
        assert_eq!(errno_in(&eperm()), Some(nix::libc::EPERM));
        assert_eq!(
            errno_in(&format!("cannot execute /bin/x: {}", eperm())),
            Some(1)
        );
        assert_eq!(errno_in("exit 1"), None);
        assert_eq!(errno_in("(os error x)"), None);
    }

    #[test]
    fn a_spawn_failure_in_a_protected_folder_says_how_to_fix_it() {
        let home = Path::new(HOME);
        // chdir into the working directory refused (the message names the program).
        let reason = format!("cannot execute /usr/bin/python3: {}", eperm());
        let explained = explain_spawn_failure(
            reason.clone(),
            Some(Path::new("/Users/me/Documents/site")),
            Some("python3"),
            home,
        );
        assert_eq!(explained, format!("{reason}; {FULL_DISK_ACCESS_HINT}"));
        // The program itself, relative to the working directory.
        let explained = explain_spawn_failure(
            reason.clone(),
            Some(Path::new("/Users/me/Desktop")),
            Some("./serve"),
            home,
        );
        assert!(explained.ends_with(FULL_DISK_ACCESS_HINT));
        // A program found on PATH in a protected folder: named by the reason.
        let found = format!("cannot execute /Volumes/Tools/bin/serve: {}", eperm());
        let explained = explain_spawn_failure(
            found,
            Some(Path::new("/Users/me/code")),
            Some("serve"),
            home,
        );
        assert!(explained.ends_with(FULL_DISK_ACCESS_HINT), "{explained}");
        // The working directory check before the spawn.
        let cwd = format!("working directory /Users/me/Downloads/x: {}", eperm());
        assert!(explain_spawn_failure(cwd, None, Some("x"), home).ends_with(FULL_DISK_ACCESS_HINT));
        // Anything else is left as it was.
        for (reason, cwd) in [
            (
                format!("cannot execute /usr/bin/python3: {}", eperm()),
                "/Users/me/code",
            ),
            (
                format!(
                    "cannot execute /usr/bin/python3: {}",
                    std::io::Error::from_raw_os_error(nix::libc::EACCES)
                ),
                "/Users/me/Documents",
            ),
            (
                "program \"nope\" not found".to_string(),
                "/Users/me/Documents",
            ),
        ] {
            assert_eq!(
                explain_spawn_failure(reason.clone(), Some(Path::new(cwd)), Some("python3"), home),
                reason
            );
        }
    }
}
