#!/usr/bin/env bash
# Runs every check and test: formatting, lints, then all tests of the workspace.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/setup.sh

echo "== ui"
# Type check, build, component tests and browser checks of the Svelte UI.
ui_log=$(mktemp)
ui_status=0
./scripts/ui.sh 2>&1 | tee "$ui_log" || ui_status=$?
echo "== workflows"
# The GitHub Actions workflows: valid against GitHub's schema, and nothing zizmor objects to.
.tools/venv/bin/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml
.tools/venv/bin/zizmor --offline --config .github/zizmor.yml .github/workflows
echo "== rustfmt"
cargo fmt --all -- --check
echo "== clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== tests"
# One build of everything, shared by every test binary. Doc tests are skipped: there are none.
# The end-to-end tests run the real `sentinel` binary: build every binary first.
cargo build --workspace --locked
log=$(mktemp)
trap 'rm -f "$log" "$ui_log"' EXIT
status=0
cargo test --workspace --locked --no-fail-fast --lib --bins --tests 2>&1 | tee "$log" || status=$?
echo "== bench --quick"
# Every benchmark scenario against every peer on tiny inputs, so the harness never rots (the
# figures mean nothing here; the full run is documented in bench/RESULTS.md).
bench_status=0
./bench/setup-peers.sh && ./target/debug/bench --quick >/dev/null || bench_status=$?
[ "$bench_status" -eq 0 ] && echo "bench --quick: every scenario ran" || echo "bench --quick failed ($bench_status)"
# One closing line for the whole run, summed over every test binary.
awk '/^test result:/ { passed += $4; failed += $6 }
     /^ui: [0-9]+ passed, [0-9]+ failed/ { passed += $2; failed += $4 }
     END { printf "tests: %d passed, %d failed\n", passed, failed }' "$log" "$ui_log"
[ "$ui_status" -eq 0 ] || exit "$ui_status"
[ "$bench_status" -eq 0 ] || exit "$bench_status"
exit "$status"
