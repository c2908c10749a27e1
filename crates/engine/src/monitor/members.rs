//! Which processes belong to which job (its process group, plus everything its processes
//! started, even in groups of their own), and what each of them uses.

use std::collections::{HashMap, HashSet};

/// What one process used so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Usage {
    pub pid: u32,
    /// User + system CPU time.
    pub cpu_ms: u64,
    pub memory: u64,
    pub read: u64,
    pub written: u64,
}

/// Each running job's leader with the usage of every live process of the job.
pub(crate) trait UsageReader: Send {
    fn read(&mut self, leaders: &HashSet<u32>) -> HashMap<u32, Vec<Usage>>;
}

/// Linux: everything from `/proc`, in the files the member walk opens anyway (`stat` gives the
/// group, CPU time and RSS) plus `io`: four small reads per process and tick. (sysinfo reads
/// `status`, `stat`, `statm` and `io` on top of the walk; with 500 jobs every 2 s that was
/// 1.5 % of a core.)
#[cfg(target_os = "linux")]
pub(crate) struct ProcReader {
    page_size: u64,
    ticks_per_second: u64,
}

#[cfg(target_os = "linux")]
impl ProcReader {
    pub fn new() -> ProcReader {
        use nix::unistd::{sysconf, SysconfVar};
        let get = |var| sysconf(var).ok().flatten().map_or(0, |v| v as u64);
        ProcReader {
            page_size: get(SysconfVar::PAGE_SIZE).max(1),
            ticks_per_second: get(SysconfVar::CLK_TCK).max(1),
        }
    }
}

#[cfg(target_os = "linux")]
impl UsageReader for ProcReader {
    fn read(&mut self, leaders: &HashSet<u32>) -> HashMap<u32, Vec<Usage>> {
        let mut found: HashMap<u32, Vec<Usage>> = HashMap::new();
        if leaders.is_empty() {
            return found;
        }
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
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
                continue;
            };
            let Some(fields) = stat.rfind(')').map(|end| &stat[end + 1..]) else {
                continue;
            };
            // After the command name: state ppid pgrp … utime(12th) stime(13th) … threads(18th)
            // … rss(22nd).
            let fields: Vec<&str> = fields.split_whitespace().collect();
            let number = |i: usize| {
                fields
                    .get(i)
                    .and_then(|f| f.parse::<u64>().ok())
                    .unwrap_or(0)
            };
            let state = fields.first().and_then(|s| s.chars().next()).unwrap_or('?');
            if state == 'Z' || state == 'X' {
                continue;
            }
            let group = number(2) as u32;
            let job = if leaders.contains(&group) {
                Some(group)
            } else {
                parent_job
            };
            if let Some(job) = job {
                let (read, written) = read_io(pid);
                found.entry(job).or_default().push(Usage {
                    pid,
                    cpu_ms: (number(11) + number(12)) * 1000 / self.ticks_per_second,
                    memory: number(21) * self.page_size,
                    read,
                    written,
                });
            }
            // Most processes have one thread: then its children file says it all, without
            // listing the task directory.
            let kids = if number(17) == 1 {
                main_thread_children(pid)
            } else {
                children(pid)
            };
            pending.extend(kids.into_iter().map(|child| (child, job)));
        }
        found
    }
}

/// Bytes read from and written to storage (`/proc/PID/io`); zero when not readable.
#[cfg(target_os = "linux")]
fn read_io(pid: u32) -> (u64, u64) {
    let Ok(io) = std::fs::read_to_string(format!("/proc/{pid}/io")) else {
        return (0, 0);
    };
    let field = |name: &str| {
        io.lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0)
    };
    (field("read_bytes:"), field("write_bytes:"))
}

/// Elsewhere: sysinfo, refreshing only the job's processes (found through parent links). On
/// Linux it is compiled and tested against `ProcReader`.
#[cfg_attr(target_os = "linux", allow(dead_code))]
pub(crate) struct SysinfoReader {
    system: sysinfo::System,
}

#[cfg_attr(target_os = "linux", allow(dead_code))]
impl SysinfoReader {
    pub fn new() -> Option<SysinfoReader> {
        sysinfo::System::new()
            .ok()
            .map(|system| SysinfoReader { system })
    }
}

impl UsageReader for SysinfoReader {
    fn read(&mut self, leaders: &HashSet<u32>) -> HashMap<u32, Vec<Usage>> {
        use sysinfo::{Pid, ProcessRefreshKind, ProcessesToUpdate};
        if leaders.is_empty() {
            return HashMap::new();
        }
        self.system.refresh_processes_specifics(
            ProcessesToUpdate::All,
            true,
            ProcessRefreshKind::nothing(),
        );
        let links: Vec<(u32, u32)> = self
            .system
            .processes()
            .iter()
            .filter_map(|(pid, process)| Some((pid.as_u32(), process.parent()?.as_u32())))
            .collect();
        let members = descendants(leaders, &links);
        let pids: Vec<Pid> = members
            .values()
            .flatten()
            .map(|&p| Pid::from_u32(p))
            .collect();
        self.system.refresh_processes_specifics(
            ProcessesToUpdate::Some(&pids),
            true,
            ProcessRefreshKind::nothing()
                .with_cpu()
                .with_memory()
                .with_disk_usage(),
        );
        members
            .into_iter()
            .map(|(leader, pids)| {
                let usage = pids
                    .into_iter()
                    .filter_map(|pid| {
                        let process = self.system.process(Pid::from_u32(pid))?;
                        let disk = process.disk_usage();
                        Some(Usage {
                            pid,
                            cpu_ms: process.accumulated_cpu_time(),
                            memory: process.memory(),
                            read: disk.total_read_bytes,
                            written: disk.total_written_bytes,
                        })
                    })
                    .collect();
                (leader, usage)
            })
            .collect()
    }
}

/// The reader for this platform.
pub(crate) fn usage_reader() -> Option<Box<dyn UsageReader>> {
    #[cfg(target_os = "linux")]
    {
        Some(Box::new(ProcReader::new()))
    }
    #[cfg(not(target_os = "linux"))]
    {
        SysinfoReader::new().map(|r| Box::new(r) as Box<dyn UsageReader>)
    }
}

#[cfg(target_os = "linux")]
fn main_thread_children(pid: u32) -> Vec<u32> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .map(|text| {
            text.split_whitespace()
                .filter_map(|p| p.parse::<u32>().ok())
                .collect()
        })
        .unwrap_or_default()
}

/// The children of every thread of `pid`.
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

/// Each leader with the processes below it, from (pid, parent pid) links.
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
        let mut proc_reader = ProcReader::new();
        let mut sysinfo_reader = SysinfoReader::new().unwrap();
        let pids = |usage: Option<&Vec<Usage>>| {
            let mut pids: Vec<u32> = usage.map_or(vec![], |u| u.iter().map(|u| u.pid).collect());
            pids.sort();
            pids
        };
        let (from_proc, from_sysinfo) = loop {
            let from_proc = proc_reader.read(&leaders);
            let from_sysinfo = sysinfo_reader.read(&leaders);
            let both = (
                pids(from_proc.get(&leader)),
                pids(from_sysinfo.get(&leader)),
            );
            if (both.0.len() == 3 && both.0 == both.1) || std::time::Instant::now() > deadline {
                break (from_proc, both.1);
            }
            std::thread::yield_now();
        };
        let count = from_proc.get(&leader).map_or(0, Vec::len);
        // Both readers see the same processes and about the same memory.
        let memory = |u: &Vec<Usage>| u.iter().map(|u| u.memory).sum::<u64>();
        let proc_memory = memory(&from_proc[&leader]);
        assert_eq!(pids(from_proc.get(&leader)), from_sysinfo);
        assert!(proc_memory > 1024 * 1024, "{proc_memory}");
        let _ = nix::sys::signal::killpg(
            nix::unistd::Pid::from_raw(leader as i32),
            nix::sys::signal::Signal::SIGKILL,
        );
        let _ = child.wait();
        assert_eq!(count, 3, "sh and its two sleeps");
    }
}
