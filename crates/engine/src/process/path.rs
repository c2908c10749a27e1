//! The PATH jobs are started with. A GUI app on macOS inherits launchd's minimal PATH, not the
//! user's shell PATH, so `node` or Homebrew tools would not be found: ask the user's login
//! shell once, in the background, as an interactive login shell (`-ilc`: zsh reads `~/.zshrc`
//! only when interactive, and that is where nvm, pyenv and `brew shellenv` add to PATH).
//!
//! The shell runs off the main thread, as soon as the app starts ([`resolve_in_background`]),
//! in a session of its own with stdin from /dev/null, with a time limit
//! ([`LOGIN_SHELL_LIMIT`]); the PATH is read between markers so whatever rc files print is
//! ignored. If it fails or takes too long, jobs get the inherited PATH and a warning says so.

use std::ffi::OsString;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use crate::later::Later;

/// Marks the PATH in the shell's output, so that whatever its profile prints is ignored.
const MARKER: &str = "__SENTINEL_PATH__";

/// How long the login shell may take to print its PATH. 10 s, as VS Code does: it tried 3 s
/// and went back to 10 (microsoft/vscode#106537, #152655) because real setups (nvm, conda,
/// oh-my-zsh on a cold login) take seconds, and a limit too short brings back the very bug
/// (jobs that don't find `node`). The shell runs in the background from the app's first
/// moment, so the limit only matters when a profile hangs: then jobs wait at most this long
/// for their PATH, and start with the inherited one.
pub const LOGIN_SHELL_LIMIT: Duration = Duration::from_secs(10);

/// Set for the shell, so rc files can skip what only makes sense at a terminal (VS Code sets
/// `VSCODE_RESOLVING_ENVIRONMENT` for the same purpose).
pub const RESOLVING_ENV: &str = "SENTINEL_RESOLVING_ENVIRONMENT";

/// How the login shell is run: the program, its arguments, what is added to its environment
/// and where it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShellCommand {
    pub program: PathBuf,
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
    pub cwd: Option<PathBuf>,
}

/// The command that prints the PATH of `shell` as an interactive login shell, between
/// markers. The PATH is printed by `printenv` (the exported, colon-separated value in every
/// shell; fish's `"$PATH"` would join with spaces). csh and tcsh take `-l` only alone, so they
/// run as `-ic`, as VS Code does.
pub fn login_shell_command(shell: &Path, home: Option<&Path>) -> ShellCommand {
    let script = format!("echo {MARKER}; /usr/bin/printenv PATH; echo {MARKER}");
    let name = shell
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut args: Vec<String> = match name.trim_start_matches('-') {
        "csh" | "tcsh" => vec!["-ic".into()],
        _ => vec!["-i".into(), "-l".into(), "-c".into()],
    };
    args.push(script);
    ShellCommand {
        program: shell.to_path_buf(),
        args,
        env: vec![
            // oh-my-zsh: no "update now?" prompt.
            ("DISABLE_AUTO_UPDATE".into(), "true".into()),
            (RESOLVING_ENV.into(), "1".into()),
        ],
        cwd: home.map(Path::to_path_buf),
    }
}

/// The shell to ask: the one in the user's account record, else `$SHELL` (which may be stale,
/// or missing under launchd), else `/bin/zsh` (macOS's default).
pub fn choose_shell(record: Option<&Path>, env_shell: Option<&std::ffi::OsStr>) -> PathBuf {
    if let Some(shell) = record.filter(|shell| shell.is_absolute()) {
        return shell.to_path_buf();
    }
    if let Some(shell) = env_shell.filter(|shell| Path::new(shell).is_absolute()) {
        return PathBuf::from(shell);
    }
    PathBuf::from("/bin/zsh")
}

/// This user's login shell and home directory, from the account record.
pub fn account_shell() -> (PathBuf, Option<PathBuf>) {
    let user = nix::unistd::User::from_uid(nix::unistd::getuid())
        .ok()
        .flatten();
    let shell = choose_shell(
        user.as_ref()
            .map(|user| user.shell.as_path())
            .filter(|shell| !shell.as_os_str().is_empty()),
        std::env::var_os("SHELL").as_deref(),
    );
    (shell, user.map(|user| user.dir))
}

/// Runs `command` and returns the PATH it printed, or why there is none. The shell runs in a
/// new session (it cannot take a terminal's foreground group) with stdin from /dev/null and
/// stderr discarded. Past `limit` its whole process group is killed.
pub fn read_login_shell_path(command: &ShellCommand, limit: Duration) -> Result<String, String> {
    use std::os::unix::process::CommandExt;
    use std::process::{Command, Stdio};
    let shown = command.program.display().to_string();
    let mut cmd = Command::new(&command.program);
    cmd.args(&command.args)
        .envs(command.env.iter().map(|(key, value)| (key, value)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    if let Some(dir) = command.cwd.as_ref().filter(|dir| dir.is_dir()) {
        cmd.current_dir(dir);
    }
    // SAFETY: setsid is async-signal-safe and allocates nothing.
    unsafe {
        cmd.pre_exec(|| {
            nix::unistd::setsid()
                .map(drop)
                .map_err(|errno| std::io::Error::from_raw_os_error(errno as i32))
        });
    }
    let deadline = Instant::now().later(limit);
    let mut child = cmd
        .spawn()
        .map_err(|err| format!("cannot run {shown}: {err}"))?;
    let Some(mut stdout) = child.stdout.take() else {
        let _ = child.kill();
        return Err(format!("cannot read what {shown} prints"));
    };
    let (chunks, output) = mpsc::channel::<Vec<u8>>();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n @ 1..) = stdout.read(&mut buf) {
            if chunks.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let mut printed = Vec::new();
    let result = loop {
        if let Some(path) = parse_login_shell_path(&String::from_utf8_lossy(&printed)) {
            break Ok(path);
        }
        match output.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(chunk) => printed.extend(chunk),
            Err(mpsc::RecvTimeoutError::Timeout) => {
                break Err(format!(
                    "{shown} did not print its PATH within {} s",
                    limit.as_secs_f64()
                ))
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                let status = child
                    .wait()
                    .map(|status| status.to_string())
                    .unwrap_or_else(|err| err.to_string());
                break Err(format!(
                    "{shown} ended without printing its PATH ({status})"
                ));
            }
        }
    };
    // The shell is left to exit until the deadline, then its group goes; off this thread so
    // the PATH is not held back.
    std::thread::spawn(move || {
        let pgid = nix::unistd::Pid::from_raw(child.id() as i32);
        while Instant::now() < deadline {
            if !matches!(child.try_wait(), Ok(None)) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = nix::sys::signal::killpg(pgid, nix::sys::signal::Signal::SIGKILL);
        let _ = child.wait();
    });
    result
}

/// Extracts the PATH from the login shell's output, ignoring anything its profile printed.
pub fn parse_login_shell_path(output: &str) -> Option<String> {
    let start = output.find(MARKER)? + MARKER.len();
    let len = output[start..].find(MARKER)?;
    let path = output[start..start + len].trim();
    (!path.is_empty() && !path.contains('\n')).then(|| path.to_string())
}

/// The PATH the engine inherited, or the system's default.
fn inherited_path() -> OsString {
    std::env::var_os("PATH").unwrap_or_else(|| "/usr/bin:/bin:/usr/sbin:/sbin".into())
}

/// The PATH for jobs: the login shell's on macOS, else (and when the shell fails, with a
/// warning) the inherited one.
fn resolve() -> OsString {
    let inherited = inherited_path();
    if !cfg!(target_os = "macos") {
        return inherited;
    }
    let (shell, home) = account_shell();
    match read_login_shell_path(
        &login_shell_command(&shell, home.as_deref()),
        LOGIN_SHELL_LIMIT,
    ) {
        Ok(path) => {
            tracing::info!(shell = %shell.display(), "jobs get the login shell's PATH: {path}");
            path.into()
        }
        Err(err) => {
            tracing::warn!(
                "cannot read the login shell's PATH: {err}; jobs get the inherited PATH ({}) unless they set their own",
                inherited.to_string_lossy()
            );
            inherited
        }
    }
}

static STARTED: AtomicBool = AtomicBool::new(false);
static PENDING: Mutex<Option<mpsc::Receiver<OsString>>> = Mutex::new(None);

/// Starts reading the login shell's PATH on a thread of its own, once; call it as early as
/// possible (the app does, before its window and tray exist) so that the engine rarely waits.
pub fn resolve_in_background() {
    let mut pending = PENDING.lock().unwrap_or_else(|p| p.into_inner());
    if STARTED.swap(true, Ordering::SeqCst) {
        return;
    }
    let (tx, rx) = mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("login-shell-path".into())
        .spawn(move || {
            let _ = tx.send(resolve());
        });
    if let Err(err) = spawned {
        tracing::warn!("cannot read the login shell's PATH: {err}");
    }
    *pending = Some(rx);
}

/// The PATH used for jobs that do not set their own. The first call waits for
/// [`resolve_in_background`] (started here if it was not), at most [`LOGIN_SHELL_LIMIT`].
pub fn default_search_path() -> OsString {
    static PATH: OnceLock<OsString> = OnceLock::new();
    PATH.get_or_init(|| {
        resolve_in_background();
        let pending = PENDING.lock().unwrap_or_else(|p| p.into_inner()).take();
        pending
            .and_then(|rx| rx.recv().ok())
            .unwrap_or_else(inherited_path)
    })
    .clone()
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
        let lines = format!("\x1b[1mmotd\x1b[0m\n{MARKER}\n/a/bin:/b/bin\n{MARKER}\nbye\n");
        assert_eq!(
            parse_login_shell_path(&lines).as_deref(),
            Some("/a/bin:/b/bin")
        );
        assert_eq!(parse_login_shell_path("no marker here"), None);
        assert_eq!(parse_login_shell_path(&format!("{MARKER}{MARKER}")), None);
        assert_eq!(
            parse_login_shell_path(&format!("{MARKER}\n/a\nnoise\n{MARKER}")),
            None,
            "more than one line between the markers is not a PATH"
        );
        // Only the first marker opens: an unfinished second one is not read.
        assert_eq!(parse_login_shell_path(&format!("{MARKER}\n/a")), None);
    }

    #[test]
    fn the_command_is_an_interactive_login_shell_in_the_home() {
        let command = login_shell_command(Path::new("/bin/zsh"), Some(Path::new("/Users/me")));
        assert_eq!(command.program, Path::new("/bin/zsh"));
        assert_eq!(&command.args[..3], ["-i", "-l", "-c"]);
        assert_eq!(
            command.args[3],
            format!("echo {MARKER}; /usr/bin/printenv PATH; echo {MARKER}")
        );
        assert_eq!(command.cwd.as_deref(), Some(Path::new("/Users/me")));
        assert!(command
            .env
            .contains(&("DISABLE_AUTO_UPDATE".into(), "true".into())));
        assert!(command.env.contains(&(RESOLVING_ENV.into(), "1".into())));
        for csh in ["/bin/csh", "/bin/tcsh"] {
            let command = login_shell_command(Path::new(csh), None);
            assert_eq!(command.args[0], "-ic", "{csh}");
            assert_eq!(command.args.len(), 2);
        }
        let fish = login_shell_command(Path::new("/opt/homebrew/bin/fish"), None);
        assert_eq!(&fish.args[..3], ["-i", "-l", "-c"]);
    }

    #[test]
    fn the_shell_comes_from_the_account_record_first() {
        let zsh = Path::new("/bin/zsh");
        let bash = std::ffi::OsStr::new("/bin/bash");
        assert_eq!(choose_shell(Some(zsh), Some(bash)), zsh);
        assert_eq!(choose_shell(None, Some(bash)), Path::new("/bin/bash"));
        assert_eq!(
            choose_shell(Some(Path::new("")), Some(bash)),
            Path::new("/bin/bash")
        );
        assert_eq!(
            choose_shell(None, Some(std::ffi::OsStr::new(""))),
            Path::new("/bin/zsh")
        );
        assert_eq!(choose_shell(None, None), Path::new("/bin/zsh"));
        // The real record, whatever it says here, is an absolute path.
        assert!(account_shell().0.is_absolute());
    }

    /// A home whose profile prints noise before and after changing PATH.
    fn noisy_home(profile_name: &str, extra: &str) -> tempfile::TempDir {
        let home = tempfile::tempdir().unwrap();
        std::fs::write(
            home.path().join(profile_name),
            format!(
                "echo 'Welcome to a noisy profile'\nprintf '\\033[1mbold\\033[0m\\n'\nexport PATH=/opt/sentinel-test/bin:$PATH\n{extra}echo 'bye'\n"
            ),
        )
        .unwrap();
        home
    }

    fn command_in(shell: &str, home: &Path) -> ShellCommand {
        let mut command = login_shell_command(Path::new(shell), Some(home));
        command
            .env
            .push(("HOME".into(), home.display().to_string()));
        // The test's own ENV/BASH_ENV must not add to the profile.
        command.env.push(("ENV".into(), String::new()));
        command
    }

    #[test]
    fn a_real_login_shell_gives_its_path_despite_profile_noise() {
        for (shell, profile) in [("/bin/sh", ".profile"), ("/bin/bash", ".bash_profile")] {
            if !Path::new(shell).exists() {
                continue;
            }
            let home = noisy_home(profile, "");
            let path = read_login_shell_path(&command_in(shell, home.path()), LOGIN_SHELL_LIMIT)
                .unwrap_or_else(|err| panic!("{shell}: {err}"));
            assert!(
                path.starts_with("/opt/sentinel-test/bin:"),
                "{shell}: {path}"
            );
            assert!(!path.contains('\n') && !path.contains("Welcome"), "{path}");
        }
    }

    #[test]
    fn a_hanging_profile_is_cut_off_at_the_limit_and_its_group_killed() {
        let home = tempfile::tempdir().unwrap();
        let pid_file = home.path().join("pid");
        std::fs::write(
            home.path().join(".profile"),
            format!("echo $$ > '{}'\nsleep 30\n", pid_file.display()),
        )
        .unwrap();
        let started = Instant::now();
        let err = read_login_shell_path(
            &command_in("/bin/sh", home.path()),
            Duration::from_millis(700),
        )
        .unwrap_err();
        assert!(err.contains("did not print its PATH within 0.7 s"), "{err}");
        assert!(started.elapsed() < Duration::from_secs(5));
        let pid: i32 = std::fs::read_to_string(&pid_file)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        // The shell led a session and group of its own, then was killed.
        let gone = Instant::now() + Duration::from_secs(5);
        loop {
            let alive = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                None::<nix::sys::signal::Signal>,
            )
            .is_ok();
            if !alive {
                break;
            }
            assert!(Instant::now() < gone, "the shell {pid} is still running");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    #[test]
    fn a_missing_shell_or_one_that_prints_nothing_is_an_error() {
        let missing = login_shell_command(Path::new("/nonexistent/shell"), None);
        let err = read_login_shell_path(&missing, LOGIN_SHELL_LIMIT).unwrap_err();
        assert!(err.starts_with("cannot run /nonexistent/shell"), "{err}");
        let silent = ShellCommand {
            program: "/bin/sh".into(),
            args: vec!["-c".into(), "echo nothing; exit 3".into()],
            env: Vec::new(),
            cwd: None,
        };
        let err = read_login_shell_path(&silent, LOGIN_SHELL_LIMIT).unwrap_err();
        assert!(err.contains("ended without printing its PATH"), "{err}");
        assert!(err.contains('3'), "{err}");
    }

    #[test]
    fn the_default_path_is_never_empty() {
        assert!(!default_search_path().is_empty());
    }
}
