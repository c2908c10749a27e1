//! What can go wrong talking to the engine, typed so callers match on it (an API error's
//! `body.code`), never on its words.

use std::path::PathBuf;

use sentinel_proto::api::ErrorBody;

/// Boxed so that the transport's error types stay out of this crate's API.
pub type Source = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The engine refused the request; `body.code` is stable, `body.message` is for people.
    #[error("{}", .body.message)]
    Api { status: u16, body: ErrorBody },
    /// Nothing could connect to the socket: no engine there, or not this user's to open
    /// (`source.kind()` tells which).
    #[error("cannot connect to the engine at {}: {source}", .socket.display())]
    Connect {
        socket: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// An engine on another machine could not be reached over SSH, or answered there that it
    /// cannot serve (no `sentinel`, no engine); `problem` says which, in words.
    #[error("{host}: {problem}")]
    Remote {
        host: String,
        problem: crate::ssh::RemoteProblem,
    },
    /// The connection broke while asking or answering.
    #[error("{context}: {source}")]
    Transport {
        context: &'static str,
        #[source]
        source: Source,
    },
    /// An error status without an error body (a proxy, or not this engine).
    #[error("the engine answered {status}: {body}")]
    Unexpected { status: u16, body: String },
    /// The answer is not what the route returns.
    #[error("cannot read the engine's answer: {0}")]
    Decode(#[source] serde_json::Error),
    /// A request that cannot be sent: a method or path that is not HTTP, a body that does not
    /// serialise.
    #[error("cannot send the request: {0}")]
    Request(String),
}

impl ClientError {
    /// The API error's stable code (`not_found`, `invalid`, …), if the engine answered one.
    pub fn code(&self) -> Option<&str> {
        match self {
            ClientError::Api { body, .. } => Some(&body.code),
            _ => None,
        }
    }

    /// Nothing answered: no engine at the socket, or the remote machine could not be reached.
    /// (An engine that answered, even with an error, was reached.)
    pub fn is_unreachable(&self) -> bool {
        match self {
            ClientError::Connect { .. } => true,
            ClientError::Remote { problem, .. } => problem.is_unreachable(),
            _ => false,
        }
    }

    /// The HTTP status the engine answered, if it answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            ClientError::Api { status, .. } | ClientError::Unexpected { status, .. } => {
                Some(*status)
            }
            _ => None,
        }
    }

    pub(crate) fn transport(context: &'static str, source: impl Into<Source>) -> ClientError {
        ClientError::Transport {
            context,
            source: source.into(),
        }
    }
}
