//! `sentinel daemon`: the engine and its control server in the foreground, headless.
//!
//! Shared by both binaries: `sentineld` (the lean daemon, `sentineld.rs`) is this module and
//! nothing else of the CLI, and `sentinel daemon` hands over to it when it sits beside the
//! `sentinel` executable ([`hand_over`]), or runs this same code in-process when it does not.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use sentinel_engine::control::ControlServer;
use sentinel_engine::{EngineConfig, EngineHandle};
use tokio::signal::unix::{signal, SignalKind};

#[cfg(target_os = "linux")]
mod pages;

/// The lean daemon's file name, looked for beside the `sentinel` executable.
#[allow(dead_code)] // only `sentinel` hands over
pub const LEAN_DAEMON: &str = "sentineld";

/// Replaces this process with the lean daemon beside the running executable: same pid, same
/// environment, so systemd, launchd and whoever started us keep signalling the daemon. Returns
/// only when there is no lean daemon there or it cannot be run; the caller then runs the daemon
/// in-process.
#[allow(dead_code)] // only `sentinel` hands over
pub fn hand_over(socket: Option<&Path>) {
    use std::os::unix::process::CommandExt;
    let Some(lean) = std::env::current_exe()
        .ok()
        .map(|exe| exe.with_file_name(LEAN_DAEMON))
        .filter(|lean| lean.is_file())
    else {
        return;
    };
    let mut command = std::process::Command::new(&lean);
    // `--socket` may have come from the command line, which the lean daemon does not see.
    if let Some(socket) = socket {
        command.arg("--socket").arg(socket);
    }
    let err = command.exec();
    eprintln!(
        "sentinel: cannot run {} ({err}); running the daemon in this process",
        lean.display()
    );
}

/// The whole daemon: its runtime, the engine until a signal, and the exit status.
pub fn main(socket: Option<PathBuf>) -> ExitCode {
    sentinel_engine::heap::limit_arenas();
    let result = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|err| format!("cannot start the async runtime: {err}"))
        .and_then(|runtime| runtime.block_on(run(socket)));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("sentinel: {err}");
            ExitCode::FAILURE
        }
    }
}

async fn run(socket: Option<PathBuf>) -> Result<(), String> {
    let filter = tracing_subscriber::EnvFilter::try_from_env("SENTINEL_LOG")
        .unwrap_or_else(|_| "info".into());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();

    let mut config = EngineConfig::from_env().map_err(|err| err.to_string())?;
    if let Some(socket) = socket {
        config.paths.socket = socket;
    }
    let socket = config.paths.socket.clone();
    // Listen for signals before anything starts, so none is missed.
    let mut interrupt = signal(SignalKind::interrupt()).map_err(|err| err.to_string())?;
    let mut terminate = signal(SignalKind::terminate()).map_err(|err| err.to_string())?;
    // A closed terminal (or `systemctl kill -s HUP`) stops the jobs too, instead of killing the
    // daemon under them.
    let mut hangup = signal(SignalKind::hangup()).map_err(|err| err.to_string())?;

    let engine = EngineHandle::open(config)
        .await
        .map_err(|err| err.to_string())?;
    let server = match ControlServer::bind(engine.clone(), &socket).await {
        Ok(server) => server,
        Err(err) => {
            engine.shutdown().await;
            return Err(err.to_string());
        }
    };
    tracing::info!(
        socket = %socket.display(),
        data = %engine.paths().data_dir.display(),
        logs = %engine.paths().log_dir.display(),
        jobs = engine.list().len(),
        "SentinelZero engine running"
    );

    let resting = tokio::spawn(rest());

    tokio::select! {
        _ = interrupt.recv() => tracing::info!("interrupted; stopping every job"),
        _ = terminate.recv() => tracing::info!("terminated; stopping every job"),
        _ = hangup.recv() => tracing::info!("hung up; stopping every job"),
    }
    resting.abort();
    server.stop().await;
    engine.shutdown().await;
    tracing::info!("stopped");
    Ok(())
}
/// How often the daemon gives back what it no longer uses; each look takes microseconds.
#[cfg(target_os = "linux")]
const REST_TICK: std::time::Duration = std::time::Duration::from_secs(10);

/// Gives back, now and then, the heap that was freed and the pages of the executable and the C
/// libraries that a burst of work touched.
#[cfg(target_os = "linux")]
async fn rest() {
    let mut every = tokio::time::interval(REST_TICK);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut pager = pages::Pager::default();
    loop {
        every.tick().await;
        sentinel_engine::heap::trim();
        if pages::resident_file_pages().is_some_and(|resident| pager.tick(resident)) {
            pages::give_back();
        }
    }
}

/// Other systems keep their own counts.
#[cfg(not(target_os = "linux"))]
async fn rest() {
    std::future::pending::<()>().await
}
