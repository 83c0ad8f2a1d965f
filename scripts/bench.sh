#!/usr/bin/env bash
# roster's benchmarks: builds the release binary, installs wrk when missing, starts PostgreSQL
# when it is down, runs the load benchmark (BENCHMARKS.md) and then the criterion
# micro-benchmarks (BENCHMARKS-micro.md; ROSTER_BENCH_MICRO=0 skips them). Arguments go to
# bench/run.py, e.g.
#   scripts/bench.sh --sizes 10000 --dbs sqlite --seconds 3     (a quick smoke)
# With --peer first, it runs bench/peer.py instead (roster side by side with Label Studio from
# PyPI, both on SQLite; its "Side by side" section of BENCHMARKS.md) with the remaining arguments,
# and no micro-benchmarks:
#   scripts/bench.sh --peer [--members 10000] [--seconds 10]
# ROSTER_BIN names a roster binary to use instead; then nothing is built.
set -euo pipefail
cd "$(dirname "$0")/.."
peer=0
if [ "${1:-}" = --peer ]; then
  peer=1
  shift
fi
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }
# The peer benchmark runs on SQLite only.
if [ "$peer" = 0 ] && ! pg_isready -q -h 127.0.0.1 -p 5432; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
fi
if [ -z "${ROSTER_BIN:-}" ]; then
  cargo build --release -p roster --locked
fi
if [ "$peer" = 1 ]; then
  exec python3 bench/peer.py "$@"
fi
python3 bench/run.py "$@"
if [ "${ROSTER_BENCH_MICRO:-1}" != 0 ]; then
  scripts/bench-micro.sh
fi
