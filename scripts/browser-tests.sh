#!/usr/bin/env bash
# Real-browser tests of roster's web pages: Debian's Chromium driven by playwright-core under
# node's test runner. Each test starts its own `roster serve --demo` on a free localhost port.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

step() { printf '\n== %s\n' "$*"; }

if [ ! -x /usr/bin/chromium ] || ! command -v chromedriver >/dev/null; then
  step "installing chromium and chromium-driver"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver
fi

if [ ! -d tests/browser/node_modules ]; then
  step "installing playwright-core (no browser download: Debian's Chromium is used)"
  export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
  if [ -f tests/browser/package-lock.json ]; then
    (cd tests/browser && npm ci --no-audit --no-fund)
  else
    (cd tests/browser && npm install --no-audit --no-fund)
  fi
fi

step "building roster"
cargo build -p roster --locked

export ROSTER_BIN=${ROSTER_BIN:-$root/target/debug/roster}
export ROSTER_SCREENSHOTS=${ROSTER_SCREENSHOTS:-$root/tests/browser/screenshots}
mkdir -p "$ROSTER_SCREENSHOTS"
step "browser tests (screenshots in $ROSTER_SCREENSHOTS)"
# Every *.test.mjs file, named by the shell: node 20 and 22 read a bare directory differently.
node --test tests/browser/*.test.mjs
