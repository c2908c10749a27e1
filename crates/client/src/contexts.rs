//! `contexts.toml` on disk: read whole and checked, written whole (a new file renamed over the
//! old), never through a link someone planted in its place. The CLI's `sentinel context` and
//! the app's Engines settings share it.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use sentinel_proto::remote::{
    ContextFile, EngineAddress, EngineContext, DEFAULT_REMOTE_SENTINEL, LOCAL_CONTEXT,
    MAX_CONTEXTS_FILE,
};
use sentinel_proto::FieldError;

use crate::ssh::SshEndpoint;
use crate::{Client, Endpoint};

pub use sentinel_proto::remote::CONTEXTS_FILE;

#[derive(Debug, thiserror::Error)]
pub enum ContextError {
    #[error("cannot read {}: {source}", .path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {}: {source}", .path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} is a symbolic link; contexts are only read from and written to a plain file", .0.display())]
    Link(PathBuf),
    #[error("{} is larger than {MAX_CONTEXTS_FILE} bytes", .0.display())]
    TooLarge(PathBuf),
    #[error("{}:{}", .path.display(), describe(.problems))]
    Invalid {
        path: PathBuf,
        problems: Vec<FieldError>,
    },
    #[error("no context is named {0:?}; `sentinel context ls` lists them")]
    Unknown(String),
}

fn describe(problems: &[FieldError]) -> String {
    problems
        .iter()
        .map(|p| format!("\n  {}: {}", p.field, p.message))
        .collect()
}

/// The file's contents; a file that is not there is no contexts.
pub fn load(path: &Path) -> Result<ContextFile, ContextError> {
    let read_error = |source| ContextError::Read {
        path: path.to_path_buf(),
        source,
    };
    match std::fs::symlink_metadata(path) {
        // Not there, or in a home that is not this user's to enter (another user's engine,
        // reached with --socket): no contexts of this user's.
        Err(err)
            if matches!(
                err.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::PermissionDenied
            ) =>
        {
            return Ok(ContextFile::default())
        }
        Err(err) => return Err(read_error(err)),
        Ok(meta) if meta.file_type().is_symlink() => return Err(ContextError::Link(path.into())),
        Ok(meta) if meta.len() > MAX_CONTEXTS_FILE => {
            return Err(ContextError::TooLarge(path.into()))
        }
        Ok(_) => {}
    }
    let mut text = String::new();
    std::fs::File::open(path)
        .map_err(read_error)?
        .take(MAX_CONTEXTS_FILE + 1)
        .read_to_string(&mut text)
        .map_err(read_error)?;
    if text.len() as u64 > MAX_CONTEXTS_FILE {
        return Err(ContextError::TooLarge(path.into()));
    }
    ContextFile::parse(&text).map_err(|problems| ContextError::Invalid {
        path: path.to_path_buf(),
        problems,
    })
}

/// Writes the file whole: checked first, then a new file beside it renamed over the old one, so
/// a reader sees the old contents or the new, never half of either.
pub fn save(path: &Path, file: &ContextFile) -> Result<(), ContextError> {
    let problems = file.problems();
    if !problems.is_empty() {
        return Err(ContextError::Invalid {
            path: path.to_path_buf(),
            problems,
        });
    }
    if std::fs::symlink_metadata(path).is_ok_and(|meta| meta.file_type().is_symlink()) {
        return Err(ContextError::Link(path.into()));
    }
    let write_error = |source| ContextError::Write {
        path: path.to_path_buf(),
        source,
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(write_error)?;
    let mut temp = tempfile::NamedTempFile::new_in(dir).map_err(write_error)?;
    let text = file
        .to_toml()
        .map_err(|message| write_error(std::io::Error::other(message)))?;
    temp.write_all(text.as_bytes())
        .and_then(|()| temp.as_file().sync_all())
        .map_err(write_error)?;
    temp.persist(path).map_err(|err| write_error(err.error))?;
    Ok(())
}

/// The engine a command talks to, and the name it goes by.
#[derive(Debug, Clone)]
pub struct Target {
    /// The context's name; `None` for an address given directly or the local engine.
    pub context: Option<String>,
    pub client: Client,
}

/// Which engine: `host` (`--host` or `SENTINEL_HOST`) first, then the context named (`--context`
/// or `SENTINEL_CONTEXT`), then the file's current context; `None` is the local engine.
pub fn choose(
    file: &ContextFile,
    host: Option<&str>,
    context: Option<&str>,
) -> Result<Option<Target>, ContextError> {
    if let Some(host) = host {
        let address = EngineAddress::parse(host).map_err(|message| ContextError::Invalid {
            path: PathBuf::from("--host"),
            problems: vec![FieldError {
                field: "host".into(),
                message,
            }],
        })?;
        return Ok(Some(Target {
            context: None,
            client: Client::to(&address, DEFAULT_REMOTE_SENTINEL),
        }));
    }
    let named = match context {
        Some(LOCAL_CONTEXT) => return Ok(None),
        Some(name) => Some(
            file.get(name)
                .ok_or_else(|| ContextError::Unknown(name.to_string()))?,
        ),
        None => file.current(),
    };
    Ok(named.map(|context| Target {
        context: Some(context.name.clone()),
        client: client_for(context),
    }))
}

/// The client of a context the file has checked.
pub fn client_for(context: &EngineContext) -> Client {
    match context.address() {
        Ok(address) => Client::to(&address, context.remote_sentinel()),
        // Unreachable for a checked context; a socket that is not there says so when used.
        Err(_) => Client::at(Endpoint::Socket(PathBuf::from(&context.host))),
    }
}

/// The same client, never asking for a password (for the app, where nobody is at a terminal).
pub fn batch(client: &Client) -> Client {
    match client.endpoint() {
        Endpoint::Ssh(remote) => Client::at(Endpoint::Ssh(SshEndpoint {
            batch: true,
            ..remote.clone()
        })),
        Endpoint::Socket(_) => client.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context(name: &str, host: &str) -> EngineContext {
        EngineContext {
            name: name.into(),
            host: host.into(),
            description: String::new(),
            sentinel: None,
        }
    }

    #[test]
    fn a_file_is_written_whole_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested").join(CONTEXTS_FILE);
        assert_eq!(load(&path).unwrap(), ContextFile::default());
        let mut file = ContextFile::default();
        file.add(context("box", "ssh://me@box:2222")).unwrap();
        file.current = Some("box".into());
        save(&path, &file).unwrap();
        assert_eq!(load(&path).unwrap(), file);
        // Nothing but the file is left in its directory.
        assert_eq!(
            std::fs::read_dir(path.parent().unwrap()).unwrap().count(),
            1
        );
    }

    #[test]
    fn a_planted_link_a_huge_file_and_a_bad_file_are_refused_and_nothing_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(CONTEXTS_FILE);
        let elsewhere = dir.path().join("elsewhere");
        std::fs::write(&elsewhere, "current = \"x\"").unwrap();
        std::os::unix::fs::symlink(&elsewhere, &path).unwrap();
        assert!(matches!(load(&path), Err(ContextError::Link(_))));
        assert!(matches!(
            save(&path, &ContextFile::default()),
            Err(ContextError::Link(_))
        ));
        assert_eq!(
            std::fs::read_to_string(&elsewhere).unwrap(),
            "current = \"x\""
        );
        std::fs::remove_file(&path).unwrap();

        std::fs::write(&path, "#".repeat(MAX_CONTEXTS_FILE as usize + 1)).unwrap();
        assert!(matches!(load(&path), Err(ContextError::TooLarge(_))));

        std::fs::write(&path, "[[contexts]]\nname = \"a\"\nhost = \"ftp://a\"\n").unwrap();
        let err = load(&path).unwrap_err().to_string();
        assert!(err.contains("contexts[0].host"), "{err}");

        let invalid = ContextFile {
            current: Some("missing".into()),
            contexts: Vec::new(),
        };
        assert!(save(&path, &invalid).is_err());
        assert!(std::fs::read_to_string(&path).unwrap().contains("ftp://a"));
    }

    #[test]
    fn a_host_beats_a_named_context_which_beats_the_current_one() {
        let mut file = ContextFile::default();
        file.add(context("a", "ssh://a")).unwrap();
        file.add(EngineContext {
            sentinel: Some("/opt/sentinel".into()),
            ..context("b", "ssh://b:2200")
        })
        .unwrap();
        file.current = Some("a".into());
        let host =
            |target: Option<Target>| target.map(|t| (t.context, t.client.endpoint().to_string()));

        assert_eq!(
            host(choose(&file, Some("ssh://c"), Some("b")).unwrap()),
            Some((None, "ssh://c".to_string()))
        );
        let b = choose(&file, None, Some("b")).unwrap().unwrap();
        assert_eq!(b.context.as_deref(), Some("b"));
        let Endpoint::Ssh(remote) = b.client.endpoint() else {
            panic!()
        };
        assert_eq!(remote.remote_sentinel, "/opt/sentinel");
        assert!(!remote.batch);
        let Endpoint::Ssh(remote) = batch(&b.client).endpoint().clone() else {
            panic!()
        };
        assert!(remote.batch);

        assert_eq!(
            host(choose(&file, None, None).unwrap()),
            Some((Some("a".to_string()), "ssh://a".to_string()))
        );
        assert!(choose(&file, None, Some("default")).unwrap().is_none());
        assert!(matches!(
            choose(&file, None, Some("zzz")),
            Err(ContextError::Unknown(_))
        ));
        let bad = choose(&file, Some("ssh://-oProxyCommand=x"), None).unwrap_err();
        assert!(bad.to_string().contains("starts with '-'"), "{bad}");
        file.current = None;
        assert!(choose(&file, None, None).unwrap().is_none());
    }
}
