"""Credential and single-sign-on reads driven by label-studio-sdk 2.1.2 (see test_sdk_compat.py for
the set-up), as a member other than the Owner so the shared Owner key stays valid: the personal
token's list and rotation, the legacy key's reset, an invite revoked, and the SSO settings reads.
Every answer is validated against the SDK's model by conftest.py."""

import uuid

import pytest
import requests
from label_studio_sdk import LabelStudio
from label_studio_sdk.core.api_error import ApiError

from test_sdk_compat import BASE, key, ls, me, org_id, pytestmark, raw_get  # noqa: F401


@pytest.fixture(scope="module")
def reviewer(key, org_id):
    """A seeded Reviewer's email and SDK client, signed in with their password."""
    page = raw_get(key, f"api/organizations/{org_id}/memberships", role="RE", page_size=100)
    email = page["results"][0]["user"]["email"]
    s = requests.Session()
    assert s.post(f"{BASE}/user/login", json={"email": email, "password": "sdk-test-password"}, timeout=30).ok
    return email, LabelStudio(base_url=BASE, api_key=s.get(f"{BASE}/api/current-user/token", timeout=30).json()["token"])


def test_personal_tokens_are_listed_and_rotated(reviewer):
    _, client = reviewer
    first = client.tokens.create().token
    listed = client.tokens.list()
    assert len(listed) == 1 and listed[0].token != first, "listed without the signature"
    rotated = client.tokens.rotate(refresh=first).refresh
    assert rotated != first
    with pytest.raises(ApiError) as gone:
        client.tokens.refresh(refresh=first)
    assert gone.value.status_code == 401
    assert LabelStudio(base_url=BASE, api_key=rotated).users.whoami().email == reviewer[0]
    client.tokens.blacklist(refresh=rotated)


def test_the_legacy_key_is_reset_and_the_old_one_dies(reviewer):
    email, client = reviewer
    old = client.users.get_token().detail
    new = client.users.reset_token().token
    assert new != old
    assert LabelStudio(base_url=BASE, api_key=new).users.whoami().email == email
    with pytest.raises(ApiError) as refused:
        client.users.whoami()
    assert refused.value.status_code == 401


def test_an_invite_is_revoked(ls, key):
    email = f"revoke-{uuid.uuid4().hex[:8]}@example.com"
    ls.organizations.invites.send_email(emails=[email], role="AN")
    pending = [i for i in raw_get(key, "api/invites", page_size=100)["results"] if i["email"] == email]
    assert pending and pending[0]["state"] == "pending"
    ls.organizations.invites.revoke_invite(email=email)
    after = [i for i in raw_get(key, "api/invites", page_size=100)["results"] if i["email"] == email]
    assert not after or after[0]["state"] == "revoked"


def test_sso_settings_read_through_the_sdk(ls):
    assert ls.sso.saml.get().acs_url
    scim = ls.sso.scim.get()
    assert isinstance(scim.roles_groups, list)


def test_the_organization_is_renamed_and_named_back(ls, org_id):
    before = ls.organizations.get(org_id)
    renamed = ls.organizations.update(org_id, title=f"{before.title} (renamed)", contact_info="ops@example.com")
    assert renamed.title == f"{before.title} (renamed)"
    with pytest.raises(ApiError) as refused:
        ls.organizations.update(org_id, embed_domains=[{"domain": "example.com"}])
    assert refused.value.status_code == 400 and "embed_domains" in str(refused.value.body)
    assert ls.organizations.update(org_id, title=before.title).title == before.title
