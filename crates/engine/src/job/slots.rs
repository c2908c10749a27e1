//! The global limit on jobs running at once (`[limits] max_running`): a job that would go over
//! it waits, in the order it asked, until a running one ends. A bad import of thousands of
//! jobs then cannot start thousands of processes at once.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

pub(crate) struct Slots {
    max: usize,
    state: Mutex<SlotState>,
}

#[derive(Default)]
struct SlotState {
    running: usize,
    line: VecDeque<Waiter>,
}

struct Waiter {
    job: String,
    /// Woken when it is this job's turn. Only the first in line is ever woken, so a line of
    /// thousands costs nothing when it moves.
    turn: Arc<Notify>,
}

/// A taken slot, given back when dropped (with the run that holds it).
pub(crate) struct Slot(Arc<Slots>);

impl Drop for Slot {
    fn drop(&mut self) {
        let mut state = self.0.lock();
        state.running = state.running.saturating_sub(1);
        self.0.wake_first(&state);
    }
}

/// A job that has to wait for a slot: `turn` wakes it when it is first in line and a slot is
/// free (it asks again then).
pub(crate) struct Full {
    pub max: usize,
    pub turn: Arc<Notify>,
}

impl Slots {
    pub fn new(max: usize) -> Arc<Slots> {
        Arc::new(Slots {
            max,
            state: Mutex::default(),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, SlotState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Wakes the first in line if a slot is free for it. A wake-up that finds the job not yet
    /// waiting is kept for it (`notify_one` stores a permit), so none is lost.
    fn wake_first(&self, state: &SlotState) {
        if state.running < self.max {
            if let Some(first) = state.line.front() {
                first.turn.notify_one();
            }
        }
    }

    /// A slot for `job` if one is free and nobody is before it in line; otherwise `job` joins
    /// the line (once).
    pub fn take(self: &Arc<Self>, job: &str) -> Result<Slot, Full> {
        let mut state = self.lock();
        let first = state.line.front().is_none_or(|front| front.job == job);
        if state.running < self.max && first {
            if state.line.front().is_some_and(|front| front.job == job) {
                state.line.pop_front();
            }
            state.running += 1;
            // More than one slot may have freed up: the next in line may go too.
            self.wake_first(&state);
            return Ok(Slot(self.clone()));
        }
        let turn = match state.line.iter().find(|waiter| waiter.job == job) {
            Some(waiter) => waiter.turn.clone(),
            None => {
                let turn = Arc::new(Notify::new());
                state.line.push_back(Waiter {
                    job: job.to_string(),
                    turn: turn.clone(),
                });
                turn
            }
        };
        Err(Full {
            max: self.max,
            turn,
        })
    }

    /// `job` no longer wants a slot (it was stopped while waiting).
    pub fn leave(&self, job: &str) {
        let mut state = self.lock();
        state.line.retain(|waiter| waiter.job != job);
        self.wake_first(&state);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether `turn` has been woken (consumes the wake-up).
    fn woken(turn: &Notify) -> bool {
        use std::future::Future;
        let notified = std::pin::pin!(turn.notified());
        let waker = std::task::Waker::noop();
        notified
            .poll(&mut std::task::Context::from_waker(waker))
            .is_ready()
    }

    #[test]
    fn jobs_over_the_limit_wait_in_order_and_only_the_first_is_woken() {
        let slots = Slots::new(2);
        let a = slots.take("a").ok().unwrap();
        let b = slots.take("b").ok().unwrap();
        let c = slots.take("c").err().unwrap();
        assert_eq!(c.max, 2);
        let d = slots.take("d").err().unwrap();
        let e = slots.take("e").err().unwrap();
        // Asking again keeps the place in line, and the same wake-up.
        assert!(Arc::ptr_eq(&slots.take("c").err().unwrap().turn, &c.turn));
        assert!(!woken(&c.turn) && !woken(&d.turn));

        drop(a);
        assert!(woken(&c.turn), "the first in line is told");
        assert!(!woken(&d.turn), "the rest are left alone");
        // d may not jump the line while c waits.
        assert!(slots.take("d").is_err());
        let c_slot = slots.take("c").ok().unwrap();
        assert!(!woken(&d.turn), "no slot left for d");

        // Two slots free at once: the first taker passes the turn on.
        drop(b);
        drop(c_slot);
        assert!(woken(&d.turn));
        assert!(!woken(&e.turn));
        let _d = slots.take("d").ok().unwrap();
        assert!(woken(&e.turn), "d passed the turn on");

        // Leaving hands the turn to whoever is next.
        let f = slots.take("f").err().unwrap();
        slots.leave("e");
        assert!(woken(&f.turn));
        let _f = slots.take("f").ok().unwrap();
        assert!(slots.take("g").is_err(), "both slots taken");
    }
}
