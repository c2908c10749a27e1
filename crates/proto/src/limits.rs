//! The bounds of every duration and size a job definition or `settings.toml` may hold. The
//! validators check them, so a definition the engine accepts is one it can schedule, wait for
//! and do arithmetic with; docs/configuration.md lists the same figures.

use std::time::Duration;

const MINUTE: u64 = 60;
const HOUR: u64 = 60 * MINUTE;
const DAY: u64 = 24 * HOUR;

/// The inclusive range a duration field accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DurationRange {
    pub min: Duration,
    pub max: Duration,
}

impl DurationRange {
    const fn new(min: Duration, max: Duration) -> DurationRange {
        DurationRange { min, max }
    }

    /// `None` when `value` is in range, else what is wrong with it, in the validator's words.
    pub fn problem(&self, value: Duration) -> Option<String> {
        let shown = crate::duration::format(value);
        if value < self.min {
            if self.min == Duration::from_nanos(1) {
                return Some("must be longer than 0s".into());
            }
            return Some(format!(
                "{shown} is too short; use at least {}",
                crate::duration::format(self.min)
            ));
        }
        if value > self.max {
            return Some(format!(
                "{shown} is too long; use at most {}",
                crate::duration::format(self.max)
            ));
        }
        None
    }
}

const fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

const fn millis(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// More than zero.
const SOME: Duration = Duration::from_nanos(1);

/// `schedule.every`: at least a second (a shorter interval is a busy loop that floods the
/// run history), at most a year ("1y", 365.25 days).
pub const SCHEDULE_EVERY: DurationRange = DurationRange::new(secs(1), secs(365 * DAY + 6 * HOUR));
/// `restart.delay` and `restart.max_delay`: a day at most between two tries.
pub const RESTART_DELAY: DurationRange = DurationRange::new(Duration::ZERO, secs(DAY));
/// `restart.min_uptime`.
pub const MIN_UPTIME: DurationRange = DurationRange::new(Duration::ZERO, secs(DAY));
/// `stop_timeout`: the grace period between the stop signal and KILL.
pub const STOP_TIMEOUT: DurationRange = DurationRange::new(SOME, secs(HOUR));
/// `health.interval`.
pub const HEALTH_INTERVAL: DurationRange = DurationRange::new(millis(100), secs(DAY));
/// `health.timeout`.
pub const HEALTH_TIMEOUT: DurationRange = DurationRange::new(SOME, secs(HOUR));
/// `health.start_period`.
pub const HEALTH_START_PERIOD: DurationRange = DurationRange::new(Duration::ZERO, secs(DAY));
/// `watch.debounce`.
pub const WATCH_DEBOUNCE: DurationRange = DurationRange::new(millis(10), secs(10 * MINUTE));

/// `[monitor] sample_interval`.
pub const SAMPLE_INTERVAL: DurationRange = DurationRange::new(millis(100), secs(HOUR));
/// `[monitor] history`.
pub const SAMPLE_HISTORY: DurationRange = DurationRange::new(millis(100), secs(7 * DAY));
/// `[notifications] throttle`.
pub const NOTIFY_THROTTLE: DurationRange = DurationRange::new(Duration::ZERO, secs(7 * DAY));
/// `[notifications] webhook_timeout`.
pub const WEBHOOK_TIMEOUT: DurationRange = DurationRange::new(SOME, secs(5 * MINUTE));
/// `[logs] max_age`: from a minute to ten years.
pub const LOG_MAX_AGE: DurationRange = DurationRange::new(secs(MINUTE), secs(3660 * DAY));

/// `logs.max_size`: 1 KiB to 1 TiB per file.
pub const LOG_FILE_SIZE: (u64, u64) = (1 << 10, 1 << 40);
/// `max_memory`: 1 MiB to 64 TiB.
pub const MAX_MEMORY: (u64, u64) = (1 << 20, 64 << 40);
/// `logs.max_files`.
pub const MAX_LOG_FILES: u32 = 1000;
/// `restart.max_retries` (0 = never give up).
pub const MAX_RETRIES: u32 = 1_000_000;
/// `health.retries`.
pub const MAX_HEALTH_RETRIES: u32 = 1000;
/// `rlimits.nofile`: Linux's default ceiling (`fs.nr_open`); macOS allows less
/// (`kern.maxfilesperproc`), which the start then reports.
pub const MAX_NOFILE: u64 = 1 << 20;
/// `rlimits.core`.
pub const MAX_CORE: u64 = 1 << 40;
/// `[limits] max_running`.
pub const MAX_RUNNING: u32 = 100_000;

/// Bytes of a command line (the OS refuses a longer argument list anyway).
pub const MAX_COMMAND: usize = 128 * 1024;
/// Bytes of a path (`cwd`, an env file, a watched path): PATH_MAX.
pub const MAX_PATH: usize = 4096;
/// Variables in `env`.
pub const MAX_ENV_VARS: usize = 1000;
/// Entries in each list of a definition (`secrets`, `env_files`, `ports`, `depends_on`,
/// `watch.paths`, `watch.ignore`, `restart.success_exit_codes`).
pub const MAX_LIST: usize = 256;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_say_which_end_was_crossed() {
        assert_eq!(SCHEDULE_EVERY.problem(secs(1)), None);
        assert_eq!(
            SCHEDULE_EVERY.problem(Duration::from_nanos(1)).unwrap(),
            "1ns is too short; use at least 1s"
        );
        assert_eq!(
            RESTART_DELAY.problem(secs(2 * DAY)).unwrap(),
            "2days is too long; use at most 1day"
        );
        assert_eq!(
            STOP_TIMEOUT.problem(Duration::ZERO).unwrap(),
            "must be longer than 0s"
        );
    }

    #[test]
    fn every_maximum_fits_a_date_and_an_instant() {
        // The arithmetic the engine does with these must not be able to overflow.
        let now = chrono::Utc::now();
        for max in [
            SCHEDULE_EVERY.max,
            RESTART_DELAY.max,
            STOP_TIMEOUT.max,
            LOG_MAX_AGE.max,
        ] {
            let delta = chrono::Duration::from_std(max).unwrap();
            assert!(now.checked_add_signed(delta * 1000).is_some());
            assert!(std::time::Instant::now().checked_add(max * 1000).is_some());
        }
    }
}
