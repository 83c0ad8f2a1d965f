"""Runs the third-party SCIM checker scim2-tester against a live roster server.

Seeds through roster's public REST API only: signs the Owner in, reads their legacy key, makes
the organization's dedicated SCIM token with it, and sets the SCIM settings: the mapping
fallback Annotator, so that provisioned users (in no mapped group) take a working seat, and a
deprovisioning limit above what one run deletes (the checker deletes about 50 Users within a
minute, which the default limit rightly refuses as a mass deprovisioning).

The checker's random email addresses are drawn in CONFORMANCE_DOMAIN, which the caller has
verified for the organization (`roster org domain add`): roster changes an account's email
only between addresses in domains verified for the organization (issue 11), and the checker,
which replaces `emails` with random addresses, cannot know that from the schema. Every other
value stays the checker's own.

Then runs every check of `scim2_tester.check_server` with scim2-client's httpx2 engine, prints
one line per result and a closing `N passed, N failed, N skipped` line.

Usage: ROSTER_URL=... ROSTER_OWNER_EMAIL=... ROSTER_OWNER_PASSWORD=... \
       CONFORMANCE_DOMAIN=... python conformance.py
Exit status: 1 if any result is ERROR, CRITICAL or DEVIATION (or seeding fails), else 0.
"""

import os
import re
import sys
import uuid

import scim2_tester.filling as filling
from httpx2 import Client
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import Status, check_server

PASSED = {Status.SUCCESS, Status.COMPLIANT, Status.ACCEPTABLE}
FAILED = {Status.ERROR, Status.CRITICAL, Status.DEVIATION}


def scim_token(base, email, password):
    with Client(base_url=base, timeout=30) as web:
        r = web.post("/user/login", json={"email": email, "password": password})
        assert r.status_code == 200, f"login {email}: {r.status_code} {r.text}"
        r = web.get("/api/current-user/token")
        assert r.status_code == 200, f"legacy key: {r.status_code} {r.text}"
        owner = {"Authorization": f"Token {r.json()['token']}"}
    with Client(base_url=base, headers=owner, timeout=30) as api:
        r = api.post("/api/scim/settings", json={"fallback_role": "Annotator", "max_deprovision": 100000})
        assert r.status_code == 200, f"SCIM settings: {r.status_code} {r.text}"
        r = api.post("/api/scim/token")
        assert r.status_code == 201, f"SCIM token: {r.status_code} {r.text}"
        return r.json()["token"]


def emails_in(domain):
    """Makes the checker's generated email addresses `<uuid>@<domain>` (it makes
    `<uuid>@<uuid>.com`); nothing else it generates changes."""
    generate = filling.generate_random_value

    made = re.compile(r"[0-9a-f-]{36}@[0-9a-f-]{36}\.com")

    def generate_in_domain(context, path, *args, **kwargs):
        value = generate(context, path, *args, **kwargs)
        if isinstance(value, str) and made.fullmatch(value):
            return f"{uuid.uuid4()}@{domain}"
        return value

    # fill_with_random_values looks the generator up in its module on every call, and an
    # address is only ever made there, as the sub-attribute of an `emails` value.
    filling.generate_random_value = generate_in_domain


def main():
    base = os.environ["ROSTER_URL"].rstrip("/")
    emails_in(os.environ["CONFORMANCE_DOMAIN"])
    token = scim_token(base, os.environ["ROSTER_OWNER_EMAIL"], os.environ["ROSTER_OWNER_PASSWORD"])
    http = Client(base_url=f"{base}/scim/v2", headers={"Authorization": f"Bearer {token}"}, timeout=30)
    results = check_server(SyncSCIMClient(http))
    counts = {"passed": 0, "failed": 0, "skipped": 0}
    for res in results:
        where = f" [{res.resource_type}]" if res.resource_type else ""
        reason = " ".join(str(res.reason or "").split())
        print(f"{res.status.name} {res.title}{where}: {reason}"[:400])
        if res.status in PASSED:
            counts["passed"] += 1
        elif res.status in FAILED:
            counts["failed"] += 1
        else:
            counts["skipped"] += 1
    print(f"{counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped")
    return 1 if counts["failed"] or not results else 0


if __name__ == "__main__":
    sys.exit(main())
