//! Request and response bodies of the control API that are not domain types.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::job::JobSpec;
use crate::monitor::HealthCheck;
use crate::stack::WatchSpec;
use crate::status::JobStatus;
use crate::validate::FieldError;

/// Every error the API returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ErrorBody {
    /// Stable and machine-readable: `not_found`, `already_exists`, `invalid`, `bad_json`, …
    pub code: String,
    /// For people: what is wrong and, where it helps, what to do.
    pub message: String,
    /// The field at fault, when there is one (the first, when there are several).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Every field problem, for validation errors.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

/// The `code` of a job file refused as a whole on import because its text or a job in it is
/// wrong: the message is a headline (`the file has 2 problems; nothing was changed`) and
/// `errors` lists every problem.
pub const INVALID_FILE: &str = "invalid_file";

/// The most field problems one error body lists in `errors` (and its message spells out); the
/// message says how many more there are. A definition or file with a problem in every one of
/// thousands of entries gets an answer of bounded size.
pub const MAX_LISTED_ERRORS: usize = 100;

/// The most lines a log tail answers with (`?tail=`, `sentinel logs -n`, the app's viewer);
/// more is clamped to this, so a reply stays bounded however large the logs are.
pub const MAX_TAIL_LINES: usize = 100_000;

/// In a stream, in place of items a slow reader missed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Missed {
    /// Always `"missed"`.
    #[serde(rename = "type")]
    #[cfg_attr(feature = "ts", ts(type = "\"missed\""))]
    pub kind: String,
    pub count: u64,
}

impl Missed {
    pub fn new(count: u64) -> Missed {
        Missed {
            kind: "missed".into(),
            count,
        }
    }
}

/// What a schedule means and when it fires next.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SchedulePreview {
    pub description: String,
    pub next: Vec<chrono::DateTime<chrono::Utc>>,
}

/// Liveness and readiness.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Health {
    /// `ok` or `ready`.
    pub status: String,
    pub version: String,
    pub jobs: usize,
}

/// A job's definition and its current status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct JobDetail {
    pub spec: JobSpec,
    pub status: JobStatus,
    /// The active log file; rotated ones sit next to it as `.1`, `.2`, …
    pub log_file: String,
}

impl JobDetail {
    /// The detail as it may be shown (see [`JobSpec::with_secrets`]).
    pub fn with_secrets(mut self, secrets: crate::secret::Secrets) -> JobDetail {
        self.spec = self.spec.with_secrets(secrets);
        self
    }
}

/// What the engine fills in where a definition says nothing: a new job's whole definition, and
/// the settings of a health check or a file watch once one is turned on. The editor starts from
/// these rather than keeping its own copy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct JobDefaults {
    pub spec: JobSpec,
    pub health: HealthCheck,
    pub watch: WatchSpec,
}

impl JobDefaults {
    /// Read from the definitions' own serde defaults: what an empty table in a job file means.
    pub fn new() -> Result<JobDefaults, serde_json::Error> {
        Ok(JobDefaults {
            spec: JobSpec::new("", ""),
            health: serde_json::from_str("{}")?,
            watch: serde_json::from_str("{}")?,
        })
    }
}
