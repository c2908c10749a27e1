//! Orphans the database does not know. Runs are recorded a moment after their process starts
//! (the store writes in batches), so an engine killed during start-up leaves processes no
//! later engine would find by its runs. Every child therefore carries this engine's home in
//! `SENTINEL_ENGINE`; the next engine of the home, before it starts anything, stops every
//! process of its user that carries it (and its process group).
//!
//! What the scan cannot find: a process that cleared or rewrote its environment at exec, one
//! that changed its user, or one that made itself non-dumpable (its environment is then
//! readable only by root). Those are still found by their recorded run, if it was recorded.

use std::ffi::{OsStr, OsString};
use std::path::Path;
use std::time::Duration;

use nix::errno::Errno;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use tokio::time::Instant;

use crate::later::Later;

/// Children carry their engine's home in this variable (an absolute path, symlinks resolved).
pub(crate) const ENGINE_ENV: &str = "SENTINEL_ENGINE";

/// The value of [`ENGINE_ENV`] for an engine of this home: absolute and canonical, so two
/// spellings of one home agree and a relative home never matches another directory.
pub fn engine_marker(data_dir: &Path) -> OsString {
    std::fs::canonicalize(data_dir)
        .or_else(|_| std::path::absolute(data_dir))
        .unwrap_or_else(|_| data_dir.to_path_buf())
        .into_os_string()
}

/// A process as the scan saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    pub pid: u32,
    pub pgid: u32,
    /// Real user id.
    pub uid: u32,
    /// Its `SENTINEL_ENGINE`, if it has one.
    pub marker: Option<OsString>,
}

/// The engine doing the scan: never touched, nor its group, nor its ancestors or their groups
/// (a shell that started it, or a job of an earlier engine that started this one).
#[derive(Debug, Clone, Default)]
pub struct Me {
    pub pid: u32,
    pub uid: u32,
    /// The engine's own group and its ancestors' groups.
    pub groups: Vec<u32>,
    pub ancestors: Vec<u32>,
}

/// What to stop for one process that was seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// Its whole process group: a job's group, or one the process made with `setsid`.
    Group(u32),
    /// Only the process: its group's leader is alive and not ours.
    Process(u32),
}

/// Whom the group of a marked process is led by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Leader {
    /// A marked process of this home and user (possibly the process itself).
    Ours,
    /// A live process that is not: of another home or user, or unmarked.
    Other,
    /// Nobody: the leader exited and what is left of the group is ours.
    Gone,
}

/// Whether a process belongs to a job of this home's earlier engine, and what to stop for it.
pub fn verdict(seen: &Seen, leader: Leader, me: &Me, marker: &OsStr) -> Option<Stop> {
    if !is_ours(seen, me, marker) {
        return None;
    }
    if seen.pid == me.pid || me.ancestors.contains(&seen.pid) {
        return None;
    }
    // Group ids 0 and 1 would make killpg reach every process, or init's group.
    if seen.pgid <= 1 || me.groups.contains(&seen.pgid) {
        return None;
    }
    match leader {
        Leader::Ours | Leader::Gone => Some(Stop::Group(seen.pgid)),
        Leader::Other => Some(Stop::Process(seen.pid)),
    }
}

fn is_ours(process: &Seen, me: &Me, marker: &OsStr) -> bool {
    process.marker.as_deref() == Some(marker) && process.uid == me.uid
}

/// Every group and lone process to stop: the verdict over every process seen.
/// `leader_alive(pgid)` says whether the leader of a group not among `seen` lives.
pub fn orphans(
    seen: &[Seen],
    me: &Me,
    marker: &OsStr,
    leader_alive: impl Fn(u32) -> bool,
) -> (Vec<u32>, Vec<u32>) {
    let by_pid: std::collections::HashMap<u32, &Seen> = seen.iter().map(|s| (s.pid, s)).collect();
    let mut groups = Vec::new();
    let mut processes = Vec::new();
    for process in seen {
        let leader = match by_pid.get(&process.pgid) {
            Some(leader) if is_ours(leader, me, marker) => Leader::Ours,
            Some(_) => Leader::Other,
            None if leader_alive(process.pgid) => Leader::Other,
            None => Leader::Gone,
        };
        match verdict(process, leader, me, marker) {
            Some(Stop::Group(pgid)) => groups.push(pgid),
            Some(Stop::Process(pid)) => processes.push(pid),
            None => {}
        }
    }
    groups.sort_unstable();
    groups.dedup();
    processes.sort_unstable();
    (groups, processes)
}

/// The value of `SENTINEL_ENGINE` in an environment block (`KEY=value` entries).
pub fn marker_in<'a>(vars: impl IntoIterator<Item = &'a [u8]>) -> Option<OsString> {
    use std::os::unix::ffi::OsStrExt;
    let prefix = format!("{ENGINE_ENV}=");
    vars.into_iter()
        .find_map(|var| var.strip_prefix(prefix.as_bytes()))
        .map(|value| OsStr::from_bytes(value).to_os_string())
}

/// The process groups and lone processes left by an earlier engine of the home whose marker
/// this is. Call only while holding the home's lock, before anything is started.
pub fn find(marker: &OsStr) -> (Vec<u32>, Vec<u32>) {
    let seen = visible_processes();
    let me = me(&seen);
    orphans(&seen, &me, marker, process_lives)
}

/// Whether a live (not zombie) process has this pid.
#[cfg(target_os = "linux")]
fn process_lives(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| super::parse_stat(&stat))
        .is_some_and(|(state, _)| state != 'Z' && state != 'X')
}

#[cfg(not(target_os = "linux"))]
fn process_lives(pid: u32) -> bool {
    !matches!(kill(Pid::from_raw(pid as i32), None), Err(Errno::ESRCH))
}

fn me(seen: &[Seen]) -> Me {
    let pid = std::process::id();
    let mut me = Me {
        pid,
        uid: nix::unistd::getuid().as_raw(),
        groups: vec![nix::unistd::getpgrp().as_raw() as u32],
        ancestors: Vec::new(),
    };
    let mut parent = parent_of(pid);
    while let Some(ppid) = parent.filter(|&p| p > 1 && !me.ancestors.contains(&p)) {
        me.ancestors.push(ppid);
        if let Some(group) = seen
            .iter()
            .find(|s| s.pid == ppid)
            .map(|s| s.pgid)
            .or_else(|| pgid_of(ppid))
        {
            me.groups.push(group);
        }
        parent = parent_of(ppid);
    }
    me
}

fn pgid_of(pid: u32) -> Option<u32> {
    nix::unistd::getpgid(Some(Pid::from_raw(pid as i32)))
        .ok()
        .map(|g| g.as_raw() as u32)
}

/// Every process whose environment this user can read, with its group and user.
#[cfg(target_os = "linux")]
fn visible_processes() -> Vec<Seen> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|entry| {
            let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
            let environ = std::fs::read(entry.path().join("environ")).ok()?;
            let marker = marker_in(environ.split(|&b| b == 0));
            // Only a marked process is worth the other reads.
            marker.as_ref()?;
            let stat = std::fs::read_to_string(entry.path().join("stat")).ok()?;
            let (state, pgid) = super::parse_stat(&stat)?;
            if state == 'Z' || state == 'X' {
                return None;
            }
            let status = std::fs::read_to_string(entry.path().join("status")).ok()?;
            Some(Seen {
                pid,
                pgid,
                uid: real_uid(&status)?,
                marker,
            })
        })
        .collect()
}

/// The real user id from `/proc/PID/status` ("Uid:\treal\teffective\tsaved\tfs").
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
fn real_uid(status: &str) -> Option<u32> {
    status
        .lines()
        .find_map(|line| line.strip_prefix("Uid:"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

#[cfg(target_os = "linux")]
fn parent_of(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // "pid (comm) state ppid …"
    stat[stat.rfind(')')? + 1..]
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// macOS: sysinfo reads each process' arguments and environment with `KERN_PROCARGS2`
/// (readable for this user's processes only).
#[cfg(not(target_os = "linux"))]
fn visible_processes() -> Vec<Seen> {
    use std::os::unix::ffi::OsStrExt;
    use sysinfo::{ProcessRefreshKind, ProcessesToUpdate, System, UpdateKind};
    let Ok(mut system) = System::new() else {
        return Vec::new();
    };
    system.refresh_processes_specifics(
        ProcessesToUpdate::All,
        true,
        ProcessRefreshKind::nothing()
            .with_environ(UpdateKind::Always)
            .with_user(UpdateKind::Always),
    );
    system
        .processes()
        .iter()
        .filter_map(|(pid, process)| {
            let marker = marker_in(process.environ().iter().map(|var| var.as_bytes()));
            marker.as_ref()?;
            let pid = pid.as_u32();
            Some(Seen {
                pid,
                pgid: pgid_of(pid)?,
                uid: **process.user_id()?,
                marker,
            })
        })
        .collect()
}

#[cfg(not(target_os = "linux"))]
fn parent_of(pid: u32) -> Option<u32> {
    use sysinfo::{Pid as SysPid, ProcessRefreshKind, ProcessesToUpdate, System};
    let mut system = System::new().ok()?;
    let pid = SysPid::from_u32(pid);
    system.refresh_processes_specifics(
        ProcessesToUpdate::Some(&[pid]),
        true,
        ProcessRefreshKind::nothing(),
    );
    system.process(pid)?.parent().map(|p| p.as_u32())
}

/// Stops lone processes (whose group is not ours to stop): TERM, then KILL after `grace`.
pub async fn stop_processes(pids: &[u32], grace: Duration) {
    let alive = |pid: u32| !matches!(kill(Pid::from_raw(pid as i32), None), Err(Errno::ESRCH));
    for &pid in pids {
        let _ = kill(Pid::from_raw(pid as i32), Signal::SIGTERM);
    }
    let kill_at = Instant::now().later(grace);
    let give_up_at = kill_at.later(Duration::from_secs(3));
    let mut killed = false;
    let mut pause = Duration::from_millis(1);
    loop {
        let left: Vec<u32> = pids.iter().copied().filter(|&pid| alive(pid)).collect();
        let now = Instant::now();
        if left.is_empty() || now >= give_up_at {
            return;
        }
        if !killed && now >= kill_at {
            for &pid in &left {
                let _ = kill(Pid::from_raw(pid as i32), Signal::SIGKILL);
            }
            killed = true;
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(20));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOME: &str = "/home/u/.local/share/SentinelZero";

    fn seen(pid: u32, pgid: u32, uid: u32, marker: Option<&str>) -> Seen {
        Seen {
            pid,
            pgid,
            uid,
            marker: marker.map(OsString::from),
        }
    }

    fn me() -> Me {
        Me {
            pid: 100,
            uid: 501,
            groups: vec![90, 80],
            ancestors: vec![95, 80],
        }
    }

    #[test]
    fn a_job_process_of_this_home_has_its_group_stopped() {
        let leader = seen(200, 200, 501, Some(HOME));
        let child = seen(201, 200, 501, Some(HOME));
        let home = OsStr::new(HOME);
        assert_eq!(
            verdict(&leader, Leader::Ours, &me(), home),
            Some(Stop::Group(200))
        );
        assert_eq!(
            verdict(&child, Leader::Ours, &me(), home),
            Some(Stop::Group(200))
        );
        // The leader is gone: what is left of the group is ours.
        assert_eq!(
            verdict(&child, Leader::Gone, &me(), home),
            Some(Stop::Group(200))
        );
        // A child that made its own session (setsid) leads its own group.
        let daemonised = seen(300, 300, 501, Some(HOME));
        assert_eq!(
            verdict(&daemonised, Leader::Ours, &me(), home),
            Some(Stop::Group(300))
        );
    }

    #[test]
    fn other_homes_users_and_unmarked_processes_are_left_alone() {
        let home = OsStr::new(HOME);
        let other_home = seen(200, 200, 501, Some("/tmp/other"));
        assert_eq!(verdict(&other_home, Leader::Ours, &me(), home), None);
        // A prefix of the home is another home.
        let prefix = seen(200, 200, 501, Some("/home/u/.local/share/Sentinel"));
        assert_eq!(verdict(&prefix, Leader::Ours, &me(), home), None);
        let other_user = seen(200, 200, 0, Some(HOME));
        assert_eq!(verdict(&other_user, Leader::Ours, &me(), home), None);
        let unmarked = seen(200, 200, 501, None);
        assert_eq!(verdict(&unmarked, Leader::Ours, &me(), home), None);
    }

    #[test]
    fn the_engine_its_ancestors_and_their_groups_are_never_touched() {
        let home = OsStr::new(HOME);
        // The engine itself carries the marker (a job of an earlier engine started it).
        let engine = seen(100, 90, 501, Some(HOME));
        assert_eq!(verdict(&engine, Leader::Gone, &me(), home), None);
        // The job's shell that started this engine, and its group.
        let parent = seen(95, 80, 501, Some(HOME));
        assert_eq!(verdict(&parent, Leader::Gone, &me(), home), None);
        let sibling = seen(96, 80, 501, Some(HOME));
        assert_eq!(verdict(&sibling, Leader::Gone, &me(), home), None);
        // Group ids that would reach every process or init's group.
        for group in [0, 1] {
            let odd = seen(97, group, 501, Some(HOME));
            assert_eq!(verdict(&odd, Leader::Gone, &me(), home), None);
        }
    }

    #[test]
    fn a_process_that_joined_a_foreign_group_is_stopped_alone() {
        let home = OsStr::new(HOME);
        let joined = seen(401, 400, 501, Some(HOME));
        assert_eq!(
            verdict(&joined, Leader::Other, &me(), home),
            Some(Stop::Process(401))
        );
        let foreign = |pgid| pgid == 400 || pgid == 500;
        let (groups, processes) = orphans(
            &[
                // The leader 400 lives but is not marked (not among the processes seen).
                joined,
                // A group of this home whose leader is another home's process.
                seen(500, 500, 501, Some("/elsewhere")),
                seen(501, 500, 501, Some(HOME)),
                // A job's group, leader and child; one whose leader exited.
                seen(200, 200, 501, Some(HOME)),
                seen(201, 200, 501, Some(HOME)),
                seen(601, 600, 501, Some(HOME)),
            ],
            &me(),
            home,
            foreign,
        );
        assert_eq!(groups, vec![200, 600]);
        assert_eq!(processes, vec![401, 501]);
    }

    #[test]
    fn the_marker_is_read_from_an_environment_block() {
        let block = b"PATH=/bin\0SENTINEL_ENGINE=/a/b\0SENTINEL_JOB=x\0";
        let vars: Vec<&[u8]> = block.split(|&b| b == 0).collect();
        assert_eq!(marker_in(vars.clone()), Some(OsString::from("/a/b")));
        let none: Vec<&[u8]> = vec![b"SENTINEL_ENGINEX=/a", b"XSENTINEL_ENGINE=/a"];
        assert_eq!(marker_in(none), None);
        assert_eq!(
            real_uid("Name:\tx\nUid:\t501\t0\t0\t0\nGid:\t20\n"),
            Some(501)
        );
    }

    #[test]
    fn a_home_is_marked_by_its_canonical_path() {
        let dir = tempfile::tempdir().unwrap();
        let canonical = std::fs::canonicalize(dir.path()).unwrap();
        let spelled = dir
            .path()
            .join(".")
            .join("..")
            .join(dir.path().file_name().unwrap());
        assert_eq!(engine_marker(&spelled), canonical.as_os_str());
        let missing = Path::new("relative/home");
        assert!(Path::new(&engine_marker(missing)).is_absolute());
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_marked_process_of_this_user_is_found_and_an_unmarked_one_is_not() {
        use std::os::unix::process::CommandExt;
        let home = format!("/nonexistent/sentinel-marker-test-{}", std::process::id());
        let mut marked = std::process::Command::new("sleep")
            .arg("30")
            .env(ENGINE_ENV, &home)
            .process_group(0)
            .spawn()
            .unwrap();
        let mut unmarked = std::process::Command::new("sleep")
            .arg("30")
            .process_group(0)
            .spawn()
            .unwrap();
        let (groups, processes) = find(OsStr::new(&home));
        marked.kill().unwrap();
        unmarked.kill().unwrap();
        marked.wait().unwrap();
        unmarked.wait().unwrap();
        assert_eq!(groups, vec![marked.id()]);
        assert!(processes.is_empty());
    }
}
