#!/usr/bin/env bash
# Fuzzes the whole OpenAPI document with schemathesis against a live `roster serve`, as the
# Owner, an Administrator, a Manager and an Annotator, on one database, with generated requests
# and with stateful sequences that follow the links between operations. Fails on any 5xx, on any
# response the document does not describe, and on any refused request (4xx) that changed a row
# (tests/schemathesis/refusals.py compares snapshots of the database around a sample of requests).
# Usage: scripts/schemathesis.sh sqlite
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
# Examples per operation in the fuzzing and stateful phases. 15 keeps each database's stage to
# a few minutes: on a machine that ran everything about three times slower than usual, 50
# took 1,175 s on SQLite alone (coverage, the fixed phase, is 48 s a pass). Raise it locally
# for a deeper run.
examples=${ROSTER_SCHEMATHESIS_EXAMPLES:-15}

if ! "$venv/bin/schemathesis" --version 2>/dev/null | grep -q "$version" || ! "$venv/bin/python" -c 'import psycopg' 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "schemathesis==$version" requests "psycopg[binary]==3.2.*"
fi
# The share of requests whose refusal is checked against database snapshots taken around them.
snapshot_share=${ROSTER_SCHEMATHESIS_SNAPSHOT_SHARE:-0.5}

# Operations that change the caller's own credentials or settings: they run in a separate pass
# with a fresh organization and fresh callers, so that the main pass is never locked out
# (a reset key, a new password, legacy keys switched off, ownership handed over, a logout).
credential_ops='^(reset_legacy_key|update_current_user|update_jwt_settings|refresh|rotate|blacklist|logout|assign_role|assign_role_post)$'
# (the credential pass below runs each of them by name)

work=$(mktemp -d)
pid=
cleanup() { if [ -n "$pid" ]; then kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi; }
trap cleanup EXIT

start_server() { # $1 = name; sets pid, port, url, snapshot_db and $work/$1/{credentials.env,schemathesis.toml}
  local name=$1 data=$work/$1
  mkdir -p "$data"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  export ROSTER_DATA_DIR=$data/data ROSTER_SECRET_KEY=schemathesis-test-secret-0123456789abcdef
  if [ -n "$pg" ]; then
    psql -q -h 127.0.0.1 -U postgres -d postgres -c "DROP DATABASE IF EXISTS ${db_prefix}_$name" -c "CREATE DATABASE ${db_prefix}_$name"
    export DATABASE_URL=$pg/${db_prefix}_$name
    snapshot_db=$DATABASE_URL
  else
    unset DATABASE_URL
    snapshot_db=$data/data/roster.db
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
fuzz() { # $1 = report name, $2 = key, $3 = phases, then the operation filter options
  local report=$work/report-$1 key=$2 phases=$3 rc=0
  shift 3
  mkdir -p "$(dirname "$report")"
  # Checks: every built-in one but positive_data_acceptance (see tests/schemathesis/seed.py,
  # which writes the configuration), plus refusals.py's `refused_request_changed_nothing`.
  # `--mode all` sends schema-violating input as well, so answers must be the documented 4xx,
  # never a 5xx or an undocumented status. One worker: with two, hypothesis on Python 3.11
  # sometimes fails to describe a strategy ("AST constructor recursion depth mismatch") and the
  # run errors.
  # Run from the scratch folder: schemathesis keeps a cache of past failures (.schemathesis/) in
  # its working directory and would replay them, making runs depend on earlier ones.
  (cd "$work" && SCHEMATHESIS_HOOKS=refusals PYTHONPATH="$root/tests/schemathesis" \
    ROSTER_SNAPSHOT_DB="$snapshot_db" ROSTER_SNAPSHOT_SHARE="$snapshot_share" ROSTER_SNAPSHOT_LOG="$report.refusals" \
    "$venv/bin/schemathesis" --config-file "$config" run "$url/openapi.json" \
    -H "Authorization: Token $key" \
    --mode all --generation-allow-x00 true \
    --max-examples "$examples" --seed 20240610 --workers 1 \
    --phases "$phases" --no-shrink \
    --request-timeout 30 --no-color --output-truncate true \
    --report ndjson,har --report-dir "$report" "$@") >"$report.log" 2>&1 || rc=$?
  grep -E "^ +(✅|❌|⏭|🚫)|^=+ .* in [0-9.]+s =+$" "$report.log" | cut -c1-200 || true
  if [ $rc -ne 0 ]; then
    echo "schemathesis failed ($1 on $label); full output: $report.log"
    sed -n '/^=* \(FAILURES\|ERRORS\)/,/^=* SUMMARY/p' "$report.log" | grep -v '^[[:space:]]*$' | cut -c1-300 | head -n 200 || true
    failed=1
  fi
}

share() { # $1 = pass, $2 = role, $3 = seconds taken, $4 = least share not 401/403 (percent)
  "$venv/bin/python" tests/schemathesis/share.py "$work/report-$1-$2" "$label $1 pass as $2, $3 s" "$4" || failed=1
  find "$work" -name '*.refusals' -path "$work/report-$1-$2*" -exec cat {} + | awk -v label="$label $1 pass as $2" '
    { n++; if ($NF == "CHANGED") c++ }
    END { printf "%s: %d refused requests compared with database snapshots, %d changed something\n", label, n, c }'
}

fresh_key() { # $1 = email, $2 = password: signs in and reads the caller's current legacy key
  "$venv/bin/python" tests/schemathesis/seed.py --key "$url" "$1" "$2"
}

echo "schemathesis $("$venv/bin/schemathesis" --version | awk '{print $NF}') on $label"

# Main pass: every operation except the credential ones; the Annotator first and the Owner last,
# so that what a stronger role's pass does to other members (deletions, deactivations, role
# changes) cannot lock out a pass still to come.
start_server main
config=$work/main/schemathesis.toml
# shellcheck disable=SC1091
. "$work/main/credentials.env"
for role in annotator manager administrator owner; do
  started=$(date +%s)
  case $role in
    owner) key=$OWNER_KEY least=80 ;;
    administrator) key=$ADMINISTRATOR_KEY least=75 ;;
    manager) key=$MANAGER_KEY least=0 ;;
    annotator) key=$ANNOTATOR_KEY least=0 ;;
  esac
  # SCIM's operations (operationIds scim_*) are in the document for the tools that walk it;
  # their conformance is scim2-tester's stage (its schemas are RFC 7643's, served at /Schemas,
  # not OpenAPI's). One exclusion regex: schemathesis joins separate filters with AND.
  fuzz "main-$role" "$key" examples,coverage,fuzzing,stateful --exclude-operation-id-regex "$credential_ops|^scim_"
  share main $role $(( $(date +%s) - started )) $least
done
stop_server
if grep -i panic "$work/main/serve.log"; then failed=1; fi

# Credential pass: a fresh organization, and each credential operation on its own with a fresh
# key read through a new sign-in (a key reset or a logout in one does not end the next one's).
# The Annotator first again, the Owner last (the Owner may hand the ownership to another); the
# JWT settings near the end, as they can switch legacy keys off, and the caller's own update
# last, since over a key it may change the password the next sign-in would need.
start_server cred
config=$work/cred/schemathesis.toml
for role in annotator manager administrator owner; do
  started=$(date +%s)
  password=schemathesis-password
  case $role in
    owner) email=owner@schemathesis.example.com password=schemathesis-owner-password ;;
    administrator) email=fuzz01@schemathesis.example.com ;;
    manager) email=fuzz02@schemathesis.example.com ;;
    annotator) email=fuzz00@schemathesis.example.com ;;
  esac
  for op in reset_legacy_key refresh rotate blacklist logout assign_role assign_role_post update_jwt_settings update_current_user; do
    key=$(fresh_key $email $password)
    # One operation has no links to follow: no stateful phase here.
    fuzz "cred-$role/$op" "$key" examples,coverage,fuzzing --include-operation-id "$op"
  done
  share cred $role $(( $(date +%s) - started )) 0
done
stop_server
if grep -i panic "$work/cred/serve.log"; then failed=1; fi

if [ -n "${ROSTER_SCHEMATHESIS_KEEP:-}" ]; then echo "reports kept in $work"; else rm -rf "$work"; fi
exit $failed
