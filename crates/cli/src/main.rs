//! `sentinel`: drive a SentinelZero engine over its Unix socket, or run one headless.

mod args;
mod client;
mod daemon;
mod error;
mod handoff;
mod migrate;
mod output;
#[cfg(test)]
mod reference;
mod spec;

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, Parser};
use sentinel_proto::action::{Action, ActionRequest, ActionResult};
use sentinel_proto::api::{JobDetail, Missed, SchedulePreview};
use sentinel_proto::config::{ConfigFile, ConfigFormat, ImportPlan};
use sentinel_proto::stack::{EnvVar, FreedPorts, JobPorts};
use sentinel_proto::{EventEnvelope, JobStatus, LogLine, RunRecord};

use crate::args::{Cli, Command, Selection};
use crate::client::{segment, Client};
use crate::error::CliError;
use crate::output::Style;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let socket = cli.socket.clone();
    let result = match cli.command {
        Command::Daemon => multi_threaded().block_on(daemon::run(socket)),
        Command::Completions { shell } => {
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "sentinel",
                &mut std::io::stdout(),
            );
            Ok(())
        }
        command => single_threaded().block_on(run(socket, command)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            if !matches!(err, CliError::Partial(_)) {
                eprintln!("sentinel: {err}");
            }
            ExitCode::from(err.exit_code() as u8)
        }
    }
}

fn multi_threaded() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

fn single_threaded() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

fn socket_path(socket: Option<PathBuf>) -> Result<PathBuf, CliError> {
    socket
        .or_else(|| sentinel_engine::EnginePaths::from_env().map(|p| p.socket))
        .ok_or_else(|| {
            CliError::Other(
                "cannot tell where the engine's socket is: set SENTINEL_HOME or --socket".into(),
            )
        })
}

fn print_json<T: serde::Serialize>(value: &T) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).expect("API types always serialise")
    );
}

async fn run(socket: Option<PathBuf>, command: Command) -> Result<(), CliError> {
    let client = Client::new(&socket_path(socket)?);
    let style = Style::for_stdout();
    match command {
        Command::Add { name, job, argv } => {
            let spec = spec::new_spec(&name, &job, &argv)?;
            let status: JobStatus = client.post("/api/jobs", &spec).await?;
            println!(
                "added {} ({})",
                status.name,
                style.state_name(&status.state)
            );
        }
        Command::Edit {
            name,
            job,
            toggles,
            argv,
        } => {
            let detail: JobDetail = client.get(&format!("/api/jobs/{}", segment(&name))).await?;
            let mut spec = detail.spec;
            spec::apply(&mut spec, &job, &argv)?;
            spec::apply_toggles(&mut spec, &toggles);
            let status: JobStatus = client
                .put(&format!("/api/jobs/{}", segment(&name)), &spec)
                .await?;
            println!(
                "changed {} ({})",
                status.name,
                style.state_name(&status.state)
            );
        }
        Command::Rm { names } => {
            for name in names {
                client
                    .delete(&format!("/api/jobs/{}", segment(&name)))
                    .await?;
                println!("removed {name}");
            }
        }
        Command::Ls { group, json } => {
            let mut jobs: Vec<JobStatus> = client.get("/api/jobs").await?;
            if let Some(group) = group {
                jobs.retain(|job| job.group.as_deref() == Some(group.as_str()));
            }
            if json {
                print_json(&jobs);
            } else {
                print!("{}", output::job_table(&jobs, &style));
            }
        }
        Command::Top { group, sort, once } => top(&client, group, sort, once, &style).await?,
        Command::Status {
            name,
            json,
            show_secrets,
        } => {
            let detail: JobDetail = client
                .get(&format!(
                    "/api/jobs/{}?show_secrets={show_secrets}",
                    segment(&name)
                ))
                .await?;
            if json {
                print_json(&detail);
            } else {
                print!("{}", output::job_detail(&detail, &style));
            }
        }
        Command::Start { which, json } => act(&client, Action::Start, which, json, &style).await?,
        Command::Stop { which, json } => act(&client, Action::Stop, which, json, &style).await?,
        Command::Restart { which, json } => {
            act(&client, Action::Restart, which, json, &style).await?
        }
        Command::Run { name } => {
            let status: JobStatus = client
                .post(&format!("/api/jobs/{}/run", segment(&name)), &())
                .await?;
            println!("{}: {}", status.name, style.state_name(&status.state));
        }
        Command::Enable { name } => toggle(&client, &name, "enable", &style).await?,
        Command::Disable { name } => toggle(&client, &name, "disable", &style).await?,
        Command::Schedule {
            cron,
            every,
            at,
            count,
            json,
        } => {
            let mut query = format!("/api/schedule/preview?n={count}");
            for (key, value) in [("cron", cron), ("every", every), ("at", at)] {
                if let Some(value) = value {
                    query.push_str(&format!("&{key}={}", segment(&value)));
                }
            }
            let preview: SchedulePreview = client.get(&query).await?;
            if json {
                print_json(&preview);
            } else {
                println!("{}", preview.description);
                for at in preview.next {
                    println!(
                        "  {}",
                        at.with_timezone(&chrono::Local)
                            .format("%a %Y-%m-%d %H:%M:%S %Z")
                    );
                }
            }
        }
        Command::Export {
            names,
            group,
            format,
            handoff,
            show_secrets,
        } => {
            if let Some(system) = handoff {
                let [name] = names.as_slice() else {
                    return Err(CliError::Usage("--as hands over one job: name it".into()));
                };
                let detail: JobDetail = client
                    .get(&format!(
                        "/api/jobs/{}?show_secrets={show_secrets}",
                        segment(name)
                    ))
                    .await?;
                if !show_secrets && !detail.spec.secrets.is_empty() {
                    eprintln!(
                        "sentinel: note: the values of {} are masked; add --show-secrets to write them",
                        detail.spec.secrets.join(", ")
                    );
                }
                let (text, notes) = handoff::render(system, &detail.spec)?;
                for note in notes {
                    eprintln!("sentinel: note: {note}");
                }
                print!("{text}");
                return Ok(());
            }
            let format: ConfigFormat = format.into();
            let mut path = format!(
                "/api/config/export?format={}&show_secrets={show_secrets}",
                if format == ConfigFormat::Json {
                    "json"
                } else {
                    "toml"
                }
            );
            if let Some(group) = group {
                path.push_str(&format!("&group={}", segment(&group)));
            }
            if !names.is_empty() {
                path.push_str(&format!(
                    "&names={}",
                    names
                        .iter()
                        .map(|n| segment(n))
                        .collect::<Vec<_>>()
                        .join(",")
                ));
            }
            print!("{}", client.get_text(&path).await?);
        }
        Command::Import {
            file,
            replace,
            dry_run,
            from,
        } => {
            let (body, format) = match from {
                Some(source) => {
                    let migrated = migrate::migrate(source, &file)?;
                    for note in &migrated.notes {
                        eprintln!("sentinel: not carried over: {note}");
                    }
                    (
                        ConfigFile::new(migrated.jobs).render(ConfigFormat::Json),
                        ConfigFormat::Json,
                    )
                }
                None => {
                    let text = std::fs::read_to_string(&file).map_err(|err| {
                        CliError::Other(format!("cannot read {}: {err}", file.display()))
                    })?;
                    (text, ConfigFormat::of_path(&file.display().to_string()))
                }
            };
            let path = format!(
                "/api/config/import?format={}&replace={replace}&dry_run={dry_run}",
                if format == ConfigFormat::Json {
                    "json"
                } else {
                    "toml"
                }
            );
            let plan: ImportPlan = client.post_text(&path, body).await?;
            for (verb, names) in [
                ("add", &plan.add),
                ("update", &plan.update),
                ("remove", &plan.remove),
                ("unchanged", &plan.unchanged),
            ] {
                for name in names {
                    println!("{verb:<10} {name}");
                }
            }
            if !plan.applied {
                println!("(dry run: nothing was changed)");
            }
        }
        Command::Logs {
            name,
            follow,
            lines,
            stderr,
            stdout,
            timestamps,
            json,
        } => {
            let mut path = format!("/api/jobs/{}/logs?tail={lines}", segment(&name));
            if stderr {
                path.push_str("&stream=stderr");
            } else if stdout {
                path.push_str("&stream=stdout");
            }
            if follow {
                path.push_str("&follow=true");
                print_stream(&client, &path, json, "lines", |raw| {
                    serde_json::from_slice::<LogLine>(raw)
                        .ok()
                        .map(|line| output::log_line(&line, timestamps, &style))
                })
                .await?;
            } else {
                let lines: Vec<LogLine> = client.get(&path).await?;
                if json {
                    print_json(&lines);
                } else {
                    let text: String = lines
                        .iter()
                        .map(|l| output::log_line(l, timestamps, &style))
                        .collect();
                    let _ = std::io::stdout().write_all(text.as_bytes());
                }
            }
        }
        Command::Ports { name, free, json } => match (name, free) {
            (Some(name), true) => {
                let freed: FreedPorts = client
                    .post(&format!("/api/jobs/{}/ports/free", segment(&name)), &())
                    .await?;
                if json {
                    print_json(&freed);
                } else {
                    print!("{}", output::freed_ports(&freed));
                }
            }
            (name, _) => {
                let jobs: Vec<JobPorts> = match name {
                    Some(name) => vec![
                        client
                            .get(&format!("/api/jobs/{}/ports", segment(&name)))
                            .await?,
                    ],
                    None => client.get("/api/ports").await?,
                };
                if json {
                    print_json(&jobs);
                } else if jobs.is_empty() {
                    println!("No job declares ports (`ports = [8080]`, or `sentinel edit NAME --port 8080`).");
                } else {
                    print!("{}", output::ports_table(&jobs));
                }
            }
        },
        Command::Env {
            name,
            json,
            show_secrets,
        } => {
            let vars: Vec<EnvVar> = client
                .get(&format!(
                    "/api/jobs/{}/env?show_secrets={show_secrets}",
                    segment(&name)
                ))
                .await?;
            if json {
                print_json(&vars);
            } else {
                print!("{}", output::env_listing(&vars));
            }
        }
        Command::Runs { name, limit, json } => {
            let runs: Vec<RunRecord> = client
                .get(&format!("/api/jobs/{}/runs?limit={limit}", segment(&name)))
                .await?;
            if json {
                print_json(&runs);
            } else {
                print!("{}", output::runs_table(&runs));
            }
        }
        Command::Events {
            follow,
            limit,
            json,
        } => {
            if follow {
                print_stream(&client, "/api/events?follow=true", json, "events", |raw| {
                    serde_json::from_slice::<EventEnvelope>(raw)
                        .ok()
                        .and_then(|event| output::event_line(&event))
                        .map(|line| format!("{line}\n"))
                })
                .await?;
            } else {
                let events: Vec<EventEnvelope> =
                    client.get(&format!("/api/events?limit={limit}")).await?;
                if json {
                    print_json(&events);
                } else {
                    for line in events.iter().filter_map(output::event_line) {
                        println!("{line}");
                    }
                }
            }
        }
        Command::Daemon | Command::Completions { .. } => unreachable!("handled in main"),
    }
    Ok(())
}

async fn toggle(client: &Client, name: &str, action: &str, style: &Style) -> Result<(), CliError> {
    let status: JobStatus = client
        .post(&format!("/api/jobs/{}/{action}", segment(name)), &())
        .await?;
    let note = if status.enabled { "" } else { " (disabled)" };
    println!("{}: {}{note}", status.name, style.state_name(&status.state));
    Ok(())
}

/// Prints an NDJSON stream as it comes: each line as it is with `--json`, else as `render`
/// says, with a note where the engine dropped items for a slow reader.
/// `sentinel top`: one snapshot, then a redraw per resource sample (or per change), from the
/// event stream; no polling.
async fn top(
    client: &Client,
    group: Option<String>,
    order: args::TopOrder,
    once: bool,
    style: &Style,
) -> Result<(), CliError> {
    let in_group = |job: &JobStatus| group.is_none() || job.group == group;
    let mut jobs: Vec<JobStatus> = client.get("/api/jobs").await?;
    jobs.retain(|job| in_group(job));
    if once || !std::io::stdout().is_terminal() {
        print!("{}", output::top_table(&jobs, order, style));
        return Ok(());
    }
    let mut by_name: std::collections::BTreeMap<String, JobStatus> = jobs
        .into_iter()
        .map(|job| (job.name.clone(), job))
        .collect();
    let mut out = std::io::stdout();
    let draw = |out: &mut std::io::Stdout, jobs: &std::collections::BTreeMap<String, JobStatus>| {
        let list: Vec<JobStatus> = jobs.values().cloned().collect();
        let screen = format!(
            "\x1b[H\x1b[2J{}  {}\n\n{}",
            "sentinel top",
            chrono::Local::now().format("%H:%M:%S"),
            output::top_table(&list, order, style)
        );
        out.write_all(screen.as_bytes())
            .and_then(|()| out.flush())
            .is_ok()
    };
    draw(&mut out, &by_name);
    client
        .stream("/api/events?follow=true", |raw| {
            let Ok(envelope) = serde_json::from_slice::<EventEnvelope>(raw) else {
                return true;
            };
            match envelope.event {
                sentinel_proto::EngineEvent::ResourcesSampled { samples } => {
                    let sampled: std::collections::HashMap<String, sentinel_proto::ResourceSample> =
                        samples.into_iter().map(|s| (s.job, s.sample)).collect();
                    for (name, job) in by_name.iter_mut() {
                        job.resources = sampled.get(name).cloned();
                    }
                    draw(&mut out, &by_name)
                }
                sentinel_proto::EngineEvent::StateChanged { status } => {
                    if in_group(&status) {
                        let resources = by_name.get(&status.name).and_then(|j| j.resources.clone());
                        let mut status = status;
                        if status.resources.is_none() && status.state.is_active() {
                            status.resources = resources;
                        }
                        by_name.insert(status.name.clone(), status);
                    }
                    true
                }
                sentinel_proto::EngineEvent::JobRemoved { job } => {
                    by_name.remove(&job);
                    draw(&mut out, &by_name)
                }
                _ => true,
            }
        })
        .await
}

async fn print_stream(
    client: &Client,
    path: &str,
    json: bool,
    items: &str,
    render: impl Fn(&[u8]) -> Option<String>,
) -> Result<(), CliError> {
    let mut out = std::io::stdout();
    client
        .stream(path, |raw| {
            let text = if json {
                format!("{}\n", String::from_utf8_lossy(raw))
            } else if let Some(text) = render(raw) {
                text
            } else if let Ok(missed) = serde_json::from_slice::<Missed>(raw) {
                format!("[sentinel: {} {items} missed]\n", missed.count)
            } else {
                return true;
            };
            // A closed pipe (`| head`) ends the stream quietly.
            out.write_all(text.as_bytes())
                .and_then(|()| out.flush())
                .is_ok()
        })
        .await
}

async fn act(
    client: &Client,
    action: Action,
    which: Selection,
    json: bool,
    style: &Style,
) -> Result<(), CliError> {
    let request = ActionRequest {
        action,
        selection: which.into(),
    };
    let results: Vec<ActionResult> = client.post("/api/actions", &request).await?;
    if json {
        print_json(&results);
    }
    let mut failed = 0;
    for result in &results {
        match (result.status(), result.error()) {
            (Some(status), _) if !json => {
                println!("{}: {}", status.name, style.state_name(&status.state));
            }
            (_, Some(error)) => {
                failed += 1;
                eprintln!("sentinel: {}: {}", result.name, error.message);
            }
            _ => {}
        }
    }
    if failed > 0 {
        return Err(CliError::Partial(failed));
    }
    Ok(())
}
