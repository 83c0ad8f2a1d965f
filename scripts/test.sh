#!/usr/bin/env bash
# roster's whole test suite, as CI runs it: installs what is missing, starts PostgreSQL when it
# is down, checks formatting and lints, runs the Rust suites on SQLite and on PostgreSQL, and
# drives a live server with the real label-studio-sdk on both databases.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

# Each stage is announced with the time the previous one took and the total so far.
started=$SECONDS stage_started=$SECONDS stage_name=""
step() {
  if [ -n "$stage_name" ]; then
    printf '   (%s: %d s; %d s in all)\n' "$stage_name" $((SECONDS - stage_started)) $((SECONDS - started))
  fi
  stage_name=$*
  stage_started=$SECONDS
  printf '\n== %s\n' "$*"
}

need_apt=()
command -v psql >/dev/null || need_apt+=(postgresql-client)
command -v pg_isready >/dev/null || need_apt+=(postgresql-client)
command -v curl >/dev/null || need_apt+=(curl)
python3 -c 'import venv, ensurepip' 2>/dev/null || need_apt+=(python3-venv)
if [ ${#need_apt[@]} -gt 0 ]; then
  step "installing ${need_apt[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}"
fi
rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt
rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy

step "PostgreSQL"
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi
pg_isready -h 127.0.0.1 -p 5432
psql -q -h 127.0.0.1 -U postgres -d postgres -c 'DROP DATABASE IF EXISTS roster_test' -c 'CREATE DATABASE roster_test'
psql -q -h 127.0.0.1 -U postgres -d postgres -c 'DROP DATABASE IF EXISTS roster_sdk' -c 'CREATE DATABASE roster_sdk'

step "SAML test identity provider (xmlsec1, pysaml2 in .venv-saml)"
tests/saml/setup.sh

step "format and lints"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings

step "Rust tests on SQLite (unit and integration)"
# The crash tests (tests/.../crash.rs) kill and restart the real binary, which `cargo test`
# does not build (it belongs to another package).
cargo build -p roster --locked
cargo test --workspace --locked

step "Rust integration tests on PostgreSQL"
# --workspace (the integration binary is the only `integration` target) keeps the features the
# SQLite stage built with, so nothing is compiled again.
ROSTER_TEST_DB=postgres ROSTER_TEST_PG_URL=postgres://postgres@127.0.0.1:5432/roster_test \
  cargo test --workspace --locked --test integration

step "command line"
scripts/cli-tests.sh

step "schemathesis over the OpenAPI document on SQLite (Owner, Administrator, Manager, Annotator; stateful)"
scripts/schemathesis.sh sqlite
step "schemathesis over the OpenAPI document on PostgreSQL (Owner, Administrator, Manager, Annotator; stateful)"
scripts/schemathesis.sh postgres postgres://postgres@127.0.0.1:5432

step "SCIM conformance (scim2-tester) on SQLite"
scripts/scim-conformance.sh sqlite
step "SCIM conformance (scim2-tester) on PostgreSQL"
scripts/scim-conformance.sh postgres postgres://postgres@127.0.0.1:5432

step "login flood: bounded password hashing and memory (spawned server, SQLite and PostgreSQL)"
python3 tests/security/login_flood.py
psql -q -h 127.0.0.1 -U postgres -d postgres -c 'DROP DATABASE IF EXISTS roster_flood' -c 'CREATE DATABASE roster_flood'
DATABASE_URL=postgres://postgres@127.0.0.1:5432/roster_flood python3 tests/security/login_flood.py

step "label-studio-sdk compatibility"
if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import label_studio_sdk, pytest' 2>/dev/null; then
  python3 -m venv .venv
  .venv/bin/pip install -q -r tests/sdk/requirements.txt
fi

sdk_run() { # $1 = database label, $2 = DATABASE_URL or empty for SQLite
  local label=$1 url=$2 data port pid
  data=$(mktemp -d)
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  # The SAML parameter test serves IdP metadata on loopback, which roster refuses unless allowed.
  export ROSTER_DATA_DIR=$data ROSTER_SECRET_KEY=sdk-compat-test-secret-0123456789abcdef ROSTER_SAML_METADATA_ALLOW=127.0.0.1/32
  if [ -n "$url" ]; then export DATABASE_URL=$url; else unset DATABASE_URL; fi
  ROSTER_OWNER_PASSWORD=sdk-owner-password ./target/debug/roster init --org "SDK Org" --owner-email owner@sdk.example.com
  ./target/debug/roster serve --bind "127.0.0.1:$port" >"$data/serve.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$port/api/health" >/dev/null && break; sleep 0.2; done
  local rc=0
  (
    export ROSTER_URL=http://127.0.0.1:$port ROSTER_OWNER_EMAIL=owner@sdk.example.com ROSTER_OWNER_PASSWORD=sdk-owner-password
    .venv/bin/python tests/sdk/seed_org.py && .venv/bin/python -m pytest -q -p no:cacheprovider tests/sdk
  ) || rc=$?
  kill -TERM "$pid"; wait "$pid" || true
  if [ $rc -ne 0 ]; then echo "SDK compatibility failed on $label; server log:"; tail -n 50 "$data/serve.log"; fi
  rm -rf "$data"
  unset ROSTER_DATA_DIR ROSTER_SECRET_KEY ROSTER_SAML_METADATA_ALLOW DATABASE_URL
  return $rc
}
step "label-studio-sdk on SQLite"
sdk_run sqlite ""
step "label-studio-sdk on PostgreSQL"
sdk_run postgres "postgres://postgres@127.0.0.1:5432/roster_sdk"

step "benchmark smokes (2,000 members, debug build; the real figures are in BENCHMARKS.md)"
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }
ROSTER_BIN=$root/target/debug/roster python3 bench/run.py --sizes 2000 --dbs sqlite,postgres --seconds 2 \
  --out "$(mktemp -d)/BENCHMARKS-smoke.md"
ROSTER_BIN=$root/target/debug/roster python3 bench/access.py --sizes 2000 --dbs sqlite,postgres --seconds 1 \
  --out "$(mktemp -d)/BENCHMARKS-access-smoke.md"
ROSTER_BIN=$root/target/debug/roster python3 bench/filters.py --sizes 2000 --dbs sqlite,postgres --seconds 1 \
  --out "$(mktemp -d)/BENCHMARKS-filters-smoke.md"

step "web pages in a real browser (Chromium)"
scripts/browser-tests.sh

step "all suites passed"
