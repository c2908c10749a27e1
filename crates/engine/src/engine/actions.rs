//! Acting on jobs: the one entry for every adapter. An [`Action`] on a [`Selection`] does the
//! same thing, and leaves the same run reason, whoever asks (tray, popover, CLI, API).

use std::collections::BTreeMap;

use sentinel_proto::action::{Action, Selection};
use sentinel_proto::stack::FreedPorts;
use sentinel_proto::{JobSpec, JobStatus, Trigger};
use tokio::task::JoinSet;

use super::{running_pid, EngineHandle};
use crate::error::{EngineError, Result};
use crate::job::{graph, StopReason};

/// One step of an action on one job.
#[derive(Clone)]
enum Step {
    Start(Trigger),
    Stop(StopReason),
}

impl EngineHandle {
    /// Applies `action` to the selected jobs; one result per job, in name order. Dependencies
    /// start first and stop last, the jobs of one dependency layer together. A restart stops
    /// the whole selection (dependants first) before starting it again, and starts only the
    /// jobs that stopped. A selection that names no job at all is an error; a name that is
    /// not a job is that job's error.
    pub async fn act(
        &self,
        action: Action,
        selection: &Selection,
    ) -> Result<Vec<(String, Result<JobStatus>)>> {
        let mut names = self.select(selection)?;
        if action == Action::Restart {
            // Jobs that restart with one of these (`restart = true`) stop first and start after.
            names = self.with_restart_dependants(names);
        }
        let mut results: BTreeMap<String, Result<JobStatus>> = BTreeMap::new();
        match action {
            Action::Enable | Action::Disable => {
                // Definition changes go one at a time anyway (they share one lock).
                for name in &names {
                    let result = self.set_enabled(name, action == Action::Enable).await;
                    results.insert(name.clone(), result);
                }
            }
            Action::Start | Action::Stop | Action::Restart => {
                let layers = graph::layers(&self.dependency_specs(), &names);
                let stop = match action {
                    Action::Restart => Some(StopReason::Restart),
                    Action::Stop => Some(StopReason::User),
                    _ => None,
                };
                if let Some(why) = stop {
                    for layer in layers.iter().rev() {
                        results.extend(self.each(layer, Step::Stop(why.clone())).await);
                    }
                }
                let start = match action {
                    Action::Start => Some(Trigger::Manual),
                    Action::Restart => Some(Trigger::Restart),
                    _ => None,
                };
                if let Some(trigger) = start {
                    for layer in &layers {
                        let starts: Vec<String> = layer
                            .iter()
                            .filter(|name| results.get(*name).is_none_or(Result::is_ok))
                            .cloned()
                            .collect();
                        results.extend(self.each(&starts, Step::Start(trigger)).await);
                    }
                }
            }
        }
        Ok(names
            .into_iter()
            .map(|name| {
                let result = results
                    .remove(&name)
                    .unwrap_or_else(|| Err(EngineError::NotFound(name.clone())));
                (name, result)
            })
            .collect())
    }

    /// [`act`](Self::act) on one job, answering with its status or its error.
    pub async fn act_on(&self, action: Action, name: &str) -> Result<JobStatus> {
        self.act(action, &Selection::job(name))
            .await?
            .pop()
            .map_or_else(|| Err(EngineError::NotFound(name.to_string())), |(_, r)| r)
    }

    /// One step on several jobs at once.
    async fn each(&self, names: &[String], step: Step) -> Vec<(String, Result<JobStatus>)> {
        let mut steps = JoinSet::new();
        for name in names.iter().cloned() {
            let engine = self.clone();
            let step = step.clone();
            steps.spawn(async move {
                let result = match step {
                    Step::Start(trigger) => match engine
                        .refuse_if_shutting_down()
                        .and_then(|()| engine.handle(&name))
                    {
                        Ok(handle) => handle.start(trigger).await,
                        Err(err) => Err(err),
                    },
                    Step::Stop(why) => match engine.handle(&name) {
                        Ok(handle) => handle.stop(why).await,
                        Err(err) => Err(err),
                    },
                };
                (name, result)
            });
        }
        steps.join_all().await
    }

    /// Enables or disables a job: a disabled job is stopped and its schedule paused.
    async fn set_enabled(&self, name: &str, enabled: bool) -> Result<JobStatus> {
        let mut spec = self.get(name)?.spec;
        spec.enabled = enabled;
        self.update(spec).await
    }

    /// The definitions that have dependencies: all that ordering needs to know.
    pub(super) fn dependency_specs(&self) -> BTreeMap<String, JobSpec> {
        self.read_jobs()
            .iter()
            .filter(|(_, job)| !job.spec.depends_on.is_empty())
            .map(|(name, job)| (name.clone(), JobSpec::clone(&job.spec)))
            .collect()
    }

    /// The names a selection stands for. An empty group is an error: it is most likely a typo.
    fn select(&self, selection: &Selection) -> Result<Vec<String>> {
        selection.validate().map_err(EngineError::Invalid)?;
        let jobs = self.read_jobs();
        match selection {
            Selection::Names(names) => Ok(names.clone()),
            Selection::Group(group) => {
                let names: Vec<String> = jobs
                    .values()
                    .filter(|job| job.spec.group.as_deref() == Some(group.as_str()))
                    .map(|job| job.spec.name.clone())
                    .collect();
                if names.is_empty() {
                    return Err(EngineError::EmptyGroup(group.clone()));
                }
                Ok(names)
            }
            Selection::Project(project) => {
                let names: Vec<String> = jobs
                    .values()
                    .filter(|job| {
                        job.spec
                            .project
                            .as_ref()
                            .is_some_and(|p| p.name == *project)
                    })
                    .map(|job| job.spec.name.clone())
                    .collect();
                if names.is_empty() {
                    return Err(EngineError::NoProject(project.clone()));
                }
                Ok(names)
            }
            Selection::All => Ok(jobs.keys().cloned().collect()),
        }
    }

    /// Stops the processes left over from earlier runs of the job that hold its ports; other
    /// holders are reported and left alone. A start waiting for the ports goes ahead.
    pub async fn free_ports(&self, name: &str) -> Result<FreedPorts> {
        let (spec, status) = self.spec_and_status(name)?;
        let freed =
            crate::ports::free(name, &spec.ports, running_pid(&status), spec.stop_timeout).await;
        self.handle(name)?.recheck();
        Ok(freed)
    }
}
