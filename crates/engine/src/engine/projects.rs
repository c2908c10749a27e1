//! Projects (`sentinel up`): a project file's jobs applied as a whole — added, updated and the
//! ones the file dropped removed — then started in dependency order.

use std::collections::{BTreeMap, BTreeSet};

use sentinel_proto::action::{Action, Selection, MAX_SELECTED_NAMES};
use sentinel_proto::config::{job_field, ConfigFile};
use sentinel_proto::project::{
    comes_up, project_name_problem, ProjectRef, ProjectSpec, ProjectSummary, ProjectUp,
};
use sentinel_proto::{FieldError, JobKind, JobState, JobStatus, ValidationErrors};

use super::definitions::Replace;
use super::EngineHandle;
use crate::error::{action_results, EngineError, Result};

impl EngineHandle {
    /// Makes the project's jobs what `project` says and starts them: services that are not
    /// running, and on-demand tasks that are new, changed or did not succeed last time (an
    /// `up` again leaves a finished migration alone). Unchanged running jobs are left as they
    /// are; changed ones restart when the change needs it. All definitions or none.
    pub async fn up(&self, project: ProjectSpec) -> Result<ProjectUp> {
        self.check_project(&project)?;
        let plan = self
            .apply_definitions(
                ConfigFile::new(project.jobs.clone()),
                Replace::Project(&project.name),
                false,
            )
            .await?;
        let changed: BTreeSet<&String> = plan.add.iter().chain(&plan.update).collect();
        let statuses: BTreeMap<String, JobStatus> = self
            .list()
            .into_iter()
            .map(|status| (status.name.clone(), status))
            .collect();
        let starts: Vec<String> = project
            .jobs
            .iter()
            .filter(|job| {
                let done = statuses.get(&job.name).is_some_and(succeeded);
                comes_up(job)
                    && (job.kind == JobKind::Service || changed.contains(&job.name) || !done)
            })
            .map(|job| job.name.clone())
            .collect();
        let started = if starts.is_empty() {
            Vec::new()
        } else {
            action_results(self.act(Action::Start, &Selection::Names(starts)).await?)
        };
        Ok(ProjectUp { plan, started })
    }

    /// Every project the engine has jobs of, by name.
    pub fn projects(&self) -> Vec<ProjectSummary> {
        let mut projects: BTreeMap<String, ProjectSummary> = BTreeMap::new();
        for job in self.read_jobs().values() {
            if let Some(ProjectRef { name, file }) = &job.spec.project {
                projects
                    .entry(name.clone())
                    .or_insert_with(|| ProjectSummary {
                        name: name.clone(),
                        file: file.clone(),
                        jobs: Vec::new(),
                    })
                    .jobs
                    .push(job.spec.name.clone());
            }
        }
        projects.into_values().collect()
    }

    /// A project's jobs all say they are its own and from its file, and none takes the name
    /// of a job outside it.
    fn check_project(&self, project: &ProjectSpec) -> Result<()> {
        let invalid = |field: String, message: String| {
            EngineError::Invalid(ValidationErrors(vec![FieldError { field, message }]))
        };
        if let Some(message) = project_name_problem(&project.name) {
            return Err(invalid("name".into(), message));
        }
        if project.jobs.len() > MAX_SELECTED_NAMES {
            return Err(invalid(
                "jobs".into(),
                format!(
                    "{} jobs are more than a project may hold ({MAX_SELECTED_NAMES})",
                    project.jobs.len()
                ),
            ));
        }
        let own = ProjectRef {
            name: project.name.clone(),
            file: project.file.clone(),
        };
        let jobs = self.read_jobs();
        let mut problems = Vec::new();
        for (index, spec) in project.jobs.iter().enumerate() {
            if spec.project.as_ref() != Some(&own) {
                problems.push(FieldError {
                    field: job_field(index, &spec.name, "project"),
                    message: format!(
                        "must be {{ name = {:?}, file = {:?} }}, the project's own",
                        own.name,
                        own.file.display().to_string()
                    ),
                });
            }
            let elsewhere = jobs.get(&spec.name).and_then(|job| {
                (job.spec.project.as_ref().map(|p| &p.name) != Some(&own.name)).then_some(&job.spec)
            });
            if let Some(other) = elsewhere {
                problems.push(FieldError {
                    field: job_field(index, &spec.name, "name"),
                    message: match &other.project {
                        Some(p) => format!("{:?} belongs to project {:?}", spec.name, p.name),
                        None => format!(
                            "a job named {:?} exists outside the project; remove or rename it",
                            spec.name
                        ),
                    },
                });
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(EngineError::Invalid(ValidationErrors(problems)))
        }
    }
}

/// A task whose last run ended well and that is not running now.
fn succeeded(status: &JobStatus) -> bool {
    matches!(status.state, JobState::Exited { .. })
        && status
            .last_exit
            .as_ref()
            .is_some_and(|exit| exit.code == Some(0))
}
