//! Engines on other machines: where one is (`ssh://user@host:port`, or a socket here), the
//! named contexts that remember them (like `docker context`), and the bounds both are checked
//! against. The CLI and the app read the same `contexts.toml` through these rules.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::validate::FieldError;

/// The most contexts one file holds.
pub const MAX_CONTEXTS: usize = 64;
/// The longest context name.
pub const MAX_CONTEXT_NAME: usize = 32;
/// The longest address, description or remote command.
pub const MAX_ADDRESS: usize = 512;
pub const MAX_DESCRIPTION: usize = 200;
/// The file's name in the engine's data directory.
pub const CONTEXTS_FILE: &str = "contexts.toml";
/// The largest `contexts.toml` read.
pub const MAX_CONTEXTS_FILE: u64 = 64 * 1024;
/// The context name that always means the engine of this machine.
pub const LOCAL_CONTEXT: &str = "default";
/// The remote command run over SSH when a context does not name one.
pub const DEFAULT_REMOTE_SENTINEL: &str = "sentinel";

/// Exit codes of `sentinel dial-stdio` the client tells apart (sysexits.h): no engine listens
/// on the remote machine, or its socket is another user's.
pub const DIAL_NO_ENGINE: i32 = 69;
pub const DIAL_PERMISSION_DENIED: i32 = 77;

/// Where an engine is: its socket on this machine, or a machine reached with the system `ssh`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EngineAddress {
    Socket(PathBuf),
    Ssh(SshHost),
}

/// `ssh://[user@]host[:port]`: what `ssh` is given; its config, agent and known hosts do the
/// rest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshHost {
    pub user: Option<String>,
    /// A name, an IPv4 address or an IPv6 address (without its brackets).
    pub host: String,
    pub port: Option<u16>,
}

impl SshHost {
    /// `user@host` as `ssh` takes it, or `host`.
    pub fn destination(&self) -> String {
        match &self.user {
            Some(user) => format!("{user}@{}", self.host),
            None => self.host.clone(),
        }
    }
}

impl fmt::Display for SshHost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ssh://")?;
        if let Some(user) = &self.user {
            write!(f, "{user}@")?;
        }
        if self.host.contains(':') {
            write!(f, "[{}]", self.host)?;
        } else {
            write!(f, "{}", self.host)?;
        }
        if let Some(port) = self.port {
            write!(f, ":{port}")?;
        }
        Ok(())
    }
}

impl fmt::Display for EngineAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EngineAddress::Socket(path) => write!(f, "unix://{}", path.display()),
            EngineAddress::Ssh(host) => host.fmt(f),
        }
    }
}

impl std::str::FromStr for EngineAddress {
    type Err = String;

    fn from_str(text: &str) -> Result<EngineAddress, String> {
        EngineAddress::parse(text)
    }
}

impl EngineAddress {
    /// Reads `ssh://[user@]host[:port]` or `unix:///absolute/path`; the error says what is
    /// wrong in words, for the field that held it.
    pub fn parse(text: &str) -> Result<EngineAddress, String> {
        if text.len() > MAX_ADDRESS {
            return Err(format!(
                "is {} bytes; use at most {MAX_ADDRESS}",
                text.len()
            ));
        }
        if let Some(path) = text.strip_prefix("unix://") {
            let path = Path::new(path);
            if !path.is_absolute() {
                return Err(format!(
                    "{text:?}: a socket's path must be absolute (unix:///path/to/sentinel.sock)"
                ));
            }
            if let Some(problem) = crate::validate::path_problem(path) {
                return Err(format!("{text:?}: {problem}"));
            }
            return Ok(EngineAddress::Socket(path.to_path_buf()));
        }
        let Some(rest) = text.strip_prefix("ssh://") else {
            return Err(format!(
                "{text:?} is not an engine's address; use ssh://[user@]host[:port] or unix:///path"
            ));
        };
        // A trailing slash is how some people write a host; a path or a query is not ours.
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if let Some(bad) = rest.find(['/', '?', '#']) {
            return Err(format!(
                "{text:?} has {:?} after the host; an ssh:// address is only [user@]host[:port]",
                &rest[bad..]
            ));
        }
        let (user, host_port) = match rest.rsplit_once('@') {
            Some((user, host_port)) => (Some(user), host_port),
            None => (None, rest),
        };
        if let Some(user) = user {
            if let Some(problem) = word_problem(user, "user") {
                return Err(format!("{text:?}: {problem}"));
            }
        }
        let (host, port) = split_port(host_port).map_err(|p| format!("{text:?}: {p}"))?;
        Ok(EngineAddress::Ssh(SshHost {
            user: user.map(str::to_string),
            host,
            port,
        }))
    }

    /// The remote machine, for messages ("2 failing on build-box" uses the context's name).
    pub fn ssh(&self) -> Option<&SshHost> {
        match self {
            EngineAddress::Ssh(host) => Some(host),
            EngineAddress::Socket(_) => None,
        }
    }
}

/// `host`, `host:port`, `[v6]` or `[v6]:port`.
fn split_port(text: &str) -> Result<(String, Option<u16>), String> {
    let (host, port) = if let Some(rest) = text.strip_prefix('[') {
        let Some((host, after)) = rest.split_once(']') else {
            return Err("an IPv6 address opened with '[' is not closed with ']'".into());
        };
        if host.is_empty()
            || !host
                .chars()
                .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.')
        {
            return Err(format!("{host:?} is not an IPv6 address"));
        }
        let port = match after {
            "" => None,
            _ => Some(
                after
                    .strip_prefix(':')
                    .ok_or_else(|| format!("{after:?} after the address; write [address]:port"))?,
            ),
        };
        (host.to_string(), port)
    } else {
        let (host, port) = match text.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (text, None),
        };
        if let Some(problem) = word_problem(host, "host") {
            return Err(problem);
        }
        (host.to_string(), port)
    };
    let port = match port {
        None => None,
        Some(port) => match port.parse::<u16>() {
            Ok(0) | Err(_) => {
                return Err(format!("port {port:?} is not a number from 1 to 65535"));
            }
            Ok(port) => Some(port),
        },
    };
    Ok((host, port))
}

/// A user or host name as ssh takes it on its command line: never empty, never an option
/// (`-oProxyCommand=…`), nothing a shell or ssh would read as more than a name.
fn word_problem(word: &str, what: &str) -> Option<String> {
    if word.is_empty() {
        return Some(format!("the {what} is empty"));
    }
    if word.starts_with('-') {
        return Some(format!("the {what} {word:?} starts with '-'"));
    }
    word.chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
        .map(|bad| {
            format!("the {what} {word:?} has {bad:?}; use letters, digits, '.', '_' and '-'")
        })
}

/// A named engine: `sentinel context add build-box ssh://deploy@build.example.com`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct EngineContext {
    pub name: String,
    /// `ssh://[user@]host[:port]` or `unix:///path`.
    pub host: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// The `sentinel` to run on the remote machine, when it is not on the PATH of a
    /// non-interactive ssh session there (`/opt/sentinel/bin/sentinel`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub sentinel: Option<String>,
}

impl EngineContext {
    /// The checked address; [`EngineContext::problems`] has said it parses.
    pub fn address(&self) -> Result<EngineAddress, String> {
        EngineAddress::parse(&self.host)
    }

    /// The remote command that runs `sentinel`.
    pub fn remote_sentinel(&self) -> &str {
        self.sentinel.as_deref().unwrap_or(DEFAULT_REMOTE_SENTINEL)
    }

    /// Everything wrong with it, each under its field (`contexts[2].host`).
    pub fn problems(&self, prefix: &str) -> Vec<FieldError> {
        let mut problems = Vec::new();
        let mut field = |name: &str, message: String| {
            problems.push(FieldError {
                field: format!("{prefix}{name}"),
                message,
            })
        };
        if let Some(problem) = context_name_problem(&self.name) {
            field("name", problem);
        }
        if let Err(problem) = self.address() {
            field("host", problem);
        }
        if self.description.chars().count() > MAX_DESCRIPTION {
            field(
                "description",
                format!("is longer than {MAX_DESCRIPTION} characters"),
            );
        } else if self.description.chars().any(char::is_control) {
            field("description", "has a control character".into());
        }
        if let Some(command) = &self.sentinel {
            if let Some(problem) = remote_command_problem(command) {
                field("sentinel", problem);
            }
        }
        problems
    }
}

/// A context's name: like a project's, and never `default` (the local engine's).
pub fn context_name_problem(name: &str) -> Option<String> {
    if name == LOCAL_CONTEXT {
        return Some(format!(
            "{LOCAL_CONTEXT:?} is the local engine's name; choose another"
        ));
    }
    if name.len() > MAX_CONTEXT_NAME {
        return Some(format!(
            "{name:?} is {} bytes; use at most {MAX_CONTEXT_NAME}",
            name.len()
        ));
    }
    crate::project::project_name_problem(name)
}

/// The remote command is given to the remote shell: a path of plain characters only, so that
/// nothing in it is read as more than one word.
fn remote_command_problem(command: &str) -> Option<String> {
    if command.is_empty() {
        return Some("is empty".into());
    }
    if command.len() > MAX_ADDRESS {
        return Some(format!("is longer than {MAX_ADDRESS} bytes"));
    }
    if command.starts_with('-') {
        return Some(format!("{command:?} starts with '-'"));
    }
    command
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '/' | '.' | '_' | '-' | '+' | '~')))
        .map(|bad| format!("{command:?} has {bad:?}; give the path to sentinel, without arguments"))
}

/// `contexts.toml`: the named engines, and which one commands use when none is named.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ContextFile {
    /// The context commands use; none (or `default`) is the local engine.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub current: Option<String>,
    #[serde(default)]
    pub contexts: Vec<EngineContext>,
}

impl ContextFile {
    /// Reads the file's text and checks it whole: every problem, each under its field.
    pub fn parse(text: &str) -> Result<ContextFile, Vec<FieldError>> {
        let file: ContextFile = toml::from_str(text).map_err(|err| {
            vec![FieldError {
                field: "contexts.toml".into(),
                message: err.message().to_string(),
            }]
        })?;
        let problems = file.problems();
        if problems.is_empty() {
            Ok(file)
        } else {
            Err(problems)
        }
    }

    pub fn problems(&self) -> Vec<FieldError> {
        let mut problems = Vec::new();
        if self.contexts.len() > MAX_CONTEXTS {
            problems.push(FieldError {
                field: "contexts".into(),
                message: format!(
                    "has {} contexts; at most {MAX_CONTEXTS} are kept",
                    self.contexts.len()
                ),
            });
        }
        for (i, context) in self.contexts.iter().enumerate() {
            problems.extend(context.problems(&format!("contexts[{i}].")));
            if self.contexts[..i].iter().any(|c| c.name == context.name) {
                problems.push(FieldError {
                    field: format!("contexts[{i}].name"),
                    message: format!("{:?} is named twice", context.name),
                });
            }
        }
        if let Some(current) = &self.current {
            if current != LOCAL_CONTEXT && self.get(current).is_none() {
                problems.push(FieldError {
                    field: "current".into(),
                    message: format!("{current:?} is not a context here"),
                });
            }
        }
        problems
    }

    pub fn get(&self, name: &str) -> Option<&EngineContext> {
        self.contexts.iter().find(|c| c.name == name)
    }

    /// The context in use, if it is not the local engine.
    pub fn current(&self) -> Option<&EngineContext> {
        self.current.as_deref().and_then(|name| self.get(name))
    }

    /// The file's text; an error (which plain strings cannot cause) says why, never panics.
    pub fn to_toml(&self) -> Result<String, String> {
        toml::to_string(self).map_err(|err| format!("cannot write the contexts: {err}"))
    }

    /// Adds `context`, checked; refuses a name already taken.
    pub fn add(&mut self, context: EngineContext) -> Result<(), Vec<FieldError>> {
        let mut problems = context.problems("");
        if self.get(&context.name).is_some() {
            problems.push(FieldError {
                field: "name".into(),
                message: format!(
                    "{:?} is a context already; remove it first to change it",
                    context.name
                ),
            });
        }
        if self.contexts.len() >= MAX_CONTEXTS {
            problems.push(FieldError {
                field: "contexts".into(),
                message: format!("at most {MAX_CONTEXTS} contexts are kept"),
            });
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        self.contexts.push(context);
        Ok(())
    }

    /// Removes the context named `name`; the current one goes back to the local engine.
    pub fn remove(&mut self, name: &str) -> bool {
        let before = self.contexts.len();
        self.contexts.retain(|c| c.name != name);
        if self.current.as_deref() == Some(name) {
            self.current = None;
        }
        self.contexts.len() != before
    }
}

#[cfg(test)]
mod tests;
