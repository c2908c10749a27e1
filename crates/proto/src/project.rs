//! Projects: a `sentinel.toml` in a repository holds a stack's jobs under short names; the
//! engine keeps them as `PROJECT.NAME`, so two projects may both have a `web`. Reading the file
//! (scoping the names, resolving paths against the file's directory) happens here, once, for
//! the CLI's `up`, the app's Up button and the MCP server alike.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub mod timings;

use crate::config::{ConfigFile, ConfigFormat, CONFIG_VERSION};
use crate::job::JobSpec;
use crate::validate::FieldError;

/// The file `sentinel up` looks for.
pub const PROJECT_FILE: &str = "sentinel.toml";

/// The longest project name; it prefixes every job name, which must fit in 64 bytes.
pub const MAX_PROJECT_NAME: usize = 32;

/// The project a job belongs to, and the file it came from.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ProjectRef {
    pub name: String,
    /// The project file, absolute.
    #[schema(value_type = String)]
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub file: PathBuf,
}

/// `POST /api/projects/up`: a project's whole definition, names already scoped. The engine
/// adds, updates and removes the project's jobs to match, then starts them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectSpec {
    pub name: String,
    #[schema(value_type = String)]
    pub file: PathBuf,
    pub jobs: Vec<JobSpec>,
}

/// What `up` did: the definitions it changed and the jobs it started.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ProjectUp {
    pub plan: crate::config::ImportPlan,
    pub started: Vec<crate::ActionResult>,
}

/// A project as the engine knows it: its file and its jobs' names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ProjectSummary {
    pub name: String,
    #[schema(value_type = String)]
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub file: PathBuf,
    pub jobs: Vec<String>,
}

/// Whether `up` starts the job: enabled jobs that start on their own, except tasks that wait for
/// their schedule. The engine starts these and `sentinel up` waits for them.
pub fn comes_up(job: &JobSpec) -> bool {
    job.enabled && job.autostart && !(job.kind == crate::JobKind::Task && job.schedule.is_some())
}

/// The name a job of `project` has in the engine.
pub fn scoped(project: &str, job: &str) -> String {
    format!("{project}.{job}")
}

/// 1–32 of `A-Za-z0-9_-`: no dot, so that `PROJECT.NAME` splits one way.
pub fn project_name_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("is empty".into());
    }
    if name.len() > MAX_PROJECT_NAME {
        return Some(format!(
            "{name:?} is {} bytes; use at most {MAX_PROJECT_NAME}",
            name.len()
        ));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '-'))
    {
        return Some(format!(
            "{name:?} has {bad:?}; use letters, digits, '_' and '-'"
        ));
    }
    None
}

impl ProjectSpec {
    /// Reads a project file: the job-file format plus an optional `project = "NAME"` (the
    /// directory's name by default). `version` may be left out. Names are scoped to the
    /// project, dependencies on jobs of the file follow them, and relative `cwd`, `env_files`
    /// and `watch.paths` are read from the file's directory (an absent `cwd` is that
    /// directory). All problems or nothing.
    pub fn read(
        text: &str,
        format: ConfigFormat,
        file: &Path,
    ) -> Result<ProjectSpec, Vec<FieldError>> {
        let written: ProjectFile = crate::config::deserialize(text, format)?;
        ProjectSpec::from_jobs(written.project, written.version, written.jobs, file)
    }

    /// A project of `jobs` as written in `file` (by `read`, or converted from another tool's
    /// file): paths resolved, every job checked, names scoped. `name` defaults to the file's
    /// directory's.
    pub fn from_jobs(
        name: Option<String>,
        version: u32,
        mut jobs: Vec<JobSpec>,
        file: &Path,
    ) -> Result<ProjectSpec, Vec<FieldError>> {
        let error = |field: &str, message: String| {
            vec![FieldError {
                field: field.into(),
                message,
            }]
        };
        if !file.is_absolute() {
            return Err(error(
                "file",
                format!("{} is not an absolute path", file.display()),
            ));
        }
        let dir = file.parent().unwrap_or(Path::new("/"));
        for job in &mut jobs {
            resolve_paths(job, dir);
        }
        let config = ConfigFile { version, jobs }.check()?;
        let name = match name {
            Some(name) => name,
            None => dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
        };
        if let Some(problem) = project_name_problem(&name) {
            return Err(error(
                "project",
                format!("{problem} (set project = \"NAME\" in the file to choose the name)"),
            ));
        }
        let locals: BTreeSet<String> = config.jobs.iter().map(|job| job.name.clone()).collect();
        let reference = ProjectRef {
            name: name.clone(),
            file: file.to_path_buf(),
        };
        let mut errors = Vec::new();
        let jobs = config
            .jobs
            .into_iter()
            .enumerate()
            .map(|(index, mut job)| {
                let local = job.name.clone();
                job.name = scoped(&name, &local);
                if job.name.len() > 64 {
                    errors.push(FieldError {
                        field: format!("jobs[{index}] ({local}).name"),
                        message: format!(
                            "{:?} is longer than 64 bytes with the project's name; shorten one",
                            job.name
                        ),
                    });
                }
                for dependency in &mut job.depends_on {
                    if locals.contains(&dependency.job) {
                        dependency.job = scoped(&name, &dependency.job);
                    }
                }
                job.project = Some(reference.clone());
                job
            })
            .collect();
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(ProjectSpec {
            name,
            file: file.to_path_buf(),
            jobs,
        })
    }

    /// The project's jobs, as the engine keeps them.
    pub fn names(&self) -> Vec<String> {
        self.jobs.iter().map(|job| job.name.clone()).collect()
    }
}

/// Relative paths are read from the project file's directory, which is also the default cwd.
fn resolve_paths(job: &mut JobSpec, dir: &Path) {
    job.cwd = Some(match job.cwd.take() {
        Some(cwd) => dir.join(cwd),
        None => dir.to_path_buf(),
    });
    for env_file in &mut job.env_files {
        *env_file = dir.join(&*env_file);
    }
    if let Some(watch) = &mut job.watch {
        for path in &mut watch.paths {
            *path = dir.join(&*path);
        }
    }
}

/// A project file as written: a job file with an optional name and version.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProjectFile {
    #[serde(default)]
    project: Option<String>,
    #[serde(default = "config_version")]
    version: u32,
    #[serde(default)]
    jobs: Vec<JobSpec>,
}

fn config_version() -> u32 {
    CONFIG_VERSION
}

#[cfg(test)]
mod tests;
