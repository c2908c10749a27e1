use std::time::Duration;

/// Median, extremes and 90th/99th percentiles of a sample, in milliseconds.
pub struct Summary {
    pub median: f64,
    pub min: f64,
    pub max: f64,
    pub p90: f64,
    pub p99: f64,
    pub n: usize,
}

pub fn summarize(samples: &[Duration]) -> Summary {
    let mut ms: Vec<f64> = samples.iter().map(|d| d.as_secs_f64() * 1000.0).collect();
    ms.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let at = |q: f64| ms[((ms.len() as f64 - 1.0) * q).round() as usize];
    Summary {
        median: at(0.5),
        min: ms[0],
        max: ms[ms.len() - 1],
        p90: at(0.9),
        p99: at(0.99),
        n: ms.len(),
    }
}

/// Resident memory (MiB) and CPU time (s) of a process, from /proc.
pub fn rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// A process's memory (MiB), from `/proc/PID/smaps_rollup`: resident (RSS), private to it
/// (USS: what only it holds), its proportional share (PSS: shared pages divided among those
/// mapping them), and its private dirty pages (what it wrote: heap, stacks, relocated library
/// data), which is what macOS's footprint, Activity Monitor's Memory column, counts.
#[derive(Default)]
pub struct Memory {
    pub rss: f64,
    pub uss: f64,
    pub pss: f64,
    pub dirty: f64,
}

impl Memory {
    /// The higher of each figure.
    pub fn max(&self, other: &Memory) -> Memory {
        Memory {
            rss: self.rss.max(other.rss),
            uss: self.uss.max(other.uss),
            pss: self.pss.max(other.pss),
            dirty: self.dirty.max(other.dirty),
        }
    }
}

pub fn memory(pid: u32) -> Memory {
    let rollup = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).unwrap_or_default();
    let field = |name: &str| {
        rollup
            .lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    };
    Memory {
        rss: field("Rss"),
        uss: field("Private_Clean") + field("Private_Dirty"),
        pss: field("Pss"),
        dirty: field("Private_Dirty") + field("Swap"),
    }
}

pub fn cpu_seconds(pid: u32) -> f64 {
    let ticks = crate::procs::read(pid).map_or(0, |p| p.cpu_ticks) as f64;
    ticks
        / nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
            .ok()
            .flatten()
            .unwrap_or(100) as f64
}

/// "12×" (peer ÷ SentinelZero), or "-" when either is zero.
pub fn ratio(value: f64, ours: f64) -> String {
    if ours <= 0.0 || value <= 0.0 {
        return "-".into();
    }
    let r = value / ours;
    if r >= 10.0 {
        format!("{r:.0}×")
    } else {
        format!("{r:.1}×")
    }
}
