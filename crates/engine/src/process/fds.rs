//! Open-file descriptors: the engine raises its own soft limit once its descriptors pass half of
//! it, gives its children the limit it was started with, and refuses a start that would eat
//! into the descriptors its socket, database and logs need, so running out of them costs a
//! start, never the API.
//!
//! Each running job holds four descriptors (two output pipes, its pidfd on Linux, its log
//! file) and a start needs a few more for a moment (the pipes' write ends, the exec's error
//! pipe). A job opens its log file at its first output, after its start was allowed, so the
//! check counts that file ahead for every run that may not have opened it yet. While someone
//! watches, the resource sampler keeps the `/proc` files it reads open, at most an eighth of
//! the limit (`monitor/procfiles.rs`): counted among the open ones like any other.

use std::sync::atomic::{AtomicU64, Ordering};

use nix::sys::resource::{getrlimit, setrlimit, Resource, RLIM_INFINITY};

/// Descriptors kept free for everything but starts: the socket's connections, the database
/// and its WAL, log files, file watchers, health checks.
pub const RESERVED: u64 = 64;

/// Descriptors one start may need: what the run keeps and what the spawn uses for a moment.
pub const PER_START: u64 = 8;

/// Descriptors a run holds before its log file is opened (two pipes, and a pidfd on Linux):
/// at most one in this many open descriptors is a run that may still open its log file.
#[cfg(target_os = "linux")]
const HELD_BEFORE_LOG: u64 = 3;
#[cfg(not(target_os = "linux"))]
const HELD_BEFORE_LOG: u64 = 2;

/// `OPEN_MAX` of macOS' `<sys/syslimits.h>`: the soft limit's ceiling when
/// `kern.maxfilesperproc` cannot be read.
#[cfg_attr(not(target_os = "macos"), allow(dead_code))]
const MACOS_OPEN_MAX: u64 = 10240;

/// The soft limit the engine was started with, for its children (0: not raised, nothing to
/// restore).
static ORIGINAL_SOFT: AtomicU64 = AtomicU64::new(0);

/// The soft limit to raise to, if above the current one: the hard limit, capped where the OS
/// refuses more (macOS: `setrlimit` with `RLIM_INFINITY`, or above `kern.maxfilesperproc`,
/// fails with EINVAL).
pub fn raised_soft(soft: u64, hard: u64, os_cap: Option<u64>) -> Option<u64> {
    let target = match os_cap {
        Some(cap) => hard.min(cap),
        None => hard,
    };
    (target > soft).then_some(target)
}

/// The most descriptors the OS lets one process have, where that is below the hard limit.
#[cfg(target_os = "macos")]
fn os_cap() -> Option<u64> {
    let mut value: nix::libc::c_int = 0;
    let mut size = std::mem::size_of::<nix::libc::c_int>();
    // SAFETY: the name is NUL-terminated; value and size describe a c_int we own.
    let read = unsafe {
        nix::libc::sysctlbyname(
            c"kern.maxfilesperproc".as_ptr(),
            (&mut value as *mut nix::libc::c_int).cast(),
            &mut size,
            std::ptr::null_mut(),
            0,
        )
    };
    if read == 0 && value > 0 {
        Some(value as u64)
    } else {
        Some(MACOS_OPEN_MAX)
    }
}

#[cfg(not(target_os = "macos"))]
fn os_cap() -> Option<u64> {
    None
}

/// Raises the engine's soft open-file limit to the hard limit (once per process; engines
/// opened later in the same process find it raised), and says whether it did. Children get
/// the original soft limit back: many programs use `select()`, which breaks on descriptors
/// above 1023, and systemd and launchd give services a soft limit of 1024 or 256 for the same
/// reason. Called only once the engine's descriptors crowd the original limit
/// ([`crowded`]): a child that must get a limit back forks to set it, where one that inherits
/// the engine's own is started with posix_spawn, without a copy of the engine's page tables.
fn raise_limit() -> bool {
    let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_NOFILE) else {
        return false;
    };
    let Some(target) = raised_soft(soft, hard, os_cap()) else {
        return false;
    };
    let raised = setrlimit(Resource::RLIMIT_NOFILE, target, hard)
        .or_else(|_| setrlimit(Resource::RLIMIT_NOFILE, target.min(MACOS_OPEN_MAX), hard));
    match raised {
        Ok(()) => {
            // Only the first raise knows the original limit.
            let _ = ORIGINAL_SOFT.compare_exchange(0, soft, Ordering::AcqRel, Ordering::Acquire);
            tracing::info!(from = soft, to = target, "raised the open-file limit");
            true
        }
        Err(err) => {
            tracing::warn!("cannot raise the open-file limit from {soft}: {err}");
            false
        }
    }
}

/// Descriptors counted for a start: the `open` ones, a log file ahead for every run that may
/// not have opened its own yet, and what this start needs.
fn counted_ahead(open: u64) -> u64 {
    open.saturating_add(open.div_ceil(HELD_BEFORE_LOG))
        .saturating_add(PER_START)
}

/// Whether the engine's descriptors, counted ahead, pass half its soft limit: time to raise
/// it, well before a start or a connection could find none.
pub fn crowded(open: u64, soft: u64) -> bool {
    counted_ahead(open).saturating_mul(2) > soft
}

/// Starts that surely leave the descriptors uncrowded (each taken as twice [`PER_START`]).
pub fn starts_before_crowded(open: u64, soft: u64) -> u64 {
    (soft / 2).saturating_sub(counted_ahead(open)) / (2 * PER_START)
}

/// The soft limit after raising it if `open` descriptors crowd `soft` (read again then: a
/// raise made meanwhile counts too).
fn raised_if_crowded(open: u64, soft: u64) -> u64 {
    if !crowded(open, soft) {
        return soft;
    }
    raise_limit();
    getrlimit(Resource::RLIMIT_NOFILE).map_or(soft, |(now, _)| now)
}

/// Whether the soft limit could still be raised.
fn raisable(soft: u64, hard: u64) -> bool {
    raised_soft(soft, hard, os_cap()).is_some()
}

/// Raises the limit if the engine's descriptors crowd it, while it can still be raised: for
/// the API, whose connections take descriptors without a start. The count is skipped once
/// there is nothing to raise.
pub(crate) fn relieve() {
    let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_NOFILE) else {
        return;
    };
    if raisable(soft, hard) {
        if let Some(open) = open_count() {
            raised_if_crowded(open, soft);
        }
    }
}

/// The open-file limit a child gets back, `(soft, hard)`, when the engine raised its own.
pub(crate) fn child_limit() -> Option<(u64, u64)> {
    let original = ORIGINAL_SOFT.load(Ordering::Acquire);
    if original == 0 {
        return None;
    }
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE).ok()?;
    (soft > original).then_some((original, hard))
}

/// Whether a start fits: `open` descriptors now, `limit` the soft limit. Counted ahead: the
/// log files runs may still open, and what this start needs; kept free: [`RESERVED`]. The
/// reason names the figures and what to do. Ok holds how many further starts surely fit
/// without counting again (each taken as twice [`PER_START`]).
pub fn room_for_start(open: u64, limit: u64) -> Result<u64, String> {
    if limit == RLIM_INFINITY {
        return Ok(u64::MAX);
    }
    let usable = limit.saturating_sub(RESERVED);
    let needed = counted_ahead(open);
    if needed <= usable {
        return Ok((usable - needed) / (2 * PER_START));
    }
    Err(format!(
        "not enough file descriptors: the engine has {open} open of its limit of {limit}, and \
         keeps {RESERVED} for its socket and database; stop some jobs, lower max_running, or \
         raise the limit (ulimit -n) before starting the engine"
    ))
}

/// Starts allowed before the descriptors are counted again.
static STARTS_WITHOUT_COUNT: AtomicU64 = AtomicU64::new(0);

/// Refuses a start when descriptors are short (see [`room_for_start`]), once the limit is
/// raised if they crowd it (see [`crowded`]). A count reads a
/// directory entry per open descriptor (a millisecond at a few thousand), so it is made
/// again only once the starts that surely fitted at the last one are used up: far from the
/// limit, rarely; near it, before every start.
pub(crate) fn check_room() -> Result<(), String> {
    let uncounted = STARTS_WITHOUT_COUNT
        .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1));
    if uncounted.is_ok() {
        return Ok(());
    }
    let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_NOFILE) else {
        return Ok(());
    };
    // The count itself needs a descriptor: when even that fails, the limit is raised if it
    // can be, or there is no room.
    let Some(open) = open_count().or_else(|| raise_limit().then(open_count).flatten()) else {
        return Err(room_for_start(soft, soft).err().unwrap_or_else(|| {
            "not enough file descriptors: the engine cannot even open a directory".into()
        }));
    };
    let soft = raised_if_crowded(open, soft);
    let mut sure = room_for_start(open, soft)?;
    if raisable(soft, hard) {
        // The limit can still be raised: count again before the descriptors crowd it.
        sure = sure.min(starts_before_crowded(open, soft));
    }
    STARTS_WITHOUT_COUNT.store(sure, Ordering::Release);
    Ok(())
}

/// Marks every descriptor the engine was handed by whoever started it (beyond stdin, stdout
/// and stderr) close-on-exec, so no job inherits them: a launcher's lock file, a terminal's
/// pipe or a socket would otherwise stay held, or readable, for as long as any job runs. The
/// engine's own descriptors are opened close-on-exec already.
pub fn keep_inherited_from_jobs() {
    use nix::fcntl::{fcntl, FcntlArg, FdFlag};
    for fd in open_descriptors() {
        let Ok(flags) = fcntl(fd, FcntlArg::F_GETFD) else {
            continue; // the directory's own descriptor, closed by now
        };
        let flags = FdFlag::from_bits_truncate(flags);
        if !flags.contains(FdFlag::FD_CLOEXEC) {
            let _ = fcntl(fd, FcntlArg::F_SETFD(flags | FdFlag::FD_CLOEXEC));
        }
    }
}

/// The engine's open descriptors above stderr.
fn open_descriptors() -> Vec<i32> {
    let Ok(entries) = std::fs::read_dir(FD_DIR) else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|&fd| fd > 2)
        .collect()
}

#[cfg(target_os = "linux")]
const FD_DIR: &str = "/proc/self/fd";
#[cfg(not(target_os = "linux"))]
const FD_DIR: &str = "/dev/fd";

/// How many descriptors the engine has open (one more, for the directory being read).
pub fn open_count() -> Option<u64> {
    let entries = std::fs::read_dir(FD_DIR).ok()?;
    Some(entries.count() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_soft_limit_rises_to_the_hard_limit_or_the_os_cap() {
        assert_eq!(raised_soft(1024, 524_288, None), Some(524_288));
        assert_eq!(raised_soft(1024, 1024, None), None);
        assert_eq!(raised_soft(4096, 1024, None), None);
        // macOS: an unlimited hard limit is capped at kern.maxfilesperproc.
        assert_eq!(raised_soft(256, RLIM_INFINITY, Some(24_576)), Some(24_576));
        assert_eq!(raised_soft(256, 2048, Some(24_576)), Some(2048));
        assert_eq!(raised_soft(30_000, RLIM_INFINITY, Some(24_576)), None);
    }

    #[test]
    fn a_start_is_refused_before_the_reserve_is_touched() {
        assert!(room_for_start(10, 1024).is_ok());
        // The most that fits: itself, a log file ahead for every run among them, one start.
        let usable = 1024 - RESERVED - PER_START;
        let most = usable * HELD_BEFORE_LOG / (HELD_BEFORE_LOG + 1);
        assert_eq!(
            room_for_start(most, 1024),
            Ok(0),
            "no further start is sure"
        );
        let reason = room_for_start(most + 1, 1024).unwrap_err();
        assert!(
            reason.starts_with("not enough file descriptors"),
            "{reason}"
        );
        assert!(reason.contains("of its limit of 1024"), "{reason}");
        // A limit below the reserve refuses every start rather than underflowing.
        assert!(room_for_start(3, 32).is_err());
        assert_eq!(room_for_start(u64::MAX - 1, RLIM_INFINITY), Ok(u64::MAX));
    }

    #[test]
    fn far_from_the_limit_many_starts_go_without_a_count() {
        // 4,000 open of 524,288: tens of thousands of starts before the next count.
        let sure = room_for_start(4000, 524_288).unwrap();
        assert!(sure > 10_000, "{sure}");
        // The starts let through without a count fit even if each took twice what one needs
        // and every run counted at the count opened its log file.
        for (open, limit) in [(100, 1024), (120, 256), (3000, 10_240)] {
            let sure = room_for_start(open, limit).unwrap();
            let worst = open + open.div_ceil(HELD_BEFORE_LOG) + sure * 2 * PER_START;
            assert!(
                worst + PER_START <= limit - RESERVED,
                "{open} {limit} {sure}"
            );
        }
    }

    #[test]
    fn the_limit_is_raised_once_the_descriptors_pass_half_of_it() {
        // A few jobs at launchd's 256 or a shell's 1024: the limit stays, so children inherit
        // it and start without a fork.
        assert!(!crowded(20, 256));
        assert!(!crowded(80, 1024));
        // 90 open at 256 count as 90 + 30 + 8 = 128 ahead: half, not past it; 100 count as
        // 142: raise.
        assert!(!crowded(90, 256));
        assert!(crowded(100, 256));
        assert!(crowded(400, 1024));
        // Nothing overflows at the extremes, and an unlimited limit is never crowded.
        assert!(crowded(u64::MAX, 1024));
        assert!(!crowded(u64::MAX, RLIM_INFINITY));
    }

    #[test]
    fn the_starts_let_through_without_a_count_stop_short_of_crowding() {
        for (open, soft) in [(10, 256), (40, 256), (100, 1024), (300, 1024), (10, 64)] {
            let sure = starts_before_crowded(open, soft);
            assert!(
                counted_ahead(open) + sure * 2 * PER_START <= soft / 2,
                "{open} {soft} {sure}"
            );
        }
        // Far below half, many starts go without a count; past it, none.
        assert!(starts_before_crowded(20, 1024) >= 25);
        assert_eq!(starts_before_crowded(200, 256), 0);
        assert_eq!(starts_before_crowded(u64::MAX, 1024), 0);
    }

    #[test]
    fn descriptors_the_engine_inherited_do_not_reach_its_jobs() {
        use nix::fcntl::{fcntl, FcntlArg, FdFlag};
        use std::os::fd::AsRawFd;
        // A pipe without close-on-exec, as a launcher's lock or pipe would be.
        let (reader, writer) = nix::unistd::pipe().unwrap();
        let flags = |fd: i32| FdFlag::from_bits_truncate(fcntl(fd, FcntlArg::F_GETFD).unwrap());
        assert!(!flags(reader.as_raw_fd()).contains(FdFlag::FD_CLOEXEC));
        keep_inherited_from_jobs();
        assert!(flags(reader.as_raw_fd()).contains(FdFlag::FD_CLOEXEC));
        assert!(flags(writer.as_raw_fd()).contains(FdFlag::FD_CLOEXEC));
        // stdin, stdout and stderr are the jobs' business (they get /dev/null and pipes).
        assert!(!open_descriptors().contains(&2));
    }

    #[test]
    fn the_engine_counts_its_descriptors() {
        let (_reader, _writer) = std::io::pipe().unwrap();
        // Other tests open and close files meanwhile: only a lower bound holds (stdin, stdout,
        // stderr and the pipe).
        assert!(open_count().unwrap() >= 5);
    }
}
