#!/usr/bin/env python3
"""What recording a member's activity costs, before and after migration 22: the statements
`users::touch_activity` runs (once a minute per person at most, on the request that finds
their last activity older), each write its own transaction as on a request, for N distinct
members, timed in the database itself (no HTTP; on PostgreSQL a procedure, so no round
trips). "Before" is the one statement roster ran until migration 22 (the user's row); "after"
the two it runs since (the user's row, and the copy on their live memberships that
memberships_by_activity indexes). Both run on the same database, one after the other, twice
(before, after, before, after): the users table is the same before and after the migration,
so the difference is the copy and its index. Writes the "Activity writes" section of
BENCHMARKS.md.

    python3 bench/activity_writes.py --sqlite DIR/roster.db --pg postgres://postgres@127.0.0.1:5432/DB

Each database must hold an organization seeded with `roster dev seed --org 1 --members 1000000
--activity-days 365` and be migrated (any `roster` command migrates it). It changes the
members' last activity: run it on a benchmark's database, not a real one.
"""

import argparse
import datetime
import importlib.util
import os
import sqlite3
import subprocess
import time

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("bench_run", os.path.join(HERE, "run.py"))
run = importlib.util.module_from_spec(spec)
spec.loader.exec_module(run)

MARK = run.WRITES_MARK
MINUTE = 60_000_000


def user_ids(n, members, start):
    """n distinct user ids among the seeded members (ids 2 to members + 1), spread out; each
    round starts elsewhere, so no write finds the row written a moment ago."""
    return [2 + ((start + i) * 7919) % members for i in range(1, n + 1)]


def sqlite_run(path, ids, two):
    # As roster's writer connection: WAL, synchronous NORMAL, a 128 MiB page cache.
    c = sqlite3.connect(path, isolation_level=None)
    c.execute("PRAGMA journal_mode = WAL")
    c.execute("PRAGMA synchronous = NORMAL")
    c.execute("PRAGMA cache_size = -131072")
    started = time.perf_counter()
    for uid in ids:
        now = int(time.time() * 1e6)
        c.execute("BEGIN IMMEDIATE")
        cur = c.execute("UPDATE users SET last_activity = ? WHERE id = ? "
                        "AND (last_activity IS NULL OR last_activity < ?)", (now, uid, now - MINUTE))
        if two and cur.rowcount > 0:
            c.execute("UPDATE memberships SET user_last_activity = ? "
                      "WHERE user_id = ? AND deleted_at IS NULL", (now, uid))
        c.execute("COMMIT")
    elapsed = time.perf_counter() - started
    c.close()
    return elapsed


PROCEDURE = f"""
CREATE OR REPLACE PROCEDURE roster_bench_touch(n int, members int, start int, two boolean)
LANGUAGE plpgsql AS $$
DECLARE uid bigint; t bigint; done int;
BEGIN
  FOR i IN 1..n LOOP
    uid := 2 + ((start + i)::bigint * 7919) % members;
    t := (extract(epoch FROM clock_timestamp()) * 1000000)::bigint;
    UPDATE users SET last_activity = t
      WHERE id = uid AND (last_activity IS NULL OR last_activity < t - {MINUTE});
    GET DIAGNOSTICS done = ROW_COUNT;
    IF two AND done > 0 THEN
      UPDATE memberships SET user_last_activity = t WHERE user_id = uid AND deleted_at IS NULL;
    END IF;
    COMMIT;
  END LOOP;
END $$;
"""


def pg_run(url, writes, members, start, two):
    """The same loop as a procedure, one transaction per write, the ids spread as in user_ids."""
    subprocess.run(["psql", "-q", url, "-c", PROCEDURE], check=True)
    started = time.perf_counter()
    subprocess.run(["psql", "-q", url, "-c",
                    f"CALL roster_bench_touch({writes}, {members}, {start}, {'true' if two else 'false'})"],
                   check=True)
    elapsed = time.perf_counter() - started
    subprocess.run(["psql", "-q", url, "-c", "DROP PROCEDURE roster_bench_touch"], check=True)
    return elapsed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sqlite", help="a seeded roster.db")
    ap.add_argument("--pg", help="a seeded PostgreSQL database's URL")
    ap.add_argument("--writes", type=int, default=20000)
    ap.add_argument("--members", type=int, default=1000000)
    ap.add_argument("--out", default=os.path.join(run.ROOT, "BENCHMARKS.md"))
    args = ap.parse_args()
    rows = []
    for db, target in [("sqlite", args.sqlite), ("postgres", args.pg)]:
        if not target:
            continue
        times = {"before": [], "after": []}
        for round_, mode in enumerate(["before", "after", "before", "after"]):
            start = round_ * args.writes
            two = mode == "after"
            if db == "sqlite":
                secs = sqlite_run(target, user_ids(args.writes, args.members, start), two)
            else:
                secs = pg_run(target, args.writes, args.members, start, two)
            us = secs / args.writes * 1e6
            print(f"{db} {mode}: {args.writes} writes in {secs:.2f} s, {us:.0f} us each", flush=True)
            times[mode].append(us)
        rows.append((db, times))
    lines = [
        MARK,
        "## Activity writes",
        "",
        f"Written by `python3 bench/activity_writes.py` on {datetime.date.today()}: {args.writes:,} activity",
        f"writes to distinct members of a {args.members:,}-member organization, one transaction each, timed",
        "in the database. Before: the user's row (roster until migration 22). After: the user's row and",
        "the copy on their live memberships, which `memberships_by_activity` indexes. Each ran twice.",
        "A person's activity is written at most once a minute, on the request that finds it older.",
        "",
        "| database | before, per write | after, per write | after / before |",
        "|---|---|---|---|",
    ]
    for db, t in rows:
        b, a = sorted(t["before"]), sorted(t["after"])
        lines.append(f"| {db} | {b[0]:.0f} and {b[1]:.0f} us | {a[0]:.0f} and {a[1]:.0f} us | "
                     f"{(sum(a) / len(a)) / (sum(b) / len(b)):.2f}x |")
    run.write_section(args.out, MARK, lines + [""])
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
