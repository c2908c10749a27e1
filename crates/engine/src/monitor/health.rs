//! Health checks: while a run is alive, a task probes it every interval (a command, an HTTP
//! GET or a TCP connect) and reports when its verdict changes; a `log` check instead reads the
//! run's output until a line matches.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::PathBuf;

use bytes::Bytes;
use http_body_util::Empty;
use hyper_util::rt::TokioIo;
use nix::sys::signal::{killpg, Signal};
use sentinel_proto::monitor::{HealthCheck, Probe};
use sentinel_proto::HealthState;
use tokio::net::TcpStream;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::later::Later;

/// A change of verdict for the run led by `pid`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct HealthReport {
    pub pid: u32,
    pub health: HealthState,
    pub detail: Option<String>,
}

/// Where an `exec` probe runs: like the job itself.
pub(crate) struct ProbeEnv {
    pub cwd: Option<PathBuf>,
    pub env: BTreeMap<String, String>,
    pub search_path: OsString,
    /// This engine's home, as every child carries it: a probe left by a killed engine is
    /// found and stopped by the next one.
    pub engine_marker: OsString,
}

/// The output of the run being checked, for a `log` check: lines at or after `since` are its.
pub(crate) struct RunOutput {
    pub logs: std::sync::Arc<crate::logs::JobLogs>,
    pub since: chrono::DateTime<chrono::Utc>,
}

/// Lines already printed when a `log` check starts that it still reads (a check restarted by
/// an edit finds a ready line the run printed just before).
const RECENT_LINES: usize = 256;

/// The checking task of one run; dropping it stops the checks.
pub(crate) struct HealthTask(JoinHandle<()>);

impl Drop for HealthTask {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Starts checking the run led by `pid`; `report` hears each change of verdict.
pub(crate) fn spawn_health_check(
    check: HealthCheck,
    probe_env: ProbeEnv,
    output: RunOutput,
    pid: u32,
    report: impl Fn(HealthReport) + Send + 'static,
) -> Option<HealthTask> {
    let probe = check.probe().ok()?;
    if let Probe::Log(pattern) = &probe {
        let pattern = sentinel_proto::monitor::log_pattern(pattern).ok()?;
        return Some(HealthTask(tokio::spawn(wait_for_line(
            check, pattern, output, pid, report,
        ))));
    }
    Some(HealthTask(tokio::spawn(async move {
        let started = Instant::now();
        let mut in_start_period = !check.start_period.is_zero();
        let mut failures = 0u32;
        let mut verdict = HealthState::Unknown;
        let mut ticks =
            tokio::time::interval_at(Instant::now().later(check.interval), check.interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let result =
                match tokio::time::timeout(check.timeout, run_probe(&probe, &probe_env)).await {
                    Ok(result) => result,
                    Err(_) => Err(format!(
                        "no answer within {}",
                        sentinel_proto::duration::format(check.timeout)
                    )),
                };
            match result {
                Ok(detail) => {
                    failures = 0;
                    in_start_period = false;
                    if verdict != HealthState::Healthy {
                        verdict = HealthState::Healthy;
                        report(HealthReport {
                            pid,
                            health: verdict,
                            detail: Some(detail),
                        });
                    }
                }
                Err(detail) => {
                    if in_start_period && started.elapsed() < check.start_period {
                        continue;
                    }
                    in_start_period = false;
                    failures += 1;
                    if failures >= check.retries && verdict != HealthState::Unhealthy {
                        verdict = HealthState::Unhealthy;
                        report(HealthReport {
                            pid,
                            health: verdict,
                            detail: Some(format!(
                                "{detail} ({failures} failed check{} in a row)",
                                if failures == 1 { "" } else { "s" }
                            )),
                        });
                    }
                }
            }
        }
    })))
}

/// A `log` check: healthy at the first line of this run that matches, unhealthy if none did
/// by the deadline (and healthy still if one matches later, when the job was not restarted).
async fn wait_for_line(
    check: HealthCheck,
    pattern: regex::Regex,
    output: RunOutput,
    pid: u32,
    report: impl Fn(HealthReport),
) {
    use tokio::sync::broadcast::error::RecvError;
    let healthy = |line: &sentinel_proto::LogLine| HealthReport {
        pid,
        health: HealthState::Healthy,
        detail: Some(format!("printed {:?}", clip(&line.text))),
    };
    let (recent, mut lines) = output.logs.follow(RECENT_LINES, None);
    let ours =
        |line: &sentinel_proto::LogLine| line.ts >= output.since && pattern.is_match(&line.text);
    if let Some(line) = recent.iter().find(|line| ours(line)) {
        report(healthy(line));
        return;
    }
    let deadline = tokio::time::sleep(check.log_deadline());
    tokio::pin!(deadline);
    let mut overdue = false;
    loop {
        tokio::select! {
            () = &mut deadline, if !overdue => {
                overdue = true;
                report(HealthReport {
                    pid,
                    health: HealthState::Unhealthy,
                    detail: Some(format!(
                        "no line matched {:?} within {}",
                        pattern.as_str(),
                        sentinel_proto::duration::format(check.log_deadline())
                    )),
                });
            }
            line = lines.recv() => match line {
                Ok(line) if ours(&line) => {
                    report(healthy(&line));
                    return;
                }
                Ok(_) | Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => return,
            },
        }
    }
}

/// A line as a health detail: its first 200 characters.
fn clip(text: &str) -> String {
    match text.char_indices().nth(200) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_string(),
    }
}

/// One probe: what it saw when healthy, or why not.
async fn run_probe(probe: &Probe, env: &ProbeEnv) -> Result<String, String> {
    match probe {
        Probe::Exec(command) => exec_probe(command, env).await,
        Probe::Http { url } => http_probe(url).await,
        Probe::Tcp(address) => TcpStream::connect(address.as_str())
            .await
            .map(|_| format!("{address} accepts connections"))
            .map_err(|err| format!("cannot connect to {address}: {err}")),
        Probe::Log(_) => Err("a log check reads the output; it is not probed".into()),
    }
}

/// Kills the probe's whole group if the probe is abandoned (timeout, run ended).
struct GroupGuard(Option<u32>);

impl Drop for GroupGuard {
    fn drop(&mut self) {
        if let Some(pgid) = self.0 {
            let _ = killpg(nix::unistd::Pid::from_raw(pgid as i32), Signal::SIGKILL);
        }
    }
}

async fn exec_probe(command: &str, env: &ProbeEnv) -> Result<String, String> {
    let argv = sentinel_proto::validate::command_argv(command, false)?;
    let mut cmd = tokio::process::Command::new(&argv[0]);
    cmd.args(&argv[1..])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    if !env.env.contains_key("PATH") {
        cmd.env("PATH", &env.search_path);
    }
    cmd.env_remove(crate::process::env::LAUNCHD_JOB_VAR);
    cmd.envs(&env.env);
    cmd.env(crate::process::marker::ENGINE_ENV, &env.engine_marker);
    if let Some(cwd) = &env.cwd {
        cmd.current_dir(cwd);
    }
    let child = cmd
        .spawn()
        .map_err(|err| format!("cannot run {:?}: {err}", argv[0]))?;
    let mut guard = GroupGuard(child.id());
    let output = child
        .wait_with_output()
        .await
        .map_err(|err| format!("cannot wait for {:?}: {err}", argv[0]))?;
    guard.0 = None;
    let said = first_line(&output.stdout)
        .or_else(|| first_line(&output.stderr))
        .map(|line| format!(": {line}"))
        .unwrap_or_default();
    if output.status.success() {
        Ok(format!("{} exited 0{said}", argv[0]))
    } else {
        let how = match (
            output.status.code(),
            std::os::unix::process::ExitStatusExt::signal(&output.status),
        ) {
            (Some(code), _) => format!("exit code {code}"),
            (None, Some(signal)) => format!("signal {signal}"),
            _ => "an unknown status".into(),
        };
        Err(format!("{} ended with {how}{said}", argv[0]))
    }
}

fn first_line(bytes: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(bytes);
    let line = text.lines().map(str::trim).find(|l| !l.is_empty())?;
    Some(line.chars().take(200).collect())
}

/// A plain HTTP/1.1 GET; 2xx and 3xx are healthy.
async fn http_probe(url: &str) -> Result<String, String> {
    let rest = url.strip_prefix("http://").unwrap_or(url);
    let split = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..split];
    let path = match &rest[split..] {
        "" => "/",
        path => path.split('#').next().unwrap_or("/"),
    };
    let address = if authority
        .rsplit_once(':')
        .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
    {
        authority.to_string()
    } else {
        format!("{authority}:80")
    };
    let stream = TcpStream::connect(&address)
        .await
        .map_err(|err| format!("cannot connect to {address}: {err}"))?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|err| format!("HTTP handshake with {address} failed: {err}"))?;
    let driver = tokio::spawn(connection);
    let request = hyper::Request::get(path)
        .header(hyper::header::HOST, authority)
        .header(hyper::header::USER_AGENT, "SentinelZero health check")
        .body(Empty::<Bytes>::new())
        .map_err(|err| format!("{url:?} is not a valid request: {err}"))?;
    let answer = sender.send_request(request).await;
    driver.abort();
    let response = answer.map_err(|err| format!("GET {url} failed: {err}"))?;
    let status = response.status();
    if status.is_success() || status.is_redirection() {
        Ok(format!("GET {url}: HTTP {}", status.as_u16()))
    } else {
        Err(format!("GET {url}: HTTP {}", status.as_u16()))
    }
}
