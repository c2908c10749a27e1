//! Starting a job's process as the leader of its own process group, and making sure the whole
//! group is gone when it stops.

pub(crate) mod env;
pub mod fds;
mod hold;
pub mod marker;
mod path;
pub mod protected;
pub mod recover;

use std::ffi::OsString;
use std::io;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use nix::errno::Errno;
use nix::sys::signal::{killpg, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;
use sentinel_proto::JobSpec;
use tokio::net::unix::pipe;
use tokio::time::Instant;

use crate::later::Later;

pub use path::{default_search_path, parse_login_shell_path, resolve_in_background};

/// A started process: the leader of its own process group (pgid == pid).
pub(crate) struct Spawned {
    pub child: tokio::process::Child,
    pub pid: u32,
    pub stdout: pipe::Receiver,
    pub stderr: pipe::Receiver,
    /// Values of the job's secret variables, as this run got them, to mask in its output.
    pub secret_values: Vec<String>,
    /// A held start that forked: when the child went to exec its program, by its own clock.
    pub execed_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// Starts the job's command. Every way this can fail is an error that says what to fix; none
/// panics. `engine_marker` is this engine's home, as every child carries it
/// ([`marker::engine_marker`]). With `hold`, the start is prepared now and spawned that much
/// later (a scheduled run started just before its instant), and this returns then.
pub(crate) fn spawn(
    spec: &JobSpec,
    search_path: &OsString,
    engine_marker: &std::ffi::OsStr,
    hold: Option<Duration>,
) -> Result<Spawned, String> {
    // The instant to spawn at, read before the preparation below, which must not delay it.
    let spawn_at = hold.and_then(hold::deadline);
    // Before any descriptor is taken: the engine's own socket and database come first.
    fds::check_room()?;
    let argv = spec.argv()?;
    let cwd = match &spec.cwd {
        Some(dir) => {
            match std::fs::metadata(dir) {
                Ok(meta) if meta.is_dir() => {}
                Ok(_) => {
                    return Err(format!(
                        "working directory {} is not a directory",
                        dir.display()
                    ))
                }
                Err(err) => return Err(format!("working directory {}: {err}", dir.display())),
            }
            dir.clone()
        }
        None => std::env::current_dir()
            .map_err(|err| format!("cannot read the engine's directory: {err}"))?,
    };
    let vars = env::resolve(spec, &cwd)?;
    let job_path = vars
        .iter()
        .find(|var| var.key == "PATH")
        .map(|var| OsString::from(&var.value))
        .unwrap_or_else(|| search_path.clone());
    let program = resolve_program(&argv[0], &job_path, &cwd)?;

    let (stdout_reader, stdout_writer) =
        io::pipe().map_err(|err| format!("cannot create a pipe: {err}"))?;
    let (stderr_reader, stderr_writer) =
        io::pipe().map_err(|err| format!("cannot create a pipe: {err}"))?;

    let mut command = tokio::process::Command::new(&program);
    command
        .arg0(&argv[0])
        .args(&argv[1..])
        .current_dir(&cwd)
        .env_remove(env::LAUNCHD_JOB_VAR)
        .env("PATH", &job_path)
        .env(crate::ports::JOB_ENV, &spec.name)
        .envs(vars.iter().map(|var| (&var.key, &var.value)))
        // After the job's own variables: a job cannot hide from the next engine's recovery.
        .env(marker::ENGINE_ENV, engine_marker)
        .stdin(Stdio::null())
        .stdout(Stdio::from(stdout_writer))
        .stderr(Stdio::from(stderr_writer))
        .kill_on_drop(false)
        // A group of its own, so a stop reaches every descendant. Setting the group (unlike a
        // pre_exec setsid) keeps the fast posix_spawn path: no copy of the engine's page
        // tables per start.
        .process_group(0);
    // The open-file limit the engine was started with, unless the job sets its own: the
    // engine's raised one would surprise programs that use select().
    let files = fds::child_limit().filter(|_| spec.rlimits.nofile.is_none());
    // A held start that forks anyway (for the limits below) notes when its child execs: that
    // is when the program starts, while the engine's thread may wait for a core after twenty
    // children start at one instant.
    let mut exec_note = None;
    if spec.nice.is_some() || !spec.rlimits.is_empty() || files.is_some() {
        let (nice, rlimits) = (spec.nice, spec.rlimits.clone());
        exec_note = spawn_at.and_then(|_| hold::ExecNote::new().ok());
        let writer = exec_note.as_ref().map(hold::ExecNote::writer);
        // SAFETY: between fork and exec only async-signal-safe calls (setpriority, setrlimit,
        // clock_gettime, write) and no allocation.
        unsafe {
            command.pre_exec(move || {
                limit_self(nice, &rlimits, files)?;
                if let Some(writer) = writer {
                    hold::note_exec(writer);
                }
                Ok(())
            });
        }
    }
    // A held start waits on this side, then spawns: a child held between fork and exec would
    // keep the engine's pages shared, and every write of the engine's threads meanwhile would
    // copy one.
    let spawned = match spawn_at {
        Some(until) => hold::spawn(&mut command, &until),
        None => command.spawn(),
    };
    let child = spawned.map_err(|err| {
        if spec.nice.is_some() || !spec.rlimits.is_empty() {
            format!(
                "cannot execute {} with nice/rlimits applied: {err} (a negative nice or raising a hard limit needs root)",
                program.display()
            )
        } else {
            format!("cannot execute {}: {err}", program.display())
        }
    })?;
    // The command holds the write ends; drop it so the pipes close when the child exits.
    drop(command);
    let execed_at = exec_note.and_then(hold::ExecNote::read);
    let pid = child
        .id()
        .ok_or_else(|| "the process exited before its pid was read".to_string())?;
    Ok(Spawned {
        child,
        pid,
        stdout: receiver(stdout_reader)?,
        stderr: receiver(stderr_reader)?,
        secret_values: spec
            .secret_values(&vars)
            .into_iter()
            .map(str::to_string)
            .collect(),
        execed_at,
    })
}

/// Applies priority and limits to the process about to exec (after fork). Errors are raw OS
/// errors: nothing may allocate here, another thread of the engine may hold the allocator.
/// `files` is the engine's original open-file limit, to give back.
fn limit_self(
    nice: Option<i32>,
    rlimits: &sentinel_proto::Rlimits,
    files: Option<(u64, u64)>,
) -> io::Result<()> {
    use nix::sys::resource::{setrlimit, Resource};
    if let Some((soft, hard)) = files {
        setrlimit(Resource::RLIMIT_NOFILE, soft, hard)
            .map_err(|errno| io::Error::from_raw_os_error(errno as i32))?;
    }
    if let Some(nice) = nice {
        // SAFETY: setpriority only reads its arguments. The type of `which` differs between
        // libc targets, hence the inferred cast.
        if unsafe { nix::libc::setpriority(nix::libc::PRIO_PROCESS as _, 0, nice) } != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    if let Some(files) = rlimits.nofile {
        setrlimit(Resource::RLIMIT_NOFILE, files, files)
            .map_err(|errno| io::Error::from_raw_os_error(errno as i32))?;
    }
    if let Some(bytes) = rlimits.core {
        setrlimit(Resource::RLIMIT_CORE, bytes, bytes)
            .map_err(|errno| io::Error::from_raw_os_error(errno as i32))?;
    }
    Ok(())
}

fn receiver(reader: io::PipeReader) -> Result<pipe::Receiver, String> {
    let fd = OwnedFd::from(reader);
    // A bigger pipe lets a chatty child write on while the engine is busy elsewhere.
    #[cfg(target_os = "linux")]
    let _ = nix::fcntl::fcntl(
        std::os::fd::AsRawFd::as_raw_fd(&fd),
        nix::fcntl::FcntlArg::F_SETPIPE_SZ(PIPE_SIZE),
    );
    pipe::Receiver::from_owned_fd(fd).map_err(|err| format!("cannot watch the output pipe: {err}"))
}

/// Bytes a job's output pipe holds (Linux; the default is 64 KiB).
#[cfg(target_os = "linux")]
const PIPE_SIZE: i32 = 1024 * 1024;

/// Finds the program the way a shell would: a name with a slash is a path (relative to the
/// working directory), anything else is looked up in the job's PATH.
fn resolve_program(program: &str, search_path: &OsString, cwd: &Path) -> Result<PathBuf, String> {
    if program.contains('/') {
        let path = cwd.join(program);
        return match std::fs::metadata(&path) {
            Ok(meta) if meta.is_dir() => {
                Err(format!("{} is a directory, not a program", path.display()))
            }
            Ok(_) => Ok(path),
            Err(err) => Err(format!("program {}: {err}", path.display())),
        };
    }
    which::which_in(program, Some(search_path), cwd).map_err(|_| {
        format!(
            "program {program:?} was not found in PATH ({}); give its full path or set PATH in the job's env",
            search_path.to_string_lossy()
        )
    })
}

/// Sends a signal to every process in the group; a group that is already gone is fine.
pub(crate) fn signal_group(pgid: u32, signal: Signal) {
    match killpg(Pid::from_raw(pgid as i32), signal) {
        Ok(()) | Err(Errno::ESRCH) => {}
        Err(err) => tracing::warn!(pgid, %signal, "cannot signal the process group: {err}"),
    }
}

/// Whether any process, even a zombie, still carries the group id.
fn group_signalable(pgid: u32) -> bool {
    !matches!(killpg(Pid::from_raw(pgid as i32), None), Err(Errno::ESRCH))
}

/// Whether a live (not zombie) process is in the group. A zombie that is not ours to reap (its
/// parent is an init that does not reap) is dead for every purpose here.
#[cfg(target_os = "linux")]
pub fn group_exists(pgid: u32) -> bool {
    if matches!(killpg(Pid::from_raw(pgid as i32), None), Err(Errno::ESRCH)) {
        return false;
    }
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return true;
    };
    entries.flatten().any(|entry| {
        let is_pid = entry
            .file_name()
            .to_str()
            .is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()));
        is_pid
            && std::fs::read_to_string(entry.path().join("stat"))
                .ok()
                .and_then(|stat| parse_stat(&stat))
                .is_some_and(|(state, group)| group == pgid && state != 'Z' && state != 'X')
    })
}

#[cfg(not(target_os = "linux"))]
pub fn group_exists(pgid: u32) -> bool {
    !matches!(killpg(Pid::from_raw(pgid as i32), None), Err(Errno::ESRCH))
}

/// State and process group from `/proc/PID/stat` ("pid (comm) state ppid pgrp …"); the
/// command name may itself contain spaces and parentheses.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
pub(crate) fn parse_stat(stat: &str) -> Option<(char, u32)> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace();
    let state = fields.next()?.chars().next()?;
    let _ppid = fields.next()?;
    let pgrp = fields.next()?.parse().ok()?;
    Some((state, pgrp))
}

/// Reaps exited members of a group that were re-parented to the engine (it is a child
/// subreaper on Linux), so they do not linger as zombies. Only call once the leader itself has
/// been waited for.
fn reap_group(pgid: u32) {
    loop {
        match waitpid(Pid::from_raw(-(pgid as i32)), Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::StillAlive) | Err(_) => return,
            Ok(_) => continue,
        }
    }
}

/// How long to wait for dead members of a group to be re-parented to the engine and reaped.
const ZOMBIE_WAIT: Duration = Duration::from_millis(100);

/// Makes sure nothing of a group is left once its leader exited: whatever remains gets the
/// stop signal, then KILL after the grace period. Returns whether anything was left.
pub(crate) async fn clear_group(pgid: u32, stop_signal: Signal, grace: Duration) -> bool {
    reap_group(pgid);
    if !group_signalable(pgid) {
        return false;
    }
    let left_over = group_exists(pgid);
    if left_over {
        signal_group(pgid, stop_signal);
    }
    let kill_at = Instant::now().later(grace);
    let give_up_at = kill_at.later(Duration::from_secs(5));
    let mut killed = false;
    let mut only_zombies_since = None;
    let mut pause = Duration::from_millis(1);
    loop {
        reap_group(pgid);
        if !group_signalable(pgid) {
            break;
        }
        let now = Instant::now();
        if group_exists(pgid) {
            only_zombies_since = None;
            if !killed && now >= kill_at {
                signal_group(pgid, Signal::SIGKILL);
                killed = true;
            }
            if now >= give_up_at {
                tracing::error!(
                    pgid,
                    "processes of the group survive SIGKILL (stuck in the kernel?)"
                );
                break;
            }
        } else if now - *only_zombies_since.get_or_insert(now) >= ZOMBIE_WAIT {
            // Dead, and not ours to reap: their parent (an init that does not reap) has them.
            break;
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(50));
    }
    left_over
}

/// Lets the engine adopt its jobs' orphaned grandchildren on Linux, so it can reap them.
pub(crate) fn become_subreaper() {
    #[cfg(target_os = "linux")]
    if let Err(err) = nix::sys::prctl::set_child_subreaper(true) {
        tracing::warn!("cannot become a child subreaper: {err}");
    }
}

/// Maps a validated signal name to the signal.
pub(crate) fn signal_from_name(name: &str) -> Signal {
    format!("SIG{name}").parse().unwrap_or(Signal::SIGTERM)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_held_start_that_forks_says_when_its_program_was_execed() {
        // A nice value makes the start fork (posix_spawn cannot set it).
        let mut forks = JobSpec::new("held", "true");
        forks.nice = Some(0);
        let marker = std::ffi::OsStr::new("test");
        let hold = Duration::from_millis(30);
        let before = chrono::Utc::now();
        let mut held = spawn(&forks, &default_search_path(), marker, Some(hold)).unwrap();
        let after = chrono::Utc::now();
        let execed = held
            .execed_at
            .expect("a held start that forks notes its exec");
        assert!(
            before + hold <= execed && execed <= after,
            "execed at {execed}, spawned between {before} and {after}"
        );
        held.child.wait().await.unwrap();
        // Not held, or not forking: the engine's own clock says when.
        let plain = JobSpec::new("plain", "true");
        for (spec, hold) in [(&forks, None), (&plain, Some(hold))] {
            let mut spawned = spawn(spec, &default_search_path(), marker, hold).unwrap();
            assert_eq!(spawned.execed_at, None);
            spawned.child.wait().await.unwrap();
        }
    }

    #[test]
    fn every_stop_signal_name_maps_to_its_signal() {
        for name in sentinel_proto::job::STOP_SIGNALS {
            let signal = signal_from_name(name);
            assert_eq!(signal.as_str(), format!("SIG{name}"));
        }
    }

    #[test]
    fn stat_lines_parse_even_with_odd_command_names() {
        assert_eq!(parse_stat("42 (sleep) S 1 42 42 0 -1"), Some(('S', 42)));
        assert_eq!(parse_stat("7 (a) b (c)) Z 1 99 99 0"), Some(('Z', 99)));
        assert_eq!(parse_stat("garbage"), None);
    }

    #[test]
    fn programs_resolve_through_path_or_as_paths() {
        let path = OsString::from("/nonexistent:/bin:/usr/bin");
        let sh = resolve_program("sh", &path, Path::new("/")).unwrap();
        assert!(sh.ends_with("sh"));
        let err = resolve_program("no-such-program-xyz", &path, Path::new("/")).unwrap_err();
        assert!(err.contains("not found in PATH"), "{err}");
        let err = resolve_program("./missing", &path, Path::new("/tmp")).unwrap_err();
        assert!(err.contains("/tmp/./missing"), "{err}");
        let err = resolve_program("/tmp", &path, Path::new("/")).unwrap_err();
        assert!(err.contains("is a directory"), "{err}");
    }
}
