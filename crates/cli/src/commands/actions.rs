//! Acting on jobs: start, stop and restart a selection; run, enable and disable one job.

use sentinel_client::Client;
use sentinel_proto::Action;

use super::print_json;
use crate::args::Selection;
use crate::error::CliError;
use crate::output::Style;

/// One line per job acted on; the jobs the engine could not act on are reported on stderr
/// and make the command fail, after every other job was acted on.
pub async fn act(
    client: &Client,
    style: &Style,
    action: Action,
    which: Selection,
    json: bool,
) -> Result<(), CliError> {
    let results = client.act(action, which.into()).await?;
    report(style, &results, json)
}

/// Each job's state after an action, or its error on stderr; any error fails the command.
pub fn report(
    style: &Style,
    results: &[sentinel_proto::ActionResult],
    json: bool,
) -> Result<(), CliError> {
    if json {
        print_json(&results)?;
    }
    let mut failed = 0;
    for result in results {
        match (result.status(), result.error()) {
            (Some(status), _) if !json => {
                println!("{}: {}", status.name, style.state_name(&status.state));
            }
            (_, Some(error)) => {
                failed += 1;
                eprintln!("sentinel: {}: {}", result.name, error.message);
            }
            _ => {}
        }
    }
    if failed > 0 {
        return Err(CliError::Partial(failed));
    }
    Ok(())
}

/// `sentinel run`: starts the job now, whatever its schedule says.
pub async fn run_now(client: &Client, style: &Style, name: &str) -> Result<(), CliError> {
    let status = client.act_on(Action::Start, name).await?;
    println!("{}: {}", status.name, style.state_name(&status.state));
    Ok(())
}

/// `sentinel enable` and `sentinel disable`.
pub async fn toggle(
    client: &Client,
    style: &Style,
    action: Action,
    name: &str,
) -> Result<(), CliError> {
    let status = client.act_on(action, name).await?;
    let note = if status.enabled { "" } else { " (disabled)" };
    println!("{}: {}{note}", status.name, style.state_name(&status.state));
    Ok(())
}
