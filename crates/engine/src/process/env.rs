//! A job's environment on top of the engine's: its env files, read at every start, then its
//! `env` table; each variable remembers where it came from.

use std::collections::BTreeMap;
use std::path::Path;

use sentinel_proto::stack::{EnvSource, EnvVar};
use sentinel_proto::JobSpec;

/// Set by launchd, to the job's label, in the app it started at login, and inherited by
/// whatever the app starts: a job would pass for the app's own launchd job (and see itself as
/// the login item). Jobs don't get it from the engine; a job's own `env` may still set it.
pub(crate) const LAUNCHD_JOB_VAR: &str = "XPC_SERVICE_NAME";

/// The variables the next run gets, by name. Later env files win over earlier ones and `env`
/// wins over all; a missing or unreadable file is an error naming it.
pub(crate) fn resolve(spec: &JobSpec, cwd: &Path) -> Result<Vec<EnvVar>, String> {
    let mut vars: BTreeMap<String, EnvVar> = BTreeMap::new();
    let mut set = |key: String, value: String, source: EnvSource| match vars.get_mut(&key) {
        Some(var) => {
            let earlier = std::mem::replace(&mut var.source, source);
            var.overrides.push(earlier);
            var.value = value;
        }
        None => {
            vars.insert(
                key.clone(),
                EnvVar {
                    key,
                    value,
                    source,
                    overrides: Vec::new(),
                    secret: false,
                },
            );
        }
    };
    for file in &spec.env_files {
        let path = cwd.join(file);
        let entries = dotenvy::from_path_iter(&path)
            .map_err(|err| format!("env file {}: {}", path.display(), describe(&err)))?;
        for entry in entries {
            let (key, value) =
                entry.map_err(|err| format!("env file {}: {}", path.display(), describe(&err)))?;
            set(key, value, EnvSource::File(path.clone()));
        }
    }
    for (key, value) in &spec.env {
        set(key.clone(), value.clone(), EnvSource::Spec);
    }
    Ok(vars.into_values().collect())
}

fn describe(err: &dotenvy::Error) -> String {
    match err {
        dotenvy::Error::Io(io) if io.kind() == std::io::ErrorKind::NotFound => "not found".into(),
        dotenvy::Error::Io(io) => io.to_string(),
        // The line itself may hold a secret value: name only its key.
        dotenvy::Error::LineParse(line, at) => match line.split_once('=') {
            Some((key, _)) => format!("cannot read the line of {} (at character {at})", key.trim()),
            None => format!("cannot read a line (at character {at})"),
        },
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn later_files_and_env_win_and_sources_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(".env"),
            "A=from-env\nB=from-env\nC=from-env\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join(".env.local"),
            "# local\nB=from-local\nC=\"quoted value\"\n",
        )
        .unwrap();
        let mut spec = JobSpec::new("api", "true");
        spec.env_files = vec![".env".into(), ".env.local".into()];
        spec.env.insert("C".into(), "from-spec".into());
        let vars = resolve(&spec, dir.path()).unwrap();
        let get = |key: &str| vars.iter().find(|v| v.key == key).unwrap().clone();
        assert_eq!(get("A").value, "from-env");
        assert_eq!(get("A").source, EnvSource::File(dir.path().join(".env")));
        assert_eq!(get("B").value, "from-local");
        assert_eq!(
            get("B").overrides,
            vec![EnvSource::File(dir.path().join(".env"))]
        );
        assert_eq!(get("C").value, "from-spec");
        assert_eq!(get("C").source, EnvSource::Spec);
        assert_eq!(get("C").overrides.len(), 2);
    }

    #[test]
    fn a_line_that_cannot_be_read_is_named_by_its_key_not_its_value() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(".env"), "OK=1\nTOKEN=\"s3cr3t-unclosed\n").unwrap();
        let mut spec = JobSpec::new("api", "true");
        spec.env_files = vec![".env".into()];
        let err = resolve(&spec, dir.path()).unwrap_err();
        assert!(err.contains("cannot read the line of TOKEN"), "{err}");
        assert!(!err.contains("s3cr3t"), "{err}");
    }

    #[test]
    fn a_missing_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let mut spec = JobSpec::new("api", "true");
        spec.env_files = vec!["nope.env".into()];
        let err = resolve(&spec, dir.path()).unwrap_err();
        assert_eq!(
            err,
            format!(
                "env file {}: not found",
                dir.path().join("nope.env").display()
            )
        );
    }
}
