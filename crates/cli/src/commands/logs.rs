//! What happened: a job's output, its runs, and the engine's events, the recent ones or
//! followed as they come.

use std::io::Write;

use sentinel_client::{Client, LogQuery};
use sentinel_proto::{LogLine, LogStream};

use super::{print_followed, print_json};
use crate::error::CliError;
use crate::output::{self, Style};

/// What `sentinel logs` was asked for.
pub struct Asked {
    /// Keep printing new lines as they come.
    pub follow: bool,
    /// How many of the last lines.
    pub lines: usize,
    /// Only standard error.
    pub stderr: bool,
    /// Only standard output.
    pub stdout: bool,
    /// Each line's time and stream.
    pub timestamps: bool,
    /// As the engine's JSON.
    pub json: bool,
}

pub async fn logs(
    client: &Client,
    style: &Style,
    name: &str,
    asked: Asked,
) -> Result<(), CliError> {
    let stream = match (asked.stderr, asked.stdout) {
        (true, _) => Some(LogStream::Stderr),
        (false, true) => Some(LogStream::Stdout),
        (false, false) => None,
    };
    let query = LogQuery {
        tail: Some(asked.lines),
        stream,
    };
    let render = |line: &LogLine| output::log_line(line, asked.timestamps, style);
    if asked.follow {
        let lines = client.follow_logs(name, query).await?;
        return print_followed(lines, asked.json, "lines", |line| Some(render(line))).await;
    }
    let lines = client.logs(name, query).await?;
    if asked.json {
        return print_json(&lines);
    }
    let text: String = lines.iter().map(render).collect();
    // A closed pipe (`| head`) is not an error.
    let _ = std::io::stdout().write_all(text.as_bytes());
    Ok(())
}

pub async fn runs(client: &Client, name: &str, limit: u32, json: bool) -> Result<(), CliError> {
    let runs = client.runs(name, Some(limit)).await?;
    if json {
        print_json(&runs)
    } else {
        print!("{}", output::runs_table(&runs));
        Ok(())
    }
}

pub async fn events(client: &Client, follow: bool, limit: u32, json: bool) -> Result<(), CliError> {
    if follow {
        let events = client.follow_events().await?;
        return print_followed(events, json, "events", |event| {
            output::event_line(event).map(|line| format!("{line}\n"))
        })
        .await;
    }
    let events = client.events(Some(limit)).await?;
    if json {
        return print_json(&events);
    }
    for line in events.iter().filter_map(output::event_line) {
        println!("{line}");
    }
    Ok(())
}
