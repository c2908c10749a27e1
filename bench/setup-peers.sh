#!/usr/bin/env bash
# Installs the supervisors SentinelZero is measured against, privately under bench/.peers:
# supervisord from PyPI in a virtualenv, PM2 from npm in its own prefix. Idempotent.
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
echo "supervisord $("$peers/venv/bin/supervisord" --version), pm2 $(node -p "require('./$peers/npm/node_modules/pm2/package.json').version")"
