//! Projects, project members and roles, and annotations with their authors.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use roster_domain::{ProjectId, ProjectRole, UserId, WorkspaceId};
use roster_service::projects::{BulkTargets, ProjectSummary};
use roster_service::store::projects::{
    ProjectFilter, ProjectMemberEntry, ProjectMemberOrder, ProjectMemberQuery,
};
use roster_service::store::{AnnotationRow, MemberRow, ProjectMemberRow, ProjectRoleRecord};
use roster_service::{Member, Staff};
use serde::{Deserialize, Serialize};

use crate::api::audit::time_param;
use crate::api::orgs::{comma_list, float_typed_id, ordering, query_bool};
use crate::error::{ApiError, ApiResult};
use crate::extract::{InActiveOrg, JsonBody, PathParams, QueryParams};
use crate::paging::{page_view, PageParams, RequestUrl};
use crate::views::{time, PageView, UserView};
use crate::AppState;

/// The project owner as the SDK's `UserSimple` (an object, never a bare id).
#[derive(Serialize, utoipa::ToSchema)]
pub struct UserSimpleView {
    id: i64,
    username: String,
    email: String,
    first_name: String,
    last_name: String,
    avatar: Option<String>,
}

impl UserSimpleView {
    fn of(m: &MemberRow) -> UserSimpleView {
        UserSimpleView::from_view(UserView::through(m))
    }

    pub(crate) fn from_view(u: UserView) -> UserSimpleView {
        UserSimpleView {
            id: u.id,
            username: u.username,
            email: u.email,
            first_name: u.first_name,
            last_name: u.last_name,
            avatar: u.avatar,
        }
    }
}

/// Label Studio's per-project settings objects. roster keeps no labeling settings, so they
/// only name their project; the SDK requires both objects to be present.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ProjectSettingsView {
    project: i64,
}

/// A project as the SDK's `LseProjectResponse` and project list item read it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ProjectView {
    id: i64,
    organization: i64,
    title: String,
    description: String,
    created_at: String,
    created_by: Option<UserSimpleView>,
    /// The project's workspace, or null when it is in none.
    workspace: Option<i64>,
    workspace_title: Option<String>,
    members_count: i64,
    assignment_settings: ProjectSettingsView,
    review_settings: ProjectSettingsView,
}

impl ProjectView {
    pub(crate) fn of(s: &ProjectSummary) -> ProjectView {
        let p = &s.project;
        ProjectView {
            id: p.id.0,
            organization: p.org.0,
            title: p.title.clone(),
            description: p.description.clone(),
            created_at: time(p.created_at),
            created_by: s.creator.as_ref().map(UserSimpleView::of),
            workspace: p.workspace.map(|w| w.0),
            workspace_title: s.workspace_title.clone(),
            members_count: s.members_count,
            assignment_settings: ProjectSettingsView { project: p.id.0 },
            review_settings: ProjectSettingsView { project: p.id.0 },
        }
    }
}

pub(crate) fn project_id(raw: &str) -> ApiResult<ProjectId> {
    raw.parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .map(ProjectId)
        .ok_or_else(|| ApiError::not_found(format!("No project {raw}.")))
}

/// A project role from the API. roster's project roles are Annotator and Reviewer: a project
/// narrows what a member does in it, while the staff roles (OW, AD, MA) and the non-working
/// ones (DI, NO) are organization-wide and answer 400 here.
fn project_role(field: &str, raw: Option<&str>) -> ApiResult<Option<ProjectRole>> {
    match raw.map(str::trim) {
        None | Some("") => Ok(None),
        Some(code) => ProjectRole::from_code(code).map(Some).ok_or_else(|| {
            ApiError::invalid(
                field,
                format!("\"{code}\" is not a project role; use AN, RE, or null to inherit"),
            )
        }),
    }
}

#[derive(Deserialize, Default)]
pub struct ProjectListParams {
    #[serde(flatten)]
    page: PageParams,
    members_limit: Option<String>,
    ids: Option<String>,
    title: Option<String>,
    search: Option<String>,
    workspaces: Option<String>,
    archived: Option<String>,
    ordering: Option<String>,
    filter: Option<String>,
    state: Option<String>,
    source_interface_id: Option<String>,
}

/// The project list's orderings by their Label Studio names.
const PROJECT_ORDERINGS: [(&str, &str); 3] = [
    ("id", "p.id"),
    ("title", "p.title"),
    ("created_at", "p.created_at"),
];

/// The project list's filters. Roster keeps no labeling state, so `state` and
/// `source_interface_id` are refused rather than ignored; nothing is pinned in roster, so
/// `filter=pinned_only` is an empty list. `include` only trims counts in Label Studio and
/// changes nothing here.
fn project_filter(p: &ProjectListParams) -> ApiResult<ProjectFilter> {
    for (field, v) in [
        ("state", &p.state),
        ("source_interface_id", &p.source_interface_id),
    ] {
        if v.as_deref().is_some_and(|v| !v.trim().is_empty()) {
            return Err(ApiError::invalid(
                field,
                "roster keeps no labeling state, so projects cannot be filtered by it",
            ));
        }
    }
    let pinned_only = match p.filter.as_deref().map(str::trim) {
        None | Some("") | Some("all") | Some("exclude_pinned") => false,
        Some("pinned_only") => true,
        Some(other) => {
            return Err(ApiError::invalid(
                "filter",
                format!("\"{other}\" is not a filter; use all, pinned_only or exclude_pinned"),
            ))
        }
    };
    let ids = project_ids("ids", p.ids.as_deref().unwrap_or(""))?;
    Ok(ProjectFilter {
        workspace: p
            .workspaces
            .as_deref()
            .filter(|w| !w.trim().is_empty())
            .map(|w| float_typed_id("workspaces", w).map(WorkspaceId))
            .transpose()?,
        ids,
        pinned_only,
        title: p.title.clone(),
        search: p.search.clone(),
        archived: query_bool("archived", p.archived.as_deref())?,
        order: ordering(
            p.ordering.as_deref(),
            &PROJECT_ORDERINGS,
            "id, title or created_at",
        )?,
    })
}

/// `members_limit`: how many members a project shape lists (absent: all of them).
fn members_limit(raw: Option<&str>) -> ApiResult<Option<usize>> {
    raw.map(|v| {
        // Within int64, as the OpenAPI document says.
        v.trim()
            .parse::<i64>()
            .ok()
            .and_then(|n| usize::try_from(n).ok())
            .ok_or_else(|| ApiError::invalid("members_limit", "must be a whole number from 0"))
    })
    .transpose()
}

/// A project list item: the project, and its first members when `members_limit` is given.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ProjectListItemView {
    #[serde(flatten)]
    project: ProjectView,
    #[serde(skip_serializing_if = "Option::is_none")]
    members: Option<Vec<ProjectMemberView>>,
}

/// The projects the caller sees (Owners and Administrators all, Managers those of their
/// workspaces and those they created or joined, Reviewers and Annotators those they belong
/// to directly or through a workspace), filtered and ordered as Label Studio's list is.
#[utoipa::path(get, path = "/api/projects", tag = "projects",
    params(("page" = Option<i64>, Query), ("page_size" = Option<i64>, Query), ("members_limit" = Option<i64>, Query),
           ("ids" = Option<String>, Query, description = "comma-separated project ids"),
           ("title" = Option<String>, Query, description = "case-insensitive part of the title"),
           ("search" = Option<String>, Query, description = "case-insensitive part of the title or description"),
           ("workspaces" = Option<f64>, Query, description = "a workspace id"),
           ("archived" = Option<bool>, Query, description = "only projects in archived workspaces (true) or not (false)"),
           ("ordering" = Option<String>, Query, description = "id, title or created_at, with - for descending"),
           ("filter" = Option<String>, Query, description = "all, pinned_only or exclude_pinned (nothing is pinned in roster)"),
           ("include" = Option<String>, Query, description = "accepted; every count is always included")),
    responses((status = 200, body = PageView<ProjectListItemView>), (status = 400), (status = 403)))]
pub async fn list_projects(
    State(state): State<AppState>,
    InActiveOrg(by): InActiveOrg<Member>,
    at: RequestUrl,
    QueryParams(p): QueryParams<ProjectListParams>,
) -> ApiResult<Json<PageView<ProjectListItemView>>> {
    let page = p.page.resolve(20)?;
    let limit = members_limit(p.members_limit.as_deref())?;
    let filter = project_filter(&p)?;
    let r = state.service.search_projects(&by, &filter, page).await?;
    let summaries = state.service.summarize_projects(r.items).await?;
    let mut items = Vec::with_capacity(summaries.len());
    for s in &summaries {
        let members = match limit {
            Some(n) => Some(
                state
                    .service
                    .project_members(&by, s.project.id)
                    .await?
                    .iter()
                    .take(n)
                    .map(ProjectMemberView::of)
                    .collect(),
            ),
            None => None,
        };
        items.push(ProjectListItemView {
            project: ProjectView::of(s),
            members,
        });
    }
    Ok(Json(page_view(&at, page, r.count, items)))
}

/// The SDK's `LseProjectCreateRequest`: title and description are stored; the labeling
/// configuration keys Label Studio has (label_config, sampling, ... listed in
/// `LABELING_KEYS`) are accepted and ignored, since roster keeps no labeling settings. Any
/// other key is a 400 naming it.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct NewProject {
    title: Option<String>,
    #[serde(default)]
    description: Option<String>,
    /// Must be the caller's active organization when given.
    #[serde(default)]
    organization: Option<i64>,
    /// The workspace to create the project in (one the caller may change).
    #[serde(default)]
    workspace: Option<i64>,
    /// The labeling settings of Label Studio's create request, ignored.
    #[serde(flatten)]
    #[schema(value_type = Object)]
    labeling: serde_json::Map<String, serde_json::Value>,
}

/// The keys of `LseProjectCreateRequest` that configure labeling, which roster ignores.
const LABELING_KEYS: &[&str] = &[
    "label_config",
    "expert_instruction",
    "show_instruction",
    "show_skip_button",
    "enable_empty_annotation",
    "show_annotation_history",
    "color",
    "maximum_annotations",
    "is_published",
    "model_version",
    "is_draft",
    "created_by",
    "min_annotations_to_start_training",
    "show_collab_predictions",
    "sampling",
    "show_ground_truth_first",
    "show_overlap_first",
    "overlap_cohort_percentage",
    "task_data_login",
    "task_data_password",
    "control_weights",
    "evaluate_predictions_automatically",
    "reveal_preannotations_interactively",
    "pinned_at",
    "annotator_evaluation_enabled",
    "collection_mode",
    "custom_interface_code",
    "custom_interface_compiled",
    "custom_interface_params",
    "input_schema",
    "output_schema",
    "internal_description",
    "dm_column_defaults",
    "source_interface_id",
    "source_interface_version",
    "skip_queue",
    "use_custom_interface",
];

#[utoipa::path(post, path = "/api/projects", tag = "projects", request_body = NewProject,
    responses((status = 201, body = ProjectView), (status = 400), (status = 403), (status = 404, description = "the workspace named is not one the caller sees")))]
pub async fn create_project(
    State(state): State<AppState>,
    InActiveOrg(by): InActiveOrg<Staff>,
    JsonBody(body): JsonBody<NewProject>,
) -> ApiResult<(StatusCode, Json<ProjectView>)> {
    if let Some(unknown) = body
        .labeling
        .keys()
        .find(|k| !LABELING_KEYS.contains(&k.as_str()))
    {
        return Err(ApiError::invalid(
            unknown,
            format!("unknown field `{unknown}`"),
        ));
    }
    if body.organization.is_some_and(|o| o != by.org_id().0) {
        return Err(ApiError::invalid(
            "organization",
            "must be your active organization",
        ));
    }
    let title = body
        .title
        .ok_or_else(|| ApiError::invalid("title", "This field is required."))?;
    let p = state
        .service
        .create_project(
            &by,
            &title,
            body.description.as_deref().unwrap_or(""),
            body.workspace.map(WorkspaceId),
        )
        .await?;
    let summary = state.service.summarize_projects(vec![p]).await?;
    Ok((StatusCode::CREATED, Json(ProjectView::of(&summary[0]))))
}

/// A member as a project lists them: the user and their project role (null: organization role).
#[derive(Serialize, utoipa::ToSchema)]
pub struct ProjectMemberView {
    user: UserView,
    role: Option<String>,
}

impl ProjectMemberView {
    fn of(m: &ProjectMemberRow) -> ProjectMemberView {
        ProjectMemberView {
            user: UserView::of(&m.user),
            role: m.project_role.as_ref().map(|r| r.role.code().into()),
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ProjectDetailView {
    #[serde(flatten)]
    project: ProjectView,
    members: Vec<ProjectMemberView>,
}

#[derive(Deserialize, Default)]
pub struct MembersLimitQuery {
    members_limit: Option<String>,
}

#[utoipa::path(get, path = "/api/projects/{id}", tag = "projects", params(("id" = i64, Path), ("members_limit" = Option<i64>, Query)),
    responses((status = 200, body = ProjectDetailView), (status = 403), (status = 404)))]
pub async fn get_project(
    State(state): State<AppState>,
    InActiveOrg(by): InActiveOrg<Member>,
    PathParams(id): PathParams<String>,
    QueryParams(q): QueryParams<MembersLimitQuery>,
) -> ApiResult<Json<ProjectDetailView>> {
    let id = project_id(&id)?;
    let limit = members_limit(q.members_limit.as_deref())?;
    let p = state.service.get_project(&by, id).await?;
    let members = state.service.project_members(&by, id).await?;
    let summary = state.service.summarize_projects(vec![p]).await?;
    Ok(Json(ProjectDetailView {
        project: ProjectView::of(&summary[0]),
        members: members
            .iter()
            .take(limit.unwrap_or(usize::MAX))
            .map(ProjectMemberView::of)
            .collect(),
    }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectMemberBody {
    user: i64,
    /// A roster extension: the project role to give (AN, RE; null or absent keeps the
    /// member's current one).
    #[serde(default)]
    role: Option<String>,
}

/// What adding a project member answers: the SDK's `ProjectMember` (`user` is the id) with
/// the project and the member's project role.
#[derive(Serialize, utoipa::ToSchema)]
pub struct AddedProjectMemberView {
    user: i64,
    project: i64,
    role: Option<String>,
}

/// Adds an organization member to the project. A member already there keeps their project
/// role unless `role` (AN/RE) sets a new one.
#[utoipa::path(post, path = "/api/projects/{id}/members", tag = "projects", params(("id" = i64, Path)), request_body = ProjectMemberBody,
    responses((status = 201, body = AddedProjectMemberView), (status = 400), (status = 403), (status = 404),
        (status = 409, description = "the membership was given by the identity provider, and its manual management is off")))]
pub async fn add_project_member(
    State(state): State<AppState>,
    InActiveOrg(by): InActiveOrg<Staff>,
    PathParams(id): PathParams<String>,
    JsonBody(body): JsonBody<ProjectMemberBody>,
) -> ApiResult<(StatusCode, Json<AddedProjectMemberView>)> {
    let role = project_role("role", body.role.as_deref())?;
    let id = project_id(&id)?;
    let m = match role {
        Some(role) => {
            state
                .service
                .put_project_member(&by, id, UserId(body.user), Some(role))
                .await?
        }
        None => {
            state
                .service
                .add_project_member(&by, id, UserId(body.user))
                .await?
        }
    };
    Ok((
        StatusCode::CREATED,
        Json(AddedProjectMemberView {
            user: m.user.id.0,
            project: id.0,
            role: m.project_role.as_ref().map(|r| r.role.code().into()),
        }),
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RemoveProjectMemberBody {
    user: i64,
}

#[derive(Deserialize, Default)]
pub struct UserQuery {
    user: Option<String>,
}

/// Removes a member from the project. The user is named in the JSON body or, as the SDK
/// sends it, in the `user` query parameter.
#[utoipa::path(delete, path = "/api/projects/{id}/members", tag = "projects",
    params(("id" = i64, Path), ("user" = Option<i64>, Query)), request_body = Option<RemoveProjectMemberBody>,
    responses((status = 204), (status = 400), (status = 403), (status = 404),
        (status = 409, description = "the membership was given by the identity provider, and its manual management is off")))]
pub async fn remove_project_member(
    State(state): State<AppState>,
    InActiveOrg(by): InActiveOrg<Staff>,
    PathParams(id): PathParams<String>,
    QueryParams(q): QueryParams<UserQuery>,
    raw: axum::body::Bytes,
) -> ApiResult<StatusCode> {
    // A body, when sent, must be the documented one even if the query names the user too, and
    // the two must agree: a malformed or contradicting request changes nothing.
    let from_body = if raw.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        Some(crate::extract::parse_json::<RemoveProjectMemberBody>(&raw)?.user)
    };
    let from_query = q
        .user
        .as_deref()
        .map(|u| {
            u.parse::<i64>()
                .map_err(|_| ApiError::invalid("user", "must be a user id"))
        })
        .transpose()?;
    let user = match (from_query, from_body) {
        (Some(a), Some(b)) if a != b => {
            return Err(ApiError::invalid(
                "user",
                "named differently in the query and the body",
            ))
        }
        (Some(u), _) | (None, Some(u)) => u,
        (None, None) => return Err(ApiError::invalid("user", "This field is required.")),
    };
    state
        .service
        .remove_project_member(&by, project_id(&id)?, UserId(user))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A member's project role (the SDK's `ProjectRole`); only members who have one are listed.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ProjectRoleView {
    id: i64,
    project: i64,
    user: i64,
    role: String,
    /// Who set it: manual, api, invite, scim or saml.
    role_source: String,
}

impl ProjectRoleView {
    fn of(r: &ProjectRoleRecord) -> ProjectRoleView {
        ProjectRoleView {
            id: r.id,
            project: r.project.0,
            user: r.user.0,
            role: r.role.code().into(),
            role_source: r.source.code().into(),
        }
    }
}

#[derive(Deserialize, Default)]
pub struct RolesQuery {
    ids: Option<String>,
    project: Option<String>,
    ordering: Option<String>,
}

/// A comma-separated list of project ids (the SDK also sends one id alone).
fn project_ids(field: &str, raw: &str) -> ApiResult<Vec<ProjectId>> {
    comma_list(Some(raw), |s| {
        s.parse::<i64>()
            .map(ProjectId)
            .map_err(|_| ApiError::invalid(field, "must be project ids separated by commas"))
    })
}

/// The project roles the caller may see: staff those of every project of the organization,
/// Reviewers and Annotators those of their projects. `ids` (or roster's `project`) narrows
/// the list to those projects.
#[utoipa::path(get, path = "/api/projects/roles", tag = "projects",
    params(("ids" = Option<String>, Query, description = "comma-separated project ids"), ("project" = Option<i64>, Query),
           ("ordering" = Option<String>, Query, description = "id, project, user or role, with - for descending")),
    responses((status = 200, body = [ProjectRoleView]), (status = 400), (status = 403), (status = 404)))]
pub async fn list_project_roles(
    State(state): State<AppState>,
    InActiveOrg(by): InActiveOrg<Member>,
    QueryParams(q): QueryParams<RolesQuery>,
) -> ApiResult<Json<Vec<ProjectRoleView>>> {
    let mut only: Option<Vec<ProjectId>> = None;
    if let Some(raw) = q.ids.as_deref().filter(|s| !s.trim().is_empty()) {
        only = Some(project_ids("ids", raw)?);
    }
    if let Some(raw) = q.project.as_deref() {
        let id = raw
            .trim()
            .parse::<i64>()
            .map(ProjectId)
            .map_err(|_| ApiError::invalid("project", "must be a project id"))?;
        // The project must be one the caller may see (404 or 403 otherwise).
        state.service.get_project(&by, id).await?;
        only = Some(match only {
            Some(list) => list.into_iter().filter(|p| *p == id).collect(),
            None => vec![id],
        });
    }
    let mut roles = state
        .service
        .list_project_roles(&by, only.as_deref())
        .await?;
    crate::api::orgs::sort_by_ordering(
        &mut roles,
        q.ordering.as_deref(),
        &[
            ("id", |a, b| a.id.cmp(&b.id)),
            ("project", |a, b| (a.project, a.id).cmp(&(b.project, b.id))),
            ("user", |a, b| (a.user, a.id).cmp(&(b.user, b.id))),
            ("role", |a, b| {
                (a.role.code(), a.id).cmp(&(b.role.code(), b.id))
            }),
        ],
        "id, project, user or role",
    )?;
    Ok(Json(roles.iter().map(ProjectRoleView::of).collect()))
}

/// The project roles of one project (the SDK's `projects.roles.get`).
#[utoipa::path(get, path = "/api/projects/{id}/roles", tag = "projects", params(("id" = i64, Path)),
    responses((status = 200, body = [ProjectRoleView]), (status = 403), (status = 404)))]
pub async fn project_roles(
    State(state): State<AppState>,
    InActiveOrg(by): InActiveOrg<Member>,
    PathParams(id): PathParams<String>,
) -> ApiResult<Json<Vec<ProjectRoleView>>> {
    let roles = state.service.project_roles(&by, project_id(&id)?).await?;
    Ok(Json(roles.iter().map(ProjectRoleView::of).collect()))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectRoleBody {
    project: i64,
    user: i64,
    role: Option<String>,
}

/// The answer to setting a project role: the role, or only project and user when it was
/// cleared (null role).
#[derive(Serialize, utoipa::ToSchema)]
pub struct SetProjectRoleView {
    id: Option<i64>,
    project: i64,
    user: i64,
    role: Option<String>,
    role_source: Option<String>,
}

/// Sets a member's project role, AN or RE (adding them to the project if needed); null
/// clears it.
#[utoipa::path(post, path = "/api/projects/roles", tag = "projects", request_body = ProjectRoleBody,
    responses((status = 201, body = SetProjectRoleView), (status = 400), (status = 403), (status = 404),
        (status = 409, description = "the membership was given by the identity provider, and its manual management is off")))]
pub async fn set_project_role(
    State(state): State<AppState>,
    InActiveOrg(by): InActiveOrg<Staff>,
    JsonBody(body): JsonBody<ProjectRoleBody>,
) -> ApiResult<(StatusCode, Json<SetProjectRoleView>)> {
    let role = project_role("role", body.role.as_deref())?;
    let m = state
        .service
        .put_project_member(&by, ProjectId(body.project), UserId(body.user), role)
        .await?;
    let r = m.project_role.as_ref();
    Ok((
        StatusCode::CREATED,
        Json(SetProjectRoleView {
            id: r.map(|r| r.id),
            project: body.project,
            user: m.user.id.0,
            role: r.map(|r| r.role.code().into()),
            role_source: r.map(|r| r.source.code().into()),
        }),
    ))
}

/// Clears a project role by its id: the member stays in the project with their organization
/// role.
#[utoipa::path(delete, path = "/api/projects/roles/{id}", tag = "projects", params(("id" = i64, Path)),
    responses((status = 204), (status = 403), (status = 404),
        (status = 409, description = "the membership was given by the identity provider, and its manual management is off")))]
pub async fn remove_project_role(
    State(state): State<AppState>,
    InActiveOrg(by): InActiveOrg<Staff>,
    PathParams(id): PathParams<String>,
) -> ApiResult<StatusCode> {
    let id = id
        .parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| ApiError::not_found(format!("No project role {id}.")))?;
    state.service.remove_project_role(&by, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AnnotationView {
    id: i64,
    project: i64,
    /// Any JSON value: an object, an array, a string, a number.
    result: serde_json::Value,
    created_at: String,
    /// The author, or the "Deleted User" once their membership is deleted.
    completed_by: UserView,
}

impl AnnotationView {
    fn of(a: &AnnotationRow) -> AnnotationView {
        AnnotationView {
            id: a.id.0,
            project: a.project.0,
            result: serde_json::from_str(&a.result).unwrap_or(serde_json::Value::Null),
            created_at: time(a.created_at),
            completed_by: UserView::through(&a.author),
        }
    }
}

#[utoipa::path(get, path = "/api/projects/{id}/annotations", tag = "projects", params(("id" = i64, Path), ("page" = Option<i64>, Query), ("page_size" = Option<i64>, Query)),
    responses((status = 200, body = PageView<AnnotationView>), (status = 403), (status = 404)))]
pub async fn list_annotations(
    State(state): State<AppState>,
    InActiveOrg(by): InActiveOrg<Member>,
    PathParams(id): PathParams<String>,
    at: RequestUrl,
    QueryParams(p): QueryParams<PageParams>,
) -> ApiResult<Json<PageView<AnnotationView>>> {
    let page = p.resolve(20)?;
    let r = state
        .service
        .list_annotations(&by, project_id(&id)?, page)
        .await?;
    Ok(Json(page_view(
        &at,
        page,
        r.count,
        r.items.iter().map(AnnotationView::of).collect(),
    )))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAnnotation {
    /// Any JSON value: an object, an array, a string, a number.
    result: serde_json::Value,
}

/// Records the caller's completed work in the project.
#[utoipa::path(post, path = "/api/projects/{id}/annotations", tag = "projects", params(("id" = i64, Path)), request_body = NewAnnotation,
    responses((status = 201, body = AnnotationView), (status = 400), (status = 403), (status = 404)))]
pub async fn create_annotation(
    State(state): State<AppState>,
    InActiveOrg(by): InActiveOrg<Member>,
    PathParams(id): PathParams<String>,
    JsonBody(body): JsonBody<NewAnnotation>,
) -> ApiResult<(StatusCode, Json<AnnotationView>)> {
    let a = state
        .service
        .create_annotation(&by, project_id(&id)?, &body.result.to_string())
        .await?;
    Ok((StatusCode::CREATED, Json(AnnotationView::of(&a))))
}

#[derive(Deserialize, Default)]
pub struct ProjectMemberListParams {
    #[serde(flatten)]
    page: PageParams,
    ids: Option<String>,
    implicit: Option<String>,
    ordering: Option<String>,
    role: Option<String>,
    search: Option<String>,
    #[serde(rename = "last_activity__gte")]
    last_activity_gte: Option<String>,
    #[serde(rename = "last_activity__lte")]
    last_activity_lte: Option<String>,
    no_annotators: Option<String>,
    no_view_only: Option<String>,
    user_type: Option<String>,
    tags: Option<String>,
    with_deleted: Option<String>,
}

/// Label Studio Enterprise's kinds of user. Every roster member is a standard user.
const USER_TYPES: [&str; 3] = ["standard", "flex", "viewonly"];

/// The project member list's orderings by their Label Studio names.
const MEMBER_ORDERINGS: [(&str, ProjectMemberOrder); 8] = [
    ("id", ProjectMemberOrder::Id),
    ("email", ProjectMemberOrder::Email),
    ("first_name", ProjectMemberOrder::FirstName),
    ("last_name", ProjectMemberOrder::LastName),
    ("username", ProjectMemberOrder::Username),
    ("last_activity", ProjectMemberOrder::LastActivity),
    ("date_joined", ProjectMemberOrder::DateJoined),
    ("role", ProjectMemberOrder::Role),
];

fn project_member_query(p: &ProjectMemberListParams) -> ApiResult<ProjectMemberQuery> {
    let users = user_ids("ids", p.ids.as_deref())?;
    let roles = user_roles(p.role.as_deref())?
        .into_iter()
        .map(|r| r.code())
        .collect();
    let implicit = flag("implicit", p.implicit.as_deref(), true)?;
    let (order, descending) = ordering(
        p.ordering.as_deref(),
        &MEMBER_ORDERINGS,
        "id, email, first_name, last_name, username, last_activity, date_joined or role",
    )?
    .unwrap_or((ProjectMemberOrder::Email, false));
    let search = crate::api::orgs::search_term(p.search.as_deref())?;
    let user_types = comma_list(p.user_type.as_deref(), |t| {
        USER_TYPES
            .iter()
            .find(|known| **known == t)
            .copied()
            .ok_or_else(|| {
                ApiError::invalid(
                    "user_type",
                    "must be standard, flex or viewonly, separated by commas",
                )
            })
    })?;
    // Nobody is view-only (every member is a standard user), so `no_view_only` leaves
    // everyone in; it is still checked to be a true/false.
    query_bool("no_view_only", p.no_view_only.as_deref())?;
    Ok(ProjectMemberQuery {
        users,
        roles,
        search,
        implicit,
        last_activity_from: time_param("last_activity__gte", p.last_activity_gte.as_deref())?,
        last_activity_to: time_param("last_activity__lte", p.last_activity_lte.as_deref())?,
        no_annotators: flag("no_annotators", p.no_annotators.as_deref(), false)?,
        with_deleted: flag("with_deleted", p.with_deleted.as_deref(), false)?,
        matches_none: !user_types.is_empty() && !user_types.contains(&"standard"),
        tags: crate::api::orgs::tag_ids("tags", p.tags.as_deref())?,
        order,
        descending,
    })
}

/// One row of the paginated project member list (the SDK's `PaginatedProjectMember`): the
/// user, whether they reach the project only through their organization role, and their
/// project role.
#[derive(Serialize, utoipa::ToSchema)]
pub struct PaginatedProjectMemberView {
    #[serde(flatten)]
    user: UserView,
    implicit_member: bool,
    project_role: Option<String>,
    project_role_source: Option<String>,
    /// The organization role.
    role: String,
    user_type: &'static str,
    tags: Vec<crate::views::TagRef>,
}

impl PaginatedProjectMemberView {
    fn of(e: &ProjectMemberEntry, tags: Vec<crate::views::TagRef>) -> PaginatedProjectMemberView {
        PaginatedProjectMemberView {
            user: UserView::of(&e.member.user),
            implicit_member: e.implicit,
            project_role: e.project_role.as_ref().map(|r| r.role.code().into()),
            project_role_source: e.project_role.as_ref().map(|r| r.source.code().into()),
            role: e.member.membership.role.code().into(),
            user_type: roster_domain::tags::USER_TYPE,
            tags,
        }
    }
}

/// The project's members, paged: explicit members and (unless `implicit=false`) those who
/// reach the project without being its members: Owners and Administrators, members of its
/// workspace, and the Manager who created it. `role` matches the effective role (the project
/// role if set, otherwise the organization role).
#[utoipa::path(get, path = "/api/projects/{id}/members/paginated", tag = "projects",
    params(("id" = i64, Path), ("page" = Option<i64>, Query), ("page_size" = Option<i64>, Query),
           ("ids" = Option<String>, Query), ("implicit" = Option<bool>, Query), ("ordering" = Option<String>, Query),
           ("role" = Option<String>, Query), ("search" = Option<String>, Query),
           ("last_activity__gte" = Option<String>, Query, description = "RFC 3339 time"), ("last_activity__lte" = Option<String>, Query, description = "RFC 3339 time"),
           ("no_annotators" = Option<bool>, Query), ("no_view_only" = Option<bool>, Query),
           ("user_type" = Option<String>, Query, description = "standard, flex or viewonly, comma-separated; every roster member is standard"),
           ("with_deleted" = Option<bool>, Query)),
    responses((status = 200, body = PageView<PaginatedProjectMemberView>), (status = 400), (status = 403), (status = 404)))]
pub async fn paginated_project_members(
    State(state): State<AppState>,
    InActiveOrg(by): InActiveOrg<Member>,
    PathParams(id): PathParams<String>,
    at: RequestUrl,
    QueryParams(p): QueryParams<ProjectMemberListParams>,
) -> ApiResult<Json<PageView<PaginatedProjectMemberView>>> {
    let page = p.page.resolve(20)?;
    let q = project_member_query(&p)?;
    // Member tags are for those who may list the organization's members.
    let staff = by.require::<roster_service::Staff>().ok();
    match &staff {
        Some(s) if !q.tags.is_empty() => state.service.check_tag_ids(s, &q.tags).await?,
        None if !q.tags.is_empty() => {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "Only Owners, Administrators and Managers filter on member tags.",
            ))
        }
        _ => {}
    }
    let r = state
        .service
        .project_member_list(&by, project_id(&id)?, &q, page)
        .await?;
    let mut tags = match &staff {
        Some(s) => {
            let ids: Vec<_> = r.items.iter().map(|e| e.member.membership.id).collect();
            state.service.member_extras(s, &ids, false).await?.tags
        }
        None => Default::default(),
    };
    let rows = r
        .items
        .iter()
        .map(|e| {
            let t = tags
                .remove(&e.member.membership.id)
                .unwrap_or_default()
                .into_iter()
                .map(|(id, label)| crate::views::TagRef { id: id.0, label })
                .collect();
            PaginatedProjectMemberView::of(e, t)
        })
        .collect();
    Ok(Json(page_view(&at, page, r.count, rows)))
}

/// A CSV field, quoted when it holds a separator, a quote or a line break; a leading
/// formula character is defused so spreadsheets show it as text (the audit log's CSV uses it
/// too: names come from people).
pub(crate) fn csv_field(v: &str) -> String {
    let v = if v.starts_with(['=', '+', '-', '@']) {
        format!("'{v}")
    } else {
        v.to_string()
    };
    if v.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v
    }
}

/// The project's members as CSV, with the filters of the paginated list; for those who
/// manage the project.
#[utoipa::path(get, path = "/api/projects/{id}/members/export", tag = "projects",
    params(("id" = i64, Path), ("ids" = Option<String>, Query), ("implicit" = Option<bool>, Query), ("ordering" = Option<String>, Query),
           ("role" = Option<String>, Query), ("search" = Option<String>, Query),
           ("last_activity__gte" = Option<String>, Query, description = "RFC 3339 time"), ("last_activity__lte" = Option<String>, Query, description = "RFC 3339 time"),
           ("no_annotators" = Option<bool>, Query), ("no_view_only" = Option<bool>, Query),
           ("user_type" = Option<String>, Query, description = "standard, flex or viewonly, comma-separated; every roster member is standard"),
           ("with_deleted" = Option<bool>, Query)),
    responses((status = 200, content_type = "text/csv", body = String), (status = 400), (status = 403), (status = 404)))]
pub async fn export_project_members(
    State(state): State<AppState>,
    InActiveOrg(by): InActiveOrg<Staff>,
    PathParams(id): PathParams<String>,
    QueryParams(p): QueryParams<ProjectMemberListParams>,
) -> ApiResult<axum::response::Response> {
    use axum::response::IntoResponse;
    let q = project_member_query(&p)?;
    let rows = state
        .service
        .export_project_members(&by, project_id(&id)?, &q)
        .await?;
    let mut out = String::from("id,email,username,first_name,last_name,role,project_role,project_role_source,implicit_member\r\n");
    for e in &rows {
        let u = &e.member.user;
        let fields = [
            u.id.0.to_string(),
            u.email.clone(),
            u.username.clone(),
            u.first_name.clone(),
            u.last_name.clone(),
            e.member.membership.role.code().to_string(),
            e.project_role
                .as_ref()
                .map(|r| r.role.code().to_string())
                .unwrap_or_default(),
            e.project_role
                .as_ref()
                .map(|r| r.source.code().to_string())
                .unwrap_or_default(),
            e.implicit.to_string(),
        ];
        let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                axum::http::header::CONTENT_DISPOSITION,
                "attachment; filename=\"project-members.csv\"",
            ),
        ],
        out,
    )
        .into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkRoleBody {
    user_id: i64,
    /// AN or RE; null clears the project role.
    role: Option<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkAssignBody {
    /// true: every organization member matching the query filters (`role`, `search`) who is
    /// not in the project yet, less `excluded`; false: the `included` users.
    all: bool,
    #[serde(default)]
    included: Vec<i64>,
    #[serde(default)]
    excluded: Vec<i64>,
    #[serde(default)]
    roles: Vec<BulkRoleBody>,
}

/// The query filters of the bulk calls, used when `all` is true.
#[derive(Deserialize, Default)]
pub struct BulkQuery {
    all: Option<String>,
    included: Option<String>,
    excluded: Option<String>,
    role: Option<String>,
    search: Option<String>,
    tags: Option<String>,
    user_type: Option<String>,
    #[serde(rename = "last_activity__gte")]
    last_activity_gte: Option<String>,
    #[serde(rename = "last_activity__lte")]
    last_activity_lte: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct BulkAssignView {
    assignments: i64,
    skipped_user_ids: Vec<i64>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct BulkUnassignView {
    unassignments: i64,
}

/// A comma-separated list of user ids.
fn user_ids(field: &str, raw: Option<&str>) -> ApiResult<Vec<UserId>> {
    comma_list(raw, |s| {
        s.parse::<i64>()
            .map(UserId)
            .map_err(|_| ApiError::invalid(field, "must be user ids separated by commas"))
    })
}

/// The filter of a bulk call with `all`: roles, search, member tags, seat types and the
/// last-activity window, the member list's own filters.
fn bulk_filter(q: &BulkQuery) -> ApiResult<roster_service::members::MemberFilter> {
    use crate::api::orgs::{query_instant, search_term, tag_ids, user_types};
    Ok(roster_service::members::MemberFilter {
        roles: user_roles(q.role.as_deref())?,
        search: search_term(q.search.as_deref())?,
        tags: tag_ids("tags", q.tags.as_deref())?,
        user_types: user_types(q.user_type.as_deref())?,
        active_from: query_instant("last_activity__gte", q.last_activity_gte.as_deref())?,
        active_to: query_instant("last_activity__lte", q.last_activity_lte.as_deref())?,
        ..Default::default()
    })
}

/// A true/false query value (`default` when absent or empty).
fn flag(field: &str, raw: Option<&str>, default: bool) -> ApiResult<bool> {
    Ok(query_bool(field, raw)?.unwrap_or(default))
}

fn user_roles(raw: Option<&str>) -> ApiResult<Vec<roster_domain::Role>> {
    comma_list(raw, |c| crate::api::orgs::parse_role("role", c))
}

/// Adds members to the project in one transaction: the `included` users, or with `all` every
/// organization member matching the filters not in it yet, less `excluded`; `roles` sets
/// their project roles (AN, RE, or null). Users who are not live members are skipped.
#[utoipa::path(post, path = "/api/projects/{id}/members/bulk", tag = "projects",
    params(("id" = i64, Path), ("role" = Option<String>, Query), ("search" = Option<String>, Query),
           ("tags" = Option<String>, Query, description = "comma list of member tag ids"),
           ("user_type" = Option<String>, Query, description = "standard, flex or viewonly, comma-separated; every roster member is standard"),
           ("last_activity__gte" = Option<String>, Query, description = "RFC 3339 time"),
           ("last_activity__lte" = Option<String>, Query, description = "RFC 3339 time")),
    request_body = BulkAssignBody,
    responses((status = 200, body = BulkAssignView), (status = 400), (status = 403), (status = 404),
        (status = 409, description = "the membership was given by the identity provider, and its manual management is off")))]
pub async fn bulk_assign_project_members(
    State(state): State<AppState>,
    InActiveOrg(by): InActiveOrg<Staff>,
    PathParams(id): PathParams<String>,
    QueryParams(q): QueryParams<BulkQuery>,
    JsonBody(body): JsonBody<BulkAssignBody>,
) -> ApiResult<Json<BulkAssignView>> {
    let project = project_id(&id)?;
    let roles = body
        .roles
        .iter()
        .map(|r| Ok((UserId(r.user_id), project_role("roles", r.role.as_deref())?)))
        .collect::<ApiResult<Vec<_>>>()?;
    let targets = if body.all {
        BulkTargets::All {
            filter: Box::new(bulk_filter(&q)?),
            excluded: body.excluded.iter().copied().map(UserId).collect(),
        }
    } else {
        BulkTargets::Users(body.included.iter().copied().map(UserId).collect())
    };
    let (assignments, skipped) = state
        .service
        .bulk_add_project_members(&by, project, targets, &roles)
        .await?;
    Ok(Json(BulkAssignView {
        assignments,
        skipped_user_ids: skipped.iter().map(|u| u.0).collect(),
    }))
}

/// Takes members out of the project in one transaction: the `included` users, or with
/// `all=true` every explicit member matching the filters (`role` is the effective role),
/// less `excluded`. All parameters are in the query, as the SDK sends them.
#[utoipa::path(delete, path = "/api/projects/{id}/members/bulk", tag = "projects",
    params(("id" = i64, Path), ("all" = Option<bool>, Query), ("included" = Option<String>, Query),
           ("excluded" = Option<String>, Query), ("role" = Option<String>, Query), ("search" = Option<String>, Query),
           ("tags" = Option<String>, Query, description = "comma list of member tag ids"),
           ("user_type" = Option<String>, Query, description = "standard, flex or viewonly, comma-separated; every roster member is standard"),
           ("last_activity__gte" = Option<String>, Query, description = "RFC 3339 time"),
           ("last_activity__lte" = Option<String>, Query, description = "RFC 3339 time")),
    responses((status = 200, body = BulkUnassignView), (status = 400), (status = 403), (status = 404),
        (status = 409, description = "the membership was given by the identity provider, and its manual management is off")))]
pub async fn bulk_unassign_project_members(
    State(state): State<AppState>,
    InActiveOrg(by): InActiveOrg<Staff>,
    PathParams(id): PathParams<String>,
    QueryParams(q): QueryParams<BulkQuery>,
) -> ApiResult<Json<BulkUnassignView>> {
    let project = project_id(&id)?;
    let all = flag("all", q.all.as_deref(), false)?;
    let targets = if all {
        BulkTargets::All {
            filter: Box::new(bulk_filter(&q)?),
            excluded: user_ids("excluded", q.excluded.as_deref())?,
        }
    } else {
        BulkTargets::Users(user_ids("included", q.included.as_deref())?)
    };
    let unassignments = state
        .service
        .bulk_remove_project_members(&by, project, targets)
        .await?;
    Ok(Json(BulkUnassignView { unassignments }))
}
