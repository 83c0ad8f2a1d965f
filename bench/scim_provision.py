"""SCIM provisioning benchmark (not a timed test): roster beside the peer scim2-server.

For each target it measures, on a fresh server:
  1. Okta-style provisioning: N users (default 10,000), one `POST /Users` each, from a few
     concurrent clients (default 8), then G groups created empty and filled with one `PATCH`
     per 100 members (on roster the groups are mapped to roles, so each PATCH moves people
     from the fallback role into a working role with a seat);
  2. on another fresh server, the same N users through `/Bulk` (batches of 1,000 POSTs, one
     client), then more Bulk batches up to L users (default 100,000);
  3. at L users, the median and p99 of `GET /Users?filter=userName eq "..."` and of
     `GET /Users?filter=userName co "..."` (5 digits, about 11 matches), one client.

Targets: roster on SQLite, roster on PostgreSQL (database roster_bulk_bench, dropped and
recreated), scim2-server (PyPI, in-memory). Standard library only. Where the PostgreSQL
server runs without autovacuum, the script runs ANALYZE every --pg-analyze-every seconds in
its place (see Analyzer).

Usage:
  cargo build --release -p roster
  python3 -m venv .venv && .venv/bin/pip install scim2-server
  python3 bench/scim_provision.py [--targets sqlite,postgres,scim2-server] [--users 10000]
      [--clients 8] [--groups 10] [--lookup-users 100000] [--eq-samples 500] [--co-samples 200]
      [--json FILE]
ROSTER_BIN picks another roster binary; SCIM2_SERVER the scim2-server executable (default:
.venv/bin/scim2-server, else the one on PATH).
"""

import argparse
import http.client
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROSTER_BIN = os.environ.get("ROSTER_BIN", os.path.join(ROOT, "target", "release", "roster"))
SECRET = "benchmark-secret-0123456789abcdef0123456789"
PASSWORD = "benchmark-owner-password"
PG_DB = "roster_bulk_bench"
PG_URL = f"postgres://postgres@127.0.0.1:5432/{PG_DB}"
PEER_TOKEN = "bench-peer-token"

USER_URN = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_URN = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH_URN = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
BULK_URN = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
BULK_BATCH = 1000
PATCH_MEMBERS = 100


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def user_name(k):
    # example.com, not a special-use domain: scim2-server's email validation refuses those.
    return f"user{k:06d}@example.com"


def user_doc(k):
    email = user_name(k)
    return {
        "schemas": [USER_URN],
        "userName": email,
        "name": {"givenName": f"Given{k}", "familyName": f"Family{k}"},
        "emails": [{"value": email, "type": "work", "primary": True}],
        "active": True,
    }


class Conn:
    """One keep-alive HTTP/1.1 connection to a SCIM base, as an IdP's worker holds one."""

    def __init__(self, port, prefix, auth):
        self.port, self.prefix, self.auth = port, prefix, auth
        self.http = http.client.HTTPConnection("127.0.0.1", port, timeout=600)

    def call(self, method, path, body=None):
        headers = {"Authorization": self.auth, "Accept": "application/scim+json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/scim+json"
        started = time.perf_counter()
        for attempt in (0, 1):
            try:
                self.http.request(method, self.prefix + path, data, headers)
                r = self.http.getresponse()
                raw = r.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # An idle keep-alive connection the server closed: reconnect once.
                self.http.close()
                self.http = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
                if attempt:
                    raise
        secs = time.perf_counter() - started
        return r.status, raw, secs


def pcts(secs):
    ms = sorted(s * 1000 for s in secs)
    return {"p50": statistics.median(ms), "p99": ms[min(len(ms) - 1, int(len(ms) * 0.99))], "n": len(ms)}


class Meter:
    """Wall time, client CPU, server CPU (when its pid is known) and load over one phase."""

    def __init__(self, server_pid):
        self.pid = server_pid

    def cpu(self):
        if not self.pid:
            return 0.0
        try:
            with open(f"/proc/{self.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except OSError:
            return 0.0

    def __enter__(self):
        self.load_before = os.getloadavg()[0]
        self.t0, self.c0, self.s0 = time.perf_counter(), time.process_time(), self.cpu()
        return self

    def __exit__(self, *exc):
        self.wall = time.perf_counter() - self.t0
        self.client_cpu = time.process_time() - self.c0
        self.server_cpu = self.cpu() - self.s0
        self.load_after = os.getloadavg()[0]

    def summary(self):
        return {
            "wall_s": self.wall,
            "client_cpu_s": self.client_cpu,
            "server_cpu_s": self.server_cpu if self.pid else None,
            "load1_before": self.load_before,
            "load1_after": self.load_after,
        }


def run_parallel(n, clients, make_conn, work):
    """Runs work(conn, i) for i in 0..n from `clients` threads; returns latencies and errors."""
    lock = threading.Lock()
    next_i = [0]
    latencies, errors = [], []

    def worker():
        conn = make_conn()
        mine = []
        while True:
            with lock:
                i = next_i[0]
                next_i[0] += 1
            if i >= n:
                break
            status, raw, secs = work(conn, i)
            mine.append(secs)
            if status >= 300:
                with lock:
                    errors.append((i, status, raw[:300]))
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, errors


class Target:
    """A fresh SCIM server: start() brings it up empty, stop() ends it and removes its data."""

    name = ""
    group_roles = None

    def conn(self):
        return Conn(self.port, self.prefix, self.auth)


def psql(sql, db="postgres"):
    return subprocess.run(["psql", "-qAt", "-h", "127.0.0.1", "-U", "postgres", "-d", db, "-c", sql],
                          check=True, capture_output=True, text=True).stdout.strip()


class Analyzer:
    """Stands in for autovacuum's ANALYZE where the server runs without autovacuum (this
    machine's CI configuration turns it off). Without statistics, PostgreSQL plans every
    lookup of a table that grew from empty as a scan of the organization's rows, and
    provisioning slows down as the organization grows (measured: from 930 to 100 users/s by
    20,000 users); autovacuum, on by default, analyzes a table after 50 rows plus 10% changed,
    within a minute."""

    def __init__(self, every):
        self.every, self.stopped, self.runs = every, threading.Event(), 0
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def loop(self):
        while not self.stopped.wait(self.every):
            psql("ANALYZE", PG_DB)
            self.runs += 1

    def stop(self):
        self.stopped.set()
        self.thread.join()


class Roster(Target):
    analyze_every = 10.0

    def __init__(self, db):
        self.db = db
        self.analyzer = None
        self.name = f"roster ({'SQLite' if db == 'sqlite' else 'PostgreSQL'})"
        self.prefix = "/scim/v2"

    def start(self, groups):
        self.data = tempfile.mkdtemp(prefix="roster-scim-bench-")
        env = dict(os.environ, ROSTER_DATA_DIR=self.data, ROSTER_SECRET_KEY=SECRET, ROSTER_LOG="warn")
        env.pop("DATABASE_URL", None)
        if self.db == "postgres":
            psql(f"DROP DATABASE IF EXISTS {PG_DB}")
            psql(f"CREATE DATABASE {PG_DB}")
            env["DATABASE_URL"] = PG_URL
            if psql("SHOW autovacuum") == "off" and self.analyze_every > 0:
                self.analyzer = Analyzer(self.analyze_every)
        subprocess.run([ROSTER_BIN, "init", "--org", "Bench", "--owner-email", "owner@bench.example.com"],
                       env=dict(env, ROSTER_OWNER_PASSWORD=PASSWORD), check=True, capture_output=True)
        # The people's domain is the organization's, so each create makes an account at once
        # (outside verified domains the IdP's people are invited instead).
        subprocess.run([ROSTER_BIN, "org", "domain", "add", "--org", "1", "example.com"],
                       env=env, check=True, capture_output=True)
        self.port = free_port()
        self.proc = subprocess.Popen([ROSTER_BIN, "serve", "--bind", f"127.0.0.1:{self.port}"], env=env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        api = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        for _ in range(200):
            try:
                api.request("GET", "/api/health")
                api.getresponse().read()
                break
            except OSError:
                api.close()
                api = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                time.sleep(0.1)
        login = json.dumps({"email": "owner@bench.example.com", "password": PASSWORD})
        api.request("POST", "/user/login", login, {"Content-Type": "application/json"})
        r = api.getresponse()
        r.read()
        session = [c.split(";")[0] for c in r.headers.get_all("Set-Cookie") if c.startswith("roster_session=")][0]
        api.request("GET", "/api/current-user/token", headers={"Cookie": session})
        key = json.loads(api.getresponse().read())["token"]
        owner = {"Authorization": f"Token {key}", "Content-Type": "application/json"}
        api.request("POST", "/api/scim/token", "", owner)
        token = json.loads(api.getresponse().read())["token"]
        # Okta pushes groups the organization maps to roles: most to Annotator, one to
        # Reviewer, one to Manager. Users join in the fallback (Deactivated) and take a seat
        # when a group PATCH adds them.
        roles = ["Annotator"] * max(groups - 2, 0) + ["Reviewer", "Manager"][: min(groups, 2)]
        self.group_roles = [[role, f"bench-group-{g}"] for g, role in enumerate(roles)]
        api.request("POST", "/api/scim/settings", json.dumps({"roles_groups": self.group_roles}), owner)
        r = api.getresponse()
        body = r.read()
        if r.status != 200:
            raise SystemExit(f"setting the mapping failed: {r.status} {body[:300]}")
        api.close()
        self.auth = f"Bearer {token}"
        return self.proc.pid

    def stop(self):
        if self.analyzer:
            self.analyzer.stop()
            self.analyzer = None
        self.proc.terminate()
        self.proc.wait()
        shutil.rmtree(self.data, ignore_errors=True)


class Peer(Target):
    name = "scim2-server 0.8.3 (in-memory)"
    prefix = "/v2"

    def start(self, groups):
        exe = os.environ.get("SCIM2_SERVER") or (
            os.path.join(ROOT, ".venv", "bin", "scim2-server")
            if os.path.exists(os.path.join(ROOT, ".venv", "bin", "scim2-server"))
            else shutil.which("scim2-server")
        )
        if not exe:
            raise SystemExit("scim2-server not found: python3 -m venv .venv && .venv/bin/pip install scim2-server")
        self.port = free_port()
        self.proc = subprocess.Popen([exe, "--port", str(self.port), "--bearer-token", PEER_TOKEN],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.auth = f"Bearer {PEER_TOKEN}"
        for _ in range(200):
            try:
                status, _, _ = self.conn().call("GET", "/ServiceProviderConfig")
                if status == 200:
                    break
            except OSError:
                pass
            time.sleep(0.1)
        return self.proc.pid

    def stop(self):
        self.proc.terminate()
        self.proc.wait()


def check(errors, what):
    if errors:
        i, status, raw = errors[0]
        raise SystemExit(f"{what}: {len(errors)} requests failed, the first ({i}) with {status}: {raw!r}")


def provision_one_by_one(target, n, clients, groups):
    """Phase 1: POST /Users per user from `clients` workers, then groups filled by PATCH."""
    pid = target.start(groups)
    out = {}
    try:
        ids = [None] * n

        def post(conn, i):
            status, raw, secs = conn.call("POST", "/Users", user_doc(i))
            if status == 201:
                ids[i] = json.loads(raw)["id"]
            return status, raw, secs

        with Meter(pid) as m:
            lat, errors = run_parallel(n, clients, target.conn, post)
        check(errors, "POST /Users")
        out["post"] = dict(m.summary(), users_per_s=n / m.wall, latency=pcts(lat))

        conn = target.conn()
        group_ids = []
        for g in range(groups):
            status, raw, _ = conn.call("POST", "/Groups",
                                       {"schemas": [GROUP_URN], "displayName": f"bench-group-{g}", "members": []})
            if status != 201:
                raise SystemExit(f"POST /Groups: {status} {raw[:300]!r}")
            group_ids.append(json.loads(raw)["id"])
        # User k goes to group k % groups; each PATCH adds 100 of one group's members.
        chunks = []
        for g in range(groups):
            members = ids[g::groups]
            for c in range(0, len(members), PATCH_MEMBERS):
                chunks.append((group_ids[g], members[c:c + PATCH_MEMBERS]))

        def patch(conn, i):
            gid, members = chunks[i]
            return conn.call("PATCH", f"/Groups/{gid}", {
                "schemas": [PATCH_URN],
                "Operations": [{"op": "add", "path": "members", "value": [{"value": v} for v in members]}],
            })

        with Meter(pid) as m:
            lat, errors = run_parallel(len(chunks), clients, target.conn, patch)
        check(errors, "PATCH /Groups")
        out["patch"] = dict(m.summary(), members_per_s=n / m.wall, requests=len(chunks), latency=pcts(lat))
        if isinstance(target, Roster):
            out["roles_check"] = roles_sample(target)
    finally:
        target.stop()
    return out


def roles_sample(target):
    """A few users' groups as roster reports them, to show the PATCHes landed."""
    conn = target.conn()
    status, raw, _ = conn.call("GET", "/Users?count=3&startIndex=1")
    return [(u["userName"], [g["display"] for g in u.get("groups", [])]) for u in json.loads(raw)["Resources"]]


def bulk_batch(conn, start, end):
    ops = [{"method": "POST", "path": "/Users", "bulkId": f"u{k}", "data": user_doc(k)} for k in range(start, end)]
    status, raw, secs = conn.call("POST", "/Bulk", {"schemas": [BULK_URN], "Operations": ops})
    if status != 200:
        raise SystemExit(f"/Bulk: {status} {raw[:300]!r}")
    answers = json.loads(raw)["Operations"]
    failed = [a for a in answers if a["status"] != "201"]
    if failed or len(answers) != end - start:
        raise SystemExit(f"/Bulk: {len(failed)} of {len(answers)} failed, the first: {failed[:1]}")
    return secs


def provision_in_bulk_and_look_up(target, n, total, groups, eq_samples, co_samples):
    """Phase 2 and 3: N users by /Bulk, then up to `total`, then filtered look-ups."""
    pid = target.start(groups)
    out = {}
    try:
        conn = target.conn()
        with Meter(pid) as m:
            lat = [bulk_batch(conn, s, min(s + BULK_BATCH, n)) for s in range(0, n, BULK_BATCH)]
        out["bulk"] = dict(m.summary(), users_per_s=n / m.wall, latency=pcts(lat))
        with Meter(pid) as m:
            for s in range(n, total, BULK_BATCH):
                bulk_batch(conn, s, min(s + BULK_BATCH, total))
        out["bulk_rest"] = dict(m.summary(), users=total - n, users_per_s=(total - n) / m.wall if total > n else 0)

        rng = random.Random(7)

        def lookups(samples, make_filter, expect):
            secs = []
            for _ in range(samples):
                f = make_filter()
                status, raw, s = conn.call("GET", "/Users?" + urllib.parse.urlencode({"filter": f}))
                body = json.loads(raw)
                if status != 200 or not expect(body["totalResults"]):
                    raise SystemExit(f"{f}: {status} {raw[:300]!r}")
                secs.append(s)
            return secs

        with Meter(pid) as m:
            eq = lookups(eq_samples, lambda: f'userName eq "{user_name(rng.randrange(total))}"', lambda t: t == 1)
        out["eq"] = dict(m.summary(), latency=pcts(eq))
        # Five digits of the six in user000000..: "0" + four digits matches 10 userNames by
        # its position and one more elsewhere; nothing can use an ordinary index for it.
        with Meter(pid) as m:
            co = lookups(co_samples, lambda: f'userName co "{rng.randrange(total // 10):05d}"', lambda t: t >= 1)
        out["co"] = dict(m.summary(), latency=pcts(co))
    finally:
        target.stop()
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--targets", default="sqlite,postgres,scim2-server")
    p.add_argument("--users", type=int, default=10_000)
    p.add_argument("--clients", type=int, default=8)
    p.add_argument("--groups", type=int, default=10)
    p.add_argument("--lookup-users", type=int, default=100_000)
    p.add_argument("--eq-samples", type=int, default=500)
    p.add_argument("--co-samples", type=int, default=200)
    p.add_argument("--phases", default="post,bulk", help="post (one POST per user, then PATCH), bulk (Bulk and look-ups)")
    p.add_argument("--pg-analyze-every", type=float, default=10.0,
                   help="seconds between ANALYZEs standing in for autovacuum when the server has it off (0: none)")
    p.add_argument("--json", help="also write the results here")
    a = p.parse_args()
    Roster.analyze_every = a.pg_analyze_every
    make = {"sqlite": lambda: Roster("sqlite"), "postgres": lambda: Roster("postgres"), "scim2-server": Peer}
    phases = a.phases.split(",")
    results = {
        "machine": {
            "cores": os.cpu_count(),
            "uptime": subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip(),
            "pg_autovacuum": psql("SHOW autovacuum") if "postgres" in a.targets else None,
        },
        "params": vars(a),
        "targets": {},
    }
    for name in a.targets.split(","):
        target = make[name]()
        print(f"== {target.name}", file=sys.stderr, flush=True)
        r = {"name": target.name}
        if "post" in phases:
            r.update(provision_one_by_one(target, a.users, a.clients, a.groups))
            print(json.dumps({k: r[k] for k in ("post", "patch")}, indent=1), file=sys.stderr, flush=True)
        if "bulk" in phases:
            r.update(provision_in_bulk_and_look_up(target, a.users, max(a.lookup_users, a.users), a.groups,
                                                   a.eq_samples, a.co_samples))
            print(json.dumps({k: r[k] for k in ("bulk", "bulk_rest", "eq", "co")}, indent=1), file=sys.stderr, flush=True)
        results["targets"][name] = r
    results["machine"]["uptime_after"] = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    if a.json:
        with open(a.json, "w") as f:
            json.dump(results, f, indent=1)
    print(report(results))


def report(res):
    lines = [f"cores: {res['machine']['cores']}; before: {res['machine']['uptime']}; after: {res['machine']['uptime_after']}",
             f"PostgreSQL autovacuum: {res['machine']['pg_autovacuum']}; ANALYZE every {res['params']['pg_analyze_every']} s in its place when off", ""]
    names = list(res["targets"])
    lines.append("| measure | " + " | ".join(res["targets"][n]["name"] for n in names) + " |")
    lines.append("|---" * (len(names) + 1) + "|")

    def row(label, f):
        cells = []
        for n in names:
            try:
                cells.append(f(res["targets"][n]))
            except KeyError:
                cells.append("-")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")

    def phase(p):
        cpu = f", server CPU {p['server_cpu_s']:.1f} s" if p.get("server_cpu_s") is not None else ""
        return f"client CPU {p['client_cpu_s']:.1f} s{cpu}, load {p['load1_before']:.1f}->{p['load1_after']:.1f}"

    u = res["params"]["users"]
    row(f"{u:,} users, one POST each ({res['params']['clients']} clients)",
        lambda t: f"**{t['post']['users_per_s']:.0f} users/s** ({t['post']['wall_s']:.1f} s; p50 {t['post']['latency']['p50']:.1f} ms, p99 {t['post']['latency']['p99']:.1f} ms)")
    row("  cost", lambda t: phase(t["post"]))
    row(f"{res['params']['groups']} groups filled, one PATCH per {PATCH_MEMBERS} members",
        lambda t: f"{t['patch']['members_per_s']:.0f} members/s ({t['patch']['requests']} PATCHes in {t['patch']['wall_s']:.1f} s; p50 {t['patch']['latency']['p50']:.0f} ms, p99 {t['patch']['latency']['p99']:.0f} ms)")
    row("  cost", lambda t: phase(t["patch"]))
    row(f"{u:,} users by /Bulk ({BULK_BATCH} per request, 1 client)",
        lambda t: f"**{t['bulk']['users_per_s']:.0f} users/s** ({t['bulk']['wall_s']:.1f} s; {t['bulk']['latency']['p50'] / 1000:.2f} s per request)")
    row("  cost", lambda t: phase(t["bulk"]))
    row(f"next {res['params']['lookup_users'] - u:,} users by /Bulk",
        lambda t: f"{t['bulk_rest']['users_per_s']:.0f} users/s ({t['bulk_rest']['wall_s']:.1f} s)")
    row(f"`userName eq` at {res['params']['lookup_users']:,} users ({res['params']['eq_samples']} look-ups)",
        lambda t: f"p50 {t['eq']['latency']['p50']:.2f} ms, p99 {t['eq']['latency']['p99']:.2f} ms")
    row(f"`userName co` at {res['params']['lookup_users']:,} users ({res['params']['co_samples']} look-ups)",
        lambda t: f"p50 {t['co']['latency']['p50']:.2f} ms, p99 {t['co']['latency']['p99']:.2f} ms")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
