"""Member tags and the member filters driven by label-studio-sdk 2.1.2 against a live roster (see
test_sdk_compat.py for the set-up): every `organizations.member_tags.*` call (with bulk, assign,
import and its status), `members.list` with each of its filters, `members.get_filter_schema`,
`members.list_filtered`, `members.search` and the two `memberships/filter-options/*` calls. Each
answer is validated strictly against the SDK's own model: GETs by fetching the same URL again with
`requests`, other calls through `with_raw_response`.

`members.search` is typed by the SDK as one `LseOrganizationMemberList`; a search answers a page of
members, so its body is validated as `PaginatedLseOrganizationMemberListList` (the list's own model).
"""

import datetime as dt
import io
import json
import typing
import uuid

import pytest
from label_studio_sdk.core.api_error import ApiError
from label_studio_sdk.organizations.member_tags.bulk.types import DeleteBulkResponse, PostBulkResponse
from label_studio_sdk.organizations.member_tags.types import AssignMemberTagsResponse, ImportMemberTagsResponse
from label_studio_sdk.types import (
    OrganizationMemberFilterSchema,
    OrganizationMemberMembershipOption,
    OrganizationMemberSkillsOption,
    OrganizationMemberTag,
    OrganizationMemberTagImportStatus,
    PaginatedLseOrganizationMemberListList,
    PaginatedOrganizationMemberTagList,
)

from test_sdk_compat import key, ls, me, org_id, pytestmark, raw_get, strict  # noqa: F401


def unique(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def member_ids(page):
    if not isinstance(page, dict):
        page = page.model_dump()
    return sorted(row["user"]["id"] for row in page["results"])


@pytest.fixture(scope="module")
def people(key, org_id):
    """Live Annotators and Reviewers (user id -> email), read from the member list."""
    page = raw_get(key, f"api/organizations/{org_id}/memberships", role="AN,RE", page_size=100)
    strict(PaginatedLseOrganizationMemberListList, page)
    found = {row["user"]["id"]: row["user"]["email"] for row in page["results"]}
    assert len(found) >= 4, page
    return found


@pytest.fixture()
def tag(ls, org_id):
    """A fresh tag, deleted afterwards if the test left it."""
    r = ls.organizations.member_tags.with_raw_response.create(org_id, label=unique("sdk"))
    t = strict(OrganizationMemberTag, r.response.json())
    yield t
    try:
        ls.organizations.member_tags.delete(org_id, t.id)
    except ApiError:
        pass


def test_create_get_list_update_delete(ls, key, org_id, me):
    label = unique("Crud")
    r = ls.organizations.member_tags.with_raw_response.create(org_id, label=label)
    assert r.response.status_code == 201
    t = strict(OrganizationMemberTag, r.response.json())
    assert t.label == label and t.organization == org_id and t.member_count == 0
    assert t.created_by.id == me.id

    got = strict(OrganizationMemberTag, raw_get(key, f"api/organizations/{org_id}/member-tags/{t.id}"))
    assert ls.organizations.member_tags.get(org_id, t.id).label == got.label == label

    page = strict(
        PaginatedOrganizationMemberTagList,
        raw_get(key, f"api/organizations/{org_id}/member-tags", search=label.upper(), ordering="-id", page=1, page_size=5),
    )
    assert [x.id for x in page.results] == [t.id]
    listed = ls.organizations.member_tags.list(org_id, search=label, ordering="label", page=1, page_size=30)
    assert [x.id for x in listed.results] == [t.id]

    with pytest.raises(ApiError) as dup:
        ls.organizations.member_tags.create(org_id, label=label.upper())
    assert dup.value.status_code == 400

    r = ls.organizations.member_tags.with_raw_response.update(org_id, t.id, label=label + "-renamed")
    assert strict(OrganizationMemberTag, r.response.json()).label == label + "-renamed"

    ls.organizations.member_tags.delete(org_id, t.id)
    with pytest.raises(ApiError) as gone:
        ls.organizations.member_tags.get(org_id, t.id)
    assert gone.value.status_code == 404


def test_bulk_create_and_delete(ls, key, org_id):
    labels = [unique("Bulk") for _ in range(3)]
    r = ls.organizations.member_tags.bulk.with_raw_response.post(org_id, labels=labels + [labels[0].upper()])
    assert strict(PostBulkResponse, r.response.json()).created == 3
    page = raw_get(key, f"api/organizations/{org_id}/member-tags", search="bulk-", page_size=100)
    ids = [t["id"] for t in page["results"] if t["label"] in labels]
    assert len(ids) == 3
    r = ls.organizations.member_tags.bulk.with_raw_response.delete(org_id, ids=ids)
    assert strict(DeleteBulkResponse, r.response.json()).deleted == 3
    with pytest.raises(ApiError) as bad:
        ls.organizations.member_tags.bulk.delete(org_id, ids=[ids[0]])
    assert bad.value.status_code == 400


def test_assign_included_all_excluded_filters_and_overwrite(ls, key, org_id, people, tag):
    a, b, c, d = sorted(people)[:4]
    r = ls.organizations.member_tags.with_raw_response.assign(
        org_id, all_=False, included=[a, b], bulk_organization_member_tag_assignment_request_tags=[tag.id]
    )
    assert strict(AssignMemberTagsResponse, r.response.json()).assigned == 2
    tagged = raw_get(key, f"api/organizations/{org_id}/memberships", tags=str(tag.id), page_size=100)
    strict(PaginatedLseOrganizationMemberListList, tagged)
    assert member_ids(tagged) == sorted([a, b])
    for row in tagged["results"]:
        assert {"id": tag.id, "label": tag.label} in row["tags"] and row["user_type"] == "standard"

    # Everyone matching the query's filters but the excluded; the query filters are the member list's.
    other = strict(OrganizationMemberTag, ls.organizations.member_tags.with_raw_response.create(org_id, label=unique("all")).response.json())
    try:
        r = ls.organizations.member_tags.with_raw_response.assign(
            org_id,
            all_=True,
            excluded=[a],
            tags=str(tag.id),
            role="AN,RE",
            user_type="standard",
            is_deleted=False,
            exclude_project_id=None,
            exclude_workspace_id=None,
            user_last_activity_gte=None,
            user_last_activity_lte=None,
            bulk_organization_member_tag_assignment_request_tags=[other.id],
        )
        assert strict(AssignMemberTagsResponse, r.response.json()).assigned == 1
        assert member_ids(raw_get(key, f"api/organizations/{org_id}/memberships", tags=str(other.id))) == [b]
        # Overwrite: b keeps only `other`.
        r = ls.organizations.member_tags.with_raw_response.assign(
            org_id, all_=False, included=[b], overwrite=True, bulk_organization_member_tag_assignment_request_tags=[other.id]
        )
        assert strict(AssignMemberTagsResponse, r.response.json()).assigned == 0
        assert member_ids(raw_get(key, f"api/organizations/{org_id}/memberships", tags=str(tag.id))) == [a]
        assert ls.organizations.member_tags.get(org_id, other.id).member_count == 1
    finally:
        ls.organizations.member_tags.delete(org_id, other.id)


def test_import_and_its_status(ls, key, org_id, people):
    a, b = sorted(people)[:2]
    fresh = unique("imported")
    csv = f'email,tags\n{people[a]},"{fresh}"\n{people[b]},{fresh}\nnobody@sdk.example.com,{fresh}\n'
    batch = unique("batch")
    r = ls.organizations.member_tags.with_raw_response.import_(
        org_id, bulk_tags=batch, file=("tags.csv", io.BytesIO(csv.encode()), "text/csv")
    )
    job = strict(ImportMemberTagsResponse, r.response.json())
    assert isinstance(job.import_, int)
    status = strict(
        OrganizationMemberTagImportStatus, raw_get(key, f"api/organizations/{org_id}/member-tags/imports/{job.import_}")
    )
    assert status.status == "completed" and status.tags_created == 2 and status.assignments_created == 4
    assert status.users_skipped == ["nobody@sdk.example.com"]
    assert ls.organizations.member_tags.get_import(org_id, job.import_).id == job.import_
    page = raw_get(key, f"api/organizations/{org_id}/member-tags", search=fresh)
    (t,) = page["results"]
    assert member_ids(raw_get(key, f"api/organizations/{org_id}/memberships", tags=str(t["id"]))) == sorted([a, b])
    for found in raw_get(key, f"api/organizations/{org_id}/member-tags", search="imported-")["results"] + raw_get(
        key, f"api/organizations/{org_id}/member-tags", search=batch
    )["results"]:
        ls.organizations.member_tags.delete(org_id, found["id"])


def test_members_list_honours_every_filter(ls, key, org_id, people, tag):
    a = sorted(people)[0]
    ls.organizations.member_tags.assign(
        org_id, all_=False, included=[a], bulk_organization_member_tag_assignment_request_tags=[tag.id]
    )
    path = f"api/organizations/{org_id}/memberships"
    everyone = raw_get(key, path, page_size=100)
    total = everyone["count"]

    assert [m.user.id for m in ls.organizations.members.list(org_id, tags=[tag.id])] == [a]
    assert member_ids(strict(PaginatedLseOrganizationMemberListList, raw_get(key, path, tags=str(tag.id)))) == [a]

    assert len(list(ls.organizations.members.list(org_id, user_type="standard", page_size=100))) == total
    assert list(ls.organizations.members.list(org_id, user_type=["flex", "viewonly"])) == []
    assert raw_get(key, path, user_type="flex")["count"] == 0

    # Last activity: the Owner acted just now; nobody acts in the future.
    now = dt.datetime.now(dt.timezone.utc)
    recent = list(ls.organizations.members.list(org_id, user_last_activity_gte=now - dt.timedelta(days=1), page_size=100))
    assert recent and all(m.user.last_activity is not None for m in recent)
    assert list(ls.organizations.members.list(org_id, user_last_activity_gte=now + dt.timedelta(days=1))) == []
    old = list(ls.organizations.members.list(org_id, user_last_activity_lte=now - dt.timedelta(days=3650)))
    assert old == []
    page = raw_get(key, path, user__last_activity__gte=(now - dt.timedelta(days=1)).isoformat(), page_size=100)
    assert member_ids(strict(PaginatedLseOrganizationMemberListList, page)) == sorted(m.user.id for m in recent)

    with_projects = raw_get(key, path, contributed_to_projects="true", page_size=100)
    strict(PaginatedLseOrganizationMemberListList, with_projects)
    assert all(isinstance(r["created_projects"], list) for r in with_projects["results"])
    assert all(r["created_projects"] is None for r in everyone["results"])
    listed = list(ls.organizations.members.list(org_id, contributed_to_projects=True, page_size=100))
    assert all(m.contributed_to_projects is not None for m in listed)

    # The rest of the list's parameters, each once through the SDK.
    assert [m.user.id for m in ls.organizations.members.list(org_id, tags=tag.id, role="AN,RE", search=people[a],
                                                              is_deleted=False, ordering="-user__email",
                                                              exclude_project_id=None, exclude_workspace_id=None)] == [a]
    with pytest.raises(ApiError) as bad:
        list(ls.organizations.members.list(org_id, user_type="robot"))
    assert bad.value.status_code == 400


def test_filter_schema_list_filtered_and_search(ls, key, org_id, people, tag):
    a = sorted(people)[0]
    ls.organizations.member_tags.assign(
        org_id, all_=False, included=[a], bulk_organization_member_tag_assignment_request_tags=[tag.id]
    )
    schema = strict(OrganizationMemberFilterSchema, raw_get(key, f"api/organizations/{org_id}/memberships/filter-schema"))
    assert ls.organizations.members.get_filter_schema(org_id).version == schema.version == 1
    keys = {f["key"] for f in schema.filters}
    assert {"role", "tags", "user_type", "last_activity", "membership", "search", "is_deleted"} <= keys

    payload = {"version": 1, "filters": [{"key": "tags", "value": [tag.id]}, {"key": "role", "value": ["AN", "RE"]}]}
    page = raw_get(key, f"api/organizations/{org_id}/memberships/search", filters=json.dumps(payload))
    assert member_ids(strict(PaginatedLseOrganizationMemberListList, page)) == [a]
    r = ls.organizations.members.with_raw_response.list_filtered(
        org_id, filters=json.dumps(payload), user_type="standard", ordering="user__email", page=1, page_size=10
    )
    assert member_ids(strict(PaginatedLseOrganizationMemberListList, r.response.json())) == [a]
    r = ls.organizations.members.with_raw_response.list_filtered(
        org_id, tags=tag.id, role="AN,RE", search=people[a], is_deleted=False,
        exclude_project_id=None, exclude_workspace_id=None,
        user_last_activity_gte=dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc),
        user_last_activity_lte=dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1),
    )
    page = strict(PaginatedLseOrganizationMemberListList, r.response.json())
    assert [m.user.id for m in page.results] in ([a], [])  # [] when `a` never signed in

    r = ls.organizations.members.with_raw_response.search(org_id, filters=payload)
    assert member_ids(strict(PaginatedLseOrganizationMemberListList, r.response.json())) == [a]
    with pytest.raises(ApiError) as bad:
        ls.organizations.members.search(org_id, filters={"version": 1, "filters": [{"key": "skills", "value": ["x"]}]})
    assert bad.value.status_code == 400 and "skills" in str(bad.value.body)
    with pytest.raises(ApiError) as bad:
        ls.organizations.members.search(org_id, filters={"version": 2, "filters": []})
    assert bad.value.status_code == 400


def test_filter_options(ls, key, org_id):
    ws = ls.workspaces.create(title=unique("Options"))
    project = ls.projects.create(title=unique("Options project"))
    try:
        ls.workspaces.projects.add(ws.id, project=project.id)
        options = strict(
            typing.List[OrganizationMemberMembershipOption],
            raw_get(key, f"api/organizations/{org_id}/memberships/filter-options/membership", search="options"),
        )
        got = ls.organizations.api_organizations_memberships_filter_options_membership_list(org_id, search="options")
        assert [o.id for o in got] == [o.id for o in options]
        (mine,) = [o for o in options if o.kind == "workspace" and o.id == ws.id]
        assert [p.id for p in mine.projects] == [project.id]
        skills = strict(
            typing.List[OrganizationMemberSkillsOption],
            raw_get(key, f"api/organizations/{org_id}/memberships/filter-options/skills", search="x"),
        )
        assert skills == [] == ls.organizations.api_organizations_memberships_filter_options_skills_list(org_id)
        # The membership filter takes the options' targets.
        payload = {"version": 1, "filters": [{"key": "membership", "value": [{"kind": "workspace", "id": ws.id}]}]}
        page = strict(PaginatedLseOrganizationMemberListList,
                      ls.organizations.members.with_raw_response.search(org_id, filters=payload).response.json())
        assert page.count >= 1  # the creator is a member of their workspace
    finally:
        ls.workspaces.delete(ws.id)
