//! Job files: export (or hand one job to launchd or systemd) and import (ours, or another
//! tool's through `migrate`).

use std::path::Path;

use sentinel_client::{Client, ExportQuery, ImportOptions};
use sentinel_proto::config::{ConfigFile, ConfigFormat};
use sentinel_proto::secret::Secrets;

use crate::error::CliError;
use crate::{handoff, migrate};

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
