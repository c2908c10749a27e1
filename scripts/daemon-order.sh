#!/usr/bin/env bash
# Remakes crates/cli/sentineld.order, the functions the idle daemon runs, which the release
# build places together (crates/cli/build/layout.rs). Run it after a toolchain or dependency
# update, or when the bench's idle scenario says the executable matches little of the list.
# It builds the release programs, runs `sentineld` under callgrind with 50 sleeping jobs,
# records two and a half minutes of rest (two unwatched samples, the pager's ticks) and keeps
# the names of the daemon's functions that ran, then relinks.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v valgrind >/dev/null 2>&1; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends valgrind
fi
# The three together, as every release build here: a different set resolves other features,
# hence other symbol names.
build() { cargo build --release --locked -p sentinel-cli -p sentinel-bench -p sentinel-app; }
build
bin=target/release
home=$(mktemp -d)
export SENTINEL_HOME=$home SENTINEL_SOCKET=$home/sentinel.sock
valgrind --tool=callgrind --instr-atstart=no --demangle=no \
  --callgrind-out-file="$home/idle.cg" "$bin/sentineld" 2>"$home/valgrind.log" &
daemon=$!
trap 'kill -TERM $daemon 2>/dev/null || true; wait $daemon 2>/dev/null || true; rm -rf "$home"' EXIT
for _ in $(seq 600); do [ -S "$SENTINEL_SOCKET" ] && break; sleep 0.1; done
[ -S "$SENTINEL_SOCKET" ] || { echo "daemon-order: the daemon did not start" >&2; exit 1; }
for i in $(seq 0 49); do "$bin/sentinel" add "sleeper$i" --no-autostart -- sleep 100000 >/dev/null; done
"$bin/sentinel" start --all >/dev/null
# Past the starts, then rest only.
sleep 20
callgrind_control --instr=on "$daemon" >/dev/null
sleep 150
callgrind_control --dump "$daemon" >/dev/null
kill -TERM "$daemon"; wait "$daemon" 2>/dev/null || true
dump=$(ls "$home"/idle.cg.* | head -n1)
python3 scripts/callgrind-functions.py "$dump" /sentineld >crates/cli/sentineld.order.new
[ "$(wc -l <crates/cli/sentineld.order.new)" -gt 50 ] || { echo "daemon-order: too few functions recorded" >&2; exit 1; }
mv crates/cli/sentineld.order.new crates/cli/sentineld.order
echo "daemon-order: $(wc -l <crates/cli/sentineld.order) functions; relinking"
build
