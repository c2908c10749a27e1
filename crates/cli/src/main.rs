//! `sentinel`: drive a SentinelZero engine over its Unix socket, or run one headless.

mod args;
mod commands;
mod daemon;
mod error;
mod handoff;
mod kubernetes;
mod mcp;
mod migrate;
mod output;
mod project;
#[cfg(test)]
mod reference;
mod socket;
mod spec;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, Parser};
use sentinel_client::Client;

use crate::args::{Cli, Command};
use crate::error::CliError;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let socket = cli.socket.clone();
    let result = match cli.command {
        Command::Daemon => runtime(tokio::runtime::Builder::new_multi_thread())
            .and_then(|runtime| runtime.block_on(daemon::run(socket))),
        Command::Completions { shell } => {
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "sentinel",
                &mut std::io::stdout(),
            );
            Ok(())
        }
        command => runtime(tokio::runtime::Builder::new_current_thread())
            .and_then(|runtime| runtime.block_on(talk_to_engine(socket, command))),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // A partial failure has reported each job already.
            if !matches!(err, CliError::Partial(_)) {
                eprintln!("sentinel: {err}");
            }
            ExitCode::from(err.exit_code() as u8)
        }
    }
}

fn runtime(mut builder: tokio::runtime::Builder) -> Result<tokio::runtime::Runtime, CliError> {
    builder
        .enable_all()
        .build()
        .map_err(|err| CliError::Other(format!("cannot start the async runtime: {err}")))
}

async fn talk_to_engine(socket: Option<PathBuf>, command: Command) -> Result<(), CliError> {
    let client = Client::new(socket::socket_path(socket)?);
    commands::run(&client, command).await
}
