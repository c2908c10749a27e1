//! Whether the daemon's executable is linked with its idle code together (`sentineld.order`),
//! decided for the build script and unit-tested with the crate.
//!
//! The idle daemon runs a few hundred functions (the sampler's minute, the page pager's tick,
//! the runtime's timers) scattered over megabytes of code, and each first touch maps the 64 KiB
//! around it. Listed first in the executable, they take a few pages instead. The list holds
//! exact symbol names, which change with the toolchain, the dependencies and the profile: it is
//! made for release builds by `scripts/daemon-order.sh`, and the bench's idle scenario says how
//! much of it the executable still matches.

/// What the build script knows about the build (its environment variables).
pub struct Build<'a> {
    pub target_os: &'a str,
    pub target_arch: &'a str,
    pub target_env: &'a str,
    pub profile: &'a str,
    /// `rustc -vV`.
    pub rustc_version: &'a str,
    /// `CARGO_ENCODED_RUSTFLAGS`, and the linker named for the target, if any.
    pub rustflags: &'a str,
    pub linker_override: bool,
}

/// First Rust release that links x86_64 Linux GNU programs with its own LLD by default (the
/// ordering flag is LLD's; GNU ld refuses it).
const LLD_BY_DEFAULT: (u32, u32) = (1, 90);

/// The linker arguments for `sentineld`, or none when the build would not link with LLD or
/// is not a release build (the list names release symbols).
pub fn order_args(build: &Build, order_file: &str) -> Vec<String> {
    let lld = build.target_os == "linux"
        && build.target_arch == "x86_64"
        && build.target_env == "gnu"
        && rustc_release(build.rustc_version).is_some_and(|release| release >= LLD_BY_DEFAULT)
        && !build.linker_override
        && !build.rustflags.contains("linker")
        && !build.rustflags.contains("fuse-ld");
    if !lld || build.profile != "release" {
        return Vec::new();
    }
    vec![
        format!("-Wl,--symbol-ordering-file={order_file}"),
        // A name the executable lacks (a closure renumbered, a dependency updated) is skipped.
        "-Wl,--no-warn-symbol-ordering".to_string(),
    ]
}

/// Major and minor of the `release:` line of `rustc -vV`.
fn rustc_release(verbose_version: &str) -> Option<(u32, u32)> {
    let release = verbose_version
        .lines()
        .find_map(|line| line.strip_prefix("release: "))?;
    let mut parts = release.trim().split(['.', '-']);
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

#[cfg(test)]
mod tests {
    use super::*;

    const RUSTC_195: &str = "rustc 1.95.0 (59807616e 2026-04-14)\nbinary: rustc\nrelease: 1.95.0\nLLVM version: 22.1.2\n";

    fn release_x86_linux() -> Build<'static> {
        Build {
            target_os: "linux",
            target_arch: "x86_64",
            target_env: "gnu",
            profile: "release",
            rustc_version: RUSTC_195,
            rustflags: "",
            linker_override: false,
        }
    }

    #[test]
    fn a_release_build_with_lld_orders_the_daemon() {
        assert_eq!(
            order_args(&release_x86_linux(), "/src/sentineld.order"),
            [
                "-Wl,--symbol-ordering-file=/src/sentineld.order",
                "-Wl,--no-warn-symbol-ordering"
            ]
        );
    }

    #[test]
    fn builds_that_may_not_link_with_lld_or_are_not_release_are_left_alone() {
        let old_rustc = "binary: rustc\nrelease: 1.89.0\n";
        let cases = [
            Build {
                profile: "debug",
                ..release_x86_linux()
            },
            Build {
                target_os: "macos",
                target_env: "",
                ..release_x86_linux()
            },
            Build {
                target_arch: "aarch64",
                ..release_x86_linux()
            },
            Build {
                target_env: "musl",
                ..release_x86_linux()
            },
            Build {
                rustc_version: old_rustc,
                ..release_x86_linux()
            },
            Build {
                rustc_version: "",
                ..release_x86_linux()
            },
            Build {
                rustflags: "-Clinker=clang",
                ..release_x86_linux()
            },
            Build {
                rustflags: "-Clink-arg=-fuse-ld=bfd",
                ..release_x86_linux()
            },
            Build {
                linker_override: true,
                ..release_x86_linux()
            },
        ];
        for build in cases {
            assert!(
                order_args(&build, "/o").is_empty(),
                "{:?}",
                (build.target_os, build.profile)
            );
        }
    }

    #[test]
    fn the_rustc_release_is_read_from_its_verbose_version() {
        assert_eq!(rustc_release(RUSTC_195), Some((1, 95)));
        assert_eq!(rustc_release("release: 1.92.0-nightly\n"), Some((1, 92)));
        assert_eq!(rustc_release("release: 2.0\n"), Some((2, 0)));
        assert_eq!(rustc_release("release: x.y\n"), None);
        assert_eq!(rustc_release("rustc 1.95.0\n"), None);
    }
}
