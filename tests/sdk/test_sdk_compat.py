"""roster driven by the real Label Studio SDK (label-studio-sdk 2.1.2), against a live server.

The caller starts roster and seeds it: ROSTER_URL, and ROSTER_OWNER_EMAIL / ROSTER_OWNER_PASSWORD for
the Owner of a fresh organization with at least 25 members, among them AD, MA, RE, AN, NO and DI.
The SDK itself never validates responses (see docs/sdk-compat-notes.md), so every response is also
checked strictly with the SDK model's `model_validate`: GETs by fetching the same URL with
`requests`, other calls through the SDK's `with_raw_response`.
"""

import math
import os
import re
import time
import typing

import jwt
import pydantic
import pytest
import requests
from label_studio_sdk import LabelStudio
from label_studio_sdk.core.api_error import ApiError
from label_studio_sdk.errors import MethodNotAllowedError
from label_studio_sdk.types import (
    LseapiTokenCreate,
    LseapiTokenList,
    LsejwtSettings,
    LseOrganization,
    LseOrganizationMemberList,
    LseUser,
    LseUserApi,
    OrganizationId,
    OrganizationInvite,
    OrganizationMember,
    PaginatedLseOrganizationMemberListList,
    SamlSettings,
    SamlSettingsUpdate,
    ScimSettings,
    TokenRefreshResponse,
    ValidateSamlMetadataUrlResponse,
    WhoAmIUser,
)
from label_studio_sdk.users.types import GetTokenUsersResponse

BASE = os.environ.get("ROSTER_URL", "").rstrip("/")
OWNER_EMAIL = os.environ.get("ROSTER_OWNER_EMAIL", "").strip().lower()
OWNER_PASSWORD = os.environ.get("ROSTER_OWNER_PASSWORD", "")
PAGE_SIZE = 10

pytestmark = pytest.mark.skipif(
    not (BASE and OWNER_EMAIL and OWNER_PASSWORD),
    reason="needs a live roster: ROSTER_URL, ROSTER_OWNER_EMAIL, ROSTER_OWNER_PASSWORD",
)


# ---------------------------------------------------------------- helpers


def raw_get(key, path, expect=200, auth=None, **params):
    """GET BASE/path with the legacy key (or `auth`), assert the status, return the JSON body."""
    headers = {"Authorization": auth or f"Token {key}"}
    r = requests.get(f"{BASE}/{path}", headers=headers, params=params, timeout=30)
    assert r.status_code == expect, f"GET /{path} {params} -> {r.status_code}: {r.text[:300]}"
    return r.json() if r.content else None


def strict(model, data):
    """Validate `data` against an SDK model, or a List[model], with pydantic's full checks."""
    if typing.get_origin(model) is list:
        return pydantic.TypeAdapter(model).validate_python(data)
    return model.model_validate(data)


def walk_members(ls, org_id, **filters):
    """Every member the SDK's own pager yields, PAGE_SIZE at a time."""
    return list(ls.organizations.members.list(org_id, page_size=PAGE_SIZE, **filters))


def member_row(key, org_id, user_id, email, **filters):
    """The raw member-list item of one user, found through `search` on their email."""
    page = raw_get(key, f"api/organizations/{org_id}/memberships", search=email, **filters)
    strict(PaginatedLseOrganizationMemberListList, page)
    rows = [row for row in page["results"] if row["user"]["id"] == user_id]
    return rows[0] if rows else None


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def key():
    """The Owner's legacy API key, read through a browser-style session as a person would."""
    s = requests.Session()
    r = s.post(f"{BASE}/user/login", json={"email": OWNER_EMAIL, "password": OWNER_PASSWORD}, timeout=30)
    assert r.status_code == 200, f"login -> {r.status_code}: {r.text[:300]}"
    assert "roster_session" in s.cookies and "roster_csrf" in s.cookies
    assert r.json()["csrf_token"] == s.cookies["roster_csrf"]
    r = s.get(f"{BASE}/api/current-user/token", timeout=30)
    assert r.status_code == 200, f"token -> {r.status_code}: {r.text[:300]}"
    return r.json()["token"]


@pytest.fixture(scope="module")
def ls(key):
    return LabelStudio(base_url=BASE, api_key=key)


@pytest.fixture(scope="module")
def me(ls):
    return ls.users.whoami()


@pytest.fixture(scope="module")
def org_id(me):
    assert isinstance(me.active_organization, int)
    return me.active_organization


@pytest.fixture(scope="module")
def deleted_member(ls, key, org_id):
    """Deletes one member through the SDK, picked from a role that has two or more members, so that
    every role the other tests need keeps at least one member."""
    count_before = raw_get(key, f"api/organizations/{org_id}/memberships", page_size=1)["count"]
    members = walk_members(ls, org_id)
    for role in ("AN", "RE", "MA", "NO", "DI", "AD"):
        group = sorted((m for m in members if m.role == role), key=lambda m: m.user.email)
        if len(group) >= 2:
            victim = group[-1]
            break
    else:
        pytest.fail("no role has two members to delete one from")
    ls.organizations.members.delete(org_id, victim.user.id)
    return {"id": victim.user.id, "email": victim.user.email, "count_before": count_before}


# ---------------------------------------------------------------- credentials and the caller


def test_legacy_key_reads_back_as_token_and_detail(ls, key):
    body = raw_get(key, "api/current-user/token")
    assert body == {"token": key, "detail": key}
    assert strict(GetTokenUsersResponse, body).detail == key
    assert re.fullmatch(r"[0-9a-f]{40}", key)
    assert ls.users.get_token().detail == key


def test_whoami_names_the_owner_and_their_role(ls, key, me, org_id):
    assert me.email == OWNER_EMAIL
    body = strict(WhoAmIUser, raw_get(key, "api/current-user/whoami"))
    assert (body.id, body.email, body.username) == (me.id, OWNER_EMAIL, me.username)
    roles = {m.organization_id: m.role for m in body.org_membership}
    assert roles[org_id] == "OW"
    current = strict(LseUserApi, raw_get(key, "api/current-user"))
    assert (current.id, current.email, current.active_organization) == (me.id, OWNER_EMAIL, org_id)
    assert ls.users.get_current_user().email == OWNER_EMAIL


def test_users_list_and_get_show_the_owner(ls, key, me):
    emails = {u.email for u in ls.users.list()}
    assert OWNER_EMAIL in emails
    listed = strict(typing.List[LseUserApi], raw_get(key, "api/users/"))
    assert {u.email for u in listed} == emails
    assert ls.users.get(me.id).email == OWNER_EMAIL
    assert strict(LseUser, raw_get(key, f"api/users/{me.id}/")).email == OWNER_EMAIL


def test_jwt_settings_carry_a_ttl_and_enable_both_token_kinds(ls, key):
    body = strict(LsejwtSettings, raw_get(key, "api/jwt/settings"))
    assert body.api_token_ttl_days > 0
    assert body.api_tokens_enabled is True and body.legacy_api_tokens_enabled is True
    assert ls.jwt_settings.get().api_token_ttl_days == body.api_token_ttl_days


def test_personal_access_token_signs_in_a_second_client_until_blacklisted(ls, key, me):
    created = ls.tokens.with_raw_response.create(request_options={"max_retries": 0})
    assert created.status_code == 201
    pat = strict(LseapiTokenCreate, created.response.json()).token
    try:
        claims = jwt.decode(pat, options={"verify_signature": False})
        assert claims["token_type"] == "refresh" and claims["user_id"] == me.id and claims["exp"] > time.time()
        assert len(strict(typing.List[LseapiTokenList], raw_get(key, "api/token/"))) >= 1

        second = LabelStudio(base_url=BASE, api_key=pat)
        who = second.users.whoami()
        assert (who.id, who.email) == (me.id, OWNER_EMAIL)

        refreshed = ls.tokens.with_raw_response.refresh(refresh=pat)
        access = strict(TokenRefreshResponse, refreshed.response.json()).access
        access_claims = jwt.decode(access, options={"verify_signature": False})
        assert access_claims["token_type"] == "access" and access_claims["exp"] <= time.time() + 301
        body = strict(WhoAmIUser, raw_get(key, "api/current-user/whoami", auth=f"Bearer {access}"))
        assert body.email == OWNER_EMAIL
    finally:
        ls.tokens.blacklist(refresh=pat)
    with pytest.raises(ApiError) as refused:
        second.users.whoami()  # its cached access token dies with the refresh token
    assert refused.value.status_code == 401


# ---------------------------------------------------------------- organizations


def test_organization_list_and_get_zero_show_the_owners_organization(ls, key, org_id):
    listed = strict(typing.List[OrganizationId], raw_get(key, "api/organizations/"))
    assert [o.id for o in listed] == [o.id for o in ls.organizations.list()]
    mine = next(o for o in listed if o.id == org_id)
    assert mine.title
    if len(listed) > 1:
        pytest.skip("the owner belongs to several organizations, so {id} = 0 is ambiguous")

    org = ls.organizations.get(0)
    assert (org.id, org.title) == (org_id, mine.title)
    for path in ("api/organizations/0", f"api/organizations/{org_id}"):
        body = strict(LseOrganization, raw_get(key, path))  # `billing` is required
        assert (body.id, body.title) == (org_id, mine.title)
        assert isinstance(body.billing.manual_role_management, bool)


def test_invite_link_reset_replaces_the_token(ls, key):
    before = strict(OrganizationInvite, raw_get(key, "api/invite"))
    assert before.token and before.token in before.invite_url
    assert ls.organizations.invites.get_invite_link().token == before.token

    reset = ls.organizations.with_raw_response.reset_token()
    after = strict(OrganizationInvite, reset.response.json())
    assert after.token != before.token and after.token in after.invite_url
    assert strict(OrganizationInvite, raw_get(key, "api/invite")).token == after.token


# ---------------------------------------------------------------- members


def test_pager_walks_every_member_once(ls, key, org_id):
    first = strict(
        PaginatedLseOrganizationMemberListList,
        raw_get(key, f"api/organizations/{org_id}/memberships", page=1, page_size=PAGE_SIZE),
    )
    assert first.count >= 25 and len(first.results) == PAGE_SIZE

    pages = list(ls.organizations.members.list(org_id, page_size=PAGE_SIZE).iter_pages())
    members = [m for p in pages for m in p.items]
    assert len(pages) == math.ceil(first.count / PAGE_SIZE)
    assert len(members) == first.count
    assert len({m.id for m in members}) == first.count
    assert len({m.user.id for m in members}) == first.count
    assert [m.id for m in members[:PAGE_SIZE]] == [m.id for m in first.results]

    past_end = raw_get(key, f"api/organizations/{org_id}/memberships", page=len(pages) + 1, page_size=PAGE_SIZE)
    assert strict(PaginatedLseOrganizationMemberListList, past_end).results == []


def test_role_filter_returns_only_pending_members(ls, key, org_id):
    pending = walk_members(ls, org_id, role="NO")
    assert pending and {m.role for m in pending} == {"NO"}
    body = strict(
        PaginatedLseOrganizationMemberListList,
        raw_get(key, f"api/organizations/{org_id}/memberships", role="NO", page_size=1000),
    )
    assert body.count == len(pending)
    assert {m.user.id for m in body.results} == {m.user.id for m in pending}
    everyone = walk_members(ls, org_id)
    assert {m.user.id for m in everyone if m.role == "NO"} == {m.user.id for m in pending}


def test_role_filter_takes_a_comma_list(ls, org_id):
    found = walk_members(ls, org_id, role=["AN", "RE"])
    assert {m.role for m in found} == {"AN", "RE"}


def test_member_update_sets_the_role_and_reports_it(ls, key, org_id):
    annotator = walk_members(ls, org_id, role="AN")[0]
    uid, email = annotator.user.id, annotator.user.email
    try:
        updated = ls.organizations.members.with_raw_response.update(org_id, user_id=uid, role="RE")
        item = strict(LseOrganizationMemberList, updated.response.json())
        assert (item.user.id, item.user.email, item.organization, item.role) == (uid, email, org_id, "RE")
        assert item.role_source in ("api", "manual")
        assert member_row(key, org_id, uid, email)["role"] == "RE"
    finally:
        restored = ls.organizations.members.update(org_id, user_id=uid, role="AN")
    assert restored.role == "AN"
    assert member_row(key, org_id, uid, email)["role"] == "AN"


def test_member_get_returns_the_user_id_and_organization(ls, key, org_id):
    admin = walk_members(ls, org_id, role="AD")[0]
    got = ls.organizations.members.get(org_id, admin.user.id)
    assert (got.user, got.organization) == (admin.user.id, org_id)
    body = raw_get(key, f"api/organizations/{org_id}/memberships/{admin.user.id}/")
    assert strict(OrganizationMember, body).user == admin.user.id  # an id, not an object
    assert body["role"] == "AD"
    assert got.created_projects is None and got.contributed_to_projects is None

    # With contributed_to_projects, the same project lists the member list gives for them.
    detailed = ls.organizations.members.get(org_id, admin.user.id, contributed_to_projects=True)
    listed = [
        m
        for m in ls.organizations.members.list(org_id, contributed_to_projects=True, role="AD", page_size=1000)
        if m.user.id == admin.user.id
    ][0]
    assert isinstance(detailed.created_projects, list) and isinstance(detailed.contributed_to_projects, list)
    assert [(p.id, p.title) for p in detailed.created_projects] == [(p.id, p.title) for p in listed.created_projects]
    assert [(p.id, p.title) for p in detailed.contributed_to_projects] == [
        (p.id, p.title) for p in listed.contributed_to_projects
    ]


def test_deleted_member_leaves_the_member_list(ls, key, org_id, deleted_member):
    remaining = walk_members(ls, org_id)
    assert deleted_member["id"] not in {m.user.id for m in remaining}
    count = raw_get(key, f"api/organizations/{org_id}/memberships", page_size=1)["count"]
    assert count == deleted_member["count_before"] - 1 == len(remaining)


def test_deleted_member_is_404_for_get(ls, key, org_id, deleted_member):
    uid = deleted_member["id"]
    with pytest.raises(ApiError) as missing:
        ls.organizations.members.get(org_id, uid)
    assert missing.value.status_code == 404
    raw_get(key, f"api/organizations/{org_id}/memberships/{uid}/", expect=404)
    with pytest.raises(ApiError) as missing_user:
        ls.users.get(uid)
    assert missing_user.value.status_code == 404


def test_is_deleted_lists_the_deleted_member_masked(ls, key, org_id, deleted_member):
    body = strict(
        PaginatedLseOrganizationMemberListList,
        raw_get(key, f"api/organizations/{org_id}/memberships", is_deleted="true", page_size=1000),
    )
    rows = [m for m in body.results if m.user.id == deleted_member["id"]]
    assert len(rows) == 1
    user = rows[0].user
    masked = (user.username, user.email, user.first_name, user.last_name, user.initials)
    assert masked == ("Deleted", "Deleted", "Deleted", "User", "DU")


def test_owner_cannot_delete_their_own_membership(ls, org_id, me):
    with pytest.raises(MethodNotAllowedError):
        ls.organizations.members.delete(org_id, me.id)
    assert me.id in {m.user.id for m in walk_members(ls, org_id, role="OW")}


# ---------------------------------------------------------------- single sign-on settings
IDP_METADATA = open(os.path.join(os.path.dirname(__file__), "..", "saml", "idp-metadata.xml")).read()


def test_saml_settings_round_trip_through_sso_saml(ls, key):
    before = strict(SamlSettings, raw_get(key, "api/saml/settings"))
    assert before.mapping_email == "Email" and before.roles_groups == []
    raw = ls.sso.saml.with_raw_response.update(
        metadata_xml=IDP_METADATA,
        domain="labs.example,example.org",
        roles_groups=[["Reviewer", "Reviewers"]],
        mapping_groups="memberOf",
    )
    saved = strict(SamlSettingsUpdate, raw.response.json())
    assert saved.domain == "labs.example,example.org"
    got = strict(SamlSettings, raw_get(key, "api/saml/settings"))
    assert got.roles_groups == [["Reviewer", "Reviewers"]] and got.mapping_groups == "memberOf"
    assert got.acs_url.endswith("/acs") and got.metadata_xml_url.endswith("/metadata")
    sp = requests.get(got.metadata_xml_url, timeout=30)
    assert sp.status_code == 200 and got.acs_url in sp.text
    # A metadata URL inside the server's own network is refused, without saving anything.
    check = ls.sso.saml.with_raw_response.validate_metadata_url(metadata_url="http://127.0.0.1:9/metadata")
    assert strict(ValidateSamlMetadataUrlResponse, check.response.json()).valid is False
    ls.sso.saml.reset()
    assert raw_get(key, "api/saml/settings")["configured"] is False


def test_scim_settings_round_trip_through_sso_scim(ls, key):
    raw = ls.sso.scim.with_raw_response.update(roles_groups=[["Annotator", "Labelers"]], projects_groups=[])
    strict(ScimSettings, raw.response.json())
    got = strict(ScimSettings, raw_get(key, "api/scim/settings"))
    assert got.roles_groups == [["Annotator", "Labelers"]]
    ls.sso.scim.update(roles_groups=[])


def test_versions_and_the_legacy_client_that_reads_them(ls, key):
    from label_studio_sdk._legacy import Client
    from label_studio_sdk.types import VersionResponse

    body = strict(VersionResponse, raw_get(key, "api/version/"))
    assert body.release and body.edition == "Enterprise"
    assert ls.versions.get().release == body.release
    raw_get(key, "api/version/", expect=401, auth="Token not-a-key")
    # The legacy client asks for the versions when it is made, then works as before.
    legacy = Client(url=BASE, api_key=key)
    assert legacy.is_enterprise and legacy.versions["release"] == body.release
