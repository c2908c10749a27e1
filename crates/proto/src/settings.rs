//! Engine-wide settings (`settings.toml` next to the database): sampling, notifications,
//! the metrics endpoint. Every field has a default, so an absent file means defaults.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::limits;
use crate::validate::FieldError;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Settings {
    pub monitor: MonitorSettings,
    pub notifications: NotificationSettings,
    pub metrics: MetricsSettings,
    pub logs: LogRetention,
    pub limits: Limits,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Limits {
    /// Jobs running at once, at most; the rest wait in line (state `waiting`) for a slot.
    pub max_running: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_running: 4096 }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LogRetention {
    /// Rotated log files older than this are deleted, and so are the logs of removed jobs.
    /// Absent: kept until each job's `logs.max_files` pushes them out.
    #[serde(
        skip_serializing_if = "Option::is_none",
        with = "crate::duration::option"
    )]
    #[schema(value_type = Option<String>, example = "14d")]
    #[cfg_attr(feature = "ts", ts(type = "string | null", optional))]
    pub max_age: Option<Duration>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct MonitorSettings {
    /// How often CPU, memory and disk use of running jobs are sampled.
    #[serde(with = "crate::duration")]
    #[schema(value_type = String, example = "2s")]
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub sample_interval: Duration,
    /// How often a job is sampled while nobody watches (no popover or settings window open,
    /// no `sentinel top`, no metrics scrape in the last minute); a job with `max_memory` is
    /// always sampled every `sample_interval`. Never more often than `sample_interval`: a
    /// shorter value counts as `sample_interval` (so `sample_interval = "1h"` alone turns
    /// sampling nearly off, as it always did).
    #[serde(with = "crate::duration")]
    #[schema(value_type = String, example = "1m")]
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub unwatched_interval: Duration,
    /// How much sample history each job keeps for sparklines.
    #[serde(with = "crate::duration")]
    #[schema(value_type = String, example = "30m")]
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub history: Duration,
}

impl Default for MonitorSettings {
    fn default() -> Self {
        MonitorSettings {
            sample_interval: Duration::from_secs(2),
            unwatched_interval: Duration::from_secs(60),
            history: Duration::from_secs(30 * 60),
        }
    }
}

impl MonitorSettings {
    /// How often a job is sampled while nobody watches: never more often than when someone
    /// does.
    pub fn effective_unwatched_interval(&self) -> Duration {
        self.unwatched_interval.max(self.sample_interval)
    }

    /// Samples kept per job.
    pub fn history_len(&self) -> usize {
        (self.history.as_millis() / self.sample_interval.as_millis().max(1)) as usize
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct NotificationSettings {
    /// Desktop notifications for failures (jobs can opt out with `notify = false`).
    pub enabled: bool,
    /// At most one notification per job in this time; the rest are summed up after it.
    #[serde(with = "crate::duration")]
    #[schema(value_type = String, example = "5m")]
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub throttle: Duration,
    /// Also say when a job that failed works again.
    pub recovered: bool,
    /// A URL that receives a JSON POST for every notification.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook: Option<String>,
    #[serde(with = "crate::duration")]
    #[schema(value_type = String, example = "5s")]
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub webhook_timeout: Duration,
}

impl Default for NotificationSettings {
    fn default() -> Self {
        NotificationSettings {
            enabled: true,
            throttle: Duration::from_secs(5 * 60),
            recovered: false,
            webhook: None,
            webhook_timeout: Duration::from_secs(5),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct MetricsSettings {
    /// Serve Prometheus metrics on `127.0.0.1:PORT` (the socket always serves them). Off when
    /// absent. Scrapers authenticate with the bearer token in `metrics.token`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
}

impl Settings {
    /// Reads `settings.toml` text; every problem names its field.
    pub fn from_toml(text: &str) -> Result<Settings, Vec<FieldError>> {
        let settings: Settings = toml::from_str(text).map_err(|err| {
            vec![FieldError {
                field: String::new(),
                message: err.to_string().trim().replace('\n', " "),
            }]
        })?;
        settings.validate()?;
        Ok(settings)
    }

    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut problem = |field: &str, message: String| {
            errors.push(FieldError {
                field: field.into(),
                message,
            })
        };
        let monitor = &self.monitor;
        let notifications = &self.notifications;
        let mut durations = vec![
            (
                "monitor.sample_interval",
                monitor.sample_interval,
                limits::SAMPLE_INTERVAL,
            ),
            (
                "monitor.unwatched_interval",
                monitor.unwatched_interval,
                limits::SAMPLE_INTERVAL,
            ),
            ("monitor.history", monitor.history, limits::SAMPLE_HISTORY),
            (
                "notifications.throttle",
                notifications.throttle,
                limits::NOTIFY_THROTTLE,
            ),
            (
                "notifications.webhook_timeout",
                notifications.webhook_timeout,
                limits::WEBHOOK_TIMEOUT,
            ),
        ];
        if let Some(age) = self.logs.max_age {
            durations.push(("logs.max_age", age, limits::LOG_MAX_AGE));
        }
        let mut out_of_range = false;
        for (field, value, range) in durations {
            if let Some(message) = range.problem(value) {
                out_of_range |= field.starts_with("monitor.");
                problem(field, message);
            }
        }
        // The history's length in samples only means something with valid durations.
        if out_of_range {
            // Said above.
        } else if monitor.history < monitor.sample_interval {
            problem(
                "monitor.history",
                "must be at least one sample_interval long".into(),
            );
        } else if monitor.history_len() > 100_000 {
            problem(
                "monitor.history",
                format!(
                    "keeps {} samples per job; use at most 100000 (a longer interval or a shorter history)",
                    monitor.history_len()
                ),
            );
        }
        if let Some(url) = &notifications.webhook {
            if let Err(message) = crate::validate::validate_webhook_url(url) {
                problem("notifications.webhook", message);
            }
        }
        if self.limits.max_running == 0 {
            problem(
                "limits.max_running",
                "0 would never run anything; use at least 1".into(),
            );
        } else if self.limits.max_running > limits::MAX_RUNNING {
            problem(
                "limits.max_running",
                format!(
                    "{} is more than any machine can run; use at most {}",
                    self.limits.max_running,
                    limits::MAX_RUNNING
                ),
            );
        }
        if self.metrics.port == Some(0) {
            problem(
                "metrics.port",
                "0 is not a port; use 1-65535, or leave it out to turn the endpoint off".into(),
            );
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_file_means_defaults() {
        let settings = Settings::from_toml("").unwrap();
        assert_eq!(settings, Settings::default());
        assert_eq!(settings.monitor.history_len(), 900);
        assert!(settings.notifications.enabled);
        assert_eq!(settings.metrics.port, None);
    }

    #[test]
    fn values_read_and_round_trip() {
        let text = "[monitor]\nsample_interval = \"5s\"\n[notifications]\nthrottle = \"1m\"\nrecovered = true\nwebhook = \"https://hooks.example.com/x\"\n[metrics]\nport = 9464\n[logs]\nmax_age = \"14days\"\n";
        let settings = Settings::from_toml(text).unwrap();
        assert_eq!(settings.monitor.sample_interval, Duration::from_secs(5));
        assert_eq!(settings.notifications.throttle, Duration::from_secs(60));
        assert_eq!(settings.metrics.port, Some(9464));
        assert_eq!(settings.logs.max_age, Some(Duration::from_secs(14 * 86400)));
        let again = Settings::from_toml(&toml::to_string(&settings).unwrap()).unwrap();
        assert_eq!(again, settings);
    }

    #[test]
    fn problems_name_their_fields() {
        let text = "[monitor]\nsample_interval = \"10ms\"\n[notifications]\nwebhook = \"ftp://x\"\n[metrics]\nport = 0\n";
        let fields: Vec<String> = Settings::from_toml(text)
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(
            fields,
            [
                "monitor.sample_interval",
                "notifications.webhook",
                "metrics.port"
            ]
        );
        let unknown = Settings::from_toml("[monitor]\ninterval = \"2s\"\n").unwrap_err();
        assert!(
            unknown[0].message.contains("unknown field `interval`"),
            "{unknown:?}"
        );
    }

    #[test]
    fn an_unwatched_rate_faster_than_the_watched_one_counts_as_the_watched_one() {
        // A file from before `unwatched_interval` that turned sampling nearly off stays valid.
        let settings =
            Settings::from_toml("[monitor]\nsample_interval = \"1h\"\nhistory = \"2h\"\n").unwrap();
        assert_eq!(settings.monitor.unwatched_interval, Duration::from_secs(60));
        assert_eq!(
            settings.monitor.effective_unwatched_interval(),
            Duration::from_secs(3600)
        );
        assert_eq!(
            MonitorSettings::default().effective_unwatched_interval(),
            Duration::from_secs(60)
        );
    }
}
