//! `sentineld`: the lean daemon, what `sentinel daemon` hands over to when it sits beside it.
//!
//! Only the engine, its control server, signals and logging: none of the CLI (clap and its
//! help, importers, exports, the MCP server), so the pages of its executable that a daemon at
//! rest keeps resident are few. Its arguments are read by hand for the same reason.

mod daemon;

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "\
Usage: sentineld [--socket PATH]

The SentinelZero engine, headless, in the foreground: what `sentinel daemon` runs.
SIGTERM, SIGINT or SIGHUP stops its jobs and exits.

Options:
  --socket PATH  The engine's socket [env: SENTINEL_SOCKET]
                 [default: $SENTINEL_HOME/sentinel.sock or the platform's]
  -h, --help     Print this help
  -V, --version  Print the version";

fn main() -> ExitCode {
    let env_socket = std::env::var_os("SENTINEL_SOCKET");
    match parse(std::env::args_os().skip(1), env_socket) {
        Ok(Parsed::Run(socket)) => daemon::main(socket),
        Ok(Parsed::Help) => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        Ok(Parsed::Version) => {
            println!("sentineld {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("sentineld: {err}\n\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

#[derive(Debug, PartialEq)]
enum Parsed {
    Run(Option<PathBuf>),
    Help,
    Version,
}

/// The socket from `--socket PATH`, `--socket=PATH` or else `SENTINEL_SOCKET` (empty is unset),
/// as `sentinel` reads them.
fn parse(
    mut args: impl Iterator<Item = OsString>,
    env_socket: Option<OsString>,
) -> Result<Parsed, String> {
    let mut socket = None;
    while let Some(arg) = args.next() {
        let bytes = arg.as_bytes();
        if bytes == b"--socket" {
            socket = Some(PathBuf::from(args.next().ok_or("--socket needs a PATH")?));
        } else if let Some(path) = bytes.strip_prefix(b"--socket=") {
            socket = Some(PathBuf::from(std::ffi::OsStr::from_bytes(path)));
        } else if bytes == b"-h" || bytes == b"--help" {
            return Ok(Parsed::Help);
        } else if bytes == b"-V" || bytes == b"--version" {
            return Ok(Parsed::Version);
        } else {
            return Err(format!("unexpected argument {:?}", arg.to_string_lossy()));
        }
    }
    Ok(Parsed::Run(socket.or_else(|| {
        env_socket.filter(|v| !v.is_empty()).map(PathBuf::from)
    })))
}

// The build script's decision, tested here (build scripts have no tests of their own).
#[cfg(test)]
#[path = "../build/layout.rs"]
mod layout;

#[cfg(test)]
mod tests {
    use super::*;

    /// The list the release build orders by (build/layout.rs): symbol names only (mangled Rust,
    /// compiler builtins), each once,
    /// and about the idle loop (the sampler's minute, the pager's tick, the runtime's park).
    #[test]
    fn the_idle_code_list_names_each_symbol_once() {
        let order = include_str!("../sentineld.order");
        let names: Vec<&str> = order.lines().collect();
        assert!(names.len() > 50, "{} names", names.len());
        let unique: std::collections::HashSet<&&str> = names.iter().collect();
        assert_eq!(unique.len(), names.len(), "a name is listed twice");
        let symbol_char = |c: char| c.is_ascii_alphanumeric() || "_$.".contains(c);
        for name in &names {
            assert!(
                !name.is_empty() && name.chars().all(symbol_char),
                "{name:?}"
            );
        }
        for idle in [
            "Sampler6is_due",
            "5pages19resident_file_pages",
            "6driver6Driver4park",
        ] {
            assert!(
                names.iter().any(|name| name.contains(idle)),
                "{idle} missing"
            );
        }
    }

    fn parsed(args: &[&str], env: Option<&str>) -> Result<Parsed, String> {
        parse(args.iter().map(OsString::from), env.map(OsString::from))
    }

    #[test]
    fn the_socket_comes_from_the_flag_then_the_environment() {
        let run = |path: &str| Ok(Parsed::Run(Some(PathBuf::from(path))));
        assert_eq!(
            parsed(&["--socket", "/a.sock"], Some("/b.sock")),
            run("/a.sock")
        );
        assert_eq!(parsed(&["--socket=/a.sock"], None), run("/a.sock"));
        assert_eq!(parsed(&[], Some("/b.sock")), run("/b.sock"));
        assert_eq!(parsed(&[], Some("")), Ok(Parsed::Run(None)));
        assert_eq!(parsed(&[], None), Ok(Parsed::Run(None)));
    }

    #[test]
    fn help_version_and_mistakes() {
        assert_eq!(parsed(&["--help"], None), Ok(Parsed::Help));
        assert_eq!(parsed(&["-V"], None), Ok(Parsed::Version));
        assert!(parsed(&["--socket"], None).unwrap_err().contains("PATH"));
        assert!(parsed(&["daemon"], None).unwrap_err().contains("daemon"));
    }
}
