//! The one-engine-per-home lock.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;

use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};

use crate::error::{EngineError, Result};

/// One engine per home: an exclusive lock on `engine.lock`, released when the engine shuts
/// down or its process dies, so a crash never leaves a stale lock behind.
pub(crate) struct EngineLock(#[allow(dead_code)] Flock<File>);

impl EngineLock {
    pub(crate) fn acquire(dir: &Path) -> Result<EngineLock> {
        let path = dir.join("engine.lock");
        let file = crate::home::open(
            &path,
            OpenOptions::new()
                .create(true)
                .truncate(false)
                .read(true)
                .write(true),
            crate::home::Kind::Output,
        )?;
        match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
            Ok(lock) => {
                let mut file: &File = &lock;
                let _ = file.set_len(0);
                let _ = writeln!(file, "{}", std::process::id());
                Ok(EngineLock(lock))
            }
            Err((file, Errno::EWOULDBLOCK)) => Err(EngineError::AlreadyRunning {
                home: dir.to_path_buf(),
                pid: std::io::read_to_string(file)
                    .ok()
                    .and_then(|p| p.trim().parse().ok()),
            }),
            Err((_, errno)) => Err(EngineError::io(
                format!("cannot lock {}", path.display()),
                errno.into(),
            )),
        }
    }
}
