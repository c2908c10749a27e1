#!/usr/bin/env bash
# Runs every check and test: formatting, lints, then all tests of the workspace.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/setup.sh

echo "== rustfmt"
cargo fmt --all -- --check
echo "== clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== tests"
# One build of everything, shared by every test binary.
cargo test --workspace --locked --no-fail-fast
