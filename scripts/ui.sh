#!/usr/bin/env bash
# Builds and checks the Svelte UI in ui/: type check, production build, component tests, and
# real-browser checks with screenshots (docs/screenshots). Idempotent: installs Chromium and
# npm packages only when they are missing or the lockfile changed.
set -euo pipefail
cd "$(dirname "$0")/../ui"

step="setup"
trap 'echo "ui: FAILED during $step" >&2' ERR

# Debian's Chromium drives the browser checks; Playwright cannot download browsers here.
missing=()
[ "${1:-}" = "--build" ] || [ -x /usr/bin/chromium ] || missing+=(chromium)
dpkg-query -W -f='${Status}' fonts-liberation 2>/dev/null | grep -q 'install ok installed' || missing+=(fonts-liberation)
if [ "${#missing[@]}" -gt 0 ]; then
  step="apt-get install (${missing[*]})"
  echo "== apt-get install chromium fonts-liberation (missing: ${missing[*]})"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends chromium fonts-liberation
fi

# npm ci wipes node_modules, so run it only when the lockfile differs from the installed one.
step="npm ci"
stamp=node_modules/.lock-sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -d node_modules ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "== npm ci"
  npm ci --no-audit --no-fund
  echo "$want" >"$stamp"
fi

# `--build`: only the production bundle (ui/dist), for building the app.
if [ "${1:-}" = "--build" ]; then
  step="vite build"
  npm run --silent build
  exit 0
fi

step="svelte-check"
echo "== svelte-check"
npm run --silent check

step="vite build"
echo "== vite build"
npm run --silent build

step="vitest"
echo "== vitest"
report=$(mktemp)
trap 'rm -f "$report"' EXIT
status=0
npm test --silent -- --reporter=default --reporter=json --outputFile.json="$report" || status=$?
counts=$(node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed`);
' "$report" 2>/dev/null || echo "0 passed, 1 failed")
if [ "$status" -ne 0 ]; then
  echo "ui: $counts"
  exit "$status"
fi

step="browser checks"
echo "== browser checks and screenshots"
npm run --silent screenshots

echo "ui: svelte-check clean, build ok, browser checks ok, screenshots in $([ "${UPDATE_SCREENSHOTS:-}" = 1 ] && echo docs/screenshots || echo target/screenshots)"
echo "ui: $counts"
