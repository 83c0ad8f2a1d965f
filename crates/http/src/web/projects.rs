//! Projects and their work, where "Deleted User" shows for deleted members, and the project's
//! members panel: each member's project role and how they reach the project, and, for those
//! who manage project members, adding one with a project role, changing it and removing one
//! (the REST API's calls, so the rules and audit events are the service's).

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use roster_domain::{ProjectId, ProjectRole, UserId};
use roster_service::members::MemberFilter;
use roster_service::store::projects::{ProjectMemberEntry, ProjectMemberQuery};
use roster_service::{Authorized, Member, PageRequest, ServiceError};
use serde::Deserialize;

use super::org::selected;
use super::page;
use super::panels::{
    candidates, form_id, path_id, refused_page, staff, Candidates, Pager, PanelQuery, Refusal,
};
use super::{back_with, day_time, status_message, Chrome, WebUser};
use crate::error::ApiError;
use crate::extract::{PageForm, QueryParams};
use crate::views::UserView;
use crate::AppState;

#[derive(Template)]
#[template(path = "projects.html")]
struct ProjectsPage {
    chrome: Chrome,
    projects: Vec<(i64, String)>,
}

pub(crate) async fn projects_page(State(state): State<AppState>, web: WebUser<Member>) -> Response {
    match state
        .service
        .list_projects(
            &web.proof,
            None,
            PageRequest {
                page: 1,
                size: 1000,
            },
        )
        .await
    {
        Ok(p) => page(
            StatusCode::OK,
            ProjectsPage {
                projects: p.items.iter().map(|p| (p.id.0, p.title.clone())).collect(),
                chrome: web.chrome,
            },
        ),
        Err(e) => ApiError::from(e).into_response(),
    }
}

pub(crate) struct AnnotationRowView {
    id: i64,
    author: String,
    result: String,
    at: String,
}

pub(crate) struct ProjectMemberView {
    user_id: i64,
    name: String,
    email: String,
    org_role: &'static str,
    /// The project role's name, or how they work without one.
    project_role: String,
    /// (code, name, selected) for the role drop-down; "" is no project role.
    role_choices: Vec<(&'static str, &'static str, &'static str)>,
    /// How they reach the project.
    access: &'static str,
    /// A member of the project itself (not only through their organization role or a
    /// workspace): they can be removed.
    direct: bool,
}

impl ProjectMemberView {
    fn of(e: &ProjectMemberEntry) -> ProjectMemberView {
        let role = e.project_role.as_ref();
        let project_role = match role {
            Some(r) => format!("{} (set by {})", r.role.name(), r.source.display_name()),
            None => "None: works as their organization role".to_string(),
        };
        let current = role.map(|r| r.role);
        let mut role_choices = vec![("", "None (organization role)", selected(current.is_none()))];
        role_choices.extend(
            ProjectRole::ALL
                .into_iter()
                .map(|r| (r.code(), r.name(), selected(Some(r) == current))),
        );
        let m = &e.member;
        ProjectMemberView {
            user_id: m.user.id.0,
            name: roster_service::display_name(&m.user),
            email: m.user.email.clone(),
            org_role: m.membership.role.name(),
            project_role,
            role_choices,
            access: if e.implicit {
                "Through their organization role or a workspace"
            } else {
                "Project member"
            },
            direct: !e.implicit,
        }
    }
}

/// What those who manage project members see besides the list.
pub(crate) struct ProjectManageView {
    candidates: Candidates,
    roles: Vec<(&'static str, &'static str)>,
}

#[derive(Template)]
#[template(path = "project.html")]
struct ProjectPage {
    chrome: Chrome,
    id: i64,
    title: String,
    description: String,
    status: Option<String>,
    problem: Option<String>,
    members: Vec<ProjectMemberView>,
    members_count: i64,
    pager: Pager,
    manage: Option<ProjectManageView>,
    annotations: Vec<AnnotationRowView>,
}

fn project_id(raw: &str) -> Result<ProjectId, ApiError> {
    path_id(raw, "No such project.").map(ProjectId)
}

pub(crate) async fn project_page(
    State(state): State<AppState>,
    web: WebUser<Member>,
    Path(raw): Path<String>,
    QueryParams(q): QueryParams<PanelQuery>,
) -> Response {
    let status = status_message(&state, q.status.as_deref(), q.sig.as_deref());
    render_project(&state, web, &raw, &q, status, None).await
}

/// The project's page; after a refused change, with the reason and its status.
async fn render_project(
    state: &AppState,
    web: WebUser<Member>,
    raw: &str,
    q: &PanelQuery,
    status: Option<String>,
    refusal: Option<Refusal>,
) -> Response {
    let id = match project_id(raw) {
        Ok(id) => id,
        Err(e) => return refused_page(&web.chrome, e),
    };
    let by = &web.proof;
    let loaded = async {
        let p = state.service.get_project(by, id).await?;
        let everyone = ProjectMemberQuery {
            implicit: true,
            ..ProjectMemberQuery::default()
        };
        let members = state
            .service
            .project_member_list(by, id, &everyone, q.page_request())
            .await?;
        let manage = match staff(by) {
            Some(staff) => {
                let not_in = MemberFilter {
                    exclude_project: Some(id),
                    ..MemberFilter::default()
                };
                Some(ProjectManageView {
                    candidates: candidates(state, &staff, q, not_in).await?,
                    roles: ProjectRole::ALL
                        .into_iter()
                        .map(|r| (r.code(), r.name()))
                        .collect(),
                })
            }
            None => None,
        };
        let work = state
            .service
            .list_annotations(
                by,
                id,
                PageRequest {
                    page: 1,
                    size: 1000,
                },
            )
            .await?;
        Ok::<_, ServiceError>((p, members, manage, work))
    }
    .await;
    let (p, members, manage, work) = match loaded {
        Ok(x) => x,
        Err(e) => return refused_page(&web.chrome, e),
    };
    let (code, problem) = Refusal::answer(refusal);
    page(
        code,
        ProjectPage {
            id: p.id.0,
            title: p.title,
            description: p.description,
            status,
            problem,
            members: members.items.iter().map(ProjectMemberView::of).collect(),
            members_count: members.count,
            pager: Pager::new(&format!("/projects/{}", id.0), q, members.count),
            manage,
            annotations: work
                .items
                .iter()
                .map(|a| {
                    let author = UserView::through(&a.author);
                    AnnotationRowView {
                        id: a.id.0,
                        author: author.display_name(),
                        result: a.result.clone(),
                        at: day_time(Some(a.created_at)),
                    }
                })
                .collect(),
            chrome: web.chrome,
        },
    )
}

/// "AN", "RE", or empty for none.
fn project_role(raw: &str) -> Result<Option<ProjectRole>, ApiError> {
    match raw.trim() {
        "" => Ok(None),
        code => ProjectRole::from_code(code)
            .map(Some)
            .ok_or_else(|| ApiError::invalid("role", format!("\"{code}\" is not a project role"))),
    }
}

/// The caller as one who may manage the project's members: the REST API's member endpoints
/// ask for the same level.
fn manager_of_members(
    by: &Authorized<Member>,
) -> Result<Authorized<roster_service::Staff>, ApiError> {
    by.require().map_err(ApiError::from)
}

/// After a change from the members panel: back to the page with what happened, or the page
/// again with the reason it was refused.
async fn after_change(
    state: AppState,
    web: WebUser<Member>,
    raw: String,
    done: Result<String, ApiError>,
) -> Response {
    match done {
        Ok(message) => back_with(&state, &format!("/projects/{raw}"), &message),
        Err(e) => {
            let refusal = Refusal::of(&e);
            render_project(
                &state,
                web,
                &raw,
                &PanelQuery::default(),
                None,
                Some(refusal),
            )
            .await
        }
    }
}

/// What a project role change says happened.
fn role_message(email: &str, role: Option<ProjectRole>) -> String {
    match role {
        Some(r) => format!("{email} works in this project as {}.", r.name()),
        None => format!("{email} works in this project with their organization role."),
    }
}

#[derive(Deserialize)]
pub(crate) struct AddMemberForm {
    #[serde(default)]
    user: String,
    #[serde(default)]
    role: String,
}

/// "Add member" with a project role (`POST /api/projects/{id}/members`).
pub(crate) async fn add_member(
    State(state): State<AppState>,
    web: WebUser<Member>,
    Path(raw): Path<String>,
    PageForm(form): PageForm<AddMemberForm>,
) -> Response {
    let done = async {
        let id = project_id(&raw)?;
        let user = UserId(form_id("user", &form.user)?);
        let role = project_role(&form.role)?;
        let staff = manager_of_members(&web.proof)?;
        let m = match role {
            Some(r) => {
                state
                    .service
                    .put_project_member(&staff, id, user, Some(r))
                    .await?
            }
            None => state.service.add_project_member(&staff, id, user).await?,
        };
        Ok(role_message(&m.user.email, m.project_role.map(|r| r.role)))
    }
    .await;
    after_change(state, web, raw, done).await
}

#[derive(Deserialize)]
pub(crate) struct RoleForm {
    #[serde(default)]
    role: String,
}

/// A member's project role drop-down (`POST /api/projects/roles`).
pub(crate) async fn set_member_role(
    State(state): State<AppState>,
    web: WebUser<Member>,
    Path((raw, user)): Path<(String, String)>,
    PageForm(form): PageForm<RoleForm>,
) -> Response {
    let done = async {
        let id = project_id(&raw)?;
        let user = UserId(form_id("user", &user)?);
        let role = project_role(&form.role)?;
        let staff = manager_of_members(&web.proof)?;
        let m = state
            .service
            .put_project_member(&staff, id, user, role)
            .await?;
        Ok(role_message(&m.user.email, m.project_role.map(|r| r.role)))
    }
    .await;
    after_change(state, web, raw, done).await
}

/// "Remove" in a member's row (`DELETE /api/projects/{id}/members`).
pub(crate) async fn remove_member(
    State(state): State<AppState>,
    web: WebUser<Member>,
    Path((raw, user)): Path<(String, String)>,
) -> Response {
    let done = async {
        let id = project_id(&raw)?;
        let user = UserId(form_id("user", &user)?);
        let staff = manager_of_members(&web.proof)?;
        let who = ProjectMemberQuery {
            users: vec![user],
            ..ProjectMemberQuery::default()
        };
        let one = PageRequest { page: 1, size: 1 };
        let found = state
            .service
            .project_member_list(&web.proof, id, &who, one)
            .await?;
        let email = found
            .items
            .first()
            .map(|e| e.member.user.email.clone())
            .ok_or_else(|| {
                ApiError::not_found(format!("User {user} is not a member of this project."))
            })?;
        state
            .service
            .remove_project_member(&staff, id, user)
            .await?;
        Ok(format!("{email} is no longer a member of this project."))
    }
    .await;
    after_change(state, web, raw, done).await
}
