//! The job tables: `sentinel ls` and `sentinel top`.

use sentinel_proto::{JobState, JobStatus};

use super::{bytes, exit_text, pid_of, timing, Style};
use crate::args::TopOrder;

/// The column of each row that shows its state, coloured by it.
const STATE_COLUMN: usize = 1;

/// Columns as wide as their widest cell, two spaces apart, each line without trailing blanks;
/// `right_aligned` columns are aligned right, the state column coloured by each row's state.
fn render(
    header: &[&str],
    rows: &[(Vec<String>, &JobState)],
    right_aligned: &[usize],
    style: &Style,
) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for (cells, _) in rows {
        for (width, cell) in widths.iter_mut().zip(cells) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let pad = |column: usize, text: &str| {
        let width = widths[column];
        if right_aligned.contains(&column) {
            format!("{text:>width$}")
        } else {
            format!("{text:<width$}")
        }
    };
    let mut out = String::new();
    let line: Vec<String> = header
        .iter()
        .enumerate()
        .map(|(column, title)| pad(column, title))
        .collect();
    out.push_str(line.join("  ").trim_end());
    out.push('\n');
    for (cells, state) in rows {
        let line: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(column, cell)| {
                let padded = pad(column, cell);
                if column == STATE_COLUMN {
                    style.state(state, &padded)
                } else {
                    padded
                }
            })
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out
}

/// The `sentinel ls` table; a PROJECT column when any job belongs to one (`sentinel up`).
pub fn job_table(jobs: &[JobStatus], style: &Style) -> String {
    let projects = jobs.iter().any(|job| job.project.is_some());
    let mut header = vec![
        "NAME",
        "STATE",
        "PID",
        "UPTIME",
        "RESTARTS",
        "LAST EXIT",
        "GROUP",
    ];
    if projects {
        header.push("PROJECT");
    }
    let rows: Vec<(Vec<String>, &JobState)> = jobs
        .iter()
        .map(|job| {
            let mut cells = vec![
                job.name.clone(),
                job.state.name().to_string(),
                pid_of(&job.state).map_or("-".into(), |p| p.to_string()),
                timing(job),
                job.restarts.to_string(),
                job.last_exit.as_ref().map_or("-".into(), exit_text),
                job.group.clone().unwrap_or_else(|| "-".into()),
            ];
            if projects {
                cells.push(job.project_name().unwrap_or("-").to_string());
            }
            (cells, &job.state)
        })
        .collect();
    render(&header, &rows, &[], style)
}

/// The `sentinel top` table, in the chosen order.
pub fn top_table(jobs: &[JobStatus], order: TopOrder, style: &Style) -> String {
    let mut jobs: Vec<&JobStatus> = jobs.iter().collect();
    let cpu = |j: &JobStatus| j.resources.as_ref().map_or(-1.0, |r| r.cpu_percent);
    let memory = |j: &JobStatus| j.resources.as_ref().map_or(0, |r| r.memory_bytes);
    match order {
        TopOrder::Cpu => jobs.sort_by(|a, b| cpu(b).total_cmp(&cpu(a))),
        TopOrder::Memory => jobs.sort_by_key(|j| std::cmp::Reverse(memory(j))),
        TopOrder::Name => jobs.sort_by(|a, b| a.name.cmp(&b.name)),
    }
    let header = [
        "NAME", "STATE", "PID", "CPU%", "MEM", "PROCS", "READ", "WRITTEN", "HEALTH", "UPTIME",
    ];
    let rows: Vec<(Vec<String>, &JobState)> = jobs
        .iter()
        .map(|job| {
            let sample = job.resources.as_ref();
            (
                vec![
                    job.name.clone(),
                    job.state.name().to_string(),
                    pid_of(&job.state).map_or("-".into(), |p| p.to_string()),
                    sample.map_or("-".into(), |s| format!("{:.1}", s.cpu_percent)),
                    sample.map_or("-".into(), |s| bytes(s.memory_bytes)),
                    sample.map_or("-".into(), |s| s.processes.to_string()),
                    sample.map_or("-".into(), |s| bytes(s.disk_read_bytes)),
                    sample.map_or("-".into(), |s| bytes(s.disk_written_bytes)),
                    job.health.map_or("-".into(), |h| h.as_str().to_string()),
                    timing(job),
                ],
                &job.state,
            )
        })
        .collect();
    // The figures: CPU%, MEM, PROCS, READ and WRITTEN.
    render(&header, &rows, &[3, 4, 5, 6, 7], style)
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;

    #[test]
    fn tables_have_no_colour_when_piped() {
        let style = Style { colour: false };
        let job = JobStatus {
            name: "api".into(),
            group: Some("web".into()),
            project: None,
            kind: sentinel_proto::JobKind::Service,
            enabled: true,
            state: JobState::Failed {
                reason: "x".into(),
                since: Utc::now(),
            },
            restarts: 5,
            failures: 6,
            last_exit: None,
            next_run_at: None,
            health: None,
            resources: None,
            log_error: None,
            startup: None,
        };
        let table = job_table(&[job], &style);
        assert!(!table.contains('\x1b'));
        assert_eq!(
            table
                .lines()
                .nth(1)
                .unwrap()
                .split_whitespace()
                .collect::<Vec<_>>(),
            vec!["api", "failed", "-", "-", "5", "-", "web"]
        );
        let coloured = job_table(&[], &Style { colour: true });
        assert!(coloured.starts_with("NAME"));
    }

    #[test]
    fn top_aligns_its_figures_right_and_its_names_left() {
        let mut job = JobStatus::new(
            "api",
            sentinel_proto::JobKind::Service,
            JobState::Running {
                pid: 42,
                since: Utc::now(),
            },
        );
        job.resources = Some(sentinel_proto::ResourceSample {
            at: Utc::now(),
            cpu_percent: 5.0,
            memory_bytes: 1024,
            processes: 2,
            disk_read_bytes: 0,
            disk_written_bytes: 0,
            cpu_seconds: 0.0,
        });
        let table = top_table(&[job], TopOrder::Cpu, &Style { colour: false });
        let (header, row) = (table.lines().next().unwrap(), table.lines().nth(1).unwrap());
        let right_edge = |line: &str, text: &str| line.find(text).unwrap() + text.len();
        assert_eq!(
            right_edge(header, "CPU%"),
            right_edge(row, "5.0"),
            "{table}"
        );
        assert_eq!(header.find("PID"), row.find("42"), "{table}");
    }
}
