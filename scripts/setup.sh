#!/usr/bin/env bash
# Installs what building and testing SentinelZero needs on a Debian-based machine. Idempotent:
# only what is missing is installed. Run as root (or with sudo available).
set -euo pipefail

# procps: ps/pkill in tests. dunst, dbus, xvfb: a real notification daemon on a private D-Bus
# session for the notification test. python3-venv: the metrics test parses /metrics with the
# Prometheus project's own Python parser. openssh-server and openssh-client: a real sshd on
# 127.0.0.1 (private config, started by the test) for the remote-engine tests.
# The rest: the Tauri app (WebKitGTK, tray via ayatana), and WebKitWebDriver for its
# end-to-end test under Xvfb.
need_debs=(build-essential pkg-config procps dunst dbus xvfb python3-venv openssh-server openssh-client
  libssl-dev libdbus-1-dev libwebkit2gtk-4.1-dev libjavascriptcoregtk-4.1-dev libsoup-3.0-dev
  libayatana-appindicator3-dev librsvg2-dev webkit2gtk-driver xdotool dbus-x11)

missing=()
for pkg in "${need_debs[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "setup: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if ! command -v cargo >/dev/null 2>&1; then
  echo "setup: cargo not found; install Rust from https://rustup.rs first" >&2
  exit 1
fi

# Python tools for the tests, in a private venv (pinned; only installed when missing):
tools="$(cd "$(dirname "$0")/.." && pwd)/.tools"
# prometheus-client parses /metrics in a test; check-jsonschema (with its vendored GitHub
# workflow schema) and zizmor lint the workflow files; mcp, the official MCP SDK, is the real
# client of `sentinel mcp` in its end-to-end test; kubernetes-validate checks the manifests of
# `sentinel export --as kubernetes` against the official schemas it bundles (offline).
# `python -m pip`: a venv's pip script names the venv's path, so a venv copied from elsewhere
# would install into the original.
if ! "$tools/venv/bin/python" -c 'import prometheus_client, check_jsonschema, mcp, kubernetes_validate' >/dev/null 2>&1 \
  || [ ! -x "$tools/venv/bin/zizmor" ]; then
  echo "setup: installing Python test tools into $tools/venv"
  python3 -m venv "$tools/venv"
  "$tools/venv/bin/python" -m pip install -q --disable-pip-version-check \
    prometheus-client==0.21.1 check-jsonschema==0.39.0 zizmor==1.32.0 mcp==2.3.0 \
    kubernetes-validate==1.37.0
fi

# The WebDriver proxy that drives the real app in its end-to-end test.
if ! command -v tauri-driver >/dev/null 2>&1; then
  echo "setup: installing tauri-driver"
  cargo install tauri-driver --locked --quiet
fi
