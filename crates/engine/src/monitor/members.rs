//! Which processes belong to which job: its process group, plus everything its processes
//! started, even in groups of their own.

use std::collections::{HashMap, HashSet};

/// For each running job's leader (its pid is the group id), the pids of its live processes.
/// On Linux this walks down from the engine through `/proc/PID/task/TID/children`, so the
/// cost follows the number of supervised processes, not of processes on the machine.
#[cfg(target_os = "linux")]
pub(crate) fn job_processes(leaders: &HashSet<u32>) -> HashMap<u32, Vec<u32>> {
    let mut found: HashMap<u32, Vec<u32>> = HashMap::new();
    // (pid, the job it belongs to); the engine itself belongs to none.
    let mut pending: Vec<(u32, Option<u32>)> = children(std::process::id())
        .into_iter()
        .map(|pid| (pid, None))
        .collect();
    let mut seen = HashSet::new();
    while let Some((pid, parent_job)) = pending.pop() {
        if !seen.insert(pid) {
            continue;
        }
        let Some((state, group)) = read_stat(pid) else {
            continue;
        };
        if state == 'Z' || state == 'X' {
            continue;
        }
        let job = if leaders.contains(&group) {
            Some(group)
        } else {
            parent_job
        };
        if let Some(job) = job {
            found.entry(job).or_default().push(pid);
        }
        pending.extend(children(pid).into_iter().map(|child| (child, job)));
    }
    found
}

#[cfg(target_os = "linux")]
fn children(pid: u32) -> Vec<u32> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    let mut pids = Vec::new();
    for task in tasks.flatten() {
        if let Ok(text) = std::fs::read_to_string(task.path().join("children")) {
            pids.extend(
                text.split_whitespace()
                    .filter_map(|p| p.parse::<u32>().ok()),
            );
        }
    }
    pids
}

#[cfg(target_os = "linux")]
fn read_stat(pid: u32) -> Option<(char, u32)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    crate::process::parse_stat(&stat)
}

/// Elsewhere: one pass over the process table for parent links, then the leaders' descendants.
#[cfg(not(target_os = "linux"))]
pub(crate) fn job_processes(leaders: &HashSet<u32>) -> HashMap<u32, Vec<u32>> {
    use sysinfo::{ProcessRefreshKind, ProcessesToUpdate, System};
    let Ok(mut system) = System::new() else {
        return HashMap::new();
    };
    system.refresh_processes_specifics(ProcessesToUpdate::All, true, ProcessRefreshKind::nothing());
    let links: Vec<(u32, u32)> = system
        .processes()
        .iter()
        .filter_map(|(pid, process)| Some((pid.as_u32(), process.parent()?.as_u32())))
        .collect();
    descendants(leaders, &links)
}

/// Each leader with the processes below it, from (pid, parent pid) links.
#[cfg_attr(target_os = "linux", allow(dead_code))]
pub(crate) fn descendants(leaders: &HashSet<u32>, links: &[(u32, u32)]) -> HashMap<u32, Vec<u32>> {
    let mut by_parent: HashMap<u32, Vec<u32>> = HashMap::new();
    for &(pid, parent) in links {
        by_parent.entry(parent).or_default().push(pid);
    }
    leaders
        .iter()
        .map(|&leader| {
            let mut members = Vec::new();
            let mut pending = vec![leader];
            let mut seen = HashSet::new();
            while let Some(pid) = pending.pop() {
                if !seen.insert(pid) {
                    continue;
                }
                members.push(pid);
                if let Some(kids) = by_parent.get(&pid) {
                    pending.extend(kids.iter().copied());
                }
            }
            (leader, members)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descendants_follow_parent_links() {
        let leaders: HashSet<u32> = [10, 20].into();
        // 10 → 11 → 12, 10 → 13; 20 alone; 30 → 31 belongs to nobody.
        let links = [(11, 10), (12, 11), (13, 10), (31, 30), (10, 1), (20, 1)];
        let found = descendants(&leaders, &links);
        let mut ten = found[&10].clone();
        ten.sort();
        assert_eq!(ten, [10, 11, 12, 13]);
        assert_eq!(found[&20], [20]);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_spawned_group_and_its_grandchildren_are_found() {
        use std::os::unix::process::CommandExt;
        let mut child = std::process::Command::new("sh")
            .args(["-c", "sleep 30 & sleep 30 & wait"])
            .process_group(0)
            .spawn()
            .unwrap();
        let leader = child.id();
        let leaders: HashSet<u32> = [leader].into();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        let count = loop {
            let count = job_processes(&leaders).get(&leader).map_or(0, Vec::len);
            if count == 3 || std::time::Instant::now() > deadline {
                break count;
            }
            std::thread::yield_now();
        };
        let _ = nix::sys::signal::killpg(
            nix::unistd::Pid::from_raw(leader as i32),
            nix::sys::signal::Signal::SIGKILL,
        );
        let _ = child.wait();
        assert_eq!(count, 3, "sh and its two sleeps");
    }
}
