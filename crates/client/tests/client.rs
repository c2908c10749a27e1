//! The client against a stand-in for the engine on a real Unix socket, which answers with the
//! bytes each test gives it: errors come back typed, streams split into lines whatever the
//! chunks, and an answer sent before the body was read is heard.

use std::path::PathBuf;

use sentinel_client::{Client, ClientError, LogQuery, Streamed};
use sentinel_proto::{Action, LogStream};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixListener;
use tokio::task::JoinHandle;

/// Serves one connection: reads the request's head (and no body), sends `answer` a piece at
/// a time, hangs up, and returns the head it read.
fn stand_in(answer: Vec<&'static [u8]>) -> (tempfile::TempDir, PathBuf, JoinHandle<String>) {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("engine.sock");
    let listener = UnixListener::bind(&socket).unwrap();
    let served = tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            stream.read_exact(&mut byte).await.unwrap();
            head.push(byte[0]);
        }
        for piece in answer {
            stream.write_all(piece).await.unwrap();
            stream.flush().await.unwrap();
            tokio::task::yield_now().await;
        }
        String::from_utf8(head).unwrap()
    });
    (dir, socket, served)
}

const NOT_FOUND: &[u8] = b"HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 53\r\nConnection: close\r\n\r\n{\"code\":\"not_found\",\"message\":\"no job named \\\"a/b\\\"\"}";

#[tokio::test]
async fn a_refusal_is_its_error_body_and_the_name_stays_one_segment() {
    let (_dir, socket, served) = stand_in(vec![NOT_FOUND]);
    let error = Client::new(&socket)
        .act_on(Action::Restart, "a/b")
        .await
        .unwrap_err();
    assert_eq!(error.code(), Some("not_found"));
    assert_eq!(error.status(), Some(404));
    assert_eq!(error.to_string(), "no job named \"a/b\"");
    let head = served.await.unwrap();
    assert!(
        head.starts_with("POST /api/jobs/a%2Fb/restart HTTP/1.1\r\n"),
        "{head}"
    );
}

#[tokio::test]
async fn an_error_without_a_body_is_unexpected_and_no_engine_is_a_connect_error() {
    let (dir, socket, _served) = stand_in(vec![
        b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 4\r\nConnection: close\r\n\r\noops",
    ]);
    match Client::new(&socket).jobs().await.unwrap_err() {
        ClientError::Unexpected { status, body } => {
            assert_eq!((status, body.as_str()), (502, "oops"))
        }
        other => panic!("{other:?}"),
    }
    let nowhere = dir.path().join("nobody.sock");
    match Client::new(&nowhere).jobs().await.unwrap_err() {
        ClientError::Connect { socket, source } => {
            assert_eq!(socket, nowhere);
            assert_eq!(source.kind(), std::io::ErrorKind::NotFound);
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn an_answer_before_the_body_was_read_is_heard() {
    let (_dir, socket, _served) = stand_in(vec![
        b"HTTP/1.1 413 Payload Too Large\r\nContent-Type: application/json\r\nContent-Length: 34\r\nConnection: close\r\n\r\n{\"code\":\"too_large\",\"message\":\"x\"}",
    ]);
    // Far more than the socket buffers hold: the stand-in reads none of it.
    let body = vec![b'x'; 8 * 1024 * 1024];
    let answer = Client::new(&socket)
        .request("POST", "/api/jobs", Some(&body))
        .await
        .unwrap();
    assert_eq!(answer.status, 413);
    assert!(answer.body.contains("too_large"), "{}", answer.body);
}

#[tokio::test]
async fn a_followed_log_is_whole_lines_and_gaps_whatever_the_chunks() {
    let (_dir, socket, served) = stand_in(vec![
        b"HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"20\r\n{\"ts\":\"2026-01-01T00:00:00Z\",\"st\r\n",
        b"24\r\nream\":\"stderr\",\"text\":\"one\"}\n{\"type\"\r\n",
        b"16\r\n:\"missed\",\"count\":3}\n\n\r\n",
        b"0\r\n\r\n",
    ]);
    let query = LogQuery {
        tail: Some(0),
        stream: Some(LogStream::Stderr),
    };
    let mut lines = Client::new(&socket)
        .follow_logs("api", query)
        .await
        .unwrap();
    match lines.next().await {
        Some(Ok(Streamed::Item(line))) => {
            assert_eq!(
                (line.stream, line.text.as_str()),
                (LogStream::Stderr, "one")
            )
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(lines.next().await, Some(Ok(Streamed::Missed(3)))));
    assert!(lines.next().await.is_none());
    let head = served.await.unwrap();
    assert!(
        head.starts_with("GET /api/jobs/api/logs?tail=0&stream=stderr&follow=true HTTP/1.1\r\n"),
        "{head}"
    );
}
