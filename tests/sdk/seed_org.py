"""Seeds the Owner's organization for the SDK compatibility test, through roster's public API only:
people sign up through the invite link (as Not Activated), then the Owner assigns their roles.

Usage: ROSTER_URL=... ROSTER_OWNER_EMAIL=... ROSTER_OWNER_PASSWORD=... python seed_org.py
"""

import os
import sys

import requests

BASE = os.environ["ROSTER_URL"].rstrip("/")
ROLES = ["AD", "MA", "MA", "RE", "RE", "RE"] + ["AN"] * 14 + ["NO", "NO", "NO", "DI", "DI"]


def main():
    s = requests.Session()
    r = s.post(f"{BASE}/user/login", json={"email": os.environ["ROSTER_OWNER_EMAIL"], "password": os.environ["ROSTER_OWNER_PASSWORD"]})
    r.raise_for_status()
    key = s.get(f"{BASE}/api/current-user/token").json()["token"]
    owner = {"Authorization": f"Token {key}"}
    org = requests.get(f"{BASE}/api/current-user/whoami", headers=owner).json()["active_organization"]
    token = requests.get(f"{BASE}/api/invite", headers=owner).json()["token"]
    for i, role in enumerate(ROLES):
        email = f"person{i:02d}@sdk.example.com"
        r = requests.post(
            f"{BASE}/user/signup/?token={token}",
            json={"email": email, "password": "sdk-test-password", "first_name": f"Person{i:02d}", "last_name": role},
        )
        assert r.status_code == 201, f"sign-up {email}: {r.status_code} {r.text}"
        user_id = r.json()["user"]["id"]
        if role != "NO":
            r = requests.patch(f"{BASE}/api/organizations/{org}/memberships", headers=owner, json={"user_id": user_id, "role": role})
            assert r.status_code == 200, f"role {email}: {r.status_code} {r.text}"
    print(f"seeded {len(ROLES)} members into organization {org}")


if __name__ == "__main__":
    sys.exit(main())
