//! `sentinel top`: one snapshot, then a redraw per resource sample (or per change), from the
//! event stream; no polling.

use std::collections::{BTreeMap, HashMap};
use std::io::{IsTerminal, Write};

use sentinel_client::{Client, ClientError, Streamed};
use sentinel_proto::{EngineEvent, JobStatus, ResourceSample};

use crate::args::TopOrder;
use crate::error::CliError;
use crate::output::{self, Style};

pub async fn top(
    client: &Client,
    style: &Style,
    group: Option<String>,
    order: TopOrder,
    once: bool,
) -> Result<(), CliError> {
    let in_group = |job: &JobStatus| group.is_none() || job.group == group;
    let mut jobs = client.jobs().await?;
    jobs.retain(|job| in_group(job));
    if once || !std::io::stdout().is_terminal() {
        print!("{}", output::top_table(&jobs, order, style));
        return Ok(());
    }
    let mut by_name: BTreeMap<String, JobStatus> = jobs
        .into_iter()
        .map(|job| (job.name.clone(), job))
        .collect();
    let screen = Screen { order, style };
    screen.draw(&by_name);
    // Asking for samples: with nobody watching, the engine samples only now and then.
    let mut events = client.follow_events_watching().await?;
    while let Some(next) = events.next().await {
        let envelope = match next {
            Ok(Streamed::Item(envelope)) => envelope,
            // A gap, or an event this build cannot read: the next sample redraws it all.
            Ok(Streamed::Missed(_)) | Err(ClientError::Decode(_)) => continue,
            Err(err) => return Err(err.into()),
        };
        let still_shown = match envelope.event {
            EngineEvent::ResourcesSampled { samples } => {
                let sampled: HashMap<String, ResourceSample> =
                    samples.into_iter().map(|s| (s.job, s.sample)).collect();
                // A job not in this tick keeps its figures until its next one (a stopped job
                // comes as a state change).
                for (name, job) in by_name.iter_mut() {
                    if let Some(sample) = sampled.get(name) {
                        job.resources = Some(sample.clone());
                    }
                }
                screen.draw(&by_name)
            }
            EngineEvent::StateChanged { mut status } => {
                if in_group(&status) {
                    // A status keeps the last sample until the next one comes.
                    let resources = by_name.get(&status.name).and_then(|j| j.resources.clone());
                    if status.resources.is_none() && status.state.is_active() {
                        status.resources = resources;
                    }
                    by_name.insert(status.name.clone(), *status);
                }
                true
            }
            EngineEvent::JobRemoved { job } => {
                by_name.remove(&job);
                screen.draw(&by_name)
            }
            _ => true,
        };
        if !still_shown {
            break;
        }
    }
    Ok(())
}

/// The terminal `top` draws on.
struct Screen<'a> {
    order: TopOrder,
    style: &'a Style,
}

impl Screen<'_> {
    /// Clears the screen and draws the table; false once the terminal is gone.
    fn draw(&self, jobs: &BTreeMap<String, JobStatus>) -> bool {
        let list: Vec<JobStatus> = jobs.values().cloned().collect();
        let screen = format!(
            "\x1b[H\x1b[2J{}  {}\n\n{}",
            "sentinel top",
            chrono::Local::now().format("%H:%M:%S"),
            output::top_table(&list, self.order, self.style)
        );
        let mut out = std::io::stdout();
        out.write_all(screen.as_bytes())
            .and_then(|()| out.flush())
            .is_ok()
    }
}
