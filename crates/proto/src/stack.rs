//! What a job needs from its neighbours and its machine: jobs it depends on, files it is
//! restarted on, env files, ports it listens on, priority and resource limits.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use serde::{de, Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

/// `depends_on = ["db", { job = "api", condition = "healthy", restart = true }]`: the job
/// waits until each dependency meets its condition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Dependency {
    pub job: String,
    pub condition: Condition,
    /// Restart this job with the dependency (Docker Compose's `restart: true`): when the
    /// dependency restarts for any reason, this job stops first and starts again once the
    /// condition holds again.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    #[cfg_attr(feature = "ts", ts(optional = nullable))]
    pub restart: bool,
}

impl Dependency {
    /// Waits for `job` to be running; no cascade.
    pub fn on(job: impl Into<String>) -> Dependency {
        Dependency {
            job: job.into(),
            condition: Condition::Started,
            restart: false,
        }
    }

    pub fn when(mut self, condition: Condition) -> Dependency {
        self.condition = condition;
        self
    }

    pub fn restarting(mut self) -> Dependency {
        self.restart = true;
        self
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum Condition {
    /// The dependency is running.
    #[default]
    Started,
    /// The dependency is running and its health check passes.
    Healthy,
    /// The dependency ran to a clean exit.
    Completed,
}

impl Condition {
    /// How the wait reads: "waiting for db to be healthy".
    pub fn describe(self) -> &'static str {
        match self {
            Condition::Started => "running",
            Condition::Healthy => "healthy",
            Condition::Completed => "completed",
        }
    }
}

impl<'de> Deserialize<'de> for Dependency {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Table {
            job: String,
            #[serde(default)]
            condition: Condition,
            #[serde(default)]
            restart: bool,
        }
        struct DependencyVisitor;
        impl<'de> de::Visitor<'de> for DependencyVisitor {
            type Value = Dependency;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a job name or { job, condition }")
            }
            fn visit_str<E: de::Error>(self, job: &str) -> Result<Dependency, E> {
                Ok(Dependency::on(job))
            }
            fn visit_map<M: de::MapAccess<'de>>(self, map: M) -> Result<Dependency, M::Error> {
                let table = Table::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(Dependency {
                    job: table.job,
                    condition: table.condition,
                    restart: table.restart,
                })
            }
        }
        deserializer.deserialize_any(DependencyVisitor)
    }
}

/// Directories never watched, wherever they are under a watched path: version control,
/// dependencies and build output change in bursts that are not edits.
pub const ALWAYS_IGNORED: &[&str] = &[".git", "node_modules", "target"];

/// `watch = { paths = ["src"], ignore = ["*.log"], debounce = "500ms" }`: restart the service
/// when files under `paths` change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct WatchSpec {
    /// Files or directories, relative to the job's cwd unless absolute; default the cwd.
    #[serde(default = "default_watch_paths")]
    #[schema(value_type = Vec<String>)]
    #[cfg_attr(feature = "ts", ts(type = "Array<string>"))]
    pub paths: Vec<PathBuf>,
    /// Globs matched against paths relative to the watched directory (`*.log`, `tmp/**`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ignore: Vec<String>,
    /// Changes closer together than this are one change.
    #[serde(default = "default_debounce", with = "crate::duration")]
    #[schema(value_type = String, example = "500ms")]
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub debounce: Duration,
}

fn default_watch_paths() -> Vec<PathBuf> {
    vec![PathBuf::from(".")]
}

fn default_debounce() -> Duration {
    Duration::from_millis(500)
}

impl Default for WatchSpec {
    fn default() -> Self {
        WatchSpec {
            paths: default_watch_paths(),
            ignore: Vec::new(),
            debounce: default_debounce(),
        }
    }
}

impl WatchSpec {
    pub fn problems(&self) -> Vec<(String, String)> {
        let mut problems = Vec::new();
        if self.paths.is_empty() {
            problems.push((
                "watch.paths".into(),
                "is empty; name at least one file or directory (\".\" is the cwd)".into(),
            ));
        }
        for (i, path) in self.paths.iter().enumerate() {
            if let Some(message) = crate::validate::path_problem(path) {
                problems.push((format!("watch.paths[{i}]"), message));
            } else if path.as_os_str().is_empty() {
                problems.push((format!("watch.paths[{i}]"), "is empty".into()));
            }
        }
        for (i, glob) in self.ignore.iter().enumerate() {
            if let Err(err) = globset::Glob::new(glob) {
                problems.push((
                    format!("watch.ignore[{i}]"),
                    format!("{glob:?} is not a glob: {}", err.kind()),
                ));
            }
        }
        if let Some(message) = crate::limits::WATCH_DEBOUNCE.problem(self.debounce) {
            problems.push(("watch.debounce".into(), message));
        }
        for (field, len) in [
            ("watch.paths", self.paths.len()),
            ("watch.ignore", self.ignore.len()),
        ] {
            if len > crate::limits::MAX_LIST {
                problems.push((
                    field.into(),
                    format!("has {len} entries; use at most {}", crate::limits::MAX_LIST),
                ));
            }
        }
        problems
    }
}

/// Resource limits set before the command runs (setrlimit), soft and hard alike.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Rlimits {
    /// Open files (RLIMIT_NOFILE).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(type = "number | null", optional))]
    pub nofile: Option<u64>,
    /// Largest core dump ("0" turns them off; RLIMIT_CORE).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::job::byte_size::option"
    )]
    #[schema(value_type = Option<String>, example = "0")]
    #[cfg_attr(feature = "ts", ts(type = "string | null", optional))]
    pub core: Option<u64>,
}

impl Rlimits {
    pub fn is_empty(&self) -> bool {
        self.nofile.is_none() && self.core.is_none()
    }
}

/// Where a variable of a job's environment comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case", tag = "kind", content = "path")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum EnvSource {
    /// The job's `env` table.
    Spec,
    /// An env file, by the path it was read from.
    #[schema(value_type = String)]
    File(#[cfg_attr(feature = "ts", ts(type = "string"))] PathBuf),
}

/// One variable a job's next run gets (besides the engine's own environment).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct EnvVar {
    pub key: String,
    pub value: String,
    pub source: EnvSource,
    /// Env files and `env` set this key earlier too, and lost.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub overrides: Vec<EnvSource>,
    /// Listed in the job's `secrets`: `value` is masked unless secrets were asked for.
    #[serde(default)]
    pub secret: bool,
}

/// A process listening on a port a job declared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PortHolder {
    pub pid: u32,
    pub command: String,
    /// The job whose run started it, when the engine can tell (its `SENTINEL_JOB`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<String>,
    /// Left over from an earlier run of the job that declared the port: nothing supervises it,
    /// and the engine may stop it.
    pub orphan: bool,
}

/// A declared port and who holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PortStatus {
    pub port: u16,
    /// Something listens on it (even if the engine cannot see which process).
    pub in_use: bool,
    /// Who listens on it: nobody (free), the job's current run, or other processes.
    pub holders: Vec<PortHolder>,
    /// The job's own current run listens on it.
    pub own: bool,
}

/// A job's declared ports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct JobPorts {
    pub job: String,
    pub ports: Vec<PortStatus>,
}

/// What freeing a job's ports did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct FreedPorts {
    pub job: String,
    /// Orphans stopped (their whole process groups).
    pub stopped: Vec<PortHolder>,
    /// Holders left alone because they are not this job's orphans.
    pub kept: Vec<PortHolder>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Deps {
        depends_on: Vec<Dependency>,
    }

    #[test]
    fn a_dependency_is_a_name_or_a_table() {
        let deps: Deps = toml::from_str(
            "depends_on = [\"db\", { job = \"api\", condition = \"healthy\", restart = true }, { job = \"migrate\", condition = \"completed\" }]",
        )
        .unwrap();
        assert_eq!(
            deps.depends_on,
            vec![
                Dependency::on("db"),
                Dependency::on("api").when(Condition::Healthy).restarting(),
                Dependency::on("migrate").when(Condition::Completed),
            ]
        );
        let err = toml::from_str::<Deps>("depends_on = [{ job = \"db\", when = \"up\" }]")
            .err()
            .unwrap();
        assert!(err.to_string().contains("unknown field `when`"), "{err}");
        let json: Deps = serde_json::from_str(r#"{"depends_on":[{"job":"db"}]}"#).unwrap();
        assert_eq!(json.depends_on[0].condition, Condition::Started);
    }

    #[test]
    fn watch_defaults_and_problems() {
        let watch: WatchSpec = toml::from_str("").unwrap();
        assert_eq!(watch, WatchSpec::default());
        let bad = WatchSpec {
            paths: vec![],
            ignore: vec!["src/[".into()],
            debounce: Duration::from_millis(1),
        };
        let fields: Vec<String> = bad.problems().into_iter().map(|(f, _)| f).collect();
        assert_eq!(fields, ["watch.paths", "watch.ignore[0]", "watch.debounce"]);
    }
}
