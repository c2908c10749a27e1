//! A connection to an engine on another machine: the system `ssh` runs `sentinel dial-stdio`
//! there, and the API's HTTP travels over the session's stdin and stdout, as Docker's
//! `ssh://` hosts do. SSH does the login, the host-key check and the encryption, with the
//! user's own config and agent; nothing here stores a secret.
//!
//! One `ssh` per connection, as one connection per request is the API's rule. When a
//! connection fails before the engine answers, `ssh`'s exit status and what it wrote on stderr
//! say why, and [`RemoteProblem`] says it in words with what to do.

use std::io;
use std::pin::Pin;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use sentinel_proto::remote::{SshHost, DIAL_NO_ENGINE, DIAL_PERMISSION_DENIED};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, ReadBuf};
use tokio::process::{ChildStdin, ChildStdout, Command};
use tokio::sync::{oneshot, watch};

/// How `ssh` is run, from `SENTINEL_SSH_COMMAND` (`ssh -F ~/.ssh/work_config`), split into
/// words like `GIT_SSH_COMMAND`, without running a shell.
pub const SSH_COMMAND_ENV: &str = "SENTINEL_SSH_COMMAND";
/// How long `ssh` may take to reach the machine; `ssh` itself would wait for TCP's own
/// timeout, minutes on a host that drops packets.
const CONNECT_TIMEOUT_SECS: u32 = 15;
/// The most of `ssh`'s stderr kept for an error: its last lines say why.
const STDERR_KEPT: usize = 4096;
/// How long `ssh` has to end on its own once its connection is dropped; the remote
/// `dial-stdio` gives an answer 2 s after the request side closes.
const HANG_UP_GRACE: Duration = Duration::from_secs(3);
/// How long a failed connection's `ssh` is given to exit, so its status can be read.
const EXIT_WAIT: Duration = Duration::from_secs(10);

/// An engine reached over SSH.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshEndpoint {
    pub host: SshHost,
    /// The remote command that runs `sentinel` (a context's `sentinel`, else `sentinel`).
    pub remote_sentinel: String,
    /// The `ssh` program and the arguments given before ours.
    pub ssh: Vec<String>,
    /// Never ask for a password or passphrase (the app: nobody is at a terminal to answer).
    pub batch: bool,
}

impl SshEndpoint {
    pub fn new(host: SshHost, remote_sentinel: impl Into<String>) -> SshEndpoint {
        SshEndpoint {
            host,
            remote_sentinel: remote_sentinel.into(),
            ssh: ssh_command_from_env(),
            batch: false,
        }
    }

    /// The whole command line: `ssh [theirs] -T -o … [-p port] -- [user@]host sentinel dial-stdio`.
    /// The host is after `--`, so no name can be read as an option.
    pub fn argv(&self) -> Vec<String> {
        let mut argv = self.ssh.clone();
        argv.extend(["-T".into(), "-o".into()]);
        argv.push(format!("ConnectTimeout={CONNECT_TIMEOUT_SECS}"));
        if self.batch {
            argv.extend(["-o".into(), "BatchMode=yes".into()]);
        }
        if let Some(port) = self.host.port {
            argv.extend(["-p".into(), port.to_string()]);
        }
        argv.push("--".into());
        argv.push(self.host.destination());
        argv.push(self.remote_sentinel.clone());
        argv.push("dial-stdio".into());
        argv
    }
}

/// `SENTINEL_SSH_COMMAND` split into words as a shell would (quotes kept together), or `ssh`.
pub fn ssh_command_from_env() -> Vec<String> {
    ssh_command(&std::env::var(SSH_COMMAND_ENV).unwrap_or_default())
}

fn ssh_command(text: &str) -> Vec<String> {
    match shlex::split(text) {
        Some(words) if !words.is_empty() => words,
        Some(_) => vec!["ssh".into()],
        // Unbalanced quotes: the plain words, so the error is ssh's and names what it got.
        None => text.split_whitespace().map(str::to_string).collect(),
    }
}

/// Why a remote engine could not be reached, typed so the app can tell "unreachable" from
/// "install sentinel there".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RemoteProblem {
    /// `ssh` itself could not be run here.
    #[error(
        "cannot run {program}: {reason}; install OpenSSH's client, or set SENTINEL_SSH_COMMAND"
    )]
    NoSsh { program: String, reason: String },
    /// `ssh` failed: the machine is unreachable, refused the login, or its host key is not the
    /// one known (exit status 255). `message` is what ssh said.
    #[error("{message}")]
    Ssh { message: String },
    /// The remote shell found no such command.
    #[error("{command:?} is not installed on the remote machine (or not on the PATH of a non-interactive ssh session there): install SentinelZero {version} or later there, or give its path with `sentinel context add … --sentinel /path/to/sentinel`")]
    NotInstalled { command: String, version: String },
    /// The remote `sentinel` is one without `dial-stdio`.
    #[error("the sentinel on the remote machine is too old for remote use (it has no `dial-stdio`): install SentinelZero {version} or later there")]
    TooOld { version: String },
    /// The remote `sentinel` ran, and no engine listens there.
    #[error("{message}")]
    NoEngine { message: String },
    #[error("{message}")]
    PermissionDenied { message: String },
    /// Anything else: the exit status and the last of stderr.
    #[error("the remote command failed ({status}){}", if .message.is_empty() { String::new() } else { format!(": {}", .message) })]
    Failed { status: String, message: String },
}

impl RemoteProblem {
    /// The remote engine could not be reached at all (as against: reached, and refused).
    pub fn is_unreachable(&self) -> bool {
        matches!(
            self,
            RemoteProblem::Ssh { .. } | RemoteProblem::NoSsh { .. }
        )
    }
}

/// What became of a connection's `ssh`: its exit code (`None` for a signal), and the tail of
/// its stderr.
#[derive(Debug, Default)]
struct Outcome {
    code: Option<Option<i32>>,
    stderr: Vec<u8>,
}

/// The parts of one `ssh` a failed connection reads to say why.
pub(crate) struct Diagnosis {
    exit: watch::Receiver<Option<Option<i32>>>,
    stderr: Arc<Mutex<Vec<u8>>>,
}

impl Diagnosis {
    /// Waits (a bounded while) for `ssh` to exit, then names the problem; `None` when it had
    /// nothing to say (it still runs, or it exited 0 and the HTTP broke for another reason).
    pub(crate) async fn problem(mut self) -> Option<RemoteProblem> {
        let code = tokio::time::timeout(EXIT_WAIT, self.exit.wait_for(Option::is_some))
            .await
            .ok()?
            .ok()?
            .unwrap_or(None);
        let outcome = Outcome {
            code: Some(code),
            stderr: self.stderr.lock().map(|s| s.clone()).unwrap_or_default(),
        };
        classify(&outcome)
    }
}

fn classify(outcome: &Outcome) -> Option<RemoteProblem> {
    let code = outcome.code?;
    let stderr = String::from_utf8_lossy(&outcome.stderr);
    let message = last_lines(&stderr);
    let version = env!("CARGO_PKG_VERSION").to_string();
    Some(match code {
        Some(0) => return None,
        Some(255) => RemoteProblem::Ssh {
            message: if message.is_empty() {
                "ssh failed (exit status 255) without saying why".into()
            } else {
                message
            },
        },
        Some(127) => RemoteProblem::NotInstalled {
            command: command_not_found(&stderr).unwrap_or_else(|| "sentinel".into()),
            version,
        },
        Some(2) if stderr.contains("dial-stdio") => RemoteProblem::TooOld { version },
        Some(DIAL_NO_ENGINE) => RemoteProblem::NoEngine { message },
        Some(DIAL_PERMISSION_DENIED) => RemoteProblem::PermissionDenied { message },
        Some(code) => RemoteProblem::Failed {
            status: format!("exit status {code}"),
            message,
        },
        None => RemoteProblem::Failed {
            status: "killed by a signal".into(),
            message,
        },
    })
}

/// The command a shell reported missing: `bash: sentinel: command not found`, `sh: 1: x: not
/// found`, `zsh:1: command not found: x`.
fn command_not_found(stderr: &str) -> Option<String> {
    stderr.lines().rev().find_map(|line| {
        if let Some(rest) = line.split("command not found: ").nth(1) {
            return Some(rest.trim().to_string());
        }
        let line = line
            .strip_suffix(": command not found")
            .or_else(|| line.strip_suffix(": not found"))?;
        line.rsplit(": ").next().map(|word| word.trim().to_string())
    })
}

/// The last few non-empty lines of what ssh said, joined: its own errors are one or two lines
/// after any banner.
fn last_lines(stderr: &str) -> String {
    let lines: Vec<&str> = stderr
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect();
    lines[lines.len().saturating_sub(3)..].join("; ")
}

/// One connection: `ssh`'s stdout to read the engine's answer, its stdin to write the request.
/// Dropping it ends the `ssh`.
pub(crate) struct SshStream {
    stdout: ChildStdout,
    stdin: Option<ChildStdin>,
    _hang_up: oneshot::Sender<()>,
}

/// Starts `ssh` for one connection.
pub(crate) fn connect(endpoint: &SshEndpoint) -> Result<(SshStream, Diagnosis), RemoteProblem> {
    let argv = endpoint.argv();
    let mut command = Command::new(&argv[0]);
    command
        .args(&argv[1..])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().map_err(|err| RemoteProblem::NoSsh {
        program: argv[0].clone(),
        reason: err.to_string(),
    })?;
    let (stdin, stdout, stderr) =
        match (child.stdin.take(), child.stdout.take(), child.stderr.take()) {
            (Some(stdin), Some(stdout), Some(stderr)) => (stdin, stdout, stderr),
            _ => {
                return Err(RemoteProblem::NoSsh {
                    program: argv[0].clone(),
                    reason: "its pipes were not opened".into(),
                })
            }
        };
    let kept = Arc::new(Mutex::new(Vec::new()));
    tokio::spawn(keep_tail(stderr, kept.clone()));
    let (exit_tx, exit_rx) = watch::channel(None);
    let (hang_up, hung_up) = oneshot::channel::<()>();
    // This task alone owns the child: it reaps it when it exits, and ends it when the
    // connection is dropped, so no `ssh` outlives its connection or lingers as a zombie.
    tokio::spawn(async move {
        let status = tokio::select! {
            status = child.wait() => status,
            _ = hung_up => {
                // The dropped stream closed ssh's stdin, which ends the remote session: give
                // it the time to, so its exit status is its own and not our kill's.
                match tokio::time::timeout(HANG_UP_GRACE, child.wait()).await {
                    Ok(status) => status,
                    Err(_) => {
                        let _ = child.start_kill();
                        child.wait().await
                    }
                }
            }
        };
        let _ = exit_tx.send(Some(status.ok().and_then(|s| s.code())));
    });
    Ok((
        SshStream {
            stdout,
            stdin: Some(stdin),
            _hang_up: hang_up,
        },
        Diagnosis {
            exit: exit_rx,
            stderr: kept,
        },
    ))
}

/// Reads stderr to its end, keeping the last [`STDERR_KEPT`] bytes.
async fn keep_tail(mut stderr: tokio::process::ChildStderr, kept: Arc<Mutex<Vec<u8>>>) {
    let mut buf = [0u8; 1024];
    while let Ok(n) = stderr.read(&mut buf).await {
        if n == 0 {
            break;
        }
        let Ok(mut kept) = kept.lock() else { return };
        kept.extend_from_slice(&buf[..n]);
        let excess = kept.len().saturating_sub(STDERR_KEPT);
        kept.drain(..excess);
    }
}

impl AsyncRead for SshStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stdout).poll_read(cx, buf)
    }
}

impl AsyncWrite for SshStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut().stdin.as_mut() {
            Some(stdin) => Pin::new(stdin).poll_write(cx, buf),
            None => Poll::Ready(Err(io::ErrorKind::BrokenPipe.into())),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut().stdin.as_mut() {
            Some(stdin) => Pin::new(stdin).poll_flush(cx),
            None => Poll::Ready(Ok(())),
        }
    }

    /// Closing stdin is the remote `dial-stdio`'s end of the request.
    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().stdin = None;
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests;
