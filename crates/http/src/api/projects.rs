//! Projects, project members and roles, and annotations with their authors.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use roster_domain::{ProjectId, ProjectRole, UserId, WorkspaceId};
use roster_service::store::{AnnotationRow, ProjectMemberRow, ProjectRecord};
use roster_service::{Member, Staff};
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, ApiResult};
use crate::extract::{InActiveOrg, JsonBody, PathParams, QueryParams};
use crate::paging::{page_view, PageParams, RequestUrl};
use crate::views::{time, PageView, UserView};
use crate::AppState;

#[derive(Serialize, utoipa::ToSchema)]
pub struct ProjectView {
    id: i64,
    organization: i64,
    title: String,
    description: String,
    created_at: String,
    /// The workspace the project is in, if any.
    workspace: Option<i64>,
}

impl ProjectView {
    pub(crate) fn of(p: &ProjectRecord) -> ProjectView {
        ProjectView {
            id: p.id.0,
            organization: p.org.0,
            title: p.title.clone(),
            description: p.description.clone(),
            created_at: time(p.created_at),
            workspace: p.workspace.map(|w| w.0),
        }
    }
}

fn project_id(raw: &str) -> ApiResult<ProjectId> {
    raw.parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .map(ProjectId)
        .ok_or_else(|| ApiError::not_found(format!("No project {raw}.")))
}

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

/// Staff see every project; Reviewers and Annotators see the projects they belong to.
#[utoipa::path(get, path = "/api/projects", tag = "projects", params(("page" = Option<i64>, Query), ("page_size" = Option<i64>, Query)),
    responses((status = 200, body = PageView<ProjectView>), (status = 403)))]
pub async fn list_projects(
    State(state): State<AppState>,
    InActiveOrg(by): InActiveOrg<Member>,
    at: RequestUrl,
    QueryParams(p): QueryParams<PageParams>,
) -> ApiResult<Json<PageView<ProjectView>>> {
    let page = p.resolve(20)?;
    let r = state.service.list_projects(&by, None, page).await?;
    Ok(Json(page_view(
        &at,
        page,
        r.count,
        r.items.iter().map(ProjectView::of).collect(),
    )))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewProject {
    title: String,
    #[serde(default)]
    description: String,
    /// The workspace to create the project in (one the caller may change).
    #[serde(default)]
    workspace: Option<i64>,
}

#[utoipa::path(post, path = "/api/projects", tag = "projects", request_body = NewProject,
    responses((status = 201, body = ProjectView), (status = 400), (status = 403), (status = 404, description = "the workspace named is not one the caller sees")))]
pub async fn create_project(
    State(state): State<AppState>,
    InActiveOrg(by): InActiveOrg<Staff>,
    JsonBody(body): JsonBody<NewProject>,
) -> ApiResult<(StatusCode, Json<ProjectView>)> {
    let p = state
        .service
        .create_project(
            &by,
            &body.title,
            &body.description,
            body.workspace.map(WorkspaceId),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(ProjectView::of(&p))))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ProjectMemberView {
    user: UserView,
    role: Option<String>,
}

impl ProjectMemberView {
    fn of(m: &ProjectMemberRow) -> ProjectMemberView {
        ProjectMemberView {
            user: UserView::of(&m.user),
            role: m.project_role.map(|r| r.code().into()),
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ProjectDetailView {
    #[serde(flatten)]
    project: ProjectView,
    members: Vec<ProjectMemberView>,
}

#[utoipa::path(get, path = "/api/projects/{id}", tag = "projects", params(("id" = i64, Path)),
    responses((status = 200, body = ProjectDetailView), (status = 403), (status = 404)))]
pub async fn get_project(
    State(state): State<AppState>,
    InActiveOrg(by): InActiveOrg<Member>,
    PathParams(id): PathParams<String>,
) -> ApiResult<Json<ProjectDetailView>> {
    let id = project_id(&id)?;
    let p = state.service.get_project(&by, id).await?;
    let members = state.service.project_members(&by, id).await?;
    Ok(Json(ProjectDetailView {
        project: ProjectView::of(&p),
        members: members.iter().map(ProjectMemberView::of).collect(),
    }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectMemberBody {
    user: i64,
    #[serde(default)]
    role: Option<String>,
}

/// Adds an organization member to the project (with a project role AN/RE, or none to inherit).
#[utoipa::path(post, path = "/api/projects/{id}/members", tag = "projects", params(("id" = i64, Path)), request_body = ProjectMemberBody,
    responses((status = 201, body = ProjectMemberView), (status = 400), (status = 403), (status = 404)))]
pub async fn add_project_member(
    State(state): State<AppState>,
    InActiveOrg(by): InActiveOrg<Staff>,
    PathParams(id): PathParams<String>,
    JsonBody(body): JsonBody<ProjectMemberBody>,
) -> ApiResult<(StatusCode, Json<ProjectMemberView>)> {
    let role = project_role("role", body.role.as_deref())?;
    let m = state
        .service
        .put_project_member(&by, project_id(&id)?, UserId(body.user), role)
        .await?;
    Ok((StatusCode::CREATED, Json(ProjectMemberView::of(&m))))
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
    responses((status = 204), (status = 400), (status = 403), (status = 404)))]
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

#[derive(Serialize, utoipa::ToSchema)]
pub struct ProjectRoleView {
    project: i64,
    user: i64,
    role: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct RolesQuery {
    project: Option<String>,
}

/// Project roles of one project's members (`?project=ID`).
#[utoipa::path(get, path = "/api/projects/roles", tag = "projects", params(("project" = i64, Query)),
    responses((status = 200, body = [ProjectRoleView]), (status = 400), (status = 403), (status = 404)))]
pub async fn list_project_roles(
    State(state): State<AppState>,
    InActiveOrg(by): InActiveOrg<Member>,
    QueryParams(q): QueryParams<RolesQuery>,
) -> ApiResult<Json<Vec<ProjectRoleView>>> {
    let raw = q
        .project
        .ok_or_else(|| ApiError::invalid("project", "This parameter is required."))?;
    let id = raw
        .parse::<i64>()
        .map(ProjectId)
        .map_err(|_| ApiError::invalid("project", "must be a project id"))?;
    let members = state.service.project_members(&by, id).await?;
    Ok(Json(
        members
            .iter()
            .map(|m| ProjectRoleView {
                project: id.0,
                user: m.user.id.0,
                role: m.project_role.map(|r| r.code().into()),
            })
            .collect(),
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectRoleBody {
    project: i64,
    user: i64,
    role: Option<String>,
}

/// Sets a member's project role (adding them to the project if needed).
#[utoipa::path(post, path = "/api/projects/roles", tag = "projects", request_body = ProjectRoleBody,
    responses((status = 201, body = ProjectRoleView), (status = 400), (status = 403), (status = 404)))]
pub async fn set_project_role(
    State(state): State<AppState>,
    InActiveOrg(by): InActiveOrg<Staff>,
    JsonBody(body): JsonBody<ProjectRoleBody>,
) -> ApiResult<(StatusCode, Json<ProjectRoleView>)> {
    let role = project_role("role", body.role.as_deref())?;
    let m = state
        .service
        .put_project_member(&by, ProjectId(body.project), UserId(body.user), role)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(ProjectRoleView {
            project: body.project,
            user: m.user.id.0,
            role: role.map(|r| r.code().into()),
        }),
    ))
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
