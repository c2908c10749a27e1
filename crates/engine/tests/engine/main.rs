//! Engine tests with real processes and a real SQLite file in a temporary home.

mod api;
mod bounds;
mod common;
mod config;
mod home;
mod lifecycle;
mod logs;
mod projects;
mod restart;
mod schedule;
mod security;
mod stack;
mod stop;
mod store;
