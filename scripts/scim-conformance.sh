#!/usr/bin/env bash
# Runs the third-party SCIM checker scim2-tester (tests/scim/conformance.py) against a live
# `roster serve` with a fresh data folder, on one database. Fails on any ERROR, CRITICAL or
# DEVIATION. Usage: scripts/scim-conformance.sh sqlite
#                   scripts/scim-conformance.sh postgres postgres://postgres@127.0.0.1:5432
# (for PostgreSQL it drops and creates the database ${ROSTER_SCIM_CONF_DB:-roster_scim_conf} on
# that server). Needs target/debug/roster (cargo build -p roster); builds nothing itself.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
label=$1
pg=${2:-}
db=${ROSTER_SCIM_CONF_DB:-roster_scim_conf}
venv=$root/.venv-scim
requirements=tests/scim/requirements.txt

# Reinstalled when the pins change (the installed list is kept beside the venv).
if [ ! -x "$venv/bin/python" ] || ! cmp -s "$requirements" "$venv/installed-requirements.txt"; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q -r "$requirements"
  cp "$requirements" "$venv/installed-requirements.txt"
fi

work=$(mktemp -d)
pid=
cleanup() {
  if [ -n "$pid" ]; then kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  if [ -n "${ROSTER_SCIM_CONF_KEEP:-}" ]; then echo "server log kept in $work/serve.log"; else rm -rf "$work"; fi
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export ROSTER_DATA_DIR=$work/data ROSTER_SECRET_KEY=scim-conformance-secret-0123456789abcdef
if [ -n "$pg" ]; then
  PGOPTIONS='-c client_min_messages=warning' \
    psql -q -h 127.0.0.1 -U postgres -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
  export DATABASE_URL=$pg/$db
else
  unset DATABASE_URL
fi
owner_email=owner@scim-conformance.example.com owner_password=scim-conformance-owner-password
domain=scim-conformance.example.com
created=$(ROSTER_OWNER_PASSWORD=$owner_password ./target/debug/roster init --org "SCIM Conformance Org" --owner-email $owner_email)
org=$(sed -n 's/.*(id \([0-9]*\)).*/\1/p' <<<"$created")
# The checker's random addresses are in this domain (see tests/scim/conformance.py).
./target/debug/roster org domain add --org "$org" $domain >/dev/null
./target/debug/roster serve --bind "127.0.0.1:$port" >"$work/serve.log" 2>&1 &
pid=$!
url=http://127.0.0.1:$port
for _ in $(seq 1 50); do curl -sf "$url/api/health" >/dev/null && break; sleep 0.2; done

echo "scim2-tester $("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("scim2-tester"))') on $label"
rc=0
ROSTER_URL=$url ROSTER_OWNER_EMAIL=$owner_email ROSTER_OWNER_PASSWORD=$owner_password CONFORMANCE_DOMAIN=$domain \
  "$venv/bin/python" tests/scim/conformance.py || rc=$?
if grep -i panic "$work/serve.log"; then rc=1; fi
if [ $rc -ne 0 ]; then echo "SCIM conformance failed on $label; server log:"; tail -n 30 "$work/serve.log"; fi
exit $rc
