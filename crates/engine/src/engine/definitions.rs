//! Definitions: adding, changing, removing, exporting and importing jobs.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use chrono::Utc;
use sentinel_proto::config::{job_field, ConfigFile, ImportPlan};
use sentinel_proto::secret::Secrets;
use sentinel_proto::ValidationErrors;
use sentinel_proto::{EngineEvent, FieldError, JobKind, JobSpec, JobStatus, Trigger};

use super::{EngineHandle, Registered};
use crate::error::{EngineError, Result};
use crate::job::{graph, spawn_job};
use crate::schedule::refuse_unschedulable;

impl EngineHandle {
    /// Adds a job. An enabled `autostart` service starts right away, as it would with the
    /// engine.
    pub async fn add(&self, mut spec: JobSpec) -> Result<JobStatus> {
        self.refuse_if_shutting_down()?;
        let _edit = self.inner.edits.lock().await;
        self.prepare(&mut spec, None)?;
        self.inner.context.store.insert_job(&spec).await?;
        self.install(spec).await
    }

    /// What `add` (no `original`) or `update` of `original` would refuse `spec` for, changing
    /// nothing: the editor shows it before the user saves.
    pub fn check(&self, spec: &JobSpec, original: Option<&str>) -> Result<()> {
        self.prepare(&mut spec.clone(), original)
    }

    /// The one check of a definition on its way in, for adds (no `original`) and updates:
    /// the name is free (or unchanged), masked secrets are filled from the stored definition,
    /// every field is within its bounds, the schedule fires, and the dependencies hold.
    fn prepare(&self, spec: &mut JobSpec, original: Option<&str>) -> Result<()> {
        let stored = match original {
            Some(original) => {
                if let Some(problem) = spec.rename_problem(original) {
                    return Err(EngineError::Invalid(ValidationErrors(vec![problem])));
                }
                Some(self.spec_and_status(original)?.0)
            }
            None if self.read_jobs().contains_key(&spec.name) => {
                return Err(EngineError::AlreadyExists(spec.name.clone()));
            }
            None => None,
        };
        prepare_spec(spec, stored.as_ref()).map_err(EngineError::Invalid)?;
        self.check_dependencies(std::slice::from_ref(spec), &[], false)
    }

    /// Runs a job that is in the database: its actor, schedule and autostart.
    async fn install(&self, spec: JobSpec) -> Result<JobStatus> {
        let spec = Arc::new(spec);
        let handle = spawn_job(spec.clone(), self.inner.context.clone());
        self.write_jobs().insert(
            spec.name.clone(),
            Registered {
                spec: spec.clone(),
                handle: handle.clone(),
            },
        );
        self.inner.context.emit(EngineEvent::JobAdded {
            job: spec.name.clone(),
            status: Box::new(handle.status()),
        });
        self.inner
            .scheduler
            .plan(&spec, handle.clone(), None, Utc::now());
        if starts_with_engine(&spec) {
            return handle.start(Trigger::Autostart).await;
        }
        Ok(handle.status())
    }

    /// Replaces a job's definition. A running job is restarted only when the change needs it
    /// (command, shell, cwd, env, kind); disabling stops it.
    pub async fn update(&self, mut spec: JobSpec) -> Result<JobStatus> {
        self.refuse_if_shutting_down()?;
        let _edit = self.inner.edits.lock().await;
        let name = spec.name.clone();
        self.prepare(&mut spec, Some(&name))?;
        self.inner.context.store.update_job(&spec).await?;
        self.reinstall(spec).await
    }

    /// Applies a definition already in the database to the running job.
    async fn reinstall(&self, spec: JobSpec) -> Result<JobStatus> {
        let handle = self.handle(&spec.name)?;
        let spec = Arc::new(spec);
        if let Some(job) = self.write_jobs().get_mut(&spec.name) {
            job.spec = spec.clone();
        }
        let restarted = handle.update(spec.clone()).await?;
        self.inner
            .scheduler
            .plan(&spec, handle.clone(), None, Utc::now());
        let status = handle.status();
        self.inner.context.emit(EngineEvent::JobUpdated {
            job: spec.name.clone(),
            restarted,
            status: Box::new(status.clone()),
        });
        Ok(status)
    }

    /// Stops a job (the whole process group) and forgets it and its run history.
    pub async fn remove(&self, name: &str) -> Result<()> {
        let _edit = self.inner.edits.lock().await;
        self.handle(name)?;
        self.uninstall(name).await;
        self.inner.context.store.delete_job(name).await
    }

    async fn uninstall(&self, name: &str) {
        let Ok(handle) = self.handle(name) else {
            return;
        };
        // First, so that nobody waits on a status that is about to close.
        self.inner.context.unlist_job(name);
        self.inner.scheduler.forget(name);
        handle.shutdown().await;
        self.write_jobs().remove(name);
        self.inner.context.resources.forget(name);
        self.inner.context.emit(EngineEvent::JobRemoved {
            job: name.to_string(),
        });
    }

    /// The definitions of all jobs, a group, or named jobs, as a job file.
    pub fn export(
        &self,
        group: Option<&str>,
        names: &[String],
        secrets: Secrets,
    ) -> Result<ConfigFile> {
        let jobs = self.read_jobs();
        if let Some(missing) = names.iter().find(|name| !jobs.contains_key(*name)) {
            return Err(EngineError::NotFound(missing.clone()));
        }
        let specs = jobs
            .values()
            .filter(|job| names.is_empty() || names.contains(&job.spec.name))
            .filter(|job| group.is_none() || job.spec.group.as_deref() == group)
            .map(|job| JobSpec::clone(&job.spec).with_secrets(secrets))
            .collect();
        Ok(ConfigFile::new(specs))
    }

    /// Imports a job file: adds new jobs, updates changed ones, and with `replace` removes
    /// the jobs the file does not have. All or nothing; `dry_run` only says what would change.
    pub async fn import(
        &self,
        file: ConfigFile,
        replace: bool,
        dry_run: bool,
    ) -> Result<ImportPlan> {
        let scope = if replace {
            Replace::All
        } else {
            Replace::Nothing
        };
        self.apply_definitions(file, scope, dry_run).await
    }

    /// Adds, updates and (within `replace`) removes definitions to match `file`: the one path
    /// of an import and of a project's `up`.
    pub(super) async fn apply_definitions(
        &self,
        mut file: ConfigFile,
        replace: Replace<'_>,
        dry_run: bool,
    ) -> Result<ImportPlan> {
        self.refuse_if_shutting_down()?;
        let _edit = self.inner.edits.lock().await;
        let mut plan = ImportPlan::default();
        let mut problems = Vec::new();
        {
            let jobs = self.read_jobs();
            for (index, spec) in file.jobs.iter_mut().enumerate() {
                let known = jobs.get(&spec.name);
                if let Err(errors) = prepare_spec(spec, known.map(|job| &*job.spec)) {
                    problems.extend(errors.0.into_iter().map(|e| FieldError {
                        field: job_field(index, &spec.name, &e.field),
                        message: e.message,
                    }));
                }
                match known {
                    None => plan.add.push(spec.name.clone()),
                    Some(job) if *job.spec == *spec => plan.unchanged.push(spec.name.clone()),
                    Some(_) => plan.update.push(spec.name.clone()),
                }
            }
            let keep: BTreeSet<&str> = file.jobs.iter().map(|spec| spec.name.as_str()).collect();
            plan.remove = jobs
                .values()
                .filter(|job| !keep.contains(job.spec.name.as_str()) && replace.covers(&job.spec))
                .map(|job| job.spec.name.clone())
                .collect();
        }
        if let Err(EngineError::Invalid(errors)) =
            self.check_dependencies(&file.jobs, &plan.remove, true)
        {
            problems.extend(errors.0);
        }
        if !problems.is_empty() {
            return Err(EngineError::Invalid(ValidationErrors(problems)));
        }
        if dry_run {
            return Ok(plan);
        }
        let specs_named = |names: &[String]| -> Vec<JobSpec> {
            file.jobs
                .iter()
                .filter(|spec| names.contains(&spec.name))
                .cloned()
                .collect()
        };
        let (adds, updates) = (specs_named(&plan.add), specs_named(&plan.update));
        // One transaction for every definition: the database never holds half an import.
        self.inner
            .context
            .store
            .apply_import(&adds, &updates, &plan.remove)
            .await?;
        for name in &plan.remove {
            self.uninstall(name).await;
        }
        for spec in updates {
            self.reinstall(spec).await?;
        }
        for spec in adds {
            self.install(spec).await?;
        }
        plan.applied = true;
        Ok(plan)
    }

    /// Refuses definitions whose dependencies do not hold together once `incoming` are in
    /// and `removed` are gone: unknown jobs, cycles, waiting for health nobody checks. With
    /// `in_file`, fields name the job as a job file does (`jobs[1] (api).depends_on`).
    fn check_dependencies(
        &self,
        incoming: &[JobSpec],
        removed: &[String],
        in_file: bool,
    ) -> Result<()> {
        // Only a definition with dependencies can add a cycle or name a missing job; most have
        // none, and adding thousands of jobs should not copy the registry each time.
        if incoming.iter().all(|spec| spec.depends_on.is_empty()) {
            return Ok(());
        }
        let mut world: BTreeMap<String, JobSpec> = self
            .read_jobs()
            .iter()
            .filter(|(name, _)| !removed.contains(name))
            .map(|(name, job)| (name.clone(), JobSpec::clone(&job.spec)))
            .collect();
        for spec in incoming {
            world.insert(spec.name.clone(), spec.clone());
        }
        let checked: BTreeSet<&str> = incoming.iter().map(|spec| spec.name.as_str()).collect();
        let problems: Vec<FieldError> = graph::problems(&world, |name| checked.contains(name))
            .into_iter()
            .map(|(job, error)| FieldError {
                field: if in_file {
                    let index = incoming.iter().position(|spec| spec.name == job);
                    job_field(index.unwrap_or_default(), &job, &error.field)
                } else {
                    error.field
                },
                message: error.message,
            })
            .collect();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(EngineError::Invalid(ValidationErrors(problems)))
        }
    }
}

fn starts_with_engine(spec: &JobSpec) -> bool {
    spec.enabled && spec.autostart && spec.kind == JobKind::Service
}

/// A definition's own checks, whoever sends it (an add, an update, an import, the editor):
/// masked secrets filled from `stored` (none for a new job), every field within its bounds,
/// and a schedule that fires.
fn prepare_spec(spec: &mut JobSpec, stored: Option<&JobSpec>) -> Result<(), ValidationErrors> {
    spec.restore_secrets(stored, "")?;
    spec.validate()?;
    match refuse_unschedulable(spec, stored.is_none()) {
        Err(EngineError::Invalid(errors)) => Err(errors),
        Err(other) => Err(ValidationErrors(vec![FieldError {
            field: "schedule".into(),
            message: other.to_string(),
        }])),
        Ok(()) => Ok(()),
    }
}

/// Which of the jobs a file does not have are removed when it is applied.
#[derive(Clone, Copy)]
pub(super) enum Replace<'a> {
    Nothing,
    All,
    /// The jobs of this project (`sentinel up`).
    Project(&'a str),
}

impl Replace<'_> {
    fn covers(self, spec: &JobSpec) -> bool {
        match self {
            Replace::Nothing => false,
            Replace::All => true,
            Replace::Project(name) => spec.project.as_ref().is_some_and(|p| p.name == name),
        }
    }
}
