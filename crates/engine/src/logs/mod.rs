//! Log capture: each job's stdout and stderr go, line by line and timestamped, into one file
//! with size-based rotation, a bounded memory of the most recent records for instant tails,
//! and live followers. Rotation happens between records, so no byte is ever lost or written twice.

pub mod format;
pub(crate) mod retention;

use std::borrow::Cow;
use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use chrono::Utc;
use sentinel_proto::{LogLine, LogSettings, LogStream};
use tokio::net::unix::pipe;
use tokio::sync::{broadcast, watch};

/// Longer lines are cut into `P` records of this size, so one line cannot use unbounded memory.
pub const MAX_LINE: usize = 16 * 1024;
/// Bytes read from a pipe at once.
const READ_CHUNK: usize = 64 * 1024;
/// How far a follower may fall behind before it misses lines.
const FOLLOWER_CAPACITY: usize = 8192;
/// The most bytes of log files one tail reads, however many lines it asks for: replies and
/// the time the job's log lock is held stay bounded.
const TAIL_READ_BUDGET: u64 = 64 * 1024 * 1024;

/// One job's logs. Shared by the job's capture tasks and everyone who reads its logs.
pub struct JobLogs {
    state: Mutex<LogState>,
}

struct LogState {
    active_path: PathBuf,
    settings: LogSettings,
    file: Option<File>,
    size: u64,
    pending: Vec<u8>,
    /// The newest records exactly as written to the file, whole records only. Kept as bytes
    /// so that capture costs one copy per chunk, not an allocation per line.
    recent: VecDeque<u8>,
    recent_capacity: usize,
    followers: Option<broadcast::Sender<LogLine>>,
    /// What the OS said when writing last failed; `None` while writing works. Watched by the
    /// job's actor, which publishes the job's status when it changes.
    last_error: watch::Sender<Option<String>>,
    /// Secret values of the current run, longest first, shown as the mask instead.
    masked: Vec<Vec<u8>>,
    /// Records the file refused (a full disk), oldest first: written before anything newer
    /// once it takes them again.
    backlog: Vec<u8>,
    /// Bytes of the oldest refused records dropped to keep the backlog within bounds.
    lost: u64,
}

/// How much refused output is kept for the file while it cannot be written.
const MAX_BACKLOG: usize = 1024 * 1024;
/// How often a quiet job's held-back output is tried again.
const BACKLOG_RETRY: std::time::Duration = std::time::Duration::from_secs(1);

impl JobLogs {
    /// `memory` is how many bytes of the newest records are kept for instant tails.
    pub fn new(dir: &Path, job: &str, settings: LogSettings, memory: usize) -> Arc<JobLogs> {
        Arc::new(JobLogs {
            state: Mutex::new(LogState {
                active_path: dir.join(format!("{job}.log")),
                settings,
                file: None,
                size: 0,
                pending: Vec::new(),
                recent: VecDeque::new(),
                recent_capacity: memory,
                followers: None,
                last_error: watch::Sender::new(None),
                masked: Vec::new(),
                backlog: Vec::new(),
                lost: 0,
            }),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LogState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn set_settings(&self, settings: LogSettings) {
        self.lock().settings = settings;
    }

    /// From now on these values (longest first) are written as the secret mask. A value cut
    /// by a line longer than `MAX_LINE` may escape in halves.
    pub fn mask_values(&self, values: Vec<String>) {
        self.lock().masked = values.into_iter().map(String::into_bytes).collect();
    }

    /// The active file; rotated ones carry `.1` (newest) to `.N` (oldest).
    pub fn active_path(&self) -> PathBuf {
        self.lock().active_path.clone()
    }

    /// Every existing log file, oldest first.
    pub fn files(&self) -> Vec<PathBuf> {
        let state = self.lock();
        let mut files: Vec<PathBuf> = (1..=state.settings.max_files)
            .rev()
            .map(|n| rotated_path(&state.active_path, n))
            .filter(|p| p.exists())
            .collect();
        if state.active_path.exists() {
            files.push(state.active_path.clone());
        }
        files
    }

    /// Tries again to write what the file refused, if anything is held back; a quiet job's
    /// output reaches the file (and its error clears) without waiting for its next line.
    fn retry_backlog(&self) {
        let mut state = self.lock();
        if state.backlog.is_empty() {
            return;
        }
        match state.write_backlog() {
            Ok(()) => {
                tracing::info!("writing {} again", state.active_path.display());
                state.set_error(None);
            }
            Err(_) => state.file = None,
        }
    }

    fn is_behind(&self) -> bool {
        !self.lock().backlog.is_empty()
    }

    /// The last write error, if writing to disk currently fails.
    pub fn last_error(&self) -> Option<String> {
        self.lock().last_error.borrow().clone()
    }

    /// Changes of the write error, as they happen.
    pub fn error_changes(&self) -> watch::Receiver<Option<String>> {
        self.lock().last_error.subscribe()
    }

    /// The last `n` lines (of `stream`, or of both): from memory when it holds them, else
    /// from the files.
    pub fn tail(&self, n: usize, stream: Option<LogStream>) -> Vec<LogLine> {
        self.lock().tail(n, stream)
    }

    /// The last `n` lines (of `stream`, or of both) and a receiver of every line after them,
    /// with no gap in between.
    pub fn follow(
        &self,
        n: usize,
        stream: Option<LogStream>,
    ) -> (Vec<LogLine>, broadcast::Receiver<LogLine>) {
        let mut state = self.lock();
        let tail = state.tail(n, stream);
        let receiver = match &state.followers {
            Some(sender) => sender.subscribe(),
            None => {
                let (sender, receiver) = broadcast::channel(FOLLOWER_CAPACITY);
                state.followers = Some(sender);
                receiver
            }
        };
        (tail, receiver)
    }

    /// Takes a chunk read from one stream. `carry` holds that stream's unfinished line.
    fn ingest(&self, stream: LogStream, carry: &mut Vec<u8>, mut chunk: &[u8]) {
        let now = Utc::now();
        let ts = format::timestamp(now);
        let mut state = self.lock();
        while let Some(end) = memchr::memchr(b'\n', chunk) {
            if carry.is_empty() {
                state.line(&ts, now, stream, &chunk[..end], true);
            } else {
                carry.extend_from_slice(&chunk[..end]);
                state.line(&ts, now, stream, carry, true);
                carry.clear();
            }
            chunk = &chunk[end + 1..];
        }
        carry.extend_from_slice(chunk);
        if carry.len() >= MAX_LINE {
            let whole = carry.len() / MAX_LINE * MAX_LINE;
            state.line(&ts, now, stream, &carry[..whole], false);
            carry.drain(..whole);
        }
        state.write_pending();
    }

    /// The stream ended: an unfinished last line is kept as it is.
    fn finish(&self, stream: LogStream, carry: &mut Vec<u8>) {
        if carry.is_empty() {
            return;
        }
        let now = Utc::now();
        let mut state = self.lock();
        state.line(&format::timestamp(now), now, stream, carry, false);
        state.write_pending();
        carry.clear();
    }
}

impl LogState {
    /// Records one line, cut into `MAX_LINE` pieces; `complete` says whether a newline ended it.
    fn line(
        &mut self,
        ts: &str,
        now: chrono::DateTime<Utc>,
        stream: LogStream,
        content: &[u8],
        complete: bool,
    ) {
        let masked = mask(content, &self.masked);
        let content: &[u8] = &masked;
        let mut pieces = content.chunks(MAX_LINE).peekable();
        if content.is_empty() {
            self.record(ts, now, stream, !complete, b"");
        }
        while let Some(piece) = pieces.next() {
            let partial = pieces.peek().is_some() || !complete;
            self.record(ts, now, stream, partial, piece);
        }
    }

    fn record(
        &mut self,
        ts: &str,
        now: chrono::DateTime<Utc>,
        stream: LogStream,
        partial: bool,
        content: &[u8],
    ) {
        let record_len = (ts.len() + content.len() + 11) as u64;
        let written = self.size + self.pending.len() as u64;
        if written > 0 && written + record_len > self.settings.max_size {
            self.write_pending();
            self.rotate();
        }
        format::encode(&mut self.pending, ts, stream, partial, content);
        if let Some(followers) = &self.followers {
            let line = LogLine {
                ts: now,
                stream,
                text: String::from_utf8_lossy(content).into_owned(),
                partial,
            };
            if followers.send(line).is_err() {
                // Nobody follows any more.
                self.followers = None;
            }
        }
    }

    /// Keeps the newest whole records of what was just written, within the memory budget.
    fn remember(&mut self, records: &[u8]) {
        let capacity = self.recent_capacity;
        if capacity == 0 {
            return;
        }
        // Think of memory followed by the new records as one sequence; keep its last
        // `capacity` bytes, starting at `front`.
        let old = self.recent.len();
        let total = old + records.len();
        if total <= capacity {
            self.recent.extend(records);
            return;
        }
        let front = total - capacity;
        let before_front = if front <= old {
            self.recent[front - 1]
        } else {
            records[front - old - 1]
        };
        if front >= old {
            self.recent.clear();
            self.recent.extend(&records[front - old..]);
        } else {
            self.recent.drain(..front);
            self.recent.extend(records);
        }
        let clean = before_front == b'\n';
        if !clean {
            // The front may now start mid-record: drop up to the first record boundary.
            match self.recent.iter().position(|&b| b == b'\n') {
                Some(end) => drop(self.recent.drain(..=end)),
                None => self.recent.clear(),
            }
        }
    }

    fn set_error(&mut self, error: Option<String>) {
        self.last_error.send_if_modified(|current| {
            let changed = *current != error;
            *current = error;
            changed
        });
    }

    fn write_pending(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let mut pending = std::mem::take(&mut self.pending);
        // Remembered even when the disk refuses it, so a tail still shows what happened.
        self.remember(&pending);
        let behind = !self.backlog.is_empty();
        let outcome = if behind {
            // Older refused output goes first, so the file keeps the order.
            self.backlog.extend_from_slice(&pending);
            self.write_backlog()
        } else {
            self.append(&pending)
                .map(|()| self.size += pending.len() as u64)
        };
        match outcome {
            Ok(()) => {
                if behind {
                    tracing::info!("writing {} again", self.active_path.display());
                }
                self.set_error(None);
            }
            Err(err) => {
                let message = format!("cannot write {}: {err}", self.active_path.display());
                if self.last_error.borrow().as_deref() != Some(&message) {
                    tracing::error!("{message}; keeping the newest output until it can");
                }
                self.set_error(Some(message));
                self.file = None;
                if self.backlog.is_empty() {
                    self.backlog.extend_from_slice(&pending);
                }
                self.bound_backlog();
            }
        }
        // Keep the buffer's allocation for the next chunk.
        pending.clear();
        self.pending = pending;
    }

    /// Writes what the file refused before (with a record of how much had to be dropped),
    /// then empties the backlog; on failure it stays.
    fn write_backlog(&mut self) -> io::Result<()> {
        if self.lost > 0 {
            let mut note = Vec::new();
            let text = format!(
                "[sentinel] {} bytes of output were dropped while {} could not be written",
                self.lost,
                self.active_path.display()
            );
            format::encode(
                &mut note,
                &format::timestamp(Utc::now()),
                LogStream::Stderr,
                false,
                text.as_bytes(),
            );
            self.append(&note)?;
            self.size += note.len() as u64;
            self.lost = 0;
        }
        let backlog = std::mem::take(&mut self.backlog);
        match self.append(&backlog) {
            Ok(()) => {
                self.size += backlog.len() as u64;
                Ok(())
            }
            Err(err) => {
                self.backlog = backlog;
                Err(err)
            }
        }
    }

    /// Drops the oldest whole records beyond `MAX_BACKLOG`, counting them as lost.
    fn bound_backlog(&mut self) {
        if self.backlog.len() <= MAX_BACKLOG {
            return;
        }
        let excess = self.backlog.len() - MAX_BACKLOG;
        let cut = match memchr::memchr(b'\n', &self.backlog[excess..]) {
            Some(end) => excess + end + 1,
            None => self.backlog.len(),
        };
        self.backlog.drain(..cut);
        self.lost += cut as u64;
    }

    fn append(&mut self, bytes: &[u8]) -> io::Result<()> {
        if self.file.is_none() {
            // Output can hold anything a job printed: only the owner may read it. Opened
            // relative to its directory and following no link in either, at every rotation
            // too, so a link planted after start is refused, not written through.
            let file = crate::home::open_log(&self.active_path)?;
            self.size = file.metadata()?.len();
            self.file = Some(file);
        }
        let file = self.file.as_mut().expect("opened above");
        if let Err(err) = file.write_all(bytes) {
            // A record cut short would run into the next one: take it back, so the retry
            // writes it whole.
            let _ = file.set_len(self.size);
            return Err(err);
        }
        Ok(())
    }

    fn rotate(&mut self) {
        self.file = None;
        let max = self.settings.max_files;
        let outcome = rotate_files(&self.active_path, max);
        if let Err(err) = outcome {
            if err.kind() != io::ErrorKind::NotFound {
                tracing::error!("cannot rotate {}: {err}", self.active_path.display());
            }
        }
        self.size = 0;
    }

    fn tail(&mut self, n: usize, stream: Option<LogStream>) -> Vec<LogLine> {
        self.tail_within(n, stream, TAIL_READ_BUDGET)
    }

    /// `tail`, reading at most `budget` bytes of files.
    fn tail_within(&mut self, n: usize, stream: Option<LogStream>, budget: u64) -> Vec<LogLine> {
        let n = n.min(sentinel_proto::api::MAX_TAIL_LINES);
        let wanted = |record: &format::Record| stream.is_none_or(|s| s == record.stream);
        let mut lines = VecDeque::new();
        for raw in self
            .recent
            .make_contiguous()
            .split(|&b| b == b'\n')
            .rev()
            .filter(|l| !l.is_empty())
        {
            if lines.len() == n {
                return lines.into();
            }
            if let Some(record) = format::decode(raw).filter(wanted) {
                lines.push_front(record.to_line());
            }
        }
        if lines.len() == n {
            return lines.into();
        }
        // Memory holds less than asked for: the files hold it all.
        lines.clear();
        let files = std::iter::once(self.active_path.clone())
            .chain((1..=self.settings.max_files).map(|k| rotated_path(&self.active_path, k)));
        // Read from the end of each file, and no more than a bounded amount in all: a tail
        // of many lines through huge files answers with what the budget reaches.
        let mut budget = budget;
        for path in files {
            if budget == 0 {
                break;
            }
            let Ok((bytes, whole)) = crate::home::read_log_end(&path, budget) else {
                break;
            };
            budget -= bytes.len() as u64;
            // Cut into the middle of a line: that line is not whole, so it is not shown.
            let bytes = match (whole, bytes.iter().position(|&b| b == b'\n')) {
                (true, _) => &bytes[..],
                (false, Some(end)) => &bytes[end + 1..],
                (false, None) => &[][..],
            };
            for raw in bytes.split(|&b| b == b'\n').rev().filter(|l| !l.is_empty()) {
                if let Some(record) = format::decode(raw).filter(wanted) {
                    lines.push_front(record.to_line());
                    if lines.len() == n {
                        return lines.into();
                    }
                }
            }
        }
        lines.into()
    }
}

/// `content` with every occurrence of each value replaced by the secret mask; borrowed when
/// there is nothing to replace, which is almost always.
fn mask<'a>(content: &'a [u8], values: &[Vec<u8>]) -> Cow<'a, [u8]> {
    let mut text = Cow::Borrowed(content);
    for value in values {
        if memchr::memmem::find(&text, value).is_none() {
            continue;
        }
        let mut out = Vec::with_capacity(text.len());
        let mut rest: &[u8] = &text;
        while let Some(at) = memchr::memmem::find(rest, value) {
            out.extend_from_slice(&rest[..at]);
            out.extend_from_slice(sentinel_proto::secret::MASK.as_bytes());
            rest = &rest[at + value.len()..];
        }
        out.extend_from_slice(rest);
        text = Cow::Owned(out);
    }
    text
}

/// Shifts `JOB.log` to `JOB.log.1`, `.1` to `.2`… and drops the oldest, all relative to the
/// log directory opened without following a link (renames and removals never follow one).
fn rotate_files(active: &Path, max: u32) -> io::Result<()> {
    use nix::fcntl::renameat;
    use nix::unistd::{unlinkat, UnlinkatFlags};
    use std::os::fd::AsRawFd;

    let (Some(dir), Some(name)) = (active.parent(), active.file_name()) else {
        return Ok(());
    };
    let dir = crate::home::open_log_dir(dir, false)?;
    let at = Some(dir.as_raw_fd());
    let numbered = |n: u32| {
        let mut numbered = name.to_owned();
        numbered.push(format!(".{n}"));
        PathBuf::from(numbered)
    };
    if max == 0 {
        return Ok(unlinkat(at, name, UnlinkatFlags::NoRemoveDir)?);
    }
    let _ = unlinkat(at, numbered(max).as_path(), UnlinkatFlags::NoRemoveDir);
    for n in (1..max).rev() {
        let _ = renameat(at, numbered(n).as_path(), at, numbered(n + 1).as_path());
    }
    Ok(renameat(at, name, at, numbered(1).as_path())?)
}

fn rotated_path(active: &Path, n: u32) -> PathBuf {
    let mut name = active.as_os_str().to_owned();
    name.push(format!(".{n}"));
    PathBuf::from(name)
}

/// Reads one output pipe until it closes. A buffer exists only while data is flowing, so an
/// idle job costs no memory here.
pub(crate) async fn capture(logs: Arc<JobLogs>, stream: LogStream, pipe: pipe::Receiver) {
    let mut carry = Vec::new();
    loop {
        let ready = if logs.is_behind() {
            match tokio::time::timeout(BACKLOG_RETRY, pipe.readable()).await {
                Ok(ready) => ready,
                Err(_) => {
                    logs.retry_backlog();
                    continue;
                }
            }
        } else {
            pipe.readable().await
        };
        if let Err(err) = ready {
            tracing::warn!("cannot wait for {}: {err}", stream.as_str());
            break;
        }
        let mut buffer = Vec::with_capacity(READ_CHUNK);
        loop {
            buffer.clear();
            match pipe.try_read_buf(&mut buffer) {
                Ok(0) => {
                    logs.finish(stream, &mut carry);
                    return;
                }
                Ok(_) => logs.ingest(stream, &mut carry, &buffer),
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => break,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                Err(err) => {
                    tracing::warn!("cannot read {}: {err}", stream.as_str());
                    logs.finish(stream, &mut carry);
                    return;
                }
            }
        }
    }
    logs.finish(stream, &mut carry);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(max_size: u64, max_files: u32) -> LogSettings {
        LogSettings {
            max_size,
            max_files,
        }
    }

    fn all_files(logs: &JobLogs) -> Vec<Vec<u8>> {
        logs.files()
            .iter()
            .map(|p| std::fs::read(p).unwrap())
            .collect()
    }

    #[test]
    fn output_the_file_refuses_is_written_in_order_once_it_can_be() {
        let dir = tempfile::tempdir().unwrap();
        // A file where the log directory should be: every write fails until it goes.
        let blocker = dir.path().join("logs");
        std::fs::write(&blocker, "").unwrap();
        let logs = JobLogs::new(&blocker, "job", settings(64 * 1024 * 1024, 1), 0);
        let mut carry = Vec::new();
        logs.ingest(LogStream::Stdout, &mut carry, b"before\n");
        assert!(logs.last_error().unwrap().contains("cannot write"));
        // More than the backlog holds: the oldest lines go, and the file says how much.
        let line = format!("{}\n", "x".repeat(1000));
        for _ in 0..(MAX_BACKLOG / 1000 + 100) {
            logs.ingest(LogStream::Stdout, &mut carry, line.as_bytes());
        }
        logs.ingest(LogStream::Stdout, &mut carry, b"last while refused\n");
        std::fs::remove_file(&blocker).unwrap();
        logs.ingest(LogStream::Stdout, &mut carry, b"after\n");
        assert_eq!(logs.last_error(), None);

        let text = String::from_utf8(std::fs::read(logs.active_path()).unwrap()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert!(
            lines[0].contains("bytes of output were dropped while"),
            "{}",
            lines[0]
        );
        assert!(!text.contains(" before"), "the oldest output was dropped");
        assert!(lines[lines.len() - 2].ends_with(" F last while refused"));
        assert!(lines[lines.len() - 1].ends_with(" F after"));
        // Every record is whole and the backlog stayed within its bound.
        assert!(lines.iter().all(|l| format::decode(l.as_bytes()).is_some()));
        assert!(text.len() <= MAX_BACKLOG + 2000);
    }

    #[test]
    fn a_tail_of_one_stream_counts_only_that_stream() {
        let dir = tempfile::tempdir().unwrap();
        // From memory, and from the files when memory holds nothing.
        for memory in [64 * 1024, 0] {
            let logs = JobLogs::new(
                dir.path(),
                &format!("m{memory}"),
                settings(1 << 20, 2),
                memory,
            );
            let (mut out, mut err) = (Vec::new(), Vec::new());
            logs.ingest(LogStream::Stderr, &mut err, b"err 1\nerr 2\n");
            for n in 0..20 {
                logs.ingest(LogStream::Stdout, &mut out, format!("out {n}\n").as_bytes());
            }
            let texts = |stream| -> Vec<String> {
                logs.tail(2, stream).into_iter().map(|l| l.text).collect()
            };
            assert_eq!(
                texts(Some(LogStream::Stderr)),
                ["err 1", "err 2"],
                "memory {memory}"
            );
            assert_eq!(texts(Some(LogStream::Stdout)), ["out 18", "out 19"]);
            assert_eq!(texts(None), ["out 18", "out 19"]);
            let (tail, _) = logs.follow(5, Some(LogStream::Stderr));
            assert_eq!(tail.len(), 2);
        }
    }

    #[test]
    fn secret_values_are_masked_wherever_they_appear() {
        let values = vec![b"secret-long".to_vec(), b"secret".to_vec()];
        let mask = sentinel_proto::secret::MASK;
        assert_eq!(
            &*super::mask(b"a secret-long and a secret, twice: secret", &values),
            format!("a {mask} and a {mask}, twice: {mask}").as_bytes()
        );
        assert!(matches!(
            super::mask(b"nothing here", &values),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn lines_split_across_chunks_are_joined() {
        let dir = tempfile::tempdir().unwrap();
        let logs = JobLogs::new(dir.path(), "job", settings(1 << 20, 2), 10);
        let mut carry = Vec::new();
        logs.ingest(LogStream::Stdout, &mut carry, b"hel");
        logs.ingest(LogStream::Stdout, &mut carry, b"lo\nwor");
        logs.ingest(LogStream::Stdout, &mut carry, b"ld\n\nlast");
        logs.finish(LogStream::Stdout, &mut carry);
        let texts: Vec<String> = logs.tail(10, None).into_iter().map(|l| l.text).collect();
        assert_eq!(texts, vec!["hello", "world", "", "last"]);
        assert!(logs.tail(1, None)[0].partial);
        assert_eq!(
            format::reassemble(&all_files(&logs), LogStream::Stdout),
            b"hello\nworld\n\nlast"
        );
    }

    #[test]
    fn long_lines_are_cut_but_kept_whole_on_disk() {
        let dir = tempfile::tempdir().unwrap();
        let logs = JobLogs::new(dir.path(), "job", settings(1 << 20, 2), 10);
        let long: Vec<u8> = (0..MAX_LINE * 2 + 100)
            .map(|i| b'a' + (i % 26) as u8)
            .collect();
        let mut input = long.clone();
        input.push(b'\n');
        let mut carry = Vec::new();
        for piece in input.chunks(1000) {
            logs.ingest(LogStream::Stderr, &mut carry, piece);
        }
        assert!(carry.is_empty());
        assert_eq!(logs.tail(10, None).len(), 3);
        assert_eq!(
            format::reassemble(&all_files(&logs), LogStream::Stderr),
            input
        );
    }

    #[test]
    fn rotation_keeps_every_byte_and_at_most_max_files() {
        let dir = tempfile::tempdir().unwrap();
        let logs = JobLogs::new(dir.path(), "job", settings(2048, 1000), 0);
        let mut expected = Vec::new();
        let mut carry = Vec::new();
        for n in 0..500 {
            let line = format!("line {n} {}\n", "x".repeat(n % 70));
            expected.extend_from_slice(line.as_bytes());
            logs.ingest(LogStream::Stdout, &mut carry, line.as_bytes());
        }
        let files = logs.files();
        assert!(
            files.len() > 10,
            "expected rotation, got {} files",
            files.len()
        );
        for file in &files {
            assert!(std::fs::metadata(file).unwrap().len() <= 2048);
        }
        assert_eq!(
            format::reassemble(&all_files(&logs), LogStream::Stdout),
            expected
        );

        let capped = JobLogs::new(dir.path(), "capped", settings(2048, 3), 0);
        for n in 0..500 {
            capped.ingest(
                LogStream::Stdout,
                &mut carry,
                format!("line {n}\n").as_bytes(),
            );
        }
        assert_eq!(capped.files().len(), 4, "one active and three rotated");
    }

    #[test]
    fn tail_reads_the_files_when_memory_does_not_hold_enough() {
        let dir = tempfile::tempdir().unwrap();
        // Every record of a two-digit line is 40 bytes: memory holds three.
        let logs = JobLogs::new(dir.path(), "job", settings(4096, 5), 120);
        let mut carry = Vec::new();
        for n in 10..100 {
            logs.ingest(LogStream::Stdout, &mut carry, format!("{n}\n").as_bytes());
        }
        assert_eq!(logs.lock().recent.len(), 120);
        let from_ring: Vec<String> = logs.tail(3, None).into_iter().map(|l| l.text).collect();
        assert_eq!(from_ring, vec!["97", "98", "99"]);
        let from_files: Vec<String> = logs.tail(50, None).into_iter().map(|l| l.text).collect();
        assert_eq!(
            from_files,
            (50..100).map(|n| n.to_string()).collect::<Vec<_>>()
        );
        // A fresh engine has an empty ring but the same files.
        let reopened = JobLogs::new(dir.path(), "job", settings(4096, 5), 120);
        assert_eq!(
            reopened
                .tail(2, None)
                .into_iter()
                .map(|l| l.text)
                .collect::<Vec<_>>(),
            vec!["98", "99"]
        );
    }

    #[test]
    fn a_tail_is_bounded_in_lines_and_in_bytes_read() {
        let dir = tempfile::tempdir().unwrap();
        // Records of two-digit lines are 40 bytes; memory holds three of them.
        let logs = JobLogs::new(dir.path(), "job", settings(4096, 5), 120);
        let mut carry = Vec::new();
        for n in 10..100 {
            logs.ingest(LogStream::Stdout, &mut carry, format!("{n}\n").as_bytes());
        }
        // Asking for every line there could be is asking for at most MAX_TAIL_LINES.
        assert_eq!(logs.tail(usize::MAX, None).len(), 90);
        // With room for about 10 records, the newest whole ones come back, none cut.
        let texts: Vec<String> = logs
            .lock()
            .tail_within(50, None, 410)
            .into_iter()
            .map(|l| l.text)
            .collect();
        assert_eq!(texts, (90..100).map(|n| n.to_string()).collect::<Vec<_>>());
    }

    proptest::proptest! {
        #[test]
        fn memory_holds_the_newest_whole_records(
            lines in proptest::collection::vec(0usize..300, 1..200),
            capacity in 1usize..2000,
            chunk in 1usize..50,
        ) {
            let dir = tempfile::tempdir().unwrap();
            let logs = JobLogs::new(dir.path(), "job", settings(1 << 20, 2), capacity);
            let mut carry = Vec::new();
            let text: Vec<u8> = lines.iter().enumerate()
                .flat_map(|(i, len)| std::iter::repeat_n(b'a' + (i % 26) as u8, *len).chain([b'\n']))
                .collect();
            for piece in text.chunks(chunk) {
                logs.ingest(LogStream::Stdout, &mut carry, piece);
            }
            let mut state = logs.lock();
            let written = std::fs::read(&state.active_path).unwrap();
            let recent: Vec<u8> = state.recent.make_contiguous().to_vec();
            proptest::prop_assert!(recent.len() <= capacity);
            proptest::prop_assert!(written.ends_with(&recent));
            let start = written.len() - recent.len();
            proptest::prop_assert!(start == 0 || written[start - 1] == b'\n', "memory starts mid-record");
        }
    }

    #[tokio::test]
    async fn followers_get_every_line_after_the_tail() {
        let dir = tempfile::tempdir().unwrap();
        let logs = JobLogs::new(dir.path(), "job", settings(1 << 20, 2), 100);
        let mut carry = Vec::new();
        logs.ingest(LogStream::Stdout, &mut carry, b"before\n");
        let (tail, mut live) = logs.follow(10, None);
        assert_eq!(tail.len(), 1);
        logs.ingest(LogStream::Stderr, &mut carry, b"after\n");
        let line = live.recv().await.unwrap();
        assert_eq!(
            (line.text.as_str(), line.stream),
            ("after", LogStream::Stderr)
        );
        drop(live);
        logs.ingest(LogStream::Stdout, &mut carry, b"nobody listens\n");
        assert!(logs.lock().followers.is_none());
    }
}
