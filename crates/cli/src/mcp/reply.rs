//! What the tools answer. Success is JSON (or, for logs, the lines as text); a failure is a
//! tool error whose text is the API's error body, `{"code": …, "message": …}`, so an agent
//! matches on the same stable codes as every other client.

use rmcp::model::{CallToolResult, ContentBlock};
use sentinel_client::ClientError;
use sentinel_proto::api::{ErrorBody, MAX_LISTED_ERRORS};
use sentinel_proto::status::Glance;
use sentinel_proto::{
    Action, ActionResult, FieldError, HealthState, JobState, JobStatus, LogLine, ValidationErrors,
};
use serde::Serialize;

use crate::error::CliError;
use crate::output::{self, Style};

/// The most bytes of log text one answer carries. Lines are at most 16 KiB, so a thousand of
/// them could fill 16 MiB of an agent's context; past this the oldest are left out, with a
/// note saying how many.
pub const MAX_LOG_BYTES: usize = 256 * 1024;

/// A tool's answer before it goes out.
pub type Reply = Result<CallToolResult, ErrorBody>;

/// The answer as the MCP result: an error becomes a tool error (`isError`), not a protocol
/// error, so the agent sees the code and the message and can correct its call.
pub fn finish(reply: Reply) -> CallToolResult {
    reply.unwrap_or_else(|body| {
        let text = serde_json::to_string(&body).unwrap_or_else(|_| body.message.clone());
        CallToolResult::error(vec![ContentBlock::text(text)])
    })
}

/// Compact JSON: it goes into an agent's context, where every byte counts.
pub fn json<T: Serialize>(value: &T) -> Reply {
    let text = serde_json::to_string(value).map_err(|err| ErrorBody {
        code: "internal".into(),
        message: format!("cannot write the answer as JSON: {err}"),
        field: None,
        errors: Vec::new(),
    })?;
    Ok(CallToolResult::success(vec![ContentBlock::text(text)]))
}

/// A failed request to the engine as the API's error body. The API's own errors pass through
/// as they are; not reaching the engine gets a code of its own and the CLI's words, which say
/// to start the app or `sentinel daemon`.
pub fn engine_error(error: ClientError) -> ErrorBody {
    // Over ssh: the machine cannot be reached, or no engine runs there.
    let unreachable = error.is_unreachable()
        || matches!(
            error,
            ClientError::Remote {
                problem: sentinel_client::ssh::RemoteProblem::NoEngine { .. },
                ..
            }
        );
    let (code, error) = match CliError::from(error) {
        CliError::Api(body) => return body,
        error @ CliError::PermissionDenied { .. } => ("permission_denied", error),
        error if unreachable => ("no_engine", error),
        error => ("engine_error", error),
    };
    body(code, error.to_string(), None)
}

/// A project file that is not there (`not_found`) or cannot be read (`io`), or the engine's
/// `invalid_file` with each problem, as `sentinel up` reports them.
pub fn file_error(error: CliError) -> ErrorBody {
    match error {
        CliError::Api(body) => body,
        CliError::Usage(message) => self::body("not_found", message, Some("path")),
        other => self::body("io", other.to_string(), Some("path")),
    }
}

fn body(code: &str, message: String, field: Option<&str>) -> ErrorBody {
    ErrorBody {
        code: code.into(),
        message,
        field: field.map(str::to_string),
        errors: Vec::new(),
    }
}

/// What an action did to several jobs (a project's): each one's summary; or, when any could
/// not be acted on, a tool error with the first failure's code and every failure listed by
/// job in `errors`, as the API lists a definition's problems.
pub fn acted(action: Action, results: &[ActionResult]) -> Reply {
    let failed: Vec<FieldError> = results
        .iter()
        .filter_map(|result| {
            result.error().map(|error| FieldError {
                field: result.name.clone(),
                message: error.message.clone(),
            })
        })
        .collect();
    let Some(first) = results.iter().find_map(ActionResult::error) else {
        let summaries: Vec<JobSummary> = results
            .iter()
            .filter_map(ActionResult::status)
            .map(JobSummary::new)
            .collect();
        return json(&summaries);
    };
    let mut message = format!(
        "{} of {} jobs could not {action}: {}",
        failed.len(),
        results.len(),
        ValidationErrors(failed.iter().take(MAX_LISTED_ERRORS).cloned().collect())
    );
    if failed.len() > MAX_LISTED_ERRORS {
        message.push_str(&format!(
            "; and {} more",
            failed.len().saturating_sub(MAX_LISTED_ERRORS)
        ));
    }
    Err(ErrorBody {
        code: first.code.clone(),
        message,
        field: None,
        errors: failed.into_iter().take(MAX_LISTED_ERRORS).collect(),
    })
}

/// One job as `list_jobs` shows it: what an agent needs to decide what to do next.
#[derive(Debug, Serialize)]
pub struct JobSummary<'a> {
    pub name: &'a str,
    /// `running`, `stopped`, `failed`, …
    pub state: &'static str,
    /// `fine`, `busy` or `failing`: the menu bar's colour.
    pub glance: Glance,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub health: Option<HealthState>,
    /// Why it failed, or what it waits for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'a str>,
}

impl<'a> JobSummary<'a> {
    pub fn new(status: &'a JobStatus) -> JobSummary<'a> {
        let (pid, reason) = match &status.state {
            JobState::Running { pid, .. } | JobState::Stopping { pid } => (Some(*pid), None),
            JobState::Failed { reason, .. } => (None, Some(reason.as_str())),
            JobState::Waiting { message, .. } => (None, Some(message.as_str())),
            _ => (None, None),
        };
        JobSummary {
            name: &status.name,
            state: status.state.name(),
            glance: status.glance(),
            project: status.project.as_ref().map(|project| project.name.as_str()),
            group: status.group.as_deref(),
            pid,
            health: status.health,
            reason,
        }
    }
}

/// Log lines as `sentinel logs -t` prints them (time, stream, text), newest last, within
/// [`MAX_LOG_BYTES`].
pub fn log_text(lines: &[LogLine]) -> String {
    let style = Style::plain();
    let mut kept: Vec<String> = Vec::new();
    let mut bytes = 0usize;
    for line in lines.iter().rev() {
        let text = output::log_line(line, true, &style);
        bytes = bytes.saturating_add(text.len());
        if bytes > MAX_LOG_BYTES {
            break;
        }
        kept.push(text);
    }
    let left_out = lines.len().saturating_sub(kept.len());
    let mut text = String::new();
    if left_out > 0 {
        text.push_str(&format!(
            "[sentinel: the {left_out} oldest lines are left out, to keep this answer under {} KiB; ask for fewer lines]\n",
            MAX_LOG_BYTES / 1024
        ));
    }
    if kept.is_empty() && left_out == 0 {
        text.push_str("[sentinel: no output yet]\n");
    }
    text.extend(kept.into_iter().rev());
    text
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use chrono::Utc;
    use sentinel_proto::{JobKind, LogStream, Outcome};

    use super::*;

    fn line(text: &str) -> LogLine {
        LogLine {
            ts: Utc::now(),
            stream: LogStream::Stdout,
            text: text.into(),
            partial: false,
        }
    }

    #[test]
    fn log_text_keeps_the_newest_lines_within_its_bound() {
        let long = "x".repeat(16 * 1024);
        let lines: Vec<LogLine> = (0..100).map(|i| line(&format!("{i} {long}"))).collect();
        let text = log_text(&lines);
        assert!(text.len() <= MAX_LOG_BYTES + 200, "{}", text.len());
        assert!(text.starts_with("[sentinel: the "), "{}", &text[..80]);
        assert!(text.contains(" 99 x"));
        assert!(!text.contains(" 0 x"));
        let short = log_text(&[line("hello"), line("world")]);
        assert!(short.contains("stdout hello\n"), "{short}");
        assert!(short.find("hello") < short.find("world"));
        assert!(!short.contains("[sentinel"));
        assert_eq!(log_text(&[]), "[sentinel: no output yet]\n");
    }

    #[test]
    fn api_errors_pass_through_and_no_engine_says_what_to_start() {
        let body = ErrorBody {
            code: "not_found".into(),
            message: "no job named \"x\"".into(),
            field: None,
            errors: Vec::new(),
        };
        let api = ClientError::Api {
            status: 404,
            body: body.clone(),
        };
        assert_eq!(engine_error(api), body);

        let socket = PathBuf::from("/nowhere/sentinel.sock");
        let refused = ClientError::Connect {
            socket: socket.clone(),
            source: std::io::Error::from(std::io::ErrorKind::ConnectionRefused),
        };
        let error = engine_error(refused);
        assert_eq!(error.code, "no_engine");
        assert!(
            error.message.contains("sentinel daemon"),
            "{}",
            error.message
        );
        assert!(error.message.contains("/nowhere/sentinel.sock"));

        let result = finish(Err(error));
        assert_eq!(result.is_error, Some(true));
        let text = serde_json::to_value(&result.content).unwrap().to_string();
        assert!(text.contains("no_engine"), "{text}");
    }

    #[test]
    fn a_project_file_that_is_missing_or_unreadable_has_a_code() {
        let missing = file_error(CliError::Usage("no sentinel.toml in /x".into()));
        assert_eq!(
            (missing.code.as_str(), missing.field.as_deref()),
            ("not_found", Some("path"))
        );
        let unreadable = file_error(CliError::Other("cannot read /x/sentinel.toml".into()));
        assert_eq!(unreadable.code, "io");
        let refused = ErrorBody {
            code: "invalid_file".into(),
            message: "the file has 1 problem".into(),
            field: Some("jobs[0] (a).command".into()),
            errors: Vec::new(),
        };
        assert_eq!(file_error(CliError::Api(refused.clone())), refused);
    }

    #[test]
    fn a_failure_in_a_bulk_action_is_the_tools_error_naming_each_job() {
        let running = JobState::Running {
            pid: 7,
            since: Utc::now(),
        };
        let stopped = |name: &str| ActionResult {
            name: name.into(),
            outcome: Outcome::Status(Box::new(JobStatus::new(
                name,
                JobKind::Service,
                running.clone(),
            ))),
        };
        let refused = |name: &str| ActionResult {
            name: name.into(),
            outcome: Outcome::Error(ErrorBody {
                code: "disabled".into(),
                message: format!("{name} is disabled"),
                field: None,
                errors: Vec::new(),
            }),
        };
        let fine = acted(Action::Stop, &[stopped("p.a"), stopped("p.b")]).unwrap();
        let text = serde_json::to_value(&fine.content).unwrap().to_string();
        assert!(text.contains("p.a") && text.contains("p.b"), "{text}");

        let error = acted(
            Action::Stop,
            &[stopped("p.a"), refused("p.b"), refused("p.c")],
        )
        .unwrap_err();
        assert_eq!(error.code, "disabled");
        assert!(
            error.message.starts_with("2 of 3 jobs could not stop"),
            "{}",
            error.message
        );
        let names: Vec<&str> = error.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(names, ["p.b", "p.c"]);
    }

    #[test]
    fn a_summary_names_the_pid_or_the_reason() {
        let running = JobState::Running {
            pid: 42,
            since: Utc::now(),
        };
        let mut status = JobStatus::new("web.api", JobKind::Service, running);
        status.group = Some("backend".into());
        status.project = Some(sentinel_proto::ProjectRef {
            name: "web".into(),
            file: PathBuf::from("/src/web/sentinel.toml"),
        });
        let summary = serde_json::to_value(JobSummary::new(&status)).unwrap();
        assert_eq!(summary["pid"], 42);
        assert_eq!(summary["state"], "running");
        assert_eq!(summary["glance"], "fine");
        assert_eq!(summary["project"], "web");
        assert_eq!(summary["group"], "backend");
        assert!(summary.get("reason").is_none());

        status.state = JobState::Failed {
            reason: "exit code 3".into(),
            since: Utc::now(),
        };
        status.project = None;
        let summary = serde_json::to_value(JobSummary::new(&status)).unwrap();
        assert_eq!(summary["reason"], "exit code 3");
        assert_eq!(summary["glance"], "failing");
        assert!(summary.get("pid").is_none());
        assert!(summary.get("project").is_none());
    }
}
