//! A held start: a scheduled run is made ready just before its fire time and spawned at it.
//! The engine's thread waits for the instant, on the monotonic clock, then spawns. A child that
//! forks for its limits writes, just before its exec, the moment to a pipe (the realtime clock,
//! `write`, async-signal-safe): when its program starts, which the engine records rather than
//! when its own thread gets a core back.

use std::io::{self, Read};
use std::os::fd::{AsRawFd, RawFd};
use std::time::Duration;

use chrono::{DateTime, Utc};

/// The monotonic time `hold` from now, the instant to spawn at.
pub(super) fn deadline(hold: Duration) -> Option<nix::libc::timespec> {
    later_by(&monotonic_now()?, hold)
}

/// `at + by`, or `None` when that does not fit.
fn later_by(at: &nix::libc::timespec, by: Duration) -> Option<nix::libc::timespec> {
    let by_secs: nix::libc::time_t = by.as_secs().try_into().ok()?;
    let mut secs = at.tv_sec.checked_add(by_secs)?;
    let mut nanos = at
        .tv_nsec
        .checked_add(nix::libc::c_long::from(by.subsec_nanos()))?;
    if nanos >= NANOS_PER_SEC {
        secs = secs.checked_add(1)?;
        nanos -= NANOS_PER_SEC;
    }
    Some(nix::libc::timespec {
        tv_sec: secs,
        tv_nsec: nanos,
    })
}

const NANOS_PER_SEC: nix::libc::c_long = 1_000_000_000;

fn monotonic_now() -> Option<nix::libc::timespec> {
    let mut now = nix::libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec, which `now` is.
    let read = unsafe { nix::libc::clock_gettime(nix::libc::CLOCK_MONOTONIC, &mut now) };
    (read == 0).then_some(now)
}

/// Sleeps until the monotonic clock reaches `until`; a signal that cuts a sleep short sleeps
/// again.
pub(super) fn until(until: &nix::libc::timespec) {
    while let Some(now) = monotonic_now() {
        let Some(left) = time_left(&now, until) else {
            return;
        };
        // SAFETY: nanosleep reads one timespec; the remainder is not asked for.
        unsafe { nix::libc::nanosleep(&left, std::ptr::null_mut()) };
    }
}

/// `until - now`, or `None` once `now` has reached `until`.
fn time_left(
    now: &nix::libc::timespec,
    until: &nix::libc::timespec,
) -> Option<nix::libc::timespec> {
    let mut secs = until.tv_sec.checked_sub(now.tv_sec)?;
    let mut nanos = until.tv_nsec.checked_sub(now.tv_nsec)?;
    if nanos < 0 {
        secs = secs.checked_sub(1)?;
        nanos = nanos.checked_add(NANOS_PER_SEC)?;
    }
    (secs > 0 || (secs == 0 && nanos > 0)).then_some(nix::libc::timespec {
        tv_sec: secs,
        tv_nsec: nanos,
    })
}

/// The pipe a held child writes the moment of its exec to.
pub(super) struct ExecNote {
    reader: io::PipeReader,
    writer: io::PipeWriter,
}

/// The bytes of one note: seconds and nanoseconds of the realtime clock.
const NOTE_LEN: usize = 16;

impl ExecNote {
    /// A pipe closed on exec at both ends; its reader never blocks.
    pub(super) fn new() -> io::Result<ExecNote> {
        let (reader, writer) = io::pipe()?;
        // SAFETY: F_SETFL on a descriptor this function owns.
        let set = unsafe {
            nix::libc::fcntl(
                reader.as_raw_fd(),
                nix::libc::F_SETFL,
                nix::libc::O_NONBLOCK,
            )
        };
        if set != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(ExecNote { reader, writer })
    }

    /// The end the child writes to.
    pub(super) fn writer(&self) -> RawFd {
        self.writer.as_raw_fd()
    }

    /// The moment the child wrote, once it has exec'd: `None` if it wrote nothing.
    pub(super) fn read(self) -> Option<DateTime<Utc>> {
        let ExecNote { mut reader, writer } = self;
        drop(writer);
        let mut note = [0u8; NOTE_LEN];
        reader.read_exact(&mut note).ok()?;
        let (secs, nanos) = note.split_at(8);
        let secs = i64::from_ne_bytes(secs.try_into().ok()?);
        let nanos = u32::try_from(i64::from_ne_bytes(nanos.try_into().ok()?)).ok()?;
        DateTime::from_timestamp(secs, nanos)
    }
}

/// Writes the realtime clock to `writer` (in the child, after fork; async-signal-safe calls
/// only). A failure only leaves the engine to record its own clock.
// The clock's fields are i64 on 64-bit targets, not on every target: eight bytes each anyway.
#[allow(clippy::useless_conversion)]
pub(super) fn note_exec(writer: RawFd) {
    let mut now = nix::libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec, which `now` is.
    if unsafe { nix::libc::clock_gettime(nix::libc::CLOCK_REALTIME, &mut now) } != 0 {
        return;
    }
    let mut note = [0u8; NOTE_LEN];
    let (secs, nanos) = note.split_at_mut(8);
    secs.copy_from_slice(&i64::from(now.tv_sec).to_ne_bytes());
    nanos.copy_from_slice(&i64::from(now.tv_nsec).to_ne_bytes());
    // SAFETY: write reads NOTE_LEN bytes of `note`; a pipe takes that much at once.
    unsafe { nix::libc::write(writer, note.as_ptr().cast(), NOTE_LEN) };
}

/// Spawns a held process at `deadline` (monotonic): the wait and the spawn block, so on a
/// multi-threaded runtime the worker's other tasks move to another thread meanwhile.
pub(super) fn spawn(
    command: &mut tokio::process::Command,
    deadline: &nix::libc::timespec,
) -> io::Result<tokio::process::Child> {
    let mut held = || {
        until(deadline);
        command.spawn()
    };
    let flavor = tokio::runtime::Handle::try_current().map(|runtime| runtime.runtime_flavor());
    match flavor {
        Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(held),
        _ => held(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(tv_sec: nix::libc::time_t, tv_nsec: nix::libc::c_long) -> nix::libc::timespec {
        nix::libc::timespec { tv_sec, tv_nsec }
    }

    fn pair(t: Option<nix::libc::timespec>) -> Option<(i64, i64)> {
        t.map(|t| (t.tv_sec, t.tv_nsec))
    }

    #[test]
    fn a_deadline_carries_nanoseconds_into_seconds() {
        assert_eq!(
            pair(later_by(&at(10, 900_000_000), Duration::from_millis(250))),
            Some((11, 150_000_000))
        );
        assert_eq!(
            pair(later_by(&at(10, 0), Duration::from_millis(25))),
            Some((10, 25_000_000))
        );
        assert_eq!(
            pair(later_by(
                &at(nix::libc::time_t::MAX, 0),
                Duration::from_secs(1)
            )),
            None
        );
        assert_eq!(
            pair(later_by(&at(0, 0), Duration::from_secs(u64::MAX))),
            None
        );
    }

    #[test]
    fn time_left_is_none_once_the_deadline_is_reached() {
        assert_eq!(
            pair(time_left(&at(10, 900_000_000), &at(11, 100_000_000))),
            Some((0, 200_000_000))
        );
        assert_eq!(pair(time_left(&at(10, 0), &at(12, 5))), Some((2, 5)));
        assert_eq!(pair(time_left(&at(11, 0), &at(11, 0))), None);
        assert_eq!(pair(time_left(&at(11, 1), &at(11, 0))), None);
        assert_eq!(pair(time_left(&at(12, 0), &at(11, 999_999_999))), None);
    }

    #[test]
    fn an_exec_note_reads_back_the_moment_written() {
        let before = Utc::now();
        let note = ExecNote::new().unwrap();
        note_exec(note.writer());
        let execed = note.read().unwrap();
        assert!(before <= execed && execed <= Utc::now(), "{execed}");
        // Nothing written: no moment, and no wait.
        assert_eq!(ExecNote::new().unwrap().read(), None);
    }

    #[test]
    fn holding_waits_until_the_deadline() {
        let started = std::time::Instant::now();
        let until = deadline(Duration::from_millis(30)).unwrap();
        self::until(&until);
        assert!(started.elapsed() >= Duration::from_millis(30));
        // A deadline passed returns at once.
        self::until(&until);
    }
}
