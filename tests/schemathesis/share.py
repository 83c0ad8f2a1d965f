"""Prints how a schemathesis pass was answered (from its HAR report) and checks the share of
answers that were neither 401 nor 403, i.e. that reached the handlers past authorization.

Usage: python share.py REPORT_DIR LABEL LEAST_PERCENT
"""

import collections
import glob
import json
import sys


def main(report_dir, label, least):
    statuses = collections.Counter()
    for path in glob.glob(f"{report_dir}/**/har-*.json", recursive=True):
        with open(path) as f:
            for entry in json.load(f)["log"]["entries"]:
                statuses[entry["response"]["status"]] += 1
    total = sum(statuses.values())
    if total == 0:
        print(f"{label}: no requests recorded")
        return 1
    denied = statuses[401] + statuses[403]
    share = 100.0 * (total - denied) / total
    by_status = ", ".join(f"{s}: {n}" for s, n in sorted(statuses.items()))
    print(f"{label}: {total} requests, {share:.1f}% not 401/403 ({by_status})")
    if share < float(least):
        print(f"{label}: the share of answers past authorization is below {least}%")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
