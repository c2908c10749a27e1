//! A job is an actor: one task owns its state machine and its child; everyone else holds a
//! cheap `JobHandle` and sends it controls, each of which answers when it is done.

mod actor;
mod alerts;
mod files;
mod gate;
pub(crate) mod graph;
mod handle;
mod health;
mod phase;
pub mod policy;
mod run;
pub(crate) mod slots;
mod stop;
mod update;
mod watch;

#[cfg(test)]
mod panic_tests;

pub(crate) use actor::spawn_job;
pub(crate) use handle::{JobHandle, StopReason};
