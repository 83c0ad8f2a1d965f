//! The Workspaces pages: the workspaces the caller sees with the form that creates one, and a
//! workspace's page with its projects and, for those who manage it, its settings, members,
//! archiving and deletion. Every rule is the service's (`roster_service::workspaces`): the
//! pages offer the forms of what it says the caller may do, make the REST API's calls, and
//! show a refusal in words with its status.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use roster_domain::{ProjectId, UserId, WorkspaceId};
use roster_service::members::MemberFilter;
use roster_service::store::workspaces::MemberSelection;
use roster_service::store::WorkspaceRecord;
use roster_service::workspaces::{WorkspacePatch, WorkspaceQuery};
use roster_service::{Authorized, Member, PageRequest, ServiceError};
use serde::Deserialize;

use super::panels::{
    candidates, form_id, path_id, refused_page, staff, Candidates, Pager, PanelQuery, Refusal,
};
use super::{back_with, on_off, page, status_message, Chrome, WebUser};
use crate::error::ApiError;
use crate::extract::{PageForm, QueryParams};
use crate::AppState;

pub(crate) struct WorkspaceRowView {
    id: i64,
    title: String,
    description: String,
    color: String,
    projects: i64,
    archived: bool,
    personal: bool,
    member: bool,
}

#[derive(Template)]
#[template(path = "workspaces.html")]
struct WorkspacesPage {
    chrome: Chrome,
    status: Option<String>,
    problem: Option<String>,
    may_create: bool,
    rows: Vec<WorkspaceRowView>,
    /// The create form, as typed after a refusal.
    draft: SettingsForm,
}

/// A workspace's title, description and color, as the create and settings forms send them.
#[derive(Deserialize, Default)]
pub(crate) struct SettingsForm {
    #[serde(default)]
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    color: String,
}

impl SettingsForm {
    fn of(w: &WorkspaceRecord) -> SettingsForm {
        SettingsForm {
            title: w.title.clone(),
            description: w.description.clone(),
            color: w.color.clone(),
        }
    }

    fn patch(&self) -> WorkspacePatch {
        WorkspacePatch {
            title: Some(self.title.clone()),
            description: Some(self.description.clone()),
            color: Some(self.color.trim().to_string()),
            ..WorkspacePatch::default()
        }
    }
}

pub(crate) async fn workspaces_page(
    State(state): State<AppState>,
    web: WebUser<Member>,
    QueryParams(q): QueryParams<PanelQuery>,
) -> Response {
    let status = status_message(&state, q.status.as_deref(), q.sig.as_deref());
    list_page(&state, web, status, None, SettingsForm::default()).await
}

async fn list_page(
    state: &AppState,
    web: WebUser<Member>,
    status: Option<String>,
    refusal: Option<Refusal>,
    draft: SettingsForm,
) -> Response {
    let by = &web.proof;
    let list = match state
        .service
        .list_workspaces(by, WorkspaceQuery::default())
        .await
    {
        Ok(list) => list,
        Err(e) => return refused_page(&web.chrome, e),
    };
    let (code, problem) = Refusal::answer(refusal);
    page(
        code,
        WorkspacesPage {
            status,
            problem,
            may_create: state.service.may_create_workspace(by),
            rows: list
                .iter()
                .map(|(w, member)| WorkspaceRowView {
                    id: w.id.0,
                    title: w.title.clone(),
                    description: w.description.clone(),
                    color: w.color.clone(),
                    projects: w.projects_count,
                    archived: w.is_archived,
                    personal: w.is_personal,
                    member: *member,
                })
                .collect(),
            draft,
            chrome: web.chrome,
        },
    )
}

/// The form that creates a workspace (the same call as `POST /api/workspaces`).
pub(crate) async fn create_workspace(
    State(state): State<AppState>,
    web: WebUser<Member>,
    PageForm(form): PageForm<SettingsForm>,
) -> Response {
    match state
        .service
        .create_workspace(&web.proof, form.patch())
        .await
    {
        Ok(w) => back_with(
            &state,
            &format!("/workspaces/{}", w.id.0),
            &format!(
                "Workspace “{}” was created; you are its first member.",
                w.title
            ),
        ),
        Err(e) => {
            let refusal = Refusal::of(&ApiError::from(e));
            list_page(&state, web, None, Some(refusal), form).await
        }
    }
}

pub(crate) struct MemberRowView {
    user_id: i64,
    name: String,
    email: String,
    role: &'static str,
}

/// What those who manage the workspace see besides its projects.
pub(crate) struct ManageView {
    settings: SettingsForm,
    members: Vec<MemberRowView>,
    count: i64,
    pager: Pager,
    candidates: Candidates,
    /// Projects the caller sees that are not in this workspace: (id, title, in another).
    project_choices: Vec<(i64, String, bool)>,
}

#[derive(Template)]
#[template(path = "workspace.html")]
struct WorkspacePage {
    chrome: Chrome,
    status: Option<String>,
    problem: Option<String>,
    id: i64,
    title: String,
    description: String,
    color: String,
    archived: bool,
    personal: bool,
    member: bool,
    projects: Vec<(i64, String)>,
    manage: Option<ManageView>,
    confirm_delete: bool,
}

fn workspace_id(raw: &str) -> Result<WorkspaceId, ApiError> {
    path_id(raw, "No such workspace.").map(WorkspaceId)
}

pub(crate) async fn workspace_page(
    State(state): State<AppState>,
    web: WebUser<Member>,
    Path(raw): Path<String>,
    QueryParams(q): QueryParams<PanelQuery>,
) -> Response {
    let status = status_message(&state, q.status.as_deref(), q.sig.as_deref());
    render_workspace(&state, web, &raw, &q, status, None, None).await
}

async fn manage_view(
    state: &AppState,
    by: &Authorized<Member>,
    w: &WorkspaceRecord,
    q: &PanelQuery,
    settings: Option<SettingsForm>,
) -> Result<ManageView, ServiceError> {
    let service = &state.service;
    let members = service
        .workspace_members_page(by, w.id, MemberSelection::default(), q.page_request())
        .await?;
    let staff = staff(by).ok_or_else(|| ServiceError::Forbidden("Staff only.".into()))?;
    let not_in = MemberFilter {
        exclude_workspace: Some(w.id),
        ..MemberFilter::default()
    };
    let candidates = candidates(state, &staff, q, not_in).await?;
    let projects = service
        .list_projects(
            by,
            None,
            PageRequest {
                page: 1,
                size: 1000,
            },
        )
        .await?;
    Ok(ManageView {
        settings: settings.unwrap_or_else(|| SettingsForm::of(w)),
        members: members
            .items
            .iter()
            .map(|m| MemberRowView {
                user_id: m.user.id.0,
                name: roster_service::display_name(&m.user),
                email: m.user.email.clone(),
                role: m.membership.role.name(),
            })
            .collect(),
        count: members.count,
        pager: Pager::new(&format!("/workspaces/{}", w.id.0), q, members.count),
        candidates,
        project_choices: projects
            .items
            .iter()
            .filter(|p| p.workspace != Some(w.id))
            .map(|p| (p.id.0, p.title.clone(), p.workspace.is_some()))
            .collect(),
    })
}

/// The workspace's page: what everyone who sees it sees, and the forms of those who manage
/// it; after a refused change, the reason (and the settings as typed) with its status.
async fn render_workspace(
    state: &AppState,
    web: WebUser<Member>,
    raw: &str,
    q: &PanelQuery,
    status: Option<String>,
    refusal: Option<Refusal>,
    settings: Option<SettingsForm>,
) -> Response {
    let id = match workspace_id(raw) {
        Ok(id) => id,
        Err(e) => return refused_page(&web.chrome, e),
    };
    let by = &web.proof;
    let loaded = async {
        let sight = state.service.workspace_sight(by, id).await?;
        let projects = state.service.workspace_projects(by, id).await?;
        let manage = if sight.manages {
            Some(manage_view(state, by, &sight.workspace, q, settings).await?)
        } else {
            None
        };
        Ok::<_, ServiceError>((sight, projects, manage))
    }
    .await;
    let (sight, projects, manage) = match loaded {
        Ok(x) => x,
        Err(e) => return refused_page(&web.chrome, e),
    };
    let (code, problem) = Refusal::answer(refusal);
    let w = sight.workspace;
    page(
        code,
        WorkspacePage {
            status,
            problem,
            id: w.id.0,
            title: w.title,
            description: w.description,
            color: w.color,
            archived: w.is_archived,
            personal: w.is_personal,
            member: sight.member,
            projects: projects.iter().map(|p| (p.id.0, p.title.clone())).collect(),
            confirm_delete: manage.is_some() && q.confirm.as_deref() == Some("delete"),
            manage,
            chrome: web.chrome,
        },
    )
}

/// After a change from the workspace's page: back to it with what happened, or the page
/// again with the reason it was refused.
async fn after_change(
    state: AppState,
    web: WebUser<Member>,
    raw: String,
    done: Result<String, ApiError>,
    settings: Option<SettingsForm>,
) -> Response {
    match done {
        Ok(message) => back_with(&state, &format!("/workspaces/{raw}"), &message),
        Err(e) => {
            let refusal = Refusal::of(&e);
            let q = PanelQuery::default();
            render_workspace(&state, web, &raw, &q, None, Some(refusal), settings).await
        }
    }
}

/// The settings form (the same call as `PATCH /api/workspaces/{id}`).
pub(crate) async fn update_settings(
    State(state): State<AppState>,
    web: WebUser<Member>,
    Path(raw): Path<String>,
    PageForm(form): PageForm<SettingsForm>,
) -> Response {
    let done = async {
        let id = workspace_id(&raw)?;
        let w = state
            .service
            .update_workspace(&web.proof, id, form.patch())
            .await?;
        Ok(format!("The settings of “{}” were saved.", w.title))
    }
    .await;
    after_change(state, web, raw, done, Some(form)).await
}

#[derive(Deserialize)]
pub(crate) struct ArchiveForm {
    /// "on" or "off".
    archived: String,
}

/// Archive or Unarchive (`PATCH /api/workspaces/{id}` with `is_archived`).
pub(crate) async fn set_archived(
    State(state): State<AppState>,
    web: WebUser<Member>,
    Path(raw): Path<String>,
    PageForm(form): PageForm<ArchiveForm>,
) -> Response {
    let done = async {
        let id = workspace_id(&raw)?;
        let archived = on_off(&form.archived).ok_or_else(|| {
            ApiError::invalid(
                "is_archived",
                format!("\"{}\" is not on or off", form.archived),
            )
        })?;
        let patch = WorkspacePatch {
            is_archived: Some(archived),
            ..WorkspacePatch::default()
        };
        let w = state
            .service
            .update_workspace(&web.proof, id, patch)
            .await?;
        Ok(if w.is_archived {
            format!("“{}” is archived.", w.title)
        } else {
            format!("“{}” is no longer archived.", w.title)
        })
    }
    .await;
    after_change(state, web, raw, done, None).await
}

/// "Delete workspace" in its confirmation (`DELETE /api/workspaces/{id}`).
pub(crate) async fn delete_workspace(
    State(state): State<AppState>,
    web: WebUser<Member>,
    Path(raw): Path<String>,
) -> Response {
    let done = async {
        let id = workspace_id(&raw)?;
        let (w, _) = state.service.get_workspace(&web.proof, id).await?;
        state.service.delete_workspace(&web.proof, id).await?;
        Ok(format!(
            "Workspace “{}” was deleted; its projects stay in the organization.",
            w.title
        ))
    }
    .await;
    match done {
        Ok(message) => back_with(&state, "/workspaces", &message),
        Err(e) => after_change(state, web, raw, Err(e), None).await,
    }
}

/// The email of a member of the workspace, for the page's message.
async fn member_email(
    state: &AppState,
    by: &Authorized<Member>,
    id: WorkspaceId,
    user: UserId,
) -> Result<String, ApiError> {
    let sel = MemberSelection {
        ids: Some(vec![user.0]),
        search: None,
    };
    let one = PageRequest { page: 1, size: 1 };
    let found = state
        .service
        .workspace_members_page(by, id, sel, one)
        .await?;
    Ok(found
        .items
        .first()
        .map(|m| m.user.email.clone())
        .unwrap_or_else(|| format!("User {user}")))
}

#[derive(Deserialize)]
pub(crate) struct MemberForm {
    #[serde(default)]
    user: String,
}

/// "Add member" (`POST /api/workspaces/{id}/memberships`).
pub(crate) async fn add_member(
    State(state): State<AppState>,
    web: WebUser<Member>,
    Path(raw): Path<String>,
    PageForm(form): PageForm<MemberForm>,
) -> Response {
    let done = async {
        let id = workspace_id(&raw)?;
        let user = UserId(form_id("user", &form.user)?);
        let by = &web.proof;
        state
            .service
            .set_workspace_member(by, id, user, true)
            .await?;
        let email = member_email(&state, by, id, user).await?;
        Ok(format!("{email} is a member of this workspace."))
    }
    .await;
    after_change(state, web, raw, done, None).await
}

/// "Remove" in a member's row (`DELETE /api/workspaces/{id}/memberships`).
pub(crate) async fn remove_member(
    State(state): State<AppState>,
    web: WebUser<Member>,
    Path((raw, user)): Path<(String, String)>,
) -> Response {
    let done = async {
        let id = workspace_id(&raw)?;
        let user = UserId(form_id("user", &user)?);
        let by = &web.proof;
        let email = member_email(&state, by, id, user).await?;
        state
            .service
            .set_workspace_member(by, id, user, false)
            .await?;
        Ok(format!("{email} is no longer a member of this workspace."))
    }
    .await;
    after_change(state, web, raw, done, None).await
}

#[derive(Deserialize)]
pub(crate) struct ProjectForm {
    #[serde(default)]
    project: String,
}

/// "Add project" (`POST /api/workspaces/{id}/projects`).
pub(crate) async fn add_project(
    State(state): State<AppState>,
    web: WebUser<Member>,
    Path(raw): Path<String>,
    PageForm(form): PageForm<ProjectForm>,
) -> Response {
    let done = async {
        let id = workspace_id(&raw)?;
        let project = ProjectId(form_id("project", &form.project)?);
        let by = &web.proof;
        state.service.add_workspace_project(by, id, project).await?;
        let p = state.service.get_project(by, project).await?;
        Ok(format!("Project “{}” is in this workspace.", p.title))
    }
    .await;
    after_change(state, web, raw, done, None).await
}

/// "Remove" in a project's row (`DELETE /api/workspaces/{id}/projects`).
pub(crate) async fn remove_project(
    State(state): State<AppState>,
    web: WebUser<Member>,
    Path((raw, project)): Path<(String, String)>,
) -> Response {
    let done = async {
        let id = workspace_id(&raw)?;
        let project = ProjectId(form_id("project", &project)?);
        let by = &web.proof;
        let p = state.service.get_project(by, project).await?;
        state
            .service
            .remove_workspace_project(by, id, project)
            .await?;
        Ok(format!(
            "Project “{}” is no longer in this workspace; it stays in the organization.",
            p.title
        ))
    }
    .await;
    after_change(state, web, raw, done, None).await
}
