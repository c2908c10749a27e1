use std::path::PathBuf;

use sentinel_proto::api::ErrorBody;

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

fn describe(body: &ErrorBody) -> String {
    if body.errors.len() > 1
        || (body.errors.len() == 1 && body.message.contains("nothing was changed"))
    {
        let mut text = if body.message.contains("nothing was changed") {
            body.message.clone() + ":"
        } else {
            String::from("invalid job:")
        };
        for error in &body.errors {
            text.push_str(&format!("\n  {}: {}", error.field, error.message));
        }
        text
    } else {
        body.message.clone()
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
