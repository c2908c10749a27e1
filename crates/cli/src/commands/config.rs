//! Job files: export (or hand one job to launchd or systemd, or jobs to Kubernetes) and import
//! (ours, or another tool's through `migrate`).

use std::path::Path;

use sentinel_client::{Client, ClientError, ExportQuery, ImportOptions};
use sentinel_proto::config::{ConfigFile, ConfigFormat};
use sentinel_proto::secret::Secrets;

use crate::error::CliError;
use crate::{handoff, kubernetes, migrate};

pub async fn export(
    client: &Client,
    names: Vec<String>,
    group: Option<String>,
    format: ConfigFormat,
    show_secrets: bool,
) -> Result<(), CliError> {
    let query = ExportQuery {
        group,
        names,
        format,
        secrets: Secrets::shown(show_secrets),
    };
    print!("{}", client.export(&query).await?);
    Ok(())
}

/// `sentinel export NAME --as SYSTEM`: one job as a LaunchAgent or a systemd unit, with notes
/// on what does not carry over.
pub async fn hand_off(
    client: &Client,
    system: handoff::System,
    names: &[String],
    show_secrets: bool,
) -> Result<(), CliError> {
    let [name] = names else {
        return Err(CliError::Usage("--as hands over one job: name it".into()));
    };
    let detail = client.job(name, Secrets::shown(show_secrets)).await?;
    if !show_secrets && !detail.spec.secrets.is_empty() {
        eprintln!(
            "sentinel: note: the values of {} are masked; add --show-secrets to write them",
            detail.spec.secrets.join(", ")
        );
    }
    let (text, notes) = handoff::render(system, &detail.spec)?;
    for note in notes {
        eprintln!("sentinel: note: {note}");
    }
    print!("{text}");
    Ok(())
}

/// `sentinel export --as kubernetes`: the selected jobs (every job without names or a group)
/// as manifests. The definitions come from the engine's export, and what the env files hold
/// from the engine too: it reads them where the jobs run, as their runs do (relative to the
/// job's cwd, secret values masked unless asked for), which also holds for an engine on
/// another machine.
pub async fn kubernetes(
    client: &Client,
    names: Vec<String>,
    group: Option<String>,
    image: Option<String>,
    show_secrets: bool,
) -> Result<(), CliError> {
    let Some(image) = image else {
        return Err(CliError::Usage(
            "--as kubernetes needs --image IMAGE: the image every container runs its job's command in (jobs run commands, not images)".into(),
        ));
    };
    let secrets = Secrets::shown(show_secrets);
    let query = ExportQuery {
        group: group.clone(),
        names,
        format: ConfigFormat::Json,
        secrets,
    };
    let text = client.export(&query).await?;
    let file: ConfigFile =
        sentinel_proto::config::deserialize(&text, ConfigFormat::Json).map_err(|problems| {
            let first = problems
                .first()
                .map(|p| format!("{}: {}", p.field, p.message));
            CliError::Other(format!(
                "cannot read the engine's export: {}",
                first.unwrap_or_default()
            ))
        })?;
    if file.jobs.is_empty() {
        return Err(CliError::Other(match group {
            Some(group) => format!("no job is in the group {group:?}"),
            None => "there are no jobs to export".into(),
        }));
    }
    let mut jobs = Vec::with_capacity(file.jobs.len());
    for spec in file.jobs {
        let file_env = if spec.env_files.is_empty() {
            Ok(Vec::new())
        } else {
            match client.env(&spec.name, secrets).await {
                Ok(vars) => Ok(vars),
                // The engine could not read a file: the manifests say so and how to fill in.
                Err(ClientError::Api { body, .. }) => Err(body.message),
                Err(other) => return Err(other.into()),
            }
        };
        jobs.push(kubernetes::Job { spec, file_env });
    }
    if !show_secrets && jobs.iter().any(|job| !job.spec.secrets.is_empty()) {
        eprintln!(
            "sentinel: note: secret values are left empty in the Secrets; add --show-secrets to write them"
        );
    }
    let options = kubernetes::Options {
        image,
        secrets,
        time_zone: local_zone(),
    };
    print!("{}", kubernetes::render(&jobs, &options)?);
    Ok(())
}

/// The IANA name of the local time zone, which cron expressions are read in: `TZ` when it
/// names one, else the system's.
fn local_zone() -> Option<String> {
    let from_env = std::env::var("TZ")
        .ok()
        .map(|tz| tz.trim_start_matches(':').to_string())
        .filter(|tz| (tz.contains('/') && !tz.starts_with('/')) || tz == "UTC");
    from_env.or_else(|| iana_time_zone::get_timezone().ok())
}

/// Sends the file (another tool's converted first) and prints what changed, or would.
pub async fn import(
    client: &Client,
    file: &Path,
    replace: bool,
    dry_run: bool,
    from: Option<migrate::Source>,
) -> Result<(), CliError> {
    let (body, format) = match from {
        Some(source) => {
            let migrated = migrate::migrate(source, file)?;
            for note in &migrated.notes {
                eprintln!("sentinel: not carried over: {note}");
            }
            (
                ConfigFile::new(migrated.jobs).render(ConfigFormat::Json),
                ConfigFormat::Json,
            )
        }
        None => {
            let text = std::fs::read_to_string(file)
                .map_err(|err| CliError::Other(format!("cannot read {}: {err}", file.display())))?;
            (text, ConfigFormat::of_path(&file.display().to_string()))
        }
    };
    let options = ImportOptions {
        format,
        replace,
        dry_run,
    };
    let plan = client.import(body, options).await?;
    for (verb, names) in [
        ("add", &plan.add),
        ("update", &plan.update),
        ("remove", &plan.remove),
        ("unchanged", &plan.unchanged),
    ] {
        for name in names {
            println!("{verb:<10} {name}");
        }
    }
    if !plan.applied {
        println!("(dry run: nothing was changed)");
    }
    Ok(())
}
