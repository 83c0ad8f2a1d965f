#!/usr/bin/env python3
"""What recording a member's activity costs: the statements `users::touch_activity` runs
(once a minute per person at most, on the request that finds their last activity older), each
write its own transaction as on a request, for N distinct members of a seeded database, timed
in the database itself (no HTTP, no round trips on PostgreSQL). `--statements before` runs the
one statement roster ran until migration 22 (the user's row), `after` the two it runs since
(the user's row and the copy on their live memberships, which memberships_by_activity
indexes), so the cost of the index shows on the same data.

    python3 bench/activity_writes.py --sqlite /path/to/roster.db --statements after
    python3 bench/activity_writes.py --pg postgres://postgres@127.0.0.1:5432/db --statements before

It changes the members' last activity: run it on a benchmark's database, not a real one.
"""

import argparse
import sqlite3
import subprocess
import time

MINUTE = 60_000_000


def user_ids(n, members):
    """n distinct user ids among the seeded members (ids 2 to members + 1), spread out."""
    return [2 + (i * 7919) % members for i in range(1, n + 1)]


def sqlite_run(path, ids, two):
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
    return time.perf_counter() - started


def pg_run(url, writes, members, two):
    """The same loop as a procedure, one transaction per write, the ids spread as in user_ids."""
    proc = f"""
CREATE OR REPLACE PROCEDURE roster_bench_touch(n int, members int, two boolean)
LANGUAGE plpgsql AS $$
DECLARE uid bigint; t bigint; done int;
BEGIN
  FOR i IN 1..n LOOP
    uid := 2 + (i::bigint * 7919) % members;
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
    subprocess.run(["psql", "-q", url, "-c", proc], check=True)
    started = time.perf_counter()
    subprocess.run(["psql", "-q", url, "-c",
                    f"CALL roster_bench_touch({writes}, {members}, {'true' if two else 'false'})"],
                   check=True)
    elapsed = time.perf_counter() - started
    subprocess.run(["psql", "-q", url, "-c", "DROP PROCEDURE roster_bench_touch"], check=True)
    return elapsed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sqlite")
    ap.add_argument("--pg")
    ap.add_argument("--statements", choices=["before", "after"], required=True)
    ap.add_argument("--writes", type=int, default=20000)
    ap.add_argument("--members", type=int, default=1000000)
    args = ap.parse_args()
    two = args.statements == "after"
    if args.sqlite:
        secs = sqlite_run(args.sqlite, user_ids(args.writes, args.members), two)
    else:
        secs = pg_run(args.pg, args.writes, args.members, two)
    print(f"{args.statements}: {args.writes} activity writes in {secs:.2f} s, "
          f"{secs / args.writes * 1e6:.0f} us each ({args.writes / secs:.0f}/s)")


if __name__ == "__main__":
    main()
