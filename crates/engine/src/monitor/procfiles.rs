//! Linux: the `/proc` files of the processes the sampler reads, kept open from one tick to the
//! next. Opening and closing three files per process and tick (each open a path walk through
//! `/proc`) was most of what sampling cost while someone watched. An open file keeps naming its
//! process: once that process is gone a read fails, even when another process has taken its
//! pid, and the pid's files are opened again. How many are kept is bounded by the open-file
//! limit, so watching never takes descriptors the jobs' starts need; past the bound a
//! process's files are opened and closed at each read.

use std::collections::HashMap;
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

/// The files of one process that the sampler reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ProcFile {
    /// `/proc/PID/stat`: group, CPU time, threads, RSS.
    Stat,
    /// `/proc/PID/io`: bytes read and written.
    Io,
    /// `/proc/PID/task/PID/children`: what the main thread started.
    Children,
}

impl ProcFile {
    const ALL: [ProcFile; 3] = [ProcFile::Stat, ProcFile::Io, ProcFile::Children];

    fn path(self, pid: u32) -> String {
        match self {
            ProcFile::Stat => format!("/proc/{pid}/stat"),
            ProcFile::Io => format!("/proc/{pid}/io"),
            ProcFile::Children => format!("/proc/{pid}/task/{pid}/children"),
        }
    }

    fn index(self) -> usize {
        match self {
            ProcFile::Stat => 0,
            ProcFile::Io => 1,
            ProcFile::Children => 2,
        }
    }
}

/// Descriptors kept for the sampler: at most one in this many of the open-file limit.
const SHARE_OF_LIMIT: u64 = 8;
/// And never more processes than this, whatever the limit.
const MOST_PROCESSES: usize = 4096;
/// The files kept per process: one of each `ProcFile`.
const FILES_PER_PROCESS: u64 = 3;

pub(super) struct ProcFiles {
    kept: HashMap<u32, Kept>,
    /// The current read; a kept process not seen in it is gone or no longer sampled.
    pass: u64,
    /// How many processes may keep their files during this pass.
    room: usize,
}

struct Kept {
    files: [Option<File>; ProcFile::ALL.len()],
    pass: u64,
}

impl ProcFiles {
    pub fn new() -> ProcFiles {
        ProcFiles {
            kept: HashMap::new(),
            pass: 0,
            room: 0,
        }
    }

    /// A new pass over the processes. `keep`: another follows soon, so files opened now are
    /// kept for it, as many as the open-file limit allows now; otherwise none is kept.
    pub fn begin(&mut self, keep: bool) {
        self.pass = self.pass.wrapping_add(1);
        self.room = if keep {
            let limit = nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE);
            kept_processes(limit.map_or(0, |(soft, _)| soft))
        } else {
            self.kept.clear();
            0
        };
    }

    /// Closes the files of every process the pass did not read.
    pub fn end(&mut self) {
        let pass = self.pass;
        self.kept.retain(|_, kept| kept.pass == pass);
    }

    /// The whole of `file` of `pid` into `out`; false when it cannot be read (the process is
    /// gone, or the file is not readable).
    pub fn read(&mut self, pid: u32, file: ProcFile, out: &mut Vec<u8>) -> bool {
        out.clear();
        if !self.kept.contains_key(&pid) && self.kept.len() >= self.room {
            return File::open(file.path(pid))
                .and_then(|f| read_from_start(&f, out))
                .is_ok();
        }
        let pass = self.pass;
        let kept = self.kept.entry(pid).or_insert_with(|| Kept {
            files: Default::default(),
            pass,
        });
        kept.pass = pass;
        let index = file.index();
        if let Some(open) = &kept.files[index] {
            if read_from_start(open, out).is_ok() {
                return true;
            }
            // Gone, and perhaps its pid taken since: this pid's files are opened again.
            out.clear();
            kept.files = Default::default();
        }
        match File::open(file.path(pid)) {
            Ok(opened) if read_from_start(&opened, out).is_ok() => {
                kept.files[index] = Some(opened);
                true
            }
            _ => {
                out.clear();
                if kept.files.iter().all(Option::is_none) {
                    self.kept.remove(&pid);
                }
                false
            }
        }
    }

    /// How many descriptors are kept now.
    #[cfg(test)]
    fn open(&self) -> usize {
        self.kept
            .values()
            .map(|kept| kept.files.iter().flatten().count())
            .sum()
    }
}

/// How many processes may keep their files open under a soft open-file limit of `soft`.
fn kept_processes(soft: u64) -> usize {
    let processes = soft / SHARE_OF_LIMIT / FILES_PER_PROCESS;
    usize::try_from(processes).map_or(MOST_PROCESSES, |p| p.min(MOST_PROCESSES))
}

/// Reads `file` from its start to its end (a `/proc` file is made again at offset 0).
fn read_from_start(file: &File, out: &mut Vec<u8>) -> io::Result<()> {
    let mut chunk = [0u8; 4096];
    loop {
        let offset = u64::try_from(out.len()).map_err(|_| io::ErrorKind::InvalidData)?;
        let n = file.read_at(&mut chunk, offset)?;
        out.extend_from_slice(&chunk[..n]);
        // A short read is the end: a proc file fills what it was given while it has more.
        if n < chunk.len() {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_files_kept_are_a_share_of_the_open_file_limit() {
        assert_eq!(u64::try_from(ProcFile::ALL.len()), Ok(FILES_PER_PROCESS));
        assert_eq!(kept_processes(0), 0);
        assert_eq!(kept_processes(1024), 42);
        assert_eq!(kept_processes(u64::MAX), MOST_PROCESSES);
    }

    #[test]
    fn a_process_that_ends_is_read_no_more_and_its_files_close() -> io::Result<()> {
        let mut child = std::process::Command::new("sleep").arg("30").spawn()?;
        let pid = child.id();
        let mut files = ProcFiles::new();
        let mut out = Vec::new();
        files.begin(true);
        for file in ProcFile::ALL {
            assert!(files.read(pid, file, &mut out), "{file:?}");
        }
        files.end();
        assert_eq!(files.open(), 3, "kept between passes");

        files.begin(true);
        assert!(files.read(pid, ProcFile::Stat, &mut out));
        let stat = String::from_utf8_lossy(&out).into_owned();
        assert!(stat.starts_with(&format!("{pid} (sleep) ")), "{stat}");
        files.end();

        child.kill()?;
        child.wait()?;
        files.begin(true);
        assert!(
            !files.read(pid, ProcFile::Stat, &mut out),
            "a reaped process"
        );
        assert!(out.is_empty());
        files.end();
        assert_eq!(files.open(), 0);
        Ok(())
    }

    #[test]
    fn with_no_room_or_no_read_soon_files_are_read_and_closed() {
        let mut files = ProcFiles::new();
        let mut out = Vec::new();
        files.begin(true);
        files.room = 0;
        assert!(files.read(std::process::id(), ProcFile::Stat, &mut out));
        assert!(!out.is_empty());
        assert_eq!(files.open(), 0);
        files.end();

        files.begin(true);
        assert!(files.read(std::process::id(), ProcFile::Stat, &mut out));
        files.end();
        assert_eq!(files.open(), 1);
        // The next pass is a minute away: nothing stays open, what was kept included.
        files.begin(false);
        assert!(files.read(std::process::id(), ProcFile::Stat, &mut out));
        assert_eq!(files.open(), 0);
        files.end();
        assert_eq!(files.open(), 0);
    }

    #[test]
    fn a_process_not_read_in_a_pass_has_its_files_closed() {
        let mut files = ProcFiles::new();
        let mut out = Vec::new();
        files.begin(true);
        assert!(files.read(std::process::id(), ProcFile::Io, &mut out));
        files.end();
        assert_eq!(files.open(), 1);
        files.begin(true);
        files.end();
        assert_eq!(files.open(), 0);
    }
}
