//! Projects: `sentinel up` (apply the file, start, watch each job until it is ready, then the
//! timings), `down`, and `stack` (the projects, or one with its timings).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use sentinel_client::{Client, LogQuery, Streamed};
use sentinel_proto::project::timings::timings;
use sentinel_proto::project::ProjectSpec;
use sentinel_proto::{Action, JobSpec, JobStatus, LogLine, LogStream, Outcome, Selection};
use tokio::time::Instant;

use super::print_json;
use crate::error::CliError;
use crate::output::{self, Progress, Style};
use crate::project;

/// How often `up` looks at the jobs while it waits.
const POLL: Duration = Duration::from_millis(150);

/// Log lines shown under a job that failed to come up.
const FAILURE_LINES: usize = 10;

pub async fn up(
    client: &Client,
    style: &Style,
    dir: Option<&Path>,
    follow: bool,
    wait: Duration,
    json: bool,
) -> Result<(), CliError> {
    let file = project::find(dir)?;
    let (project, notes) = project::load(&file)?;
    for note in &notes {
        eprintln!("sentinel: not carried over: {note}");
    }
    let answer = client.project_up(&project).await?;
    if json {
        return print_json(&answer);
    }
    println!(
        "{} {} ({})",
        style.bold("project"),
        project.name,
        file.path().display()
    );
    print!("{}", output::project_plan(&answer.plan));
    let mut refused = 0;
    for result in &answer.started {
        if let Outcome::Error(error) = &result.outcome {
            refused += 1;
            println!("{:<24} {}", result.name, style.failing(&error.message));
        }
    }
    let watched: Vec<&JobSpec> = project
        .jobs
        .iter()
        .filter(|job| sentinel_proto::project::comes_up(job))
        .collect();
    let outcome = watch_until_ready(client, style, &watched, wait).await?;
    let statuses = client.jobs().await?;
    print!(
        "{}",
        output::timings_table(&timings(&project.jobs, &statuses), style)
    );
    let failed = outcome.failed.len() + refused;
    for name in &outcome.failed {
        let lines = client
            .logs(
                name,
                LogQuery {
                    tail: Some(FAILURE_LINES),
                    stream: None,
                },
            )
            .await
            .unwrap_or_default();
        if !lines.is_empty() {
            println!("\n{} {name}:", style.bold("last lines of"));
            for line in &lines {
                print!("  {}", output::log_line(line, false, style));
            }
        }
    }
    if !outcome.pending.is_empty() {
        println!(
            "\nnot ready after {}: {} (they keep starting; `sentinel stack {}` shows them)",
            output::short_duration(wait),
            outcome.pending.join(", "),
            project.name
        );
    }
    if follow {
        return follow_logs(client, style, &project).await;
    }
    match failed + outcome.pending.len() {
        0 => Ok(()),
        n => Err(CliError::Partial(n)),
    }
}

struct WaitOutcome {
    failed: Vec<String>,
    pending: Vec<String>,
}

/// Prints each job's progress as it changes until every one is ready or failed, or `wait`
/// has passed.
async fn watch_until_ready(
    client: &Client,
    style: &Style,
    jobs: &[&JobSpec],
    wait: Duration,
) -> Result<WaitOutcome, CliError> {
    let deadline = Instant::now() + wait;
    let mut shown: BTreeMap<String, Progress> = BTreeMap::new();
    let width = jobs.iter().map(|job| job.name.len()).max().unwrap_or(0);
    loop {
        let statuses: BTreeMap<String, JobStatus> = client
            .jobs()
            .await?
            .into_iter()
            .map(|status| (status.name.clone(), status))
            .collect();
        let mut settled = true;
        let (mut failed, mut pending) = (Vec::new(), Vec::new());
        for job in jobs {
            let progress = statuses
                .get(&job.name)
                .map_or(Progress::Missing, |status| Progress::of(job, status));
            if shown.get(&job.name) != Some(&progress) {
                println!(
                    "{}",
                    output::progress_line(&job.name, width, &progress, style)
                );
                shown.insert(job.name.clone(), progress.clone());
            }
            match progress {
                Progress::Ready { .. } => {}
                Progress::Failed(_) | Progress::Blocked(_) | Progress::Missing => {
                    failed.push(job.name.clone())
                }
                _ => {
                    settled = false;
                    pending.push(job.name.clone());
                }
            }
        }
        if settled || Instant::now() >= deadline {
            return Ok(WaitOutcome { failed, pending });
        }
        tokio::time::sleep(POLL.min(deadline.saturating_duration_since(Instant::now()))).await;
    }
}

/// The merged output of the project's jobs, each line after its job's name in its own
/// colour, until Ctrl-C (which leaves the jobs running).
async fn follow_logs(
    client: &Client,
    style: &Style,
    project: &ProjectSpec,
) -> Result<(), CliError> {
    let (lines, mut merged) = tokio::sync::mpsc::channel(1024);
    let width = project
        .jobs
        .iter()
        .map(|job| job.name.len())
        .max()
        .unwrap_or(0);
    for (index, job) in project.jobs.iter().enumerate() {
        let mut follow = client
            .follow_logs(
                &job.name,
                LogQuery {
                    tail: Some(0),
                    stream: None,
                },
            )
            .await?;
        let lines = lines.clone();
        let name = job.name.clone();
        tokio::spawn(async move {
            while let Some(Ok(item)) = follow.next().await {
                // A gap the engine reports for a slow reader is shown as one.
                let line = match item {
                    Streamed::Item(line) => line,
                    Streamed::Missed(count) => LogLine {
                        ts: chrono::Utc::now(),
                        stream: LogStream::Stderr,
                        text: format!("[sentinel: {count} lines missed]"),
                        partial: false,
                    },
                };
                if lines.send((index, name.clone(), line)).await.is_err() {
                    return;
                }
            }
        });
    }
    drop(lines);
    println!("\n(following the output; Ctrl-C detaches and leaves the jobs running)");
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => return Ok(()),
            line = merged.recv() => match line {
                None => return Ok(()),
                Some((index, name, item)) => {
                    print!("{}", output::merged_line(index, &name, width, &item, style));
                }
            },
        }
    }
}

pub async fn down(
    client: &Client,
    style: &Style,
    dir: Option<&Path>,
    name: Option<String>,
    json: bool,
) -> Result<(), CliError> {
    let name = match name {
        Some(name) => name,
        None => project::load(&project::find(dir)?)?.0.name,
    };
    let results = client.act(Action::Stop, Selection::Project(name)).await?;
    super::actions::report(style, &results, json)
}

pub async fn stack(
    client: &Client,
    style: &Style,
    name: Option<String>,
    show_timings: bool,
    json: bool,
) -> Result<(), CliError> {
    let projects = client.projects().await?;
    let name = match name {
        Some(name) => Some(name),
        // In a project's directory, that project; elsewhere, the list.
        None => project::find(None)
            .ok()
            .and_then(|file| project::load(&file).ok())
            .map(|(project, _)| project.name)
            .filter(|name| projects.iter().any(|p| &p.name == name)),
    };
    let Some(name) = name else {
        if json {
            return print_json(&projects);
        }
        print!("{}", output::projects_table(&projects));
        return Ok(());
    };
    let Some(summary) = projects.iter().find(|p| p.name == name) else {
        return Err(CliError::Other(format!(
            "no project named {name:?} (sentinel up creates it from its sentinel.toml)"
        )));
    };
    let mut statuses = client.jobs().await?;
    statuses.retain(|status| status.project_name() == Some(name.as_str()));
    let mut specs = Vec::new();
    for job in &summary.jobs {
        specs.push(
            client
                .job(job, sentinel_proto::secret::Secrets::Masked)
                .await?
                .spec,
        );
    }
    let timings = timings(&specs, &statuses);
    if json {
        return print_json(
            &if show_timings {
                serde_json::to_value(&timings)
            } else {
                serde_json::to_value(&statuses)
            }
            .map_err(|err| CliError::Other(err.to_string()))?,
        );
    }
    println!(
        "{} {} ({})",
        style.bold("project"),
        name,
        summary.file.display()
    );
    if show_timings {
        print!("{}", output::timings_table(&timings, style));
    } else {
        print!("{}", output::job_table(&statuses, style));
    }
    Ok(())
}
