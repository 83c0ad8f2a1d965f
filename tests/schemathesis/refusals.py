"""schemathesis hooks: a refused request must change nothing.

Before a sample of the generated requests this module takes a snapshot of every row of the
database roster serves from; when the answer is a refusal (4xx) it takes another and compares.
Any difference outside what a refused request may legitimately write fails the case, through
the check `refused_request_changed_nothing`, with the tables and rows that changed.

Loaded by scripts/schemathesis.sh through SCHEMATHESIS_HOOKS=refusals. Settings (environment):
  ROSTER_SNAPSHOT_DB     the SQLite file or the PostgreSQL URL roster serves from
  ROSTER_SNAPSHOT_SHARE  the share of requests snapshotted before they are sent (0 to 1)
  ROSTER_SNAPSHOT_LOG    a file that gets one line per refused request compared:
                         "<status> <operation> <same|CHANGED>"
"""

import os
import random
import sqlite3

import schemathesis

# What a refused request may write, and nothing else. Each entry says why.
LEGITIMATE_WRITES = {
    # Failed sign-ins, sign-ups and token refreshes are counted per address and account:
    # refusing them is what the counters are for.
    "throttle": None,
    # The request log (LSE's activity log) records every request, refused ones included.
    "activity_logs": None,
    # "Last seen" times move with any authenticated request, whatever its answer.
    "users": {"last_activity"},
    "memberships": {"user_last_activity"},
    "sessions": {"last_active_at"},
}
# Derived tables: SQLite's full-text index of users (rebuilt from `users`, which is compared).
DERIVED_PREFIXES = ("user_search",)

_DB = os.environ.get("ROSTER_SNAPSHOT_DB", "")
_SHARE = float(os.environ.get("ROSTER_SNAPSHOT_SHARE", "1"))
_LOG = os.environ.get("ROSTER_SNAPSHOT_LOG")
# Seeded, so that a run samples the same requests each time it is repeated.
_sample = random.Random(20240610)
_before = {}  # id(case) -> snapshot taken before it was sent
_changed = {}  # id(case) -> description of what its refusal changed


class _Database:
    def __init__(self, target):
        self.postgres = target.startswith("postgres")
        if self.postgres:
            import psycopg

            self.conn = psycopg.connect(target, autocommit=True)
        else:
            # schemathesis calls the hooks from a thread per phase, one call at a time.
            self.conn = sqlite3.connect(
                f"file:{target}?mode=ro", uri=True, isolation_level=None, check_same_thread=False
            )

        # roster's tables do not change while it serves: read their names once.
        self.tables = self._tables()

    def _tables(self):
        if self.postgres:
            sql = "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
        else:
            sql = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        names = [row[0] for row in self.conn.execute(sql).fetchall()]
        return sorted(n for n in names if n != "roster_migrations" and not n.startswith(DERIVED_PREFIXES))

    def rows(self, table):
        cur = self.conn.execute(f'SELECT * FROM "{table}"')
        columns = [d[0] for d in cur.description]
        skip = LEGITIMATE_WRITES.get(table, set())
        keep = [i for i, c in enumerate(columns) if c not in skip]
        return sorted(repr(tuple(row[i] for i in keep)) for row in cur.fetchall())

    def snapshot(self):
        # One read transaction, so that the snapshot is of one moment.
        if self.postgres:
            with self.conn.transaction():
                self.conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                return self._read()
        self.conn.execute("BEGIN")
        try:
            return self._read()
        finally:
            self.conn.execute("COMMIT")

    def _read(self):
        return {t: self.rows(t) for t in self.tables if LEGITIMATE_WRITES.get(t, set()) is not None}


_db = None


def _database():
    global _db
    if _db is None:
        _db = _Database(_DB)
    return _db


def _difference(before, after):
    lines = []
    for table in sorted(set(before) | set(after)):
        old, new = set(before.get(table, [])), set(after.get(table, []))
        if old != new:
            gone = sorted(old - new)[:3]
            added = sorted(new - old)[:3]
            lines.append(f"{table}: {len(old - new)} rows gone {gone}, {len(new - old)} rows new {added}")
    return "\n".join(lines)


@schemathesis.hook("before_call")
def snapshot_before(context, case, kwargs):
    if _DB and _sample.random() < _SHARE:
        _before[id(case)] = _database().snapshot()


@schemathesis.hook("after_call")
def compare_after_refusal(context, case, response):
    before = _before.pop(id(case), None)
    if before is None or not 400 <= response.status_code < 500:
        return
    diff = _difference(before, _database().snapshot())
    if diff:
        _changed[id(case)] = diff
    if _LOG:
        with open(_LOG, "a") as f:
            f.write(f"{response.status_code} {case.operation.label} {'CHANGED' if diff else 'same'}\n")


@schemathesis.check
def refused_request_changed_nothing(ctx, response, case):
    """A request answered 4xx left every row as it was (LEGITIMATE_WRITES aside)."""
    diff = _changed.pop(id(case), None)
    if diff:
        raise AssertionError(f"Answered {response.status_code}, yet the database changed:\n{diff}")
