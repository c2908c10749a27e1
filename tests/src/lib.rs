//! Helpers for end-to-end tests: the real `sentinel` binary, a real daemon in a temporary
//! `SENTINEL_HOME`, and its API through the typed client (or any request, for tests of what
//! the API refuses).

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub use sentinel_client::{Client, ClientError};

mod sshd;
pub use sshd::Sshd;

/// Guards against hangs; not a performance claim.
pub const DEADLINE: Duration = Duration::from_secs(30);

/// The `sentinel` binary of this build (`cargo test --workspace` builds it).
pub fn sentinel_bin() -> PathBuf {
    if let Some(path) = std::env::var_os("SENTINEL_BIN") {
        return PathBuf::from(path);
    }
    // Test binaries live in target/<profile>/deps, other binaries in target/<profile>.
    let exe = std::env::current_exe().expect("the running binary's path");
    let candidates: Vec<PathBuf> = exe
        .ancestors()
        .filter(|dir| *dir != exe)
        .take(2)
        .map(|dir| dir.join("sentinel"))
        .collect();
    candidates
        .iter()
        .find(|bin| bin.exists())
        .cloned()
        .unwrap_or_else(|| {
            panic!(
                "{} is missing: build it with `cargo build -p sentinel-cli`",
                candidates[1].display()
            )
        })
}

/// Polls until `condition` holds; panics with `what` at the deadline.
pub fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + DEADLINE;
    let mut pause = Duration::from_millis(2);
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}

pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|err| panic!("not JSON ({err}): {}", self.stdout))
    }
}

/// A temporary home for one engine, and the CLI pointed at it.
pub struct Home {
    pub dir: tempfile::TempDir,
}

impl Default for Home {
    fn default() -> Self {
        Self::new()
    }
}

impl Home {
    pub fn new() -> Home {
        Home {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// The engine's home; it does not exist until the engine makes it.
    pub fn path(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    pub fn socket(&self) -> PathBuf {
        self.path().join("sentinel.sock")
    }

    /// The typed API client for this home's engine; run its calls with [`within_deadline`] or
    /// [`block_on`].
    pub fn client(&self) -> Client {
        Client::new(self.socket())
    }

    pub fn command(&self, args: &[&str]) -> Command {
        self.command_of(&sentinel_bin(), args)
    }

    /// `program ARGS…` pointed at this home, as [`Home::command`] runs `sentinel`.
    pub fn command_of(&self, program: &Path, args: &[&str]) -> Command {
        let mut command = Command::new(program);
        command
            .args(args)
            .env("SENTINEL_HOME", self.path())
            .env_remove("SENTINEL_SOCKET")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null());
        // Ctrl-C as a terminal delivers it: a test run started in the background, where the
        // shell ignores SIGINT and SIGQUIT for its children, would otherwise hand that on and a
        // followed stream would never end on the test's SIGINT.
        // SAFETY: sigaction is async-signal-safe and allocates nothing.
        unsafe {
            command.pre_exec(|| {
                use nix::sys::signal::{signal, SigHandler, Signal};
                for interrupt in [Signal::SIGINT, Signal::SIGQUIT] {
                    signal(interrupt, SigHandler::SigDfl).map_err(std::io::Error::from)?;
                }
                Ok(())
            });
        }
        command
    }

    /// Runs `sentinel ARGS…` to completion.
    pub fn run(&self, args: &[&str]) -> Output {
        let output = self.command(args).output().expect("sentinel runs");
        Output {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Runs a command that must succeed.
    pub fn ok(&self, args: &[&str]) -> Output {
        let output = self.run(args);
        assert_eq!(
            output.code, 0,
            "sentinel {args:?} failed: {}{}",
            output.stdout, output.stderr
        );
        output
    }

    /// Writes the engine's `settings.toml` (creating the home, private, as the engine would).
    pub fn write_settings(&self, toml: &str) {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(self.path())
            .unwrap();
        std::fs::write(self.path().join("settings.toml"), toml).unwrap();
    }

    /// Starts `sentinel daemon` and waits until it answers.
    pub fn daemon(&self) -> Daemon {
        self.daemon_with(|_| {})
    }

    /// Starts the daemon with changes to its command (environment), and waits until it
    /// answers. Without a `settings.toml` of the test's own, desktop notifications are off, so
    /// tests never pop up notifications on a developer's desktop.
    pub fn daemon_with(&self, adjust: impl FnOnce(&mut Command)) -> Daemon {
        let mut command = self.command(&["daemon"]);
        adjust(&mut command);
        self.daemon_from(command)
    }

    /// Starts a daemon with this command (made by [`Home::command_of`]) and waits until it
    /// answers.
    pub fn daemon_from(&self, mut command: Command) -> Daemon {
        if !self.path().join("settings.toml").exists() {
            self.write_settings("[notifications]\nenabled = false\n");
        }
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join("daemon.log"))
            .unwrap();
        let child = command
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("the daemon starts");
        let mut daemon = Daemon { child };
        let client = self.client();
        let log = self.dir.path().join("daemon.log");
        wait_until("the daemon to answer", || {
            if let Ok(Some(status)) = daemon.child.try_wait() {
                panic!(
                    "the daemon exited ({status}) before answering: {}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
            }
            within_deadline(client.ready()).is_ok()
        });
        daemon
    }
}

/// A running daemon; stopped with SIGTERM when dropped.
pub struct Daemon {
    pub child: Child,
}

impl Daemon {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGTERM, then waits for a clean exit; returns the exit code.
    pub fn stop(mut self) -> i32 {
        self.terminate()
    }

    fn terminate(&mut self) -> i32 {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        let deadline = Instant::now() + DEADLINE;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.code().unwrap_or(-1);
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!("the daemon did not stop on SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Kills the daemon with SIGKILL, as a crash would.
    pub fn crash(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        std::mem::forget(self);
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.terminate();
        }
    }
}

pub struct Response {
    pub status: u16,
    pub body: String,
}

impl Response {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|err| panic!("not JSON ({err}): {}", self.body))
    }
}

/// Runs a client call (or any future) to completion on this thread; without a deadline, for
/// calls that may take long (see [`within_deadline`]).
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    thread_local! {
        // One runtime per thread: tests call from many threads at once, never nested.
        static RUNTIME: tokio::runtime::Runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime");
    }
    RUNTIME.with(|runtime| runtime.block_on(future))
}

/// Runs a client call to completion on this thread; no answer within [`DEADLINE`] is an error.
pub fn within_deadline<T>(
    call: impl std::future::Future<Output = Result<T, ClientError>>,
) -> Result<T, ClientError> {
    block_on(async {
        tokio::time::timeout(DEADLINE, call)
            .await
            .unwrap_or_else(|_| {
                Err(ClientError::Transport {
                    context: "no answer within the deadline",
                    source: Box::new(std::io::Error::from(std::io::ErrorKind::TimedOut)),
                })
            })
    })
}

/// Any request, answered whatever its status: for what no typed call would send (a malformed
/// body, a method a route does not take, a path that is not one).
pub fn request(
    socket: &Path,
    method: &str,
    path: &str,
    body: Option<&[u8]>,
) -> Result<Response, ClientError> {
    let answer = within_deadline(Client::new(socket).request(method, path, body))?;
    Ok(Response {
        status: answer.status,
        body: answer.body,
    })
}

/// Bytes that are not HTTP at all, sent as they are; the answer as far as it can be read
/// (status 0 when there is none).
pub fn raw_request(socket: &Path, raw: &[u8]) -> std::io::Result<Response> {
    let mut stream = UnixStream::connect(socket)?;
    stream.set_read_timeout(Some(DEADLINE))?;
    // A server may answer (413) and close before taking the whole body: read the answer anyway.
    if let Err(err) = stream.write_all(raw) {
        if err.kind() != std::io::ErrorKind::BrokenPipe
            && err.kind() != std::io::ErrorKind::ConnectionReset
        {
            return Err(err);
        }
    }
    let mut reply = Vec::new();
    // A server that closes without reading all we sent resets the connection after its answer.
    if let Err(err) = stream.read_to_end(&mut reply) {
        if reply.is_empty() || err.kind() != std::io::ErrorKind::ConnectionReset {
            return Err(err);
        }
    }
    let text = String::from_utf8_lossy(&reply).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(body)
    } else {
        body.to_string()
    };
    Ok(Response { status, body })
}

/// The body of a chunked HTTP/1.1 response.
pub fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let Ok(size) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if size == 0 || rest.len() < size {
            break;
        }
        out.push_str(&rest[..size]);
        body = rest[size..].trim_start_matches("\r\n");
    }
    out
}

/// Lines a child prints, readable with a deadline.
pub struct Lines {
    receiver: mpsc::Receiver<String>,
}

impl Lines {
    pub fn of(child: &mut Child) -> Lines {
        let stdout = child.stdout.take().expect("stdout is piped");
        let (sender, receiver) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        Lines { receiver }
    }

    /// The next line, or a panic at the deadline.
    pub fn next(&self) -> String {
        self.receiver
            .recv_timeout(DEADLINE)
            .expect("a line within the deadline")
    }

    /// The next line if one comes within `wait`.
    pub fn next_within(&self, wait: Duration) -> Option<String> {
        self.receiver.recv_timeout(wait).ok()
    }

    /// Reads lines until one matches, and returns it.
    pub fn until(&self, what: &str, mut matches: impl FnMut(&str) -> bool) -> String {
        let deadline = Instant::now() + DEADLINE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.receiver.recv_timeout(left) {
                Ok(line) if matches(&line) => return line,
                Ok(_) => continue,
                Err(_) => panic!("no line with {what} within {DEADLINE:?}"),
            }
        }
    }
}

/// A TCP port nobody listens on right now, chosen below the ephemeral ranges (Linux
/// 32768–60999, macOS 49152–65535): a port the system may hand to any outgoing connection could
/// be taken between this call and the bind of whoever is to listen on it.
pub fn free_port() -> u16 {
    use std::hash::{BuildHasher, Hasher};
    loop {
        // A fresh RandomState is a fresh random number, without a dependency for it.
        let random = std::collections::hash_map::RandomState::new()
            .build_hasher()
            .finish();
        let port = 20_000 + (random % 12_000) as u16;
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// Whether a live (not zombie) process is in the group. Orphans of a killed daemon may be
/// re-parented to an init that never reaps them: a zombie is dead all the same.
pub fn group_alive(pgid: u32) -> bool {
    sentinel_engine::process::group_exists(pgid)
}

/// The pid of a running job, from `sentinel status --json`.
pub fn pid_of(home: &Home, job: &str) -> Option<u32> {
    let detail = home.ok(&["status", job, "--json"]).json();
    detail["status"]["pid"].as_u64().map(|p| p as u32)
}

/// Opens a FIFO for writing once a reader has it open; never blocks past the deadline.
/// Keep it open while the reader needs it: closing it is end-of-file for the reader.
pub fn fifo_writer(path: &Path) -> std::fs::File {
    use std::os::unix::fs::OpenOptionsExt;
    let mut opened = None;
    wait_until("a reader on the FIFO", || {
        // Without a reader, a non-blocking open fails (ENXIO) instead of waiting.
        opened = std::fs::OpenOptions::new()
            .write(true)
            .custom_flags(nix::libc::O_NONBLOCK)
            .open(path)
            .ok();
        opened.is_some()
    });
    opened.unwrap()
}

/// A private X server for tests that need a display. Xvfb picks a free display number itself
/// (`-displayfd`), so stale sockets of earlier servers never collide; it is stopped with TERM
/// (which removes its socket and lock) when dropped.
pub struct Xvfb {
    child: Child,
    pub display: u32,
}

impl Xvfb {
    pub fn start() -> Xvfb {
        let mut child = Command::new("Xvfb")
            .args([
                "-displayfd",
                "1",
                "-screen",
                "0",
                "1280x800x24",
                "-nolisten",
                "tcp",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("Xvfb (scripts/setup.sh installs it)");
        let line = first_line(&mut child);
        let display = line
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("Xvfb did not say its display: {line:?}"));
        Xvfb { child, display }
    }

    /// The value for `DISPLAY`.
    pub fn name(&self) -> String {
        format!(":{}", self.display)
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        end_within_seconds(&mut self.child, pid, 5);
    }
}

/// The first line a server started with a piped stdout writes: where it says it is ready.
fn first_line(child: &mut Child) -> String {
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    line
}

/// Waits up to `seconds` for `child` to end after a TERM, then sends KILL to `kill` (the
/// child, or its group as a negative pid) and reaps it.
fn end_within_seconds(child: &mut Child, kill: nix::unistd::Pid, seconds: u64) {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = nix::sys::signal::kill(kill, nix::sys::signal::Signal::SIGKILL);
    let _ = child.wait();
}

/// A private D-Bus session bus, for the app and a notification daemon under Xvfb: its socket
/// in a directory of its own, ready once it says its address, and stopped with what it
/// activated (a group of its own) when dropped.
pub struct SessionBus {
    child: Child,
    address: String,
    _dir: tempfile::TempDir,
}

impl SessionBus {
    pub fn start() -> SessionBus {
        let dir = tempfile::tempdir().unwrap();
        let address = format!("unix:path={}", dir.path().join("bus").display());
        let mut child = Command::new("dbus-daemon")
            .args(["--session", "--nofork", "--nopidfile", "--print-address=1"])
            .arg(format!("--address={address}"))
            .process_group(0)
            .stdout(Stdio::piped())
            .spawn()
            .expect("dbus-daemon (scripts/setup.sh installs it)");
        let line = first_line(&mut child);
        assert!(
            line.starts_with(&address),
            "dbus-daemon did not say its address: {line:?}"
        );
        SessionBus {
            child,
            address,
            _dir: dir,
        }
    }

    /// The value for `DBUS_SESSION_BUS_ADDRESS`.
    pub fn address(&self) -> &str {
        &self.address
    }
}

impl Drop for SessionBus {
    fn drop(&mut self) {
        let group = nix::unistd::Pid::from_raw(-(self.child.id() as i32));
        let _ = nix::sys::signal::kill(group, nix::sys::signal::Signal::SIGTERM);
        end_within_seconds(&mut self.child, group, 5);
    }
}
