//! `sentinel context`: name the engines of other machines and choose the one commands use,
//! in the same `contexts.toml` the app's Engines settings show.

use std::path::PathBuf;

use sentinel_client::contexts;
use sentinel_proto::remote::{ContextFile, EngineContext, LOCAL_CONTEXT};
use serde::Serialize;

use crate::args::ContextCommand;
use crate::error::CliError;
use crate::output::Style;
use crate::EngineChoice;

/// Where the contexts are: beside the engine's database.
fn path() -> Result<PathBuf, CliError> {
    sentinel_engine::EnginePaths::from_env()
        .map(|paths| paths.contexts_file())
        .ok_or_else(|| {
            CliError::Other("cannot tell where contexts are kept: set SENTINEL_HOME".into())
        })
}

pub fn load() -> Result<ContextFile, CliError> {
    contexts::load(&path()?).map_err(|err| CliError::Other(err.to_string()))
}

fn save(file: &ContextFile) -> Result<(), CliError> {
    contexts::save(&path()?, file).map_err(|err| CliError::Other(err.to_string()))
}

/// One row of `context ls --json`.
#[derive(Debug, Serialize)]
struct Row {
    name: String,
    host: String,
    description: String,
    current: bool,
}

pub fn run(command: ContextCommand, engine: &EngineChoice) -> Result<(), CliError> {
    let mut file = load()?;
    match command {
        ContextCommand::Add {
            name,
            host,
            description,
            sentinel,
        } => {
            let context = EngineContext {
                name: name.clone(),
                host,
                description,
                sentinel,
            };
            file.add(context).map_err(|problems| {
                CliError::Usage(
                    problems
                        .iter()
                        .map(|p| format!("{}: {}", p.field, p.message))
                        .collect::<Vec<_>>()
                        .join("\n"),
                )
            })?;
            save(&file)?;
            println!("added {name}; `sentinel context use {name}` makes it the one in use");
        }
        ContextCommand::Use { name } => {
            if name == LOCAL_CONTEXT {
                file.current = None;
            } else if file.get(&name).is_none() {
                return Err(unknown(&name));
            } else {
                file.current = Some(name.clone());
            }
            save(&file)?;
            println!("now using {name}");
            if let Some(overridden) = engine.host.as_ref().or(engine.context.as_ref()) {
                eprintln!(
                    "note: --host, --context, SENTINEL_HOST or SENTINEL_CONTEXT ({overridden}) still overrides it"
                );
            }
        }
        ContextCommand::Show => {
            println!("{}", file.current.as_deref().unwrap_or(LOCAL_CONTEXT));
        }
        ContextCommand::Rm { names } => {
            if let Some(missing) = names.iter().find(|name| file.get(name).is_none()) {
                return Err(unknown(missing));
            }
            for name in &names {
                file.remove(name);
            }
            save(&file)?;
            println!("removed {}", names.join(", "));
        }
        ContextCommand::Ls { json } => list(&file, json)?,
    }
    Ok(())
}

fn unknown(name: &str) -> CliError {
    CliError::Usage(format!(
        "no context is named {name:?}; `sentinel context ls` lists them"
    ))
}

fn list(file: &ContextFile, json: bool) -> Result<(), CliError> {
    let local_socket = sentinel_engine::EnginePaths::from_env()
        .map(|paths| format!("unix://{}", paths.socket.display()))
        .unwrap_or_default();
    let mut rows = vec![Row {
        name: LOCAL_CONTEXT.into(),
        host: local_socket,
        description: "this machine's engine".into(),
        current: file.current().is_none(),
    }];
    rows.extend(file.contexts.iter().map(|context| Row {
        name: context.name.clone(),
        host: context.host.clone(),
        description: context.description.clone(),
        current: file.current.as_deref() == Some(&context.name),
    }));
    if json {
        let text =
            serde_json::to_string_pretty(&rows).map_err(|err| CliError::Other(err.to_string()))?;
        println!("{text}");
        return Ok(());
    }
    let style = Style::for_stdout();
    let width = rows.iter().map(|row| row.name.len() + 2).max().unwrap_or(4);
    let host_width = rows.iter().map(|row| row.host.len()).max().unwrap_or(4);
    println!(
        "{}",
        style.bold(&format!(
            "{:width$}  {:host_width$}  DESCRIPTION",
            "NAME", "HOST"
        ))
    );
    for row in rows {
        let name = if row.current {
            format!("{} *", row.name)
        } else {
            row.name
        };
        println!(
            "{name:width$}  {:host_width$}  {}",
            row.host, row.description
        );
    }
    Ok(())
}
