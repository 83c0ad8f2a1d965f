//! The invite link and personal email invites.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use roster_domain::{ProjectId, WorkspaceId};
use roster_service::invites::{InviteLink, InviteView};
use roster_service::Invite;
use serde::{Deserialize, Serialize};

use crate::api::orgs::parse_role;
use crate::error::ApiResult;
use crate::extract::{InActiveOrg, JsonBody, QueryParams};
use crate::paging::{page_view, PageParams, RequestUrl};
use crate::views::{time, PageView};
use crate::AppState;

#[derive(Serialize, utoipa::ToSchema)]
pub struct InviteLinkView {
    token: String,
    invite_url: String,
}

impl From<InviteLink> for InviteLinkView {
    fn from(l: InviteLink) -> Self {
        InviteLinkView {
            token: l.token,
            invite_url: l.invite_url,
        }
    }
}

#[utoipa::path(get, path = "/api/invite", tag = "invites", responses((status = 200, body = InviteLinkView), (status = 403)))]
pub async fn invite_link(
    State(state): State<AppState>,
    InActiveOrg(by): InActiveOrg<Invite>,
) -> ApiResult<Json<InviteLinkView>> {
    Ok(Json(state.service.invite_link(&by)?.into()))
}

/// Makes a new invite link; the old one stops working.
#[utoipa::path(post, path = "/api/invite/reset-token", tag = "invites", responses((status = 201, body = InviteLinkView), (status = 403)))]
pub async fn reset_invite_link(
    State(state): State<AppState>,
    InActiveOrg(by): InActiveOrg<Invite>,
) -> ApiResult<(StatusCode, Json<InviteLinkView>)> {
    Ok((
        StatusCode::CREATED,
        Json(state.service.reset_invite_link(&by).await?.into()),
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendInvitesBody {
    emails: Vec<String>,
    /// Left out: the organization's default role.
    role: Option<String>,
    #[serde(default)]
    projects: Vec<i64>,
    /// Accepted for compatibility; only "standard" exists in roster.
    #[serde(default)]
    user_type: Option<String>,
    /// Workspaces the invited people join on acceptance.
    #[serde(default)]
    workspaces: Vec<i64>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct InviteItem {
    id: i64,
    email: String,
    role: String,
    projects: Vec<i64>,
    state: String,
    created_at: String,
    expires_at: String,
    /// The sign-up link while the invite is pending (the outbox when no mail is configured).
    invite_url: Option<String>,
}

impl InviteItem {
    fn of(v: &InviteView) -> InviteItem {
        InviteItem {
            id: v.invite.id.0,
            email: v.invite.email.clone(),
            role: v.invite.role.code().into(),
            projects: v.invite.projects.iter().map(|p| p.0).collect(),
            state: v.state.code().into(),
            created_at: time(v.invite.created_at),
            expires_at: time(v.invite.expires_at),
            invite_url: v.url.clone(),
        }
    }
}

/// Invites people by email with a role (the organization's default role when none is given)
/// and projects; needs a free seat per new person.
#[utoipa::path(post, path = "/api/invite/send-email", tag = "invites", request_body = SendInvitesBody,
    responses((status = 201, body = [InviteItem]), (status = 400), (status = 403), (status = 409)))]
pub async fn send_invites(
    State(state): State<AppState>,
    InActiveOrg(by): InActiveOrg<Invite>,
    JsonBody(body): JsonBody<SendInvitesBody>,
) -> ApiResult<(StatusCode, Json<Vec<InviteItem>>)> {
    if body.user_type.as_deref().is_some_and(|t| t != "standard") {
        return Err(crate::error::ApiError::invalid(
            "user_type",
            "only \"standard\" is supported",
        ));
    }
    let role = body
        .role
        .as_deref()
        .map(|r| parse_role("role", r))
        .transpose()?;
    let projects: Vec<ProjectId> = body.projects.iter().map(|p| ProjectId(*p)).collect();
    let workspaces: Vec<WorkspaceId> = body.workspaces.iter().map(|w| WorkspaceId(*w)).collect();
    let sent = state
        .service
        .send_invites(&by, &body.emails, role, &projects, &workspaces)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(sent.iter().map(InviteItem::of).collect()),
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevokeBody {
    email: String,
}

#[utoipa::path(post, path = "/api/invite/revoke", tag = "invites", request_body = RevokeBody,
    responses((status = 204), (status = 403), (status = 404)))]
pub async fn revoke_invite(
    State(state): State<AppState>,
    InActiveOrg(by): InActiveOrg<Invite>,
    JsonBody(body): JsonBody<RevokeBody>,
) -> ApiResult<StatusCode> {
    state.service.revoke_invite(&by, &body.email).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Personal invites with their states, newest first.
#[utoipa::path(get, path = "/api/invites", tag = "invites", params(("page" = Option<i64>, Query), ("page_size" = Option<i64>, Query)),
    responses((status = 200, body = PageView<InviteItem>), (status = 403)))]
pub async fn list_invites(
    State(state): State<AppState>,
    InActiveOrg(by): InActiveOrg<Invite>,
    at: RequestUrl,
    QueryParams(p): QueryParams<PageParams>,
) -> ApiResult<Json<PageView<InviteItem>>> {
    let page = p.resolve(20)?;
    let result = state.service.list_invites(&by, page).await?;
    Ok(Json(page_view(
        &at,
        page,
        result.count,
        result.items.iter().map(InviteItem::of).collect(),
    )))
}
