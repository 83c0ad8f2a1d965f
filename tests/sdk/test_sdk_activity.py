"""The activity log and the session policy driven by label-studio-sdk 2.1.2 against a live roster
(see test_sdk_compat.py for the set-up): `activity_logs.list` with each of its parameters and
`session_policy.get/update`. Each answer is validated strictly against the SDK's own model: GETs
by fetching the same URL again with `requests`, changes through `with_raw_response`.
"""

import datetime
import typing
import uuid

import pytest
import requests
from label_studio_sdk.core.api_error import ApiError
from label_studio_sdk.types import ActivityLogResponse, SessionTimeoutPolicy

# The Owner's key, the client and the organization, shared with the compatibility tests.
from test_sdk_compat import BASE, OWNER_EMAIL, OWNER_PASSWORD, key, ls, me, org_id, pytestmark, raw_get, strict  # noqa: F401

Pages = typing.List[ActivityLogResponse]


def unique(prefix):
    return f"{prefix} {uuid.uuid4().hex[:8]}"


def logs(ls, key, **params):
    """The one page `activity_logs.list` answers, checked strictly on the same URL fetched raw."""
    pages = ls.activity_logs.list(**params)
    raw = strict(Pages, raw_get(key, "api/activity-logs/", **params))
    assert len(pages) == len(raw) == 1
    assert [row.id for row in pages[0].data] == [row.id for row in raw[0].data]
    return raw[0]


@pytest.fixture(scope="module")
def history(ls):
    """A project put into a workspace and given a member, as the Owner: four recorded requests."""
    project = ls.projects.create(title=unique("SDK activity project"))
    workspace = ls.workspaces.create(title=unique("SDK activity workspace"))
    ls.workspaces.projects.add(workspace.id, project=project.id)
    ls.projects.members.add(project.id, user=ls.users.whoami().id)
    return project, workspace


def test_activity_logs_list_with_each_parameter(ls, key, me, history):
    project, workspace = history
    page = logs(ls, key)
    assert page.records_total >= 3 and page.records_filtered == page.records_total
    newest = page.data[0]
    members_url = f"/api/projects/{project.id}/members"
    ws_url = f"/api/workspaces/{workspace.id}/projects"
    assert newest.request_method == "POST" and newest.request_url == members_url
    assert newest.response_code == "201" and newest.user_id == me.id and newest.email == me.email
    assert newest.project_id == project.id and newest.workspace_owner_id == workspace.id
    assert isinstance(newest.datetime, datetime.datetime) and newest.organization_id == me.active_organization

    mine = logs(ls, key, user=me.id, page_size=100)
    assert mine.data and all(row.user_id == me.id for row in mine.data)
    in_project = logs(ls, key, project=project.id)
    assert [row.request_url for row in in_project.data] == [members_url]
    in_workspace = logs(ls, key, workspace=workspace.id, page_size=100)
    assert [row.request_url for row in in_workspace.data] == [members_url, ws_url]
    posts = logs(ls, key, method="POST", page_size=100)
    assert posts.data and all(row.request_method == "POST" for row in posts.data)
    assert logs(ls, key, method="DELETE", search=f"workspaces/{workspace.id}").data == []
    assert logs(ls, key, method="all").records_filtered == page.records_filtered
    found = logs(ls, key, search=f"workspaces/{workspace.id} AND projects")
    assert [row.request_url for row in found.data] == [ws_url]
    either = logs(ls, key, search=f"workspaces/{workspace.id} OR projects/{project.id}/", page_size=1000)
    assert [row.request_url for row in either.data] == [members_url, ws_url]

    when = newest.datetime
    since = logs(ls, key, start_date=when.isoformat(), page_size=1000)
    assert newest.id in [row.id for row in since.data]
    assert all(row.datetime >= when for row in since.data)
    before = logs(ls, key, end_date=(when - datetime.timedelta(microseconds=1)).isoformat(), page_size=1000)
    assert newest.id not in [row.id for row in before.data]
    today = logs(ls, key, start_date=when.date().isoformat(), end_date=when.date().isoformat(), page_size=1000)
    assert newest.id in [row.id for row in today.data]

    oldest_first = logs(ls, key, ordering="datetime", page_size=1000)
    times = [row.datetime for row in oldest_first.data]
    assert times == sorted(times)
    second = logs(ls, key, ordering="-id", page=2, page_size=1)
    assert second.data[0].id == logs(ls, key, ordering="-id", page_size=2).data[1].id


def test_activity_logs_refuse_what_they_cannot_read(ls):
    for params, field in [
        ({"method": "FETCH"}, "method"),
        ({"start_date": "yesterday"}, "start_date"),
        ({"ordering": "colour"}, "ordering"),
    ]:
        with pytest.raises(ApiError) as e:
            ls.activity_logs.list(**params)
        assert e.value.status_code == 400 and field in e.value.body["validation_errors"], e.value.body


def test_session_policy_get_and_update(ls, key):
    start = strict(SessionTimeoutPolicy, raw_get(key, "api/session-policy/"))
    assert ls.session_policy.get().max_session_age == start.max_session_age
    assert start.max_session_age >= 1 and start.max_time_between_activity >= 1

    r = ls.session_policy.with_raw_response.update(max_session_age=600, max_time_between_activity=120)
    p = strict(SessionTimeoutPolicy, r.response.json())
    assert (p.max_session_age, p.max_time_between_activity) == (600, 120) and p.updated_at is not None
    r = ls.session_policy.with_raw_response.update(max_time_between_activity=240)
    p = strict(SessionTimeoutPolicy, r.response.json())
    assert (p.max_session_age, p.max_time_between_activity) == (600, 240)
    got = strict(SessionTimeoutPolicy, raw_get(key, "api/session-policy/"))
    assert got == p
    assert ls.session_policy.get().max_time_between_activity == 240

    with pytest.raises(ApiError) as e:
        ls.session_policy.update(max_session_age=0)
    assert e.value.status_code == 400 and "max_session_age" in e.value.body["validation_errors"]

    # A browser session signed in now works under the policy.
    s = requests.Session()
    r = s.post(f"{BASE}/user/login", json={"email": OWNER_EMAIL, "password": OWNER_PASSWORD}, timeout=30)
    assert r.status_code == 200
    assert s.get(f"{BASE}/api/current-user/whoami", timeout=30).status_code == 200

    r = ls.session_policy.with_raw_response.update(max_session_age=None, max_time_between_activity=None)
    p = strict(SessionTimeoutPolicy, r.response.json())
    assert (p.max_session_age, p.max_time_between_activity) == (start.max_session_age, start.max_time_between_activity)
