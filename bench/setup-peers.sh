#!/usr/bin/env bash
# Installs the supervisors SentinelZero is measured against, privately under bench/.peers:
# supervisord from PyPI in a virtualenv, PM2 from npm in its own prefix, horust from crates.io
# (built from source: about 3 minutes on 2 cores, once). Idempotent.
set -euo pipefail
cd "$(dirname "$0")"
peers=.peers
mkdir -p "$peers"
if [ ! -x "$peers/venv/bin/supervisord" ]; then
  python3 -m venv "$peers/venv"
  "$peers/venv/bin/pip" install --quiet --disable-pip-version-check 'supervisor>=4,<5'
fi
if [ ! -x "$peers/npm/node_modules/.bin/pm2" ]; then
  npm install --silent --no-audit --no-fund --prefix "$peers/npm" 'pm2@^7' >/dev/null
fi
horust_version=0.1.14
if [ ! -x "$peers/horust/bin/horust" ]; then
  cargo install --quiet --locked horust --version "$horust_version" --root "$peers/horust"
fi
echo "supervisord $("$peers/venv/bin/supervisord" --version), pm2 $(node -p "require('./$peers/npm/node_modules/pm2/package.json').version"), horust $horust_version (no --version flag)"
