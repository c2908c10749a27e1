//! What each tool takes, its JSON schema (the doc comments become the descriptions an agent
//! reads), and its checks. Input is held to the API's rules and answered in the API's words:
//! JSON of the wrong shape is `bad_json` with the field, a value out of bounds is `invalid`.

use std::path::PathBuf;

use rmcp::handler::server::common::FromContextPart;
use rmcp::handler::server::tool::ToolCallContext;
use schemars::JsonSchema;
use sentinel_proto::api::ErrorBody;
use sentinel_proto::validate::{path_problem, validate_name};
use sentinel_proto::{FieldError, LogStream, Selection};
use serde::de::DeserializeOwned;
use serde::Deserialize;

/// The most log lines one call returns: an agent reads them in its context, where a thousand
/// lines are already a lot (the API itself goes to `MAX_TAIL_LINES`).
pub const MAX_LOG_LINES: u32 = 1000;
/// Lines `job_logs` returns when not told.
pub const DEFAULT_LOG_LINES: u32 = 100;
/// The most runs `recent_runs` returns.
pub const MAX_RUNS: u32 = 100;
/// Runs `recent_runs` returns when not told.
pub const DEFAULT_RUNS: u32 = 10;

/// A tool's input, read the way the API reads a body. Named `Parameters` like rmcp's own
/// wrapper, because that name is how rmcp's `#[tool]` finds the input schema; unlike it, a
/// body that does not parse is kept as the API's error, so the agent gets a tool error it
/// can correct rather than a protocol error.
pub struct Parameters<P>(pub Result<P, ErrorBody>);

impl<P: JsonSchema> JsonSchema for Parameters<P> {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        P::schema_name()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        P::json_schema(generator)
    }
}

impl<S, P: DeserializeOwned> FromContextPart<ToolCallContext<'_, S>> for Parameters<P> {
    fn from_context_part(context: &mut ToolCallContext<'_, S>) -> Result<Self, rmcp::ErrorData> {
        let arguments = context.arguments.take().unwrap_or_default();
        Ok(Parameters(parse(serde_json::Value::Object(arguments))))
    }
}

/// The API's `bad_json`: where the JSON is wrong and what is wrong there.
pub fn parse<P: DeserializeOwned>(value: serde_json::Value) -> Result<P, ErrorBody> {
    serde_path_to_error::deserialize(value).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        let (message, field) = if path == "." {
            (format!("invalid JSON: {inner}"), None)
        } else {
            (format!("invalid JSON at {path}: {inner}"), Some(path))
        };
        ErrorBody {
            code: "bad_json".into(),
            message,
            field,
            errors: Vec::new(),
        }
    })
}

/// The API's `invalid`, for one field.
pub fn invalid(field: &str, message: impl Into<String>) -> ErrorBody {
    let error = FieldError {
        field: field.into(),
        message: message.into(),
    };
    ErrorBody {
        code: "invalid".into(),
        message: error.to_string(),
        field: Some(error.field.clone()),
        errors: vec![error],
    }
}

/// A job's name, by the engine's naming rule.
pub fn job_name(name: &str) -> Result<(), ErrorBody> {
    validate_name(name).map_err(|problem| invalid("name", problem))
}

/// `list_jobs`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListJobs {
    /// Only the jobs of this group.
    #[serde(default)]
    pub group: Option<String>,
    /// Only the jobs of this project (its jobs are named PROJECT.NAME).
    #[serde(default)]
    pub project: Option<String>,
}

impl ListJobs {
    /// A group or project the engine would refuse to select is refused here too.
    pub fn check(&self) -> Result<(), ErrorBody> {
        if let Some(group) = &self.group {
            selection("group", Selection::Group(group.clone()))?;
        }
        if let Some(project) = &self.project {
            selection("project", Selection::Project(project.clone()))?;
        }
        Ok(())
    }
}

/// `job_status`, `start_job`, `stop_job`, `restart_job`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JobName {
    /// The job's name, as list_jobs shows it (PROJECT.NAME for a project's jobs).
    pub name: String,
}

impl JobName {
    /// The one job as the engine's selection, checked as the API checks it.
    pub fn selection(&self) -> Result<Selection, ErrorBody> {
        job_name(&self.name)?;
        selection("name", Selection::job(&self.name))
    }
}

/// Which of a job's output streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Stream {
    Stdout,
    Stderr,
}

impl From<Stream> for LogStream {
    fn from(stream: Stream) -> LogStream {
        match stream {
            Stream::Stdout => LogStream::Stdout,
            Stream::Stderr => LogStream::Stderr,
        }
    }
}

/// `job_logs`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JobLogs {
    /// The job's name, as list_jobs shows it.
    pub name: String,
    /// How many of the newest lines, 1 to 1000 (default 100).
    #[serde(default = "default_lines")]
    #[schemars(range(min = 1, max = 1000))]
    pub lines: u64,
    /// Only standard output or only standard error (default: both, interleaved as printed).
    #[serde(default)]
    pub stream: Option<Stream>,
}

fn default_lines() -> u64 {
    u64::from(DEFAULT_LOG_LINES)
}

impl JobLogs {
    /// The name, and how many lines as the count the client asks for.
    pub fn check(&self) -> Result<usize, ErrorBody> {
        job_name(&self.name)?;
        bounded("lines", self.lines, MAX_LOG_LINES)
    }
}

/// `recent_runs`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecentRuns {
    /// The job's name, as list_jobs shows it.
    pub name: String,
    /// How many of the newest runs, 1 to 100 (default 10).
    #[serde(default = "default_runs")]
    #[schemars(range(min = 1, max = 100))]
    pub limit: u64,
}

fn default_runs() -> u64 {
    u64::from(DEFAULT_RUNS)
}

impl RecentRuns {
    pub fn check(&self) -> Result<u32, ErrorBody> {
        job_name(&self.name)?;
        bounded("limit", self.limit, MAX_RUNS)?;
        u32::try_from(self.limit).map_err(|_| invalid("limit", "is too large"))
    }
}

/// `project_down`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectName {
    /// The project's name, as list_projects shows it.
    pub project: String,
}

impl ProjectName {
    /// The project's jobs as the engine's selection.
    pub fn selection(&self) -> Result<Selection, ErrorBody> {
        selection("project", Selection::Project(self.project.clone()))
    }
}

/// `project_up`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectDir {
    /// The project's directory, as an absolute path: the folder that holds its sentinel.toml.
    pub path: String,
}

impl ProjectDir {
    /// An absolute path the OS can take. A relative one is refused rather than read against
    /// wherever the agent happened to start this server.
    pub fn check(&self) -> Result<PathBuf, ErrorBody> {
        let path = PathBuf::from(&self.path);
        if let Some(problem) = path_problem(&path) {
            return Err(invalid("path", problem));
        }
        if !path.is_absolute() {
            return Err(invalid(
                "path",
                format!(
                    "{:?} is not an absolute path; give the project's directory in full",
                    self.path
                ),
            ));
        }
        Ok(path)
    }
}

/// 1 to `max`, as a count; more is refused with the bound in the message, never clamped, so
/// the agent learns the rule instead of getting less than it asked for without a word.
fn bounded(field: &str, value: u64, max: u32) -> Result<usize, ErrorBody> {
    if value == 0 || value > u64::from(max) {
        return Err(invalid(
            field,
            format!("{value} is out of range; use 1 to {max}"),
        ));
    }
    usize::try_from(value).map_err(|_| invalid(field, format!("{value} is too large")))
}

/// The engine's own check of a selection, its problem named by the tool's field.
fn selection(field: &str, selection: Selection) -> Result<Selection, ErrorBody> {
    match selection.validate() {
        Ok(()) => Ok(selection),
        Err(errors) => {
            let message = errors
                .0
                .into_iter()
                .next()
                .map_or_else(|| "is not a valid selection".into(), |e| e.message);
            Err(invalid(field, message))
        }
    }
}

/// The schema an agent sees for `P`, as rmcp builds it for the tool list.
#[cfg(test)]
pub fn schema_of<P: JsonSchema + 'static>() -> std::sync::Arc<rmcp::model::JsonObject> {
    rmcp::handler::server::common::schema_for_input::<Parameters<P>>()
        .unwrap_or_else(|err| panic!("no schema: {err}"))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn log_lines_default_to_100_and_are_bounded_by_1000() {
        let asked: JobLogs = parse(json!({"name": "api"})).unwrap();
        assert_eq!(asked.check(), Ok(100));
        let most: JobLogs = parse(json!({"name": "api", "lines": 1000})).unwrap();
        assert_eq!(most.check(), Ok(1000));
        for lines in [0, 1001, 100_000, u64::MAX] {
            let asked: JobLogs = parse(json!({"name": "api", "lines": lines})).unwrap();
            let error = asked.check().unwrap_err();
            assert_eq!(error.code, "invalid");
            assert_eq!(error.field.as_deref(), Some("lines"));
            assert!(error.message.contains("use 1 to 1000"), "{}", error.message);
        }
    }

    #[test]
    fn wrong_json_is_bad_json_naming_the_field() {
        let error = parse::<JobLogs>(json!({"name": "api", "lines": -5})).unwrap_err();
        assert_eq!(error.code, "bad_json");
        assert_eq!(error.field.as_deref(), Some("lines"));
        let error = parse::<JobLogs>(json!({"name": "api", "stream": "both"})).unwrap_err();
        assert_eq!(error.field.as_deref(), Some("stream"));
        let error = parse::<JobLogs>(json!({"lines": 5})).unwrap_err();
        assert_eq!(error.code, "bad_json");
        assert!(error.message.contains("name"), "{}", error.message);
        // A misspelt parameter is refused, not ignored.
        let error = parse::<JobName>(json!({"nmae": "api"})).unwrap_err();
        assert!(error.message.contains("nmae"), "{}", error.message);
        let stream: JobLogs = parse(json!({"name": "a", "stream": "stderr"})).unwrap();
        assert_eq!(stream.stream.map(LogStream::from), Some(LogStream::Stderr));
    }

    #[test]
    fn names_follow_the_engines_rule() {
        let selection = JobName {
            name: "web.api".into(),
        }
        .selection()
        .unwrap();
        assert_eq!(selection, Selection::job("web.api"));
        for bad in ["", "a/b", "..", &"x".repeat(65)] {
            let error = JobName { name: bad.into() }.selection().unwrap_err();
            assert_eq!(error.code, "invalid", "{bad:?}");
            assert_eq!(error.field.as_deref(), Some("name"), "{bad:?}");
            assert_eq!(error.errors.len(), 1);
        }
        let error = RecentRuns {
            name: "a b".into(),
            limit: 5,
        }
        .check()
        .unwrap_err();
        assert_eq!(error.field.as_deref(), Some("name"));
    }

    #[test]
    fn runs_are_bounded() {
        let asked: RecentRuns = parse(json!({"name": "api"})).unwrap();
        assert_eq!(asked.check(), Ok(10));
        let asked: RecentRuns = parse(json!({"name": "api", "limit": 101})).unwrap();
        assert_eq!(asked.check().unwrap_err().field.as_deref(), Some("limit"));
    }

    #[test]
    fn filters_are_checked_like_selections() {
        assert!(ListJobs::default().check().is_ok());
        let empty_group = ListJobs {
            group: Some(String::new()),
            project: None,
        };
        assert_eq!(
            empty_group.check().unwrap_err().field.as_deref(),
            Some("group")
        );
        let dotted = ListJobs {
            group: None,
            project: Some("a.b".into()),
        };
        let error = dotted.check().unwrap_err();
        assert_eq!(error.field.as_deref(), Some("project"));
        assert_eq!(error.code, "invalid");
    }

    #[test]
    fn projects_are_named_and_found_by_absolute_paths() {
        let down = ProjectName {
            project: "shop".into(),
        };
        assert_eq!(down.selection(), Ok(Selection::Project("shop".into())));
        for bad in ["", "a.b", &"p".repeat(33)] {
            let error = ProjectName {
                project: bad.into(),
            }
            .selection()
            .unwrap_err();
            assert_eq!(error.field.as_deref(), Some("project"), "{bad:?}");
        }
        let up = ProjectDir {
            path: "/src/shop".into(),
        };
        assert_eq!(up.check(), Ok(PathBuf::from("/src/shop")));
        for bad in [
            "shop",
            "./shop",
            "",
            "/a\0b",
            &format!("/{}", "d".repeat(5000)),
        ] {
            let error = ProjectDir { path: bad.into() }.check().unwrap_err();
            assert_eq!(error.code, "invalid", "{bad:?}");
            assert_eq!(error.field.as_deref(), Some("path"), "{bad:?}");
        }
    }

    #[test]
    fn schemas_tell_an_agent_the_bounds_and_the_choices() {
        let schema = serde_json::Value::Object((*schema_of::<JobLogs>()).clone());
        assert_eq!(schema["type"], "object");
        assert_eq!(schema["required"], json!(["name"]));
        assert_eq!(schema["properties"]["lines"]["maximum"], 1000);
        assert_eq!(schema["properties"]["lines"]["minimum"], 1);
        assert_eq!(schema["additionalProperties"], false);
        let text = schema.to_string();
        assert!(text.contains("stdout") && text.contains("stderr"), "{text}");
    }
}
