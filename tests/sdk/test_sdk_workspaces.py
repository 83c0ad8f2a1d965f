"""Workspaces driven by label-studio-sdk 2.1.2 against a live roster (see test_sdk_compat.py for
the set-up): every `workspaces.*` call, the invite that gives workspaces and the member list's
`exclude_workspace_id`. Each answer is validated strictly against the SDK's own model: GETs by
fetching the same URL again with `requests`, other calls through `with_raw_response`.
"""

import typing
import uuid

import pytest
from label_studio_sdk.core.api_error import ApiError
from label_studio_sdk.types import (
    LseUser,
    PaginatedLseOrganizationMemberListList,
    PaginatedLseUserList,
    Project,
    ScimSettings,
    ScimSettingsUpdate,
    Workspace,
    WorkspaceMemberCreate,
    WorkspaceMemberList,
)
from label_studio_sdk.workspaces.members.bulk.types import DeleteBulkResponse, PostBulkResponse

# The Owner's key, the client and the organization, shared with the compatibility tests.
from test_sdk_compat import key, ls, me, org_id, pytestmark, raw_get, strict  # noqa: F401


def unique(prefix):
    return f"{prefix} {uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def annotators(key, org_id):
    """User ids of live Annotators (at least three), read from the member list."""
    page = raw_get(key, f"api/organizations/{org_id}/memberships", role="AN", page_size=100)
    ids = [row["user"]["id"] for row in page["results"]]
    assert len(ids) >= 3, page
    return ids


@pytest.fixture()
def workspace(ls):
    """A fresh workspace, deleted afterwards if the test left it."""
    created = ls.workspaces.with_raw_response.create(title=unique("SDK workspace"))
    ws = strict(Workspace, created.response.json())
    yield ws
    try:
        ls.workspaces.delete(ws.id)
    except ApiError:
        pass


def test_create_get_list_update_delete(ls, key):
    r = ls.workspaces.with_raw_response.create(
        title=unique("Team"), description="about", color="#336699", is_archived=False, is_personal=False
    )
    ws = strict(Workspace, r.response.json())
    assert ws.title.startswith("Team") and ws.description == "about" and ws.color == "#336699"
    assert isinstance(ws.created_by, int) and ws.projects_count == 0
    assert ws.membership, "the creator is a member"

    got = strict(Workspace, raw_get(key, f"api/workspaces/{ws.id}/"))
    assert ls.workspaces.get(ws.id).title == got.title == ws.title

    listed = strict(typing.List[Workspace], raw_get(key, "api/workspaces/"))
    assert ws.id in [w.id for w in listed]
    assert ws.id in [w.id for w in ls.workspaces.list(is_archived=False, ordering="-id")]
    everything = raw_get(key, "api/workspaces/", include_all_workspaces="true", is_personal="false")
    assert ws.id in [w.id for w in strict(typing.List[Workspace], everything)]
    ordered = [w.id for w in ls.workspaces.list(ordering="-id")]
    assert ordered == sorted(ordered, reverse=True)

    r = ls.workspaces.with_raw_response.update(ws.id, description="changed", is_archived=True)
    updated = strict(Workspace, r.response.json())
    assert updated.description == "changed" and updated.is_archived is True
    assert ws.id not in [w.id for w in ls.workspaces.list(is_archived=False)]
    assert ws.id in [w.id for w in ls.workspaces.list(is_archived=True)]

    ls.workspaces.delete(ws.id)
    with pytest.raises(ApiError) as e:
        ls.workspaces.get(ws.id)
    assert e.value.status_code == 404


def test_a_workspace_without_a_title_is_refused(ls):
    with pytest.raises(ApiError) as e:
        ls.workspaces.create(title="   ")
    assert e.value.status_code == 400


def test_projects_of_a_workspace(ls, key, workspace):
    project = ls.projects.create(title=unique("SDK project"))
    ls.workspaces.projects.add(workspace.id, project=project.id)
    listed = strict(typing.List[Project], raw_get(key, f"api/workspaces/{workspace.id}/projects/"))
    assert [p.id for p in listed] == [project.id]
    assert [p.id for p in ls.workspaces.projects.list(workspace.id)] == [project.id]
    assert ls.workspaces.get(workspace.id).projects_count == 1

    ls.workspaces.projects.remove(workspace.id, project=project.id)
    assert ls.workspaces.projects.list(workspace.id) == []
    # The project stays in the organization.
    assert raw_get(key, f"api/projects/{project.id}/")["id"] == project.id


def test_members_add_list_remove(ls, key, workspace, annotators):
    user = annotators[0]
    r = ls.workspaces.members.with_raw_response.create(workspace.id, user=user)
    created = strict(WorkspaceMemberCreate, r.response.json())
    assert created.user == user and created.workspace == workspace.id

    listed = strict(typing.List[WorkspaceMemberList], raw_get(key, f"api/workspaces/{workspace.id}/memberships/"))
    assert user in [m.user.id for m in listed]
    assert all(m.workspace == workspace.id for m in listed)
    assert user in [m.user.id for m in ls.workspaces.members.list(workspace.id)]

    ls.workspaces.members.delete(workspace.id, user_id=user)
    assert user not in [m.user.id for m in ls.workspaces.members.list(workspace.id)]
    with pytest.raises(ApiError) as e:
        ls.workspaces.members.delete(workspace.id, user_id=user)
    assert e.value.status_code == 404


def test_bulk_assign_and_unassign(ls, key, workspace, annotators, org_id):
    some = annotators[:3]
    r = ls.workspaces.members.bulk.with_raw_response.post(workspace.id, all_=False, included=some)
    assert strict(PostBulkResponse, r.response.json()).assignments == 3
    # Again: they are members already.
    assert ls.workspaces.members.bulk.post(workspace.id, all_=False, included=some).assignments == 0

    r = ls.workspaces.members.bulk.with_raw_response.delete(
        workspace.id, all_=False, included=",".join(str(u) for u in some[:2])
    )
    assert strict(DeleteBulkResponse, r.response.json()).unassignments == 2

    # Every member of the organization but one.
    total = raw_get(key, f"api/organizations/{org_id}/memberships", page_size=1)["count"]
    added = ls.workspaces.members.bulk.post(workspace.id, all_=True, excluded=[some[0]]).assignments
    members = [m.user.id for m in ls.workspaces.members.list(workspace.id)]
    assert some[0] not in members and len(members) == total - 1, (added, total)

    removed = ls.workspaces.members.bulk.delete(workspace.id, all_=True, ids=",".join(str(u) for u in some))
    assert removed.unassignments == 2
    assert not set(some) & {m.user.id for m in ls.workspaces.members.list(workspace.id)}


def test_paginated_members(ls, key, workspace, annotators):
    ls.workspaces.members.bulk.post(workspace.id, all_=False, included=annotators)
    expected = {m.user.id for m in ls.workspaces.members.list(workspace.id)}
    page = strict(
        PaginatedLseUserList,
        raw_get(key, f"api/workspaces/{workspace.id}/memberships/paginated/", page=1, page_size=2),
    )
    assert page.count == len(expected) and len(page.results) == 2
    past = raw_get(key, f"api/workspaces/{workspace.id}/memberships/paginated/", page=999, page_size=2)
    assert strict(PaginatedLseUserList, past).results == []

    walked = list(ls.workspaces.members.paginated.list(workspace.id, page_size=2))
    assert all(isinstance(u, LseUser) for u in walked)
    assert {u.id for u in walked} == expected

    one = list(ls.workspaces.members.paginated.list(workspace.id, ids=str(annotators[1])))
    assert [u.id for u in one] == [annotators[1]]


def test_an_invite_names_workspaces(ls, workspace):
    ls.organizations.invites.send_email(
        emails=[f"ws-invitee-{uuid.uuid4().hex[:8]}@example.com"], role="AN", workspaces=[workspace.id]
    )
    with pytest.raises(ApiError) as e:
        ls.organizations.invites.send_email(emails=["nobody@example.com"], role="AN", workspaces=[999999])
    assert e.value.status_code == 400


def test_member_list_excludes_a_workspaces_members(ls, key, org_id, workspace, annotators):
    ls.workspaces.members.create(workspace.id, user=annotators[0])
    # The SDK types the id as a float: 3.0 goes out as "3.0".
    page = raw_get(
        key, f"api/organizations/{org_id}/memberships", exclude_workspace_id=f"{float(workspace.id)}", page_size=100
    )
    strict(PaginatedLseOrganizationMemberListList, page)
    users = {row["user"]["id"] for row in page["results"]}
    assert annotators[0] not in users and annotators[1] in users
    walked = list(ls.organizations.members.list(org_id, exclude_workspace_id=float(workspace.id), page_size=10))
    assert annotators[0] not in {m.user.id for m in walked}


def test_scim_settings_map_groups_to_workspaces_by_title(ls, key, workspace):
    group = unique("SDK Labelers")
    raw = ls.sso.scim.with_raw_response.update(workspaces_groups=[[workspace.title, group]])
    saved = strict(ScimSettingsUpdate, raw.response.json())
    assert saved.workspaces_groups == [[workspace.title, group]]
    got = strict(ScimSettings, raw_get(key, "api/scim/settings"))
    assert got.workspaces_groups == [[workspace.title, group]]
    # A title no workspace has is refused, named, and nothing is saved.
    with pytest.raises(ApiError) as refused:
        ls.sso.scim.update(workspaces_groups=[["No such workspace", group]])
    assert refused.value.status_code == 400
    assert "No such workspace" in str(refused.value.body)
    assert raw_get(key, "api/scim/settings")["workspaces_groups"] == [[workspace.title, group]]
    ls.sso.scim.update(workspaces_groups=[])
    assert raw_get(key, "api/scim/settings")["workspaces_groups"] == []
