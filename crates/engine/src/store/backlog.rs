//! The runs and events the write loop holds until the database takes them. While the database
//! refuses writes (another process holds a lock, the disk is full) they pile up here; once
//! there are many, they are trimmed to what the database would keep after pruning anyway, so
//! an outage of hours costs bounded memory and loses nothing that would have stayed.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use super::retention::Retention;
use super::writer::{Write, WRITE_BATCH};

/// Below this many held writes a trim is not worth its scan (normal bursts stay under it).
const TRIM_FROM: usize = 10_000;

/// What a trim let go of.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Trimmed {
    pub events: usize,
    pub runs: usize,
}

pub(super) struct Backlog {
    writes: VecDeque<Write>,
    kept: Retention,
    /// The length at which the next trim is due: twice what the last one left, so trimming
    /// costs O(1) per write.
    trim_at: usize,
    /// How many writes are held, for the metrics.
    held: Arc<AtomicUsize>,
}

impl Backlog {
    pub fn new(kept: Retention, held: Arc<AtomicUsize>) -> Backlog {
        Backlog {
            writes: VecDeque::new(),
            kept,
            trim_at: TRIM_FROM,
            held,
        }
    }

    pub fn kept(&self) -> Retention {
        self.kept
    }

    pub fn is_empty(&self) -> bool {
        self.writes.is_empty()
    }

    pub fn len(&self) -> usize {
        self.writes.len()
    }

    /// Adds a write; returns what a trim let go of, if one was due.
    pub fn push(&mut self, write: Write) -> Option<Trimmed> {
        self.writes.push_back(write);
        let trimmed = (self.writes.len() >= self.trim_at).then(|| self.trim());
        self.held.store(self.writes.len(), Ordering::Relaxed);
        trimmed
    }

    /// The oldest writes, at most `n`, in order.
    pub fn front(&mut self, n: usize) -> &[Write] {
        let n = n.min(self.writes.len());
        &self.writes.make_contiguous()[..n]
    }

    /// Removes the oldest `n` writes (the ones just written) and returns them.
    pub fn take_front(&mut self, n: usize) -> Vec<Write> {
        let n = n.min(self.writes.len());
        let taken = self.writes.drain(..n).collect();
        // After an outage, give back the room it took.
        if self.writes.capacity() > 4 * WRITE_BATCH && self.writes.len() < WRITE_BATCH {
            self.writes.shrink_to(WRITE_BATCH);
        }
        self.held.store(self.writes.len(), Ordering::Relaxed);
        taken
    }

    /// Drops the events and finished runs pruning would delete right after writing them: all
    /// but the newest `kept.events` events, and of each job all but its newest
    /// `kept.runs_per_job` runs (open runs and flush requests always stay).
    pub fn trim(&mut self) -> Trimmed {
        let events = self
            .writes
            .iter()
            .filter(|w| matches!(w, Write::Event(_)))
            .count();
        let mut events_to_drop = events.saturating_sub(self.kept.events.max(0) as usize);

        let ended: HashSet<i64> = self
            .writes
            .iter()
            .filter_map(|w| match w {
                Write::RunEnded(end) => Some(end.id),
                _ => None,
            })
            .collect();
        let mut runs_of_job: HashMap<&str, Vec<i64>> = HashMap::new();
        for write in &self.writes {
            if let Write::RunStarted(run) = write {
                runs_of_job.entry(&run.job).or_default().push(run.id);
            }
        }
        let kept_runs = self.kept.runs_per_job.max(0) as usize;
        let runs_to_drop: HashSet<i64> = runs_of_job
            .values()
            .flat_map(|ids| {
                let older = ids.len().saturating_sub(kept_runs);
                ids[..older].iter().copied()
            })
            .filter(|id| ended.contains(id))
            .collect();

        let before = self.writes.len();
        self.writes.retain(|write| match write {
            Write::Event(_) if events_to_drop > 0 => {
                events_to_drop -= 1;
                false
            }
            Write::RunStarted(run) => !runs_to_drop.contains(&run.id),
            Write::RunEnded(end) => !runs_to_drop.contains(&end.id),
            _ => true,
        });
        let trimmed = Trimmed {
            events: before - self.writes.len() - 2 * runs_to_drop.len(),
            runs: runs_to_drop.len(),
        };
        self.trim_at = (self.writes.len() * 2).max(TRIM_FROM);
        self.held.store(self.writes.len(), Ordering::Relaxed);
        trimmed
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use sentinel_proto::{EngineEvent, EventEnvelope};

    use super::*;
    use crate::store::samples::{run_failed, run_started};

    fn started(id: i64, job: &str) -> Write {
        Write::RunStarted(run_started(id, job))
    }

    fn ended(id: i64) -> Write {
        Write::RunEnded(run_failed(id))
    }

    fn event(seq: u64) -> Write {
        Write::Event(EventEnvelope {
            seq,
            at: Utc::now(),
            event: EngineEvent::JobRemoved {
                job: format!("job{seq}"),
            },
        })
    }

    fn describe(backlog: &mut Backlog) -> Vec<String> {
        let len = backlog.len();
        backlog
            .front(len)
            .iter()
            .map(|w| match w {
                Write::RunStarted(run) => format!("start {} {}", run.job, run.id),
                Write::RunEnded(end) => format!("end {}", end.id),
                Write::Event(e) => format!("event {}", e.seq),
                Write::Flush(_) => "flush".into(),
            })
            .collect()
    }

    #[test]
    fn a_trim_keeps_what_pruning_would_keep_in_order() {
        let held = Arc::new(AtomicUsize::new(0));
        let kept = Retention {
            events: 2,
            runs_per_job: 2,
        };
        let mut backlog = Backlog::new(kept, held.clone());
        // A run started before the outage ends in it; "loop" crash-loops through runs 2..=5 and
        // its run 6 is still open; "calm" has one finished run; a flush waits in between.
        backlog.push(ended(1));
        for id in 2..=5 {
            backlog.push(started(id, "loop"));
            backlog.push(event(id as u64));
            backlog.push(ended(id));
        }
        let (flushed, _wait) = tokio::sync::oneshot::channel();
        backlog.push(Write::Flush(flushed));
        backlog.push(started(6, "loop"));
        backlog.push(started(7, "calm"));
        backlog.push(ended(7));
        backlog.push(event(8));
        assert_eq!(held.load(Ordering::Relaxed), 18);

        // "loop" keeps its newest two runs (5 and the open 6): 2, 3 and 4 go, start and end.
        let trimmed = backlog.trim();
        assert_eq!(trimmed, Trimmed { events: 3, runs: 3 });
        assert_eq!(
            describe(&mut backlog),
            [
                "end 1",
                "start loop 5",
                "event 5",
                "end 5",
                "flush",
                "start loop 6",
                "start calm 7",
                "end 7",
                "event 8"
            ]
        );
        assert_eq!(held.load(Ordering::Relaxed), 9);
        // Nothing more to let go of.
        assert_eq!(backlog.trim(), Trimmed::default());
    }

    #[test]
    fn an_outage_of_any_length_holds_a_bounded_backlog() {
        let held = Arc::new(AtomicUsize::new(0));
        let kept = Retention {
            events: 1_000,
            runs_per_job: 100,
        };
        let mut backlog = Backlog::new(kept, held.clone());
        let mut most = 0;
        // Ten jobs crash-looping, each run with three events: 1.2 million writes.
        for id in 0..100_000i64 {
            backlog.push(started(id, &format!("job{}", id % 10)));
            for n in 0..3 {
                backlog.push(event(id as u64 * 3 + n));
            }
            backlog.push(ended(id));
            most = most.max(backlog.len());
        }
        // What pruning keeps: 1,000 events and 10 × 100 runs (two writes each); a trim is due
        // at twice what the last one left, or at TRIM_FROM.
        let kept_writes = 1_000 + 10 * 100 * 2;
        assert!(most <= (2 * kept_writes).max(TRIM_FROM), "held {most}");
        let len = backlog.len();
        let last = backlog.front(len).last().map(|w| match w {
            Write::RunEnded(end) => end.id,
            _ => -1,
        });
        assert_eq!(last, Some(99_999), "the newest are never dropped");
    }
}
