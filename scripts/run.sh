#!/usr/bin/env bash
# Builds SentinelZero and runs it: the menu-bar app where there is a display, else the
# headless engine (`sentinel daemon`) in the foreground. Quit (or Ctrl-C) stops every job.
# Data lives in $SENTINEL_HOME (default: the platform's data directory); the CLI finds the
# same engine there.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/setup.sh
./scripts/ui.sh --build
cargo build --release --locked -p sentinel-cli -p sentinel-app
echo "sentinel: $(pwd)/target/release/sentinel (put it on your PATH to use the CLI)"
if [ "$(uname)" = Darwin ] || [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  exec ./target/release/sentinelzero "$@"
fi
echo "no display: running the headless engine"
exec ./target/release/sentinel daemon "$@"
