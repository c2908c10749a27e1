//! Launch at login. Linux: a systemd user unit with `Restart=on-failure`, or an XDG autostart
//! entry where there is no systemd user session. macOS: a LaunchAgent plist in
//! `~/Library/LaunchAgents`, which launchd loads at the next login. The files and every
//! decision about them are portable code, tested everywhere.
//!
//! Why a LaunchAgent file and not SMAppService (smappservice-rs): SMAppService needs macOS 13
//! and `tauri.conf.json` promises 12.0 (`minimumSystemVersion`), so a 12.x path would be
//! needed anyway; an Agent registered through it is bootstrapped at once (with RunAtLoad, a
//! second copy of the app while this one runs) and needs a signed bundle, while `MainApp`
//! registration has no plist, hence no restart after a crash. A plain file does what we need
//! on 12 and later, is written and removed without touching the running app, and its content
//! is a pure function tested on Linux.
//!
//! What the file must never do to the running app:
//! - Turning it on writes the file only: no `launchctl bootstrap`, which would start a second
//!   instance at once (RunAtLoad). It takes effect at the next login.
//! - Turning it off removes the file only: no `launchctl bootout`, which would send SIGTERM to
//!   this very app when launchd started it, and every job with it. It takes effect at the next
//!   login.
//! - `KeepAlive = {SuccessfulExit = false}` with a `ThrottleInterval`: launchd brings the app
//!   back after a crash, not after Quit (exit 0). An app that cannot start because another
//!   engine holds the lock exits 0 too ([`start_failure_exit_code`]), or it would be
//!   respawned for ever.
//! - Refused from a disk image or a translocated copy ([`location_problem`]), whose path is
//!   gone after the next reboot; a file that points at a program that no longer exists reads
//!   as off ([`is_enabled`]).

use std::path::{Path, PathBuf};
use std::process::Command;

/// The LaunchAgent's label, also its file name.
pub const LABEL: &str = "dev.sentinelzero.app";
/// The app's bundle identifier (`identifier` in tauri.conf.json), named in the agent so that
/// System Settings › Login Items shows SentinelZero rather than a bare path (macOS 13+).
pub const BUNDLE_ID: &str = "dev.sentinelzero.app";
/// Seconds launchd waits before starting the agent again after it ended (its default is 10).
pub const THROTTLE_INTERVAL: i64 = 30;
const UNIT: &str = "sentinelzero.service";

/// The LaunchAgent property list for `program`, with its stderr appended to `stderr` (an
/// absolute path: launchd does not expand `~`).
pub fn launch_agent(program: &Path, stderr: &Path) -> Vec<u8> {
    let mut keep_alive = plist::Dictionary::new();
    keep_alive.insert("SuccessfulExit".into(), plist::Value::Boolean(false));
    let mut agent = plist::Dictionary::new();
    agent.insert("Label".into(), LABEL.into());
    agent.insert(
        "ProgramArguments".into(),
        plist::Value::Array(vec![program.display().to_string().into()]),
    );
    agent.insert("RunAtLoad".into(), plist::Value::Boolean(true));
    // Back after a crash (or a signal), not after Quit or a refused start (both exit 0).
    agent.insert("KeepAlive".into(), plist::Value::Dictionary(keep_alive));
    agent.insert(
        "ThrottleInterval".into(),
        plist::Value::Integer(THROTTLE_INTERVAL.into()),
    );
    agent.insert(
        "StandardErrorPath".into(),
        stderr.display().to_string().into(),
    );
    agent.insert(
        "AssociatedBundleIdentifiers".into(),
        plist::Value::Array(vec![BUNDLE_ID.into()]),
    );
    // A GUI app: only in the user's graphical session, with interactive priority.
    agent.insert("LimitLoadToSessionType".into(), "Aqua".into());
    agent.insert("ProcessType".into(), "Interactive".into());
    let mut out = Vec::new();
    plist::Value::Dictionary(agent)
        .to_writer_xml(&mut out)
        .expect("a plist serialises to memory");
    out
}

/// Where the agent's stderr goes: a file in the app's log directory (the engine's
/// `~/Library/Logs/SentinelZero`), named so that it cannot be a job's log (`<job>.log`).
pub fn agent_stderr_path(home: &Path) -> PathBuf {
    home.join("Library/Logs/SentinelZero/app-stderr.txt")
}

/// The program a LaunchAgent property list starts (`Program`, else the first of
/// `ProgramArguments`), if it reads as one.
pub fn agent_program(plist_bytes: &[u8]) -> Option<PathBuf> {
    let agent = plist::Value::from_reader(std::io::Cursor::new(plist_bytes)).ok()?;
    let agent = agent.as_dictionary()?;
    let program = match agent.get("Program") {
        Some(program) => program.as_string()?,
        None => agent
            .get("ProgramArguments")?
            .as_array()?
            .first()?
            .as_string()?,
    };
    Some(PathBuf::from(program))
}

/// Whether a LaunchAgent property list starts a program that exists. An agent written while
/// the app ran from a disk image, or from an app since moved or deleted, does not.
pub fn agent_points_at_a_program(plist_bytes: &[u8]) -> bool {
    agent_program(plist_bytes).is_some_and(|program| program.is_file())
}

/// Why launch at login cannot be turned on for `program`, with the fix; `None` when it can.
/// A path on a mounted disk image (`/Volumes/…`) or a translocated copy (Gatekeeper runs a
/// downloaded app from a random read-only `…/AppTranslocation/…` path) is gone after the next
/// reboot, and the login item would start nothing.
pub fn location_problem(program: &Path) -> Option<String> {
    let text = program.to_string_lossy();
    let fix = "move SentinelZero to /Applications first, open it from there and turn launch at login on again";
    if text.contains("/AppTranslocation/") {
        Some(format!(
            "SentinelZero is running from a temporary copy macOS made of it ({text}): {fix}"
        ))
    } else if program.starts_with("/Volumes") {
        Some(format!(
            "SentinelZero is running from a disk image or another volume ({text}): {fix}"
        ))
    } else {
        None
    }
}

/// The exit code of an app that could not start: 0 when another engine holds this home's
/// lock (`sentinel daemon`, or another copy of the app), so that launchd's `KeepAlive =
/// {SuccessfulExit = false}` and systemd's `Restart=on-failure` do not start it again every
/// few seconds for ever; 1 for any other failure.
pub fn start_failure_exit_code(err: &(dyn std::error::Error + 'static)) -> i32 {
    match err.downcast_ref::<sentinel_engine::EngineError>() {
        Some(sentinel_engine::EngineError::AlreadyRunning { .. }) => 0,
        _ => 1,
    }
}

/// The systemd user unit for `program`.
pub fn systemd_unit(program: &Path) -> String {
    format!(
        "[Unit]\n\
         Description=SentinelZero menu-bar app\n\
         PartOf=graphical-session.target\n\
         After=graphical-session.target\n\
         \n\
         [Service]\n\
         ExecStart={}\n\
         # Back after a crash, not after Quit (which exits 0).\n\
         Restart=on-failure\n\
         RestartSec=5\n\
         \n\
         [Install]\n\
         WantedBy=graphical-session.target\n",
        systemd_quote(&program.display().to_string())
    )
}

/// The XDG autostart entry for `program`, where systemd user sessions are not available.
pub fn xdg_autostart(program: &Path) -> String {
    format!(
        "[Desktop Entry]\nType=Application\nName=SentinelZero\nComment=Starts, watches and restarts your command-line processes\nExec={}\nTerminal=false\nX-GNOME-Autostart-enabled=true\n",
        desktop_quote(&program.display().to_string())
    )
}

/// systemd's ExecStart quoting: double quotes, with `\` and `"` escaped, `%` doubled.
fn systemd_quote(text: &str) -> String {
    let escaped = text
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('%', "%%");
    format!("\"{escaped}\"")
}

/// Desktop Entry `Exec` quoting: double quotes around an argument with reserved characters.
fn desktop_quote(text: &str) -> String {
    if text
        .chars()
        .any(|c| c.is_whitespace() || "\"'\\><~|&;$*?#()`".contains(c))
    {
        let escaped = text
            .replace('\\', "\\\\\\\\")
            .replace('"', "\\\"")
            .replace('`', "\\`")
            .replace('$', "\\$");
        format!("\"{escaped}\"")
    } else {
        text.to_string()
    }
}

/// Where the login item lives for this user.
pub fn item_path(home: &Path) -> PathBuf {
    if cfg!(target_os = "macos") {
        home.join("Library/LaunchAgents")
            .join(format!("{LABEL}.plist"))
    } else if systemd_user_available() {
        home.join(".config/systemd/user").join(UNIT)
    } else {
        home.join(".config/autostart/sentinelzero.desktop")
    }
}

fn systemd_user_available() -> bool {
    Command::new("systemctl")
        .args(["--user", "is-system-running"])
        .output()
        .is_ok_and(|o| !o.stdout.is_empty())
}

/// Whether the app starts at login: its item exists and, on macOS, starts a program that
/// still exists.
pub fn is_enabled(home: &Path) -> bool {
    let Ok(contents) = std::fs::read(item_path(home)) else {
        return false;
    };
    !cfg!(target_os = "macos") || agent_points_at_a_program(&contents)
}

/// Writes the login item for `program`; it takes effect at the next login. Nothing is
/// started now (see the module's notes).
pub fn enable(home: &Path, program: &Path) -> std::io::Result<()> {
    if cfg!(target_os = "macos") {
        if let Some(problem) = location_problem(program) {
            return Err(std::io::Error::other(problem));
        }
    }
    let path = write_item(home, program)?;
    if !cfg!(target_os = "macos") && path.extension().is_some_and(|e| e == "service") {
        // `enable` without `--now`: for the next session only.
        run_quietly("systemctl", &["--user", "daemon-reload"]);
        run_quietly("systemctl", &["--user", "enable", UNIT]);
    }
    Ok(())
}

/// Removes the login item; it takes effect at the next login. The running app is not
/// stopped: no `launchctl bootout` of the agent that may be this very process.
pub fn disable(home: &Path) -> std::io::Result<()> {
    let path = item_path(home);
    if !cfg!(target_os = "macos") && path.extension().is_some_and(|e| e == "service") {
        // `disable` without `--now`: the running app goes on.
        run_quietly("systemctl", &["--user", "disable", UNIT]);
    }
    remove_item(home)
}

/// The login item's file for this platform, written under `home`.
fn write_item(home: &Path, program: &Path) -> std::io::Result<PathBuf> {
    let path = item_path(home);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let contents = if cfg!(target_os = "macos") {
        let stderr = agent_stderr_path(home);
        if let Some(dir) = stderr.parent() {
            // launchd opens the file but does not make its directory; private, as the
            // engine keeps it.
            use std::os::unix::fs::DirBuilderExt;
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)?;
        }
        launch_agent(program, &stderr)
    } else if path.extension().is_some_and(|e| e == "service") {
        systemd_unit(program).into_bytes()
    } else {
        xdg_autostart(program).into_bytes()
    };
    std::fs::write(&path, contents)?;
    Ok(path)
}

fn remove_item(home: &Path) -> std::io::Result<()> {
    match std::fs::remove_file(item_path(home)) {
        Err(err) if err.kind() != std::io::ErrorKind::NotFound => Err(err),
        _ => Ok(()),
    }
}

fn run_quietly(program: &str, args: &[&str]) {
    match Command::new(program).args(args).output() {
        Ok(output) if !output.status.success() => tracing::warn!(
            "{program} {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        ),
        Err(err) => tracing::warn!("{program}: {err}"),
        Ok(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_launch_agent_reads_back_with_the_keys_launchd_needs() {
        let program = Path::new("/Applications/SentinelZero.app/Contents/MacOS/sentinelzero");
        let stderr = agent_stderr_path(Path::new("/Users/me"));
        let bytes = launch_agent(program, &stderr);
        let agent = plist::Value::from_reader(std::io::Cursor::new(&bytes)).unwrap();
        let agent = agent.as_dictionary().unwrap();
        assert_eq!(agent["Label"].as_string(), Some(LABEL));
        assert_eq!(
            agent["ProgramArguments"].as_array().unwrap()[0].as_string(),
            Some(program.to_str().unwrap())
        );
        assert_eq!(agent_program(&bytes).as_deref(), Some(program));
        assert_eq!(agent["RunAtLoad"].as_boolean(), Some(true));
        // Restarted after a crash only: Quit and a refused start exit 0.
        let keep_alive = agent["KeepAlive"].as_dictionary().unwrap();
        assert_eq!(keep_alive["SuccessfulExit"].as_boolean(), Some(false));
        assert_eq!(keep_alive.len(), 1);
        assert_eq!(
            agent["ThrottleInterval"].as_signed_integer(),
            Some(THROTTLE_INTERVAL)
        );
        const { assert!(THROTTLE_INTERVAL > 10, "longer than launchd's default") };
        // An absolute path in the app's log directory: launchd does not expand `~`.
        let stderr_path = agent["StandardErrorPath"].as_string().unwrap();
        assert_eq!(
            stderr_path,
            "/Users/me/Library/Logs/SentinelZero/app-stderr.txt"
        );
        assert!(Path::new(stderr_path).is_absolute() && !stderr_path.contains('~'));
        assert_eq!(
            agent["AssociatedBundleIdentifiers"].as_array().unwrap()[0].as_string(),
            Some(BUNDLE_ID)
        );
        assert_eq!(agent["LimitLoadToSessionType"].as_string(), Some("Aqua"));
    }

    #[test]
    fn the_bundle_id_is_the_apps_identifier() {
        let config: serde_json::Value =
            serde_json::from_str(include_str!("../tauri.conf.json")).unwrap();
        assert_eq!(config["identifier"].as_str(), Some(BUNDLE_ID));
    }

    #[test]
    fn the_app_cannot_be_registered_from_a_disk_image_or_a_translocated_copy() {
        for path in [
            "/Volumes/SentinelZero/SentinelZero.app/Contents/MacOS/sentinelzero",
            "/private/var/folders/x7/abc123/T/AppTranslocation/6D3E1C0A-93B2-4F0E-9E0B-1234/d/SentinelZero.app/Contents/MacOS/sentinelzero",
        ] {
            let problem = location_problem(Path::new(path)).expect(path);
            assert!(
                problem.contains("move SentinelZero to /Applications first"),
                "{problem}"
            );
            assert!(problem.contains(path), "{problem}");
        }
        for path in [
            "/Applications/SentinelZero.app/Contents/MacOS/sentinelzero",
            "/Users/me/Applications/SentinelZero.app/Contents/MacOS/sentinelzero",
            "/usr/bin/sentinelzero",
            // Only the whole component counts.
            "/VolumesX/SentinelZero.app/Contents/MacOS/sentinelzero",
        ] {
            assert_eq!(location_problem(Path::new(path)), None, "{path}");
        }
    }

    #[test]
    fn an_agent_pointing_at_a_missing_program_reads_as_off() {
        let dir = tempfile::tempdir().unwrap();
        let program = dir.path().join("sentinelzero");
        std::fs::write(&program, b"").unwrap();
        let agent = launch_agent(&program, &agent_stderr_path(dir.path()));
        assert!(agent_points_at_a_program(&agent));
        std::fs::remove_file(&program).unwrap();
        assert!(!agent_points_at_a_program(&agent));
        // A directory is not a program, nor is garbage a plist.
        assert!(!agent_points_at_a_program(&launch_agent(
            dir.path(),
            &agent_stderr_path(dir.path())
        )));
        assert!(!agent_points_at_a_program(b"not a plist"));
        assert_eq!(agent_program(b"<plist><dict/></plist>"), None);
        // `Program` wins over `ProgramArguments`, as in launchd.
        let mut dict = plist::Dictionary::new();
        dict.insert("Program".into(), "/bin/sh".into());
        dict.insert(
            "ProgramArguments".into(),
            plist::Value::Array(vec!["/nowhere".into()]),
        );
        let mut bytes = Vec::new();
        plist::Value::Dictionary(dict)
            .to_writer_xml(&mut bytes)
            .unwrap();
        assert_eq!(agent_program(&bytes).as_deref(), Some(Path::new("/bin/sh")));
    }

    #[test]
    fn a_start_refused_for_a_held_lock_exits_0_so_launchd_does_not_respawn_it() {
        let held: Box<dyn std::error::Error> =
            Box::new(sentinel_engine::EngineError::AlreadyRunning {
                home: PathBuf::from("/Users/me/Library/Application Support/SentinelZero"),
                pid: Some(42),
            });
        assert_eq!(start_failure_exit_code(held.as_ref()), 0);
        let other: Box<dyn std::error::Error> = Box::new(sentinel_engine::EngineError::NoHome);
        assert_eq!(start_failure_exit_code(other.as_ref()), 1);
        let io: Box<dyn std::error::Error> = Box::new(std::io::Error::other("socket"));
        assert_eq!(start_failure_exit_code(io.as_ref()), 1);
    }

    #[test]
    fn the_systemd_unit_restarts_on_failure_only() {
        let unit = systemd_unit(Path::new("/opt/Sentinel Zero/sentinelzero"));
        assert!(
            unit.contains("ExecStart=\"/opt/Sentinel Zero/sentinelzero\"\n"),
            "{unit}"
        );
        assert!(unit.contains("\nRestart=on-failure\n"));
        assert!(unit.contains("WantedBy=graphical-session.target"));
        assert_eq!(systemd_quote("/a/100%\"x"), "\"/a/100%%\\\"x\"");
    }

    #[test]
    fn the_autostart_entry_quotes_its_program() {
        let entry = xdg_autostart(Path::new("/usr/bin/sentinelzero"));
        assert!(entry.contains("\nExec=/usr/bin/sentinelzero\n"), "{entry}");
        let spaced = xdg_autostart(Path::new("/home/me/My Apps/sentinelzero"));
        assert!(
            spaced.contains("Exec=\"/home/me/My Apps/sentinelzero\""),
            "{spaced}"
        );
    }

    // Writing and removing only: registering would touch the real user's launchd/systemd.
    #[test]
    fn the_item_is_written_and_removed_under_the_home() {
        let home = tempfile::tempdir().unwrap();
        // A program that exists: on macOS an item pointing at nothing reads as off.
        let program = home.path().join("sentinelzero");
        std::fs::write(&program, b"").unwrap();
        assert!(!is_enabled(home.path()));
        let path = write_item(home.path(), &program).unwrap();
        assert!(path.starts_with(home.path()));
        assert!(is_enabled(home.path()));
        let written = std::fs::read(&path).unwrap();
        assert!(String::from_utf8_lossy(&written).contains(program.to_str().unwrap()));
        if cfg!(target_os = "macos") {
            assert!(agent_stderr_path(home.path()).parent().unwrap().is_dir());
            std::fs::remove_file(&program).unwrap();
            assert!(!is_enabled(home.path()), "points at nothing");
        }
        remove_item(home.path()).unwrap();
        assert!(!is_enabled(home.path()));
        remove_item(home.path()).unwrap();
    }
}
