//! `sentinel export --as kubernetes`: jobs as Kubernetes manifests, one multi-document YAML
//! text. Services become Deployments, scheduled tasks CronJobs, one-time and on-demand tasks
//! Jobs; env files a ConfigMap and secret variables a Secret per job. Pure text generation
//! from the definitions (and the variables the engine read from their env files), tested on
//! any platform; what Kubernetes does not do, or does differently, is written as comments
//! above the job's manifests, like the launchd and systemd hand-offs' notes.

mod env;
mod pod;
mod schedule;
#[cfg(test)]
mod tests;
mod yaml;

use std::collections::BTreeMap;

use sentinel_proto::schedule::{MissedPolicy, Overlap, When};
use sentinel_proto::secret::Secrets;
use sentinel_proto::stack::EnvVar;
use sentinel_proto::{JobKind, JobSpec, RestartMode};

use crate::error::CliError;
use yaml::Node;

/// One job to write, with what its env files hold.
#[derive(Debug, Clone)]
pub struct Job {
    pub spec: JobSpec,
    /// The variables of its next run as the engine resolves them (env files, then `env`), or
    /// why the engine could not read an env file. Only asked for jobs that have env files.
    pub file_env: Result<Vec<EnvVar>, String>,
}

#[derive(Debug, Clone)]
pub struct Options {
    /// The image every container runs its job's command in.
    pub image: String,
    /// Whether secret values may be written (they arrive masked otherwise).
    pub secrets: Secrets,
    /// The IANA zone cron expressions are read in (SentinelZero reads them in local time).
    pub time_zone: Option<String>,
}

/// Labels every object carries; `managed-by` says these came from an export.
const MANAGED_BY: &str = "sentinelzero-export";

/// Longest CronJob name: the controller appends an 11-character suffix to name its Jobs,
/// which must stay within 63.
const MAX_CRONJOB_NAME: usize = 52;
const MAX_LABEL: usize = 63;

/// A manifest and the comments written above it.
struct Manifest {
    comments: Vec<String>,
    node: Node,
}

/// What a job becomes.
enum Workload {
    Deployment,
    CronJob(schedule::Cron),
    /// A one-time or on-demand task.
    Job,
}

impl Workload {
    fn of(spec: &JobSpec, time_zone: Option<&str>) -> Result<(Workload, Vec<String>), CliError> {
        let mut notes = Vec::new();
        if spec.kind == JobKind::Service {
            return Ok((Workload::Deployment, notes));
        }
        let Some(spec_schedule) = &spec.schedule else {
            notes.push(
                "an on-demand task: the Job runs once when it is applied (delete and apply it again to run it again)"
                    .into(),
            );
            return Ok((Workload::Job, notes));
        };
        let when = spec_schedule.when().map_err(|(field, message)| {
            CliError::Other(format!("job {:?}: {field}: {message}", spec.name))
        })?;
        let cron = match when {
            When::At(at) => {
                let at = at.to_rfc3339();
                notes.push(format!(
                    "scheduled once at {at}: a Job runs when it is applied, so apply it then"
                ));
                return Ok((Workload::Job, notes));
            }
            When::Cron { source, .. } => schedule::from_cron(&source, time_zone, &mut notes),
            When::Every(every) => schedule::from_every(every, &mut notes),
        };
        Ok((Workload::CronJob(cron), notes))
    }

    fn kind(&self) -> &'static str {
        match self {
            Workload::Deployment => "Deployment",
            Workload::CronJob(_) => "CronJob",
            Workload::Job => "Job",
        }
    }

    fn max_name(&self) -> usize {
        match self {
            Workload::CronJob(_) => MAX_CRONJOB_NAME,
            _ => MAX_LABEL,
        }
    }
}

/// The jobs as manifests: a header, then each job's ConfigMap, Secret and workload.
pub fn render(jobs: &[Job], options: &Options) -> Result<String, CliError> {
    check_image(&options.image)?;
    if jobs.is_empty() {
        return Err(CliError::Other("no jobs to export".into()));
    }
    let mut planned = Vec::new();
    let mut taken: BTreeMap<String, &str> = BTreeMap::new();
    for job in jobs {
        let (workload, notes) = Workload::of(&job.spec, options.time_zone.as_deref())?;
        let name = resource_name(&job.spec.name, workload.max_name())?;
        if let Some(other) = taken.insert(name.clone(), &job.spec.name) {
            return Err(CliError::Other(format!(
                "jobs {other:?} and {:?} would both be named {name:?} in Kubernetes (names are lowercase, with - for . and _); rename one, or export them separately",
                job.spec.name
            )));
        }
        planned.push((job, workload, name, notes));
    }
    let mut out = header(jobs.len(), options);
    for (job, workload, name, notes) in planned {
        for manifest in job_manifests(job, workload, &name, notes, options)? {
            out.push_str("---\n");
            for line in &manifest.comments {
                out.push_str(&yaml::comment(line));
            }
            out.push_str(&yaml::to_yaml(&manifest.node));
        }
    }
    Ok(out)
}

fn header(count: usize, options: &Options) -> String {
    let jobs = if count == 1 { "job" } else { "jobs" };
    [
        format!("Kubernetes manifests for {count} {jobs}, written by `sentinel export --as kubernetes` (SentinelZero)."),
        format!("Every container runs its job's command in the image {}: it must hold the programs, files and working directories the commands use.", options.image),
        "The notes above each job's manifests say what SentinelZero did that Kubernetes does not, or does differently.".into(),
        "Failure notifications and webhooks stay with SentinelZero: use the cluster's own alerting.".into(),
    ]
    .iter()
    .map(|line| yaml::comment(line))
    .collect()
}

/// An image reference: something, with no whitespace or control characters.
fn check_image(image: &str) -> Result<(), CliError> {
    if image.trim().is_empty() {
        return Err(CliError::Usage(
            "--image is empty; give the image the jobs' commands run in (e.g. example/app:1.0)"
                .into(),
        ));
    }
    if image.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(CliError::Usage(format!(
            "--image {image:?} is not an image reference: it holds whitespace"
        )));
    }
    Ok(())
}

/// A DNS-1123 label from a job name: lowercase letters, digits and `-` (for `.` and `_`),
/// starting and ending with a letter or digit, at most `max` characters.
pub fn resource_name(job: &str, max: usize) -> Result<String, CliError> {
    let mapped: String = job
        .chars()
        .map(|c| match c.to_ascii_lowercase() {
            c @ ('a'..='z' | '0'..='9') => c,
            _ => '-',
        })
        .take(max)
        .collect();
    let name = mapped.trim_matches('-').to_string();
    if name.is_empty() {
        return Err(CliError::Other(format!(
            "job {job:?}: its name has no letter or digit to make a Kubernetes name of"
        )));
    }
    Ok(name)
}

/// A label value from a group or project name: at most 63 of `A-Za-z0-9._-`, starting and
/// ending with a letter or digit; `None` when nothing is left.
fn label_value(text: &str) -> Option<String> {
    let mapped: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '-'
            }
        })
        .take(MAX_LABEL)
        .collect();
    let value = mapped.trim_matches(|c: char| !c.is_ascii_alphanumeric());
    (!value.is_empty()).then(|| value.to_string())
}

fn labels(spec: &JobSpec, name: &str) -> Node {
    let mut labels = Node::map([("app.kubernetes.io/name", Node::str(name))]);
    let part_of = spec
        .group
        .as_deref()
        .or(spec.project.as_ref().map(|p| p.name.as_str()))
        .and_then(label_value);
    if let Some(part_of) = part_of {
        labels.push("app.kubernetes.io/part-of", Node::str(part_of));
    }
    labels.push("app.kubernetes.io/managed-by", Node::str(MANAGED_BY));
    labels
}

fn metadata(name: &str, labels: &Node) -> Node {
    Node::map([("name", Node::str(name)), ("labels", labels.clone())])
}

/// A job's manifests in the order they are applied: its ConfigMap and Secret, then the
/// workload that refers to them. The job's notes go above the first.
fn job_manifests(
    job: &Job,
    workload: Workload,
    name: &str,
    mut notes: Vec<String>,
    options: &Options,
) -> Result<Vec<Manifest>, CliError> {
    let spec = &job.spec;
    let labels = labels(spec, name);
    let mut headline = format!(
        "job {:?} ({}) -> {} {name}",
        spec.name,
        kind_word(spec),
        workload.kind()
    );
    if name != spec.name {
        headline.push_str(&format!(
            " (renamed: Kubernetes names are lowercase letters, digits and -, at most {})",
            workload.max_name()
        ));
    }
    let env = env::environment(job, name, &labels, options.secrets, &mut notes);
    let container = pod::container(spec, name, &options.image, &env, &mut notes)?;
    let node = match workload {
        Workload::Deployment => deployment(spec, name, &labels, container, &mut notes),
        Workload::CronJob(cron) => cron_job(spec, name, &labels, cron, container, &mut notes),
        Workload::Job => batch_job(spec, name, &labels, container, &mut notes),
    };
    notes.extend(pod::left_behind(spec));
    let mut manifests: Vec<Manifest> = env.manifests;
    manifests.push(Manifest {
        comments: Vec::new(),
        node,
    });
    let mut comments = vec![headline];
    comments.extend(notes.into_iter().map(|note| format!("- {note}")));
    if let Some(first) = manifests.first_mut() {
        comments.append(&mut first.comments);
        first.comments = comments;
    }
    Ok(manifests)
}

fn kind_word(spec: &JobSpec) -> &'static str {
    match (spec.kind, &spec.schedule) {
        (JobKind::Service, _) => "service",
        (JobKind::Task, Some(_)) => "scheduled task",
        (JobKind::Task, None) => "task",
    }
}

fn deployment(
    spec: &JobSpec,
    name: &str,
    labels: &Node,
    container: Node,
    notes: &mut Vec<String>,
) -> Node {
    // One note for the policy: a Deployment restarts after every exit and never gives up.
    let retries = spec.restart.max_retries;
    let gives_up = match retries {
        0 => String::new(),
        n => format!(" and max_retries = {n}"),
    };
    match spec.restart.mode {
        RestartMode::Always if retries == 0 => {}
        RestartMode::Always | RestartMode::OnFailure => notes.push(format!(
            "restart = {}{gives_up}: a Deployment restarts its container after every exit, clean or not, and never gives up (it backs off: CrashLoopBackOff)",
            spec.restart.mode
        )),
        RestartMode::Never => notes.push(
            "restart = never: a Deployment always restarts its container; make the job a task (a Job) to run it once"
                .into(),
        ),
    }
    let replicas = if spec.enabled {
        if !spec.autostart {
            notes.push("autostart = false: the Deployment starts when it is applied".into());
        }
        1
    } else {
        notes.push("disabled: written with replicas: 0 (scale it to 1 to run it)".into());
        0
    };
    let selector = Node::map([("app.kubernetes.io/name", Node::str(name))]);
    Node::map([
        ("apiVersion", Node::str("apps/v1")),
        ("kind", Node::str("Deployment")),
        ("metadata", metadata(name, labels)),
        (
            "spec",
            Node::map([
                ("replicas", Node::Int(replicas)),
                ("selector", Node::map([("matchLabels", selector)])),
                ("template", pod::template(spec, labels, "Always", container)),
            ]),
        ),
    ])
}

/// A task's restart policy as a Job's: the pod's restartPolicy and the Job's backoffLimit.
fn job_spec(spec: &JobSpec, labels: &Node, container: Node, notes: &mut Vec<String>) -> Node {
    let policy = &spec.restart;
    let (restart_policy, backoff) = match policy.mode {
        RestartMode::Never => ("Never", Some(0)),
        mode => {
            if mode == RestartMode::Always {
                notes.push(
                    "restart = always also reruns a task after a clean exit; a Job ends at its first success"
                        .into(),
                );
            }
            if policy.max_retries == 0 {
                notes.push(
                    "max_retries = 0 (retry forever) has no Job equivalent: backoffLimit is left at Kubernetes' default (6)"
                        .into(),
                );
                ("OnFailure", None)
            } else {
                ("OnFailure", Some(policy.max_retries))
            }
        }
    };
    let mut job = Node::map::<&str>([]);
    if let Some(limit) = backoff {
        job.push("backoffLimit", Node::uint(u64::from(limit)));
    }
    job.push(
        "template",
        pod::template(spec, labels, restart_policy, container),
    );
    job
}

fn cron_job(
    spec: &JobSpec,
    name: &str,
    labels: &Node,
    cron: schedule::Cron,
    container: Node,
    notes: &mut Vec<String>,
) -> Node {
    let mut cron_spec = Node::map([("schedule", Node::str(cron.expr))]);
    if let Some(zone) = cron.time_zone {
        cron_spec.push("timeZone", Node::str(zone));
    }
    let (overlap, missed) = spec
        .schedule
        .as_ref()
        .map(|s| (s.overlap, s.missed))
        .unwrap_or_default();
    let concurrency = match overlap {
        Overlap::Skip => "Forbid",
        Overlap::Queue => {
            notes.push(
                "overlap = queue: Kubernetes cannot queue a run behind a running one; Forbid skips it instead"
                    .into(),
            );
            "Forbid"
        }
        Overlap::Replace => "Replace",
    };
    cron_spec.push("concurrencyPolicy", Node::str(concurrency));
    if missed == MissedPolicy::Skip {
        // Kubernetes otherwise starts one run for the times it missed, like missed = run-once.
        cron_spec.push("startingDeadlineSeconds", Node::Int(60));
        notes.push(
            "missed = skip: a run that cannot start within 60 s of its time is skipped (startingDeadlineSeconds)"
                .into(),
        );
    }
    if !spec.enabled || !cron.exact {
        cron_spec.push("suspend", Node::Bool(true));
        if !spec.enabled {
            notes.push("disabled: written suspended (set suspend: false to run it)".into());
        }
    }
    let job_metadata = Node::map([("labels", labels.clone())]);
    cron_spec.push(
        "jobTemplate",
        Node::map([
            ("metadata", job_metadata),
            ("spec", job_spec(spec, labels, container, notes)),
        ]),
    );
    Node::map([
        ("apiVersion", Node::str("batch/v1")),
        ("kind", Node::str("CronJob")),
        ("metadata", metadata(name, labels)),
        ("spec", cron_spec),
    ])
}

fn batch_job(
    spec: &JobSpec,
    name: &str,
    labels: &Node,
    container: Node,
    notes: &mut Vec<String>,
) -> Node {
    let mut job = job_spec(spec, labels, container, notes);
    if !spec.enabled {
        notes.push("disabled: written suspended (set suspend: false to run it)".into());
        if let Node::Map(entries) = &mut job {
            entries.insert(0, ("suspend".into(), Node::Bool(true)));
        }
    }
    Node::map([
        ("apiVersion", Node::str("batch/v1")),
        ("kind", Node::str("Job")),
        ("metadata", metadata(name, labels)),
        ("spec", job),
    ])
}
