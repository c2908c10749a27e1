//! The engine's home must be its own. Its directories and files hold every job's definition
//! and secrets, and a job found there is run as the engine's user (root, for a system
//! daemon), so one that another user owns or may write to, or a symbolic link planted there,
//! is refused at start with what to fix; no file in it is opened through a link; a file the
//! engine opens that others may read is made 0600.
//!
//! `judge` is the one decision, a pure function of what `lstat`/`fstat` found. Only the home
//! and what is inside it are judged: the directories above it (`/tmp`, `/var/lib`) are not the
//! engine's to check.

use std::fs::{File, Metadata, OpenOptions};
use std::io;
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::stat::Mode;

use crate::error::{EngineError, Result};
use crate::paths::EnginePaths;

/// What the engine keeps at a path, which decides how strict the check is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A directory of the home (data, logs, the socket's): refused when others may write in
    /// it, since they could plant files there.
    Dir,
    /// A file whose content the engine believes (the database, `settings.toml`,
    /// `metrics.token`): refused when others may write it.
    Trusted,
    /// A file the engine only writes (a job's log, `engine.lock`): made 0600 when others may
    /// read or write it.
    Output,
}

/// What `lstat` or `fstat` found, reduced to what the check needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Found {
    pub symlink: bool,
    pub dir: bool,
    pub file: bool,
    pub uid: u32,
    pub mode: u32,
}

impl Found {
    pub(crate) fn of(meta: &Metadata) -> Found {
        let kind = meta.file_type();
        Found {
            symlink: kind.is_symlink(),
            dir: kind.is_dir(),
            file: kind.is_file(),
            uid: meta.uid(),
            mode: meta.mode() & 0o7777,
        }
    }
}

/// What to do with a path that may be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    Fine,
    /// A file others may read (or, for output, write): its mode becomes 0600.
    MakePrivate,
    /// A directory others may enter but not write: kept (it may be shared on purpose), with a
    /// warning.
    Warn,
}

/// Why a path in the home is refused. Matched by clients through the error's code,
/// `unsafe_home`; the message says what to fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HomeProblem {
    /// A symbolic link where the engine keeps a directory or file.
    Symlink,
    /// Something else than a directory where the engine keeps one.
    NotADirectory,
    /// Something else than a regular file where the engine keeps one.
    NotAFile,
    /// Owned by another user (root included, when the engine is not root).
    Owner { owner: u32, engine: u32, dir: bool },
    /// Group or others may write it.
    Writable { mode: u32, dir: bool },
}

impl HomeProblem {
    /// The whole message: the path, the problem and the fix.
    pub fn describe(&self, path: &Path) -> String {
        let path = path.display();
        match self {
            HomeProblem::Symlink => format!(
                "{path} is a symbolic link, and the engine follows no link in its home (one \
                 planted there could make it write any file); remove the link (`rm {path}`) and \
                 let the engine create it, or set SENTINEL_HOME to the real directory"
            ),
            HomeProblem::NotADirectory => format!(
                "{path} is not a directory, where the engine keeps one; move it away \
                 (`mv {path} {path}.old`)"
            ),
            HomeProblem::NotAFile => format!(
                "{path} is not a regular file, where the engine keeps one; move it away \
                 (`mv {path} {path}.old`)"
            ),
            HomeProblem::Owner { owner, engine, dir } => format!(
                "{path} is owned by {}, not by {} that runs the engine: that user could read \
                 the secrets in it and add jobs the engine would run; if it is yours, \
                 `chown {}{engine} {path}`, else use a home of your own (SENTINEL_HOME)",
                user_name(*owner),
                user_name(*engine),
                if *dir { "-R " } else { "" },
            ),
            HomeProblem::Writable { mode, dir } => format!(
                "{path} can be written by other users (mode {:o}): they could plant or change \
                 what the engine trusts; `chmod {} {path}`",
                mode & 0o777,
                if *dir { "700" } else { "600" },
            ),
        }
    }
}

fn user_name(uid: u32) -> String {
    match nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid)) {
        Ok(Some(user)) => format!("{} (uid {uid})", user.name),
        _ => format!("uid {uid}"),
    }
}

/// The one decision: may the engine, running as `engine_uid`, use what it found where it
/// keeps a `kind`, and how?
pub(crate) fn judge(kind: Kind, found: Found, engine_uid: u32) -> Result<Verdict, HomeProblem> {
    let dir = kind == Kind::Dir;
    if found.symlink {
        return Err(HomeProblem::Symlink);
    }
    if dir && !found.dir {
        return Err(HomeProblem::NotADirectory);
    }
    if !dir && !found.file {
        return Err(HomeProblem::NotAFile);
    }
    if found.uid != engine_uid {
        return Err(HomeProblem::Owner {
            owner: found.uid,
            engine: engine_uid,
            dir,
        });
    }
    let writable = found.mode & 0o022 != 0;
    let open = found.mode & 0o077 != 0;
    Ok(match kind {
        Kind::Dir | Kind::Trusted if writable => {
            return Err(HomeProblem::Writable {
                mode: found.mode,
                dir,
            })
        }
        Kind::Dir if open => Verdict::Warn,
        Kind::Trusted | Kind::Output if open || found.mode & 0o7000 != 0 => Verdict::MakePrivate,
        _ => Verdict::Fine,
    })
}

fn engine_uid() -> u32 {
    nix::unistd::geteuid().as_raw()
}

fn refuse(path: &Path, problem: HomeProblem) -> EngineError {
    EngineError::UnsafeHome {
        path: path.to_path_buf(),
        problem,
    }
}

/// Everything the engine will use in its home, checked before it opens any of it: the data
/// and log directories (created 0700 when missing), then every file it keeps there that
/// exists (made 0600 when others may read it).
pub(crate) fn secure(paths: &EnginePaths) -> Result<()> {
    ensure_dir(&paths.data_dir)?;
    ensure_dir(&paths.log_dir)?;
    let database = paths.database();
    let mut files = vec![
        (paths.data_dir.join("engine.lock"), Kind::Output),
        (paths.settings_file(), Kind::Trusted),
        (paths.metrics_token(), Kind::Trusted),
        (database.clone(), Kind::Trusted),
        (sibling(&database, "-wal"), Kind::Trusted),
        (sibling(&database, "-shm"), Kind::Trusted),
    ];
    let backups = database
        .file_name()
        .map(|name| format!("{}.before-migration-", name.to_string_lossy()));
    for entry in read_dir(&paths.data_dir)? {
        let name = entry.to_string_lossy();
        if backups
            .as_ref()
            .is_some_and(|prefix| name.starts_with(prefix))
        {
            files.push((paths.data_dir.join(&entry), Kind::Trusted));
        }
    }
    for entry in read_dir(&paths.log_dir)? {
        if is_log_file(&entry.to_string_lossy()) {
            files.push((paths.log_dir.join(&entry), Kind::Output));
        }
    }
    for (path, kind) in files {
        check_file(&path, kind)?;
    }
    Ok(())
}

fn read_dir(dir: &Path) -> Result<Vec<std::ffi::OsString>> {
    let entries = std::fs::read_dir(dir)
        .map_err(|err| EngineError::io(format!("cannot read {}", dir.display()), err))?;
    Ok(entries.flatten().map(|entry| entry.file_name()).collect())
}

/// `api.log`, `api.log.3`.
fn is_log_file(name: &str) -> bool {
    if name.ends_with(".log") {
        return true;
    }
    match name.rsplit_once('.') {
        Some((head, number)) => {
            head.ends_with(".log")
                && !number.is_empty()
                && number.bytes().all(|b| b.is_ascii_digit())
        }
        None => false,
    }
}

/// `path` with `suffix` appended to its file name (`sentinel.db-wal`).
pub(crate) fn sibling(path: &Path, suffix: &str) -> std::path::PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    name.into()
}

/// A directory of the home: created private when missing; refused if it is a link, not a
/// directory, another user's, or writable by others; a warning when others may enter it.
pub(crate) fn ensure_dir(dir: &Path) -> Result<()> {
    let meta = match std::fs::symlink_metadata(dir) {
        Ok(meta) => meta,
        Err(err) if err.kind() == io::ErrorKind::NotFound => {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(|err| EngineError::io(format!("cannot create {}", dir.display()), err))?;
            // The mode given to mkdir is masked by the umask; make sure.
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(
                |err| EngineError::io(format!("cannot restrict {}", dir.display()), err),
            )?;
            std::fs::symlink_metadata(dir)
                .map_err(|err| EngineError::io(format!("cannot read {}", dir.display()), err))?
        }
        Err(err) => {
            return Err(EngineError::io(
                format!("cannot read {}", dir.display()),
                err,
            ))
        }
    };
    let found = Found::of(&meta);
    match judge(Kind::Dir, found, engine_uid()).map_err(|problem| refuse(dir, problem))? {
        Verdict::Warn => tracing::warn!(
            "{} is open to other users (mode {:o}); prefer 0700",
            dir.display(),
            found.mode & 0o777
        ),
        Verdict::Fine | Verdict::MakePrivate => {}
    }
    Ok(())
}

/// A file the engine will open, if it exists: refused if it is a link, not a regular file,
/// another user's, or (trusted) writable by others; made 0600 if others may read it.
pub(crate) fn check_file(path: &Path, kind: Kind) -> Result<()> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(err) => {
            return Err(EngineError::io(
                format!("cannot read {}", path.display()),
                err,
            ))
        }
    };
    if judge(kind, Found::of(&meta), engine_uid()).map_err(|problem| refuse(path, problem))?
        == Verdict::MakePrivate
    {
        // Through a descriptor, so that what is changed is what was checked.
        match open(path, OpenOptions::new().read(true), kind) {
            Ok(_) => {}
            Err(EngineError::Io { source, .. }) if source.kind() == io::ErrorKind::NotFound => {}
            Err(err) => return Err(err),
        }
    }
    Ok(())
}

/// Opens a file of the home without following a link (`O_NOFOLLOW`; files it creates are
/// 0600), then judges what it opened: refused if it is not a regular file or is another
/// user's, or (trusted) writable by others; made 0600 if others may read it.
pub(crate) fn open(path: &Path, options: &mut OpenOptions, kind: Kind) -> Result<File> {
    let file = options
        .mode(0o600)
        .custom_flags(nix::libc::O_NOFOLLOW | nix::libc::O_NONBLOCK | nix::libc::O_CLOEXEC)
        .open(path)
        .map_err(|err| match err.raw_os_error() {
            Some(code) if is_link_refusal(code) => refuse(path, HomeProblem::Symlink),
            _ => EngineError::io(format!("cannot open {}", path.display()), err),
        })?;
    let meta = file
        .metadata()
        .map_err(|err| EngineError::io(format!("cannot read {}", path.display()), err))?;
    if judge(kind, Found::of(&meta), engine_uid()).map_err(|problem| refuse(path, problem))?
        == Verdict::MakePrivate
    {
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(|err| {
                EngineError::io(format!("cannot make {} private", path.display()), err)
            })?;
    }
    Ok(file)
}

/// `open(O_NOFOLLOW)` says ELOOP for a link (EMLINK on FreeBSD).
fn is_link_refusal(code: i32) -> bool {
    code == nix::libc::ELOOP || code == nix::libc::EMLINK
}

/// A directory opened without following a link, created 0700 if missing: log files are
/// opened, renamed and removed relative to it, so a log directory replaced by a link after
/// start is refused rather than followed.
pub(crate) fn open_log_dir(dir: &Path, create: bool) -> io::Result<OwnedFd> {
    let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
    let fd = match nix::fcntl::open(dir, flags, Mode::empty()) {
        Err(Errno::ENOENT) if create => {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)?;
            nix::fcntl::open(dir, flags, Mode::empty())
        }
        other => other,
    };
    let fd = match fd {
        Ok(fd) => fd,
        // ENOTDIR: a link to something else than a directory, or not a directory at all.
        Err(errno) if is_link_refusal(errno as i32) || errno == Errno::ENOTDIR => {
            let problem = match std::fs::symlink_metadata(dir) {
                Ok(meta) if meta.file_type().is_symlink() => HomeProblem::Symlink,
                _ => HomeProblem::NotADirectory,
            };
            return Err(io::Error::other(problem.describe(dir)));
        }
        Err(errno) => return Err(errno.into()),
    };
    // SAFETY: `open` just returned this descriptor, and nothing else owns it.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    let meta = File::from(fd.try_clone()?).metadata()?;
    judge(Kind::Dir, Found::of(&meta), engine_uid())
        .map_err(|problem| io::Error::other(problem.describe(dir)))?;
    Ok(fd)
}

/// Opens a job's log file for appending, relative to its directory and without following a
/// link in either; created 0600, and made 0600 if others may read or write it.
pub(crate) fn open_log(path: &Path) -> io::Result<File> {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return Err(io::Error::other(format!(
            "{} is not a file",
            path.display()
        )));
    };
    let dir_fd = open_log_dir(dir, true)?;
    let flags = OFlag::O_WRONLY
        | OFlag::O_APPEND
        | OFlag::O_CREAT
        | OFlag::O_NOFOLLOW
        | OFlag::O_NONBLOCK
        | OFlag::O_CLOEXEC;
    let fd = {
        use std::os::fd::AsRawFd;
        nix::fcntl::openat(
            Some(dir_fd.as_raw_fd()),
            name,
            flags,
            Mode::from_bits_truncate(0o600),
        )
    }
    .map_err(|errno| {
        if is_link_refusal(errno as i32) {
            io::Error::other(HomeProblem::Symlink.describe(path))
        } else {
            io::Error::from(errno)
        }
    })?;
    // SAFETY: `openat` just returned this descriptor, and nothing else owns it.
    let file = unsafe { File::from_raw_fd(fd) };
    let meta = file.metadata()?;
    if judge(Kind::Output, Found::of(&meta), engine_uid())
        .map_err(|problem| io::Error::other(problem.describe(path)))?
        == Verdict::MakePrivate
    {
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(file)
}

/// Reads a whole log file without following a link.
/// The last `at_most` bytes of a log file, never through a link, and whether that is the
/// whole file (when it is not, the first line may be cut).
pub(crate) fn read_log_end(path: &Path, at_most: u64) -> io::Result<(Vec<u8>, bool)> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NOFOLLOW | nix::libc::O_NONBLOCK | nix::libc::O_CLOEXEC)
        .open(path)?;
    let metadata = file.metadata()?;
    if !metadata.is_file() {
        return Err(io::Error::other(HomeProblem::NotAFile.describe(path)));
    }
    let start = metadata.len().saturating_sub(at_most);
    file.seek(SeekFrom::Start(start))?;
    let mut bytes = Vec::new();
    file.take(at_most).read_to_end(&mut bytes)?;
    Ok((bytes, start == 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ME: u32 = 1000;

    fn dir(mode: u32) -> Found {
        Found {
            symlink: false,
            dir: true,
            file: false,
            uid: ME,
            mode,
        }
    }

    fn file(mode: u32) -> Found {
        Found {
            symlink: false,
            dir: false,
            file: true,
            uid: ME,
            mode,
        }
    }

    #[test]
    fn a_private_home_of_ones_own_is_fine() {
        assert_eq!(judge(Kind::Dir, dir(0o700), ME), Ok(Verdict::Fine));
        assert_eq!(judge(Kind::Trusted, file(0o600), ME), Ok(Verdict::Fine));
        assert_eq!(judge(Kind::Output, file(0o600), ME), Ok(Verdict::Fine));
    }

    #[test]
    fn another_users_home_is_refused_root_included() {
        for owner in [0, 65534] {
            for (kind, found) in [(Kind::Dir, dir(0o700)), (Kind::Trusted, file(0o600))] {
                let found = Found {
                    uid: owner,
                    ..found
                };
                assert_eq!(
                    judge(kind, found, ME),
                    Err(HomeProblem::Owner {
                        owner,
                        engine: ME,
                        dir: kind == Kind::Dir
                    })
                );
            }
        }
        // Root's own home is root's.
        assert_eq!(
            judge(
                Kind::Dir,
                Found {
                    uid: 0,
                    ..dir(0o700)
                },
                0
            ),
            Ok(Verdict::Fine)
        );
    }

    #[test]
    fn writable_by_others_is_refused_readable_is_warned_or_made_private() {
        for mode in [0o777, 0o770, 0o720, 0o702, 0o1777] {
            assert_eq!(
                judge(Kind::Dir, dir(mode), ME),
                Err(HomeProblem::Writable { mode, dir: true })
            );
        }
        assert_eq!(judge(Kind::Dir, dir(0o755), ME), Ok(Verdict::Warn));
        assert_eq!(
            judge(Kind::Trusted, file(0o666), ME),
            Err(HomeProblem::Writable {
                mode: 0o666,
                dir: false
            })
        );
        assert_eq!(
            judge(Kind::Trusted, file(0o644), ME),
            Ok(Verdict::MakePrivate)
        );
        assert_eq!(
            judge(Kind::Output, file(0o666), ME),
            Ok(Verdict::MakePrivate)
        );
        assert_eq!(
            judge(Kind::Output, file(0o4600), ME),
            Ok(Verdict::MakePrivate)
        );
    }

    #[test]
    fn links_and_wrong_types_are_refused() {
        let link = Found {
            symlink: true,
            dir: false,
            file: false,
            uid: ME,
            mode: 0o777,
        };
        for kind in [Kind::Dir, Kind::Trusted, Kind::Output] {
            assert_eq!(judge(kind, link, ME), Err(HomeProblem::Symlink));
        }
        assert_eq!(
            judge(Kind::Dir, file(0o600), ME),
            Err(HomeProblem::NotADirectory)
        );
        assert_eq!(
            judge(Kind::Output, dir(0o700), ME),
            Err(HomeProblem::NotAFile)
        );
    }

    #[test]
    fn the_message_names_the_path_the_problem_and_the_fix() {
        let path = Path::new("/srv/sz");
        let owner = HomeProblem::Owner {
            owner: 65534,
            engine: 0,
            dir: true,
        }
        .describe(path);
        assert!(owner.contains("/srv/sz is owned by"), "{owner}");
        assert!(owner.contains("uid 65534"), "{owner}");
        assert!(owner.contains("chown -R 0 /srv/sz"), "{owner}");
        let writable = HomeProblem::Writable {
            mode: 0o40777,
            dir: true,
        }
        .describe(path);
        assert!(writable.contains("mode 777"), "{writable}");
        assert!(writable.contains("chmod 700 /srv/sz"), "{writable}");
        let link = HomeProblem::Symlink.describe(Path::new("/srv/sz/engine.lock"));
        assert!(link.contains("symbolic link"), "{link}");
        assert!(link.contains("rm /srv/sz/engine.lock"), "{link}");
    }

    #[test]
    fn log_file_names() {
        assert!(is_log_file("api.log"));
        assert!(is_log_file("api.log.3"));
        assert!(!is_log_file("api.log."));
        assert!(!is_log_file("api.txt"));
        assert!(!is_log_file("notes.3"));
    }
}
