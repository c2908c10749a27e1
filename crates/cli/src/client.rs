//! HTTP/JSON over the engine's Unix socket.

use std::path::{Path, PathBuf};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{header, Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use sentinel_proto::api::ErrorBody;
use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::net::UnixStream;

use crate::error::CliError;

pub struct Client {
    socket: PathBuf,
}

impl Client {
    pub fn new(socket: &Path) -> Client {
        Client {
            socket: socket.to_path_buf(),
        }
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> Result<Response<Incoming>, CliError> {
        let stream = UnixStream::connect(&self.socket)
            .await
            .map_err(|err| connect_error(&self.socket, &err))?;
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|err| CliError::Other(format!("cannot talk to the engine: {err}")))?;
        tokio::spawn(connection);
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header(header::HOST, "localhost")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(body.unwrap_or_default())))
            .expect("a request built from valid parts");
        let response = sender
            .send_request(request)
            .await
            .map_err(|err| CliError::Other(format!("the engine did not answer: {err}")))?;
        if response.status().is_success() {
            return Ok(response);
        }
        let status = response.status();
        let bytes = response
            .into_body()
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        Err(match serde_json::from_slice::<ErrorBody>(&bytes) {
            Ok(body) => CliError::Api(body),
            Err(_) => CliError::Other(format!(
                "the engine answered {status}: {}",
                String::from_utf8_lossy(&bytes)
            )),
        })
    }

    async fn json<T: DeserializeOwned>(response: Response<Incoming>) -> Result<T, CliError> {
        let bytes = response
            .into_body()
            .collect()
            .await
            .map_err(|err| CliError::Other(format!("the answer was cut off: {err}")))?
            .to_bytes();
        serde_json::from_slice(&bytes)
            .map_err(|err| CliError::Other(format!("cannot read the engine's answer: {err}")))
    }

    pub async fn get_text(&self, path: &str) -> Result<String, CliError> {
        let bytes = self
            .send(Method::GET, path, None)
            .await?
            .into_body()
            .collect()
            .await
            .map_err(|err| CliError::Other(format!("the answer was cut off: {err}")))?
            .to_bytes();
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// Posts a text body (a job file) and reads a JSON answer.
    pub async fn post_text<T: DeserializeOwned>(
        &self,
        path: &str,
        body: String,
    ) -> Result<T, CliError> {
        Self::json(
            self.send(Method::POST, path, Some(body.into_bytes()))
                .await?,
        )
        .await
    }

    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, CliError> {
        Self::json(self.send(Method::GET, path, None).await?).await
    }

    pub async fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &impl Serialize,
    ) -> Result<T, CliError> {
        let body = serde_json::to_vec(body).expect("request bodies always serialise");
        Self::json(self.send(Method::POST, path, Some(body)).await?).await
    }

    pub async fn put<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &impl Serialize,
    ) -> Result<T, CliError> {
        let body = serde_json::to_vec(body).expect("request bodies always serialise");
        Self::json(self.send(Method::PUT, path, Some(body)).await?).await
    }

    pub async fn delete(&self, path: &str) -> Result<(), CliError> {
        let response = self.send(Method::DELETE, path, None).await?;
        if response.status() == StatusCode::NO_CONTENT || response.status().is_success() {
            Ok(())
        } else {
            Err(CliError::Other(format!(
                "unexpected answer {}",
                response.status()
            )))
        }
    }

    /// Reads an NDJSON stream, calling `each` with every line until the stream ends or `each`
    /// says stop.
    pub async fn stream(
        &self,
        path: &str,
        mut each: impl FnMut(&[u8]) -> bool,
    ) -> Result<(), CliError> {
        let mut body = self.send(Method::GET, path, None).await?.into_body();
        let mut pending: Vec<u8> = Vec::new();
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|err| CliError::Other(format!("the stream broke: {err}")))?;
            let Some(data) = frame.data_ref() else {
                continue;
            };
            pending.extend_from_slice(data);
            while let Some(end) = pending.iter().position(|&b| b == b'\n') {
                let keep_going = each(&pending[..end]);
                pending.drain(..=end);
                if !keep_going {
                    return Ok(());
                }
            }
        }
        Ok(())
    }
}

/// What a failed connection to the socket means: nobody listens there (no engine), the socket
/// (or a directory on its way) is not this user's to open, or something else the OS says.
pub fn connect_error(socket: &Path, err: &std::io::Error) -> CliError {
    use std::io::ErrorKind;
    match err.kind() {
        ErrorKind::NotFound | ErrorKind::ConnectionRefused => {
            CliError::NoEngine(socket.to_path_buf())
        }
        ErrorKind::PermissionDenied => CliError::PermissionDenied {
            socket: socket.to_path_buf(),
            owner: owner_of(socket),
        },
        _ => CliError::Other(format!(
            "cannot connect to the engine at {}: {err}",
            socket.display()
        )),
    }
}

/// Who owns the socket, or the nearest directory on its way this user can see: `root`, or
/// `/tmp/x (root)` for a directory.
fn owner_of(socket: &Path) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let (path, metadata) = socket
        .ancestors()
        .find_map(|path| std::fs::metadata(path).ok().map(|m| (path, m)))?;
    let user = user_name(metadata.uid()).unwrap_or_else(|| format!("uid {}", metadata.uid()));
    Some(if path == socket {
        user
    } else {
        format!("{user}, who owns {}", path.display())
    })
}

/// A user's name from `/etc/passwd`, when it is there.
fn user_name(uid: u32) -> Option<String> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        (fields.nth(1)?.parse::<u32>().ok()? == uid).then(|| name.to_string())
    })
}

/// A job name or group as one path segment.
pub fn segment(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_socket_this_user_may_not_open_is_permission_denied_not_no_engine() {
        let dir = std::env::temp_dir();
        let socket = dir.join("sentinel-test-nowhere").join("sentinel.sock");
        let denied = std::io::Error::from(std::io::ErrorKind::PermissionDenied);
        let message = connect_error(&socket, &denied).to_string();
        assert!(message.contains("permission denied"), "{message}");
        assert!(message.contains(&socket.display().to_string()), "{message}");
        assert!(!message.contains("no SentinelZero engine"), "{message}");
        // The nearest directory that exists is named with its owner.
        assert!(message.contains(&dir.display().to_string()), "{message}");

        let missing = std::io::Error::from(std::io::ErrorKind::NotFound);
        assert!(matches!(
            connect_error(&socket, &missing),
            CliError::NoEngine(_)
        ));
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert!(matches!(
            connect_error(&socket, &refused),
            CliError::NoEngine(_)
        ));
    }

    #[test]
    fn user_names_come_from_the_password_file() {
        assert_eq!(user_name(0).as_deref(), Some("root"));
    }
}
