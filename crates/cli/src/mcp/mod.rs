//! `sentinel mcp`: a Model Context Protocol server on stdio, so coding agents can see and
//! drive the local engine's jobs. An adapter like the CLI: it asks the engine through
//! `sentinel-client` and adds no rules of its own (the job tools in `tools.rs`, the project
//! tools in `projects.rs`; the input checks and their bounds in `input.rs`; answers and
//! errors in `reply.rs`).

mod input;
mod projects;
mod reply;
mod tools;

use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::model::{Implementation, ServerCapabilities, ServerConfig};
use rmcp::transport::async_rw::AsyncRwTransport;
use rmcp::{tool_handler, ServerHandler, ServiceExt};
use sentinel_client::Client;

use crate::error::CliError;

/// What the agent is told about the server when it connects.
const INSTRUCTIONS: &str = "\
SentinelZero supervises long-running processes (jobs) on this machine: dev servers, workers, \
databases, scheduled tasks. Use list_jobs to see them, job_logs to read what one printed, \
job_status for one job's details, recent_runs for why it last stopped or failed, and \
start_job/stop_job/restart_job to act on one. A project is a directory's sentinel.toml: \
project_up (with the directory), list_projects, project_down, and list_jobs with project. A \
failed call answers a JSON error with a stable `code` (not_found, invalid, bad_json, \
disabled, no_engine, …) and a `message`; no_engine means the SentinelZero app or \
`sentinel daemon` is not running.";

/// The longest message the server reads. Every tool's input is a few names or one path, so a
/// MiB is plenty; rmcp's own default (16 MiB) would let a client make it buffer far more.
const MAX_MESSAGE: usize = 1024 * 1024;

/// The server: the engine's client and the tools.
#[derive(Clone)]
pub struct Sentinel {
    client: Client,
    tool_router: ToolRouter<Sentinel>,
}

impl Sentinel {
    pub fn new(client: Client) -> Sentinel {
        Sentinel {
            client,
            tool_router: Sentinel::tool_router() + Sentinel::project_router(),
        }
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for Sentinel {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("sentinel", env!("CARGO_PKG_VERSION")))
            .with_instructions(INSTRUCTIONS)
    }
}

/// Serves MCP on stdin/stdout until the client closes stdin. The engine need not be running
/// yet: agents start their servers when they start, and each tool call says `no_engine`
/// until it is.
pub async fn serve(client: Client) -> Result<(), CliError> {
    let (stdin, stdout) = rmcp::transport::stdio();
    let transport = AsyncRwTransport::new_server(stdin, stdout).with_max_line_length(MAX_MESSAGE);
    let service = Sentinel::new(client)
        .serve(transport)
        .await
        .map_err(|err| CliError::Other(format!("MCP: the client did not initialise: {err}")))?;
    service
        .waiting()
        .await
        .map_err(|err| CliError::Other(format!("MCP: {err}")))?;
    Ok(())
}
