//! Finding and reading a project file: `sentinel.toml` in the directory or the nearest parent
//! that has one, or a `process-compose.yaml` there when it has no `sentinel.toml`.

use std::path::{Path, PathBuf};

use sentinel_proto::api::{ErrorBody, INVALID_FILE};
use sentinel_proto::config::{ConfigFormat, CONFIG_VERSION};
use sentinel_proto::project::{ProjectSpec, PROJECT_FILE};
use sentinel_proto::FieldError;

use crate::error::CliError;

/// process-compose's file names, in the order it looks for them.
const PROCESS_COMPOSE_FILES: &[&str] = &[
    "process-compose.yml",
    "process-compose.yaml",
    "compose.yml",
    "compose.yaml",
];

/// A project file found on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProjectFile {
    Sentinel(PathBuf),
    ProcessCompose(PathBuf),
}

impl ProjectFile {
    pub fn path(&self) -> &Path {
        match self {
            ProjectFile::Sentinel(path) | ProjectFile::ProcessCompose(path) => path,
        }
    }
}

/// The project file for `dir` (default: the current directory): `dir` itself may be the file;
/// otherwise `dir` and its parents are searched, nearest first.
pub fn find(dir: Option<&Path>) -> Result<ProjectFile, CliError> {
    let start = match dir {
        Some(dir) => std::path::absolute(dir)
            .map_err(|err| CliError::Other(format!("{}: {err}", dir.display())))?,
        None => std::env::current_dir()
            .map_err(|err| CliError::Other(format!("cannot read the current directory: {err}")))?,
    };
    if start.is_file() {
        let name = start.file_name().and_then(|n| n.to_str()).unwrap_or("");
        return Ok(
            if PROCESS_COMPOSE_FILES.contains(&name)
                || name.ends_with(".yaml")
                || name.ends_with(".yml")
            {
                ProjectFile::ProcessCompose(start)
            } else {
                ProjectFile::Sentinel(start)
            },
        );
    }
    if dir.is_some() && !start.is_dir() {
        return Err(CliError::Usage(format!(
            "{} is neither a directory nor a project file",
            start.display()
        )));
    }
    for candidate in start.ancestors() {
        let sentinel = candidate.join(PROJECT_FILE);
        if sentinel.is_file() {
            return Ok(ProjectFile::Sentinel(sentinel));
        }
        if let Some(found) = PROCESS_COMPOSE_FILES
            .iter()
            .map(|name| candidate.join(name))
            .find(|path| path.is_file())
        {
            return Ok(ProjectFile::ProcessCompose(found));
        }
    }
    Err(CliError::Usage(format!(
        "no {PROJECT_FILE} (or process-compose.yaml) in {} or any parent; create one with the jobs of the project (see `sentinel help up`)",
        start.display()
    )))
}

/// The project the file defines, and what a converted file could not carry over.
pub fn load(file: &ProjectFile) -> Result<(ProjectSpec, Vec<String>), CliError> {
    let path = file.path();
    let refused = |errors: Vec<FieldError>| {
        CliError::Api(ErrorBody {
            code: INVALID_FILE.into(),
            message: format!(
                "{} has {} problem{}; nothing was changed",
                path.display(),
                errors.len(),
                if errors.len() == 1 { "" } else { "s" }
            ),
            field: errors
                .first()
                .map(|e| e.field.clone())
                .filter(|f| !f.is_empty()),
            errors,
        })
    };
    match file {
        ProjectFile::Sentinel(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|err| CliError::Other(format!("cannot read {}: {err}", path.display())))?;
            let format = ConfigFormat::of_path(&path.display().to_string());
            let project = ProjectSpec::read(&text, format, path).map_err(refused)?;
            Ok((project, Vec::new()))
        }
        ProjectFile::ProcessCompose(path) => {
            let migrated = crate::migrate::migrate(crate::migrate::Source::ProcessCompose, path)?;
            let project = ProjectSpec::from_jobs(None, CONFIG_VERSION, migrated.jobs, path)
                .map_err(refused)?;
            Ok((project, migrated.notes))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_nearest_file_wins_and_sentinel_toml_first() {
        let root = tempfile::tempdir().unwrap();
        let nested = root.path().join("a/b");
        std::fs::create_dir_all(&nested).unwrap();
        std::fs::write(root.path().join(PROJECT_FILE), "").unwrap();
        assert_eq!(
            find(Some(&nested)).unwrap(),
            ProjectFile::Sentinel(root.path().join(PROJECT_FILE))
        );
        std::fs::write(root.path().join("a/process-compose.yaml"), "").unwrap();
        assert_eq!(
            find(Some(&nested)).unwrap(),
            ProjectFile::ProcessCompose(root.path().join("a/process-compose.yaml"))
        );
        std::fs::write(root.path().join("a").join(PROJECT_FILE), "").unwrap();
        assert_eq!(
            find(Some(&root.path().join("a"))).unwrap(),
            ProjectFile::Sentinel(root.path().join("a").join(PROJECT_FILE))
        );
        let file = root.path().join(PROJECT_FILE);
        assert_eq!(find(Some(&file)).unwrap(), ProjectFile::Sentinel(file));
    }

    #[test]
    fn no_file_is_a_usage_error() {
        let root = tempfile::tempdir().unwrap();
        let err = find(Some(&root.path().join("missing"))).unwrap_err();
        assert!(matches!(err, CliError::Usage(_)), "{err}");
    }

    #[test]
    fn a_bad_file_lists_its_problems() {
        let root = tempfile::tempdir().unwrap();
        let file = root.path().join(PROJECT_FILE);
        std::fs::write(&file, "[[jobs]]\nname = \"web\"\ncommand = \"\"\n").unwrap();
        let err = load(&ProjectFile::Sentinel(file)).unwrap_err();
        assert!(err.to_string().contains("jobs[0] (web).command"), "{err}");
    }
}
