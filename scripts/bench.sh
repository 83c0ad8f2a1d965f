#!/usr/bin/env bash
# roster's benchmarks: builds the release binary, installs wrk when missing, starts PostgreSQL
# when it is down, runs the load benchmark (BENCHMARKS.md) and then the criterion
# micro-benchmarks (BENCHMARKS-micro.md; ROSTER_BENCH_MICRO=0 skips them). Arguments go to
# bench/run.py, e.g.
#   scripts/bench.sh --sizes 10000 --dbs sqlite --seconds 3     (a quick smoke)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
fi
cargo build --release -p roster --locked
python3 bench/run.py "$@"
if [ "${ROSTER_BENCH_MICRO:-1}" != 0 ]; then
  scripts/bench-micro.sh
fi
