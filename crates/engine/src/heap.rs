//! glibc's malloc, tuned for processes that are idle most of the time (the daemon, the app at
//! rest). Measured with 500 sleeping jobs (bench `idle`): two arenas instead of one per thread
//! that ever allocated (up to 8 per core) hold 2 MiB less; trimming gives back what a burst of
//! starts, requests or a closed webview freed but the arenas kept. Other allocators (macOS's
//! zones, musl) manage this themselves: there these do nothing.

use std::time::Duration;

/// How often [`trim_now_and_then`] gives freed memory back; each trim takes microseconds.
pub const TRIM_EVERY: Duration = Duration::from_secs(10);

/// Call before any other thread starts: arenas are made as threads first allocate.
pub fn limit_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets a malloc parameter; called before other threads exist.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

/// Gives the free pages at the top of each arena and inside it back to the system.
pub fn trim() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim takes malloc's own locks; any thread may call it.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Trims every [`TRIM_EVERY`], forever (spawn it).
pub async fn trim_now_and_then() {
    let mut every = tokio::time::interval(TRIM_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        trim();
    }
}
