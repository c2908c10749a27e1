#!/usr/bin/env bash
# Line coverage: the Rust crates with cargo-tarpaulin (each crate measured by its own unit and
# integration tests; the end-to-end tests drive separate processes and are not counted), and
# the UI with vitest's v8 coverage. Reports: coverage/rust/ and ui/coverage/ (HTML + JSON).
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/setup.sh
command -v cargo-tarpaulin >/dev/null || cargo install --locked cargo-tarpaulin

mkdir -p coverage/rust
# The llvm engine needs no extra toolchain component; --skip-clean keeps the shared build.
cargo tarpaulin --engine llvm --skip-clean --locked \
  -p sentinel-proto -p sentinel-engine -p sentinel-cli \
  --lib --bins --tests \
  --out Html --out Json --output-dir coverage/rust \
  --exclude-files 'bench/*' 'tests/*' 'src-tauri/*' \
  2>&1 | tee coverage/rust/summary.txt | grep -E '^[0-9.]+% coverage|^\|\| crates/' || true

(cd ui && npm run coverage -- --maxWorkers=1 | tail -8)

python3 - <<'PY'
import json
report = json.load(open("coverage/rust/tarpaulin-report.json"))
by_crate = {}
for f in report["files"]:
    path = "/".join(f["path"])
    for crate in ("crates/proto", "crates/engine", "crates/cli"):
        if f"/{crate}/src/" in path or path.startswith(f"{crate}/src/"):
            covered, coverable = by_crate.get(crate, (0, 0))
            by_crate[crate] = (covered + f["covered"], coverable + f["coverable"])
for crate, (covered, coverable) in sorted(by_crate.items()):
    print(f"{crate}: {100 * covered / max(coverable, 1):.1f}% of {coverable} lines")
ui = json.load(open("ui/coverage/coverage-summary.json"))["total"]["lines"]
print(f"ui: {ui['pct']:.1f}% of {ui['total']} lines")
PY
