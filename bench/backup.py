#!/usr/bin/env python3
"""Backup and restore at scale: `roster backup` of a seeded database and `roster restore` of
that backup into an empty one, through the release binary, timed, with the backup's size and a
count of the main tables on both sides. Writes the "Backup and restore" section of
BENCHMARKS.md.

    ROSTER_BENCH_KEEP=1 python3 bench/filters.py --sizes 1000000   # seeds and keeps both
    python3 bench/backup.py --sqlite-dir /tmp/roster-filters-XXXX --pg postgres://postgres@127.0.0.1:5432/roster_bench

The databases must have been seeded with run.py's secret (filters.py and run.py do).
"""

import argparse
import datetime
import importlib.util
import os
import shutil
import sqlite3
import subprocess
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("bench_run", os.path.join(HERE, "run.py"))
run = importlib.util.module_from_spec(spec)
spec.loader.exec_module(run)

MARK = run.BACKUP_MARK
TABLES = ["users", "memberships", "member_tag_assignments", "audit_events"]


def roster(env, *args):
    started = time.perf_counter()
    subprocess.run([run.BIN, *args], env=dict(os.environ, ROSTER_SECRET_KEY=run.SECRET, ROSTER_LOG="warn", **env),
                   check=True, capture_output=True)
    return time.perf_counter() - started


def sqlite_counts(path):
    c = sqlite3.connect(path)
    return [c.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in TABLES]


def pg_counts(url):
    sql = "SELECT " + ", ".join(f"(SELECT COUNT(*) FROM {t})" for t in TABLES)
    out = subprocess.run(["psql", "-At", url, "-c", sql], check=True, capture_output=True, text=True).stdout
    return [int(x) for x in out.strip().split("|")]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sqlite-dir", help="a seeded data folder (holding roster.db)")
    ap.add_argument("--pg", help="a seeded PostgreSQL database's URL")
    ap.add_argument("--out", default=os.path.join(run.ROOT, "BENCHMARKS.md"))
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="roster-backup-")
    rows = []
    try:
        if args.sqlite_dir:
            file = os.path.join(work, "sqlite.backup")
            took = roster({"ROSTER_DATA_DIR": args.sqlite_dir}, "backup", file)
            into = os.path.join(work, "restored")
            os.mkdir(into, 0o700)
            back = roster({"ROSTER_DATA_DIR": into}, "restore", file)
            same = sqlite_counts(os.path.join(args.sqlite_dir, "roster.db")) == sqlite_counts(os.path.join(into, "roster.db"))
            rows.append(("SQLite", sqlite_counts(os.path.join(into, "roster.db"))[1], os.path.getsize(file), took, back, same))
        if args.pg:
            file = os.path.join(work, "pg.backup")
            took = roster({"DATABASE_URL": args.pg}, "backup", file)
            target = "roster_bench_restore"
            run.psql(f"DROP DATABASE IF EXISTS {target}")
            run.psql(f"CREATE DATABASE {target}")
            url = args.pg.rsplit("/", 1)[0] + "/" + target
            back = roster({"DATABASE_URL": url}, "restore", file)
            same = pg_counts(args.pg) == pg_counts(url)
            rows.append(("PostgreSQL", pg_counts(url)[1], os.path.getsize(file), took, back, same))
            run.psql(f"DROP DATABASE IF EXISTS {target}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    lines = [
        MARK,
        "## Backup and restore",
        "",
        f"Written by `python3 bench/backup.py` on {datetime.date.today()}: `roster backup` of a seeded",
        "organization (the filters benchmark's: tags and activity) and `roster restore` of that",
        "backup into an empty database, release build, nothing else running. The restore's time",
        "includes migrating and refreshing the planner's statistics; the counts of users,",
        "memberships, tag assignments and audit events are compared on both sides.",
        "",
        "| database | members | backup size | backup | restore | counts equal |",
        "|---|---|---|---|---|---|",
    ]
    for db, members, size, took, back, same in rows:
        lines.append(f"| {db} | {members:,} | {size / 1e6:.0f} MB | {took:.1f} s | {back:.1f} s | {'yes' if same else 'NO'} |")
    run.write_section(args.out, MARK, lines + [""])
    print("\n".join(lines))


if __name__ == "__main__":
    main()
