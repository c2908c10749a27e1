//! Followed answers: newline-delimited JSON, one item per line, for as long as the engine
//! sends them (logs and events with `follow=true`).

use std::marker::PhantomData;

use http_body_util::BodyExt;
use hyper::body::Incoming;
use sentinel_proto::api::Missed;
use serde::de::DeserializeOwned;

use crate::error::ClientError;

/// One line of a followed answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Streamed<T> {
    Item(T),
    /// The engine dropped this many items because this reader fell behind.
    Missed(u64),
}

/// A followed answer, read a line at a time. Dropping it hangs up.
pub struct Follow<T> {
    body: Incoming,
    lines: LineBuffer,
    item: PhantomData<fn() -> T>,
}

impl<T: DeserializeOwned> Follow<T> {
    pub(crate) fn new(body: Incoming) -> Follow<T> {
        Follow {
            body,
            lines: LineBuffer::default(),
            item: PhantomData,
        }
    }

    /// The next line as the engine sent it, without its newline; `None` once the stream ends
    /// (the engine stopped).
    pub async fn next_line(&mut self) -> Option<Result<Vec<u8>, ClientError>> {
        loop {
            if let Some(line) = self.lines.next_line() {
                return Some(Ok(line));
            }
            let frame = match self.body.frame().await? {
                Ok(frame) => frame,
                Err(err) => return Some(Err(ClientError::transport("the stream broke", err))),
            };
            if let Some(data) = frame.data_ref() {
                self.lines.push(data);
            }
        }
    }

    /// The next item, or how many the engine dropped here. A line that is neither (an event
    /// this client does not know) is a [`ClientError::Decode`], after which the stream goes on.
    pub async fn next(&mut self) -> Option<Result<Streamed<T>, ClientError>> {
        let line = match self.next_line().await? {
            Ok(line) => line,
            Err(err) => return Some(Err(err)),
        };
        Some(parse_line(&line))
    }
}

fn parse_line<T: DeserializeOwned>(line: &[u8]) -> Result<Streamed<T>, ClientError> {
    match serde_json::from_slice::<T>(line) {
        Ok(item) => Ok(Streamed::Item(item)),
        Err(err) => match serde_json::from_slice::<Missed>(line) {
            Ok(missed) if missed.kind == "missed" => Ok(Streamed::Missed(missed.count)),
            _ => Err(ClientError::Decode(err)),
        },
    }
}

/// Bytes as they arrive, split into lines; a line may span several frames.
#[derive(Debug, Default)]
struct LineBuffer {
    pending: Vec<u8>,
}

impl LineBuffer {
    fn push(&mut self, data: &[u8]) {
        self.pending.extend_from_slice(data);
    }

    /// The next whole, non-empty line.
    fn next_line(&mut self) -> Option<Vec<u8>> {
        while let Some(end) = self.pending.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.pending.drain(..=end).take(end).collect();
            if !line.is_empty() {
                return Some(line);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sentinel_proto::LogLine;

    #[test]
    fn lines_are_whole_whatever_the_frames() {
        let mut buffer = LineBuffer::default();
        buffer.push(b"{\"a\":");
        assert_eq!(buffer.next_line(), None);
        buffer.push(b"1}\n\n{\"b\":2}\n{\"c\"");
        assert_eq!(buffer.next_line().as_deref(), Some(&b"{\"a\":1}"[..]));
        assert_eq!(buffer.next_line().as_deref(), Some(&b"{\"b\":2}"[..]));
        assert_eq!(buffer.next_line(), None);
        buffer.push(b":3}\n");
        assert_eq!(buffer.next_line().as_deref(), Some(&b"{\"c\":3}"[..]));
    }

    #[test]
    fn a_line_is_an_item_a_gap_or_unreadable() {
        let line = br#"{"ts":"2026-01-01T00:00:00Z","stream":"stdout","text":"hi"}"#;
        match parse_line::<LogLine>(line) {
            Ok(Streamed::Item(item)) => assert_eq!(item.text, "hi"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            parse_line::<LogLine>(br#"{"type":"missed","count":7}"#),
            Ok(Streamed::Missed(7))
        ));
        assert!(matches!(
            parse_line::<LogLine>(br#"{"type":"novel"}"#),
            Err(ClientError::Decode(_))
        ));
    }
}
