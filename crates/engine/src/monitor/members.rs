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

/// When the reading after this one comes: soon while someone watches, when a reader may keep
/// what it opened for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NextRead {
    Soon,
    Late,
}

/// Each running job's leader with the usage of every live process of the job.
pub(crate) trait UsageReader: Send {
    fn read(&mut self, leaders: &HashSet<u32>, next: NextRead) -> HashMap<u32, Vec<Usage>>;
}

/// Linux: everything from `/proc`, in the files the member walk reads anyway (`stat` gives the
/// group, CPU time and RSS, `children` the walk's next step) plus `io`: three small reads per
/// process and tick, from files kept open between ticks (`procfiles.rs`). (sysinfo reads
/// `status`, `stat`, `statm` and `io` on top of the walk; with 500 jobs every 2 s that was
/// 1.5 % of a core.)
#[cfg(target_os = "linux")]
pub(crate) struct ProcReader {
    page_size: u64,
    ticks_per_second: u64,
    files: super::procfiles::ProcFiles,
    /// One buffer per file read for a process, kept for the next.
    stat: Vec<u8>,
    io: Vec<u8>,
    children: Vec<u8>,
}

#[cfg(target_os = "linux")]
impl ProcReader {
    pub fn new() -> ProcReader {
        use nix::unistd::{sysconf, SysconfVar};
        let get = |var| sysconf(var).ok().flatten().map_or(0, |v| v as u64);
        ProcReader {
            page_size: get(SysconfVar::PAGE_SIZE).max(1),
            ticks_per_second: get(SysconfVar::CLK_TCK).max(1),
            files: super::procfiles::ProcFiles::new(),
            stat: Vec::new(),
            io: Vec::new(),
            children: Vec::new(),
        }
    }
}

#[cfg(target_os = "linux")]
impl UsageReader for ProcReader {
    fn read(&mut self, leaders: &HashSet<u32>, next: NextRead) -> HashMap<u32, Vec<Usage>> {
        self.files.begin(next == NextRead::Soon);
        let found = self.walk(leaders);
        self.files.end();
        found
    }
}

#[cfg(target_os = "linux")]
impl ProcReader {
    fn walk(&mut self, leaders: &HashSet<u32>) -> HashMap<u32, Vec<Usage>> {
        use super::procfiles::ProcFile;
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
            if !self.files.read(pid, ProcFile::Stat, &mut self.stat) {
                continue;
            }
            // The command name, in parentheses, may hold any byte; the fields after it are
            // ASCII.
            let Some(fields) = self
                .stat
                .iter()
                .rposition(|&b| b == b')')
                .and_then(|end| std::str::from_utf8(&self.stat[end + 1..]).ok())
            else {
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
            // Outside the jobs measured now (another job's, a health check's): none of what it
            // started is either, so nothing below it is read.
            let Some(job) = job else {
                continue;
            };
            let (read, written) = if self.files.read(pid, ProcFile::Io, &mut self.io) {
                io_bytes(&self.io)
            } else {
                (0, 0)
            };
            found.entry(job).or_default().push(Usage {
                pid,
                cpu_ms: (number(11) + number(12)) * 1000 / self.ticks_per_second,
                memory: number(21) * self.page_size,
                read,
                written,
            });
            // Most processes have one thread: then its children file says it all, without
            // listing the task directory.
            let kids = if number(17) == 1 {
                if self.files.read(pid, ProcFile::Children, &mut self.children) {
                    pids_in(&self.children)
                } else {
                    Vec::new()
                }
            } else {
                children(pid)
            };
            pending.extend(kids.into_iter().map(|child| (child, Some(job))));
        }
        found
    }
}

/// Bytes read from and written to storage, from `/proc/PID/io`; zero when not there.
#[cfg(target_os = "linux")]
fn io_bytes(io: &[u8]) -> (u64, u64) {
    let io = String::from_utf8_lossy(io);
    let field = |name: &str| {
        io.lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0)
    };
    (field("read_bytes:"), field("write_bytes:"))
}

/// macOS: libproc, asked only about the job's processes: the members of its process group and,
/// through parent links, what they started in groups of their own, even after a parent died
/// (then launchd adopts the child, but it stays in the job's group). One `proc_pidinfo` and
/// one `proc_pid_rusage` per member and tick; nothing else on the machine is looked at.
#[cfg(target_os = "macos")]
pub(crate) struct LibprocReader {
    /// Mach absolute-time units to nanoseconds: 1/1 on Intel, 125/3 on Apple silicon.
    timebase: (u32, u32),
}

#[cfg(target_os = "macos")]
impl LibprocReader {
    // libc marks mach_timebase_info deprecated in favour of the mach2 crate; the call is the
    // same one, and one call does not justify another dependency.
    #[allow(deprecated)]
    pub fn new() -> LibprocReader {
        let mut info = libc::mach_timebase_info { numer: 1, denom: 1 };
        // SAFETY: fills the struct it is given; nothing else.
        if unsafe { libc::mach_timebase_info(&mut info) } != 0 || info.denom == 0 {
            info = libc::mach_timebase_info { numer: 1, denom: 1 };
        }
        LibprocReader {
            timebase: (info.numer, info.denom),
        }
    }

    fn usage(&self, pid: u32) -> Option<Usage> {
        use libproc::pid_rusage::{pidrusage, RUsageInfoV2};
        use libproc::proc_pid::pidinfo;
        use libproc::task_info::TaskInfo;
        let task: TaskInfo = pidinfo(pid as i32, 0).ok()?;
        let (read, written) = pidrusage::<RUsageInfoV2>(pid as i32)
            .map(|r| (r.ri_diskio_bytesread, r.ri_diskio_byteswritten))
            .unwrap_or((0, 0));
        Some(Usage {
            pid,
            cpu_ms: mach_time_to_ms(
                task.pti_total_user.saturating_add(task.pti_total_system),
                self.timebase,
            ),
            memory: task.pti_resident_size,
            read,
            written,
        })
    }
}

#[cfg(target_os = "macos")]
impl UsageReader for LibprocReader {
    fn read(&mut self, leaders: &HashSet<u32>, _next: NextRead) -> HashMap<u32, Vec<Usage>> {
        use libproc::processes::{pids_by_type, ProcFilter};
        let group = |pgid: u32| {
            pids_by_type(ProcFilter::ByProgramGroup { pgrpid: pgid }).unwrap_or_default()
        };
        let children =
            |pid: u32| pids_by_type(ProcFilter::ByParentProcess { ppid: pid }).unwrap_or_default();
        leaders
            .iter()
            .map(|&leader| {
                let usage = job_members(leader, group, children)
                    .into_iter()
                    .filter_map(|pid| self.usage(pid))
                    .collect();
                (leader, usage)
            })
            .collect()
    }
}

/// Mach absolute-time units (`numer`/`denom` from `mach_timebase_info`) in milliseconds,
/// without overflow.
#[cfg_attr(not(target_os = "macos"), allow(dead_code))]
pub(crate) fn mach_time_to_ms(ticks: u64, (numer, denom): (u32, u32)) -> u64 {
    let nanos = u128::from(ticks) * u128::from(numer) / u128::from(denom.max(1));
    u64::try_from(nanos / 1_000_000).unwrap_or(u64::MAX)
}

/// A job's processes: every member of its group (`leader` is the group's id) and everything
/// they started, however deep, in groups of their own too.
#[cfg_attr(not(target_os = "macos"), allow(dead_code))]
pub(crate) fn job_members(
    leader: u32,
    group: impl Fn(u32) -> Vec<u32>,
    children: impl Fn(u32) -> Vec<u32>,
) -> Vec<u32> {
    let mut members = Vec::new();
    let mut seen = HashSet::new();
    let mut pending = group(leader);
    pending.push(leader);
    while let Some(pid) = pending.pop() {
        if pid == 0 || !seen.insert(pid) {
            continue;
        }
        members.push(pid);
        pending.extend(children(pid));
    }
    members.sort_unstable();
    members
}

/// sysinfo, refreshing only the job's processes (found through parent links): compiled and
/// tested on Linux against `ProcReader`, kept as the reader for other systems.
#[cfg_attr(any(target_os = "linux", target_os = "macos"), allow(dead_code))]
pub(crate) struct SysinfoReader {
    system: sysinfo::System,
}

#[cfg_attr(any(target_os = "linux", target_os = "macos"), allow(dead_code))]
impl SysinfoReader {
    pub fn new() -> Option<SysinfoReader> {
        sysinfo::System::new()
            .ok()
            .map(|system| SysinfoReader { system })
    }
}

impl UsageReader for SysinfoReader {
    fn read(&mut self, leaders: &HashSet<u32>, _next: NextRead) -> HashMap<u32, Vec<Usage>> {
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
    #[cfg(target_os = "macos")]
    {
        Some(Box::new(LibprocReader::new()))
    }
    #[cfg(not(any(target_os = "linux", target_os = "macos")))]
    {
        SysinfoReader::new().map(|r| Box::new(r) as Box<dyn UsageReader>)
    }
}

/// The pids in a `children` file.
#[cfg(target_os = "linux")]
fn pids_in(children: &[u8]) -> Vec<u32> {
    String::from_utf8_lossy(children)
        .split_whitespace()
        .filter_map(|p| p.parse::<u32>().ok())
        .collect()
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
    fn mach_time_becomes_milliseconds_on_either_kind_of_mac() {
        // Intel: nanoseconds already. Apple silicon: 24 MHz ticks, 125/3 ns each.
        assert_eq!(mach_time_to_ms(1_500_000_000, (1, 1)), 1500);
        assert_eq!(mach_time_to_ms(24_000_000, (125, 3)), 1000);
        // The largest counter does not overflow on the way.
        assert_eq!(mach_time_to_ms(u64::MAX, (125, 3)), 768_614_336_404_564);
        assert_eq!(mach_time_to_ms(5, (1, 0)), 0);
    }

    #[test]
    fn a_jobs_members_are_its_group_and_everything_below_it() {
        // Group 10: 10, 11 and 14 (14's parent died: launchd adopted it, still in the group).
        // 11 started 12 in a group of its own; 12 started 13. 20 is another job.
        let group = |pgid: u32| match pgid {
            10 => vec![10, 11, 14],
            _ => vec![],
        };
        let children = |pid: u32| match pid {
            11 => vec![12],
            12 => vec![13],
            1 => vec![14, 20],
            _ => vec![],
        };
        assert_eq!(job_members(10, group, children), [10, 11, 12, 13, 14]);
        // A leader that is gone with nothing left: just its own pid (its usage will not read).
        assert_eq!(job_members(30, |_| vec![], |_| vec![]), [30]);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn members_agree_with_the_proc_walk_for_a_real_job() {
        use std::os::unix::process::CommandExt;
        // A group leader with a child, and a grandchild that leaves for a group of its own.
        let mut child = std::process::Command::new("sh")
            .args(["-c", "sleep 30 & setsid sleep 30 & wait"])
            .process_group(0)
            .spawn()
            .unwrap();
        let leader = child.id();
        let group = |pgid: u32| {
            std::fs::read_dir("/proc")
                .unwrap()
                .flatten()
                .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
                .filter(|pid| {
                    nix::unistd::getpgid(Some(nix::unistd::Pid::from_raw(*pid as i32)))
                        .is_ok_and(|g| g.as_raw() as u32 == pgid)
                })
                .collect::<Vec<u32>>()
        };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        let mut reader = ProcReader::new();
        let leaders: HashSet<u32> = [leader].into();
        let (members, walked) = loop {
            let members = job_members(leader, group, children);
            let mut walked: Vec<u32> = reader
                .read(&leaders, NextRead::Soon)
                .get(&leader)
                .map_or(vec![], |u| u.iter().map(|u| u.pid).collect());
            walked.sort_unstable();
            if (members.len() == 3 && members == walked) || std::time::Instant::now() > deadline {
                break (members, walked);
            }
            std::thread::yield_now();
        };
        let _ = nix::sys::signal::killpg(
            nix::unistd::Pid::from_raw(leader as i32),
            nix::sys::signal::Signal::SIGKILL,
        );
        for pid in &members {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(*pid as i32),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
        let _ = child.wait();
        assert_eq!(
            members.len(),
            3,
            "sh, its sleep and the setsid one: {members:?}"
        );
        assert_eq!(members, walked);
    }

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
            let from_proc = proc_reader.read(&leaders, NextRead::Soon);
            let from_sysinfo = sysinfo_reader.read(&leaders, NextRead::Soon);
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
