//! Dev-stack commands: who holds jobs' ports (and freeing a job's own leftovers), and where
//! a job's environment comes from.

use sentinel_client::Client;
use sentinel_proto::secret::Secrets;

use super::print_json;
use crate::error::CliError;
use crate::output;

/// Every job's declared ports, or one job's.
pub async fn ports(client: &Client, name: Option<String>, json: bool) -> Result<(), CliError> {
    let jobs = match name {
        Some(name) => vec![client.job_ports(&name).await?],
        None => client.ports().await?,
    };
    if json {
        print_json(&jobs)
    } else {
        if jobs.is_empty() {
            println!(
                "No job declares ports (`ports = [8080]`, or `sentinel edit NAME --port 8080`)."
            );
        } else {
            print!("{}", output::ports_table(&jobs));
        }
        Ok(())
    }
}

pub async fn free_ports(client: &Client, name: &str, json: bool) -> Result<(), CliError> {
    let freed = client.free_ports(name).await?;
    if json {
        print_json(&freed)
    } else {
        print!("{}", output::freed_ports(&freed));
        Ok(())
    }
}

pub async fn env(
    client: &Client,
    name: &str,
    json: bool,
    show_secrets: bool,
) -> Result<(), CliError> {
    let vars = client.env(name, Secrets::shown(show_secrets)).await?;
    if json {
        print_json(&vars)
    } else {
        print!("{}", output::env_listing(&vars));
        Ok(())
    }
}
