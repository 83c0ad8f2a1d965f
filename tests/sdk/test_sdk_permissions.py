"""Configurable permissions driven by label-studio-sdk 2.1.2 (see test_sdk_compat.py for the set-up):
every `organizations.permissions.*` call, each answer validated strictly against the SDK's model, and
a permission given to Managers that a Manager's own SDK client uses on its very next call.
"""

import typing
import uuid

import pytest
import requests
from label_studio_sdk import LabelStudio
from label_studio_sdk.core.api_error import ApiError
from label_studio_sdk.types import ConfigurablePermissionOption, OrganizationPermission

from test_sdk_compat import BASE, key, ls, me, org_id, pytestmark, raw_get, strict  # noqa: F401

INVITE = "organizations.invite"


def member_client(email):
    """An SDK client for a seeded member, with the key they read after signing in."""
    s = requests.Session()
    r = s.post(f"{BASE}/user/login", json={"email": email, "password": "sdk-test-password"}, timeout=30)
    assert r.status_code == 200, r.text
    return LabelStudio(base_url=BASE, api_key=s.get(f"{BASE}/api/current-user/token", timeout=30).json()["token"])


@pytest.fixture(scope="module")
def manager(key, org_id):
    page = raw_get(key, f"api/organizations/{org_id}/memberships", role="MA", page_size=100)
    return member_client(page["results"][0]["user"]["email"])


@pytest.fixture(autouse=True)
def defaults_afterwards(ls, org_id):
    yield
    for p in ls.organizations.permissions.list(org_id):
        if p.id is not None:
            ls.organizations.permissions.delete(org_id, p.permission)


def test_list_options_and_get(ls, key, org_id):
    listed = strict(typing.List[OrganizationPermission], raw_get(key, f"api/organizations/{org_id}/permissions"))
    assert INVITE in [p.permission for p in listed]
    assert [p.permission for p in ls.organizations.permissions.list(org_id, ordering="permission")] == sorted(
        p.permission for p in listed
    )
    options = strict(
        typing.List[ConfigurablePermissionOption], raw_get(key, f"api/organizations/{org_id}/permissions/options")
    )
    assert {o.permission for o in options} == {p.permission for p in listed}
    assert [o.permission for o in ls.organizations.permissions.get_options(org_id, ordering="-permission")] == sorted(
        (o.permission for o in options), reverse=True
    )
    invite = strict(OrganizationPermission, raw_get(key, f"api/organizations/{org_id}/permissions/{INVITE}"))
    assert invite.roles == ["OW", "AD"] and invite.default == ["OW", "AD"] and invite.id is None
    assert ls.organizations.permissions.get(org_id, INVITE).label == invite.label
    with pytest.raises(ApiError) as unknown:
        ls.organizations.permissions.get(org_id, "projects.unknown")
    assert unknown.value.status_code == 400


def test_create_replace_update_delete_take_effect_on_the_next_call(ls, manager, org_id):
    email = lambda: f"sdk-perm-{uuid.uuid4().hex[:8]}@example.com"  # noqa: E731
    with pytest.raises(ApiError) as refused:
        manager.organizations.invites.send_email(emails=[email()], role="AN")
    assert refused.value.status_code == 403

    created = ls.organizations.permissions.with_raw_response.create(org_id, permission=INVITE, roles=["AD", "MA"])
    body = strict(OrganizationPermission, created.response.json())
    assert created.status_code == 201 and body.roles == ["OW", "AD", "MA"] and body.id is not None
    manager.organizations.invites.send_email(emails=[email()], role="AN")
    with pytest.raises(ApiError) as upward:
        manager.organizations.invites.send_email(emails=[email()], role="MA")
    assert upward.value.status_code == 403

    replaced = ls.organizations.permissions.with_raw_response.replace(org_id, INVITE, permission=INVITE, roles=["AD"])
    assert strict(OrganizationPermission, replaced.response.json()).roles == ["OW", "AD"]
    with pytest.raises(ApiError):
        manager.organizations.invites.send_email(emails=[email()], role="AN")

    updated = ls.organizations.permissions.with_raw_response.update(org_id, INVITE, roles=["AD", "MA", "RE"])
    assert strict(OrganizationPermission, updated.response.json()).roles == ["OW", "AD", "MA", "RE"]
    manager.organizations.invites.send_email(emails=[email()], role="RE")

    deleted = ls.organizations.permissions.with_raw_response.delete(org_id, INVITE)
    assert deleted.status_code == 204
    with pytest.raises(ApiError):
        manager.organizations.invites.send_email(emails=[email()], role="AN")
    with pytest.raises(ApiError) as not_owner:
        manager.organizations.permissions.list(org_id)
    assert not_owner.value.status_code == 403
