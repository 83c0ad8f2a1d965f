//! Workspaces, their projects and members, in the shapes label-studio-sdk 2.1.2 reads
//! (`workspaces.*`). Lists are plain arrays except the paginated member list. Who sees and
//! changes what is decided in the service; a workspace the caller does not see is a 404.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use roster_domain::{ProjectId, UserId, WorkspaceId};
use roster_service::store::workspaces::MemberSelection;
use roster_service::store::{MemberRow, WorkspaceRecord};
use roster_service::workspaces::{BulkSelection, WorkspacePatch, WorkspaceQuery};
use roster_service::Member;
use serde::{Deserialize, Serialize};

use crate::api::orgs::{comma_list, float_typed_id, ordering, query_bool};
use crate::api::projects::ProjectView;
use crate::error::{ApiError, ApiResult};
use crate::extract::{parse_json, InActiveOrg, JsonBody, PathParams, QueryParams};
use crate::paging::{page_view, PageParams, RequestUrl};
use crate::views::{PageView, UserView};
use crate::AppState;

/// A workspace (the SDK's `Workspace`).
#[derive(Serialize, utoipa::ToSchema)]
pub struct WorkspaceView {
    id: i64,
    title: String,
    description: String,
    color: String,
    is_personal: bool,
    is_archived: bool,
    /// The creator's user id (null once their membership is gone from the records).
    created_by: Option<i64>,
    created_at: String,
    projects_count: i64,
    /// The caller's own membership of the workspace, or null when they are not a member.
    #[schema(value_type = Option<Object>)]
    membership: Option<serde_json::Value>,
}

impl WorkspaceView {
    fn of(w: &WorkspaceRecord, caller: UserId, member: bool) -> Self {
        WorkspaceView {
            id: w.id.0,
            title: w.title.clone(),
            description: w.description.clone(),
            color: w.color.clone(),
            is_personal: w.is_personal,
            is_archived: w.is_archived,
            created_by: w.created_by_user.map(|u| u.0),
            created_at: crate::views::time(w.created_at),
            projects_count: w.projects_count,
            membership: member.then(|| serde_json::json!({"user": caller.0, "workspace": w.id.0})),
        }
    }
}

fn workspace_id(raw: &str) -> ApiResult<WorkspaceId> {
    raw.parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .map(WorkspaceId)
        .ok_or_else(|| ApiError::not_found(format!("No workspace {raw}.")))
}

/// A comma-separated list of ids ("1,2,3"); empty means none.
fn id_list(field: &str, raw: Option<&str>) -> ApiResult<Vec<i64>> {
    comma_list(raw, |s| float_typed_id(field, s))
}

fn view(
    by: &roster_service::Authorized<Member>,
    w: &WorkspaceRecord,
    member: bool,
) -> WorkspaceView {
    WorkspaceView::of(w, by.user().id, member)
}

#[derive(Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WorkspaceListParams {
    include_all_workspaces: Option<String>,
    is_archived: Option<String>,
    is_personal: Option<String>,
    ordering: Option<String>,
}

/// The workspaces the caller sees: Owners and Administrators all (other people's personal
/// ones with `include_all_workspaces`), Managers theirs, Reviewers and Annotators those
/// holding a project they belong to. A plain array.
#[utoipa::path(get, path = "/api/workspaces", tag = "workspaces", params(WorkspaceListParams),
    responses((status = 200, body = [WorkspaceView]), (status = 400), (status = 403)))]
pub async fn list_workspaces(
    State(state): State<AppState>,
    InActiveOrg(by): InActiveOrg<Member>,
    QueryParams(p): QueryParams<WorkspaceListParams>,
) -> ApiResult<Json<Vec<WorkspaceView>>> {
    let order = ordering(
        p.ordering.as_deref(),
        &[
            ("id", "id"),
            ("title", "title"),
            ("created_at", "created_at"),
        ],
        "id, title or created_at",
    )?;
    let q = WorkspaceQuery {
        archived: query_bool("is_archived", p.is_archived.as_deref())?,
        personal: query_bool("is_personal", p.is_personal.as_deref())?,
        include_all: query_bool(
            "include_all_workspaces",
            p.include_all_workspaces.as_deref(),
        )?
        .unwrap_or(false),
        order,
    };
    let list = state.service.list_workspaces(&by, q).await?;
    Ok(Json(list.iter().map(|(w, m)| view(&by, w, *m)).collect()))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkspaceBody {
    title: Option<String>,
    description: Option<String>,
    color: Option<String>,
    is_personal: Option<bool>,
    is_archived: Option<bool>,
}

impl WorkspaceBody {
    fn patch(self) -> WorkspacePatch {
        WorkspacePatch {
            title: self.title,
            description: self.description,
            color: self.color,
            is_personal: self.is_personal,
            is_archived: self.is_archived,
        }
    }
}

/// Creates a workspace (Owner, Administrator, Manager); the creator becomes its member.
/// The title is required and unique in the organization.
#[utoipa::path(post, path = "/api/workspaces", tag = "workspaces", request_body = WorkspaceBody,
    responses((status = 201, body = WorkspaceView), (status = 400), (status = 403)))]
pub async fn create_workspace(
    State(state): State<AppState>,
    InActiveOrg(by): InActiveOrg<Member>,
    JsonBody(body): JsonBody<WorkspaceBody>,
) -> ApiResult<(StatusCode, Json<WorkspaceView>)> {
    if body.title.is_none() {
        return Err(ApiError::invalid("title", "This field is required."));
    }
    let w = state.service.create_workspace(&by, body.patch()).await?;
    Ok((StatusCode::CREATED, Json(view(&by, &w, true))))
}

#[utoipa::path(get, path = "/api/workspaces/{id}", tag = "workspaces", params(("id" = i64, Path)),
    responses((status = 200, body = WorkspaceView), (status = 404)))]
pub async fn get_workspace(
    State(state): State<AppState>,
    InActiveOrg(by): InActiveOrg<Member>,
    PathParams(id): PathParams<String>,
) -> ApiResult<Json<WorkspaceView>> {
    let (w, member) = state.service.get_workspace(&by, workspace_id(&id)?).await?;
    Ok(Json(view(&by, &w, member)))
}

/// Changes a workspace's settings (those who manage it: Owner, Administrator, its Managers).
#[utoipa::path(patch, path = "/api/workspaces/{id}", tag = "workspaces", params(("id" = i64, Path)), request_body = WorkspaceBody,
    responses((status = 200, body = WorkspaceView), (status = 400), (status = 403), (status = 404)))]
pub async fn update_workspace(
    State(state): State<AppState>,
    InActiveOrg(by): InActiveOrg<Member>,
    PathParams(id): PathParams<String>,
    JsonBody(body): JsonBody<WorkspaceBody>,
) -> ApiResult<Json<WorkspaceView>> {
    let id = workspace_id(&id)?;
    let w = state
        .service
        .update_workspace(&by, id, body.patch())
        .await?;
    let (_, member) = state.service.get_workspace(&by, id).await?;
    Ok(Json(view(&by, &w, member)))
}

/// Deletes a workspace; its projects stay in the organization, outside any workspace.
#[utoipa::path(delete, path = "/api/workspaces/{id}", tag = "workspaces", params(("id" = i64, Path)),
    responses((status = 204), (status = 403), (status = 404)))]
pub async fn delete_workspace(
    State(state): State<AppState>,
    InActiveOrg(by): InActiveOrg<Member>,
    PathParams(id): PathParams<String>,
) -> ApiResult<StatusCode> {
    state
        .service
        .delete_workspace(&by, workspace_id(&id)?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The workspace's projects the caller sees. A plain array.
#[utoipa::path(get, path = "/api/workspaces/{id}/projects", tag = "workspaces", params(("id" = i64, Path)),
    responses((status = 200, body = [ProjectView]), (status = 404)))]
pub async fn workspace_projects(
    State(state): State<AppState>,
    InActiveOrg(by): InActiveOrg<Member>,
    PathParams(id): PathParams<String>,
) -> ApiResult<Json<Vec<ProjectView>>> {
    let list = state
        .service
        .workspace_projects(&by, workspace_id(&id)?)
        .await?;
    let summaries = state.service.summarize_projects(list).await?;
    Ok(Json(summaries.iter().map(ProjectView::of).collect()))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkspaceProjectBody {
    project: i64,
}

/// Puts a project into the workspace (out of any other).
#[utoipa::path(post, path = "/api/workspaces/{id}/projects", tag = "workspaces", params(("id" = i64, Path)), request_body = WorkspaceProjectBody,
    responses((status = 201), (status = 400), (status = 403), (status = 404)))]
pub async fn add_workspace_project(
    State(state): State<AppState>,
    InActiveOrg(by): InActiveOrg<Member>,
    PathParams(id): PathParams<String>,
    JsonBody(body): JsonBody<WorkspaceProjectBody>,
) -> ApiResult<StatusCode> {
    state
        .service
        .add_workspace_project(&by, workspace_id(&id)?, ProjectId(body.project))
        .await?;
    Ok(StatusCode::CREATED)
}

#[derive(Deserialize, Default)]
pub struct ProjectQuery {
    project: Option<String>,
}

/// One id named in the query or in a JSON body (older clients); both must agree when both
/// are given, and a malformed body changes nothing.
fn one_id(field: &str, from_query: Option<&str>, raw: &[u8], body_keys: &[&str]) -> ApiResult<i64> {
    let from_query = from_query.map(|q| float_typed_id(field, q)).transpose()?;
    let from_body = if raw.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        let v: serde_json::Map<String, serde_json::Value> = parse_json(raw)?;
        if let Some(k) = v.keys().find(|k| !body_keys.contains(&k.as_str())) {
            return Err(ApiError::invalid(k, "Unknown field."));
        }
        let found = body_keys.iter().find_map(|k| v.get(*k));
        match found {
            None => None,
            Some(n) => Some(
                n.as_i64()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| ApiError::invalid(field, "must be an id"))?,
            ),
        }
    };
    match (from_query, from_body) {
        (Some(a), Some(b)) if a != b => Err(ApiError::invalid(
            field,
            "named differently in the query and the body",
        )),
        (Some(n), _) | (None, Some(n)) => Ok(n),
        (None, None) => Err(ApiError::invalid(field, "This field is required.")),
    }
}

/// A JSON body without its `workspace` key, which older clients (the SDK's legacy client) send
/// and which may only repeat the path's workspace.
fn without_same_workspace(raw: &[u8], workspace: WorkspaceId) -> ApiResult<Vec<u8>> {
    if raw.iter().all(u8::is_ascii_whitespace) {
        return Ok(raw.to_vec());
    }
    let mut v: serde_json::Map<String, serde_json::Value> = parse_json(raw)?;
    match v.remove("workspace") {
        None => Ok(raw.to_vec()),
        Some(w) if w.as_i64() == Some(workspace.0) => {
            Ok(serde_json::to_vec(&v).expect("a JSON map serializes"))
        }
        Some(_) => Err(ApiError::invalid(
            "workspace",
            "must be the workspace in the path",
        )),
    }
}

/// Takes a project out of the workspace: `?project=ID` (or a JSON body `{project}`).
#[utoipa::path(delete, path = "/api/workspaces/{id}/projects", tag = "workspaces",
    params(("id" = i64, Path), ("project" = Option<i64>, Query)), request_body = Option<WorkspaceProjectBody>,
    responses((status = 204), (status = 400), (status = 403), (status = 404)))]
pub async fn remove_workspace_project(
    State(state): State<AppState>,
    InActiveOrg(by): InActiveOrg<Member>,
    PathParams(id): PathParams<String>,
    QueryParams(q): QueryParams<ProjectQuery>,
    raw: axum::body::Bytes,
) -> ApiResult<StatusCode> {
    let project = one_id("project", q.project.as_deref(), &raw, &["project"])?;
    state
        .service
        .remove_workspace_project(&by, workspace_id(&id)?, ProjectId(project))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// One member of a workspace (the SDK's `WorkspaceMemberList`).
#[derive(Serialize, utoipa::ToSchema)]
pub struct WorkspaceMemberView {
    user: UserView,
    workspace: i64,
}

/// The workspace's members (for those who manage it). A plain array.
#[utoipa::path(get, path = "/api/workspaces/{id}/memberships", tag = "workspaces", params(("id" = i64, Path)),
    responses((status = 200, body = [WorkspaceMemberView]), (status = 403), (status = 404)))]
pub async fn workspace_members(
    State(state): State<AppState>,
    InActiveOrg(by): InActiveOrg<Member>,
    PathParams(id): PathParams<String>,
) -> ApiResult<Json<Vec<WorkspaceMemberView>>> {
    let id = workspace_id(&id)?;
    let list = state.service.workspace_members(&by, id).await?;
    Ok(Json(
        list.iter()
            .map(|m: &MemberRow| WorkspaceMemberView {
                user: UserView::through(m),
                workspace: id.0,
            })
            .collect(),
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkspaceMemberBody {
    user: i64,
    /// The workspace again (optional); must be the one in the path.
    #[serde(default)]
    workspace: Option<i64>,
}

/// The SDK's `WorkspaceMemberCreate`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct WorkspaceMemberCreated {
    user: i64,
    workspace: i64,
}

/// Adds an organization member (any live member; a deactivated one gets access only once
/// reactivated) to the workspace.
#[utoipa::path(post, path = "/api/workspaces/{id}/memberships", tag = "workspaces", params(("id" = i64, Path)), request_body = WorkspaceMemberBody,
    responses((status = 201, body = WorkspaceMemberCreated), (status = 400), (status = 403), (status = 404)))]
pub async fn add_workspace_member(
    State(state): State<AppState>,
    InActiveOrg(by): InActiveOrg<Member>,
    PathParams(id): PathParams<String>,
    JsonBody(body): JsonBody<WorkspaceMemberBody>,
) -> ApiResult<(StatusCode, Json<WorkspaceMemberCreated>)> {
    let id = workspace_id(&id)?;
    if body.workspace.is_some_and(|w| w != id.0) {
        return Err(ApiError::invalid(
            "workspace",
            "must be the workspace in the path",
        ));
    }
    state
        .service
        .set_workspace_member(&by, id, UserId(body.user), true)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(WorkspaceMemberCreated {
            user: body.user,
            workspace: id.0,
        }),
    ))
}

#[derive(Deserialize, Default)]
pub struct UserIdQuery {
    user_id: Option<String>,
}

/// The body older clients send to remove a member (`user` is accepted for `user_id`).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // documents the body `one_id` reads
pub struct RemoveWorkspaceMemberBody {
    user_id: i64,
}

/// Removes a member from the workspace: `?user_id=ID` (or a JSON body `{user_id}` or `{user}`,
/// optionally with `workspace`, which must be this one).
#[utoipa::path(delete, path = "/api/workspaces/{id}/memberships", tag = "workspaces",
    params(("id" = i64, Path), ("user_id" = Option<i64>, Query)), request_body = Option<RemoveWorkspaceMemberBody>,
    responses((status = 204), (status = 400), (status = 403), (status = 404),
        (status = 409, description = "the membership was given by the identity provider, and manual workspace management is off")))]
pub async fn remove_workspace_member(
    State(state): State<AppState>,
    InActiveOrg(by): InActiveOrg<Member>,
    PathParams(id): PathParams<String>,
    QueryParams(q): QueryParams<UserIdQuery>,
    raw: axum::body::Bytes,
) -> ApiResult<StatusCode> {
    let workspace = workspace_id(&id)?;
    let raw = without_same_workspace(&raw, workspace)?;
    let user = one_id("user_id", q.user_id.as_deref(), &raw, &["user_id", "user"])?;
    state
        .service
        .set_workspace_member(&by, workspace, UserId(user), false)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkAssignBody {
    /// Every live organization member (but `excluded`); else only `included`.
    all: bool,
    #[serde(default)]
    included: Vec<i64>,
    #[serde(default)]
    excluded: Vec<i64>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct BulkAssigned {
    assignments: i64,
}

/// Adds many organization members at once, in one change: all that fail refuse the whole.
#[utoipa::path(post, path = "/api/workspaces/{id}/memberships/bulk", tag = "workspaces", params(("id" = i64, Path)), request_body = BulkAssignBody,
    responses((status = 200, body = BulkAssigned), (status = 400), (status = 403), (status = 404)))]
pub async fn bulk_add_members(
    State(state): State<AppState>,
    InActiveOrg(by): InActiveOrg<Member>,
    PathParams(id): PathParams<String>,
    JsonBody(body): JsonBody<BulkAssignBody>,
) -> ApiResult<Json<BulkAssigned>> {
    let sel = BulkSelection {
        all: body.all,
        included: body.included,
        excluded: body.excluded,
    };
    let n = state
        .service
        .bulk_add_workspace_members(&by, workspace_id(&id)?, sel)
        .await?;
    Ok(Json(BulkAssigned { assignments: n }))
}

#[derive(Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BulkRemoveParams {
    /// Remove every member matching `ids` and `search` (but `excluded`).
    all: Option<String>,
    /// Comma-separated user ids to remove when `all` is false.
    included: Option<String>,
    /// Comma-separated user ids to keep when `all` is true.
    excluded: Option<String>,
    /// Comma-separated user ids the removal is limited to.
    ids: Option<String>,
    /// Name or email.
    search: Option<String>,
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkRemoveBody {
    all: Option<bool>,
    included: Option<Vec<i64>>,
    excluded: Option<Vec<i64>>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct BulkUnassigned {
    unassignments: i64,
}

/// Removes many members at once (query parameters, or a JSON body `{all, included, excluded}`).
#[utoipa::path(delete, path = "/api/workspaces/{id}/memberships/bulk", tag = "workspaces",
    params(("id" = i64, Path), BulkRemoveParams), request_body = Option<BulkRemoveBody>,
    responses((status = 200, body = BulkUnassigned), (status = 400), (status = 403), (status = 404),
        (status = 409, description = "the membership was given by the identity provider, and manual workspace management is off")))]
pub async fn bulk_remove_members(
    State(state): State<AppState>,
    InActiveOrg(by): InActiveOrg<Member>,
    PathParams(id): PathParams<String>,
    QueryParams(q): QueryParams<BulkRemoveParams>,
    raw: axum::body::Bytes,
) -> ApiResult<Json<BulkUnassigned>> {
    let body: BulkRemoveBody = if raw.iter().all(u8::is_ascii_whitespace) {
        BulkRemoveBody::default()
    } else {
        parse_json(&raw)?
    };
    let all = match (query_bool("all", q.all.as_deref())?, body.all) {
        (Some(a), Some(b)) if a != b => {
            return Err(ApiError::invalid(
                "all",
                "named differently in the query and the body",
            ))
        }
        (Some(a), _) | (None, Some(a)) => a,
        (None, None) => false,
    };
    let mut included = id_list("included", q.included.as_deref())?;
    included.extend(body.included.unwrap_or_default());
    let mut excluded = id_list("excluded", q.excluded.as_deref())?;
    excluded.extend(body.excluded.unwrap_or_default());
    if !all && included.is_empty() {
        return Err(ApiError::invalid(
            "included",
            "name the members to remove, or set all",
        ));
    }
    let filter = MemberSelection {
        ids: q
            .ids
            .as_deref()
            .map(|s| id_list("ids", Some(s)))
            .transpose()?,
        search: q.search.filter(|s| !s.trim().is_empty()),
    };
    let sel = BulkSelection {
        all,
        included,
        excluded,
    };
    let n = state
        .service
        .bulk_remove_workspace_members(&by, workspace_id(&id)?, sel, filter)
        .await?;
    Ok(Json(BulkUnassigned { unassignments: n }))
}

#[derive(Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MemberPageParams {
    page: Option<String>,
    page_size: Option<String>,
    /// Comma-separated user ids.
    ids: Option<String>,
    /// Name or email.
    search: Option<String>,
}

/// A page of the workspace's members as user objects, in the order they joined the
/// organization. A page past the end is empty.
#[utoipa::path(get, path = "/api/workspaces/{id}/memberships/paginated", tag = "workspaces",
    params(("id" = i64, Path), MemberPageParams),
    responses((status = 200, body = PageView<UserView>), (status = 400), (status = 403), (status = 404)))]
pub async fn workspace_members_page(
    State(state): State<AppState>,
    InActiveOrg(by): InActiveOrg<Member>,
    PathParams(id): PathParams<String>,
    at: RequestUrl,
    QueryParams(p): QueryParams<MemberPageParams>,
) -> ApiResult<Json<PageView<UserView>>> {
    let page = PageParams {
        page: p.page,
        page_size: p.page_size,
    }
    .resolve(20)?;
    let sel = MemberSelection {
        ids: p
            .ids
            .as_deref()
            .map(|s| id_list("ids", Some(s)))
            .transpose()?,
        search: p.search.filter(|s| !s.trim().is_empty()),
    };
    let r = state
        .service
        .workspace_members_page(&by, workspace_id(&id)?, sel, page)
        .await?;
    Ok(Json(page_view(
        &at,
        page,
        r.count,
        r.items.iter().map(UserView::through).collect(),
    )))
}
