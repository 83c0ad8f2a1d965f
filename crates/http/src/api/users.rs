//! The caller's own account (`whoami`, `current-user`) and the users of an organization.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use axum_extra::extract::CookieJar;
use roster_domain::{Grants, OrgId, UserId};
use roster_service::users::{CurrentUser, PasswordChange, ProfilePatch};
use roster_service::{Member, Staff};
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiContext, Caller, InActiveOrg, JsonBody, PathParams, QueryParams};
use crate::paging::{PageParams, MAX_PAGE_SIZE};
use crate::views::{OrgMembershipView, UserView, WhoAmIView};
use crate::AppState;

fn whoami_view(me: &CurrentUser, grants: &Grants) -> WhoAmIView {
    WhoAmIView {
        user: UserView::of(&me.user),
        org_membership: me.memberships.iter().map(OrgMembershipView::of).collect(),
        permissions: me
            .permissions(grants)
            .into_iter()
            .map(String::from)
            .collect(),
    }
}

/// `whoami_view` with the active organization's permissions read for this request.
async fn whoami_now(state: &AppState, me: &CurrentUser) -> ApiResult<WhoAmIView> {
    let grants = state.service.active_grants(me).await?;
    Ok(whoami_view(me, &grants))
}

/// The caller, whatever their role in their active organization.
#[utoipa::path(get, path = "/api/current-user/whoami", tag = "users", responses((status = 200, body = WhoAmIView), (status = 401)))]
pub async fn whoami(
    State(state): State<AppState>,
    Caller(who): Caller,
) -> ApiResult<Json<WhoAmIView>> {
    Ok(Json(
        whoami_now(&state, &state.service.current_user(&who)).await?,
    ))
}

#[utoipa::path(get, path = "/api/current-user", tag = "users", responses((status = 200, body = WhoAmIView), (status = 401)))]
pub async fn current_user(
    State(state): State<AppState>,
    Caller(who): Caller,
) -> ApiResult<Json<WhoAmIView>> {
    Ok(Json(
        whoami_now(&state, &state.service.current_user(&who)).await?,
    ))
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CurrentUserPatch {
    username: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    phone: Option<String>,
    active_organization: Option<i64>,
    /// To change the password, give `current_password` too.
    password: Option<String>,
    current_password: Option<String>,
}

/// What `PATCH /api/current-user` answers: the caller, and after a password change a word on
/// what it did to the caller's other credentials.
#[derive(Serialize, utoipa::ToSchema)]
pub struct CurrentUserUpdated {
    #[serde(flatten)]
    me: WhoAmIView,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<&'static str>,
}

/// Told after a password change, in the response and on the page.
pub const PASSWORD_CHANGED: &str = "Password changed. Your other browser sessions were signed \
    out. Your legacy API key and personal access tokens are separate credentials and still \
    work; reset or revoke them on their own if they may be exposed.";

/// Edits the caller's profile, switches their active organization, or changes their password
/// (with `current_password`), all in one transaction.
#[utoipa::path(patch, path = "/api/current-user", tag = "users", request_body = CurrentUserPatch,
    responses((status = 200, body = CurrentUserUpdated), (status = 400), (status = 401), (status = 429)))]
pub async fn update_current_user(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiContext(ctx): ApiContext,
    jar: CookieJar,
    JsonBody(body): JsonBody<CurrentUserPatch>,
) -> ApiResult<Response> {
    let password = match (&body.password, &body.current_password) {
        (Some(new), Some(current)) => Some(PasswordChange { current, new }),
        (Some(_), None) => {
            return Err(ApiError::invalid(
                "current_password",
                "is required to change the password",
            ))
        }
        (None, _) => None,
    };
    let patch = ProfilePatch {
        username: body.username,
        first_name: body.first_name,
        last_name: body.last_name,
        phone: body.phone,
        active_organization: body.active_organization.map(OrgId),
    };
    let changed_password = password.is_some();
    let (me, session) = state
        .service
        .update_current_user(&who, patch, password, &ctx)
        .await?;
    let body = Json(CurrentUserUpdated {
        me: whoami_now(&state, &me).await?,
        detail: changed_password.then_some(PASSWORD_CHANGED),
    });
    Ok(match session {
        Some(s) => (crate::api::session::with_session(&state, jar, &s), body).into_response(),
        None => body.into_response(),
    })
}

/// Users of the active organization (a plain array, as the SDK expects).
#[utoipa::path(get, path = "/api/users", tag = "users",
    params(("page" = Option<i64>, Query), ("page_size" = Option<i64>, Query)),
    responses((status = 200, body = [UserView]), (status = 403)))]
pub async fn list_users(
    State(state): State<AppState>,
    InActiveOrg(by): InActiveOrg<Staff>,
    QueryParams(p): QueryParams<PageParams>,
) -> ApiResult<Json<Vec<UserView>>> {
    let page = p.resolve(MAX_PAGE_SIZE)?;
    let rows = state
        .service
        .list_users(&by, page.size, page.offset())
        .await?;
    Ok(Json(rows.iter().map(|r| UserView::of(&r.user)).collect()))
}

#[utoipa::path(get, path = "/api/users/{id}", tag = "users", params(("id" = i64, Path)),
    responses((status = 200, body = UserView), (status = 403), (status = 404)))]
pub async fn get_user(
    State(state): State<AppState>,
    InActiveOrg(by): InActiveOrg<Member>,
    PathParams(id): PathParams<String>,
) -> ApiResult<Json<UserView>> {
    let id = parse_id(&id)?;
    Ok(Json(UserView::of(
        &state.service.get_user(&by, id).await?.user,
    )))
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    username: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    phone: Option<String>,
    active_organization: Option<i64>,
    /// Emails cannot be changed; sending one is refused.
    email: Option<String>,
}

/// Members edit themselves; Owners and Administrators may edit other members' names.
#[utoipa::path(patch, path = "/api/users/{id}", tag = "users", params(("id" = i64, Path)), request_body = UserPatch,
    responses((status = 200, body = UserView), (status = 400), (status = 403), (status = 404)))]
pub async fn update_user(
    State(state): State<AppState>,
    InActiveOrg(by): InActiveOrg<Member>,
    PathParams(id): PathParams<String>,
    JsonBody(body): JsonBody<UserPatch>,
) -> ApiResult<Json<UserView>> {
    let id = parse_id(&id)?;
    if let Some(email) = &body.email {
        if !email.trim().eq_ignore_ascii_case(&by.user().email) || id != by.user().id {
            return Err(ApiError::invalid(
                "email",
                "The email address cannot be changed.",
            ));
        }
    }
    let patch = ProfilePatch {
        username: body.username,
        first_name: body.first_name,
        last_name: body.last_name,
        phone: body.phone,
        active_organization: body.active_organization.map(OrgId),
    };
    Ok(Json(UserView::of(
        &state.service.update_user(&by, id, patch).await?.user,
    )))
}

pub(crate) fn parse_id(raw: &str) -> ApiResult<UserId> {
    raw.parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .map(UserId)
        .ok_or_else(|| ApiError::not_found(format!("No user with id {raw}.")))
}
