//! Procfiles: `name: command` per line, run by a shell in the Procfile's directory.

use std::path::Path;

use sentinel_proto::JobSpec;

use super::{job_name, Migrated};

pub fn parse(text: &str, dir: &Path) -> Migrated {
    let mut migrated = Migrated::default();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((name, command)) = line.split_once(':') else {
            migrated.notes.push(format!(
                "line {}: {line:?} is not `name: command`; skipped",
                number + 1
            ));
            continue;
        };
        let mut job = JobSpec::new(job_name(name.trim()), command.trim());
        // Procfile commands are shell lines ($PORT, &&, pipes).
        job.shell = true;
        job.cwd = Some(dir.to_path_buf());
        migrated.jobs.push(job);
    }
    migrated
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_processes_and_skips_comments() {
        let text = "# dev stack\nweb: bundle exec rails s -p $PORT\nworker:  bundle exec sidekiq -q default -q 'mail urgent'\n\nbroken line\n";
        let migrated = parse(text, Path::new("/srv/app"));
        assert_eq!(migrated.jobs.len(), 2);
        assert_eq!(migrated.jobs[0].name, "web");
        assert_eq!(migrated.jobs[0].command, "bundle exec rails s -p $PORT");
        assert!(migrated.jobs[0].shell);
        assert_eq!(
            migrated.jobs[1].command,
            "bundle exec sidekiq -q default -q 'mail urgent'"
        );
        assert_eq!(migrated.jobs[1].cwd.as_deref(), Some(Path::new("/srv/app")));
        assert_eq!(
            migrated.notes,
            vec!["line 5: \"broken line\" is not `name: command`; skipped"]
        );
    }
}
