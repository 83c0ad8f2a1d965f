"""roster's load benchmark: seeds organizations of the given sizes through `roster dev seed`
(the import path), starts a release `roster serve` on each database, measures with wrk and
with sequential walks, and writes BENCHMARKS.md.

Usage: python3 bench/run.py [--sizes 10000,1000000] [--dbs sqlite,postgres] [--seconds 10] [--out FILE]
ROSTER_BIN picks another binary (CI's smoke run uses the debug build), ROSTER_BENCH_PG_DB the
PostgreSQL database (roster_bench).
"""

import argparse
import datetime
import json
import os
import platform
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("ROSTER_BIN", os.path.join(ROOT, "target", "release", "roster"))
SECRET = "benchmark-secret-0123456789abcdef0123456789"
PASSWORD = "benchmark-owner-password"
# The PostgreSQL database each run creates and drops (ROSTER_BENCH_PG_DB picks another name,
# so two benchmarks on one server do not share it).
PG_DB = os.environ.get("ROSTER_BENCH_PG_DB", "roster_bench")
PG = f"postgres://postgres@127.0.0.1:5432/{PG_DB}"
# Where the sections of the report that other scripts write begin.
ACCESS_MARK = "<!-- access benchmark: written by bench/access.py -->"
FILTERS_MARK = "<!-- filters benchmark: written by bench/filters.py -->"
WRITES_MARK = "<!-- activity writes benchmark: written by bench/activity_writes.py -->"
BACKUP_MARK = "<!-- backup benchmark: written by bench/backup.py -->"
SOAK_MARK = "<!-- soak: written by bench/soak.py -->"
PEER_MARK = "<!-- peer benchmark: written by bench/peer.py -->"
# The reasons for the targets this run missed: written by hand after reading the run and the
# profiles, and kept when the tables above it are written again.
MISSES_MARK = "<!-- misses: written by hand from the run above and bench/profiles -->"
SECTION_MARKS = [MISSES_MARK, ACCESS_MARK, FILTERS_MARK, WRITES_MARK, BACKUP_MARK, SOAK_MARK, PEER_MARK]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def env_for(data, db):
    env = dict(os.environ, ROSTER_DATA_DIR=data, ROSTER_SECRET_KEY=SECRET, ROSTER_LOG="warn",
               ROSTER_METRICS_TOKEN=SECRET)
    env.pop("DATABASE_URL", None)
    if db == "postgres":
        env["DATABASE_URL"] = PG
    return env


def psql(sql):
    subprocess.run(["psql", "-q", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-c", sql], check=True)


def seeded(db, prefix, seed_args=()):
    """A fresh data folder (and, on PostgreSQL, a fresh database) holding the Bench organization
    (id 1) with `roster dev seed`'s members: the folder, the environment that serves it, and how
    long the seeding took in seconds. `seed_args` go to `roster dev seed` (--members N, ...)."""
    data = tempfile.mkdtemp(prefix=prefix)
    env = env_for(data, db)
    if db == "postgres":
        psql(f"DROP DATABASE IF EXISTS {PG_DB}")
        psql(f"CREATE DATABASE {PG_DB}")
    subprocess.run([BIN, "init", "--org", "Bench", "--owner-email", "owner@bench.example.com"],
                   env=dict(env, ROSTER_OWNER_PASSWORD=PASSWORD), check=True, capture_output=True)
    started = time.perf_counter()
    subprocess.run([BIN, "dev", "seed", "--org", "1", "--batch-size", "5000", *seed_args],
                   env=env, check=True, capture_output=True)
    return data, env, time.perf_counter() - started


def discard(db, data):
    """Removes what `seeded` made."""
    shutil.rmtree(data, ignore_errors=True)
    if db == "postgres":
        psql(f"DROP DATABASE IF EXISTS {PG_DB}")


def owner_session(base):
    """The Bench Owner signs in: (seconds the sign-in took, session cookie, CSRF token)."""
    body = json.dumps({"email": "owner@bench.example.com", "password": PASSWORD}).encode()
    req = urllib.request.Request(f"{base}/user/login", data=body, headers={"Content-Type": "application/json"})
    started = time.perf_counter()
    with urllib.request.urlopen(req, timeout=60) as r:
        cookies = r.headers.get_all("Set-Cookie")
        csrf = json.load(r)["csrf_token"]
    session = [c.split(";")[0] for c in cookies if c.startswith("roster_session=")][0]
    return time.perf_counter() - started, session, csrf


def owner_key(base):
    """The Bench Owner's legacy key, read through a sign-in."""
    _, session, _ = owner_session(base)
    req = urllib.request.Request(f"{base}/api/current-user/token", headers={"Cookie": session})
    with urllib.request.urlopen(req) as r:
        return json.load(r)["token"]


def request(url, key=None, method="GET", body=None):
    req = urllib.request.Request(url, method=method, data=body)
    if key:
        req.add_header("Authorization", f"Token {key}")
    if body is not None:
        req.add_header("Content-Type", "application/json")
    started = time.perf_counter()
    with urllib.request.urlopen(req, timeout=120) as r:
        data = r.read()
    return time.perf_counter() - started, json.loads(data) if data else None


def serve(env):
    """Starts `roster serve` on a free port and waits (10 s at most) until it answers its health
    check: the process and its base URL."""
    return start(["serve"], env, "/api/health")


def start(command, env, ready_path):
    """Starts `roster COMMAND --bind` on a free port and waits (10 s at most) until `ready_path`
    answers: the process and its base URL."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([BIN, *command, "--bind", f"127.0.0.1:{port}"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            request(f"{base}{ready_path}")
            break
        except OSError:
            time.sleep(0.1)
    return server, base


def sqlite_heap_mib(base):
    """SQLite's heap (now, peak since start) in MiB from roster's metrics; None on PostgreSQL."""
    req = urllib.request.Request(f"{base}/metrics", headers={"Authorization": f"Bearer {SECRET}"})
    with urllib.request.urlopen(req, timeout=60) as r:
        text = r.read().decode()
    found = {}
    for line in text.splitlines():
        if line.startswith("roster_sqlite_heap_bytes{"):
            at = line.split('at="')[1].split('"')[0]
            found[at] = float(line.rsplit(" ", 1)[1]) / 2**20
    return (found["now"], found["peak"]) if found else None


def rss_kib(pid, field="VmRSS"):
    """Resident memory now (VmRSS) or its peak so far (VmHWM), in KiB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


WRK_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0}


def wrk(url, key, seconds, script=None):
    cmd = ["wrk", "-t2", "-c16", f"-d{seconds}s", "--latency", "-H", f"Authorization: Token {key}"]
    if script:
        cmd += ["-s", script]
    out = subprocess.run(cmd + [url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    lat = {}
    for pct in ("50", "99"):
        m = re.search(rf"\s{pct}%\s+([\d.]+)(us|ms|s)", out)
        lat[pct] = float(m.group(1)) * WRK_UNITS[m.group(2)]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non2xx:
        raise SystemExit(f"wrk saw {non2xx.group(1)} error responses from {url}")
    timeouts = re.search(r"timeout (\d+)", out)
    return {"rps": rps, "p50": lat["50"], "p99": lat["99"], "timeouts": int(timeouts.group(1)) if timeouts else 0}


def pcts(samples):
    ms = sorted(s * 1000 for s in samples)
    return {"p50": statistics.median(ms), "p99": ms[min(len(ms) - 1, int(len(ms) * 0.99))], "n": len(ms)}


def raw_body(url, key=None):
    """The bytes of one answer, as roster sent them."""
    req = urllib.request.Request(url)
    if key:
        req.add_header("Authorization", f"Token {key}")
    with urllib.request.urlopen(req, timeout=120) as r:
        return r.read()


def ceiling_rates(answers, folder, key, seconds):
    """The ceiling: `roster dev ceiling` (no database, roster's own layers and connection
    handling) returning each of roster's answers byte for byte, measured by the same wrk."""
    args = []
    for name, body in answers.items():
        path = os.path.join(folder, f"ceiling-{name}.json")
        with open(path, "wb") as f:
            f.write(body)
        args += ["--answer", f"/{name}={path}"]
    server, base = start(["dev", "ceiling", *args], dict(os.environ, ROSTER_LOG="warn"), "/health")
    try:
        return {name: wrk(f"{base}/{name}", key, seconds) for name in answers}
    finally:
        server.terminate()
        server.wait()


def lua_paths(folder, name, paths):
    """A wrk script that asks for `paths` in turn, over and over."""
    script = os.path.join(folder, f"{name}.lua")
    with open(script, "w") as f:
        f.write("local paths = {" + ", ".join(json.dumps(p) for p in paths) + "}\n"
                "local n = 0\nrequest = function()\n  n = n % #paths + 1\n"
                "  return wrk.format(nil, paths[n])\nend\n")
    return script


def selective_terms(size, n=100):
    """`n` different selective searches: "first" and a number one digit shorter than the
    largest member number, which matches that member and the ten whose numbers extend it
    (11 members at every size)."""
    digits = len(str(size - 1)) - 1
    low, high = 10 ** (digits - 1), 10 ** digits - 1
    return [f"first{k}" for k in random.sample(range(low, high + 1), n)]


def broad_terms():
    """100 different broad searches, each matching from about a ninth to all of the members."""
    terms = ["example", "seed", "member"]
    terms += [f"first{d}" for d in range(1, 10)] + [f"last{d}" for d in range(1, 10)]
    terms += [f"member0{d}" for d in range(0, 10)] + [f"member00{d}" for d in range(0, 10)]
    terms += [f"first{k}" for k in range(10, 40)] + [f"last{k}" for k in range(10, 39)]
    return terms[:100]


def sequential(urls, key):
    """Each URL asked once, one at a time: the latencies (p50, p99) and the answers."""
    times, bodies = [], []
    for url in urls:
        t, body = request(url, key)
        times.append(t)
        bodies.append(body)
    return pcts(times), bodies


class Writer:
    """Changes members at `per_second` writes a second until stopped: a role change and a
    rename in turn, spread over the first 1,000 members (user ids from 2)."""

    def __init__(self, base, key, per_second=10):
        import threading
        self.base, self.key, self.every = base, key, 1.0 / per_second
        self.done, self.count, self.errors = threading.Event(), 0, 0
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        n = 0
        while not self.done.is_set():
            started = time.perf_counter()
            n += 1
            user = 2 + n % 1000
            try:
                if n % 2:
                    body = json.dumps({"user_id": user, "role": "AN" if n % 4 == 1 else "RE"}).encode()
                    request(f"{self.base}/api/organizations/1/memberships", self.key, "PATCH", body)
                else:
                    body = json.dumps({"first_name": f"Renamed{n}"}).encode()
                    request(f"{self.base}/api/users/{user}", self.key, "PATCH", body)
                self.count += 1
            except OSError:
                self.errors += 1
            self.done.wait(max(0.0, self.every - (time.perf_counter() - started)))

    def stop(self):
        self.done.set()
        self.thread.join()


def run_one(db, size, seconds):
    data, env, import_secs = seeded(db, "roster-bench-", ["--members", str(size)])
    server, base = serve(env)
    try:
        key = owner_key(base)
        result = {"db": db, "size": size, "import_s": import_secs, "import_rps": size / import_secs}
        result["rss_idle_mib"] = rss_kib(server.pid) / 1024
        members = f"{base}/api/organizations/1/memberships"
        result["health"] = wrk(f"{base}/api/health", key, seconds)
        result["whoami"] = wrk(f"{base}/api/current-user/whoami", key, seconds)
        result["first_page"] = wrk(f"{members}?page_size=100", key, seconds)
        result["role_filter"] = wrk(f"{members}?page_size=100&role=RE", key, seconds)
        # An in-order walk under load: the first 2,000 pages (all of them at 10,000), in turn.
        pages = min(size // 100, 2000)
        walk = lua_paths(data, "walk", [f"/api/organizations/1/memberships?page_size=100&page={p}"
                                        for p in range(1, pages + 1)])
        result["walk_load"] = wrk(members, key, seconds, script=walk)
        # The ceiling for the same bodies: roster's own answers, returned with no database.
        answers = {
            "health": raw_body(f"{base}/api/health"),
            "whoami": raw_body(f"{base}/api/current-user/whoami", key),
            "first_page": raw_body(f"{members}?page_size=100", key),
            "role_filter": raw_body(f"{members}?page_size=100&role=RE", key),
        }
        result["body_bytes"] = {name: len(body) for name, body in answers.items()}
        result["ceiling"] = ceiling_rates(answers, data, key, seconds)
        # "First12345" matches First12345 and First123450..First123459: 11 members at 1,000,000.
        result["search"] = wrk(f"{members}?page_size=100&search=first{str(size // 81)[:5]}", key, seconds)
        terms = selective_terms(size)
        result["search_terms"], found = sequential(
            [f"{members}?page_size=100&search={t}" for t in terms], key)
        result["search_terms"]["most_matches"] = max(b["count"] for b in found)
        # Every member's email holds "example": the index cannot narrow it, and the count is exact.
        result["broad_search"] = wrk(f"{members}?page_size=100&search=example", key, seconds)
        # 100 broad terms in random order while members are changed and renamed: the first
        # pass sees each term for the first time (a cache miss, were there a cache).
        broad = broad_terms()
        random.shuffle(broad)
        writer = Writer(base, key)
        try:
            result["broad_first"], _ = sequential(
                [f"{members}?page_size=100&search={t}" for t in broad], key)
            script = lua_paths(data, "broad", [f"/api/organizations/1/memberships?page_size=100&search={t}"
                                               for t in broad])
            result["broad_terms"] = wrk(members, key, seconds, script=script)
        finally:
            writer.stop()
        result["broad_writes"] = {"done": writer.count, "failed": writer.errors}
        patch = os.path.join(data, "patch.lua")
        with open(patch, "w") as f:
            f.write('wrk.method = "PATCH"\nwrk.headers["Content-Type"] = "application/json"\n'
                    'local n = 0\nrequest = function()\n  n = n + 1\n'
                    '  local role = (n % 2 == 0) and "AN" or "RE"\n'
                    '  return wrk.format(nil, nil, nil, \'{"user_id": 2, "role": "\' .. role .. \'"}\')\nend\n')
        load = subprocess.Popen(["wrk", "-t2", "-c16", f"-d{seconds}s", "-H", f"Authorization: Token {key}",
                                 f"{base}/api/health"], stdout=subprocess.DEVNULL)
        time.sleep(seconds / 2)
        result["rss_load_mib"] = rss_kib(server.pid) / 1024
        load.wait()
        result["patch_role"] = wrk(members, key, seconds, script=patch)
        # An in-order walk at page_size=100 (the first 2,000 pages), each page timed.
        walk = []
        for page in range(1, pages + 1):
            t, _ = request(f"{members}?page_size=100&page={page}", key)
            walk.append(t)
        result["walk_100"] = pcts(walk)
        # Random deep pages, one at a time, in three orderings.
        for name, query in DEEP_PAGES.items():
            listing = f"{members}?page_size=100" + (f"&{query}" if query else "")
            _, first = request(listing, key)
            last = max(1, -(-first["count"] // 100))
            result[f"deep_{name}"], _ = sequential(
                [f"{listing}&page={random.randint(1, last)}" for _ in range(100)], key)
        started = time.perf_counter()
        page, seen = 1, 0
        while True:
            _, body = request(f"{members}?page_size=1000&page={page}", key)
            if not body["results"]:
                break
            seen += len(body["results"])
            page += 1
        result["sdk_walk_s"] = time.perf_counter() - started
        result["sdk_walk_members"] = seen
        result["org_page"] = org_page_times(base, size)
        result["rss_peak_mib"] = rss_kib(server.pid, "VmHWM") / 1024
        result["sqlite_heap_mib"] = sqlite_heap_mib(base)
        return result
    finally:
        server.terminate()
        server.wait()
        discard(db, data)


def org_page_times(base, size, times=20):
    """The Organization page (HTML, 50 members a page) as its Owner uses it, each view asked
    `times` times one at a time over loopback: opened, filtered by role, searched (a selective
    and a broad term), the next page after the first, and a cold jump to a deep page."""
    _, session, _ = owner_session(base)

    def page(query):
        req = urllib.request.Request(f"{base}/organization{query}", headers={"Cookie": session})
        started = time.perf_counter()
        with urllib.request.urlopen(req, timeout=120) as r:
            r.read()
        return time.perf_counter() - started

    deep = max(1, size // 50 // 2)
    views = {
        "open": "",
        "role filter (Not Activated)": "?role=NO",
        "selective search": f"?search=first{str(size // 81)[:5]}",
        "broad search": "?search=example",
    }
    out = {name: pcts([page(q) for _ in range(times)]) for name, q in views.items()}
    next_page = []
    for _ in range(times):
        page("?page=1")
        next_page.append(page("?page=2"))
    out["next page"] = pcts(next_page)
    out[f"deep page ({deep:,})"] = pcts([page(f"?page={deep - i}") for i in range(times)])
    return out


# The orderings of the random deep pages: (name, query).
DEEP_PAGES = {"default": "", "email": "ordering=-user__email", "annotators": "role=AN"}


def fmt_seq(m):
    return f"p50 {m['p50']:.2f} ms, p99 {m['p99']:.2f} ms"


def of_ceiling(r, body, measure=None):
    """`measure`'s rate as a share of the ceiling server's rate for the same body."""
    share = 100 * r[measure or body]["rps"] / r["ceiling"][body]["rps"]
    return f"{share:.1f}% of the ceiling for its {r['body_bytes'][body]:,} bytes"


def fmt(m):
    if m.get("timeouts"):
        return f"{m['rps']:.1f} req/s; {m['timeouts']} requests exceeded wrk's 2 s timeout"
    return f"{m['rps']:.0f} req/s, p50 {m['p50']:.2f} ms, p99 {m['p99']:.2f} ms"


def write_report(results, seconds, out):
    cpu = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    lines = [
        "# roster benchmarks",
        "",
        f"Written by `python3 bench/run.py` (through `scripts/bench.sh`) on {datetime.date.today()}.",
        f"Machine: {os.cpu_count()} cores ({cpu}), {platform.system()} {platform.release()}.",
        f"Load: wrk, 2 threads, 16 connections, {seconds} s per endpoint, from the same machine.",
        "Members are generated by `roster dev seed` (the import path: audit events, counters and",
        "folded names included): 80% Annotators, 10% Reviewers, 5% Managers, 3% Not Activated, 2% Deactivated.",
        "",
    ]
    for r in results:
        lines += [
            f"## {r['db']}, {r['size']:,} members",
            "",
            "| measure | result |",
            "|---|---|",
            f"| import through `roster dev seed` | {r['import_s']:.1f} s ({r['import_rps']:.0f} members/s) |",
            f"| `GET /api/health` (one database round trip) | {fmt(r['health'])} ({of_ceiling(r, 'health')}) |",
            f"| `GET /api/current-user/whoami` | {fmt(r['whoami'])} ({100 * r['whoami']['rps'] / r['health']['rps']:.0f}% of health) |",
            f"| members, first page (`page_size=100`) | {fmt(r['first_page'])} ({of_ceiling(r, 'first_page')}) |",
            f"| members, role filter (`role=RE`) | {fmt(r['role_filter'])} ({of_ceiling(r, 'role_filter')}) |",
            f"| members, in-order walk under load (`page_size=100`, pages 1 to {min(r['size'] // 100, 2000)} in turn) | {fmt(r['walk_load'])} ({of_ceiling(r, 'first_page', 'walk_load')}) |",
            f"| members, selective search (under 100 matches) | {fmt(r['search'])} |",
            f"| 100 different selective searches, one at a time (at most {r['search_terms']['most_matches']} matches) | {fmt_seq(r['search_terms'])} |",
            f"| members, broad search (`search=example`, every member matches) | {fmt(r['broad_search'])} |",
            f"| 100 different broad searches in random order, exact count, while {r['broad_writes']['done']} role changes and renames ran at 10 a second | {fmt(r['broad_terms'])}; each term's first request: {fmt_seq(r['broad_first'])} |",
            f"| `PATCH .../memberships` (role change) | {fmt(r['patch_role'])} |",
            f"| in-order walk, `page_size=100`, {r['walk_100']['n']} pages, one at a time | {fmt_seq(r['walk_100'])} |",
            f"| random deep page, default order, 100 pages | {fmt_seq(r['deep_default'])} |",
            f"| random deep page, `ordering=-user__email`, 100 pages | {fmt_seq(r['deep_email'])} |",
            f"| random deep page, `role=AN`, 100 pages | {fmt_seq(r['deep_annotators'])} |",
            f"| SDK-style walk of all members at `page_size=1000` | {r['sdk_walk_s']:.1f} s for {r['sdk_walk_members']:,} members |",
            *[f"| Organization page (HTML, 50 a page), {name}, 20 requests one at a time | {fmt_seq(m)} |"
              for name, m in r.get("org_page", {}).items()],
            f"| resident memory, idle / under load / peak over the whole run | {r['rss_idle_mib']:.0f} MiB / {r['rss_load_mib']:.0f} MiB / {r['rss_peak_mib']:.0f} MiB |",
            *([f"| SQLite's heap at the end / at its peak (`roster_sqlite_heap_bytes`) | {r['sqlite_heap_mib'][0]:.0f} MiB / {r['sqlite_heap_mib'][1]:.0f} MiB |"]
              if r.get("sqlite_heap_mib") else []),
            "",
            f"The ceiling server (`roster dev ceiling`: the same layers and connection handling, no database) on the same bodies: "
            + ", ".join(f"{name} ({r['body_bytes'][name]:,} bytes) {m['rps']:.0f} req/s" for name, m in r["ceiling"].items())
            + ".",
            "",
        ]
    lines += targets(results)
    # The other benchmarks' sections follow ours; a rewrite of ours keeps them.
    kept = ""
    if os.path.exists(out):
        text = open(out).read()
        starts = [text.index(m) for m in SECTION_MARKS if m in text]
        if starts:
            kept = "\n" + text[min(starts):]
    with open(out, "w") as f:
        f.write("\n".join(lines) + kept)


def write_section(out, mark, lines):
    """Replaces the section that begins with `mark` in `out` (up to the next section's mark),
    or appends it, leaving the rest of the file alone."""
    text = open(out).read() if os.path.exists(out) else ""
    before, after = text, ""
    if mark in text:
        start = text.index(mark)
        before = text[:start]
        ends = [text.index(m, start) for m in SECTION_MARKS if m != mark and m in text[start:]]
        after = text[min(ends):] if ends else ""
    body = before.rstrip("\n") + ("\n\n" if before.strip() else "") + "\n".join(lines)
    if after:
        body = body.rstrip("\n") + "\n\n" + after
    with open(out, "w") as f:
        f.write(body.rstrip("\n") + "\n")


def targets(results):
    """The issue's targets for each database, at each size this run measured."""
    by = {(r["db"], r["size"]): r for r in results}
    out = []

    def met(ok):
        return "met" if ok else "**missed**"

    for db in dict.fromkeys(r["db"] for r in results):
        runs = [r for r in results if r["db"] == db]
        out += [f"## Targets on {db}", "", "| target | " + " | ".join(f"{r['size']:,} members" for r in runs) + " |",
                "|---|" + "---|" * len(runs)]

        def row(name, cell):
            out.append(f"| {name} | " + " | ".join(cell(r) for r in runs) + " |")

        def share(r, measure, body):
            return r[measure]["rps"] / r["ceiling"][body]["rps"]

        for measure, what in (("first_page", "first page"), ("role_filter", "role filter"), ("walk_load", "in-order walk")):
            row(f"members, {what}, at least 10% of the ceiling's rate for the same body",
                lambda r, m=measure: f"{met(share(r, m, 'first_page' if m == 'walk_load' else m) >= 0.10)}: "
                                     f"{100 * share(r, m, 'first_page' if m == 'walk_load' else m):.1f}% "
                                     f"({r[m]['rps']:.0f} of {r['ceiling']['first_page' if m == 'walk_load' else m]['rps']:.0f} req/s)")
        row("health at least 40% of the ceiling's rate for its body",
            lambda r: f"{met(share(r, 'health', 'health') >= 0.40)}: {100 * share(r, 'health', 'health'):.0f}% "
                      f"({r['health']['rps']:.0f} of {r['ceiling']['health']['rps']:.0f} req/s)")
        row("whoami at least 60% of health",
            lambda r: f"{met(r['whoami']['rps'] >= 0.6 * r['health']['rps'])}: {100 * r['whoami']['rps'] / r['health']['rps']:.0f}%")
        row("broad search at least 50 req/s with its exact count, under 10 writes a second",
            lambda r: f"{met(r['broad_terms']['rps'] >= 50)}: {r['broad_terms']['rps']:.1f} req/s; "
                      f"first request of a term p50 {r['broad_first']['p50']:.0f} ms")
        for name, what in (("deep_default", "default order"), ("deep_email", "`-user__email`"), ("deep_annotators", "`role=AN`")):
            row(f"random deep page, {what}: p50 under 100 ms, p99 under 300 ms",
                lambda r, n=name: f"{met(r[n]['p50'] < 100 and r[n]['p99'] < 300)}: {fmt_seq(r[n])}")
        row("Organization page opens, filters and pages under 300 ms (p99 of each view)",
            lambda r: f"{met(max(m['p99'] for m in r['org_page'].values()) < 300)}: slowest p99 "
                      f"{max(m['p99'] for m in r['org_page'].values()):.1f} ms "
                      f"({max(r['org_page'], key=lambda n: r['org_page'][n]['p99'])})")
        row("resident memory under 100 MB at peak (SQLite)",
            lambda r: f"{met(r['rss_peak_mib'] * 1.048576 < 100) if db == 'sqlite' else 'reported'}: {r['rss_peak_mib']:.0f} MiB")
        row("import under 60 s (at 1,000,000)", lambda r: f"{r['import_s']:.1f} s")
        row("walk of every member at `page_size=1000` under 60 s (at 1,000,000)", lambda r: f"{r['sdk_walk_s']:.1f} s")
        small, big = by.get((db, 10000)), by.get((db, 1000000))
        if small and big:
            for key, what in (("search_terms", "100 selective searches"), ("first_page", "first page"),
                              ("walk_100", "each page of an in-order walk")):
                a, b = small[key]["p50"], big[key]["p50"]
                out.append(f"| {what}: p50 at 1,000,000 within 1.5x of 10,000 | {met(b <= 1.5 * a)}: {b / a:.2f}x "
                           f"({a:.2f} ms at 10,000, {b:.2f} ms at 1,000,000) |" + " |" * (len(runs) - 1))
        out.append("")
    return out


def arguments(baseline=False):
    """The command line the benchmarks take (filters.py also takes an earlier run to compare)."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="10000,1000000")
    ap.add_argument("--dbs", default="sqlite,postgres")
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--out", default=os.path.join(ROOT, "BENCHMARKS.md"))
    if baseline:
        ap.add_argument("--baseline", help="an earlier run's results, one JSON object a line")
        ap.add_argument("--baseline-note", default="", help="what the earlier run measured")
        ap.add_argument("--results", help="write the section from these results instead of measuring")
    return ap.parse_args()


def main():
    args = arguments()
    results = []
    for size in [int(s) for s in args.sizes.split(",")]:
        for db in args.dbs.split(","):
            print(f"benchmark: {db}, {size} members", flush=True)
            r = run_one(db, size, args.seconds)
            print(json.dumps(r), flush=True)
            results.append(r)
    write_report(results, args.seconds, args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    sys.exit(main())
