//! Processes as /proc shows them: who is whose child, which group, how much CPU.

/// One line of `/proc/PID/stat`, the fields the benchmarks need.
pub struct Proc {
    pub pid: u32,
    pub comm: String,
    pub state: char,
    pub ppid: u32,
    pub pgrp: u32,
    /// utime + stime, in clock ticks.
    pub cpu_ticks: u64,
}

impl Proc {
    /// Running or sleeping: not a zombie waiting to be reaped.
    pub fn alive(&self) -> bool {
        !matches!(self.state, 'Z' | 'X')
    }
}

pub fn read(pid: u32) -> Option<Proc> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may contain spaces and parentheses: it ends at the last ')'.
    let (open, close) = (stat.find('(')?, stat.rfind(')')?);
    let fields: Vec<&str> = stat[close + 1..].split_whitespace().collect();
    let number = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok());
    Some(Proc {
        pid,
        comm: stat[open + 1..close].to_string(),
        state: fields.first()?.chars().next()?,
        ppid: number(1)? as u32,
        pgrp: number(2)? as u32,
        cpu_ticks: number(11)? + number(12)?,
    })
}

pub fn all() -> impl Iterator<Item = Proc> {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse().ok())
        .filter_map(read)
}

/// Live children of `parent` running the program `name`.
pub fn children_named(parent: u32, name: &str) -> usize {
    all()
        .filter(|p| p.alive() && p.ppid == parent && p.comm == name)
        .count()
}

pub fn children(parent: u32) -> Vec<u32> {
    all().filter(|p| p.ppid == parent).map(|p| p.pid).collect()
}

pub fn alive(pid: u32) -> bool {
    read(pid).is_some_and(|p| p.alive())
}

/// Live members of a process group.
pub fn in_group(pgid: u32) -> usize {
    all().filter(|p| p.alive() && p.pgrp == pgid).count()
}
