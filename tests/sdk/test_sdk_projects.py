"""Projects, project members and project roles driven by label-studio-sdk 2.1.2 against a live roster.

Shares the harness of test_sdk_compat.py (the same environment and fixtures): every response is also
validated strictly against the SDK's own model (`strict`), GETs by fetching the same URL with
`requests`, other calls through the SDK's `with_raw_response`.
"""

import typing

import pytest
from label_studio_sdk.core.api_error import ApiError
from label_studio_sdk.types import (
    LseProjectCreate,
    LseProjectResponse,
    PaginatedAllRolesProjectListList,
    PaginatedLseOrganizationMemberListList,
    ProjectMember,
    ProjectRole,
)

from test_sdk_compat import key, ls, me, org_id, pytestmark, raw_get, strict, walk_members  # noqa: F401


@pytest.fixture(scope="module")
def people(ls, org_id):
    """An Annotator and a Reviewer of the seeded organization, by their user ids."""
    members = walk_members(ls, org_id)
    first = {}
    for m in sorted(members, key=lambda m: m.user.email):
        first.setdefault(m.role, m.user.id)
    return {"AN": first["AN"], "RE": first["RE"]}


@pytest.fixture(scope="module")
def project(ls):
    """A project created through the SDK with Label Studio's labeling keys, which roster ignores."""
    created = ls.projects.with_raw_response.create(
        title="SDK project", description=None, label_config="<View></View>", show_skip_button=True
    )
    assert created.status_code == 201
    body = strict(LseProjectCreate, created.response.json())
    assert body.title == "SDK project" and body.description == ""
    return body.id


def test_get_and_list_validate_as_the_sdks_project_models(ls, key, me, project):
    body = strict(LseProjectResponse, raw_get(key, f"api/projects/{project}/"))
    assert body.id == project and body.title == "SDK project"
    assert body.created_by.id == me.id and body.created_by.username
    assert body.workspace is None and body.members_count >= 1
    assert ls.projects.get(project).title == "SDK project"
    limited = strict(LseProjectResponse, raw_get(key, f"api/projects/{project}/", members_limit=0))
    assert limited.members == []

    page = strict(PaginatedAllRolesProjectListList, raw_get(key, "api/projects/", page=1))
    assert project in [p.id for p in page.results]
    assert project in [p.id for p in ls.projects.list()]


def test_members_add_returns_the_user_id_and_keeps_the_project_role(ls, key, project, people):
    an = people["AN"]
    added = ls.projects.members.with_raw_response.add(project, user=an)
    assert added.status_code == 201
    assert strict(ProjectMember, added.response.json()).user == an

    set_role = ls.projects.roles.with_raw_response.add(project=project, user=an, role="RE")
    role = strict(ProjectRole, set_role.response.json())
    assert (role.project, role.user, role.role, role.role_source) == (project, an, "RE", "api")
    assert isinstance(role.id, int)

    # Adding the member again keeps their project role.
    assert ls.projects.members.add(project, user=an).user == an
    roles = strict(typing.List[ProjectRole], raw_get(key, f"api/projects/{project}/roles"))
    assert [(r.id, r.user, r.role) for r in roles] == [(role.id, an, "RE")]
    assert [r.id for r in ls.projects.roles.get(project)] == [role.id]


def test_roles_list_shows_every_visible_role_and_remove_clears_one(ls, key, project, people):
    re_ = people["RE"]
    role = ls.projects.roles.add(project=project, user=re_, role="AN")
    listed = strict(typing.List[ProjectRole], raw_get(key, "api/projects/roles/"))
    assert role.id in [r.id for r in listed]
    assert role.id in [r.id for r in ls.projects.roles.list()]
    assert role.id in [r.id for r in ls.projects.roles.list(ids=str(project))]

    ls.projects.roles.remove(role.id)
    assert role.id not in [r.id for r in ls.projects.roles.get(project)]
    # The member stays in the project, with their organization role.
    detail = strict(LseProjectResponse, raw_get(key, f"api/projects/{project}/"))
    assert re_ in [m["user"]["id"] for m in detail.members]
    with pytest.raises(ApiError) as gone:
        ls.projects.roles.remove(role.id)
    assert gone.value.status_code == 404


def test_a_role_that_is_not_a_project_role_is_a_typed_400(ls, project, people):
    with pytest.raises(ApiError) as refused:
        ls.projects.roles.add(project=project, user=people["AN"], role="MA")
    assert refused.value.status_code == 400


def test_member_list_excludes_the_projects_members_with_a_float_id(ls, key, org_id, project, people):
    an = people["AN"]
    ls.projects.members.add(project, user=an)
    page = strict(
        PaginatedLseOrganizationMemberListList,
        raw_get(key, f"api/organizations/{org_id}/memberships", exclude_project_id=f"{project}.0"),
    )
    assert an not in [m.user.id for m in page.results]
    walked = walk_members(ls, org_id, exclude_project_id=float(project))
    assert an not in [m.user.id for m in walked]
    assert len(walked) == page.count

    ls.projects.members.remove(project, user=an)
    walked = walk_members(ls, org_id, exclude_project_id=float(project))
    assert an in [m.user.id for m in walked]


def test_paginated_members_list_explicit_and_implicit_members(ls, key, me, project, people):
    from label_studio_sdk.types import PaginatedPaginatedProjectMemberList

    an = people["AN"]
    ls.projects.members.add(project, user=an)
    page = strict(
        PaginatedPaginatedProjectMemberList,
        raw_get(key, f"api/projects/{project}/members/paginated/", page=1, page_size=100),
    )
    rows = {r.id: r for r in page.results}
    assert rows[an].implicit_member is False
    # The Owner created the project, so is an explicit member too; Administrators are implicit.
    assert rows[me.id].implicit_member is False
    assert any(r.implicit_member for r in page.results)
    walked = list(ls.projects.members.paginated.list(project, page_size=2))
    assert sorted(r.id for r in walked) == sorted(rows)
    explicit = list(ls.projects.members.paginated.list(project, implicit=False, page_size=100))
    assert all(not r.implicit_member for r in explicit) and an in [r.id for r in explicit]
    only = list(ls.projects.members.paginated.list(project, ids=str(an), page_size=100))
    assert [r.id for r in only] == [an]

    csv = b"".join(ls.projects.members.export_csv(project, implicit=False))
    assert csv.startswith(b"id,email,") and str(an).encode() in csv


def test_bulk_assign_and_unassign(ls, project, people):
    from label_studio_sdk.projects.members.bulk.types import DeleteBulkResponse
    from label_studio_sdk.types import ProjectMemberBulkAssignResponse

    an, re_ = people["AN"], people["RE"]
    posted = ls.projects.members.bulk.with_raw_response.post(
        project, all_=False, included=[an, 999999], roles=[{"user_id": re_, "role": "AN"}]
    )
    body = strict(ProjectMemberBulkAssignResponse, posted.response.json())
    assert body.assignments == 2 and body.skipped_user_ids == [999999]
    roles = {r.user: r.role for r in ls.projects.roles.get(project)}
    assert roles[re_] == "AN"

    deleted = ls.projects.members.bulk.with_raw_response.delete(project, all_=False, included=f"{an},{re_}")
    assert strict(DeleteBulkResponse, deleted.response.json()).unassignments == 2
    explicit = [r.id for r in ls.projects.members.paginated.list(project, implicit=False, page_size=100)]
    assert an not in explicit and re_ not in explicit


def test_project_and_member_filters_the_sdk_sends(ls, key, me, project, people):
    import datetime

    from label_studio_sdk.types import PaginatedPaginatedProjectMemberList

    # projects.list: title and search narrow, ordering orders, a workspace filter (a float in
    # the SDK) keeps to the workspace, pinned_only is empty since roster pins nothing.
    other = ls.projects.create(title="Zebra stripes", description="unrelated")
    titled = [p.id for p in ls.projects.list(title="sdk PROJECT")]
    assert project in titled and other.id not in titled
    assert [p.id for p in ls.projects.list(search="stripes")] == [other.id]
    ordered = [p.title for p in ls.projects.list(ordering="-title", ids=f"{project},{other.id}")]
    assert ordered == ["Zebra stripes", "SDK project"]
    assert list(ls.projects.list(filter="pinned_only")) == []
    ws = ls.workspaces.create(title=f"SDK filter workspace {other.id}")
    ls.workspaces.projects.add(ws.id, project=other.id)
    assert [p.id for p in ls.projects.list(workspaces=float(ws.id))] == [other.id]
    page = strict(
        PaginatedAllRolesProjectListList,
        raw_get(key, "api/projects/", workspaces=f"{ws.id}.0", ordering="-created_at"),
    )
    assert [p.id for p in page.results] == [other.id]
    ls.workspaces.delete(ws.id)

    # project members: activity window, kinds of user and annotators left out.
    an = people["AN"]
    ls.projects.members.add(project, user=an)
    ls.users.whoami()
    since = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=1)
    recent = list(ls.projects.members.paginated.list(project, last_activity_gte=since, page_size=100))
    assert me.id in [r.id for r in recent]
    strict(
        PaginatedPaginatedProjectMemberList,
        raw_get(key, f"api/projects/{project}/members/paginated/", last_activity__gte=since.isoformat()),
    )
    standard = list(ls.projects.members.paginated.list(project, user_type=["standard", "flex"], page_size=100))
    assert an in [r.id for r in standard]
    assert list(ls.projects.members.paginated.list(project, user_type="viewonly")) == []
    no_an = list(ls.projects.members.paginated.list(project, no_annotators=True, page_size=100))
    assert an not in [r.id for r in no_an] and me.id in [r.id for r in no_an]
    with pytest.raises(ApiError) as e:
        list(ls.projects.list(state="COMPLETED"))
    assert e.value.status_code == 400
