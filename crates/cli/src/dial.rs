//! `sentinel dial-stdio`: this machine's engine socket on stdin and stdout. It is what
//! `sentinel --host ssh://…` runs on the remote machine: the client's HTTP comes in on stdin
//! and the engine's answer goes out on stdout, byte for byte.

use std::path::Path;
use std::time::Duration;

use sentinel_proto::remote::{DIAL_NO_ENGINE, DIAL_PERMISSION_DENIED};
use tokio::io::{AsyncWriteExt, BufWriter};
use tokio::net::UnixStream;

use crate::error::CliError;

/// After the client has closed its side, how long the rest of an answer may take. Our client
/// only closes once it has its whole answer (or has gone), so this is what a client that
/// half-closes after its request gets, and what frees an abandoned stream on an idle engine.
const AFTER_REQUEST: Duration = Duration::from_secs(2);

pub async fn dial_stdio(socket: &Path) -> Result<(), CliError> {
    let stream = match UnixStream::connect(socket).await {
        Ok(stream) => stream,
        Err(err) => return Err(crate::socket::connect_error(socket, &err)),
    };
    let (mut from_engine, mut to_engine) = stream.into_split();
    let upstream = async move {
        let mut stdin = tokio::io::stdin();
        let _ = tokio::io::copy(&mut stdin, &mut to_engine).await;
        let _ = to_engine.shutdown().await;
    };
    let downstream = async move {
        // The answer's bytes as they come: a follow stream must not wait for a full buffer.
        let mut stdout = BufWriter::with_capacity(64 * 1024, tokio::io::stdout());
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            use tokio::io::AsyncReadExt;
            let n = match from_engine.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            if stdout.write_all(&buf[..n]).await.is_err() || stdout.flush().await.is_err() {
                break;
            }
        }
        let _ = stdout.flush().await;
    };
    tokio::pin!(downstream);
    tokio::select! {
        () = &mut downstream => {}
        () = upstream => {
            let _ = tokio::time::timeout(AFTER_REQUEST, &mut downstream).await;
        }
    }
    Ok(())
}

/// The exit code that tells the client what went wrong (sysexits, as `sentinel_proto::remote`
/// names them), with the words on stderr.
pub fn exit_code(err: &CliError) -> i32 {
    match err {
        CliError::NoEngine(_) => DIAL_NO_ENGINE,
        CliError::PermissionDenied { .. } => DIAL_PERMISSION_DENIED,
        other => other.exit_code(),
    }
}
