"""The account calls of label-studio-sdk 2.1.2 that used to answer 400 or 405, against a live roster:
partial token settings, a password change over the key, preferences and hotkeys, users.create and
users.delete, memberships on user objects, billing.info and project pauses.

Shares the harness of test_sdk_compat.py: every response is validated strictly against the SDK's own
model (`strict`), GETs by fetching the same URL with `requests`, other calls through the SDK's
`with_raw_response`. Whatever a test changes on the shared organization it puts back.
"""

import typing
import uuid

import pytest
import requests
from label_studio_sdk.core.api_error import ApiError
from label_studio_sdk.types import (
    BillingInfoResponse,
    DefaultRole,
    Hotkeys,
    LsejwtSettings,
    LseUser,
    LseUserApi,
    Pause,
    WhoAmIUser,
)

from test_sdk_compat import (  # noqa: F401
    BASE,
    OWNER_EMAIL,
    OWNER_PASSWORD,
    key,
    ls,
    me,
    org_id,
    pytestmark,
    raw_get,
    strict,
    walk_members,
)


def fresh_email(tag):
    return f"sdk-{tag}-{uuid.uuid4().hex[:10]}@example.com"


def test_jwt_settings_update_with_the_ttl_alone_keeps_the_rest(ls, key):
    before = strict(LsejwtSettings, raw_get(key, "api/jwt/settings"))
    try:
        changed = ls.jwt_settings.with_raw_response.update(api_token_ttl_days=30)
        body = strict(LsejwtSettings, changed.response.json())
        assert body.api_token_ttl_days == 30
        assert body.api_tokens_enabled == before.api_tokens_enabled
        assert body.legacy_api_tokens_enabled == before.legacy_api_tokens_enabled
    finally:
        ls.jwt_settings.update(api_token_ttl_days=before.api_token_ttl_days)


def test_the_key_changes_the_password_without_the_current_one(ls, key):
    interim = "sdk interim passphrase " + uuid.uuid4().hex
    changed = ls.users.with_raw_response.update_current_user(password=interim)
    try:
        assert strict(LseUserApi, changed.response.json()).email == OWNER_EMAIL
        r = requests.post(f"{BASE}/user/login", json={"email": OWNER_EMAIL, "password": interim}, timeout=30)
        assert r.status_code == 200, r.text
    finally:
        ls.users.update_current_user(password=OWNER_PASSWORD)
    r = requests.post(f"{BASE}/user/login", json={"email": OWNER_EMAIL, "password": OWNER_PASSWORD}, timeout=30)
    assert r.status_code == 200, r.text


def test_preferences_are_stored_and_returned_on_user_objects(ls, key, me):
    changed = ls.users.with_raw_response.update_current_user(
        allow_newsletters=False,
        custom_hotkeys={"annotation:submit": {"key": "ctrl+enter", "active": True}},
        email_notification_settings={"project_paused": True},
        onboarding_state="complete",
        is_email_verified=False,
    )
    body = strict(LseUserApi, changed.response.json())
    assert body.allow_newsletters is False
    assert body.custom_hotkeys == {"annotation:submit": {"key": "ctrl+enter", "active": True}}
    who = strict(WhoAmIUser, raw_get(key, "api/current-user/whoami"))
    assert who.lse_fields.onboarding_state == "complete"
    assert who.lse_fields.email_notification_settings == {"project_paused": True}
    got = strict(LseUser, raw_get(key, f"api/users/{me.id}/"))
    assert got.lse_fields.onboarding_state == "complete" and got.allow_newsletters is False
    updated = ls.users.with_raw_response.update(me.id, allow_newsletters=True, first_name=got.first_name)
    assert strict(LseUser, updated.response.json()).allow_newsletters is True
    with pytest.raises(ApiError) as refused:
        ls.users.update_current_user(is_email_verified=True)
    assert refused.value.status_code == 400 and "is_email_verified" in str(refused.value.body)
    with pytest.raises(ApiError) as refused:
        ls.users.update_current_user(onboarding_state="halfway")
    assert refused.value.status_code == 400 and "onboarding_state" in str(refused.value.body)


def test_hotkeys_are_read_and_replaced(ls, key):
    before = strict(Hotkeys, raw_get(key, "api/current-user/hotkeys/"))
    try:
        changed = ls.users.with_raw_response.update_hotkeys(custom_hotkeys={"editor:undo": "ctrl+z"})
        assert strict(Hotkeys, changed.response.json()).custom_hotkeys == {"editor:undo": "ctrl+z"}
        assert ls.users.get_hotkeys().custom_hotkeys == {"editor:undo": "ctrl+z"}
        assert strict(Hotkeys, raw_get(key, "api/current-user/hotkeys/")).custom_hotkeys == {"editor:undo": "ctrl+z"}
        with pytest.raises(ApiError) as refused:
            ls.users.get_hotkeys(project=1)
        assert refused.value.status_code == 400 and "project" in str(refused.value.body)
    finally:
        ls.users.update_hotkeys(custom_hotkeys=before.custom_hotkeys)


def test_users_list_and_get_carry_memberships_of_this_organization(ls, key, me, org_id):
    listed = strict(typing.List[LseUserApi], raw_get(key, "api/users/"))
    for u in listed:
        assert [m.organization_id for m in u.org_membership] == [org_id]
        assert u.org_membership[0].user_type == "standard"
    mine = strict(LseUser, raw_get(key, f"api/users/{me.id}/"))
    assert [(m.organization_id, m.role, m.active) for m in mine.org_membership] == [(org_id, "OW", True)]
    assert [m.role for m in ls.users.get(me.id).org_membership] == ["OW"]


def test_users_create_adds_a_member_with_the_default_role_and_delete_removes_it(ls, key, org_id):
    email = fresh_email("create")
    created = ls.users.with_raw_response.create(email=email, username=email, first_name="Sdk", last_name="Created")
    assert created.status_code == 201
    body = strict(LseUser, created.response.json())
    assert (body.email, body.first_name, body.last_name) == (email, "Sdk", "Created")
    default = raw_get(key, f"api/organizations/{org_id}")["default_role"]
    got = strict(LseUser, raw_get(key, f"api/users/{body.id}/"))
    assert [m.role for m in got.org_membership] == [default]

    deleted = ls.users.with_raw_response.delete(body.id)
    assert deleted.status_code == 204
    raw_get(key, f"api/users/{body.id}/", expect=404)
    with pytest.raises(ApiError) as refused:
        ls.users.create(email=fresh_email("name"), username="someone")
    assert refused.value.status_code == 400 and "username" in str(refused.value.body)
    with pytest.raises(ApiError) as refused:
        pw = fresh_email("pw")
        ls.users.create(email=pw, username=pw, password="a long passphrase here")
    assert refused.value.status_code == 400 and "password" in str(refused.value.body)


def test_update_default_role_takes_the_organization_key(ls, key, org_id):
    current = raw_get(key, f"api/organizations/{org_id}")["default_role"]
    answered = ls.organizations.with_raw_response.update_default_role(
        org_id, default_role=current, organization=org_id
    )
    assert strict(DefaultRole, answered.response.json()).organization == org_id
    with pytest.raises(ApiError) as refused:
        ls.organizations.update_default_role(org_id, default_role=current, organization=org_id + 1000)
    assert refused.value.status_code == 400 and "organization" in str(refused.value.body)


def test_send_email_without_a_role_invites_with_the_default_role(ls, key, org_id):
    email = fresh_email("invite")
    sent = ls.organizations.invites.with_raw_response.send_email(emails=[email])
    assert sent.status_code == 201
    default = raw_get(key, f"api/organizations/{org_id}")["default_role"]
    invites = raw_get(key, "api/invites", page_size=100)["results"]
    assert [i["role"] for i in invites if i["email"] == email] == [default]


def test_billing_info_validates_and_counts_seats(ls, key, org_id):
    body = strict(BillingInfoResponse, raw_get(key, "api/billing/info"))
    seats = raw_get(key, f"api/organizations/{org_id}/seats")
    assert body.billing_checks.users.count == seats["used"]
    assert body.billing_checks.users.total == seats["active"]
    assert body.billing_checks.is_license_expired is False
    assert ls.billing.info().billing_checks.users.count == seats["used"]


def test_project_pauses_pause_and_resume_an_annotator(ls, key, org_id):
    annotator = next(m.user.id for m in walk_members(ls, org_id) if m.role == "AN")
    project = ls.projects.create(title="Pauses").id
    ls.projects.members.add(project, user=annotator)
    created = ls.projects.pauses.with_raw_response.create(
        project, annotator, reason="MANUAL", verbose_reason="Quality review"
    )
    assert created.status_code == 201
    pause = strict(Pause, created.response.json())
    assert (pause.project, pause.user, pause.reason) == (project, annotator, "MANUAL")
    assert pause.paused_by.email == OWNER_EMAIL
    path = f"api/projects/{project}/members/{annotator}/pauses/"
    listed = strict(typing.List[Pause], raw_get(key, path))
    assert [p.id for p in listed] == [pause.id]
    assert [p.id for p in ls.projects.pauses.list(project, annotator, ordering="-created_at")] == [pause.id]
    assert strict(Pause, raw_get(key, f"{path}{pause.id}/")).verbose_reason == "Quality review"
    assert ls.projects.pauses.get(project, annotator, pause.id).id == pause.id

    updated = ls.projects.pauses.with_raw_response.update(project, annotator, pause.id, verbose_reason="Done soon")
    assert strict(Pause, updated.response.json()).verbose_reason == "Done soon"
    ls.projects.pauses.delete(project, annotator, pause.id)
    assert ls.projects.pauses.list(project, annotator) == []
    ended = strict(typing.List[Pause], raw_get(key, path, include_deleted="true"))
    assert ended[0].deleted_at is not None
