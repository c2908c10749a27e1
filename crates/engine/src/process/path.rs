//! The PATH jobs are started with. A GUI app on macOS inherits launchd's minimal PATH, not the
//! user's shell PATH, so `node` or Homebrew tools would not be found: ask the login shell once.

use std::ffi::OsString;
use std::sync::OnceLock;

/// Marks the PATH in the shell's output, so that whatever its profile prints is ignored.
const MARKER: &str = "__SENTINEL_PATH__";

/// The PATH used for jobs that do not set their own.
pub fn default_search_path() -> OsString {
    static PATH: OnceLock<OsString> = OnceLock::new();
    PATH.get_or_init(|| {
        let inherited =
            std::env::var_os("PATH").unwrap_or_else(|| "/usr/bin:/bin:/usr/sbin:/sbin".into());
        #[cfg(target_os = "macos")]
        if let Some(login) = login_shell_path() {
            return login;
        }
        inherited
    })
    .clone()
}

#[cfg(target_os = "macos")]
fn login_shell_path() -> Option<OsString> {
    use std::process::{Command, Stdio};
    let shell = std::env::var("SHELL").unwrap_or_else(|_| "/bin/zsh".into());
    let output = Command::new(shell)
        .args([
            "-l",
            "-c",
            &format!("printf '{MARKER}%s{MARKER}' \"$PATH\""),
        ])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    parse_login_shell_path(&String::from_utf8_lossy(&output.stdout)).map(OsString::from)
}

/// Extracts the PATH from the login shell's output, ignoring anything its profile printed.
pub fn parse_login_shell_path(output: &str) -> Option<String> {
    let start = output.find(MARKER)? + MARKER.len();
    let len = output[start..].find(MARKER)?;
    let path = output[start..start + len].trim();
    (!path.is_empty()).then(|| path.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_path_among_profile_noise() {
        let output = format!("Welcome!\n{MARKER}/opt/homebrew/bin:/usr/bin{MARKER}\nbye");
        assert_eq!(
            parse_login_shell_path(&output).as_deref(),
            Some("/opt/homebrew/bin:/usr/bin")
        );
        assert_eq!(parse_login_shell_path("no marker here"), None);
        assert_eq!(parse_login_shell_path(&format!("{MARKER}{MARKER}")), None);
    }

    #[test]
    fn the_default_path_is_never_empty() {
        assert!(!default_search_path().is_empty());
    }
}
