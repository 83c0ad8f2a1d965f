#!/usr/bin/env python3
"""Side by side with Label Studio: seeds real open-source Label Studio (from PyPI, on SQLite) and
roster (release build, on SQLite) with the same 10,000 members, loads the same three requests on
each with wrk, and writes the "Side by side with Label Studio" section of BENCHMARKS.md.

Usage: scripts/bench.sh --peer [--members 10000] [--seconds 10] [--samples 50] [--note TEXT] [--out FILE]
   or: python3 bench/peer.py ...        (uses target/release/roster; ROSTER_BIN picks another)

Label Studio is installed with pip (from PyPI: about a minute and a half the first time) into a
virtualenv that is kept between runs ($ROSTER_BENCH_LS_VENV, by default
~/.cache/roster-bench/ls-venv) and reinstalled only when its version is not LS_VERSION. A run
takes about two minutes on 2 cores; it starts from fresh temporary data folders and removes them.
The requests, measured one after the other:
  GET /api/current-user/whoami
  GET /api/organizations/{id}/memberships?page_size=100              (the first page)
  GET /api/organizations/{id}/memberships?page_size=100&page={last}  (the last page)
Each is first checked with one plain request (status 200, the owner's email, a non-empty page,
the same member count on both), then loaded with bench/run.py's wrk() (2 threads, 16
connections), then timed one request at a time. The section marks each wrk run during which
other processes (someone else's build, say) used more than a tenth of a core.
"""

import argparse
import datetime
import importlib.util
import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("bench_run", os.path.join(HERE, "run.py"))
run = importlib.util.module_from_spec(spec)
spec.loader.exec_module(run)

MARK = run.PEER_MARK
# The one Label Studio release this benchmark measures; a change here reinstalls the venv.
LS_VERSION = "1.23.2"
VENV = os.environ.get("ROSTER_BENCH_LS_VENV",
                      os.path.join(os.path.expanduser("~"), ".cache", "roster-bench", "ls-venv"))
OWNER = "owner@bench.example.com"  # the same owner email as roster's `roster init` in run.py

# Run inside Label Studio's virtualenv, beside its own code: adds `members` users to the first
# user's organization the way its sign-up does (username = the email's local part), in bulk
# through the Django models, and prints the organization id, the owner's API token and the count.
LS_SEED = r"""
import json, os, sys, time
import label_studio
sys.path.insert(0, os.path.dirname(label_studio.__file__))  # as label_studio/server.py does
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "label_studio.core.settings.label_studio")
import django
django.setup()
from organizations.models import OrganizationMember
from rest_framework.authtoken.models import Token
from users.models import User

members, owner_email = int(sys.argv[1]), sys.argv[2]
owner = User.objects.get(email=owner_email)
org = owner.active_organization
# `label-studio init --enable-legacy-api-token` turns on Token auth for the organization it
# makes; without it Label Studio answers a Token header with 401.
assert org.jwt.legacy_api_tokens_enabled, "legacy API tokens are off"
started = time.perf_counter()
User.objects.bulk_create(
    [User(email=f"member{i:08}@seed.example.com", username=f"member{i:08}", first_name=f"First{i}",
          last_name=f"Last{i}", password="!", active_organization=org) for i in range(members)],
    batch_size=2000)
ids = User.objects.filter(email__endswith="@seed.example.com").values_list("id", flat=True)
OrganizationMember.objects.bulk_create(
    [OrganizationMember(user_id=i, organization=org) for i in ids], batch_size=2000)
print("PEER-SEED " + json.dumps({
    "org": org.id, "token": Token.objects.get(user=owner).key, "seconds": time.perf_counter() - started,
    "count": OrganizationMember.objects.filter(organization=org, deleted_at__isnull=True).count()}))
"""


def venv_bin(name):
    return os.path.join(VENV, "bin", name)


def ensure_label_studio():
    """The virtualenv with label-studio==LS_VERSION, made or fixed when needed: the seconds pip
    took (None when it was already there)."""
    if not os.path.exists(venv_bin("python")):
        os.makedirs(os.path.dirname(VENV), exist_ok=True)
        subprocess.run([sys.executable, "-m", "venv", VENV], check=True)
    have = subprocess.run([venv_bin("python"), "-c",
                           "import importlib.metadata as m; print(m.version('label-studio'))"],
                          capture_output=True, text=True).stdout.strip()
    if have == LS_VERSION:
        return None
    print(f"peer: pip install label-studio=={LS_VERSION} into {VENV}", flush=True)
    started = time.perf_counter()
    subprocess.run([venv_bin("pip"), "install", "-q", f"label-studio=={LS_VERSION}"], check=True)
    return time.perf_counter() - started


def ls_env(data):
    """Label Studio's environment: its data folder, SQLite, and its calls home switched off
    (this machine reaches no such host; Sentry would also wrap every request)."""
    env = dict(os.environ, LABEL_STUDIO_BASE_DATA_DIR=data, DJANGO_DB="sqlite", DEBUG="false",
               SENTRY_DSN="", FRONTEND_SENTRY_DSN="", LATEST_VERSION_CHECK="false",
               COLLECT_ANALYTICS="false")
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return env


def ls_seeded(members):
    """A fresh Label Studio data folder with its first user (the owner), that user's
    organization and `members` more members: (folder, environment, seed result)."""
    data = tempfile.mkdtemp(prefix="roster-peer-ls-")
    env = ls_env(data)
    # `init` migrates the new SQLite database and makes the first user and its organization.
    subprocess.run([venv_bin("label-studio"), "init", "--username", OWNER, "--password", run.PASSWORD,
                    "--enable-legacy-api-token"], env=env, cwd=data, check=True, capture_output=True)
    out = subprocess.run([venv_bin("python"), "-c", LS_SEED, str(members), OWNER], env=env, cwd=data,
                         check=True, capture_output=True, text=True).stdout
    seed = json.loads([line for line in out.splitlines() if line.startswith("PEER-SEED ")][-1][10:])
    return data, env, seed


def ls_serve(data, env):
    """`label-studio start` on a free port of 127.0.0.1, waited for (3 minutes at most) until
    its health check answers: the process and its base URL."""
    port = run.free_port()
    base = f"http://127.0.0.1:{port}"
    # --internal-host is where it listens (0.0.0.0 unless told); --host only names it in URLs.
    log = open(os.path.join(data, "label-studio.log"), "w")
    server = subprocess.Popen([venv_bin("label-studio"), "start", "--no-browser", "--internal-host", "127.0.0.1",
                               "--port", str(port)], env=env, cwd=data, stdout=log, stderr=subprocess.STDOUT,
                              start_new_session=True)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"label-studio start exited with {server.returncode}; see {log.name}")
        try:
            with urllib.request.urlopen(f"{base}/health", timeout=5):
                return server, base
        except OSError:
            time.sleep(0.5)
    stop(server)
    raise SystemExit("Label Studio did not answer its health check within 3 minutes")


def stop(server):
    """Ends a server started in its own session, with whatever it started."""
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def processes():
    """{pid: (parent pid, name, CPU seconds so far)} of every process on the machine."""
    tick, out = os.sysconf("SC_CLK_TCK"), {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                text = f.read()
        except OSError:
            continue
        name = text[text.index("(") + 1:text.rindex(")")]
        fields = text[text.rindex(")") + 2:].split()
        out[int(pid)] = (int(fields[1]), name, (int(fields[11]) + int(fields[12])) / tick)
    return out


class CpuWatch(threading.Thread):
    """Samples, twice a second for the whole run, the CPU that processes outside this benchmark
    use (anything that is not this script, its servers or its wrk: say another engineer's build
    or tests), so that each measurement can say whether it had the machine's 2 cores to itself."""

    def __init__(self):
        super().__init__(daemon=True)
        self.samples, self.done = [], threading.Event()  # (time, CPU seconds, {name: CPU seconds})

    def others(self):
        procs = processes()
        ours = {os.getpid()}
        changed = True
        while changed:  # everything descended from this script
            changed = False
            for pid, (ppid, _, _) in procs.items():
                if ppid in ours and pid not in ours:
                    ours.add(pid)
                    changed = True
        # Label Studio keeps members' last activity in a Redis server when one answers: its work.
        return {pid: (name, cpu) for pid, (_, name, cpu) in procs.items()
                if pid not in ours and name != "redis-server"}

    def run(self):
        before = self.others()
        while not self.done.wait(0.5):
            now = self.others()
            by_name = {}
            for pid, (name, cpu) in now.items():
                used = cpu - before[pid][1] if pid in before else cpu
                if used > 0:
                    by_name[name] = by_name.get(name, 0) + used
            self.samples.append((time.monotonic(), sum(by_name.values()), by_name))
            before = now

    def between(self, start, end):
        """Cores that other processes used on average from start to end, and the busiest names."""
        picked = [s for s in self.samples if start < s[0] <= end]
        if not picked:
            return 0.0, []
        names = {}
        for _, _, by_name in picked:
            for name, used in by_name.items():
                names[name] = names.get(name, 0) + used
        total = sum(names.values())
        # The few that did most of it, not the machine's background (its agent, kdamond).
        busiest = [n for n in sorted(names, key=names.get, reverse=True)[:3] if names[n] >= total / 10]
        return total / max(end - start, 0.5), busiest


# Other processes using more than this many cores on average disturb a measurement.
DISTURBED = 0.1


def check(server, base, org, key, members):
    """One plain request of each measured URL: fails unless it answers 200 with what it should.
    Returns the URLs to load and the member count."""
    _, me = run.request(f"{base}/api/current-user/whoami", key)
    if me.get("email") != OWNER:
        raise SystemExit(f"{server}: whoami answered {me.get('email')!r}, not the owner")
    listing = f"{base}/api/organizations/{org}/memberships?page_size=100"
    _, first = run.request(listing, key)
    count = first["count"]
    # Each server has its one owner account besides the seeded members.
    if count != members + 1 or not first["results"]:
        raise SystemExit(f"{server}: first page counts {count} members ({len(first['results'])} on it), "
                         f"not {members + 1}")
    last = f"{listing}&page={math.ceil(count / 100)}"
    _, tail = run.request(last, key)
    if not tail["results"] or tail["count"] != count:
        raise SystemExit(f"{server}: the last page ({last}) is empty or counts differently")
    return {"whoami": f"{base}/api/current-user/whoami", "first_page": listing, "last_page": last}, count


def size(url, key):
    """Bytes in the body of one answer."""
    req = urllib.request.Request(url, headers={"Authorization": f"Token {key}"})
    with urllib.request.urlopen(req, timeout=60) as resp:
        return len(resp.read())


def answers(port):
    """Whether something listens on 127.0.0.1:port."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def settle(pid, limit=120):
    """Waits until the process uses under 5% of a core over half a second: Label Studio keeps
    working through the requests wrk left in flight after it stops, and that must not overlap the
    next measurement."""
    tick = os.sysconf("SC_CLK_TCK")

    def cpu():
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / tick  # utime + stime

    deadline = time.monotonic() + limit
    before = cpu()
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = cpu()
        if now - before < 0.025:
            return
        before = now


def one_at_a_time(url, key, samples):
    """p50/p99 of `samples` requests sent one after the other (no queueing)."""
    return run.pcts([run.request(url, key)[0] for _ in range(samples)])


ROWS = ["whoami", "first_page", "last_page"]


def label(key, count):
    return {"whoami": "`GET /api/current-user/whoami`",
            "first_page": "members, first page (`page_size=100`)",
            "last_page": f"members, last page (`page_size=100&page={math.ceil(count / 100)}`)"}[key]


def rows(r, cells):
    """A table's rows, one a request: its label, then the cells that cells(key) gives."""
    return [f"| {label(key, r['count'])} | " + " | ".join(cells(key)) + " |" for key in ROWS]


def cell(m):
    """A wrk result; past wrk's 2 s timeout it records no latency, so the percentiles of a run
    with timeouts describe only its faster requests and are left out."""
    if not m["rps"]:
        return "no answer within the run"
    if m["timeouts"]:
        return f"{m['rps']:.1f} req/s; p50/p99 not recorded: wrk counted {m['timeouts']} timeouts (over 2 s)"
    return f"{m['rps']:,.0f} req/s, p50 {m['p50']:.2f} ms, p99 {m['p99']:.2f} ms"


def section(r, args):
    lines = [
        MARK,
        "## Side by side with Label Studio",
        "",
        f"Measured {r['date']} with `scripts/bench.sh --peer` (`python3 bench/peer.py --members {args.members} "
        f"--seconds {args.seconds}`), on this machine: {os.cpu_count()} cores, both servers and wrk on it. "
        f"Label Studio {LS_VERSION} (open source, from PyPI) against roster's release build, each on SQLite "
        f"in a fresh data folder with {args.members:,} seeded members plus its owner ({r['count']:,} in each "
        f"listing). Loaded with wrk, 2 threads, 16 connections, {args.seconds} s per request, one after the "
        "other; the ratio is roster's requests per second over Label Studio's.",
        "",
        "| request | roster | Label Studio | ratio |",
        "|---|---|---|---|",
    ]
    hit = {(d[0], d[1]): d[2] for d in r["disturbed"]}

    def loaded(key):
        a, b = r["roster"][key], r["ls"][key]
        mark = {side: f" (†{hit[side, key]:.2f})" if (side, key) in hit else "" for side in ("roster", "ls")}
        ratio = f"{a['rps'] / b['rps']:,.0f}x" if b["rps"] else "n/a (Label Studio answered none)"
        return [cell(a) + mark["roster"], cell(b) + mark["ls"], ratio]

    lines += rows(r, loaded) + [
        "",
        f"The same requests one at a time ({args.samples} each, after the load), which shows Label Studio's "
        "latency where wrk's timeouts hide it:",
        "",
        "| request | roster p50 / p99 | Label Studio p50 / p99 |",
        "|---|---|---|",
    ]
    lines += rows(r, lambda key: [f"{r[side][key]['p50']:.2f} / {r[side][key]['p99']:.2f} ms"
                                  for side in ("roster_seq", "ls_seq")]) + [
        "",
        "How each was run:",
        "",
        f"- Label Studio {LS_VERSION}: `label-studio start --no-browser --internal-host 127.0.0.1 --port P`, "
        "which serves through Django's own development server (`manage.py runserver --noreload`: one "
        "process, a thread per connection, one Python interpreter lock), with `DEBUG` off (the default of "
        "its `label_studio` settings) and its request log on. Its first user and organization come from "
        "`label-studio init --enable-legacy-api-token` (without it, an organization it makes refuses the "
        "legacy `Token` header); the members were bulk-inserted through its Django models "
        "(`User` and `OrganizationMember`, username = the email's local part as its sign-up does) in "
        f"{r['ls_seed_s']:.1f} s. Sentry, the version check and analytics were switched off by their "
        "environment variables (this machine reaches no such host). Label Studio looks each listed member's "
        "last activity up in Redis when one answers on localhost:6379 (`core/redis.py`, whatever "
        f"`REDIS_ENABLED` says); on this machine one {'did' if r['redis'] else 'did not'}.",
        f"- roster: `roster serve` (release build) after `roster dev seed --members {args.members}` "
        f"({r['roster_seed_s']:.1f} s), as `bench/run.py` does; the owner's legacy key from "
        "`/api/current-user/token`.",
        "",
        "What differs: open-source Label Studio has no roles, so its members carry none (roster's seed gives "
        "80% Annotators, 10% Reviewers, 5% Managers, 3% Not Activated, 2% Deactivated), and its memberships "
        "listing takes only `page`, `page_size` and `contributed_to_projects` (the role filter, search and "
        "ordering are Enterprise's); it orders by username and pages with Django REST framework's page "
        "numbers (a `COUNT` and an `OFFSET` each page). Both nest each member's user object; roster's "
        "items have Label Studio Enterprise's shape (`role`, `role_source`, `tags`, `user_type`, "
        "`lse_fields`), the open-source ones carry `active_organization_meta` instead, so a first page is "
        f"{r['roster_bytes'] / 1024:.0f} KiB from roster and {r['ls_bytes'] / 1024:.0f} KiB from Label "
        "Studio. This is the PyPI package as `label-studio start` serves it; "
        "Label Studio's Docker image puts nginx in front and was not measured. Neither server was tuned.",
    ]
    if r["disturbed"]:
        names = sorted({n for d in r["disturbed"] for n in d[3]})
        lines += ["", f"(†N) Other processes on the machine ({', '.join(names)}: another engineer's build or "
                      f"tests) used N of its 2 cores on average during that wrk run ({len(r['disturbed'])} of "
                      f"the {2 * len(ROWS)}): its figures are lower than an idle machine's by an unknown amount."]
    if r["seq_others"][0] > DISTURBED:
        lines += ["", f"Other processes ({', '.join(r['seq_others'][1])}) used {r['seq_others'][0]:.2f} cores "
                      "on average while the one-at-a-time requests were timed."]
    if args.note:
        lines += ["", args.note]
    return lines + [""]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--members", type=int, default=10000)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--samples", type=int, default=50, help="requests timed one at a time, each URL and server")
    ap.add_argument("--note", default="", help="a sentence to add to the section")
    ap.add_argument("--out", default=os.path.join(run.ROOT, "BENCHMARKS.md"))
    args = ap.parse_args()
    if not os.path.exists(run.BIN):
        raise SystemExit(f"no roster binary at {run.BIN} (build it, or set ROSTER_BIN)")
    began = time.perf_counter()
    pip_s = ensure_label_studio()
    if pip_s is not None:
        print(f"peer: pip install took {pip_s:.0f} s", flush=True)

    r = {"date": str(datetime.date.today()), "disturbed": []}
    ls_data = rdata = ls_server = rserver = None
    watch = CpuWatch()
    watch.start()
    try:
        print(f"peer: seeding Label Studio {LS_VERSION} with {args.members} members", flush=True)
        ls_data, env, seed = ls_seeded(args.members)
        r["ls_seed_s"] = seed["seconds"]
        ls_server, ls_base = ls_serve(ls_data, env)
        print(f"peer: seeding roster with {args.members} members", flush=True)
        rdata, renv, r["roster_seed_s"] = run.seeded("sqlite", "roster-peer-", ["--members", str(args.members)])
        rserver, rbase = run.serve(renv)
        rkey = run.owner_key(rbase)
        r["redis"] = answers(6379)

        rurls, r["count"] = check("roster", rbase, 1, rkey, args.members)
        lurls, _ = check("Label Studio", ls_base, seed["org"], seed["token"], args.members)
        r["roster_bytes"] = size(rurls["first_page"], rkey)
        r["ls_bytes"] = size(lurls["first_page"], seed["token"])

        r["roster"], r["ls"], r["roster_seq"], r["ls_seq"] = {}, {}, {}, {}
        sides = (("roster", rurls, rkey, rserver.pid), ("ls", lurls, seed["token"], ls_server.pid))
        for key in ROWS:
            for side, urls, token, pid in sides:
                print(f"peer: wrk {side} {key}", flush=True)
                started = time.monotonic()
                r[side][key] = run.wrk(urls[key], token, args.seconds)
                cores, names = watch.between(started, time.monotonic())
                if cores > DISTURBED:
                    r["disturbed"].append((side, key, round(cores, 2), names))
                print(json.dumps(r[side][key]), flush=True)
                settle(pid)
        started = time.monotonic()
        for key in ROWS:
            for side, urls, token, pid in sides:
                r[f"{side}_seq"][key] = one_at_a_time(urls[key], token, args.samples)
        r["seq_others"] = watch.between(started, time.monotonic())
    except BaseException:
        # The data folders go below; keep what Label Studio said for the failure's reader.
        if ls_data and os.path.exists(os.path.join(ls_data, "label-studio.log")):
            with open(os.path.join(ls_data, "label-studio.log")) as f:
                print("peer: the end of Label Studio's log:\n" + "".join(f.readlines()[-30:]), file=sys.stderr)
        raise
    finally:
        watch.done.set()
        if ls_server is not None:
            stop(ls_server)
        if rserver is not None:
            rserver.terminate()
            rserver.wait()
        if ls_data:
            shutil.rmtree(ls_data, ignore_errors=True)
        if rdata:
            run.discard("sqlite", rdata)

    run.write_section(args.out, MARK, section(r, args))
    print(json.dumps(r))
    print(f"wrote {args.out}; the run took {time.perf_counter() - began:.0f} s", flush=True)


if __name__ == "__main__":
    sys.exit(main())
