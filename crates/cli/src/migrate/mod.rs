//! Jobs from other supervisors: launchd plists, PM2 ecosystem files, supervisord programs,
//! Procfiles and process-compose files. Whatever has no equivalent is listed in `notes`, never
//! dropped silently.

mod launchd;
mod pm2;
pub mod process_compose;
mod procfile;
mod supervisord;

use std::path::Path;

use sentinel_proto::JobSpec;

use crate::error::CliError;

/// What came over, and what did not.
#[derive(Debug, Default)]
pub struct Migrated {
    pub jobs: Vec<JobSpec>,
    /// One line per setting that was not carried over, naming the job and why.
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Source {
    Launchd,
    Pm2,
    Supervisord,
    Procfile,
    ProcessCompose,
}

pub fn migrate(source: Source, path: &Path) -> Result<Migrated, CliError> {
    let read = |path: &Path| {
        std::fs::read_to_string(path)
            .map_err(|err| CliError::Other(format!("cannot read {}: {err}", path.display())))
    };
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let dir = std::path::absolute(&dir).unwrap_or(dir);
    match source {
        Source::Procfile => Ok(procfile::parse(&read(path)?, &dir)),
        Source::ProcessCompose => process_compose::parse(&read(path)?, &dir),
        Source::Pm2 => pm2::parse(&read(path)?, &dir),
        Source::Supervisord => supervisord::parse(&read(path)?),
        Source::Launchd if path.is_dir() => {
            let mut all = Migrated::default();
            let mut files: Vec<_> = std::fs::read_dir(path)
                .map_err(|err| CliError::Other(format!("cannot read {}: {err}", path.display())))?
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "plist"))
                .collect();
            files.sort();
            for file in files {
                let one = launchd::parse(&std::fs::read(&file).unwrap_or_default(), &file)?;
                all.jobs.extend(one.jobs);
                all.notes.extend(one.notes);
            }
            Ok(all)
        }
        Source::Launchd => {
            let bytes = std::fs::read(path)
                .map_err(|err| CliError::Other(format!("cannot read {}: {err}", path.display())))?;
            launchd::parse(&bytes, path)
        }
    }
}

/// A job name from a foreign one: what is not allowed becomes '-'.
pub fn job_name(raw: &str) -> String {
    let name: String = raw
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '-'
            }
        })
        .take(64)
        .collect();
    if name.is_empty() {
        "job".into()
    } else {
        name
    }
}

/// A command line from argv, quoted as a shell would need it.
pub fn join(argv: &[String]) -> Result<String, CliError> {
    shlex::try_join(argv.iter().map(String::as_str))
        .map_err(|err| CliError::Other(format!("cannot quote {argv:?}: {err}")))
}

#[cfg(test)]
mod fuzz {
    use std::path::Path;

    use proptest::prelude::*;

    /// Text shaped like each format often enough to reach past its first check.
    fn near_miss() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<String>(),
            "\\[program:[a-z]{1,8}\\]\n([a-z_]{1,12}=[ -~]{0,30}\n){0,6}",
            "([a-z]{1,8}: [ -~]{0,40}\n){0,5}",
            "\\{\"apps\": \\[\\{(\"[a-z_]{1,14}\": (\"[ -~]{0,12}\"|[0-9]{1,6}|true|null|\\[\\]), ){0,5}\"name\": \"x\"\\}\\]\\}",
            // process-compose: its own keys, with scalars, flow lists and flow maps as values.
            "processes:\n(  [a-z]{1,6}:\n(    (command|working_dir|environment|env_file|depends_on|readiness_probe|liveness_probe|ready_log_line|availability|disabled|schedule|shutdown|namespace|replicas|success_exit_codes|entrypoint|is_daemon|x-a|<<): ([ -~]{0,20}|\\[[ -~]{0,12}\\]|\\{(exec|http_get|restart|condition|signal|cron|interval|port|command|[a-z]{1,3}): ([ -~]{0,10}|\\{[a-z_]{1,8}: [0-9a-z]{0,4}\\})\\}|-?[0-9]{1,5})\n){0,6}){1,3}",
            "<\\?xml version=\"1.0\"\\?><plist version=\"1.0\"><dict>(<key>[A-Za-z]{1,20}</key><(string>[ -;=-~]{0,20}</string|integer>[0-9]{1,5}</integer|true/)>){0,6}</dict></plist>",
        ]
    }

    proptest! {
        /// Every importer answers any input with jobs, notes or an error; it never panics.
        #[test]
        fn importers_never_panic(text in near_miss()) {
            let dir = Path::new("/tmp");
            let _ = super::supervisord::parse(&text);
            let _ = super::pm2::parse(&text, dir);
            let _ = super::procfile::parse(&text, dir);
            let _ = super::launchd::parse(text.as_bytes(), Path::new("x.plist"));
            let _ = super::process_compose::parse(&text, dir);
        }
    }
}
