#!/usr/bin/env python3
"""Soak: a bounded mixed workload at a fixed rate against a release `roster serve` on each
database (sign-ins, role changes, SCIM sync, page views), with resident memory, open
connections and latency sampled every 10 s. Fails on any error answer; writes the "Soak"
section of BENCHMARKS.md with the curves, a minute per row, and the memory trend.

Usage: python3 bench/soak.py [--dbs sqlite,postgres] [--minutes 10] [--members 10000] [--out FILE]
CI does not run it (ten minutes a database); `--minutes 0.5` is a quick try.
"""

import argparse
import concurrent.futures
import datetime
import importlib.util
import json
import os
import statistics
import subprocess
import threading
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("bench_run", os.path.join(HERE, "run.py"))
run = importlib.util.module_from_spec(spec)
spec.loader.exec_module(run)

MARK = run.SOAK_MARK
SAMPLE_EVERY = 10  # seconds
# Requests a second of each kind: a browser-heavy organization under a steady IdP sync.
RATES = {"page view": 12, "member list": 8, "role change": 6, "scim sync": 6, "sign-in": 1}
SCIM_USERS = 40
SCIM_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
SCIM_PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


class Client:
    """One request at a time with a given credential; returns (seconds, status, body)."""

    def __init__(self, base, auth=None, cookie=None, csrf=None):
        self.base, self.auth, self.cookie, self.csrf = base, auth, cookie, csrf

    def send(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, method=method, data=data)
        if self.auth:
            req.add_header("Authorization", self.auth)
        if self.cookie:
            req.add_header("Cookie", self.cookie)
        if self.csrf:
            req.add_header("X-CSRFToken", self.csrf)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                status, text = r.status, r.read()
        except urllib.error.HTTPError as e:
            status, text = e.code, e.read()
        return time.perf_counter() - started, status, text


def setup(base, members):
    """The Owner's key and session, a SCIM token, and SCIM_USERS people the IdP provisions
    (in a domain verified for the organization) with one group holding them all."""
    _, session, csrf = run.owner_session(base)
    browser = Client(base, cookie=session, csrf=csrf)
    _, _, text = browser.send("GET", "/api/current-user/token")
    key = json.loads(text)["token"]
    owner = Client(base, auth=f"Token {key}")
    _, status, text = owner.send("POST", "/api/scim/token")
    assert status == 201, text
    idp = Client(base, auth=f"Bearer {json.loads(text)['token']}")
    scim_ids = []
    for i in range(SCIM_USERS):
        _, status, text = idp.send("POST", "/scim/v2/Users", {
            "schemas": [SCIM_USER], "userName": f"soak{i}@soak.example", "active": True})
        assert status == 201, text
        scim_ids.append(json.loads(text)["id"])
    return owner, browser, idp, scim_ids


class Recorder:
    """Latencies and failures of the current sampling window."""

    def __init__(self):
        self.lock = threading.Lock()
        self.latencies, self.errors, self.total, self.failures = [], 0, 0, []

    def add(self, kind, seconds, status, text):
        with self.lock:
            self.latencies.append(seconds)
            self.total += 1
            if status >= 400:
                self.errors += 1
                if len(self.failures) < 10:
                    self.failures.append(f"{kind}: {status} {text[:200]!r}")

    def window(self):
        with self.lock:
            lat, self.latencies = self.latencies, []
            return lat


def sockets(pid):
    """Open sockets of the server process: clients' connections and its database pool."""
    n = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:"):
                n += 1
        except OSError:
            pass
    return n


def pg_connections():
    out = subprocess.run(["psql", "-tA", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-c",
                          f"SELECT count(*) FROM pg_stat_activity WHERE datname = '{run.PG_DB}'"],
                         capture_output=True, text=True, check=True).stdout
    return int(out.strip())


def soak(db, minutes, members):
    data, env, _ = run.seeded(db, "roster-soak-", ["--members", str(members)])
    subprocess.run([run.BIN, "org", "domain", "add", "--org", "1", "soak.example"],
                   env=env, check=True, capture_output=True)
    server, base = run.serve(env)
    try:
        owner, browser, idp, scim_ids = setup(base, members)
        rec = Recorder()
        counter = {"n": 0}
        count_lock = threading.Lock()

        def next_n():
            with count_lock:
                counter["n"] += 1
                return counter["n"]

        def job(kind):
            try:
                one(kind)
            except Exception as e:  # a refused sign-in, a timeout: an error of the soak
                rec.add(kind, 0.0, 599, repr(e).encode())

        def one(kind):
            n = next_n()
            if kind == "page view":
                r = browser.send("GET", f"/organization?page={n % 50 + 1}")
            elif kind == "member list":
                r = owner.send("GET", f"/api/organizations/1/memberships?page_size=100&page={n % 100 + 1}")
            elif kind == "role change":
                user = 2 + n % members
                r = owner.send("PATCH", "/api/organizations/1/memberships",
                               {"user_id": user, "role": "RE" if (n // members) % 2 == 0 else "AN"})
            elif kind == "scim sync":
                scim = scim_ids[n % len(scim_ids)]
                active = (n // len(scim_ids)) % 2 == 1
                r = idp.send("PATCH", f"/scim/v2/Users/{scim}", {
                    "schemas": [SCIM_PATCH], "Operations": [{"op": "replace", "path": "active", "value": active}]})
            else:
                seconds, _, _ = run.owner_session(base)
                r = (seconds, 200, b"")
            rec.add(kind, r[0], r[1], r[2])

        samples = []
        pool = concurrent.futures.ThreadPoolExecutor(max_workers=16)
        # One schedule: each kind's requests spread evenly over every second.
        schedule = sorted((i / rate, kind) for kind, rate in RATES.items() for i in range(rate))
        started = time.monotonic()
        end = started + minutes * 60
        next_sample = started + SAMPLE_EVERY
        second = 0
        while time.monotonic() < end:
            for offset, kind in schedule:
                at = started + second + offset
                delay = at - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                pool.submit(job, kind)
            second += 1
            if time.monotonic() >= next_sample:
                lat = sorted(x * 1000 for x in rec.window())
                samples.append({
                    "t": round(time.monotonic() - started),
                    "rss_mib": run.rss_kib(server.pid) / 1024,
                    "sockets": sockets(server.pid),
                    "pg": pg_connections() if db == "postgres" else None,
                    "n": len(lat),
                    "p50": statistics.median(lat) if lat else 0,
                    "p99": lat[min(len(lat) - 1, int(len(lat) * 0.99))] if lat else 0,
                    "errors": rec.errors,
                })
                next_sample += SAMPLE_EVERY
        pool.shutdown(wait=True)
        return {"db": db, "members": members, "minutes": minutes, "samples": samples,
                "total": rec.total, "errors": rec.errors, "failures": rec.failures,
                "rate": sum(RATES.values())}
    finally:
        server.terminate()
        server.wait()
        run.discard(db, data)


def slope(points):
    """Least-squares slope of (x, y) points, y per unit of x."""
    if len(points) < 2:
        return 0.0
    mx = statistics.mean(x for x, _ in points)
    my = statistics.mean(y for _, y in points)
    den = sum((x - mx) ** 2 for x, _ in points)
    return sum((x - mx) * (y - my) for x, y in points) / den if den else 0.0


def spark(values):
    bars = "▁▂▃▄▅▆▇█"
    lo, hi = min(values), max(values)
    return "".join(bars[int((v - lo) / (hi - lo) * 7) if hi > lo else 0] for v in values)


def section(results):
    lines = [MARK, "## Soak", "",
             f"Measured {datetime.date.today()} with `python3 bench/soak.py` (release build, this machine: "
             "2 cores). A fixed rate of "
             + ", ".join(f"{rate}/s {kind}s" for kind, rate in RATES.items())
             + f" against one organization, with {SCIM_USERS} SCIM users its identity provider keeps "
             "switching on and off; sampled every 10 s. Sockets are the server's open sockets (its "
             "clients and its database pool); PostgreSQL connections are pg_stat_activity's for the "
             "database.", ""]
    for r in results:
        s = r["samples"]
        half = [(x["t"] / 60, x["rss_mib"]) for x in s[len(s) // 2:]]
        lines += [f"### {r['db']}, {r['members']:,} members, {r['minutes']:g} minutes", "",
                  f"{r['total']:,} requests, {r['errors']} errors. Resident memory over the run "
                  f"`{spark([x['rss_mib'] for x in s])}` ({s[0]['rss_mib']:.0f} to {s[-1]['rss_mib']:.0f} MiB; "
                  f"trend over the second half {slope(half):+.2f} MiB/min); p99 `{spark([x['p99'] for x in s])}`.",
                  "", "| minute | RSS MiB | sockets | PostgreSQL connections | requests | p50 ms | p99 ms | errors so far |",
                  "|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for minute in range(0, len(s), 6):
            chunk = s[minute:minute + 6]
            lines.append(
                f"| {minute // 6 + 1} | {max(x['rss_mib'] for x in chunk):.1f} | {max(x['sockets'] for x in chunk)} | "
                f"{max(x['pg'] for x in chunk) if r['db'] == 'postgres' else '-'} | {sum(x['n'] for x in chunk):,} | "
                f"{statistics.median(x['p50'] for x in chunk):.1f} | {max(x['p99'] for x in chunk):.1f} | "
                f"{chunk[-1]['errors']} |")
        lines.append("")
    return lines


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--dbs", default="sqlite,postgres")
    p.add_argument("--minutes", type=float, default=10)
    p.add_argument("--members", type=int, default=10000)
    p.add_argument("--out", default=os.path.join(run.ROOT, "BENCHMARKS.md"))
    a = p.parse_args()
    results = []
    for db in a.dbs.split(","):
        r = soak(db, a.minutes, a.members)
        print(f"{db}: {r['total']} requests, {r['errors']} errors, RSS "
              f"{r['samples'][0]['rss_mib']:.0f}->{r['samples'][-1]['rss_mib']:.0f} MiB", flush=True)
        results.append(r)
    run.write_section(a.out, MARK, section(results))
    failed = [f for r in results for f in r["failures"]]
    if any(r["errors"] for r in results):
        raise SystemExit("errors during the soak:\n" + "\n".join(failed))


if __name__ == "__main__":
    main()
