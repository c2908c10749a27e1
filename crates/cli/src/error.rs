//! Why a command failed, in words, and the exit code that says so.

use std::path::PathBuf;

use sentinel_client::ClientError;
use sentinel_proto::api::{ErrorBody, INVALID_FILE};

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The command line itself is wrong: exit code 2.
    #[error("{0}")]
    Usage(String),
    #[error("no SentinelZero engine is running at {} — open the app or run `sentinel daemon`", .0.display())]
    NoEngine(PathBuf),
    /// The socket, or a directory on its way, is another user's (EACCES on connect).
    #[error("permission denied on the engine's socket {}{}: it is another user's engine; run sentinel as that user, or use your own (SENTINEL_HOME)", .socket.display(), .owner.as_ref().map(|o| format!(" (owner: {o})")).unwrap_or_default())]
    PermissionDenied {
        socket: PathBuf,
        owner: Option<String>,
    },
    #[error("{}", describe(.0))]
    Api(ErrorBody),
    /// Some jobs of a bulk action failed; each was reported already.
    #[error("{0} of the jobs failed")]
    Partial(usize),
    #[error("{0}")]
    Other(String),
}

/// An error body in words. A refused job file's message is a headline for its list of
/// problems; an invalid job's message already holds its problems, listed one per line when
/// there are several.
fn describe(body: &ErrorBody) -> String {
    let refused_file = body.code == INVALID_FILE && !body.errors.is_empty();
    if !refused_file && body.errors.len() <= 1 {
        return body.message.clone();
    }
    let mut text = if refused_file {
        body.message.clone() + ":"
    } else {
        String::from("invalid job:")
    };
    for error in &body.errors {
        text.push_str(&format!("\n  {}: {}", error.field, error.message));
    }
    text
}

impl From<ClientError> for CliError {
    fn from(error: ClientError) -> CliError {
        match error {
            ClientError::Api { body, .. } => CliError::Api(body),
            ClientError::Connect { socket, source } => {
                crate::socket::connect_error(&socket, &source)
            }
            other => CliError::Other(other.to_string()),
        }
    }
}

impl CliError {
    pub fn exit_code(&self) -> i32 {
        match self {
            CliError::Usage(_) => 2,
            _ => 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use sentinel_proto::FieldError;

    use super::*;

    fn body(code: &str, message: &str, fields: &[&str]) -> ErrorBody {
        ErrorBody {
            code: code.into(),
            message: message.into(),
            field: fields.first().map(|f| f.to_string()),
            errors: fields
                .iter()
                .map(|field| FieldError {
                    field: field.to_string(),
                    message: "wrong".into(),
                })
                .collect(),
        }
    }

    #[test]
    fn a_refused_file_is_its_headline_and_every_problem_by_its_code() {
        let refused = body(
            INVALID_FILE,
            "the file has 1 problem; nothing was changed",
            &["jobs[0] (a).command"],
        );
        assert_eq!(
            describe(&refused),
            "the file has 1 problem; nothing was changed:\n  jobs[0] (a).command: wrong"
        );
        // The same words under another code are no headline.
        let invalid = body("invalid", "nothing was changed", &["command"]);
        assert_eq!(describe(&invalid), "nothing was changed");
        let several = body("invalid", "invalid job: a; b", &["command", "cwd"]);
        assert_eq!(
            describe(&several),
            "invalid job:\n  command: wrong\n  cwd: wrong"
        );
    }
}
