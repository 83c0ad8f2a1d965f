"""Seeds a fresh organization for the schemathesis run, through roster's public API only, and
writes the schemathesis configuration that points the generated path and query ids at the
seeded objects (so that most cases reach the handlers instead of ending in 404).

Usage: ROSTER_URL=... ROSTER_OWNER_EMAIL=... ROSTER_OWNER_PASSWORD=... python seed.py OUT_DIR
       python seed.py --key URL EMAIL PASSWORD   (prints that person's current legacy key)
Writes OUT_DIR/credentials.env (OWNER_KEY, ADMINISTRATOR_KEY, MANAGER_KEY, ANNOTATOR_KEY) and
OUT_DIR/schemathesis.toml.
"""

import os
import sys
import time

import requests

BASE = os.environ.get("ROSTER_URL", "").rstrip("/")
PASSWORD = "schemathesis-password"
# The first three are the Annotator, Administrator and Manager whose credentials the run uses.
ROLES = ["AN", "AD", "MA", "RE", "AN", "AN", "NO", "DI"]


def key_of(email, password):
    s = requests.Session()
    # The fuzzing before this sign-in sends made-up credentials from this address (refresh
    # tokens, passwords), which the sign-in throttle counts: wait as long as it asks.
    for _ in range(30):
        r = s.post(f"{BASE}/user/login", json={"email": email, "password": password})
        if r.status_code != 429:
            break
        time.sleep(float(r.headers.get("Retry-After", "1")))
    assert r.status_code == 200, f"login {email}: {r.status_code} {r.text}"
    return s.get(f"{BASE}/api/current-user/token").json()["token"]


def main(out):
    owner_key = key_of(os.environ["ROSTER_OWNER_EMAIL"], os.environ["ROSTER_OWNER_PASSWORD"])
    owner = {"Authorization": f"Token {owner_key}"}
    me = requests.get(f"{BASE}/api/current-user/whoami", headers=owner).json()
    org = me["active_organization"]
    invite = requests.get(f"{BASE}/api/invite", headers=owner).json()["token"]
    users = []
    for i, role in enumerate(ROLES):
        email = f"fuzz{i:02d}@schemathesis.example.com"
        r = requests.post(
            f"{BASE}/user/signup/?token={invite}",
            json={"email": email, "password": PASSWORD, "first_name": f"Fuzz{i:02d}", "last_name": role},
        )
        assert r.status_code == 201, f"sign-up {email}: {r.status_code} {r.text}"
        uid = r.json()["user"]["id"]
        users.append(uid)
        if role != "NO":
            r = requests.patch(f"{BASE}/api/organizations/{org}/memberships", headers=owner, json={"user_id": uid, "role": role})
            assert r.status_code == 200, f"role {email}: {r.status_code} {r.text}"
    annotator_id = users[0]
    annotator_key = key_of("fuzz00@schemathesis.example.com", PASSWORD)
    administrator_key = key_of("fuzz01@schemathesis.example.com", PASSWORD)
    manager_key = key_of("fuzz02@schemathesis.example.com", PASSWORD)
    projects = []
    for i in range(3):
        r = requests.post(f"{BASE}/api/projects", headers=owner, json={"title": f"Fuzz project {i}", "description": "seeded"})
        assert r.status_code == 201, f"project: {r.status_code} {r.text}"
        pid = r.json()["id"]
        projects.append(pid)
        for uid in users[:6]:
            r = requests.post(f"{BASE}/api/projects/{pid}/members", headers=owner, json={"user": uid})
            assert r.status_code == 201, f"project member: {r.status_code} {r.text}"
        r = requests.post(
            f"{BASE}/api/projects/{pid}/annotations",
            headers={"Authorization": f"Token {annotator_key}"},
            json={"result": {"label": "seeded"}},
        )
        assert r.status_code == 201, f"annotation: {r.status_code} {r.text}"

    with open(os.path.join(out, "credentials.env"), "w") as f:
        f.write(f"OWNER_KEY={owner_key}\nADMINISTRATOR_KEY={administrator_key}\n")
        f.write(f"MANAGER_KEY={manager_key}\nANNOTATOR_KEY={annotator_key}\n")
    with open(os.path.join(out, "schemathesis.toml"), "w") as f:
        f.write(config(org, [me["id"], *users], projects))
    print(f"seeded organization {org}: {len(users)} members, projects {projects}, annotator {annotator_id}")


def config(org, users, projects):
    """Ids come from the seeded objects 80% of the time; the rest stays generated (foreign, absent,
    negative, huge) so that the not-found and forbidden paths are fuzzed as well."""
    ids = lambda xs: ", ".join(str(x) for x in xs)  # noqa: E731
    bind = lambda name: f'{{ dictionary = "{name}", probability = 0.8 }}'  # noqa: E731
    return f"""# written by tests/schemathesis/seed.py

# Every built-in check but positive_data_acceptance, which wants every schema-valid request
# accepted, while the product refuses well-typed requests by rules JSON Schema cannot state (an
# Owner cannot remove themselves: 405; password policy, unique emails and usernames, seat
# limits, the roles a default role may take): those answer a documented 4xx. Set here rather
# than with `--checks` on the command line, which would override the per-operation settings below.
[checks.positive_data_acceptance]
enabled = false

# The stateful phase follows the document's links (crates/http/src/api/links.rs) and the ones
# schemathesis infers from which fields hold which ids. Not the ones it infers from URLs seen in
# answers: it pairs SAML's sign-in URLs with operations that take no `token`, then rejects the
# document's links altogether and skips the phase.
[phases.stateful.inference]
algorithms = ["dependency-analysis"]
# About 450 scenarios a role (20 s); more examples than this add no scenarios here.
[phases.stateful.generation]
max-examples = 300

[dictionaries.orgs]
values = [{org}, 0]
[dictionaries.users]
values = [{ids(users)}]
[dictionaries.projects]
values = [{ids(projects)}]

[[operations]]
include-path-regex = "^/api/organizations/\\\\{{id\\\\}}"
parameters = {{ "path.id" = {bind("orgs")}, "path.user_id" = {bind("users")} }}

# POST /api/users answers 201 for an email that already has an account as well, without making
# them a member: they get a personal invite to accept, and the answer never tells an
# Administrator whether someone has an account elsewhere. /api/users/{{id}} then answers 404 for
# the id that answer showed until they accept, which schemathesis's "created resource not
# found" check would take for a lost write.
[[operations]]
include-path-regex = "^/api/users/\\\\{{id\\\\}}"
parameters = {{ "path.id" = {bind("users")} }}
checks = {{ ensure_resource_availability = {{ enabled = false }} }}

[[operations]]
include-path-regex = "^/api/projects/\\\\{{id\\\\}}"
parameters = {{ "path.id" = {bind("projects")}, "query.user" = {bind("users")}, "body.user" = {bind("users")} }}

[[operations]]
include-path = "/api/projects/roles"
parameters = {{ "query.project" = {bind("projects")}, "body.project" = {bind("projects")}, "body.user" = {bind("users")} }}

[[operations]]
include-path = "/api/audit-events"
parameters = {{ "query.actor" = {bind("users")}, "query.target" = {bind("users")} }}

[[operations]]
include-path = "/api/activity-logs"
parameters = {{ "query.user" = {bind("users")}, "query.project" = {bind("projects")} }}
"""


if __name__ == "__main__":
    if sys.argv[1] == "--key":  # --key URL EMAIL PASSWORD: print a fresh caller's current key
        BASE = sys.argv[2].rstrip("/")
        print(key_of(sys.argv[3], sys.argv[4]))
    else:
        sys.exit(main(sys.argv[1]))
