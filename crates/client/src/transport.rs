//! HTTP/1.1 to the engine, over its Unix socket or an `ssh` session: one connection per
//! request, as the engine expects of its clients, with hyper doing the HTTP.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{header, Method, Request};
use hyper_util::rt::TokioIo;
use sentinel_proto::api::ErrorBody;
use serde::de::DeserializeOwned;
use tokio::net::UnixStream;

use crate::error::ClientError;
use crate::socket::Socket;
use crate::ssh;
use crate::Endpoint;

/// An answer as it came, whatever its status: for callers that check the wire themselves.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    /// The `Content-Type` header, when there is one.
    pub content_type: Option<String>,
    /// The body as text (the API answers JSON or text; other bytes are replaced).
    pub body: String,
}

impl Response {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The body read as `T`.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, ClientError> {
        serde_json::from_str(&self.body).map_err(ClientError::Decode)
    }
}

/// Sends one request on a new connection and returns once the answer's head has arrived (its
/// body may still be coming: a stream).
pub(crate) async fn send(
    endpoint: &Endpoint,
    method: Method,
    path: &str,
    body: Vec<u8>,
) -> Result<hyper::Response<Incoming>, ClientError> {
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header(header::HOST, "localhost")
        .header(header::CONTENT_TYPE, "application/json")
        // One request per connection: the engine lets go of it as soon as it has answered.
        .header(header::CONNECTION, "close")
        .body(Full::new(Bytes::from(body)))
        .map_err(|err| ClientError::Request(format!("{path}: {err}")))?;
    match endpoint {
        Endpoint::Socket(socket) => {
            let stream =
                UnixStream::connect(socket)
                    .await
                    .map_err(|source| ClientError::Connect {
                        socket: socket.to_path_buf(),
                        source,
                    })?;
            exchange(Socket::new(stream), request).await
        }
        Endpoint::Ssh(remote) => {
            let remote_error = |problem| ClientError::Remote {
                host: remote.host.to_string(),
                problem,
            };
            let (stream, diagnosis) = ssh::connect(remote).map_err(remote_error)?;
            match exchange(stream, request).await {
                Ok(response) => Ok(response),
                // The session ended before the engine answered: ssh's exit says why.
                Err(err) => Err(match diagnosis.problem().await {
                    Some(problem) => remote_error(problem),
                    None => err,
                }),
            }
        }
    }
}

/// The HTTP of one request on an open connection.
async fn exchange<S>(
    stream: S,
    request: Request<Full<Bytes>>,
) -> Result<hyper::Response<Incoming>, ClientError>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|err| ClientError::transport("cannot talk to the engine", err))?;
    // The connection is driven on its own task for as long as the answer is read.
    tokio::spawn(connection);
    sender
        .send_request(request)
        .await
        .map_err(|err| ClientError::transport("the engine did not answer", err))
}

/// The whole body of an answer.
pub(crate) async fn read_body(response: hyper::Response<Incoming>) -> Result<Bytes, ClientError> {
    Ok(response
        .into_body()
        .collect()
        .await
        .map_err(|err| ClientError::transport("the answer was cut off", err))?
        .to_bytes())
}

/// The answer if it is a success; the engine's error (or what stood in its place) if not.
pub(crate) async fn success(
    response: hyper::Response<Incoming>,
) -> Result<hyper::Response<Incoming>, ClientError> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    // An error answer cut off is still an error answer: report the status.
    let bytes = read_body(response).await.unwrap_or_default();
    Err(match serde_json::from_slice::<ErrorBody>(&bytes) {
        Ok(body) => ClientError::Api {
            status: status.as_u16(),
            body,
        },
        Err(_) => ClientError::Unexpected {
            status: status.as_u16(),
            body: String::from_utf8_lossy(&bytes).into_owned(),
        },
    })
}

/// The body of a successful answer, read as `T`.
pub(crate) async fn json<T: DeserializeOwned>(
    response: hyper::Response<Incoming>,
) -> Result<T, ClientError> {
    let bytes = read_body(success(response).await?).await?;
    serde_json::from_slice(&bytes).map_err(ClientError::Decode)
}

/// The body of a successful answer, as text.
pub(crate) async fn text(response: hyper::Response<Incoming>) -> Result<String, ClientError> {
    let bytes = read_body(success(response).await?).await?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// The answer as it came, whatever its status.
pub(crate) async fn whole(response: hyper::Response<Incoming>) -> Result<Response, ClientError> {
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .map(str::to_string);
    let bytes = read_body(response).await?;
    Ok(Response {
        status,
        content_type,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    })
}
