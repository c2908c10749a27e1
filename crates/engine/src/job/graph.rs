//! Dependencies between jobs as a graph: what makes a set of definitions unacceptable
//! (unknown jobs, cycles, waiting for health that nobody checks), and the order in which a set
//! of jobs starts (dependencies first) and stops (dependants first).

use std::collections::{BTreeMap, BTreeSet};

use sentinel_proto::{Condition, FieldError, JobSpec};

/// Problems of the jobs for which `checked` says yes, in a world of `specs` (by name). Fields
/// are the job's own (`depends_on[1].job`); the caller prefixes the job name where several
/// jobs are checked at once.
pub(crate) fn problems(
    specs: &BTreeMap<String, JobSpec>,
    checked: impl Fn(&str) -> bool,
) -> Vec<(String, FieldError)> {
    let mut problems = Vec::new();
    for spec in specs.values().filter(|spec| checked(&spec.name)) {
        for (i, dependency) in spec.depends_on.iter().enumerate() {
            let problem =
                |field: String, message: String| (spec.name.clone(), FieldError { field, message });
            match specs.get(&dependency.job) {
                None => problems.push(problem(
                    format!("depends_on[{i}].job"),
                    format!("no job named {:?}", dependency.job),
                )),
                Some(target)
                    if dependency.condition == Condition::Healthy && target.health.is_none() =>
                {
                    problems.push(problem(
                        format!("depends_on[{i}].condition"),
                        format!(
                            "{} has no health check, so it is never healthy; give it one, or wait for \"started\"",
                            target.name
                        ),
                    ))
                }
                Some(_) => {}
            }
        }
    }
    for cycle in cycles(specs) {
        if let Some(job) = cycle.iter().find(|name| checked(name)) {
            let mut path = cycle.clone();
            path.push(cycle[0].clone());
            problems.push((
                job.clone(),
                FieldError {
                    field: "depends_on".into(),
                    message: format!("dependency cycle: {}", path.join(" → ")),
                },
            ));
        }
    }
    problems
}

/// Every cycle once, each as its jobs in dependency order, starting from its smallest name.
fn cycles(specs: &BTreeMap<String, JobSpec>) -> Vec<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Visiting,
        Done,
    }
    fn visit(
        name: &str,
        specs: &BTreeMap<String, JobSpec>,
        marks: &mut BTreeMap<String, Mark>,
        stack: &mut Vec<String>,
        found: &mut Vec<Vec<String>>,
    ) {
        marks.insert(name.to_string(), Mark::Visiting);
        stack.push(name.to_string());
        for dependency in specs.get(name).map(|s| &s.depends_on[..]).unwrap_or(&[]) {
            let next = dependency.job.as_str();
            match marks.get(next) {
                Some(Mark::Visiting) => {
                    let start = stack.iter().position(|n| n == next).unwrap_or(0);
                    let mut cycle = stack[start..].to_vec();
                    let smallest = (0..cycle.len()).min_by_key(|&i| &cycle[i]).unwrap_or(0);
                    cycle.rotate_left(smallest);
                    if !found.contains(&cycle) {
                        found.push(cycle);
                    }
                }
                Some(Mark::Done) => {}
                None if specs.contains_key(next) => visit(next, specs, marks, stack, found),
                None => {}
            }
        }
        stack.pop();
        marks.insert(name.to_string(), Mark::Done);
    }
    let mut marks = BTreeMap::new();
    let mut found = Vec::new();
    for name in specs.keys() {
        if !marks.contains_key(name) {
            visit(name, specs, &mut marks, &mut Vec::new(), &mut found);
        }
    }
    found
}

/// `names` in layers: each job comes after the jobs it depends on among `names`; jobs of one
/// layer do not depend on each other and can be started together. Stopping goes through the
/// layers in reverse.
pub(crate) fn layers(specs: &BTreeMap<String, JobSpec>, names: &[String]) -> Vec<Vec<String>> {
    let selected: BTreeSet<&str> = names.iter().map(String::as_str).collect();
    let mut waiting_on: BTreeMap<&str, BTreeSet<&str>> = names
        .iter()
        .map(|name| {
            let deps = specs
                .get(name)
                .map(|spec| {
                    spec.depends_on
                        .iter()
                        .map(|d| d.job.as_str())
                        .filter(|job| selected.contains(job) && *job != name)
                        .collect()
                })
                .unwrap_or_default();
            (name.as_str(), deps)
        })
        .collect();
    let mut layers = Vec::new();
    while !waiting_on.is_empty() {
        let ready: Vec<&str> = waiting_on
            .iter()
            .filter(|(_, deps)| deps.is_empty())
            .map(|(name, _)| *name)
            .collect();
        // A cycle (validation refuses them; definitions from before may have one) ends the
        // ordering: the rest go together.
        let layer = if ready.is_empty() {
            waiting_on.keys().copied().collect()
        } else {
            ready
        };
        for name in &layer {
            waiting_on.remove(name);
        }
        for deps in waiting_on.values_mut() {
            for name in &layer {
                deps.remove(name);
            }
        }
        layers.push(layer.into_iter().map(str::to_string).collect());
    }
    layers
}

#[cfg(test)]
mod tests {
    use super::*;
    use sentinel_proto::{Dependency, HealthCheck};

    fn world(edges: &[(&str, &[&str])]) -> BTreeMap<String, JobSpec> {
        edges
            .iter()
            .map(|(name, deps)| {
                let mut spec = JobSpec::new(*name, "true");
                spec.depends_on = deps
                    .iter()
                    .map(|job| Dependency {
                        job: job.to_string(),
                        condition: Condition::Started,
                        restart: false,
                    })
                    .collect();
                (name.to_string(), spec)
            })
            .collect()
    }

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_chain_starts_in_order_and_independent_jobs_together() {
        let specs = world(&[
            ("worker", &["api"]),
            ("api", &["db"]),
            ("db", &[]),
            ("cache", &[]),
        ]);
        let order = layers(&specs, &names(&["worker", "api", "db", "cache"]));
        assert_eq!(
            order,
            vec![names(&["cache", "db"]), names(&["api"]), names(&["worker"])]
        );
        // Dependencies outside the selection do not hold anything back.
        assert_eq!(
            layers(&specs, &names(&["worker", "cache"])),
            vec![names(&["cache", "worker"])]
        );
        assert!(problems(&specs, |_| true).is_empty());
    }

    #[test]
    fn cycles_are_named_with_their_path() {
        let specs = world(&[("a", &["b"]), ("b", &["c"]), ("c", &["a"]), ("d", &["a"])]);
        let found = problems(&specs, |_| true);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].0, "a");
        assert_eq!(found[0].1.field, "depends_on");
        assert_eq!(found[0].1.message, "dependency cycle: a → b → c → a");
        // Reported on a job that is being checked.
        let on_c = problems(&specs, |name| name == "c");
        assert_eq!(on_c[0].0, "c");
        assert!(problems(&specs, |name| name == "d").is_empty());
        // Layers still cover every job.
        let all: usize = layers(&specs, &names(&["a", "b", "c", "d"]))
            .iter()
            .map(Vec::len)
            .sum();
        assert_eq!(all, 4);
    }

    #[test]
    fn unknown_jobs_and_unchecked_health_are_refused() {
        let mut specs = world(&[("api", &["db", "ghost"]), ("db", &[])]);
        specs.get_mut("api").unwrap().depends_on[0].condition = Condition::Healthy;
        let found: Vec<(String, String)> = problems(&specs, |_| true)
            .into_iter()
            .map(|(job, e)| (job, e.field))
            .collect();
        assert_eq!(
            found,
            vec![
                ("api".to_string(), "depends_on[0].condition".to_string()),
                ("api".to_string(), "depends_on[1].job".to_string()),
            ]
        );
        specs.get_mut("db").unwrap().health = Some(HealthCheck::new(
            sentinel_proto::monitor::Probe::Tcp("127.0.0.1:5432".into()),
        ));
        assert_eq!(problems(&specs, |_| true).len(), 1);
    }
}
