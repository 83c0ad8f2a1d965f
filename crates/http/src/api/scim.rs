//! `/api/scim/settings` (the SDK's `sso.scim.get/update`) and `/api/scim/token`: the group
//! mapping (roles, projects, workspaces), what the identity provider's DELETE does, the
//! deprovisioning limit, the manual-management settings, and the organization's dedicated
//! SCIM token.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use roster_domain::scim::{GroupMapping, MappedProjectRole, ProjectGroup};
use roster_domain::{ProjectId, ProjectRole, Role};
use roster_service::orgs::ManualManagement;
use roster_service::scim::{
    project_role_wire, role_from_wire, DeleteAction, PlannedMove, PlannedProjectMove,
    PlannedWorkspaceMove, ScimSettings, ScimSettingsUpdate,
};
use roster_service::store::OrgRecord;
use roster_service::Admin;
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, ApiResult};
use crate::extract::{InActiveOrg, JsonBody, QueryParams};
use crate::AppState;

/// A group mapped to a project, with the project role it gives.
#[derive(Serialize, Deserialize, utoipa::ToSchema, Clone)]
#[serde(deny_unknown_fields)]
pub struct ProjectGroupView {
    project_id: i64,
    group: String,
    /// `Annotator`, `Reviewer` or `Inherit` (the organization role applies).
    #[serde(default)]
    role: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ScimSettingsView {
    /// `[[role, group], ...]`: Administrator, Manager, Reviewer or Annotator; the highest wins.
    roles_groups: Vec<Vec<String>>,
    projects_groups: Vec<ProjectGroupView>,
    /// `[[workspace title, group], ...]`: members of the group are members of the workspace
    /// (the workspace's current title; the mapping follows a renamed workspace).
    workspaces_groups: Vec<Vec<String>>,
    /// Seat types are not sold separately here; always empty.
    user_type_groups: Vec<Vec<String>>,
    /// The role of members in no mapped role group.
    fallback_role: String,
    /// `delete` (the member's work shows as Deleted User) or `deactivate`.
    delete_action: String,
    /// Deactivations and deletions allowed per request and per hour; null: 10% of working
    /// members, at least 5.
    max_deprovision: Option<i64>,
    #[serde(flatten)]
    manual: ManualManagementView,
    /// The SCIM base URL to give the identity provider.
    scim_base_url: String,
}

/// The organization's settings on hand changes of what its identity provider manages (shared
/// by SCIM, SAML and the organization). Off, a change by a person (web, REST API, command
/// line) of what the identity provider manages is refused with 409.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ManualManagementView {
    /// Whether people may still change roles the identity provider manages.
    manual_role_management: bool,
    /// Whether people may still remove workspace memberships the identity provider's group
    /// mapping gave.
    manual_workspace_management: bool,
    /// Whether people may still remove, or change the project role of, project memberships
    /// the identity provider's group mapping gave.
    manual_project_member_management: bool,
}

/// The manual-management settings a settings body (SCIM's or SAML's) names; what it leaves
/// out stays.
pub(crate) fn manual_from_wire(
    roles: Option<bool>,
    workspaces: Option<bool>,
    project_members: Option<bool>,
) -> ManualManagement {
    ManualManagement {
        roles,
        workspaces,
        project_members,
    }
}

impl ManualManagementView {
    /// The organization's settings after `change`.
    pub(crate) fn of(org: &OrgRecord, change: &ManualManagement) -> ManualManagementView {
        let org = change.applied_to(org);
        ManualManagementView {
            manual_role_management: org.manual_role_management,
            manual_workspace_management: org.manual_workspace_management,
            manual_project_member_management: org.manual_project_member_management,
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct PlannedMoveView {
    user_id: i64,
    email: String,
    from: String,
    to: String,
}

impl From<&PlannedMove> for PlannedMoveView {
    fn from(m: &PlannedMove) -> Self {
        PlannedMoveView {
            user_id: m.user.0,
            email: m.email.clone(),
            from: m.from.code().to_string(),
            to: m.to.code().to_string(),
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct PlannedProjectMoveView {
    user_id: i64,
    email: String,
    project_id: i64,
    /// The project role before: `AN`, `RE`, `inherit` (the organization role applies), or
    /// null when not in the project.
    from: Option<String>,
    /// The project role after, in the same terms.
    to: Option<String>,
}

fn project_role_view(r: Option<Option<ProjectRole>>) -> Option<String> {
    r.map(|role| role.map_or("inherit", ProjectRole::code).to_string())
}

impl From<&PlannedProjectMove> for PlannedProjectMoveView {
    fn from(m: &PlannedProjectMove) -> Self {
        PlannedProjectMoveView {
            user_id: m.user.0,
            email: m.email.clone(),
            project_id: m.project.0,
            from: project_role_view(m.from),
            to: project_role_view(m.to),
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct PlannedWorkspaceMoveView {
    user_id: i64,
    email: String,
    workspace_id: i64,
    /// The workspace's title.
    workspace: String,
    /// `add` (the member joins the workspace) or `remove` (leaves it).
    action: String,
}

impl From<&PlannedWorkspaceMove> for PlannedWorkspaceMoveView {
    fn from(m: &PlannedWorkspaceMove) -> Self {
        PlannedWorkspaceMoveView {
            user_id: m.user.0,
            email: m.email.clone(),
            workspace_id: m.workspace.0,
            workspace: m.title.clone(),
            action: if m.join { "add" } else { "remove" }.to_string(),
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ScimSettingsChange {
    #[serde(flatten)]
    settings: ScimSettingsView,
    /// Whether the change was saved (false for a dry run).
    applied: bool,
    /// The members whose role the change moves (or would move).
    moves: Vec<PlannedMoveView>,
    /// The project memberships the change adds, changes or removes (or would).
    project_moves: Vec<PlannedProjectMoveView>,
    /// The workspace memberships the change adds or removes (or would).
    workspace_moves: Vec<PlannedWorkspaceMoveView>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScimSettingsBody {
    #[serde(default)]
    roles_groups: Option<Vec<Vec<String>>>,
    #[serde(default)]
    projects_groups: Option<Vec<ProjectGroupView>>,
    /// `[[workspace title, group], ...]`; each title must name a workspace of the
    /// organization, exactly.
    #[serde(default)]
    workspaces_groups: Option<Vec<Vec<String>>>,
    /// Seat types cannot be mapped: only an empty list is accepted.
    #[serde(default)]
    user_type_groups: Option<Vec<Vec<String>>>,
    #[serde(default)]
    fallback_role: Option<String>,
    #[serde(default)]
    delete_action: Option<String>,
    /// The organization's setting, shared with SAML (not changed by a dry run).
    #[serde(default)]
    manual_role_management: Option<bool>,
    /// The organization's setting, shared with SAML (not changed by a dry run).
    #[serde(default)]
    manual_workspace_management: Option<bool>,
    /// The organization's setting, shared with SAML (not changed by a dry run).
    #[serde(default)]
    manual_project_member_management: Option<bool>,
    /// A number, or null for the default share. Raising it is the Owner's call.
    #[serde(default, deserialize_with = "some_or_null")]
    #[schema(value_type = Option<i64>)]
    max_deprovision: Option<Option<i64>>,
    /// The Owner confirms a change that deprovisions more people than the limit allows.
    #[serde(default)]
    confirm_deprovision: bool,
}

/// Tells "absent" (None) from "null" (Some(None)).
fn some_or_null<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<i64>>, D::Error> {
    Option::<i64>::deserialize(d).map(Some)
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DryRun {
    /// Answer who would move without changing anything.
    #[serde(default)]
    dry_run: Option<bool>,
}

/// `roles_groups` as the wire shows them: `[[role name, group], ...]`.
pub(crate) fn roles_groups_view(m: &GroupMapping) -> Vec<Vec<String>> {
    m.roles_groups
        .iter()
        .map(|(r, g)| vec![r.name().to_string(), g.clone()])
        .collect()
}

/// `projects_groups` as the wire shows them.
pub(crate) fn projects_groups_view(m: &GroupMapping) -> Vec<ProjectGroupView> {
    m.projects_groups
        .iter()
        .map(|p| ProjectGroupView {
            project_id: p.project.0,
            group: p.group.clone(),
            role: Some(project_role_wire(p.role).to_string()),
        })
        .collect()
}

/// `workspaces_groups` as the wire shows them: `[[workspace title, group], ...]`, from the
/// service's named pairs.
pub(crate) fn workspaces_groups_view(named: Vec<(String, String)>) -> Vec<Vec<String>> {
    named.into_iter().map(|(t, g)| vec![t, g]).collect()
}

async fn view(
    state: &AppState,
    by: &roster_service::Authorized<Admin>,
    s: &ScimSettings,
    manual: &ManualManagement,
) -> ApiResult<ScimSettingsView> {
    let named = state
        .service
        .named_workspaces_groups(by, &s.mapping)
        .await?;
    Ok(ScimSettingsView {
        roles_groups: roles_groups_view(&s.mapping),
        projects_groups: projects_groups_view(&s.mapping),
        workspaces_groups: workspaces_groups_view(named),
        user_type_groups: Vec::new(),
        fallback_role: s.mapping.fallback.name().to_string(),
        delete_action: s.delete_action.code().to_string(),
        max_deprovision: s.max_deprovision,
        manual: ManualManagementView::of(by.org(), manual),
        scim_base_url: crate::scim::base_url(state),
    })
}

/// The active organization's SCIM settings.
#[utoipa::path(get, path = "/api/scim/settings", tag = "scim", operation_id = "get_scim_settings",
    responses((status = 200, body = ScimSettingsView), (status = 403)))]
pub async fn get_settings(
    State(state): State<AppState>,
    InActiveOrg(by): InActiveOrg<Admin>,
) -> ApiResult<Json<ScimSettingsView>> {
    let s = state.service.scim_settings(&by).await?;
    Ok(Json(
        view(&state, &by, &s, &ManualManagement::default()).await?,
    ))
}

fn parse_update(body: ScimSettingsBody) -> ApiResult<ScimSettingsUpdate> {
    refuse_user_type_groups(&body.user_type_groups)?;
    let workspaces_groups = body
        .workspaces_groups
        .map(workspaces_groups_from_wire)
        .transpose()?;
    let roles_groups = body.roles_groups.map(roles_groups_from_wire).transpose()?;
    let projects_groups = body
        .projects_groups
        .map(projects_groups_from_wire)
        .transpose()?;
    let fallback = fallback_role_from_wire(body.fallback_role)?;
    let delete_action = match body.delete_action {
        None => None,
        Some(d) => Some(
            DeleteAction::from_code(&d)
                .ok_or_else(|| ApiError::invalid("delete_action", "delete or deactivate"))?,
        ),
    };
    Ok(ScimSettingsUpdate {
        roles_groups,
        projects_groups,
        workspaces_groups,
        fallback,
        manual: manual_from_wire(
            body.manual_role_management,
            body.manual_workspace_management,
            body.manual_project_member_management,
        ),
        delete_action,
        max_deprovision: body.max_deprovision,
        confirm_deprovision: body.confirm_deprovision,
    })
}

/// Seat types cannot be mapped (roster sells no seat types): the SDK sends an empty list,
/// anything else is refused rather than silently ignored.
pub(crate) fn refuse_user_type_groups(
    user_type_groups: &Option<Vec<Vec<String>>>,
) -> ApiResult<()> {
    if user_type_groups.as_ref().is_some_and(|l| !l.is_empty()) {
        return Err(ApiError::invalid(
            "user_type_groups",
            "seat types cannot be mapped; send an empty list",
        ));
    }
    Ok(())
}

/// `workspaces_groups` from the wire: `[[workspace title, group], ...]`. Whether each title
/// names a workspace is the service's check, in the transaction that saves the mapping.
pub(crate) fn workspaces_groups_from_wire(
    pairs: Vec<Vec<String>>,
) -> ApiResult<Vec<(String, String)>> {
    pairs
        .into_iter()
        .map(|pair| match <[String; 2]>::try_from(pair) {
            Ok([title, group]) => Ok((title, group)),
            Err(_) => Err(ApiError::invalid(
                "workspaces_groups",
                "each entry is [workspace title, group]",
            )),
        })
        .collect()
}

/// `roles_groups` from the wire: `[[role, group], ...]`, roles by name or code.
pub(crate) fn roles_groups_from_wire(pairs: Vec<Vec<String>>) -> ApiResult<Vec<(Role, String)>> {
    pairs
        .into_iter()
        .map(|pair| match pair.as_slice() {
            [role, group] => role_from_wire(role)
                .map(|r| (r, group.clone()))
                .ok_or_else(|| {
                    ApiError::invalid("roles_groups", format!("{role:?} is not a role"))
                }),
            _ => Err(ApiError::invalid(
                "roles_groups",
                "each entry is [role, group]",
            )),
        })
        .collect()
}

/// `fallback_role` from the wire: a role by name or code. Whether it may be the fallback is
/// the mapping's rule, checked by the service with the rest of the mapping.
pub(crate) fn fallback_role_from_wire(text: Option<String>) -> ApiResult<Option<Role>> {
    text.map(|r| {
        role_from_wire(&r)
            .ok_or_else(|| ApiError::invalid("fallback_role", format!("{r:?} is not a role")))
    })
    .transpose()
}

/// `projects_groups` from the wire; a missing role is `Inherit`.
pub(crate) fn projects_groups_from_wire(
    list: Vec<ProjectGroupView>,
) -> ApiResult<Vec<ProjectGroup>> {
    list.into_iter()
        .map(|p| {
            let role = match p.role.as_deref().map(str::to_ascii_lowercase).as_deref() {
                None | Some("inherit") | Some("") => MappedProjectRole::Inherit,
                Some("annotator") => MappedProjectRole::Annotator,
                Some("reviewer") => MappedProjectRole::Reviewer,
                Some(other) => {
                    return Err(ApiError::invalid(
                        "projects_groups",
                        format!("{other:?} is not Annotator, Reviewer or Inherit"),
                    ))
                }
            };
            Ok(ProjectGroup {
                project: ProjectId(p.project_id),
                group: p.group,
                role,
            })
        })
        .collect()
}

/// Changes the SCIM settings. A changed mapping re-evaluates every provisioned member in the
/// same transaction; with `?dry_run=true` nothing changes and the answer lists who would move.
#[utoipa::path(post, path = "/api/scim/settings", tag = "scim", operation_id = "update_scim_settings", params(DryRun),
    request_body = ScimSettingsBody,
    responses((status = 200, body = ScimSettingsChange), (status = 400), (status = 403), (status = 409)))]
pub async fn update_settings(
    State(state): State<AppState>,
    InActiveOrg(by): InActiveOrg<Admin>,
    QueryParams(q): QueryParams<DryRun>,
    JsonBody(body): JsonBody<ScimSettingsBody>,
) -> ApiResult<Json<ScimSettingsChange>> {
    let update = parse_update(body)?;
    let manual = update.manual;
    let outcome = state
        .service
        .update_scim_settings(&by, update, q.dry_run.unwrap_or(false))
        .await?;
    // A dry run changes none of the organization's settings.
    let manual = if outcome.applied {
        manual
    } else {
        ManualManagement::default()
    };
    Ok(Json(ScimSettingsChange {
        settings: view(&state, &by, &outcome.settings, &manual).await?,
        applied: outcome.applied,
        moves: outcome.moves.iter().map(PlannedMoveView::from).collect(),
        project_moves: outcome
            .project_moves
            .iter()
            .map(PlannedProjectMoveView::from)
            .collect(),
        workspace_moves: outcome
            .workspace_moves
            .iter()
            .map(PlannedWorkspaceMoveView::from)
            .collect(),
    }))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ScimTokenView {
    /// Whether the organization has a live SCIM token.
    exists: bool,
    /// When it was made (RFC 3339), if it exists.
    created_at: Option<String>,
    scim_base_url: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct NewScimToken {
    /// Shown once: only its hash is kept.
    token: String,
    scim_base_url: String,
}

/// Whether the active organization has a SCIM token (never the token itself).
#[utoipa::path(get, path = "/api/scim/token", tag = "scim", operation_id = "scim_token_state",
    responses((status = 200, body = ScimTokenView), (status = 403)))]
pub async fn token_state(
    State(state): State<AppState>,
    InActiveOrg(by): InActiveOrg<Admin>,
) -> ApiResult<Json<ScimTokenView>> {
    let t = state.service.scim_token_state(&by).await?;
    Ok(Json(ScimTokenView {
        exists: t.created_at.is_some(),
        created_at: t
            .created_at
            .and_then(chrono::DateTime::from_timestamp_micros)
            .map(|d| d.to_rfc3339()),
        scim_base_url: crate::scim::base_url(&state),
    }))
}

/// Makes the organization's SCIM token, revoking the one before; the answer is the only time
/// it is shown.
#[utoipa::path(post, path = "/api/scim/token", tag = "scim", operation_id = "create_scim_token",
    responses((status = 201, body = NewScimToken), (status = 403)))]
pub async fn create_token(
    State(state): State<AppState>,
    InActiveOrg(by): InActiveOrg<Admin>,
) -> ApiResult<(StatusCode, Json<NewScimToken>)> {
    let token = state.service.create_scim_token(&by).await?;
    Ok((
        StatusCode::CREATED,
        Json(NewScimToken {
            token,
            scim_base_url: crate::scim::base_url(&state),
        }),
    ))
}
