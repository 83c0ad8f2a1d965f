#!/usr/bin/env bash
# Fuzzes the whole OpenAPI document with schemathesis against a live `roster serve`, as the
# Owner and as an Annotator, on one database. Fails on any 5xx and on any response the document
# does not describe. Usage: scripts/schemathesis.sh sqlite
#                           scripts/schemathesis.sh postgres postgres://postgres@127.0.0.1:5432
# (for PostgreSQL it drops and creates the databases ${ROSTER_SCHEMATHESIS_DB:-roster_schemathesis}_main
# and _cred on that server). Needs target/debug/roster (cargo build -p roster).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
label=$1
pg=${2:-}
db_prefix=${ROSTER_SCHEMATHESIS_DB:-roster_schemathesis}
venv=$root/.venv-schemathesis
version=4.32.5
examples=${ROSTER_SCHEMATHESIS_EXAMPLES:-25}

if ! "$venv/bin/schemathesis" --version 2>/dev/null | grep -q "$version"; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "schemathesis==$version" requests
fi

# Operations that change the caller's own credentials or settings: they run in a separate pass
# with a fresh organization and fresh callers, so that the main pass is never locked out
# (a reset key, a new password, legacy keys switched off, ownership handed over, a logout).
credential_ops='^(reset_legacy_key|update_current_user|update_jwt_settings|refresh|rotate|blacklist|logout|assign_role|assign_role_post)$'

work=$(mktemp -d)
pid=
cleanup() { if [ -n "$pid" ]; then kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi; }
trap cleanup EXIT

start_server() { # $1 = name; sets pid, port, url and $work/$1/{credentials.env,schemathesis.toml}
  local name=$1 data=$work/$1
  mkdir -p "$data"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  export ROSTER_DATA_DIR=$data/data ROSTER_SECRET_KEY=schemathesis-test-secret-0123456789abcdef
  if [ -n "$pg" ]; then
    psql -q -h 127.0.0.1 -U postgres -d postgres -c "DROP DATABASE IF EXISTS ${db_prefix}_$name" -c "CREATE DATABASE ${db_prefix}_$name"
    export DATABASE_URL=$pg/${db_prefix}_$name
  else
    unset DATABASE_URL
  fi
  ROSTER_OWNER_PASSWORD=schemathesis-owner-password ./target/debug/roster init --org "Fuzz Org" --owner-email owner@schemathesis.example.com >/dev/null
  ./target/debug/roster serve --bind "127.0.0.1:$port" >"$data/serve.log" 2>&1 &
  pid=$!
  url=http://127.0.0.1:$port
  for _ in $(seq 1 50); do curl -sf "$url/api/health" >/dev/null && break; sleep 0.2; done
  ROSTER_URL=$url ROSTER_OWNER_EMAIL=owner@schemathesis.example.com ROSTER_OWNER_PASSWORD=schemathesis-owner-password \
    "$venv/bin/python" tests/schemathesis/seed.py "$data"
}

stop_server() {
  kill -TERM "$pid"; wait "$pid" || true; pid=
}

failed=0
fuzz() { # $1 = pass name, $2 = role, $3 = key, $4 = least share of answers not 401/403 (percent),
  # then the operation filter options
  local pass=$1 role=$2 key=$3 least=$4 started rc=0
  shift 4
  local report=$work/report-$pass-$role
  started=$(date +%s)
  # Checks: all but positive_data_acceptance, which wants every schema-valid request accepted,
  # while the product refuses well-typed requests by rules JSON Schema cannot state (an Owner
  # cannot remove themselves: 405; password policy, unique emails and usernames, seat limits,
  # the roles a default role may take, page bounds that allow -1): those answer a documented 4xx.
  # `--mode all` sends schema-violating input as well, so answers must be the documented 4xx,
  # never a 5xx or an undocumented status.
  # Run from the scratch folder: schemathesis keeps a cache of past failures (.schemathesis/) in
  # its working directory and would replay them, making runs depend on earlier ones.
  (cd "$work" && "$venv/bin/schemathesis" --config-file "$config" run "$url/openapi.json" \
    -H "Authorization: Token $key" \
    --checks all --exclude-checks positive_data_acceptance --mode all --generation-allow-x00 true \
    --max-examples "$examples" --seed 20240610 --workers 1 \
    --phases examples,coverage,fuzzing --no-shrink \
    --request-timeout 30 --no-color --output-truncate true \
    --report ndjson,har --report-dir "$report" "$@") >"$report.log" 2>&1 || rc=$?
  local took=$(( $(date +%s) - started ))
  grep -E "^ +(✅|❌|⏭|🚫)|Test cases:|^=+ .* in [0-9.]+s =+$" "$report.log" | cut -c1-200
  "$venv/bin/python" tests/schemathesis/share.py "$report" "$label $pass $role, ${took}s" "$least" || rc=$?
  if [ $rc -ne 0 ]; then
    echo "schemathesis $pass pass as $role on $label failed; full output: $report.log"
    grep -v '^[[:space:]]*$' "$report.log" | head -n 200
    failed=1
  fi
}

echo "schemathesis $("$venv/bin/schemathesis" --version | awk '{print $NF}') on $label"

# Main pass: every operation except the credential ones; the Annotator first, so that what the
# Owner's pass does to other members (deletions, renames) cannot lock the Annotator out.
start_server main
config=$work/main/schemathesis.toml
# shellcheck disable=SC1091
. "$work/main/credentials.env"
fuzz main annotator "$ANNOTATOR_KEY" 0 --exclude-operation-id-regex "$credential_ops"
fuzz main owner "$OWNER_KEY" 80 --exclude-operation-id-regex "$credential_ops"
stop_server
tail -n 5 "$work/main/serve.log" | grep -i panic && failed=1

# Credential pass: a fresh organization; the Annotator first again (the Owner may hand the
# ownership to them).
start_server cred
config=$work/cred/schemathesis.toml
# shellcheck disable=SC1091
. "$work/cred/credentials.env"
fuzz cred annotator "$ANNOTATOR_KEY" 0 --include-operation-id-regex "$credential_ops"
fuzz cred owner "$OWNER_KEY" 0 --include-operation-id-regex "$credential_ops"
stop_server

[ -n "${ROSTER_SCHEMATHESIS_KEEP:-}" ] && echo "reports kept in $work" || rm -rf "$work"
exit $failed
