//! The sampler: one task that measures running jobs' processes (only those: the cost follows
//! the supervised processes, not the machine's) and enforces `max_memory`. It ticks every
//! `sample_interval` while someone watches (`watch.rs`) or a job with a memory limit runs, and
//! measures every running job then, except that without watchers a job without a limit is
//! measured only once per `unwatched_interval`. With neither, it ticks once per
//! `unwatched_interval`, and a watcher or a limited job's start wakes it at once. A tick with
//! nothing due reads nothing and copies nothing: it only asks each running job whether it is due.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Weak};
use std::time::Duration;

use chrono::Utc;
use sentinel_proto::{EngineEvent, JobSample, ResourceSample};
use tokio::time::Instant;

use super::members::{usage_reader, NextRead, Usage, UsageReader};
use crate::context::Context;
use crate::later::Later;

/// A running job, as the sampler needs to know it.
pub(crate) struct SampleTarget {
    pub job: String,
    /// The leader's pid, which is also the process group id.
    pub leader: u32,
    pub max_memory: Option<u64>,
    /// Called when the group uses more than `max_memory`.
    pub over_limit: Box<dyn Fn(u32, u64, u64) + Send>,
}

/// What a job's processes used so far: counters of processes that exited are kept, so CPU
/// time and disk bytes only grow.
#[derive(Default)]
struct JobTotals {
    /// When the job was last measured: CPU use is per time since then.
    measured_at: Option<Instant>,
    /// Per live pid: CPU ms, disk read and written bytes at the last measurement.
    live: HashMap<u32, (u64, u64, u64)>,
    /// Sums of the pids that are gone.
    gone_cpu_ms: u64,
    gone_read: u64,
    gone_written: u64,
}

struct Sampler {
    totals: HashMap<String, JobTotals>,
    interval: Duration,
    unwatched_interval: Duration,
}

/// Asks whether a running job (its name, and whether it has a memory limit) is due now.
pub(crate) type DueFilter<'a> = &'a mut dyn FnMut(&str, bool) -> bool;

/// Starts the sampling task. `targets` lists the running jobs the filter says are due at each
/// tick; the task ends when the context is gone.
pub(crate) fn spawn_sampler(
    context: Weak<Context>,
    targets: impl Fn(DueFilter) -> Vec<SampleTarget> + Send + 'static,
) {
    let Some(reader) = usage_reader() else {
        tracing::warn!("resource sampling is not available on this system");
        return;
    };
    let (interval, unwatched_interval, watchers) = match context.upgrade() {
        Some(context) => {
            let settings = context.resources.settings();
            (
                settings.sample_interval,
                settings.effective_unwatched_interval(),
                context.resources.watchers.clone(),
            )
        }
        None => return,
    };
    tokio::spawn(async move {
        let mut sampler = Sampler {
            totals: HashMap::new(),
            interval,
            unwatched_interval,
        };
        let Some(reads) = spawn_reader(reader) else {
            tracing::warn!("resource sampling is not available: no thread for it");
            return;
        };
        let mut next = Instant::now();
        loop {
            tokio::select! {
                () = tokio::time::sleep_until(next) => {}
                // Someone started watching, or a limited job started: figures now, not at the
                // next tick.
                () = watchers.started() => {}
            }
            let Some(context) = context.upgrade() else {
                return;
            };
            let (watched, now) = (watchers.is_watched(), Instant::now());
            let mut limited_running = false;
            let targets = targets(&mut |job, limited| {
                limited_running |= limited;
                sampler.is_due(job, watched || limited, now)
            });
            let full_rate = watched || limited_running;
            next = now.later(if full_rate {
                interval
            } else {
                unwatched_interval
            });
            if targets.is_empty() {
                continue;
            }
            let due: HashSet<u32> = targets.iter().map(|target| target.leader).collect();
            let next_read = if full_rate && interval <= KEEP_FILES_WITHIN {
                NextRead::Soon
            } else {
                NextRead::Late
            };
            let (reply, read) = tokio::sync::oneshot::channel();
            if reads.send((due, next_read, reply)).await.is_err() {
                tracing::error!("resource sampling stopped: its reader thread is gone");
                return;
            }
            let Ok((usage, read_at)) = read.await else {
                tracing::error!("resource sampling stopped: its reader thread is gone");
                return;
            };
            sampler.tick(&context, targets, usage, read_at);
        }
    });
}

/// Readings at most this far apart keep the files they open for the next (`procfiles.rs`):
/// the cost of opening them again is what watching costs, while a file kept for a minute or an
/// hour would only hold a descriptor and the kernel's buffer behind it.
const KEEP_FILES_WITHIN: Duration = Duration::from_secs(10);

/// A reading asked of the reader thread: the leaders to read, and where the usage and the
/// moment of the reading go.
type ReadRequest = (
    HashSet<u32>,
    NextRead,
    tokio::sync::oneshot::Sender<(HashMap<u32, Vec<Usage>>, Instant)>,
);

/// The reader on a thread of its own for as long as the sampler asks: reading the processes
/// makes system calls for each of them, so the runtime's workers (actors, the API) never wait
/// for it; and one lasting thread, not a blocking-pool thread made and ended around each tick
/// a minute apart, whose set-up and tear-down would bring pages of the C library and the
/// dynamic linker back into an idle daemon every minute.
fn spawn_reader(
    mut reader: Box<dyn UsageReader>,
) -> Option<tokio::sync::mpsc::Sender<ReadRequest>> {
    let (reads, mut requests) = tokio::sync::mpsc::channel::<ReadRequest>(1);
    std::thread::Builder::new()
        .name("sentinel-sampler".into())
        .spawn(move || {
            while let Some((leaders, next_read, reply)) = requests.blocking_recv() {
                // The moment of the reading, not of its processing: CPU use is per elapsed time.
                let at = Instant::now();
                let usage = reader.read(&leaders, next_read);
                let _ = reply.send((usage, at));
            }
        })
        .ok()?;
    Some(reads)
}

impl Sampler {
    /// Whether a running job is measured now: at every tick when `full_rate`, otherwise once
    /// per unwatched interval (give or take a tick, so that ticks one unwatched interval
    /// apart measure it each time).
    fn is_due(&self, job: &str, full_rate: bool, now: Instant) -> bool {
        let slow = self.unwatched_interval.saturating_sub(self.interval);
        full_rate
            || self
                .totals
                .get(job)
                .and_then(|totals| totals.measured_at)
                .is_none_or(|at| now.saturating_duration_since(at) >= slow)
    }

    fn tick(
        &mut self,
        context: &Arc<Context>,
        targets: Vec<SampleTarget>,
        usage: HashMap<u32, Vec<Usage>>,
        now: Instant,
    ) {
        let at = Utc::now();
        let mut samples = Vec::with_capacity(usage.len());
        for target in &targets {
            // Not due this time: measured at its own, slower pace.
            let Some(processes) = usage.get(&target.leader) else {
                continue;
            };
            let totals = self.totals.entry(target.job.clone()).or_default();
            let elapsed = totals
                .measured_at
                .map(|last| now.saturating_duration_since(last))
                .unwrap_or(Duration::ZERO);
            totals.measured_at = Some(now);
            let sample = measure(totals, processes, elapsed, at);
            if let Some(limit) = target.max_memory {
                if sample.memory_bytes > limit {
                    (target.over_limit)(target.leader, sample.memory_bytes, limit);
                }
            }
            samples.push((target.job.clone(), sample));
        }
        context.resources.record(&samples, at);
        // Jobs that stopped keep their totals; jobs removed from the engine do not.
        self.totals.retain(|job, _| context.resources.is_known(job));
        if !samples.is_empty() {
            context.emit_transient(EngineEvent::ResourcesSampled {
                samples: samples
                    .into_iter()
                    .map(|(job, sample)| JobSample { job, sample })
                    .collect(),
            });
        }
    }
}

/// One job's figures from what its processes used so far.
fn measure(
    totals: &mut JobTotals,
    processes: &[Usage],
    elapsed: Duration,
    at: chrono::DateTime<Utc>,
) -> ResourceSample {
    let mut memory = 0;
    let mut cpu_delta_ms = 0;
    let mut live = HashMap::with_capacity(processes.len());
    for usage in processes {
        memory += usage.memory;
        let previous_cpu = totals.live.get(&usage.pid).map_or(0, |p| p.0);
        cpu_delta_ms += usage.cpu_ms.saturating_sub(previous_cpu);
        live.insert(usage.pid, (usage.cpu_ms, usage.read, usage.written));
    }
    // Processes that exited since the last tick: keep what they used.
    for (pid, (cpu, read, written)) in &totals.live {
        if !live.contains_key(pid) {
            totals.gone_cpu_ms += cpu;
            totals.gone_read += read;
            totals.gone_written += written;
        }
    }
    totals.live = live;
    let (cpu_ms, read, written) = totals.live.values().fold(
        (totals.gone_cpu_ms, totals.gone_read, totals.gone_written),
        |(c, r, w), &(pc, pr, pw)| (c + pc, r + pr, w + pw),
    );
    let cpu_percent = if elapsed.is_zero() {
        0.0
    } else {
        cpu_delta_ms as f64 * 100.0 / elapsed.as_millis().max(1) as f64
    };
    ResourceSample {
        at,
        cpu_percent: (cpu_percent * 10.0).round() / 10.0,
        memory_bytes: memory,
        processes: u32::try_from(totals.live.len()).unwrap_or(u32::MAX),
        disk_read_bytes: read,
        disk_written_bytes: written,
        cpu_seconds: cpu_ms as f64 / 1000.0,
    }
}
