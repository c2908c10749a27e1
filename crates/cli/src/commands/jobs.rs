//! Job definitions: add, edit, remove, list, and one job in detail.

use sentinel_client::Client;
use sentinel_proto::secret::Secrets;

use super::print_json;
use crate::args::{EditToggles, JobArgs};
use crate::error::CliError;
use crate::output::{self, Style};
use crate::spec;

pub async fn add(
    client: &Client,
    style: &Style,
    name: &str,
    job: &JobArgs,
    argv: &[String],
) -> Result<(), CliError> {
    let spec = spec::new_spec(name, job, argv)?;
    let status = client.add(&spec).await?;
    println!(
        "added {} ({})",
        status.name,
        style.state_name(&status.state)
    );
    Ok(())
}

/// Reads the definition, changes what the flags say, and sends the whole of it back (secret
/// values come back masked, which the engine takes as "keep").
pub async fn edit(
    client: &Client,
    style: &Style,
    name: &str,
    job: &JobArgs,
    toggles: &EditToggles,
    argv: &[String],
) -> Result<(), CliError> {
    let mut spec = client.job(name, Secrets::Masked).await?.spec;
    spec::apply(&mut spec, job, argv)?;
    spec::apply_toggles(&mut spec, toggles);
    let status = client.update(&spec).await?;
    println!(
        "changed {} ({})",
        status.name,
        style.state_name(&status.state)
    );
    Ok(())
}

/// Removes each job in turn; the first refusal stops there.
pub async fn remove(client: &Client, names: &[String]) -> Result<(), CliError> {
    for name in names {
        client.remove(name).await?;
        println!("removed {name}");
    }
    Ok(())
}

pub async fn list(
    client: &Client,
    style: &Style,
    group: Option<String>,
    project: Option<String>,
    json: bool,
) -> Result<(), CliError> {
    let mut jobs = client.jobs().await?;
    if let Some(group) = group {
        jobs.retain(|job| job.group.as_deref() == Some(group.as_str()));
    }
    if let Some(project) = project {
        jobs.retain(|job| job.project_name() == Some(project.as_str()));
    }
    if json {
        print_json(&jobs)
    } else {
        print!("{}", output::job_table(&jobs, style));
        Ok(())
    }
}

pub async fn status(
    client: &Client,
    style: &Style,
    name: &str,
    json: bool,
    show_secrets: bool,
) -> Result<(), CliError> {
    let detail = client.job(name, Secrets::shown(show_secrets)).await?;
    if json {
        print_json(&detail)
    } else {
        print!("{}", output::job_detail(&detail, style));
        Ok(())
    }
}
