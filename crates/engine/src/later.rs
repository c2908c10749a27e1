//! A time plus a duration, for every deadline the engine computes. The validators bound each
//! duration a definition holds, but `Instant + Duration` panics on overflow, and a panic in a
//! job's actor is a job out of control: so the sum saturates at a far future instead.

use std::time::Duration;

use chrono::{DateTime, Utc};

/// Thirty years: later than any bound, early enough for every clock type to hold.
const FAR: Duration = Duration::from_secs(30 * 366 * 24 * 3600);

pub(crate) trait Later: Sized + Copy {
    /// `self + by`, or the farthest instant this type can hold within `FAR` when that
    /// overflows.
    fn later(self, by: Duration) -> Self;
}

impl Later for std::time::Instant {
    fn later(self, by: Duration) -> Self {
        self.checked_add(by)
            .or_else(|| self.checked_add(FAR))
            .unwrap_or(self)
    }
}

impl Later for tokio::time::Instant {
    fn later(self, by: Duration) -> Self {
        self.checked_add(by)
            .or_else(|| self.checked_add(FAR))
            .unwrap_or(self)
    }
}

impl Later for DateTime<Utc> {
    fn later(self, by: Duration) -> Self {
        let far = || chrono::Duration::from_std(FAR).ok();
        chrono::Duration::from_std(by)
            .ok()
            .and_then(|by| self.checked_add_signed(by))
            .or_else(|| far().and_then(|far| self.checked_add_signed(far)))
            .unwrap_or(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_overflowing_sum_saturates_instead_of_panicking() {
        let now = std::time::Instant::now();
        assert_eq!(
            now.later(Duration::from_secs(1)),
            now + Duration::from_secs(1)
        );
        assert!(now.later(Duration::MAX) >= now + FAR);
        let tokio_now = tokio::time::Instant::now();
        assert!(tokio_now.later(Duration::MAX) >= tokio_now + FAR);
        let utc = Utc::now();
        assert_eq!(
            utc.later(Duration::from_secs(60)),
            utc + chrono::Duration::seconds(60)
        );
        assert!(utc.later(Duration::MAX) > utc + chrono::Duration::days(365 * 29));
        assert_eq!(
            DateTime::<Utc>::MAX_UTC.later(Duration::MAX),
            DateTime::<Utc>::MAX_UTC
        );
    }
}
