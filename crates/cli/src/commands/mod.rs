//! One handler per command, each asking the engine through the typed client and printing
//! the answer; this module only routes a parsed command to its handler.

mod actions;
mod config;
mod jobs;
mod logs;
mod project;
mod schedule;
mod stack;
mod top;

use std::io::Write;

use sentinel_client::{Client, ClientError, Follow, Streamed};
use sentinel_proto::Action;
use serde::de::DeserializeOwned;

use crate::args::{Command, ExportAs};
use crate::error::CliError;
use crate::handoff;
use crate::output::Style;

/// Runs a command that talks to the engine (`daemon` and `completions` do not).
pub async fn run(client: &Client, command: Command) -> Result<(), CliError> {
    let style = &Style::for_stdout();
    match command {
        Command::Add { name, job, argv } => jobs::add(client, style, &name, &job, &argv).await,
        Command::Edit {
            name,
            job,
            toggles,
            argv,
        } => jobs::edit(client, style, &name, &job, &toggles, &argv).await,
        Command::Rm { names } => jobs::remove(client, &names).await,
        Command::Ls {
            group,
            project,
            json,
        } => jobs::list(client, style, group, project, json).await,
        Command::Up {
            dir,
            follow,
            wait,
            json,
        } => project::up(client, style, dir.as_deref(), follow, wait, json).await,
        Command::Down { dir, project, json } => {
            project::down(client, style, dir.as_deref(), project, json).await
        }
        Command::Stack {
            name,
            timings,
            json,
        } => project::stack(client, style, name, timings, json).await,
        Command::Status {
            name,
            json,
            show_secrets,
        } => jobs::status(client, style, &name, json, show_secrets).await,
        Command::Top { group, sort, once } => top::top(client, style, group, sort, once).await,
        Command::Start { which, json } => {
            actions::act(client, style, Action::Start, which, json).await
        }
        Command::Stop { which, json } => {
            actions::act(client, style, Action::Stop, which, json).await
        }
        Command::Restart { which, json } => {
            actions::act(client, style, Action::Restart, which, json).await
        }
        Command::Run { name } => actions::run_now(client, style, &name).await,
        Command::Enable { name } => actions::toggle(client, style, Action::Enable, &name).await,
        Command::Disable { name } => actions::toggle(client, style, Action::Disable, &name).await,
        Command::Schedule {
            cron,
            every,
            at,
            count,
            json,
        } => schedule::preview(client, cron, every, at, count, json).await,
        Command::Export {
            names,
            group,
            all: _,
            format,
            target,
            image,
            show_secrets,
        } => {
            let system = match target {
                Some(ExportAs::Kubernetes) => {
                    return config::kubernetes(client, names, group, image, show_secrets).await
                }
                Some(ExportAs::Launchd) => Some(handoff::System::Launchd),
                Some(ExportAs::Systemd) => Some(handoff::System::Systemd),
                None => None,
            };
            if image.is_some() {
                return Err(CliError::Usage(
                    "--image is for --as kubernetes (the image the jobs' commands run in)".into(),
                ));
            }
            match system {
                Some(system) => config::hand_off(client, system, &names, show_secrets).await,
                None => config::export(client, names, group, format.into(), show_secrets).await,
            }
        }
        Command::Import {
            file,
            replace,
            dry_run,
            from,
        } => config::import(client, &file, replace, dry_run, from).await,
        Command::Logs {
            name,
            follow,
            lines,
            stderr,
            stdout,
            timestamps,
            json,
        } => {
            let asked = logs::Asked {
                follow,
                lines,
                stderr,
                stdout,
                timestamps,
                json,
            };
            logs::logs(client, style, &name, asked).await
        }
        Command::Runs { name, limit, json } => logs::runs(client, &name, limit, json).await,
        Command::Events {
            follow,
            limit,
            json,
        } => logs::events(client, follow, limit, json).await,
        Command::Ports { name, free, json } => match (name, free) {
            (Some(name), true) => stack::free_ports(client, &name, json).await,
            (name, _) => stack::ports(client, name, json).await,
        },
        Command::Env {
            name,
            json,
            show_secrets,
        } => stack::env(client, &name, json, show_secrets).await,
        Command::Mcp => crate::mcp::serve(client.clone()).await,
        Command::Daemon
        | Command::Completions { .. }
        | Command::Context(_)
        | Command::DialStdio => Err(CliError::Other(
            "this command does not talk to a running engine".into(),
        )),
    }
}

/// An answer as pretty JSON, for `--json`.
fn print_json<T: serde::Serialize>(value: &T) -> Result<(), CliError> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|err| CliError::Other(format!("cannot write JSON: {err}")))?;
    println!("{text}");
    Ok(())
}

/// Prints a followed answer as it comes: each line as the engine sent it with `--json`, else
/// as `render` says (`None`: not shown), with a note where the engine dropped `items` for a
/// slow reader. Ends when the engine does, or quietly when stdout is closed (`| head`).
async fn print_followed<T: DeserializeOwned>(
    mut follow: Follow<T>,
    json: bool,
    items: &str,
    render: impl Fn(&T) -> Option<String>,
) -> Result<(), CliError> {
    let mut out = std::io::stdout();
    loop {
        let text = if json {
            match follow.next_line().await {
                None => return Ok(()),
                Some(line) => format!("{}\n", String::from_utf8_lossy(&line?)),
            }
        } else {
            match follow.next().await {
                None => return Ok(()),
                Some(Ok(Streamed::Item(item))) => match render(&item) {
                    Some(text) => text,
                    None => continue,
                },
                Some(Ok(Streamed::Missed(count))) => {
                    format!("[sentinel: {count} {items} missed]\n")
                }
                // What this build cannot read (a newer engine's event) is skipped.
                Some(Err(ClientError::Decode(_))) => continue,
                Some(Err(err)) => return Err(err.into()),
            }
        };
        if out
            .write_all(text.as_bytes())
            .and_then(|()| out.flush())
            .is_err()
        {
            return Ok(());
        }
    }
}
