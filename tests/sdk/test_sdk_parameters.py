"""Every parameter of the SDK's account methods, passed through label-studio-sdk 2.1.2 with its effect
checked: the parameters the other files do not reach. A parameter is honoured (the answer changes the
way it says) or refused with a 400 that names it; test_zz_sdk_coverage.py proves each one was passed
in an accepted call or refused by name, and lists the refusals with their reasons.

Shares the harness of test_sdk_compat.py; whatever a test changes on the shared organization it puts
back.
"""

import csv
import datetime as dt
import http.server
import io
import threading
import typing
import uuid

import pytest
from label_studio_sdk.core.api_error import ApiError
from label_studio_sdk.types import LseUser, OrganizationMemberSkillsOption, ProjectRole

from test_sdk_compat import IDP_METADATA, key, ls, me, org_id, pytestmark, raw_get, strict  # noqa: F401

NOW = dt.datetime.now(dt.timezone.utc)
LONG_AGO = "2000-01-01T00:00:00+00:00"
FAR_AHEAD = (NOW + dt.timedelta(days=3650)).isoformat()


def unique(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def refused(call, field):
    """The call is a 400 whose validation errors name `field`."""
    with pytest.raises(ApiError) as e:
        call()
    assert e.value.status_code == 400, e.value.body
    assert field in (e.value.body.get("validation_errors") or {}), e.value.body


@pytest.fixture(scope="module")
def people(key, org_id):
    """Live Annotators and Reviewers: role -> [(user id, email)] in email order."""
    page = raw_get(key, f"api/organizations/{org_id}/memberships", role="AN,RE", page_size=100)
    found = {"AN": [], "RE": []}
    for row in page["results"]:
        found[row["role"]].append((row["user"]["id"], row["user"]["email"]))
    assert len(found["AN"]) >= 3 and len(found["RE"]) >= 2, page
    return found


@pytest.fixture(scope="module")
def project(ls):
    return ls.projects.create(title=unique("Parameters")).id


@pytest.fixture()
def tag(ls, org_id):
    t = ls.organizations.member_tags.create(org_id, label=unique("param"))
    yield t
    ls.organizations.member_tags.delete(org_id, t.id)


def explicit_members(ls, project):
    return {r.id for r in ls.projects.members.paginated.list(project, implicit=False, page_size=100)}


def export(ls, project, **params):
    """The project member CSV export as a list of rows (dicts)."""
    text = b"".join(ls.projects.members.export_csv(project, **params)).decode()
    return list(csv.DictReader(io.StringIO(text)))


# ---------------------------------------------------------------- orderings of the small lists


def test_users_list_orders_as_asked(ls):
    emails = [u.email for u in ls.users.list(ordering="-email")]
    assert len(emails) > 2 and emails == sorted(emails, reverse=True)
    joined = [u.date_joined for u in ls.users.list(ordering="date_joined")]
    assert joined == sorted(joined)
    refused(lambda: ls.users.list(ordering="password"), "ordering")


def test_tokens_organizations_and_project_roles_order_as_asked(ls, org_id, project, people):
    token = None
    try:
        token = ls.tokens.create().token
    except ApiError as e:
        assert e.status_code == 409  # one usable token at a time
    try:
        listed = ls.tokens.list(ordering="-created_at")
        assert listed and [t.created_at for t in listed] == sorted((t.created_at for t in listed), reverse=True)
        refused(lambda: ls.tokens.list(ordering="token"), "ordering")
    finally:
        if token:
            ls.tokens.blacklist(refresh=token)

    orgs = ls.organizations.list(ordering="-id")
    assert [o.id for o in orgs] == sorted((o.id for o in orgs), reverse=True) and org_id in [o.id for o in orgs]
    refused(lambda: ls.organizations.list(ordering="token"), "ordering")

    (an, _), (re_, _) = people["AN"][0], people["RE"][0]
    ls.projects.roles.add(project=project, user=an, role="RE")
    ls.projects.roles.add(project=project, user=re_, role="AN")
    newest_first = ls.projects.roles.list(ids=project, ordering="-id")
    assert [r.id for r in newest_first] == sorted((r.id for r in newest_first), reverse=True)
    assert len(newest_first) >= 2
    by_user = [r.user for r in ls.projects.roles.list(ids=project, ordering="user")]
    assert by_user == sorted(by_user)
    by_role = [r.role for r in ls.projects.roles.list(ids=project, ordering="-role")]
    assert by_role == sorted(by_role, reverse=True)
    refused(lambda: ls.projects.roles.list(ordering="title"), "ordering")
    for r in newest_first:
        ls.projects.roles.remove(r.id)


# ---------------------------------------------------------------- users


def test_users_update_stores_each_field_the_sdk_sends(ls, key, me, org_id):
    before = strict(LseUser, raw_get(key, f"api/users/{me.id}/"))
    verified = False  # roster verifies no email address
    name = unique("user")
    try:
        changed = ls.users.with_raw_response.update(
            me.id,
            username=name,
            first_name="Ada",
            last_name="Param",
            phone="+1 555 0100",
            active_organization=org_id,
            custom_hotkeys={"annotation:skip": "ctrl+space"},
            email_notification_settings={"invite_accepted": False},
            onboarding_state="first_tutorial",
            is_email_verified=verified,
            date_joined=before.date_joined,
        )
        body = strict(LseUser, changed.response.json())
        assert (body.username, body.first_name, body.last_name, body.phone) == (name, "Ada", "Param", "+1 555 0100")
        got = strict(LseUser, raw_get(key, f"api/users/{me.id}/"))
        assert got.active_organization == org_id and got.date_joined == before.date_joined
        assert got.custom_hotkeys == {"annotation:skip": "ctrl+space"}
        assert got.lse_fields.onboarding_state == "first_tutorial"
        assert got.lse_fields.email_notification_settings == {"invite_accepted": False}
        # Read-only fields take only their current value; a password is changed by the person
        # on their own account (PATCH /api/current-user), never through the user objects.
        refused(lambda: ls.users.update(me.id, is_email_verified=not verified), "is_email_verified")
        refused(lambda: ls.users.update(me.id, date_joined=NOW - dt.timedelta(days=9000)), "date_joined")
        refused(lambda: ls.users.update(me.id, password="another long passphrase"), "password")
    finally:
        ls.users.update(
            me.id,
            username=before.username,
            first_name=before.first_name,
            last_name=before.last_name,
            phone=before.phone or "",
            custom_hotkeys=before.custom_hotkeys or {},
            onboarding_state=before.lse_fields.onboarding_state or "complete",
        )


def test_users_create_refuses_the_persons_own_fields_by_name(ls, key, org_id):
    count = raw_get(key, f"api/organizations/{org_id}/memberships", page_size=1)["count"]
    for field, value in [
        ("password", "a long passphrase here"),
        ("phone", "+1 555 0101"),
        ("allow_newsletters", True),
        ("custom_hotkeys", {"annotation:submit": "ctrl+enter"}),
        ("active_organization", org_id),
        ("date_joined", NOW),
    ]:
        email = f"sdk-refused-{uuid.uuid4().hex[:10]}@example.com"
        refused(lambda: ls.users.create(email=email, username=email, **{field: value}), field)
    assert raw_get(key, f"api/organizations/{org_id}/memberships", page_size=1)["count"] == count


def test_hotkeys_are_the_accounts_and_a_project_is_refused_by_name(ls, project):
    refused(lambda: ls.users.get_hotkeys(project=project), "project")
    refused(lambda: ls.users.update_hotkeys(project=project, custom_hotkeys={}), "project")


# ---------------------------------------------------------------- organizations


def test_update_default_role_refuses_the_settings_roster_does_not_have(ls, key, org_id):
    default = raw_get(key, f"api/organizations/{org_id}")["default_role"]
    for field, value in [
        ("annotator_reviewer_firewall_enabled_at", NOW),
        ("custom_interfaces_enabled", True),
        ("custom_scripts_enabled_at", NOW),
        ("email_notification_settings", {"invite_accepted": True}),
        ("embed_domains", ["example.com"]),
        ("embed_enabled", True),
        ("embed_settings", {}),
        ("external_id", "x-1"),
        ("extra_data_on_activity_logs", True),
        ("interface_settings", {}),
        ("label_stream_navigation_disabled_at", NOW),
        ("react_code_settings", {}),
        ("read_only_quick_view_enabled_at", NOW),
    ]:
        other = "RE" if default != "RE" else "AN"
        refused(lambda: ls.organizations.update_default_role(org_id, default_role=other, **{field: value}), field)
        assert raw_get(key, f"api/organizations/{org_id}")["default_role"] == default


def test_skills_options_search_over_no_skills(ls, key, org_id):
    # roster keeps no skills: every search, however wide, finds none.
    found = ls.organizations.api_organizations_memberships_filter_options_skills_list(org_id, search="a")
    assert found == []
    raw = raw_get(key, f"api/organizations/{org_id}/memberships/filter-options/skills/", search="a")
    assert strict(typing.List[OrganizationMemberSkillsOption], raw) == []


def test_permissions_update_names_the_key_again_in_the_body(ls, org_id):
    key_name = "organizations.invite"
    before = ls.organizations.permissions.get(org_id, key_name)
    try:
        changed = ls.organizations.permissions.update(org_id, key_name, permission=key_name, roles=["AD", "MA"])
        assert sorted(changed.roles) == ["AD", "MA", "OW"]  # the Owner always holds it
        assert sorted(ls.organizations.permissions.get(org_id, key_name).roles) == ["AD", "MA", "OW"]
        refused(
            lambda: ls.organizations.permissions.update(org_id, key_name, permission="tokens.create", roles=["AD"]),
            "permission",
        )
    finally:
        if before.id is None:  # back to the default: no override
            ls.organizations.permissions.delete(org_id, key_name)
        else:
            ls.organizations.permissions.update(org_id, key_name, roles=list(before.roles))


# ---------------------------------------------------------------- member filters


def test_tag_assignment_and_the_filtered_list_honour_the_exclusions_and_activity(ls, org_id, project, people, tag):
    ws = ls.workspaces.create(title=unique("Param workspace"))
    try:
        (in_project, _), (in_ws, _), (free, _) = people["AN"][:3]
        ls.projects.members.add(project, user=in_project)
        ls.workspaces.members.create(ws.id, user=in_ws)
        assign = ls.organizations.member_tags.assign
        tagged = lambda: {m.user.id for m in ls.organizations.members.list(org_id, tags=tag.id, page_size=100)}  # noqa: E731

        assign(org_id, all_=True, role="AN", exclude_project_id=float(project), bulk_organization_member_tag_assignment_request_tags=[tag.id])
        assert in_project not in tagged() and {in_ws, free} <= tagged()
        other = ls.organizations.member_tags.create(org_id, label=unique("param-ws"))
        assign(org_id, all_=True, role="AN", bulk_organization_member_tag_assignment_request_tags=[other.id], exclude_workspace_id=float(ws.id))
        carry_other = {m.user.id for m in ls.organizations.members.list(org_id, tags=other.id, page_size=100)}
        assert in_ws not in carry_other and {in_project, free} <= carry_other
        ls.organizations.member_tags.delete(org_id, other.id)

        # Activity: nobody was active before 2000 or after ten years from now; the Owner is now.
        active = ls.organizations.member_tags.create(org_id, label=unique("param-active"))
        carry_active = lambda: {m.user.id for m in ls.organizations.members.list(org_id, tags=active.id, page_size=100)}  # noqa: E731
        done = assign(org_id, all_=True, user_last_activity_lte=LONG_AGO, bulk_organization_member_tag_assignment_request_tags=[active.id])
        assert done.assigned == 0 and carry_active() == set()
        done = assign(org_id, all_=True, user_last_activity_gte=FAR_AHEAD, bulk_organization_member_tag_assignment_request_tags=[active.id])
        assert done.assigned == 0 and carry_active() == set()
        me_id = ls.users.whoami().id
        assign(org_id, all_=True, user_last_activity_gte=(NOW - dt.timedelta(days=1)).isoformat(), bulk_organization_member_tag_assignment_request_tags=[active.id])
        recent = {m.user.id for m in ls.organizations.members.list(org_id, user_last_activity_gte=NOW - dt.timedelta(days=1), page_size=100)}
        assert me_id in carry_active() and carry_active() == recent
        ls.organizations.member_tags.delete(org_id, active.id)

        no_project = {m.user.id for m in ls.organizations.members.list_filtered(org_id, exclude_project_id=float(project), page_size=100).results}
        assert in_project not in no_project and free in no_project
        no_ws = {m.user.id for m in ls.organizations.members.list_filtered(org_id, exclude_workspace_id=float(ws.id), page_size=100).results}
        assert in_ws not in no_ws and free in no_ws
    finally:
        ls.workspaces.delete(ws.id)
        ls.projects.members.remove(project, user=people["AN"][0][0])


# ---------------------------------------------------------------- project members


def test_project_bulk_changes_honour_every_filter(ls, org_id, project, people, tag):
    (a, a_email), (b, _), (c, _) = people["AN"][:3]
    res = [u for u, _ in people["RE"]]
    ls.projects.members.bulk.delete(project, all_=True)
    post = ls.projects.members.bulk.post
    try:
        assert post(project, all_=True, search=a_email).assignments == 1
        assert explicit_members(ls, project) >= {a}
        added = post(project, all_=True, role="RE", excluded=[res[0]]).assignments
        members = explicit_members(ls, project)
        assert added == len(res) - 1 and res[0] not in members and set(res[1:]) <= members

        ls.organizations.member_tags.assign(
            org_id, all_=False, included=[b], bulk_organization_member_tag_assignment_request_tags=[tag.id]
        )
        assert post(project, all_=True, tags=str(tag.id)).assignments == 1 and b in explicit_members(ls, project)
        assert post(project, all_=True, user_type="viewonly").assignments == 0
        assert post(project, all_=True, last_activity_lte=LONG_AGO).assignments == 0
        assert post(project, all_=True, last_activity_gte=FAR_AHEAD).assignments == 0
        assert c not in explicit_members(ls, project)

        drop = ls.projects.members.bulk.delete
        assert drop(project, all_=True, user_type="viewonly").unassignments == 0
        assert drop(project, all_=True, last_activity_lte=LONG_AGO).unassignments == 0
        assert drop(project, all_=True, last_activity_gte=FAR_AHEAD).unassignments == 0
        assert drop(project, all_=True, tags=str(tag.id)).unassignments == 1 and b not in explicit_members(ls, project)
        assert drop(project, all_=True, search=a_email).unassignments == 1 and a not in explicit_members(ls, project)
        removed = drop(project, all_=True, role="RE", excluded=str(res[1])).unassignments
        assert removed == len(res) - 2 and explicit_members(ls, project) & set(res) == {res[1]}
    finally:
        ls.projects.members.bulk.delete(project, all_=True)


def test_project_member_list_and_export_honour_every_filter(ls, key, org_id, project, people, tag):
    (a, a_email), (b, _) = people["AN"][:2]
    (r, _) = people["RE"][0]
    for u in (a, b, r):
        ls.projects.members.add(project, user=u)
    ls.organizations.member_tags.assign(org_id, all_=False, included=[b], bulk_organization_member_tag_assignment_request_tags=[tag.id])
    # A member who leaves the organization: listed only with `with_deleted`.
    email = f"sdk-leaver-{uuid.uuid4().hex[:10]}@example.com"
    gone = ls.users.create(email=email, username=email).id
    ls.organizations.members.update(org_id, user_id=gone, role="AN")
    ls.projects.members.add(project, user=gone)
    ls.users.delete(gone)

    listed = lambda **f: [m.id for m in ls.projects.members.paginated.list(project, implicit=False, page_size=100, **f)]  # noqa: E731
    assert listed(search=a_email) == [a]
    assert set(listed(role="RE")) >= {r} and a not in listed(role="RE")
    assert listed(tags=str(tag.id)) == [b]
    assert listed(last_activity_lte=dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)) == []
    assert set(listed(no_view_only=True)) == set(listed())  # nobody is view-only in roster
    ids = listed(ordering="-id")
    assert ids == sorted(ids, reverse=True)
    assert gone not in listed() and gone in listed(with_deleted=True)

    rows = export(ls, project, implicit=False, ordering="-email")
    assert [x["email"] for x in rows] == sorted((x["email"] for x in rows), reverse=True)
    assert [int(x["id"]) for x in export(ls, project, ids=str(a))] == [a]
    assert [int(x["id"]) for x in export(ls, project, implicit=False, search=a_email)] == [a]
    assert {int(x["id"]) for x in export(ls, project, implicit=False, role="RE")} >= {r}
    assert [int(x["id"]) for x in export(ls, project, implicit=False, tags=str(tag.id))] == [b]
    assert export(ls, project, user_type="viewonly") == []
    assert export(ls, project, last_activity_lte=LONG_AGO) == []
    assert export(ls, project, last_activity_gte=FAR_AHEAD) == []
    with_gone = export(ls, project, implicit=False, with_deleted=True)
    assert len(with_gone) == len(export(ls, project, implicit=False)) + 1
    for u in (a, b, r):
        ls.projects.members.remove(project, user=u)


def test_pauses_list_ended_ones_and_change_their_reason(ls, project, people):
    (an, _) = people["AN"][0]
    ls.projects.members.add(project, user=an)
    pause = ls.projects.pauses.create(project, an, reason="MANUAL", verbose_reason="Check")
    changed = ls.projects.pauses.update(project, an, pause.id, reason="ANNOTATOR_EVALUATION")
    assert changed.reason == "ANNOTATOR_EVALUATION"
    assert ls.projects.pauses.get(project, an, pause.id).reason == "ANNOTATOR_EVALUATION"
    ls.projects.pauses.delete(project, an, pause.id)
    assert ls.projects.pauses.list(project, an, include_deleted=False) == []
    ended = ls.projects.pauses.list(project, an, include_deleted=True)
    assert [p.id for p in ended] == [pause.id] and ended[0].deleted_at is not None
    ls.projects.members.remove(project, user=an)


# ---------------------------------------------------------------- workspaces


def test_workspace_list_update_and_member_filters(ls, people):
    (a, a_email), (b, b_email), (c, _) = people["AN"][:3]
    ws = ls.workspaces.create(title=unique("Param ws"), is_personal=False)
    try:
        renamed = unique("Renamed ws")
        updated = ls.workspaces.update(ws.id, title=renamed, color="#112233", is_personal=True)
        assert (updated.title, updated.color, updated.is_personal) == (renamed, "#112233", True)
        personal = {w.id for w in ls.workspaces.list(is_personal=True)}
        shared = {w.id for w in ls.workspaces.list(is_personal=False)}
        assert ws.id in personal and ws.id not in shared
        # The Owner's own personal workspace is listed either way; include_all_workspaces adds
        # the personal workspaces of others (none here) and keeps every other.
        assert ws.id in {w.id for w in ls.workspaces.list(include_all_workspaces=True)}
        ls.workspaces.update(ws.id, is_personal=False)

        ls.workspaces.members.bulk.post(ws.id, all_=False, included=[a, b, c])
        found = list(ls.workspaces.members.paginated.list(ws.id, search=a_email))
        assert [u.id for u in found] == [a]
        gone = ls.workspaces.members.bulk.delete(ws.id, all_=True, search=b_email)
        assert gone.unassignments == 1
        before = {m.user.id for m in ls.workspaces.members.list(ws.id)}
        left = ls.workspaces.members.bulk.delete(ws.id, all_=True, excluded=str(c))
        assert left.unassignments == len(before) - 1
        assert [m.user.id for m in ls.workspaces.members.list(ws.id)] == [c]
    finally:
        ls.workspaces.delete(ws.id)


# ---------------------------------------------------------------- SAML settings


class _Metadata(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (the standard library's name)
        body = IDP_METADATA.encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/samlmetadata+xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_saml_update_takes_every_field_of_the_sdk(ls, key):
    """The metadata URL is served from this test on loopback, which the server is told to allow
    (ROSTER_SAML_METADATA_ALLOW in scripts/test.sh); everywhere else loopback is refused."""
    server = http.server.HTTPServer(("127.0.0.1", 0), _Metadata)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    ws = ls.workspaces.create(title=unique("SAML ws"))
    project = ls.projects.create(title=unique("SAML project")).id
    manual_before = raw_get(key, "api/saml/settings")["manual_role_management"]
    try:
        saved = ls.sso.saml.update(
            metadata_url=f"http://127.0.0.1:{server.server_port}/metadata",
            domain="param.example",
            idp_provider="Okta",
            manual_role_management=True,
            mapping_email="mail",
            mapping_first_name="givenName",
            mapping_last_name="sn",
            mapping_groups="memberOf",
            roles_groups=[["Reviewer", "Reviewers"]],
            workspaces_groups=[[ws.title, "Labelers"]],
            projects_groups=[{"project_id": project, "group": "Birders", "role": "Annotator"}],
            user_type_groups=[],
        )
        assert saved.metadata_url.endswith("/metadata")
        got = raw_get(key, "api/saml/settings")
        assert got["idp_provider"].lower() == "okta" and got["manual_role_management"] is True
        assert (got["mapping_email"], got["mapping_first_name"], got["mapping_last_name"]) == ("mail", "givenName", "sn")
        assert got["workspaces_groups"] == [[ws.title, "Labelers"]]
        assert [(p["project_id"], p["group"], p["role"]) for p in got["projects_groups"]] == [(project, "Birders", "Annotator")]
        assert got["metadata_xml"] and "EntityDescriptor" in got["metadata_xml"]
        # Seat kinds other than standard do not exist in roster.
        refused(lambda: ls.sso.saml.update(user_type_groups=[["viewonly", "Viewers"]]), "user_type_groups")
    finally:
        ls.sso.saml.update(manual_role_management=manual_before)
        ls.sso.saml.reset()
        ls.workspaces.delete(ws.id)
        server.shutdown()
