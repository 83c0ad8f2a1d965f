#!/usr/bin/env bash
# roster's criterion micro-benchmarks (bench/micro): the domain rules, and the store's hot reads
# on SQLite, plus PostgreSQL when one answers at 127.0.0.1:5432 (database roster_bench, made if
# missing). Writes BENCHMARKS-micro.md. Arguments go to criterion, e.g.
#   scripts/bench-micro.sh domain     (only the domain group; the table then holds only those)
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${ROSTER_BENCH_PG_URL:-}" ] && command -v pg_isready >/dev/null \
  && pg_isready -q -h 127.0.0.1 -p 5432; then
  if ! psql -h 127.0.0.1 -U postgres -d postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname = 'roster_bench'" | grep -q 1; then
    psql -q -h 127.0.0.1 -U postgres -d postgres -c 'CREATE DATABASE roster_bench'
  fi
  export ROSTER_BENCH_PG_URL=postgres://postgres@127.0.0.1:5432/roster_bench
fi

cmd=(cargo bench -p roster-bench --locked)
if [ $# -gt 0 ]; then cmd+=(-- "$@"); fi
# Build first, so the wall time below is the run alone.
cargo bench -p roster-bench --locked --no-run

log=$(mktemp)
trap 'rm -f "$log"' EXIT
started=$(date +%s)
load_before=$(cat /proc/loadavg)
"${cmd[@]}" 2>&1 | tee "$log"
elapsed=$(($(date +%s) - started))

shown="${cmd[*]}"
if [ -n "${ROSTER_BENCH_PG_URL:-}" ]; then shown="ROSTER_BENCH_PG_URL=$ROSTER_BENCH_PG_URL $shown"; fi
python3 bench/micro/report.py --since "$started" --seconds "$elapsed" --log "$log" --load-before "$load_before" \
  --command "$shown  (via scripts/bench-micro.sh)" >BENCHMARKS-micro.md
echo "wrote BENCHMARKS-micro.md (${elapsed} s)"
