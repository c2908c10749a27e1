//! The on-disk line format, the same as the Kubernetes CRI log format:
//! `<RFC 3339 time> <stdout|stderr> <F|P> <bytes>\n`. `F` ends a line; `P` is part of a line
//! that continues in the next record of the same stream (a line longer than the limit, or a
//! last line without a newline), so the child's exact bytes can always be put back together.

use chrono::{DateTime, SecondsFormat, Utc};
use sentinel_proto::{LogLine, LogStream};

/// Appends one record to `out`.
pub fn encode(
    out: &mut Vec<u8>,
    timestamp: &str,
    stream: LogStream,
    partial: bool,
    content: &[u8],
) {
    out.reserve(timestamp.len() + content.len() + 10);
    out.extend_from_slice(timestamp.as_bytes());
    out.push(b' ');
    out.extend_from_slice(stream.as_str().as_bytes());
    out.extend_from_slice(if partial { b" P " } else { b" F " });
    out.extend_from_slice(content);
    out.push(b'\n');
}

pub fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// One record read back from a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record<'a> {
    pub ts: &'a str,
    pub stream: LogStream,
    pub partial: bool,
    pub content: &'a [u8],
}

/// Parses one record (without its trailing newline).
pub fn decode(line: &[u8]) -> Option<Record<'_>> {
    let mut parts = line.splitn(4, |&b| b == b' ');
    let ts = std::str::from_utf8(parts.next()?).ok()?;
    let stream = match parts.next()? {
        b"stdout" => LogStream::Stdout,
        b"stderr" => LogStream::Stderr,
        _ => return None,
    };
    let partial = match parts.next()? {
        b"F" => false,
        b"P" => true,
        _ => return None,
    };
    Some(Record {
        ts,
        stream,
        partial,
        content: parts.next().unwrap_or_default(),
    })
}

impl Record<'_> {
    pub fn to_line(&self) -> LogLine {
        LogLine {
            ts: DateTime::parse_from_rfc3339(self.ts)
                .map(|t| t.with_timezone(&Utc))
                .unwrap_or_default(),
            stream: self.stream,
            text: String::from_utf8_lossy(self.content).into_owned(),
            partial: self.partial,
        }
    }
}

/// Puts one stream's exact bytes back together from a sequence of log files' contents.
pub fn reassemble(files: &[Vec<u8>], stream: LogStream) -> Vec<u8> {
    let mut out = Vec::new();
    for file in files {
        for line in file.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            if let Some(record) = decode(line) {
                if record.stream == stream {
                    out.extend_from_slice(record.content);
                    if !record.partial {
                        out.push(b'\n');
                    }
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip() {
        let mut out = Vec::new();
        encode(
            &mut out,
            "2026-01-01T00:00:00.000000Z",
            LogStream::Stderr,
            true,
            b"half a line \xff",
        );
        assert_eq!(
            out,
            b"2026-01-01T00:00:00.000000Z stderr P half a line \xff\n"
        );
        let record = decode(&out[..out.len() - 1]).unwrap();
        assert_eq!(record.stream, LogStream::Stderr);
        assert!(record.partial);
        assert_eq!(record.content, b"half a line \xff");
        assert_eq!(record.to_line().text, "half a line \u{fffd}");
    }

    #[test]
    fn an_empty_line_survives() {
        let mut out = Vec::new();
        encode(&mut out, "t", LogStream::Stdout, false, b"");
        assert_eq!(reassemble(&[out], LogStream::Stdout), b"\n");
    }

    #[test]
    fn partial_records_join_their_continuation() {
        let mut file = Vec::new();
        encode(&mut file, "t", LogStream::Stdout, true, b"abc");
        encode(&mut file, "t", LogStream::Stderr, false, b"err");
        encode(&mut file, "t", LogStream::Stdout, false, b"def");
        encode(&mut file, "t", LogStream::Stdout, true, b"tail");
        assert_eq!(
            reassemble(&[file.clone()], LogStream::Stdout),
            b"abcdef\ntail"
        );
        assert_eq!(reassemble(&[file], LogStream::Stderr), b"err\n");
    }
}
