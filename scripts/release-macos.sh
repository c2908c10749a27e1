#!/usr/bin/env bash
# The macOS release (release.yml, on a Mac runner): the universal .dmg and the universal
# `sentinel` CLI (with `sentineld`, the lean daemon it hands `sentinel daemon` over to) in dist/,
# signed, and notarized when Apple credentials are given.
#
# Without credentials both are ad-hoc signed (`signingIdentity: "-"` in tauri.conf.json;
# `codesign -s -` for the CLI). With APPLE_CERTIFICATE, APPLE_CERTIFICATE_PASSWORD and
# APPLE_SIGNING_IDENTITY they are signed with that Developer ID (hardened runtime, timestamp);
# with APPLE_ID + APPLE_PASSWORD + APPLE_TEAM_ID, or APPLE_API_KEY + APPLE_API_ISSUER +
# APPLE_API_PRIVATE_KEY (the .p8's text), both are notarized too. docs/deployment.md has the
# details.
set -euo pipefail
cd "$(dirname "$0")/.."

tmp="${RUNNER_TEMP:-$(mktemp -d)}"

# A secret GitHub does not have arrives as an empty variable, and `tauri build` treats a
# present-but-empty APPLE_* variable as given: drop the empty ones.
for name in APPLE_CERTIFICATE APPLE_CERTIFICATE_PASSWORD APPLE_SIGNING_IDENTITY \
  APPLE_ID APPLE_PASSWORD APPLE_TEAM_ID APPLE_API_KEY APPLE_API_ISSUER APPLE_API_KEY_PATH \
  APPLE_API_PRIVATE_KEY; do
  if [ -z "${!name:-}" ]; then
    unset "$name"
  fi
done

developer_id=false
if [ -n "${APPLE_CERTIFICATE:-}" ] || [ -n "${APPLE_SIGNING_IDENTITY:-}" ]; then
  if [ -z "${APPLE_CERTIFICATE:-}" ] || [ -z "${APPLE_SIGNING_IDENTITY:-}" ]; then
    echo "release: APPLE_CERTIFICATE and APPLE_SIGNING_IDENTITY go together: set both or neither" >&2
    exit 1
  fi
  developer_id=true
fi

# The App Store Connect API key: tauri and notarytool read it from a file.
if [ -n "${APPLE_API_PRIVATE_KEY:-}" ]; then
  APPLE_API_KEY_PATH="$tmp/AuthKey_${APPLE_API_KEY:-key}.p8"
  (umask 077 && printf '%s\n' "$APPLE_API_PRIVATE_KEY" >"$APPLE_API_KEY_PATH")
  export APPLE_API_KEY_PATH
  unset APPLE_API_PRIVATE_KEY
fi

notarize=none
if [ -n "${APPLE_API_KEY:-}" ] && [ -n "${APPLE_API_ISSUER:-}" ] && [ -n "${APPLE_API_KEY_PATH:-}" ]; then
  notarize=api-key
elif [ -n "${APPLE_ID:-}" ] && [ -n "${APPLE_PASSWORD:-}" ] && [ -n "${APPLE_TEAM_ID:-}" ]; then
  notarize=apple-id
fi
if [ "$developer_id" = false ]; then
  if [ "$notarize" != none ]; then
    echo "release: notarization credentials without a signing certificate: not notarizing (an ad-hoc signature cannot be notarized)" >&2
  fi
  notarize=none
  unset APPLE_ID APPLE_PASSWORD APPLE_TEAM_ID APPLE_API_KEY APPLE_API_ISSUER APPLE_API_KEY_PATH
  echo "release: no Developer ID certificate: the app and the CLI are ad-hoc signed (Gatekeeper asks once: see the manual)"
else
  echo "release: signing with \"$APPLE_SIGNING_IDENTITY\"; notarization: $notarize"
fi

# The app: tauri signs (and notarizes) it itself from the variables above.
(cd ui && npm ci --no-audit --no-fund && npm run tauri -- build --target universal-apple-darwin --bundles app,dmg)

# The CLI and the lean daemon it hands `sentinel daemon` over to, universal.
cargo build --release --locked -p sentinel-cli --target aarch64-apple-darwin
cargo build --release --locked -p sentinel-cli --target x86_64-apple-darwin
mkdir -p dist
cli=dist/sentinel-macos-universal
daemon=dist/sentineld-macos-universal
for bin in sentinel sentineld; do
  lipo -create -output "dist/$bin-macos-universal" \
    "target/aarch64-apple-darwin/release/$bin" "target/x86_64-apple-darwin/release/$bin"
done

if [ "$developer_id" = true ]; then
  # The certificate in a keychain of our own, deleted when done.
  keychain="$tmp/sentinel-signing.keychain-db"
  keychain_password="$(openssl rand -hex 24)"
  trap 'security delete-keychain "$keychain" 2>/dev/null || true' EXIT
  security create-keychain -p "$keychain_password" "$keychain"
  security set-keychain-settings -lut 3600 "$keychain"
  security unlock-keychain -p "$keychain_password" "$keychain"
  (umask 077 && printf '%s' "$APPLE_CERTIFICATE" | base64 --decode >"$tmp/certificate.p12")
  security import "$tmp/certificate.p12" -k "$keychain" -P "${APPLE_CERTIFICATE_PASSWORD:-}" \
    -T /usr/bin/codesign
  rm -f "$tmp/certificate.p12"
  security set-key-partition-list -S apple-tool:,apple:,codesign: -s -k "$keychain_password" \
    "$keychain" >/dev/null
  # shellcheck disable=SC2046 # the current search list, one keychain per word
  security list-keychains -d user -s "$keychain" $(security list-keychains -d user | tr -d '"')
  codesign --force --options runtime --timestamp --keychain "$keychain" \
    --sign "$APPLE_SIGNING_IDENTITY" "$cli" "$daemon"
else
  codesign --force --sign - "$cli" "$daemon"
fi
codesign --verify --strict --verbose=2 "$cli"
codesign --verify --strict --verbose=2 "$daemon"

# A bare executable cannot be stapled: Gatekeeper looks its ticket up online.
if [ "$notarize" != none ]; then
  mkdir -p "$tmp/cli"
  cp "$cli" "$daemon" "$tmp/cli/"
  ditto -c -k --keepParent "$tmp/cli" "$tmp/sentinel.zip"
  if [ "$notarize" = api-key ]; then
    xcrun notarytool submit "$tmp/sentinel.zip" --wait \
      --key "$APPLE_API_KEY_PATH" --key-id "$APPLE_API_KEY" --issuer "$APPLE_API_ISSUER"
  else
    xcrun notarytool submit "$tmp/sentinel.zip" --wait \
      --apple-id "$APPLE_ID" --password "$APPLE_PASSWORD" --team-id "$APPLE_TEAM_ID"
  fi
fi

cp target/universal-apple-darwin/release/bundle/dmg/*.dmg dist/
codesign --verify --deep --strict --verbose=2 \
  target/universal-apple-darwin/release/bundle/macos/SentinelZero.app
ls -l dist
