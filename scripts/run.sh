#!/usr/bin/env bash
# Builds SentinelZero and runs it: the headless engine (`sentinel daemon`) in the foreground.
# Ctrl-C stops every job and exits. Data lives in $SENTINEL_HOME (default: the platform's
# data directory); point the CLI at the same home to drive it.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/setup.sh
cargo build --release --locked -p sentinel-cli
echo "sentinel: $(pwd)/target/release/sentinel (put it on your PATH to use the CLI)"
exec ./target/release/sentinel daemon "$@"
