//! `sentinel`: drive a SentinelZero engine over its Unix socket, or run one headless.

mod args;
mod commands;
mod context;
mod daemon;
mod dial;
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
use sentinel_client::{contexts, Client};

use crate::args::{Cli, Command};
use crate::error::CliError;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let engine = EngineChoice {
        socket: cli.socket,
        host: cli.host,
        context: cli.context,
    };
    let result = match cli.command {
        Command::Daemon => match engine.local_only("daemon") {
            Ok(socket) => {
                daemon::hand_over(socket.as_deref());
                return daemon::main(socket);
            }
            Err(err) => Err(err),
        },
        Command::DialStdio => {
            let result = engine
                .local_only("dial-stdio")
                .and_then(socket::socket_path)
                .and_then(|socket| {
                    runtime(tokio::runtime::Builder::new_current_thread())
                        .and_then(|runtime| runtime.block_on(dial::dial_stdio(&socket)))
                });
            // Straight out: the runtime would wait on a read of stdin that nobody will end.
            let code = match result {
                Ok(()) => 0,
                Err(err) => {
                    eprintln!("sentinel: {err}");
                    dial::exit_code(&err)
                }
            };
            std::process::exit(code);
        }
        Command::Completions { shell } => {
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "sentinel",
                &mut std::io::stdout(),
            );
            Ok(())
        }
        Command::Context(command) => context::run(command, &engine),
        command => runtime(tokio::runtime::Builder::new_current_thread())
            .and_then(|runtime| runtime.block_on(talk_to_engine(engine, command))),
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

async fn talk_to_engine(engine: EngineChoice, command: Command) -> Result<(), CliError> {
    let client = engine.client()?;
    if client.socket().is_none() {
        remote_refusal(&command, &client)?;
    }
    commands::run(&client, command).await
}

/// Commands that read a project from this machine's disk would hand a remote engine paths
/// that mean nothing there.
fn remote_refusal(command: &Command, client: &Client) -> Result<(), CliError> {
    let reads_here = match command {
        Command::Up { .. } => "up",
        Command::Down { project: None, .. } => "down without --project",
        _ => return Ok(()),
    };
    Err(CliError::Usage(format!(
        "`sentinel {reads_here}` reads a project from this machine, and the engine at {} would \
         run it in directories that are not there: run it on that machine (ssh HOST sentinel up \
         DIR), or use `down --project NAME`",
        client.endpoint()
    )))
}

/// Which engine the command talks to, from the global flags and the environment.
struct EngineChoice {
    socket: Option<PathBuf>,
    host: Option<String>,
    context: Option<String>,
}

impl EngineChoice {
    /// `--host` first, then `--context`, then `--socket`, then the context in use, then this
    /// machine's engine.
    fn client(&self) -> Result<Client, CliError> {
        let named = self.host.is_some() || self.context.is_some();
        if !named {
            if let Some(socket) = &self.socket {
                return Ok(Client::new(socket));
            }
        }
        let contexts = context::load()?;
        match contexts::choose(&contexts, self.host.as_deref(), self.context.as_deref())
            .map_err(|err| CliError::Usage(err.to_string()))?
        {
            Some(target) => Ok(target.client),
            None => Ok(Client::new(socket::socket_path(self.socket.clone())?)),
        }
    }

    /// For commands that run on this machine: `--host` and `--context` make no sense there.
    fn local_only(&self, command: &str) -> Result<Option<PathBuf>, CliError> {
        if let Some(named) = self.host.as_ref().or(self.context.as_ref()) {
            if named != sentinel_proto::remote::LOCAL_CONTEXT {
                return Err(CliError::Usage(format!(
                    "`sentinel {command}` runs on this machine; --host and --context ({named}) \
         are for talking to an engine (unset SENTINEL_HOST or SENTINEL_CONTEXT)"
                )));
            }
        }
        Ok(self.socket.clone())
    }
}
