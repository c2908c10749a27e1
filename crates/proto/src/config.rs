//! The job file: every job (or a group, or a selection) in TOML or JSON, with a version so
//! that old files keep loading. Reading a file reports every problem, each with its job and
//! field, and accepts nothing unless everything is right.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::job::JobSpec;
use crate::validate::FieldError;

/// The format version this build writes and reads.
pub const CONFIG_VERSION: u32 = 1;

/// The most jobs one job file may hold. An import is checked and applied as a whole and its
/// answer names every job, so this bounds what one request can make the engine do and send;
/// split a larger set into several files.
pub const MAX_IMPORT_JOBS: usize = 10_000;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// The format version: 1.
    pub version: u32,
    #[serde(default)]
    pub jobs: Vec<JobSpec>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ConfigFormat {
    Toml,
    Json,
}

impl ConfigFormat {
    /// From a file name's extension; TOML unless it ends in `.json`.
    pub fn of_path(path: &str) -> ConfigFormat {
        if path.to_ascii_lowercase().ends_with(".json") {
            ConfigFormat::Json
        } else {
            ConfigFormat::Toml
        }
    }
}

impl ConfigFile {
    pub fn new(jobs: Vec<JobSpec>) -> ConfigFile {
        ConfigFile {
            version: CONFIG_VERSION,
            jobs,
        }
    }

    pub fn render(&self, format: ConfigFormat) -> String {
        match format {
            ConfigFormat::Json => {
                serde_json::to_string_pretty(self).expect("a config always serialises") + "\n"
            }
            ConfigFormat::Toml => toml::to_string_pretty(self).expect("a config always serialises"),
        }
    }

    /// Reads a file and checks every job; all problems or nothing.
    pub fn parse(text: &str, format: ConfigFormat) -> Result<ConfigFile, Vec<FieldError>> {
        deserialize::<ConfigFile>(text, format)?.check()
    }

    /// Every job checked, each problem named by the job's place in the file.
    pub fn check(self) -> Result<ConfigFile, Vec<FieldError>> {
        let file = self;
        let mut errors = Vec::new();
        if file.version != CONFIG_VERSION {
            errors.push(FieldError {
                field: "version".into(),
                message: format!(
                    "{} is not a version this build reads (it reads {CONFIG_VERSION})",
                    file.version
                ),
            });
        }
        if file.jobs.len() > MAX_IMPORT_JOBS {
            // Not checked one by one: the answer would list a problem per job.
            errors.push(FieldError {
                field: "jobs".into(),
                message: format!(
                    "{} jobs are more than one file may hold ({MAX_IMPORT_JOBS}); split it",
                    file.jobs.len()
                ),
            });
            return Err(errors);
        }
        let mut seen = BTreeSet::new();
        for (index, job) in file.jobs.iter().enumerate() {
            if !seen.insert(job.name.as_str()) {
                errors.push(FieldError {
                    field: job_field(index, &job.name, "name"),
                    message: format!("{:?} is defined twice", job.name),
                });
            }
            if let Err(problems) = job.validate() {
                errors.extend(problems.0.into_iter().map(|p| FieldError {
                    field: job_field(index, &job.name, &p.field),
                    message: p.message,
                }));
            }
        }
        if errors.is_empty() {
            Ok(file)
        } else {
            Err(errors)
        }
    }
}

/// Reads a file's text into `T`, a syntax or type problem named by its path (JSON) or line
/// (TOML).
pub fn deserialize<T: serde::de::DeserializeOwned>(
    text: &str,
    format: ConfigFormat,
) -> Result<T, Vec<FieldError>> {
    match format {
        ConfigFormat::Json => {
            let de = &mut serde_json::Deserializer::from_str(text);
            serde_path_to_error::deserialize(de).map_err(|err| {
                let field = err.path().to_string();
                vec![FieldError {
                    field: if field == "." { String::new() } else { field },
                    message: err.into_inner().to_string(),
                }]
            })
        }
        ConfigFormat::Toml => toml::from_str(text).map_err(|err| {
            // Counted in bytes: toml's span may start inside a multi-byte character.
            let line = err.span().map(|span| {
                let before = &text.as_bytes()[..span.start.min(text.len())];
                before.iter().filter(|&&b| b == b'\n').count() + 1
            });
            vec![FieldError {
                field: line.map(|l| format!("line {l}")).unwrap_or_default(),
                message: err.message().to_string(),
            }]
        }),
    }
}

/// How a problem with a field of a job in a job file is named: `jobs[1] (api).command`, by
/// its place in the file and its name (either may be what is wrong).
pub fn job_field(index: usize, name: &str, field: &str) -> String {
    format!("jobs[{index}] ({name}).{field}")
}

/// What an import changes (or would change, with dry-run).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ImportPlan {
    pub add: Vec<String>,
    pub update: Vec<String>,
    pub remove: Vec<String>,
    pub unchanged: Vec<String>,
    /// Whether it was applied (false for a dry run).
    pub applied: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn rich_job() -> JobSpec {
        let mut job = JobSpec::new("api", "node server.js --port 8080 'quoted arg'");
        job.cwd = Some("/srv/api".into());
        job.env.insert("NODE_ENV".into(), "production".into());
        job.group = Some("web".into());
        job.autostart = false;
        job.restart.mode = crate::RestartMode::Always;
        job.restart.delay = Duration::from_millis(250);
        job.restart.success_exit_codes = vec![0, 3];
        job.stop_signal = crate::SignalName::parse("INT").unwrap();
        job.logs.max_files = 2;
        job.restart_schedule = Some("0 4 * * *".into());
        let mut health = crate::monitor::HealthCheck::new(crate::monitor::Probe::Http {
            url: "http://127.0.0.1:8080/health".into(),
        });
        health.start_period = Duration::from_secs(30);
        health.restart = false;
        job.health = Some(health);
        job.max_memory = Some(512 * 1024 * 1024);
        job.notify = false;
        job.webhook = Some("https://hooks.example.com/api".into());
        job
    }

    fn scheduled_task() -> JobSpec {
        let mut task = JobSpec::new("backup", "rsync -a /a /b");
        task.kind = crate::JobKind::Task;
        task.schedule = Some(crate::schedule::ScheduleSpec {
            cron: Some("0 2 * * *".into()),
            overlap: crate::schedule::Overlap::Queue,
            ..Default::default()
        });
        task
    }

    #[test]
    fn every_field_round_trips_in_both_formats() {
        let file = ConfigFile::new(vec![rich_job(), scheduled_task()]);
        for format in [ConfigFormat::Toml, ConfigFormat::Json] {
            let text = file.render(format);
            assert_eq!(
                ConfigFile::parse(&text, format).unwrap(),
                file,
                "{format:?}:\n{text}"
            );
        }
    }

    #[test]
    fn every_problem_is_reported_with_its_job_and_field() {
        let text = r#"
version = 1
[[jobs]]
name = "api"
command = "echo 'unbalanced"
[[jobs]]
name = "api"
command = "true"
[jobs.restart]
backoff = 0.2
"#;
        let errors = ConfigFile::parse(text, ConfigFormat::Toml).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            vec![
                "jobs[0] (api).command",
                "jobs[1] (api).name",
                "jobs[1] (api).restart.backoff"
            ]
        );
        assert_eq!(errors[1].message, "\"api\" is defined twice");
    }

    #[test]
    fn malformed_files_say_where() {
        let errors = ConfigFile::parse(
            "version = 1\n[[jobs]]\nname = \"a\"\ncommand = \"x\"\nrestrat = 1\n",
            ConfigFormat::Toml,
        )
        .unwrap_err();
        assert!(
            errors[0].message.contains("unknown field `restrat`"),
            "{errors:?}"
        );
        assert_eq!(errors[0].field, "line 5");
        let errors = ConfigFile::parse("version = 1\njobs = [", ConfigFormat::Toml).unwrap_err();
        assert!(errors[0].field.starts_with("line"), "{errors:?}");
        let errors = ConfigFile::parse(
            r#"{"version":1,"jobs":[{"name":"a","command":"x","stop_timeout":5}]}"#,
            ConfigFormat::Json,
        )
        .unwrap_err();
        assert_eq!(errors[0].field, "jobs[0].stop_timeout");
        let errors =
            ConfigFile::parse(r#"{"version":2,"jobs":[]}"#, ConfigFormat::Json).unwrap_err();
        assert_eq!(errors[0].field, "version");
    }
}
