//! After a crash the engine's children live on as orphans. The next engine finds them by the
//! pid, process start time and process group it recorded, and stops them, so nothing runs
//! twice and an unrelated process that reused a pid is never touched.

use std::time::Duration;

use nix::sys::signal::Signal;
use tokio::time::Instant;

use crate::later::Later;

use super::{group_exists, signal_group};

/// A run that was in progress when the previous engine died.
#[derive(Debug, Clone)]
pub struct OpenRun {
    pub run_id: i64,
    pub job: String,
    pub pid: Option<u32>,
    pub proc_start: Option<u64>,
}

/// The process start time the OS reports, in seconds since the epoch.
#[cfg(target_os = "linux")]
pub fn process_start_time(pid: u32) -> Option<u64> {
    use std::sync::OnceLock;
    // Read straight from /proc: this runs on every start, and sysinfo reads several files.
    static BOOT_TIME_AND_TICKS: OnceLock<Option<(u64, u64)>> = OnceLock::new();
    let (boot_time, ticks_per_second) = (*BOOT_TIME_AND_TICKS.get_or_init(|| {
        let stat = std::fs::read_to_string("/proc/stat").ok()?;
        let boot_time = stat
            .lines()
            .find_map(|l| l.strip_prefix("btime "))?
            .trim()
            .parse()
            .ok()?;
        let ticks = nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK).ok()??;
        Some((boot_time, ticks as u64))
    }))?;
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Field 22, counted after the parenthesised command name (field 2).
    let after_name = &stat[stat.rfind(')')? + 1..];
    let started_ticks: u64 = after_name.split_whitespace().nth(19)?.parse().ok()?;
    Some(boot_time + started_ticks / ticks_per_second.max(1))
}

/// The process start time the OS reports, in seconds since the epoch.
#[cfg(not(target_os = "linux"))]
pub fn process_start_time(pid: u32) -> Option<u64> {
    use sysinfo::{Pid, ProcessRefreshKind, ProcessesToUpdate, System};
    let mut system = System::new().ok()?;
    let pid = Pid::from_u32(pid);
    system.refresh_processes_specifics(
        ProcessesToUpdate::Some(&[pid]),
        true,
        ProcessRefreshKind::nothing(),
    );
    system.process(pid).map(|process| process.start_time())
}

/// The process groups of these runs that are still ours to stop.
pub fn orphaned_groups(runs: &[OpenRun]) -> Vec<u32> {
    runs.iter()
        .filter_map(|run| {
            let pid = run.pid?;
            match process_start_time(pid) {
                // The leader lives on: ours only if it is the very process we started. The
                // boot time behind the figure may drift by a second with clock adjustments.
                Some(started) => run
                    .proc_start
                    .is_some_and(|recorded| recorded.abs_diff(started) <= 1)
                    .then_some(pid),
                // The leader is gone; a group with its id can only be what is left of ours,
                // since the kernel never hands out a pid that names a live group.
                None => group_exists(pid).then_some(pid),
            }
        })
        .collect()
}

/// Stops the groups: TERM, then KILL after `grace`; returns once none is left (or a few
/// seconds after KILL, for processes stuck in the kernel).
pub async fn stop_groups(groups: &[u32], grace: Duration) {
    if groups.is_empty() {
        return;
    }
    for &pgid in groups {
        signal_group(pgid, Signal::SIGTERM);
    }
    let kill_at = Instant::now().later(grace);
    let give_up_at = kill_at.later(Duration::from_secs(3));
    let mut killed = false;
    let mut pause = Duration::from_millis(1);
    loop {
        let alive: Vec<u32> = groups
            .iter()
            .copied()
            .filter(|&pgid| group_exists(pgid))
            .collect();
        if alive.is_empty() {
            return;
        }
        let now = Instant::now();
        if !killed && now >= kill_at {
            for &pgid in &alive {
                signal_group(pgid, Signal::SIGKILL);
            }
            killed = true;
        }
        if now >= give_up_at {
            tracing::error!(?alive, "orphaned process groups survive SIGKILL");
            return;
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(20));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_process_start_time_is_close_to_now_for_a_new_process() {
        let mut child = std::process::Command::new("sleep")
            .arg("10")
            .spawn()
            .unwrap();
        let started = process_start_time(child.id()).unwrap();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(started.abs_diff(now) <= 2, "started {started}, now {now}");
        assert_eq!(process_start_time(u32::MAX / 2), None);
    }
}
