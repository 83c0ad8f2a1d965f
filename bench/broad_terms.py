"""Each of bench/run.py's 100 broad search terms asked one at a time, its count already kept:
which terms are slow to page, and why a run's broad-search p99 is what it is.

    python3 bench/broad_terms.py sqlite|postgres [--members 1000000]

Seeds a fresh organization as bench/run.py does, asks each term once to keep its count, then
three more times, and prints the slowest terms by their median time and the median over all.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("db", choices=["sqlite", "postgres"])
    ap.add_argument("--members", type=int, default=1_000_000)
    args = ap.parse_args()
    data, env, secs = run.seeded(args.db, "roster-terms-", ["--members", str(args.members)])
    print(f"seeded {args.members:,} members on {args.db} in {secs:.1f} s", flush=True)
    server, base = run.serve(env)
    try:
        key = run.owner_key(base)
        members = f"{base}/api/organizations/1/memberships?page_size=100&search="
        found = []
        for term in run.broad_terms():
            run.request(members + term, key)  # the count is taken and kept
            times = []
            for _ in range(3):
                seconds, body = run.request(members + term, key)
                times.append(seconds * 1000)
            found.append((sorted(times)[1], term, body["count"]))
        found.sort(reverse=True)
        for ms, term, count in found[:12]:
            print(f"{term:12} {ms:8.1f} ms  count {count:,}")
        print(f"median over all {len(found)} terms: {sorted(f[0] for f in found)[len(found) // 2]:.1f} ms")
    finally:
        server.terminate()
        server.wait()
        run.discard(args.db, data)


if __name__ == "__main__":
    main()
