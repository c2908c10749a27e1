//! A job is an actor: one task owns its state machine and its child; everyone else holds a
//! cheap `JobHandle` and sends it controls, each of which answers when it is done.

mod actor;
pub(crate) mod graph;
pub mod policy;
pub(crate) mod slots;
mod watch;

#[cfg(test)]
mod panic_tests;

pub(crate) use actor::{spawn_job, JobHandle, StopReason};
