//! The control API: HTTP/JSON on a Unix socket, the same for the app and the daemon.
//! A thin adapter over `EngineHandle`; the OpenAPI document is generated from these routes.

mod config;
mod error;
mod jobs;
mod serve;

pub use serve::{BODY_READ_TIMEOUT, HEADER_READ_TIMEOUT};
mod metrics;
mod projects;
mod schedule;
mod stack;
mod streams;

use std::path::{Path, PathBuf};
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::Json;
use sentinel_proto::api::{ErrorBody, Health};
use tokio::net::UnixListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use error::ApiError;
pub use metrics::ensure_metrics_token;

use crate::engine::EngineHandle;
use crate::error::{EngineError, Result};

/// The largest request body accepted.
pub const BODY_LIMIT: usize = 1024 * 1024;

/// Connections the socket serves at once (each follower of events or logs holds one); more
/// wait to be accepted, so clients cannot take every descriptor the engine has.
pub const SOCKET_CONNECTIONS: usize = 512;

#[derive(Clone)]
pub(crate) struct ApiState {
    engine: EngineHandle,
    shutdown: watch::Receiver<bool>,
}

#[derive(OpenApi)]
#[openapi(info(
    title = "SentinelZero control API",
    description = "Drive the SentinelZero supervisor engine: jobs, actions, logs, runs and events. \
                   Served on the engine's Unix socket (`curl --unix-socket PATH http://localhost/api/jobs`)."
))]
struct ApiDoc;

/// Liveness: the engine answers.
#[utoipa::path(get, path = "/api/health/live", tag = "health", responses((status = 200, body = Health)))]
async fn live(State(api): State<ApiState>) -> Json<Health> {
    Json(health(&api, "ok"))
}

/// Readiness: the engine is up and not shutting down.
#[utoipa::path(get, path = "/api/health/ready", tag = "health",
    responses((status = 200, body = Health), (status = 503, body = ErrorBody)))]
async fn ready(State(api): State<ApiState>) -> std::result::Result<Json<Health>, ApiError> {
    if *api.shutdown.borrow() || api.engine.is_shutting_down() {
        return Err(EngineError::ShuttingDown.into());
    }
    Ok(Json(health(&api, "ready")))
}

fn health(api: &ApiState, status: &str) -> Health {
    Health {
        status: status.into(),
        version: env!("CARGO_PKG_VERSION").into(),
        jobs: api.engine.list().len(),
    }
}

fn api_router() -> OpenApiRouter<ApiState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(jobs::list_jobs, jobs::create_job))
        .routes(routes!(jobs::get_job, jobs::update_job, jobs::delete_job))
        .routes(routes!(schedule::preview))
        .routes(routes!(config::export))
        .routes(routes!(config::import))
        .routes(routes!(projects::list_projects))
        .routes(routes!(projects::project_up))
        .routes(routes!(jobs::act))
        .routes(routes!(jobs::act_on_job))
        .routes(routes!(jobs::job_runs))
        .routes(routes!(streams::job_logs))
        .routes(routes!(streams::events))
        .routes(routes!(metrics::resources))
        .routes(routes!(metrics::prometheus))
        .routes(routes!(stack::all_ports))
        .routes(routes!(stack::job_ports))
        .routes(routes!(stack::free_ports))
        .routes(routes!(stack::job_env))
        .routes(routes!(live))
        .routes(routes!(ready))
}

/// The OpenAPI document of every route.
pub fn openapi() -> utoipa::openapi::OpenApi {
    api_router().split_for_parts().1
}

/// The whole API, ready to serve.
pub fn router(engine: EngineHandle, shutdown: watch::Receiver<bool>) -> axum::Router {
    let (router, document) = api_router().split_for_parts();
    // Serialised once: a handler is cloned for every request it serves.
    let document =
        bytes::Bytes::from(serde_json::to_vec(&document).expect("the OpenAPI document serialises"));
    router
        .route(
            "/api/openapi.json",
            axum::routing::get(move || {
                let document = document.clone();
                async move {
                    (
                        [(axum::http::header::CONTENT_TYPE, "application/json")],
                        document,
                    )
                }
            }),
        )
        .route(
            "/metrics",
            axum::routing::get(|State(api): State<ApiState>| async move {
                metrics::render(&api.engine)
            }),
        )
        .fallback(|| async {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "no_route",
                "no such route; see /api/openapi.json",
            )
        })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this route does not take that method",
            )
        })
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(ApiState { engine, shutdown })
}

/// The API served on a Unix socket.
pub struct ControlServer {
    socket: PathBuf,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
    metrics: Option<metrics::MetricsEndpoint>,
}

impl ControlServer {
    /// Binds the socket (0600, in a 0700 directory) and serves; with `metrics.port` set, the
    /// metrics are also served on that loopback port. A socket left by a dead engine is
    /// replaced; one that answers belongs to a live engine and is left alone.
    pub async fn bind(engine: EngineHandle, socket: &Path) -> Result<ControlServer> {
        // The socket's directory is judged as the home is: a directory others may write in
        // would let them replace the socket. The socket itself is replaced, never followed.
        if let Some(dir) = socket.parent().filter(|dir| !dir.as_os_str().is_empty()) {
            crate::home::ensure_dir(dir)?;
        }
        if let Ok(found) = std::fs::symlink_metadata(socket) {
            use std::os::unix::fs::FileTypeExt;
            if found.file_type().is_socket()
                && tokio::net::UnixStream::connect(socket).await.is_ok()
            {
                return Err(EngineError::AlreadyRunning {
                    home: socket.to_path_buf(),
                    pid: None,
                });
            }
            std::fs::remove_file(socket).map_err(|err| {
                EngineError::io(
                    format!("cannot replace the stale socket {}", socket.display()),
                    err,
                )
            })?;
        }
        let listener = UnixListener::bind(socket).map_err(|err| {
            EngineError::io(format!("cannot listen on {}", socket.display()), err)
        })?;
        set_mode(socket, 0o600)?;
        let (stop, stopped) = watch::channel(false);
        let metrics = match engine.settings().metrics.port {
            Some(port) => Some(metrics::serve_tcp(engine.clone(), port, stopped.clone()).await?),
            None => None,
        };
        let app = router(engine, stopped.clone());
        let limits = serve::Limits {
            body: BODY_LIMIT,
            connections: SOCKET_CONNECTIONS,
        };
        let task = tokio::spawn(serve::serve(listener, app, stopped, limits));
        Ok(ControlServer {
            socket: socket.to_path_buf(),
            stop,
            task,
            metrics,
        })
    }

    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// Where the TCP metrics endpoint listens, when it is on.
    pub fn metrics_address(&self) -> Option<std::net::SocketAddr> {
        self.metrics.as_ref().map(|m| m.address)
    }

    /// Ends every stream, lets requests in flight finish (for a few seconds at most) and
    /// removes the socket.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        if let Some(metrics) = self.metrics {
            let mut task = metrics.task;
            if tokio::time::timeout(Duration::from_secs(5), &mut task)
                .await
                .is_err()
            {
                task.abort();
            }
        }
        let mut task = self.task;
        if tokio::time::timeout(Duration::from_secs(5), &mut task)
            .await
            .is_err()
        {
            task.abort();
        }
        let _ = std::fs::remove_file(&self.socket);
    }
}

fn set_mode(path: &Path, mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).map_err(|err| {
        EngineError::io(
            format!("cannot set the permissions of {}", path.display()),
            err,
        )
    })
}
