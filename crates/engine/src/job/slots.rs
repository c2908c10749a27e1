//! The global limit on jobs running at once (`[limits] max_running`): a job that would go over
//! it waits, in the order it asked, until a running one ends. A bad import of thousands of
//! jobs then cannot start thousands of processes at once.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use tokio::sync::watch;

pub(crate) struct Slots {
    max: usize,
    state: Mutex<SlotState>,
    /// Bumped whenever a slot frees up or the line moves, to wake the waiting.
    changed: watch::Sender<u64>,
}

#[derive(Default)]
struct SlotState {
    running: usize,
    line: VecDeque<String>,
}

/// A taken slot, given back when dropped (with the run that holds it).
pub(crate) struct Slot(Arc<Slots>);

impl Drop for Slot {
    fn drop(&mut self) {
        let mut state = self.0.lock();
        state.running = state.running.saturating_sub(1);
        drop(state);
        self.0.changed.send_modify(|n| *n += 1);
    }
}

/// Why a job has to wait for a slot.
pub(crate) struct Full {
    pub running: usize,
    pub max: usize,
    /// 1 for the first in line.
    pub position: usize,
}

impl Slots {
    pub fn new(max: usize) -> Arc<Slots> {
        Arc::new(Slots {
            max,
            state: Mutex::default(),
            changed: watch::Sender::new(0),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, SlotState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A slot for `job` if one is free and nobody is before it in line; otherwise `job` joins
    /// the line (once) and learns where it stands.
    pub fn take(self: &Arc<Self>, job: &str) -> Result<Slot, Full> {
        let mut state = self.lock();
        let first = state.line.front().is_none_or(|front| front == job);
        if state.running < self.max && first {
            if state.line.front().is_some_and(|front| front == job) {
                state.line.pop_front();
            }
            state.running += 1;
            let line_moved = !state.line.is_empty();
            drop(state);
            if line_moved {
                self.changed.send_modify(|n| *n += 1);
            }
            return Ok(Slot(self.clone()));
        }
        let position = match state.line.iter().position(|queued| queued == job) {
            Some(index) => index + 1,
            None => {
                state.line.push_back(job.to_string());
                state.line.len()
            }
        };
        Err(Full {
            running: state.running,
            max: self.max,
            position,
        })
    }

    /// `job` no longer wants a slot (it was stopped while waiting).
    pub fn leave(&self, job: &str) {
        let mut state = self.lock();
        let before = state.line.len();
        state.line.retain(|queued| queued != job);
        let moved = state.line.len() != before;
        drop(state);
        if moved {
            self.changed.send_modify(|n| *n += 1);
        }
    }

    /// Wakes when a slot frees up or the line moves.
    pub fn watch(&self) -> watch::Receiver<u64> {
        let mut receiver = self.changed.subscribe();
        receiver.mark_unchanged();
        receiver
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_over_the_limit_wait_in_order() {
        let slots = Slots::new(2);
        let a = slots.take("a").ok().unwrap();
        let _b = slots.take("b").ok().unwrap();
        let full = slots.take("c").err().unwrap();
        assert_eq!((full.running, full.max, full.position), (2, 2, 1));
        assert_eq!(slots.take("d").err().unwrap().position, 2);
        // Asking again keeps the place in line.
        assert_eq!(slots.take("c").err().unwrap().position, 1);
        drop(a);
        // d may not jump the line while c waits.
        assert!(slots.take("d").is_err());
        let _c = slots.take("c").ok().unwrap();
        assert_eq!(slots.take("d").err().unwrap().position, 1);
        slots.leave("d");
        assert_eq!(slots.take("e").err().unwrap().position, 1);
    }
}
