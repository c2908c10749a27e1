//! A typed client for the SentinelZero engine's control API: HTTP/JSON over its Unix socket,
//! or over SSH to an engine on another machine (`ssh://user@host`, [`ssh`]).
//! One method per route, the request and answer in `sentinel-proto`'s types; errors come back
//! as [`ClientError`], an API refusal with its stable `code`. The CLI, the end-to-end tests
//! and the benchmarks talk to the engine through it.
//!
//! ```no_run
//! # async fn example() -> Result<(), sentinel_client::ClientError> {
//! use sentinel_client::Client;
//! use sentinel_proto::Action;
//!
//! let client = Client::new("/tmp/home/sentinel.sock");
//! let status = client.act_on(Action::Restart, "api").await?;
//! println!("{}: {}", status.name, status.state.name());
//! # Ok(()) }
//! ```

mod config;
pub mod contexts;
mod error;
mod jobs;
mod logs;
mod monitor;
mod path;
mod projects;
mod socket;
pub mod ssh;
mod stack;
mod stream;
mod transport;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use hyper::Method;
use sentinel_proto::remote::EngineAddress;
use serde::de::DeserializeOwned;
use serde::Serialize;
use ssh::SshEndpoint;

pub use config::{ExportQuery, ImportOptions, ScheduleExpr};
pub use error::ClientError;
pub use logs::LogQuery;
pub use stream::{Follow, Streamed};
pub use transport::Response;

use crate::path::Route;

pub type Result<T, E = ClientError> = std::result::Result<T, E>;

/// No request body, for [`Client::call`].
const NO_BODY: Option<&()> = None;

/// Where the engine is, as the client reaches it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    Socket(PathBuf),
    Ssh(SshEndpoint),
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Endpoint::Socket(path) => write!(f, "{}", path.display()),
            Endpoint::Ssh(remote) => write!(f, "{}", remote.host),
        }
    }
}

/// One engine. Cheap to clone; each request opens its own connection.
#[derive(Debug, Clone)]
pub struct Client {
    endpoint: Arc<Endpoint>,
}

impl Client {
    /// The engine at a socket on this machine.
    pub fn new(socket: impl Into<PathBuf>) -> Client {
        Client::at(Endpoint::Socket(socket.into()))
    }

    pub fn at(endpoint: Endpoint) -> Client {
        Client {
            endpoint: Arc::new(endpoint),
        }
    }

    /// The engine at `address`; over SSH, `remote_sentinel` is the command run there.
    pub fn to(address: &EngineAddress, remote_sentinel: &str) -> Client {
        Client::at(match address {
            EngineAddress::Socket(path) => Endpoint::Socket(path.clone()),
            EngineAddress::Ssh(host) => {
                Endpoint::Ssh(SshEndpoint::new(host.clone(), remote_sentinel))
            }
        })
    }

    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// Its socket, when the engine is on this machine.
    pub fn socket(&self) -> Option<&Path> {
        match &*self.endpoint {
            Endpoint::Socket(path) => Some(path),
            Endpoint::Ssh(_) => None,
        }
    }

    /// Any request, answered as it comes whatever its status: for tests that send what no
    /// typed method would (a malformed body, a method a route does not take).
    pub async fn request(&self, method: &str, path: &str, body: Option<&[u8]>) -> Result<Response> {
        let method = Method::from_bytes(method.as_bytes())
            .map_err(|err| ClientError::Request(format!("{method}: {err}")))?;
        let body = body.map(<[u8]>::to_vec).unwrap_or_default();
        transport::whole(transport::send(&self.endpoint, method, path, body).await?).await
    }

    async fn get<T: DeserializeOwned>(&self, route: Route) -> Result<T> {
        transport::json(self.send(Method::GET, &route, Vec::new()).await?).await
    }

    async fn get_text(&self, route: Route) -> Result<String> {
        transport::text(self.send(Method::GET, &route, Vec::new()).await?).await
    }

    /// A request with a JSON body (`None`: no body), answered with JSON.
    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        route: Route,
        body: Option<&impl Serialize>,
    ) -> Result<T> {
        let body = match body {
            Some(body) => serde_json::to_vec(body)
                .map_err(|err| ClientError::Request(format!("the body: {err}")))?,
            None => Vec::new(),
        };
        transport::json(self.send(method, &route, body).await?).await
    }

    /// Opens a followed answer; returns once the engine has answered its head, which it does
    /// after subscribing, so nothing that happens from then on is missed.
    async fn follow<T: DeserializeOwned>(&self, route: Route) -> Result<Follow<T>> {
        let response = self.send(Method::GET, &route, Vec::new()).await?;
        let response = transport::success(response).await?;
        Ok(Follow::new(response.into_body()))
    }

    async fn send(
        &self,
        method: Method,
        route: &Route,
        body: Vec<u8>,
    ) -> Result<hyper::Response<hyper::body::Incoming>> {
        transport::send(&self.endpoint, method, route.as_str(), body).await
    }
}
