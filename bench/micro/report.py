#!/usr/bin/env python3
"""Writes BENCHMARKS-micro.md (to stdout) from criterion's results of one run of
`cargo bench -p roster-bench`: every target/criterion/**/new/estimates.json written since the
run started, in the order they were written, with the machine and the command."""

import argparse
import datetime
import json
import os
import pathlib
import platform
import re
import subprocess


def fmt_ns(ns: float) -> str:
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.3g} {unit}" if ns / scale < 100 else f"{ns / scale:.0f} {unit}"
    return f"{ns:.3g} ns"


def cpu_model() -> str:
    try:
        for line in open("/proc/cpuinfo", encoding="utf-8"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def mem_total() -> str:
    try:
        for line in open("/proc/meminfo", encoding="utf-8"):
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.0f} GiB"
    except OSError:
        pass
    return "unknown"


def run(*cmd: str) -> str:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, check=False).stdout
    except OSError:
        return ""


def results(root: pathlib.Path, since: float):
    found = []
    for est in root.glob("**/new/estimates.json"):
        mtime = est.stat().st_mtime
        if mtime + 1 < since:
            continue  # left over from an earlier run or a benchmark that no longer exists
        meta = json.loads((est.parent / "benchmark.json").read_text())
        median = json.loads(est.read_text())["median"]
        ci = median["confidence_interval"]
        found.append((mtime, meta["full_id"], median["point_estimate"], ci["lower_bound"], ci["upper_bound"]))
    return sorted(found)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--since", type=float, required=True, help="Unix time the run started")
    ap.add_argument("--command", required=True, help="the command that ran the benchmarks")
    ap.add_argument("--seconds", type=int, help="wall time of the run")
    ap.add_argument("--log", help="the run's output, for the seeding times it prints")
    ap.add_argument("--load-before", help="/proc/loadavg when the run started")
    ap.add_argument("--criterion-dir", default=os.path.join(os.environ.get("CARGO_TARGET_DIR", "target"), "criterion"))
    args = ap.parse_args()

    rows = results(pathlib.Path(args.criterion_dir), args.since)
    if not rows:
        raise SystemExit(f"no results newer than the run's start in {args.criterion_dir}")
    seeded = []
    if args.log:
        text = open(args.log, encoding="utf-8", errors="replace").read()
        seeded = re.findall(r"^seeded .*$", text, re.M)
    # Porcelain lines are "XY path"; the figures are of the work tree, so name what differs.
    dirty = [l[3:] for l in run("git", "status", "--porcelain", "--", "crates").splitlines()]
    commit = run("git", "rev-parse", "--short", "HEAD").strip() or "unknown"

    out = [
        "# Micro-benchmarks",
        "",
        "Criterion micro-benchmarks of `bench/micro/benches/core.rs`: the domain's pure decisions, and",
        "the store reads behind the member list and behind every authenticated request, on an",
        "organization of 10,000 members plus its Owner seeded through the service's bulk import (the",
        "path of `roster dev seed`). Store benchmarks take a pooled connection in each iteration, as a",
        "request does; `authenticate/*` and `authorize/*` are the service calls the HTTP extractor makes.",
        "Times are per call (per sweep for `all_*`), the median of criterion's samples with its 95%",
        "confidence interval. PostgreSQL rows appear when `ROSTER_BENCH_PG_URL` was set.",
        "",
        f"- date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC",
        f"- machine: {os.cpu_count()} CPUs ({cpu_model()}), {mem_total()} memory, {platform.system()} {platform.release()}",
        f"- toolchain: {run('rustc', '--version').strip() or 'unknown'}",
        f"- source: commit {commit}"
        + (f", with uncommitted changes in {', '.join(dirty)}" if dirty else ""),
        f"- command: `{args.command}`",
    ]
    if args.seconds is not None:
        out.append(f"- wall time of the run (bench binary already built): {args.seconds} s")
    if args.load_before:
        # Other work on a 2-core machine skews the figures; the load shows whether there was any.
        after = open("/proc/loadavg", encoding="utf-8").read().split()[:3]
        out.append(f"- load average (1, 5, 15 min) before the run: {' '.join(args.load_before.split()[:3])}; after: {' '.join(after)}")
        if max(float(args.load_before.split()[0]), float(after[0])) > 0.5:
            out.append("- note: the machine was not idle (load above 0.5), so other work shared its two cores"
                       " and these figures are inflated and noisier than on an idle machine")
    for line in seeded:
        out.append(f"- {line}")
    out += ["", "| benchmark | median | 95% CI of the median |", "|---|---:|---:|"]
    for _, name, median, lo, hi in rows:
        out.append(f"| `{name}` | {fmt_ns(median)} | {fmt_ns(lo)} – {fmt_ns(hi)} |")
    print("\n".join(out))


if __name__ == "__main__":
    main()
