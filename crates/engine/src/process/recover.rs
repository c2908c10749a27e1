//! After a crash the engine's children live on as orphans. The next engine finds them by the
//! pid, process start time and process group it recorded, and stops them, so nothing runs
//! twice and an unrelated process that reused a pid is never touched.

use std::time::Duration;

use nix::sys::signal::Signal;
use tokio::time::Instant;

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
                // The leader lives on: ours only if it is the very process we started.
                Some(started) => (Some(started) == run.proc_start).then_some(pid),
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
    let kill_at = Instant::now() + grace;
    let give_up_at = kill_at + Duration::from_secs(3);
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
