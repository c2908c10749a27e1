//! Monitoring routes: resource history, Prometheus metrics on the socket, and the optional
//! loopback TCP endpoint for scrapers (bearer token, loopback Host only).

use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path as FsPath;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use sentinel_proto::api::ErrorBody;
use sentinel_proto::monitor::ResourceHistory;
use subtle::ConstantTimeEq;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::error::{ApiError, PathParam};
use super::ApiState;
use crate::engine::EngineHandle;
use crate::error::{EngineError, Result};

/// Connections the metrics endpoint serves at once: a scraper needs one.
const METRICS_CONNECTIONS: usize = 16;

/// A job's recent CPU and memory samples, oldest first (for sparklines).
#[utoipa::path(get, path = "/api/jobs/{name}/resources", tag = "monitoring",
    params(("name" = String, Path)),
    responses((status = 200, body = ResourceHistory), (status = 404, body = ErrorBody)))]
pub async fn resources(
    State(api): State<ApiState>,
    PathParam(name): PathParam<String>,
) -> Result<Json<ResourceHistory>, ApiError> {
    Ok(Json(api.engine.resource_history(&name)?))
}

/// Every metric in the Prometheus (OpenMetrics) text format; also served at `/metrics`.
#[utoipa::path(get, path = "/api/metrics/prometheus", tag = "monitoring",
    responses((status = 200, description = "OpenMetrics text", content_type = "application/openmetrics-text", body = String)))]
pub async fn prometheus(State(api): State<ApiState>) -> Response {
    render(&api.engine)
}

pub(super) fn render(engine: &EngineHandle) -> Response {
    (
        [(header::CONTENT_TYPE, crate::metrics::CONTENT_TYPE)],
        engine.render_metrics(),
    )
        .into_response()
}

/// The metrics on `127.0.0.1:PORT`, for a Prometheus server on this machine.
pub(super) struct MetricsEndpoint {
    pub task: JoinHandle<()>,
    pub address: SocketAddr,
}

pub(super) async fn serve_tcp(
    engine: EngineHandle,
    port: u16,
    stopped: watch::Receiver<bool>,
) -> Result<MetricsEndpoint> {
    let token = ensure_metrics_token(&engine.paths().metrics_token())?;
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, port))
        .await
        .map_err(|err| {
            EngineError::io(
                format!("cannot listen on 127.0.0.1:{port} for metrics"),
                err,
            )
        })?;
    let address = listener
        .local_addr()
        .map_err(|err| EngineError::io("metrics endpoint", err))?;
    let app = axum::Router::new()
        .route(
            "/metrics",
            axum::routing::get(move || {
                let engine = engine.clone();
                async move { render(&engine) }
            }),
        )
        .layer(axum::middleware::from_fn(
            move |request: Request, next: Next| {
                let token = token.clone();
                async move { guard(&token, address.port(), request, next).await }
            },
        ));
    // Scrapers send no body, and anyone on this machine can connect before the token is
    // checked: no body is read, and a few connections at a time are served.
    let limits = super::serve::Limits {
        body: 0,
        connections: METRICS_CONNECTIONS,
    };
    let task = tokio::spawn(super::serve::serve(listener, app, stopped, limits));
    tracing::info!(
        "Prometheus metrics on http://{address}/metrics (bearer token in metrics.token)"
    );
    Ok(MetricsEndpoint { task, address })
}

/// Only requests addressed to this machine by name (a page elsewhere cannot rebind a name to
/// 127.0.0.1 and read the metrics) with the right token get through.
async fn guard(token: &str, port: u16, request: Request, next: Next) -> Response {
    if !loopback_host(request.headers(), port) {
        return ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden_host",
            "the metrics endpoint answers only to Host 127.0.0.1, localhost or [::1]",
        )
        .into_response();
    }
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .unwrap_or("");
    if !bool::from(presented.as_bytes().ct_eq(token.as_bytes())) {
        let mut response = ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "send the token from metrics.token as `Authorization: Bearer TOKEN`",
        )
        .into_response();
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            "Bearer".parse().expect("a valid header"),
        );
        return response;
    }
    next.run(request).await
}

fn loopback_host(headers: &HeaderMap, port: u16) -> bool {
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
        return false;
    };
    let (name, given_port) = match host.strip_prefix('[') {
        Some(rest) => match rest.split_once(']') {
            Some((address, tail)) => (format!("[{address}]"), tail.strip_prefix(':')),
            None => return false,
        },
        None => match host.rsplit_once(':') {
            Some((name, given)) => (name.to_string(), Some(given)),
            None => (host.to_string(), None),
        },
    };
    if given_port.is_some_and(|given| given.parse::<u16>().ok() != Some(port)) {
        return false;
    }
    matches!(name.as_str(), "127.0.0.1" | "localhost" | "[::1]")
}

/// The token in `metrics.token`, made (random, 0600) on first use. The file is opened
/// without following a link; one another user owns or may write is refused, and one others may
/// read is made 0600.
pub fn ensure_metrics_token(path: &FsPath) -> Result<String> {
    use crate::home::{open, Kind};
    match open(path, std::fs::OpenOptions::new().read(true), Kind::Trusted) {
        Ok(file) => {
            let text = std::io::read_to_string(file)
                .map_err(|err| EngineError::io(format!("cannot read {}", path.display()), err))?;
            let token = text.trim().to_string();
            if token.len() >= 16 {
                return Ok(token);
            }
        }
        Err(EngineError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {}
        Err(err) => return Err(err),
    }
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|err| {
        EngineError::io(
            "cannot make a metrics token",
            std::io::Error::other(err.to_string()),
        )
    })?;
    let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let mut file = open(
        path,
        std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true),
        Kind::Trusted,
    )?;
    std::io::Write::write_all(&mut file, format!("{token}\n").as_bytes())
        .map_err(|err| EngineError::io(format!("cannot write {}", path.display()), err))?;
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, value.parse().unwrap());
        headers
    }

    #[test]
    fn only_loopback_names_on_our_port_pass() {
        for ok in [
            "127.0.0.1:9464",
            "localhost:9464",
            "[::1]:9464",
            "localhost",
        ] {
            assert!(loopback_host(&host(ok), 9464), "{ok}");
        }
        for bad in [
            "evil.example.com:9464",
            "127.0.0.1.nip.io:9464",
            "localhost:80",
            "10.0.0.1:9464",
        ] {
            assert!(!loopback_host(&host(bad), 9464), "{bad}");
        }
        assert!(!loopback_host(&HeaderMap::new(), 9464));
    }

    #[test]
    fn the_token_file_is_private_and_kept() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("metrics.token");
        let token = ensure_metrics_token(&path).unwrap();
        assert_eq!(token.len(), 64);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(ensure_metrics_token(&path).unwrap(), token);
    }

    #[test]
    fn a_token_others_may_read_is_made_private_and_kept() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("metrics.token");
        let token = "0123456789abcdef0123456789abcdef";
        std::fs::write(&path, format!("{token}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(ensure_metrics_token(&path).unwrap(), token);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }

    #[test]
    fn a_linked_token_is_refused_and_its_target_untouched() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "precious\n").unwrap();
        std::fs::set_permissions(&victim, std::fs::Permissions::from_mode(0o644)).unwrap();
        let path = dir.path().join("metrics.token");
        std::os::unix::fs::symlink(&victim, &path).unwrap();
        let err = ensure_metrics_token(&path).unwrap_err();
        assert_eq!(err.code(), "unsafe_home", "{err}");
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
        let mode = std::fs::metadata(&victim).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o644);
    }
}
