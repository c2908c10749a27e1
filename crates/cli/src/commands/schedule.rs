//! `sentinel schedule`: what a schedule means and when it fires, without creating anything.

use sentinel_client::{Client, ScheduleExpr};

use super::print_json;
use crate::error::CliError;

pub async fn preview(
    client: &Client,
    cron: Option<String>,
    every: Option<String>,
    at: Option<String>,
    count: usize,
    json: bool,
) -> Result<(), CliError> {
    // clap lets exactly one through.
    let schedule = match (cron, every, at) {
        (Some(cron), _, _) => ScheduleExpr::Cron(cron),
        (None, Some(every), _) => ScheduleExpr::Every(every),
        (None, None, Some(at)) => ScheduleExpr::At(at),
        (None, None, None) => {
            return Err(CliError::Usage(
                "give a cron expression, --every or --at".into(),
            ))
        }
    };
    let preview = client.schedule_preview(&schedule, count).await?;
    if json {
        return print_json(&preview);
    }
    println!("{}", preview.description);
    for at in preview.next {
        println!(
            "  {}",
            at.with_timezone(&chrono::Local)
                .format("%a %Y-%m-%d %H:%M:%S %Z")
        );
    }
    Ok(())
}
