//! How things look on a terminal: aligned tables, colours only when writing to one. One file
//! per subject: job tables (`table`), one job in detail (`detail`), runs (`runs`), ports and
//! environments (`stack`), events and log lines (`stream`), projects (`project`).

mod detail;
mod project;
mod runs;
mod stack;
mod stream;
mod table;

use std::io::IsTerminal;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sentinel_proto::status::Glance;
use sentinel_proto::{ExitInfo, JobState, JobStatus};

pub use detail::job_detail;
pub use project::{
    merged_line, progress_line, project_plan, projects_table, timings_table, Progress,
};
pub use runs::runs_table;
pub use stack::{env_listing, freed_ports, ports_table};
pub use stream::{event_line, log_line};
pub use table::{job_table, top_table};

pub struct Style {
    colour: bool,
}

impl Style {
    /// Colours on a terminal, never when piped, never with NO_COLOR.
    pub fn for_stdout() -> Style {
        Style {
            colour: std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
        }
    }

    /// No colours: text for another program.
    pub fn plain() -> Style {
        Style { colour: false }
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.colour {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    pub fn bold(&self, text: &str) -> String {
        self.paint("1", text)
    }

    /// Red and bold, as a failing job's state is.
    pub fn failing(&self, text: &str) -> String {
        self.paint("31;1", text)
    }

    /// The state's name, coloured.
    pub fn state_name(&self, state: &JobState) -> String {
        self.state(state, state.name())
    }

    /// Coloured by the engine's one rule of what looks how at a glance (`Glance`): a
    /// crashed job being retried is failing, as in the menu bar and the popover.
    fn state(&self, state: &JobState, padded: &str) -> String {
        let code = match (Glance::of(state, None), state) {
            (Glance::Failing, _) => "31;1",
            (Glance::Busy, _) => "33",
            (Glance::Fine, JobState::Running { .. }) => "32",
            (Glance::Fine, _) => "2",
        };
        self.paint(code, padded)
    }
}

/// "45s", "3m 20s", "2h 5m", "4d 3h".
pub fn short_duration(duration: Duration) -> String {
    let secs = duration.as_secs();
    match secs {
        0..60 => {
            let millis = duration.as_millis();
            if millis < 1000 {
                format!("{millis}ms")
            } else if secs < 10 && millis % 1000 >= 100 {
                format!("{:.1}s", millis as f64 / 1000.0)
            } else {
                format!("{secs}s")
            }
        }
        60..3600 => format!("{}m {}s", secs / 60, secs % 60),
        3600..86400 => format!("{}h {}m", secs / 3600, secs % 3600 / 60),
        _ => format!("{}d {}h", secs / 86400, secs % 86400 / 3600),
    }
}

fn since(at: DateTime<Utc>) -> Duration {
    (Utc::now() - at).to_std().unwrap_or_default()
}

fn until(at: DateTime<Utc>) -> Duration {
    (at - Utc::now()).to_std().unwrap_or_default()
}

fn exit_text(exit: &ExitInfo) -> String {
    match (exit.code, exit.signal) {
        (Some(code), _) => code.to_string(),
        (None, Some(signal)) => format!("sig {signal}"),
        (None, None) => "?".into(),
    }
}

fn pid_of(state: &JobState) -> Option<u32> {
    match state {
        JobState::Running { pid, .. } | JobState::Stopping { pid } => Some(*pid),
        _ => None,
    }
}

/// What the UPTIME column says: how long it has run, when it tries again, or when its
/// schedule fires next.
fn timing(job: &JobStatus) -> String {
    match (&job.state, job.next_run_at) {
        (JobState::Running { since: at, .. }, _) => short_duration(since(*at)),
        (JobState::Backoff { next_try_at, .. }, _) => {
            format!("retry in {}", short_duration(until(*next_try_at)))
        }
        (_, Some(next)) => format!("next in {}", short_duration(until(next))),
        _ => "-".into(),
    }
}

fn bytes(n: u64) -> String {
    sentinel_proto::job::byte_size::format(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_at_a_glance() {
        assert_eq!(short_duration(Duration::from_millis(250)), "250ms");
        assert_eq!(short_duration(Duration::from_secs(45)), "45s");
        assert_eq!(short_duration(Duration::from_millis(4500)), "4.5s");
        assert_eq!(short_duration(Duration::from_millis(2000)), "2s");
        assert_eq!(short_duration(Duration::from_secs(200)), "3m 20s");
        assert_eq!(short_duration(Duration::from_secs(7500)), "2h 5m");
        assert_eq!(
            short_duration(Duration::from_secs(4 * 86400 + 3 * 3600)),
            "4d 3h"
        );
    }
}
