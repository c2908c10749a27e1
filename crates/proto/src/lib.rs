//! Shared vocabulary of SentinelZero: what a job is, what state it is in, and what the engine
//! tells the world. Everything here is plain data with serde; the engine, the CLI, the control
//! API and the app all speak it.

pub mod action;
pub mod api;
pub mod config;
pub mod duration;
pub mod event;
pub mod job;
pub mod limits;
pub mod monitor;
pub mod project;
pub mod remote;
pub mod restart;
pub mod schedule;
pub mod secret;
pub mod settings;
pub mod stack;
pub mod status;
pub mod validate;

pub use action::{Action, ActionRequest, ActionResult, Outcome, Selection};
pub use event::{EngineEvent, EventEnvelope, LogLine, LogStream};
pub use job::{JobKind, JobSpec, LogSettings, RestartMode, RestartPolicy, SignalName};
pub use monitor::{HealthCheck, HealthState, JobSample, ResourceSample};
pub use project::{ProjectRef, ProjectSpec, ProjectSummary};
pub use stack::{Condition, Dependency, Rlimits, WatchSpec};
pub use status::{
    DependencyState, ExitInfo, JobState, JobStatus, RunOutcome, RunRecord, StartTimings, Trigger,
    WaitReason,
};
pub use validate::{FieldError, SpecError, ValidationErrors};
