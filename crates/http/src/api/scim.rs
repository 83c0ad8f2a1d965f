//! `/api/scim/settings` (the SDK's `sso.scim.get/update`) and `/api/scim/token`: the group
//! mapping, what the identity provider's DELETE does, the deprovisioning limit, and the
//! organization's dedicated SCIM token.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use roster_domain::scim::{GroupMapping, MappedProjectRole, ProjectGroup};
use roster_domain::{ProjectId, ProjectRole, Role};
use roster_service::scim::{
    project_role_wire, role_from_wire, DeleteAction, PlannedMove, PlannedProjectMove, ScimSettings,
    ScimSettingsUpdate,
};
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
    /// Workspaces arrive with workspace support; always empty until then.
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
    /// Whether people may still change roles the identity provider manages.
    manual_role_management: bool,
    /// The SCIM base URL to give the identity provider.
    scim_base_url: String,
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
pub struct ScimSettingsChange {
    #[serde(flatten)]
    settings: ScimSettingsView,
    /// Whether the change was saved (false for a dry run).
    applied: bool,
    /// The members whose role the change moves (or would move).
    moves: Vec<PlannedMoveView>,
    /// The project memberships the change adds, changes or removes (or would).
    project_moves: Vec<PlannedProjectMoveView>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScimSettingsBody {
    #[serde(default)]
    roles_groups: Option<Vec<Vec<String>>>,
    #[serde(default)]
    projects_groups: Option<Vec<ProjectGroupView>>,
    #[serde(default)]
    workspaces_groups: Option<Vec<Vec<String>>>,
    #[serde(default)]
    user_type_groups: Option<Vec<Vec<String>>>,
    #[serde(default)]
    fallback_role: Option<String>,
    #[serde(default)]
    delete_action: Option<String>,
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

fn view(state: &AppState, s: &ScimSettings, manual_role_management: bool) -> ScimSettingsView {
    ScimSettingsView {
        roles_groups: roles_groups_view(&s.mapping),
        projects_groups: projects_groups_view(&s.mapping),
        workspaces_groups: Vec::new(),
        user_type_groups: Vec::new(),
        fallback_role: s.mapping.fallback.name().to_string(),
        delete_action: s.delete_action.code().to_string(),
        max_deprovision: s.max_deprovision,
        manual_role_management,
        scim_base_url: crate::scim::base_url(state),
    }
}

/// The active organization's SCIM settings.
#[utoipa::path(get, path = "/api/scim/settings", tag = "scim",
    responses((status = 200, body = ScimSettingsView), (status = 403)))]
pub async fn get_settings(
    State(state): State<AppState>,
    InActiveOrg(by): InActiveOrg<Admin>,
) -> ApiResult<Json<ScimSettingsView>> {
    let s = state.service.scim_settings(&by).await?;
    Ok(Json(view(&state, &s, by.org().manual_role_management)))
}

fn parse_update(body: ScimSettingsBody) -> ApiResult<ScimSettingsUpdate> {
    refuse_unmapped(&body.workspaces_groups, &body.user_type_groups)?;
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
        fallback,
        delete_action,
        max_deprovision: body.max_deprovision,
        confirm_deprovision: body.confirm_deprovision,
    })
}

/// Workspaces and seat types cannot be mapped yet: the SDK sends empty lists, anything else is
/// refused rather than silently ignored.
pub(crate) fn refuse_unmapped(
    workspaces_groups: &Option<Vec<Vec<String>>>,
    user_type_groups: &Option<Vec<Vec<String>>>,
) -> ApiResult<()> {
    for (field, list) in [
        ("workspaces_groups", workspaces_groups),
        ("user_type_groups", user_type_groups),
    ] {
        if list.as_ref().is_some_and(|l| !l.is_empty()) {
            return Err(ApiError::invalid(
                field,
                "cannot be mapped yet; send an empty list",
            ));
        }
    }
    Ok(())
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
#[utoipa::path(post, path = "/api/scim/settings", tag = "scim", params(DryRun),
    request_body = ScimSettingsBody,
    responses((status = 200, body = ScimSettingsChange), (status = 400), (status = 403), (status = 409)))]
pub async fn update_settings(
    State(state): State<AppState>,
    InActiveOrg(by): InActiveOrg<Admin>,
    QueryParams(q): QueryParams<DryRun>,
    JsonBody(body): JsonBody<ScimSettingsBody>,
) -> ApiResult<Json<ScimSettingsChange>> {
    let update = parse_update(body)?;
    let outcome = state
        .service
        .update_scim_settings(&by, update, q.dry_run.unwrap_or(false))
        .await?;
    Ok(Json(ScimSettingsChange {
        settings: view(&state, &outcome.settings, by.org().manual_role_management),
        applied: outcome.applied,
        moves: outcome.moves.iter().map(PlannedMoveView::from).collect(),
        project_moves: outcome
            .project_moves
            .iter()
            .map(PlannedProjectMoveView::from)
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
#[utoipa::path(get, path = "/api/scim/token", tag = "scim",
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
#[utoipa::path(post, path = "/api/scim/token", tag = "scim",
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
