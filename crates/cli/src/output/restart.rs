//! A restart policy in words: the delays a failing job goes through, and when it gives up.
//!
//! The sequence comes from the engine's own restart decision (`job::policy`), the one
//! place that rule lives, so what `sentinel status` says is what the engine does. This file is
//! the CLI's only use of the engine for rendering.

use sentinel_engine::job::policy::delay_sequence;
use sentinel_proto::RestartPolicy;

use super::short_duration;

/// "retries after 1s, 2s, 4s, then gives up", or where it never gives up, its rule.
pub fn delays(policy: &RestartPolicy) -> String {
    match delay_sequence(policy) {
        Some(delays) if delays.is_empty() => "no retries".to_string(),
        Some(delays) => {
            // A long sequence (max_retries may be a million) is its start and its count.
            const SHOWN: usize = 8;
            let shown = delays
                .iter()
                .take(SHOWN)
                .map(|d| short_duration(*d))
                .collect::<Vec<_>>()
                .join(", ");
            match delays.last() {
                Some(last) if delays.len() > SHOWN => format!(
                    "retries after {shown}, … ({} retries, the last after {}), then gives up",
                    delays.len(),
                    short_duration(*last)
                ),
                _ => format!("retries after {shown}, then gives up"),
            }
        }
        None => format!(
            "retries after {}, ×{} each time up to {}, never gives up",
            short_duration(policy.delay),
            policy.backoff,
            short_duration(policy.max_delay)
        ),
    }
}
