//! The SentinelZero supervisor engine: jobs in their own process groups, restart policies, log
//! capture and rotation, a SQLite store, and one event stream. No UI dependency: the app, the
//! headless daemon and the tests all host the same engine through `EngineHandle`.

mod context;
mod engine;
mod error;
mod events;
pub mod heap;
mod home;
pub mod job;
mod later;
mod lock;
pub mod logs;
mod metrics;
mod monitor;
pub mod notify;
mod paths;
mod ports;
pub mod process;
mod schedule;
mod store;

pub mod control;

pub use engine::{EngineConfig, EngineHandle};
pub use error::{action_results, EngineError, Result};
pub use events::{EventSubscription, Received};
pub use home::HomeProblem;
pub use monitor::Watching;
pub use paths::EnginePaths;
pub use sentinel_proto as proto;
