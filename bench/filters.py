#!/usr/bin/env python3
"""Member filters at scale: seeds an organization with `roster dev seed --tags 5
--tagged-percent 20 --activity-days 365` (five tags, one on each of a fifth of the members,
so each tag holds about 4%; last activity spread over the past year, every tenth member never
active), starts a release `roster serve` on each database and measures with wrk the member
filter endpoints of label-studio-sdk 2.1.2 (`members.get_filter_schema`, the two
`filter-options` calls, `members.list_filtered`, `members.search`) and the member list's
`tags`, `user_type` and `user__last_activity__gte/lte` filters, each first page and a cold
jump to the middle page of its results. Writes the "Member filters" section of BENCHMARKS.md
(run.py and access.py keep it when they rewrite theirs). Uses run.py's helpers, so the three
measure the same way.

    python3 bench/filters.py                                   # 10,000 and 1,000,000, both databases
    python3 bench/filters.py --sizes 2000 --seconds 2 --out /tmp/x.md   # a smoke
    python3 bench/filters.py --baseline bench/filters-baseline.json --baseline-note "..."
        # also a before/after table against an earlier run's results (the JSON lines it printed)
    python3 bench/filters.py --results run.log --baseline ...   # the section from a run's printed results
    ROSTER_BENCH_KEEP=1 python3 bench/filters.py --sizes 1000000 ...  # keeps the seeded databases
        # (printed) for bench/activity_writes.py; the next run of either size drops PostgreSQL's
"""

import datetime
import importlib.util
import json
import os
import subprocess
import sys
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("bench_run", os.path.join(HERE, "run.py"))
run = importlib.util.module_from_spec(spec)
spec.loader.exec_module(run)
spec = importlib.util.spec_from_file_location("bench_access", os.path.join(HERE, "access.py"))
access = importlib.util.module_from_spec(spec)
spec.loader.exec_module(access)

MARK = run.FILTERS_MARK
TAGS, TAGGED_PERCENT, ACTIVITY_DAYS = 5, 20, 365
# Workspaces and projects for the `filter-options/membership` list (created through the API;
# members are not put in them: the options list does not grow with the members).
WORKSPACES, PROJECTS = 5, 20
PAGE_SIZE = 100

# (key, label, has a middle page to measure)
MEASURES = [
    ("health", "`GET /api/health` (one database round trip)", False),
    ("whoami", "`GET /api/current-user/whoami`", False),
    ("schema", "`memberships/filter-schema`", False),
    ("opt_membership", f"`memberships/filter-options/membership` ({WORKSPACES} workspaces, {PROJECTS} projects)", False),
    ("opt_skills", "`memberships/filter-options/skills`", False),
    ("tag_list", f"`member-tags` (the tag filter's options: {TAGS} tags with member counts)", False),
    ("lf_tag", "`list_filtered`, one tag", True),
    ("lf_activity", "`list_filtered`, last activity in the last 30 days", True),
    ("lf_role_search", "`list_filtered`, roles AN,RE and a selective search", True),
    ("search_post", "`POST memberships/search`, a tag and last activity in the last 90 days", True),
    ("list_tags", "members list, `tags=` two tags", True),
    ("list_user_type", "members list, `user_type=standard` (every member)", True),
    ("list_activity", "members list, `user__last_activity__gte/lte` (30 to 60 days ago)", True),
]


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def payload(*clauses):
    return json.dumps({"version": 1, "filters": [{"key": k, "value": v} for k, v in clauses]})


def post_script(path, body):
    with open(path, "w") as f:
        f.write('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
                f"wrk.body = {json.dumps(body)}\n")
    return path


def run_one(db, size, seconds):
    data, env, seed_secs = run.seeded(db, "roster-filters-", [
        "--members", str(size), "--tags", str(TAGS), "--tagged-percent", str(TAGGED_PERCENT),
        "--activity-days", str(ACTIVITY_DAYS)])
    result = {"db": db, "size": size, "seed_s": seed_secs}
    # The machine may be shared: its load while measuring is part of the result.
    load_before = os.getloadavg()[0]
    if db == "postgres":
        # What autovacuum does a little later on its own: planner statistics for the new rows.
        started = time.perf_counter()
        subprocess.run(["psql", "-q", "-h", "127.0.0.1", "-U", "postgres", "-d", run.PG_DB,
                        "-c", "VACUUM ANALYZE"], check=True)
        result["analyze_s"] = time.perf_counter() - started
    server, base = run.serve(env)
    try:
        key = run.owner_key(base)
        for n in range(1, WORKSPACES + 1):
            run.request(f"{base}/api/workspaces/", key, "POST", json.dumps({"title": f"Workspace {n}"}).encode())
        for n in range(1, PROJECTS + 1):
            run.request(f"{base}/api/projects/", key, "POST", json.dumps({"title": f"Project {n}"}).encode())
        _, tags = run.request(f"{base}/api/organizations/1/member-tags?ordering=id&page_size=100", key)
        tag_ids = [t["id"] for t in sorted(tags["results"], key=lambda t: t["id"])]
        now = datetime.datetime.now(datetime.timezone.utc)
        days = lambda n: iso(now - datetime.timedelta(days=n))  # noqa: E731
        members = f"{base}/api/organizations/1/memberships"
        # As in run.py: "first12345" matches 11 members at 1,000,000 ("first123" 11 at 10,000).
        term = f"first{str(size // 81)[:5]}"
        filtered = lambda p: f"{members}/search?page_size={PAGE_SIZE}&filters={urllib.parse.quote(p)}"  # noqa: E731
        urls = {
            "health": f"{base}/api/health",
            "whoami": f"{base}/api/current-user/whoami",
            "schema": f"{members}/filter-schema",
            "opt_membership": f"{members}/filter-options/membership",
            "opt_skills": f"{members}/filter-options/skills",
            "tag_list": f"{base}/api/organizations/1/member-tags",
            "lf_tag": filtered(payload(("tags", [tag_ids[0]]))),
            "lf_activity": filtered(payload(("last_activity", {"gte": days(30)}))),
            "lf_role_search": filtered(payload(("role", ["AN", "RE"]), ("search", term))),
            "search_post": f"{members}/search?page_size={PAGE_SIZE}",
            "list_tags": f"{members}?page_size={PAGE_SIZE}&tags={tag_ids[1]},{tag_ids[2]}",
            "list_user_type": f"{members}?page_size={PAGE_SIZE}&user_type=standard",
            "list_activity": f"{members}?page_size={PAGE_SIZE}&user__last_activity__gte={days(60)}"
                             f"&user__last_activity__lte={days(30)}",
        }
        search_body = payload(("tags", [tag_ids[3]]), ("last_activity", {"gte": days(90)}))
        script = post_script(os.path.join(data, "search.lua"), '{"filters": %s}' % search_body)
        for name, label, deep in MEASURES:
            url = urls[name]
            lua = script if name == "search_post" else None
            if deep:
                if lua:
                    _, body = run.request(url, key, "POST", ('{"filters": %s}' % search_body).encode())
                else:
                    _, body = run.request(url, key)
                result[f"{name}_count"] = body["count"]
            result[name] = run.wrk(url, key, seconds, script=lua)
            if deep:
                # The middle page of the results, by offset: wrk asks for it again and again, and
                # the page before it is never served, so each request is a cold jump.
                page = max(1, -(-body["count"] // PAGE_SIZE) // 2)
                result[f"{name}_page"] = page
                result[f"{name}_deep"] = run.wrk(f"{url}&page={page}", key, seconds, script=lua)
        result["rss_peak_mib"] = run.rss_kib(server.pid, "VmHWM") / 1024
        result["load"] = (load_before, os.getloadavg()[0])
        return result
    finally:
        server.terminate()
        server.wait()
        if os.environ.get("ROSTER_BENCH_KEEP"):
            # Kept for bench/activity_writes.py, which needs the same seeded organization.
            where = os.path.join(data, "roster.db") if db == "sqlite" else run.PG
            print(f"kept the {db} database: {where}", flush=True)
        else:
            run.discard(db, data)


def slow(m):
    """Some requests took longer than wrk's 2 s timeout: its percentiles leave them out."""
    return m["timeouts"] > 0 or access.timed_out(m)


def p50(m):
    # wrk counts a request it gave up on at 2 s as done, with no latency: all such, p50 is 0.
    if access.timed_out(m) or m["p50"] == 0:
        return "no request within 2 s"
    over = f", {m['timeouts']} over 2 s" if m["timeouts"] else ""
    return f"p50 {m['p50']:.2f} ms{over}"


def compared(before, results):
    """p50 before and after, from an earlier run's results (`--baseline`), per database and size."""
    lines = []
    old = {(r["db"], r["size"]): r for r in before}
    for r in results:
        b = old.get((r["db"], r["size"]))
        if not b:
            continue
        lines += [f"### Before and after, {r['db']}, {r['size']:,} members", "",
                  "| measure | first page, before / after | middle page, before / after |", "|---|---|---|"]
        for key, label, deep in MEASURES:
            middle = f"{p50(b[key + '_deep'])} / {p50(r[key + '_deep'])}" if deep else ""
            lines.append(f"| {label} | {p50(b[key])} / {p50(r[key])} | {middle} |")
        lines.append("")
    return lines


def section(results, seconds, before=None, before_note=""):
    lines = [
        MARK,
        "## Member filters",
        "",
        f"Written by `python3 bench/filters.py` on {datetime.date.today()}; wrk, 2 threads, 16 connections,",
        f"{seconds} s per measure, `page_size={PAGE_SIZE}`. `roster dev seed --tags {TAGS} --tagged-percent "
        f"{TAGGED_PERCENT} --activity-days {ACTIVITY_DAYS}`",
        f"puts one of {TAGS} tags on a fifth of the members (each tag on about 4%) and spreads last activity",
        "over the past year (every tenth member never active). The middle page is a cold jump by offset",
        "to the middle of the filter's results (the page before it never served, so no seek).",
        "PostgreSQL gets a `VACUUM ANALYZE` after the seed, as autovacuum would a little later.",
        "With 16 connections on 2 cores each list is served at saturation: a p50 is about 16 / (req/s),",
        "so it shows what a request costs as much as how long one takes alone.",
        "",
        "How they are answered (migration 22 and `crates/store/src/members.rs`): a tag filter alone is",
        "counted from the tags' index ranges (one tag `COUNT(*)`, several `COUNT(DISTINCT)`); an activity",
        "window from `memberships_by_activity`, the index of the copy of each live member's last activity",
        "that migration 22 keeps on the membership; other combinations count from the tags' index and",
        "check each row. A page is found as ids first (from memberships' own indexes) and rows second.",
        "A first page walks the list in email order and checks each member, about page x members /",
        "matches rows; a rare tag, a narrow window or a page deep in the results starts from the",
        "filter's index and sorts its matches. SQLite is told which (its statistics cannot weigh a",
        "tag); PostgreSQL's planner chooses. What still grows with the organization: a count is as long",
        "as its matches (index entries only); the middle page sorts all the matches by email (a cold",
        "jump by offset; a walk page after page seeks past the previous page instead); the tag list",
        "counts each tag's members on every request; on PostgreSQL a deep page of a tag reads the",
        "memberships table in parallel rather than the tag's members one by one (its planner's",
        "choice at the default cost settings).",
        "",
    ]
    for r in results:
        lines += [
            f"### {r['db']}, {r['size']:,} members",
            "",
            "| measure | first page | middle page |",
            "|---|---|---|",
            f"| seed through `roster dev seed` | {r['seed_s']:.1f} s | |",
        ]
        for key, label, deep in MEASURES:
            count = f" ({r[key + '_count']:,} match)" if key + "_count" in r else ""
            middle = f"page {r[key + '_page']:,}: {access.shown(r[key + '_deep'])}" if deep else ""
            lines.append(f"| {label}{count} | {access.shown(r[key])} | {middle} |")
        lines += [f"| resident memory, peak | {r['rss_peak_mib']:.0f} MiB | |",
                  f"| machine load (1-minute average) before / after measuring | {r['load'][0]:.1f} / {r['load'][1]:.1f} | |", ""]
    by = {(r["db"], r["size"]): r for r in results}
    for db in dict.fromkeys(r["db"] for r in results):
        small, big = by.get((db, 10000)), by.get((db, 1000000))
        if not (small and big):
            continue
        lines += [f"### Growth on {db}, 1,000,000 against 10,000 (p50; the target is within 3x and under 100 ms)",
                  "", "| measure | first page | middle page |", "|---|---|---|"]

        def ratio(a, b):
            if slow(a) or slow(b):
                return f"{p50(a)} at 10,000, {p50(b)} at 1,000,000"
            return f"{b['p50'] / a['p50']:.2f}x ({a['p50']:.2f} ms, {b['p50']:.2f} ms)"

        for key, label, deep in MEASURES[2:]:
            middle = ratio(small[key + "_deep"], big[key + "_deep"]) if deep else ""
            lines.append(f"| {label} | {ratio(small[key], big[key])} | {middle} |")
        lines.append("")
    if before:
        lines += [before_note, ""] + compared(before, results)
    return lines


def read_results(path):
    """A run's results: the JSON object it prints per database and size, one a line."""
    with open(path) as f:
        return [json.loads(line) for line in f if line.startswith("{")]


def main():
    args = run.arguments(baseline=True)
    before = read_results(args.baseline) if args.baseline else None
    if args.results:
        results = read_results(args.results)
    else:
        results = []
        for size in [int(s) for s in args.sizes.split(",")]:
            for db in args.dbs.split(","):
                print(f"filters benchmark: {db}, {size} members", flush=True)
                r = run_one(db, size, args.seconds)
                print(json.dumps(r), flush=True)
                results.append(r)
    note = (f"The same measures before this run's build, from `{os.path.relpath(args.baseline, run.ROOT)}`"
            f" (`--baseline`): {args.baseline_note}") if before else ""
    run.write_section(args.out, MARK, section(results, args.seconds, before, note))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    sys.exit(main())
