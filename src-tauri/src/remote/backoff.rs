//! How long to wait before trying an unreachable engine again: 1 s, doubling each failure, at
//! most a minute; a connection that held resets it.

use std::time::Duration;

/// The first wait.
pub const FIRST: Duration = Duration::from_secs(1);
/// The longest wait: an engine that comes back is seen within a minute.
pub const MAX: Duration = Duration::from_secs(60);
/// A connection must hold this long to count as a success; shorter, and the next failure
/// waits longer, so an engine that drops every connection at once is not dialled every second.
pub const STABLE: Duration = Duration::from_secs(30);

/// Failures in a row since the last connection that held.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Backoff {
    failures: u32,
}

impl Backoff {
    /// One more failure: the wait before the next try.
    pub fn fail(&mut self) -> Duration {
        self.failures = self.failures.saturating_add(1);
        delay(self.failures)
    }

    /// A connection held: the next failure waits [`FIRST`] again.
    pub fn reset(&mut self) {
        self.failures = 0;
    }

    /// Failures in a row: the attempt the next try is.
    pub fn failures(&self) -> u32 {
        self.failures
    }
}

/// The wait after `failures` failures in a row (1 → 1 s, 2 → 2 s, 3 → 4 s, …, capped).
pub fn delay(failures: u32) -> Duration {
    let doublings = failures.saturating_sub(1);
    // 2^6 s is past the cap already; checking the exponent first keeps the shift in range.
    if doublings >= 6 {
        return MAX;
    }
    FIRST.saturating_mul(1 << doublings).min(MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_from_a_second_to_a_minute() {
        let mut backoff = Backoff::default();
        let waits: Vec<u64> = (0..9).map(|_| backoff.fail().as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
        assert_eq!(backoff.failures(), 9);
        backoff.reset();
        assert_eq!(backoff.fail(), FIRST);
    }

    #[test]
    fn any_count_of_failures_is_bounded() {
        for failures in [0, 1, 5, 6, 7, 31, 32, 33, 64, u32::MAX - 1, u32::MAX] {
            let wait = delay(failures);
            assert!(wait >= FIRST && wait <= MAX, "{failures}: {wait:?}");
        }
        let mut backoff = Backoff { failures: u32::MAX };
        assert_eq!(backoff.fail(), MAX, "saturates rather than wraps to 1 s");
        assert_eq!(backoff.failures(), u32::MAX);
        // Never shorter than the one before.
        for failures in 1..100 {
            assert!(delay(failures + 1) >= delay(failures));
        }
    }
}
