//! At most one notification per job per period: the first goes out at once, the rest of the
//! period are counted and summed up in one notification when the period ends.

use std::collections::HashMap;
use std::time::Duration;

use tokio::time::Instant;

use super::{AlertKind, Notification};
use crate::later::Later;

pub(super) struct Throttle {
    period: Duration,
    windows: HashMap<String, Window>,
}

struct Window {
    ends: Instant,
    suppressed: u32,
    /// The newest alert held back, for the summary's words.
    latest: Option<Notification>,
    /// A `recovered` arrived after the held-back failures.
    recovered: bool,
}

impl Throttle {
    pub fn new(period: Duration) -> Throttle {
        Throttle {
            period,
            windows: HashMap::new(),
        }
    }

    /// What to deliver now, if anything.
    pub fn offer(&mut self, notification: Notification, now: Instant) -> Option<Notification> {
        let open = self
            .windows
            .get_mut(&notification.job)
            .filter(|window| now < window.ends);
        match (open, notification.kind) {
            (Some(window), AlertKind::Recovered) => {
                if window.suppressed == 0 {
                    // Only failures count against the budget; good news goes out.
                    Some(notification)
                } else {
                    window.recovered = true;
                    None
                }
            }
            (Some(window), _) => {
                window.suppressed += 1;
                window.recovered = false;
                window.latest = Some(notification);
                None
            }
            (None, AlertKind::Recovered) => Some(notification),
            (None, _) => {
                self.windows.insert(
                    notification.job.clone(),
                    Window {
                        ends: now.later(self.period),
                        suppressed: 0,
                        latest: None,
                        recovered: false,
                    },
                );
                Some(notification)
            }
        }
    }

    /// When the next period ends.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.windows.values().map(|w| w.ends).min()
    }

    /// Summaries of the periods that ended with alerts held back; a summary opens a new period.
    pub fn due(&mut self, now: Instant) -> Vec<Notification> {
        let ended: Vec<String> = self
            .windows
            .iter()
            .filter(|(_, w)| w.ends <= now)
            .map(|(job, _)| job.clone())
            .collect();
        let mut summaries = Vec::new();
        for job in ended {
            let Some(window) = self.windows.remove(&job) else {
                continue;
            };
            let Some(mut summary) = window.latest.filter(|_| window.suppressed > 0) else {
                continue;
            };
            summary.suppressed = window.suppressed;
            if window.recovered {
                summary.body.push_str(". It has recovered since");
            }
            self.windows.insert(
                job,
                Window {
                    ends: now.later(self.period),
                    suppressed: 0,
                    latest: None,
                    recovered: false,
                },
            );
            summaries.push(summary);
        }
        summaries
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(job: &str, kind: AlertKind, body: &str) -> Notification {
        Notification {
            job: job.into(),
            kind,
            title: job.to_string(),
            body: body.into(),
            at: chrono::Utc::now(),
            exit: None,
            log_tail: vec![],
            suppressed: 0,
            muted: false,
            job_webhook: None,
        }
    }

    #[test]
    fn one_per_period_then_a_summary() {
        let period = Duration::from_secs(300);
        let mut throttle = Throttle::new(period);
        let t0 = Instant::now();
        assert!(throttle
            .offer(alert("api", AlertKind::Crashed, "first"), t0)
            .is_some());
        for n in 0..7 {
            let later = t0 + Duration::from_secs(10 + n);
            assert!(throttle
                .offer(
                    alert("api", AlertKind::Crashed, &format!("crash {n}")),
                    later
                )
                .is_none());
        }
        // Another job has its own budget.
        assert!(throttle
            .offer(
                alert("db", AlertKind::GaveUp, "x"),
                t0 + Duration::from_secs(20)
            )
            .is_some());
        assert_eq!(throttle.next_deadline(), Some(t0 + period));
        assert!(throttle.due(t0 + Duration::from_secs(299)).is_empty());

        let summaries = throttle.due(t0 + period);
        assert_eq!(summaries.len(), 1);
        assert_eq!(summaries[0].job, "api");
        assert_eq!(summaries[0].suppressed, 7);
        assert_eq!(summaries[0].body, "crash 6");
        assert!(super::super::text_with_logs(&summaries[0]).contains("and 7 more failures"));

        // The summary counts as the period's notification.
        assert!(throttle
            .offer(
                alert("api", AlertKind::Crashed, "again"),
                t0 + period + Duration::from_secs(1)
            )
            .is_none());
        // A quiet period ends without a word.
        let quiet = t0 + Duration::from_secs(20) + period;
        let summaries = throttle.due(quiet);
        assert!(summaries.iter().all(|s| s.job != "db"));
    }

    #[test]
    fn recovery_goes_out_unless_failures_wait() {
        let mut throttle = Throttle::new(Duration::from_secs(60));
        let t0 = Instant::now();
        throttle.offer(alert("api", AlertKind::Crashed, "crash"), t0);
        assert!(throttle
            .offer(
                alert("api", AlertKind::Recovered, "ok"),
                t0 + Duration::from_secs(1)
            )
            .is_some());
        throttle.offer(
            alert("api", AlertKind::Crashed, "crash 2"),
            t0 + Duration::from_secs(2),
        );
        assert!(throttle
            .offer(
                alert("api", AlertKind::Recovered, "ok"),
                t0 + Duration::from_secs(3)
            )
            .is_none());
        let summary = throttle.due(t0 + Duration::from_secs(60)).remove(0);
        assert_eq!(summary.suppressed, 1);
        assert!(
            summary.body.ends_with("It has recovered since"),
            "{}",
            summary.body
        );
    }
}
