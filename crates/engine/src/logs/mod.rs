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
                // The whole story, so that every client shows the same words.
                let message = format!(
                    "cannot write {}: {err}; the newest {} of output is kept in memory and written once the file can be written again",
                    self.active_path.display(),
                    sentinel_proto::job::byte_size::format(MAX_BACKLOG as u64)
                );
                if self.last_error.borrow().as_deref() != Some(&message) {
                    tracing::error!("{message}");
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
mod tests;
