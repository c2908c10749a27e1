//! The real `sentinel` binary against a real daemon in a temporary home.

mod api;
mod bounds;
mod cli;
mod descriptors;
mod mcp;
mod monitoring;
mod recovery;
mod robustness;
mod stack;
