//! The real `sentinel` binary against a real daemon in a temporary home.

mod api;
mod bounds;
mod cli;
mod daemon;
mod descriptors;
mod fields;
mod kubernetes;
mod mcp;
mod monitoring;
mod process_compose;
mod projects;
mod recovery;
mod remote;
mod robustness;
mod stack;
