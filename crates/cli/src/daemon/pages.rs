//! The executable's pages, given back while the daemon rests (Linux).
//!
//! Opening the store, recovering orphans, serving a burst of requests or starting hundreds of
//! jobs runs code that an idle daemon does not run again, and the kernel leaves those clean
//! pages of the executable mapped, counted in the daemon's RSS and USS, until memory runs
//! short. Once the daemon has been quiet for a while after such a burst, `MADV_PAGEOUT`
//! reclaims them; what the idle daemon still runs is read back from the file when it next
//! runs. The advice never loses data (a page written since it was mapped is kept, or swapped),
//! so it is given for every read-only mapping of the executable.

use std::path::Path;

/// Bytes in a page, for the bounds below (statm counts pages).
const PAGE: u64 = 4096;
/// Ticks in a row with the resident file pages (about) unchanged before a page-out: a burst of
/// requests or starts has ended. One tick is enough: the settling below keeps page-outs at
/// least two minutes apart.
const QUIET_TICKS: u32 = 1;
/// After a page-out, the quiet ticks before the resident pages count as what the idle daemon
/// itself uses: longer than the sampler's default interval when nobody watches (1 min).
const SETTLE_TICKS: u32 = 12;
/// A change smaller than this does not end a quiet stretch.
const JITTER_PAGES: u64 = 64 * 1024 / PAGE;
/// Growth over the settled pages that makes a page-out worth its cost (reading back what the
/// idle daemon uses).
const GROWTH_PAGES: u64 = 1024 * 1024 / PAGE;

/// When to page out, from the resident file-backed pages seen at each tick.
#[derive(Debug, Default)]
pub struct Pager {
    /// Resident file pages at the previous tick.
    last: u64,
    /// Ticks in a row without a real change.
    quiet: u32,
    /// Resident file pages once the idle daemon has read back what it uses; `None` before the
    /// first page-out, which is always due.
    settled: Option<u64>,
    /// A page-out happened and the settled pages are not measured yet.
    settling: bool,
}

impl Pager {
    /// One tick with `resident` file-backed pages: whether to page out now.
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

/// Advises the kernel to reclaim the pages of every read-only mapping of the executable.
pub fn page_out() {
    let Ok(exe) = std::fs::read_link("/proc/self/exe") else {
        return;
    };
    let Ok(maps) = std::fs::read_to_string("/proc/self/maps") else {
        return;
    };
    for (start, len) in read_only_mappings(&maps, &exe) {
        // SAFETY: the range is a whole mapping of this process, as the kernel listed it, and
        // MADV_PAGEOUT changes no contents: a page is reclaimed only where it can be read back
        // (clean file pages) or kept (written pages, without swap).
        let done = unsafe { libc::madvise(start as *mut libc::c_void, len, libc::MADV_PAGEOUT) };
        if done != 0 {
            // Kernels before 5.4 do not know the advice: nothing to give back then.
            tracing::debug!(
                "cannot page out the executable: {}",
                std::io::Error::last_os_error()
            );
            return;
        }
    }
}

/// The start and length of each mapping of `exe` in `maps` (`/proc/self/maps`) that is not
/// writable.
fn read_only_mappings(maps: &str, exe: &Path) -> Vec<(usize, usize)> {
    maps.lines()
        .filter_map(|line| {
            let mut fields = line.splitn(6, ' ');
            let range = fields.next()?;
            let perms = fields.next()?;
            let path = fields.nth(3)?.trim_start();
            if perms.contains('w') || Path::new(path) != exe {
                return None;
            }
            let (start, end) = range.split_once('-')?;
            let start = usize::from_str_radix(start, 16).ok()?;
            let end = usize::from_str_radix(end, 16).ok()?;
            Some((start, end.checked_sub(start)?))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1024 * 1024 / PAGE;

    /// The ticks on which `pager` pages out, over `resident` pages tick by tick.
    fn page_outs(pager: &mut Pager, resident: &[u64]) -> Vec<usize> {
        resident
            .iter()
            .enumerate()
            .filter_map(|(tick, &pages)| pager.tick(pages).then_some(tick))
            .collect()
    }

    #[test]
    fn the_first_page_out_waits_for_quiet() {
        let mut pager = Pager::default();
        // Starting up: growing for three ticks, then steady.
        let ticks = [5 * MIB, 8 * MIB, 9 * MIB, 9 * MIB, 9 * MIB];
        assert_eq!(page_outs(&mut pager, &ticks), vec![3]);
    }

    #[test]
    fn after_settling_only_real_growth_pages_out_again() {
        let mut pager = Pager::default();
        let mut ticks = vec![9 * MIB; 2];
        // Paged out; the idle daemon reads back 3 MiB, then stays there.
        ticks.extend([2 * MIB, 3 * MIB]);
        ticks.extend(vec![3 * MIB; 12]);
        // A little more (a sampler tick), then a burst of requests and quiet again.
        ticks.extend(vec![3 * MIB + MIB / 2; 5]);
        ticks.extend([5 * MIB, 6 * MIB]);
        ticks.push(6 * MIB);
        assert_eq!(page_outs(&mut pager, &ticks), vec![1, ticks.len() - 1]);
    }

    #[test]
    fn jitter_is_quiet() {
        let mut pager = Pager::default();
        let ticks = [9 * MIB, 10 * MIB, 10 * MIB + 3];
        assert_eq!(page_outs(&mut pager, &ticks), vec![2]);
    }

    #[test]
    fn only_the_read_only_mappings_of_the_executable() {
        let maps = "\
55d0c0000000-55d0c0400000 r--p 00000000 08:01 123 /opt/sentinel zero/sentineld
55d0c0400000-55d0c1000000 r-xp 00400000 08:01 123 /opt/sentinel zero/sentineld
55d0c1000000-55d0c1080000 r--p 00fb0000 08:01 123 /opt/sentinel zero/sentineld
55d0c1080000-55d0c1090000 rw-p 01030000 08:01 123 /opt/sentinel zero/sentineld
55d0c2000000-55d0c2100000 rw-p 00000000 00:00 0                          [heap]
7f0000000000-7f0000200000 r-xp 00028000 08:01 456                        /usr/lib/libc.so.6
7f0000400000-7f0000500000 r-xp 00000000 08:01 789 /opt/sentinel zero/sentineld.old
";
        let exe = Path::new("/opt/sentinel zero/sentineld");
        assert_eq!(
            read_only_mappings(maps, exe),
            vec![
                (0x55d0c0000000, 0x400000),
                (0x55d0c0400000, 0xc00000),
                (0x55d0c1000000, 0x80000)
            ]
        );
    }

    #[test]
    fn this_process_has_resident_file_pages() {
        assert!(resident_file_pages().is_some_and(|pages| pages > 0));
    }
}
