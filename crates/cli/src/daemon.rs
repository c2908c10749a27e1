//! `sentinel daemon`: the engine and its control server in the foreground, headless.

use std::io::IsTerminal;
use std::path::PathBuf;

use sentinel_engine::control::ControlServer;
use sentinel_engine::{EngineConfig, EngineHandle};
use tokio::signal::unix::{signal, SignalKind};

use crate::error::CliError;

pub async fn run(socket: Option<PathBuf>) -> Result<(), CliError> {
    let filter = tracing_subscriber::EnvFilter::try_from_env("SENTINEL_LOG")
        .unwrap_or_else(|_| "info".into());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();

    let mut config = EngineConfig::from_env().map_err(|err| CliError::Other(err.to_string()))?;
    if let Some(socket) = socket {
        config.paths.socket = socket;
    }
    let socket = config.paths.socket.clone();
    // Listen for signals before anything starts, so none is missed.
    let mut interrupt =
        signal(SignalKind::interrupt()).map_err(|err| CliError::Other(err.to_string()))?;
    let mut terminate =
        signal(SignalKind::terminate()).map_err(|err| CliError::Other(err.to_string()))?;
    // A closed terminal (or `systemctl kill -s HUP`) stops the jobs too, instead of killing the
    // daemon under them.
    let mut hangup =
        signal(SignalKind::hangup()).map_err(|err| CliError::Other(err.to_string()))?;

    let engine = EngineHandle::open(config)
        .await
        .map_err(|err| CliError::Other(err.to_string()))?;
    let server = match ControlServer::bind(engine.clone(), &socket).await {
        Ok(server) => server,
        Err(err) => {
            engine.shutdown().await;
            return Err(CliError::Other(err.to_string()));
        }
    };
    tracing::info!(
        socket = %socket.display(),
        data = %engine.paths().data_dir.display(),
        logs = %engine.paths().log_dir.display(),
        jobs = engine.list().len(),
        "SentinelZero engine running"
    );

    tokio::select! {
        _ = interrupt.recv() => tracing::info!("interrupted; stopping every job"),
        _ = terminate.recv() => tracing::info!("terminated; stopping every job"),
        _ = hangup.recv() => tracing::info!("hung up; stopping every job"),
    }
    server.stop().await;
    engine.shutdown().await;
    tracing::info!("stopped");
    Ok(())
}
