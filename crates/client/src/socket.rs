//! The socket as hyper sees it, so that an answer sent before the request was read whole is
//! still heard. The engine refuses a body over its limit (413) as soon as the head declares
//! it, and hangs up without reading the rest; writing on then fails (`EPIPE`), and reading
//! after the answer may be reset. hyper would report either as a broken connection and lose
//! the answer, so here the rest of the body goes nowhere and a reset reads as the end.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::UnixStream;

pub(crate) struct Socket {
    stream: UnixStream,
    /// The engine hung up on what was still being sent.
    peer_stopped_reading: bool,
}

impl Socket {
    pub fn new(stream: UnixStream) -> Socket {
        Socket {
            stream,
            peer_stopped_reading: false,
        }
    }
}

fn is_hangup(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset
    )
}

impl AsyncRead for Socket {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match Pin::new(&mut self.get_mut().stream).poll_read(cx, buf) {
            // Whatever came before the reset is all there is: the end, for hyper to judge.
            Poll::Ready(Err(err)) if is_hangup(&err) => Poll::Ready(Ok(())),
            other => other,
        }
    }
}

impl AsyncWrite for Socket {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.peer_stopped_reading {
            return Poll::Ready(Ok(buf.len()));
        }
        match Pin::new(&mut this.stream).poll_write(cx, buf) {
            Poll::Ready(Err(err)) if is_hangup(&err) => {
                this.peer_stopped_reading = true;
                Poll::Ready(Ok(buf.len()))
            }
            other => other,
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.peer_stopped_reading {
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut this.stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match Pin::new(&mut self.get_mut().stream).poll_shutdown(cx) {
            Poll::Ready(Err(err)) if is_hangup(&err) => Poll::Ready(Ok(())),
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    #[tokio::test]
    async fn what_a_server_said_before_hanging_up_is_read_and_the_rest_of_the_body_dropped() {
        let (client, mut server) = UnixStream::pair().unwrap();
        let mut socket = Socket::new(client);
        socket.write_all(b"POST / HTTP/1.1\r\n").await.unwrap();
        // The server answers without reading that, and hangs up.
        server.write_all(b"HTTP/1.1 413").await.unwrap();
        drop(server);
        // Another test's child may hold a copy of the server's end for a moment (between its
        // fork and its exec): the hangup comes once that copy is gone, so write until it does.
        tokio::time::timeout(std::time::Duration::from_secs(10), async {
            while !socket.peer_stopped_reading {
                socket.write_all(&[b'x'; 64 * 1024]).await.unwrap();
            }
        })
        .await
        .expect("the hangup is heard");
        socket.flush().await.unwrap();
        assert!(socket.peer_stopped_reading);
        let mut answer = Vec::new();
        socket.read_to_end(&mut answer).await.unwrap();
        assert_eq!(answer, b"HTTP/1.1 413");
        socket.shutdown().await.unwrap();
    }
}
