//! What a restart policy does to a failing job, in numbers and in words: the engine retries by
//! [`RestartPolicy::retry_delay`], and the CLI, the editor and the API all show
//! [`RestartPolicy::preview`], so what they say is what happens.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::job::{RestartMode, RestartPolicy};

/// The most delays a preview lists before it summarises.
pub const PREVIEW_DELAYS: usize = 8;

/// The waits a failing job goes through, as the editor and `sentinel status` show them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RestartPreview {
    /// The waits before the first retries, in milliseconds (at most [`PREVIEW_DELAYS`]).
    pub delays_ms: Vec<u64>,
    /// The failures retried before the job is `failed`; absent when it never gives up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gives_up_after: Option<u32>,
    /// "1s, 1.5s, 2.3s — gives up after 3 failures".
    pub text: String,
}

impl RestartPolicy {
    /// The wait before retry number `attempt` (1-based): `delay × backoff^(attempt-1)`, capped
    /// at `max_delay`.
    pub fn retry_delay(&self, attempt: u32) -> Duration {
        let exponent = i32::try_from(attempt.saturating_sub(1).min(1000)).unwrap_or(1000);
        let secs = self.delay.as_secs_f64() * self.backoff.max(1.0).powi(exponent);
        Duration::try_from_secs_f64(secs)
            .unwrap_or(self.max_delay)
            .min(self.max_delay)
    }

    /// What this policy does to a failing job. Bounded however large `max_retries` is.
    pub fn preview(&self) -> RestartPreview {
        if self.mode == RestartMode::Never {
            return RestartPreview {
                delays_ms: Vec::new(),
                gives_up_after: Some(0),
                text: "never restarts".into(),
            };
        }
        let forever = self.max_retries == 0;
        // PREVIEW_DELAYS is small: the count fits any integer type.
        let listed = u32::try_from(PREVIEW_DELAYS).unwrap_or(u32::MAX);
        let shown = if forever {
            listed
        } else {
            listed.min(self.max_retries)
        };
        let delays: Vec<Duration> = (1..=shown).map(|n| self.retry_delay(n)).collect();
        let mut list = delays
            .iter()
            .map(|delay| format_delay(*delay))
            .collect::<Vec<_>>()
            .join(", ");
        if forever || self.max_retries > listed {
            // Once capped, every later wait is the cap: say so rather than list it forever.
            match delays.last() {
                Some(last) if *last >= self.max_delay => {
                    list.push_str(&format!(" … then every {}", format_delay(self.max_delay)));
                }
                _ => list.push_str(", …"),
            }
        }
        let tail = match self.max_retries {
            0 => "never gives up".to_string(),
            1 => "gives up after 1 failure".to_string(),
            n => format!("gives up after {n} failures"),
        };
        RestartPreview {
            delays_ms: delays
                .iter()
                .map(|delay| u64::try_from(delay.as_millis()).unwrap_or(u64::MAX))
                .collect(),
            gives_up_after: (!forever).then_some(self.max_retries),
            text: format!("{list} — {tail}"),
        }
    }
}

/// A wait in a delay list: "500ms", "1.5s", "2.3s", "1m 30s", "2h 5m".
pub fn format_delay(delay: Duration) -> String {
    let ms = delay.as_secs_f64() * 1000.0;
    if ms < 1000.0 {
        return format!("{}ms", ms.round());
    }
    if ms < 60_000.0 {
        let tenths = (ms / 100.0).round();
        // 59.96s rounds up to a whole minute.
        if tenths >= 600.0 {
            return "1m".into();
        }
        return if tenths % 10.0 == 0.0 {
            format!("{}s", tenths / 10.0)
        } else {
            format!("{:.1}s", tenths / 10.0)
        };
    }
    // Whole seconds, then minutes: integer arithmetic from here on, and no float-to-int cast
    // (a delay is at most a day, by the validator).
    let secs = delay.as_secs() + u64::from(delay.subsec_millis() >= 500);
    if secs < 3600 {
        return match secs % 60 {
            0 => format!("{}m", secs / 60),
            s => format!("{}m {s}s", secs / 60),
        };
    }
    let mins = secs / 60 + u64::from(secs % 60 >= 30);
    match mins % 60 {
        0 => format!("{}h", mins / 60),
        m => format!("{}h {m}m", mins / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(max_retries: u32, delay_ms: u64, backoff: f64, max_delay_ms: u64) -> RestartPolicy {
        RestartPolicy {
            mode: RestartMode::OnFailure,
            max_retries,
            delay: Duration::from_millis(delay_ms),
            backoff,
            max_delay: Duration::from_millis(max_delay_ms),
            ..RestartPolicy::default()
        }
    }

    #[test]
    fn the_preview_lists_the_waits_and_when_it_gives_up() {
        let text = |p: RestartPolicy| p.preview().text;
        assert_eq!(
            text(policy(5, 1000, 1.5, 300_000)),
            "1s, 1.5s, 2.3s, 3.4s, 5.1s — gives up after 5 failures"
        );
        assert_eq!(
            text(policy(5, 1000, 1.5, 5000)),
            "1s, 1.5s, 2.3s, 3.4s, 5s — gives up after 5 failures"
        );
        assert_eq!(
            text(policy(3, 30_000, 1.0, 300_000)),
            "30s, 30s, 30s — gives up after 3 failures"
        );
        assert_eq!(
            text(policy(0, 500, 2.0, 10_000)),
            "500ms, 1s, 2s, 4s, 8s, 10s, 10s, 10s … then every 10s — never gives up"
        );
        assert!(text(policy(0, 1000, 1.1, 3_600_000)).ends_with(", … — never gives up"));
        assert_eq!(
            text(policy(20, 1000, 2.0, 60_000)),
            "1s, 2s, 4s, 8s, 16s, 32s, 1m, 1m … then every 1m — gives up after 20 failures"
        );
        assert_eq!(
            text(policy(1, 1000, 2.0, 60_000)),
            "1s — gives up after 1 failure"
        );
        let never = RestartPolicy {
            mode: RestartMode::Never,
            ..RestartPolicy::default()
        };
        assert_eq!(text(never), "never restarts");
    }

    #[test]
    fn a_million_retries_preview_in_a_few_words() {
        let preview = policy(1_000_000, 1000, 2.0, 300_000).preview();
        assert_eq!(preview.delays_ms.len(), PREVIEW_DELAYS);
        assert_eq!(preview.gives_up_after, Some(1_000_000));
        assert!(preview.text.len() < 200, "{}", preview.text);
        assert!(preview.text.ends_with("gives up after 1000000 failures"));
    }

    #[test]
    fn delays_read_as_people_write_them() {
        let cases = [
            (400, "400ms"),
            (1000, "1s"),
            (2250, "2.3s"),
            (59_960, "1m"),
            (90_000, "1m 30s"),
            (300_000, "5m"),
            (7_500_000, "2h 5m"),
            (7_200_000, "2h"),
        ];
        for (ms, text) in cases {
            assert_eq!(format_delay(Duration::from_millis(ms)), text);
        }
    }

    #[test]
    fn retry_delays_grow_by_backoff_up_to_the_cap_and_never_overflow() {
        let p = policy(0, 1000, 2.0, 10_000);
        let ms: Vec<u128> = (1..=6).map(|n| p.retry_delay(n).as_millis()).collect();
        assert_eq!(ms, [1000, 2000, 4000, 8000, 10_000, 10_000]);
        assert_eq!(p.retry_delay(u32::MAX), p.max_delay);
        let huge = RestartPolicy {
            backoff: f64::MAX,
            ..p
        };
        assert_eq!(huge.retry_delay(3), huge.max_delay);
    }
}
