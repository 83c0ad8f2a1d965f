#!/usr/bin/env python3
"""Workspace and project access at scale: seeds an organization with `roster dev seed
--workspaces W --projects P` (W = members / 1,000, P = members / 100; the first project holds
every second member, the first workspace the first tenth), starts a release `roster serve`
on each database and measures with wrk the lists that grow with the organization. Writes the
"Workspaces and project access" section of BENCHMARKS.md (run.py keeps it when it rewrites the
rest; filters.py's section after it stays). Uses run.py's helpers, so they measure the same way.

    python3 bench/access.py                                   # 10,000 and 1,000,000, both databases
    python3 bench/access.py --sizes 2000 --seconds 2 --out /tmp/x.md   # a smoke
"""

import datetime
import importlib.util
import json
import os
import random
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("bench_run", os.path.join(HERE, "run.py"))
run = importlib.util.module_from_spec(spec)
spec.loader.exec_module(run)

MARK = run.ACCESS_MARK

MEASURES = [
    ("exclude_project", "members less the big project (`exclude_project_id`, it holds half), first page"),
    ("exclude_workspace", "members less the big workspace (`exclude_workspace_id`, a tenth), first page"),
    ("ws_members", "big workspace's members (`memberships/paginated`, a tenth of all), first page"),
    ("project_members", "big project's members (`members/paginated`, half of all plus implicit), first page"),
    ("projects", "project list (`/api/projects/?page_size=100`), first page"),
    ("workspaces", "workspace list (`/api/workspaces/`, all of them)"),
]


def run_one(db, size, seconds):
    workspaces, projects = max(2, size // 1000), max(2, size // 100)
    data, env, seed_secs = run.seeded(db, "roster-access-", ["--members", str(size), "--workspaces", str(workspaces),
                                                              "--projects", str(projects)])
    result = {"db": db, "size": size, "n_workspaces": workspaces, "n_projects": projects,
              "seed_s": seed_secs}
    server, base = run.serve(env)
    try:
        key = run.owner_key(base)
        # The seed creates the workspaces and projects in order: the first of each is the big one.
        _, ws_list = run.request(f"{base}/api/workspaces/?ordering=id", key)
        big_ws = [w for w in ws_list if w["title"] == "Workspace 1"][0]["id"]
        _, p_list = run.request(f"{base}/api/projects/?title=Project%201&ordering=id&page_size=1", key)
        big_project = p_list["results"][0]["id"]
        members = f"{base}/api/organizations/1/memberships?page_size=100"
        urls = {
            "exclude_project": f"{members}&exclude_project_id={big_project}",
            "exclude_workspace": f"{members}&exclude_workspace_id={big_ws}",
            "ws_members": f"{base}/api/workspaces/{big_ws}/memberships/paginated/?page_size=100",
            "project_members": f"{base}/api/projects/{big_project}/members/paginated/?page_size=100",
            "projects": f"{base}/api/projects/?page_size=100",
            "workspaces": f"{base}/api/workspaces/",
        }
        for name, url in urls.items():
            _, body = run.request(url, key)
            if name != "workspaces":
                result[f"{name}_count"] = body["count"]
            result[name] = run.wrk(url, key, seconds)
        # Deep pages of the big workspace, one at a time (the list pages with OFFSET).
        pages = max(1, result["ws_members_count"] // 100)
        deep = []
        for _ in range(50):
            t, _ = run.request(f"{urls['ws_members']}&page={random.randint(1, pages)}", key)
            deep.append(t)
        result["ws_deep"] = run.pcts(deep)
        result["rss_peak_mib"] = run.rss_kib(server.pid, "VmHWM") / 1024
        return result
    finally:
        server.terminate()
        server.wait()
        run.discard(db, data)


def timed_out(m):
    """wrk finished (almost) no request within its 2 s timeout: it has no latencies to give."""
    return m["rps"] < 1


def shown(m):
    if timed_out(m):
        return "under 1 req/s: requests take longer than wrk's 2 s timeout"
    return run.fmt(m)


def section(results, seconds):
    lines = [
        MARK,
        "## Workspaces and project access",
        "",
        f"Written by `python3 bench/access.py` on {datetime.date.today()}; wrk, 2 threads, 16 connections,",
        f"{seconds} s per list. `roster dev seed --workspaces W --projects P` gives an organization of N",
        "members W = N/1,000 workspaces and P = N/100 projects (so 1,000 and 10,000 at 1,000,000); every member",
        "is in one more workspace and project, the first project holds every second member and the first",
        "workspace the first tenth.",
        "",
    ]
    for r in results:
        lines += [
            f"### {r['db']}, {r['size']:,} members, {r['n_workspaces']:,} workspaces, {r['n_projects']:,} projects",
            "",
            "| measure | result |",
            "|---|---|",
            f"| seed through `roster dev seed` | {r['seed_s']:.1f} s |",
        ]
        for key, label in MEASURES:
            count = f" ({r[key + '_count']:,} in the list)" if key + "_count" in r else ""
            lines.append(f"| {label}{count} | {shown(r[key])} |")
        lines += [
            f"| big workspace's members, 50 random pages one at a time | p50 {r['ws_deep']['p50']:.2f} ms, p99 {r['ws_deep']['p99']:.2f} ms |",
            f"| resident memory, peak | {r['rss_peak_mib']:.0f} MiB |",
            "",
        ]
    by = {(r["db"], r["size"]): r for r in results}
    for db in dict.fromkeys(r["db"] for r in results):
        small, big = by.get((db, 10000)), by.get((db, 1000000))
        if not (small and big):
            continue
        lines += [f"### Growth on {db}, 1,000,000 against 10,000 (p50; the target is within 1.5x)", "",
                  "| measure | ratio |", "|---|---|"]
        for key, label in MEASURES:
            a, b = small[key]["p50"], big[key]["p50"]
            if timed_out(big[key]):
                lines.append(f"| {label} | over 2 s at 1,000,000 ({a:.2f} ms at 10,000) |")
            else:
                lines.append(f"| {label} | {b / a:.2f}x ({a:.2f} ms, {b:.2f} ms) |")
        a, b = small["ws_deep"]["p50"], big["ws_deep"]["p50"]
        lines += [f"| big workspace's members, random pages | {b / a:.2f}x ({a:.2f} ms, {b:.2f} ms) |", ""]
    return lines


def main():
    args = run.arguments()
    results = []
    for size in [int(s) for s in args.sizes.split(",")]:
        for db in args.dbs.split(","):
            print(f"access benchmark: {db}, {size} members", flush=True)
            r = run_one(db, size, args.seconds)
            print(json.dumps(r), flush=True)
            results.append(r)
    run.write_section(args.out, MARK, section(results, args.seconds))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    sys.exit(main())
