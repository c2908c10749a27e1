//! The processes the benchmarks supervise.

use std::io::Write;
use std::time::{SystemTime, UNIX_EPOCH};

/// Appends the wall-clock time (ns) at which this process began running Rust code to `file`.
fn record_start(file: &str) {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let mut out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(file)
        .unwrap();
    writeln!(out, "{now}").unwrap();
}

/// Records its start, then sleeps until killed: the replacement's "first instruction" in the
/// restart benchmark.
pub fn stamp(file: &str) -> ! {
    record_start(file);
    loop {
        std::thread::park();
    }
}

/// Records its start, then exits 1 at once: a program in a crash loop.
pub fn fail(file: &str) -> ! {
    record_start(file);
    std::process::exit(1)
}

/// Writes `total` bytes of 100-byte lines to stdout as fast as it can.
pub fn write(total: u64) {
    let line: Vec<u8> = (0..99u8)
        .map(|i| b'a' + i % 26)
        .chain(std::iter::once(b'\n'))
        .collect();
    let chunk: Vec<u8> = line
        .iter()
        .copied()
        .cycle()
        .take(line.len() * 655)
        .collect();
    let mut stdout = std::io::stdout().lock();
    let mut left = total;
    while left > 0 {
        let n = left.min(chunk.len() as u64) as usize;
        stdout.write_all(&chunk[..n]).unwrap();
        left -= n as u64;
    }
    stdout.flush().unwrap();
}
