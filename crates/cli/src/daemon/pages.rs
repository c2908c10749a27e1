//! The pages of the files the daemon runs from, given back while it rests (Linux).
//!
//! Opening the store, recovering orphans, serving a burst of requests or starting hundreds of
//! jobs runs code that an idle daemon does not run again, and the kernel leaves those pages of
//! the executable and of the C libraries mapped, counted in the daemon's RSS, until memory runs
//! short. Once the daemon has been quiet for a while after such a burst, `MADV_DONTNEED` drops
//! its own mappings of them. The pages stay in the page cache (shared, reclaimable, not the
//! daemon's), so what the idle daemon runs again comes back with a minor fault, without a read
//! from disk that would make the next scheduled start late.
//!
//! Dropping a private mapping's pages reads them back from the file, so only mappings whose
//! every page is still the file's are given back: read-only, private, file-backed, with no
//! anonymous (written) page. That leaves out the relocated data (RELRO) ld.so wrote at start.

/// Bytes in a page, for the bounds below (statm counts pages).
const PAGE: u64 = 4096;
/// Ticks in a row with the resident file pages (about) unchanged before giving back: a burst of
/// requests or starts has ended. One tick is enough: the settling below keeps give-backs at
/// least two minutes apart.
const QUIET_TICKS: u32 = 1;
/// After a give-back, the quiet ticks before the resident pages count as what the idle daemon
/// itself uses: longer than the sampler's default interval when nobody watches (1 min).
const SETTLE_TICKS: u32 = 12;
/// A change smaller than this does not end a quiet stretch.
const JITTER_PAGES: u64 = 64 * 1024 / PAGE;
/// Growth over the settled pages that makes giving back worth its cost (faulting back what the
/// idle daemon uses).
const GROWTH_PAGES: u64 = 1024 * 1024 / PAGE;

/// When to give back pages, from the resident file-backed pages seen at each tick.
#[derive(Debug, Default)]
pub struct Pager {
    /// Resident file pages at the previous tick.
    last: u64,
    /// Ticks in a row without a real change.
    quiet: u32,
    /// Resident file pages once the idle daemon has read back what it uses; `None` before the
    /// first give-back, which is always due.
    settled: Option<u64>,
    /// Pages were given back and the settled pages are not measured yet.
    settling: bool,
}

impl Pager {
    /// One tick with `resident` file-backed pages: whether to give back now.
    pub fn tick(&mut self, resident: u64) -> bool {
        if resident.abs_diff(self.last) <= JITTER_PAGES {
            self.quiet = self.quiet.saturating_add(1);
        } else {
            self.quiet = 0;
        }
        self.last = resident;
        if self.settling {
            if self.quiet >= SETTLE_TICKS {
                self.settled = Some(resident);
                self.settling = false;
            }
            return false;
        }
        let grown = self
            .settled
            .is_none_or(|settled| resident > settled.saturating_add(GROWTH_PAGES));
        if grown && self.quiet >= QUIET_TICKS {
            self.settling = true;
            self.quiet = 0;
            return true;
        }
        false
    }
}

/// The process's resident file-backed pages (`shared` in `/proc/self/statm`).
pub fn resident_file_pages() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    statm.split_whitespace().nth(2)?.parse().ok()
}

/// Drops this process's mappings of the pages of the files it runs from (see the module).
pub fn give_back() {
    let Ok(smaps) = std::fs::read_to_string("/proc/self/smaps") else {
        return;
    };
    for (start, len) in unwritten_file_mappings(&smaps) {
        // SAFETY: the range is a whole mapping of this process as the kernel listed it: private,
        // read-only and without an anonymous page, so every page reads back as it is now. The
        // daemon unloads no library, so no other mapping can take a listed range meanwhile.
        let done = unsafe { libc::madvise(start as *mut libc::c_void, len, libc::MADV_DONTNEED) };
        if done != 0 {
            tracing::debug!(
                "cannot give back a mapping: {}",
                std::io::Error::last_os_error()
            );
        }
    }
}

/// The start and length of each mapping in `smaps` (`/proc/self/smaps`) that reads back from
/// its file exactly: private, not writable, backed by a file, and without an anonymous page.
fn unwritten_file_mappings(smaps: &str) -> Vec<(usize, usize)> {
    let mut found = Vec::new();
    let mut current: Option<(usize, usize)> = None;
    for line in smaps.lines() {
        if let Some(kib) = line.strip_prefix("Anonymous:") {
            let anonymous = kib.trim().trim_end_matches("kB").trim();
            if let (Some(range), "0") = (current.take(), anonymous) {
                found.push(range);
            }
        } else if let Some(header) = mapping_header(line) {
            current = header;
        }
    }
    found
}

/// A mapping's header line in smaps: `Some(Some(range))` for one worth giving back,
/// `Some(None)` for any other mapping, `None` for a line that is not a header.
fn mapping_header(line: &str) -> Option<Option<(usize, usize)>> {
    let mut fields = line.split_whitespace();
    let range = fields.next()?;
    let (start, end) = range.split_once('-')?;
    let start = usize::from_str_radix(start, 16).ok()?;
    let end = usize::from_str_radix(end, 16).ok()?;
    let perms = fields.next()?;
    let path = fields.nth(3);
    let private_read_only = perms.len() == 4 && !perms.contains('w') && perms.ends_with('p');
    let from_file = path.is_some_and(|path| path.starts_with('/'));
    if !(private_read_only && from_file) {
        return Some(None);
    }
    Some(end.checked_sub(start).map(|len| (start, len)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1024 * 1024 / PAGE;

    /// The ticks on which `pager` gives back, over `resident` pages tick by tick.
    fn give_backs(pager: &mut Pager, resident: &[u64]) -> Vec<usize> {
        resident
            .iter()
            .enumerate()
            .filter_map(|(tick, &pages)| pager.tick(pages).then_some(tick))
            .collect()
    }

    #[test]
    fn the_first_give_back_waits_for_quiet() {
        let mut pager = Pager::default();
        // Starting up: growing for three ticks, then steady.
        let ticks = [5 * MIB, 8 * MIB, 9 * MIB, 9 * MIB, 9 * MIB];
        assert_eq!(give_backs(&mut pager, &ticks), vec![3]);
    }

    #[test]
    fn after_settling_only_real_growth_gives_back_again() {
        let mut pager = Pager::default();
        let mut ticks = vec![9 * MIB; 2];
        // Paged out; the idle daemon reads back 3 MiB, then stays there.
        ticks.extend([2 * MIB, 3 * MIB]);
        ticks.extend(vec![3 * MIB; 12]);
        // A little more (a sampler tick), then a burst of requests and quiet again.
        ticks.extend(vec![3 * MIB + MIB / 2; 5]);
        ticks.extend([5 * MIB, 6 * MIB]);
        ticks.push(6 * MIB);
        assert_eq!(give_backs(&mut pager, &ticks), vec![1, ticks.len() - 1]);
    }

    #[test]
    fn jitter_is_quiet() {
        let mut pager = Pager::default();
        let ticks = [9 * MIB, 10 * MIB, 10 * MIB + 3];
        assert_eq!(give_backs(&mut pager, &ticks), vec![2]);
    }

    /// An smaps entry with only the fields read here.
    fn entry(header: &str, anonymous_kib: u64) -> String {
        format!("{header}\nSize: 4 kB\nRss: 4 kB\nAnonymous: {anonymous_kib} kB\nVmFlags: rd mr mw me\n")
    }

    #[test]
    fn only_private_read_only_file_mappings_nobody_wrote() {
        let smaps = [
            entry("55d0c0000000-55d0c0400000 r--p 00000000 08:01 123 /opt/sentinel zero/sentineld", 0),
            entry("55d0c0400000-55d0c1000000 r-xp 00400000 08:01 123 /opt/sentinel zero/sentineld", 0),
            // RELRO: read-only now, relocated by ld.so at start.
            entry("55d0c1000000-55d0c1080000 r--p 00fb0000 08:01 123 /opt/sentinel zero/sentineld", 512),
            entry("55d0c1080000-55d0c1090000 rw-p 01030000 08:01 123 /opt/sentinel zero/sentineld", 0),
            entry("55d0c2000000-55d0c2100000 rw-p 00000000 00:00 0                          [heap]", 1024),
            entry("7f0000000000-7f0000200000 r-xp 00028000 08:01 456                        /usr/lib/libc.so.6", 0),
            entry("7f0000300000-7f0000301000 r--s 00000000 08:01 789                        /tmp/shared", 0),
            entry("7f0000400000-7f0000401000 r--p 00000000 00:00 0 ", 0),
            entry("7ffd00000000-7ffd00002000 r-xp 00000000 00:00 0                          [vdso]", 0),
        ]
        .concat();
        assert_eq!(
            unwritten_file_mappings(&smaps),
            vec![
                (0x55d0c0000000, 0x400000),
                (0x55d0c0400000, 0xc00000),
                (0x7f0000000000, 0x200000)
            ]
        );
    }

    /// The resident kilobytes of the mapping that starts at `start`, from this process's smaps.
    fn resident_kib(start: usize) -> u64 {
        let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap();
        let header = format!("{start:x}-");
        let entry = smaps.split_once(&header).unwrap().1;
        let rss = entry
            .lines()
            .find_map(|line| line.strip_prefix("Rss:"))
            .unwrap();
        rss.trim().trim_end_matches("kB").trim().parse().unwrap()
    }

    #[test]
    fn a_mapping_given_back_reads_back_the_same_and_a_written_one_is_kept() {
        use std::os::fd::AsRawFd;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data");
        let contents: Vec<u8> = (0..16 * PAGE).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &contents).unwrap();
        let file = std::fs::File::open(&path).unwrap();
        let len = contents.len();
        let map = |prot| {
            // SAFETY: a fresh private mapping of a file this test owns, unmapped below.
            let at = unsafe {
                libc::mmap(
                    std::ptr::null_mut(),
                    len,
                    prot,
                    libc::MAP_PRIVATE,
                    file.as_raw_fd(),
                    0,
                )
            };
            assert_ne!(at, libc::MAP_FAILED);
            at.cast::<u8>()
        };
        let read_only = map(libc::PROT_READ);
        let written = map(libc::PROT_READ | libc::PROT_WRITE);
        // SAFETY: both mappings are `len` bytes long and live until the end of the test.
        let (read_only_bytes, written_bytes) = unsafe {
            (
                std::slice::from_raw_parts(read_only, len),
                std::slice::from_raw_parts_mut(written, len),
            )
        };
        assert_eq!(read_only_bytes, &contents[..]);
        written_bytes[0] = 7;
        // SAFETY: read-only from here on, like a relocated RELRO segment.
        assert_eq!(
            unsafe { libc::mprotect(written.cast(), len, libc::PROT_READ) },
            0
        );
        assert!(resident_kib(read_only as usize) > 0);

        give_back();

        assert_eq!(
            resident_kib(read_only as usize),
            0,
            "the unwritten mapping is given back"
        );
        assert_eq!(
            read_only_bytes,
            &contents[..],
            "and reads back from its file"
        );
        assert_eq!(
            written_bytes[0], 7,
            "the written mapping keeps what was written"
        );
        // SAFETY: the two mappings made above, not used after this.
        unsafe {
            libc::munmap(read_only.cast(), len);
            libc::munmap(written.cast(), len);
        }
    }

    #[test]
    fn this_process_has_resident_file_pages() {
        assert!(resident_file_pages().is_some_and(|pages| pages > 0));
    }
}
