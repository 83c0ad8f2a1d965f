"""The SDK's legacy client (`label_studio_sdk._legacy.Client(url, api_key)`), which older scripts
still use: it constructs against roster (it reads /api/version when made), checks the connection, and
its user, organization, member and workspace calls work (see test_sdk_compat.py for the set-up)."""

import uuid

import pytest
from label_studio_sdk._legacy import Client
from label_studio_sdk._legacy.users import User, UserRole

from test_sdk_compat import BASE, OWNER_EMAIL, key, ls, me, org_id, pytestmark, raw_get  # noqa: F401


@pytest.fixture(scope="module")
def legacy(key):
    return Client(url=BASE, api_key=key)


def test_it_constructs_and_checks_the_connection(legacy):
    assert legacy.is_enterprise
    assert legacy.check_connection() == {"status": "UP"}


def test_users_and_their_memberships(legacy, org_id):
    users = legacy.get_users()
    owner = next(u for u in users if u.email == OWNER_EMAIL)
    roles = {m.organization_id: m.role for m in owner.org_membership}
    assert roles[org_id] == UserRole.OWNER
    assert all(isinstance(u, User) and u.initials for u in users)


def test_a_role_set_through_a_legacy_user(legacy, key, org_id):
    page = raw_get(key, f"api/organizations/{org_id}/memberships", role="AN", page_size=100)
    target_id = page["results"][-1]["user"]["id"]
    target = next(u for u in legacy.get_users() if u.id == target_id)
    assert target.set_role(UserRole.REVIEWER).status_code == 200
    row = raw_get(key, f"api/organizations/{org_id}/memberships/{target_id}/")
    assert row["role"] == "RE"
    target.set_role(UserRole.ANNOTATOR)
    assert raw_get(key, f"api/organizations/{org_id}/memberships/{target_id}/")["role"] == "AN"


def test_the_organization(legacy, org_id):
    org = legacy.get_organization()
    assert org["id"] == org_id and org["title"]


def test_a_user_created_through_the_legacy_client_is_a_member(legacy, key, org_id):
    email = f"legacy-{uuid.uuid4().hex[:8]}@example.com"
    made = legacy.create_user({"email": email, "first_name": "Legacy", "last_name": "Made"})
    assert made is not None and made.email == email
    row = raw_get(key, f"api/organizations/{org_id}/memberships/{made.id}/")
    assert row["user"] == made.id and row["role"] == raw_get(key, f"api/organizations/{org_id}")["default_role"]


def test_workspace_members_through_the_legacy_client(legacy, ls, key, org_id):
    title = f"Legacy {uuid.uuid4().hex[:8]}"
    ws = ls.workspaces.create(title=title)
    try:
        found = legacy.get_workspace_by_title(title)
        assert found is not None and found.id == ws.id
        page = raw_get(key, f"api/organizations/{org_id}/memberships", role="AN", page_size=1)
        annotator = next(u for u in legacy.get_users() if u.id == page["results"][0]["user"]["id"])
        found.add_user(annotator)
        members = raw_get(key, f"api/workspaces/{ws.id}/memberships")
        assert annotator.id in [m["user"]["id"] if isinstance(m["user"], dict) else m["user"] for m in members]
        found.remove_user(annotator)
        members = raw_get(key, f"api/workspaces/{ws.id}/memberships")
        assert annotator.id not in [m["user"]["id"] if isinstance(m["user"], dict) else m["user"] for m in members]
        assert found.get_projects() == []
    finally:
        ls.workspaces.delete(ws.id)
