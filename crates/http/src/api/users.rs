//! The caller's own account (`whoami`, `current-user`) and the users of an organization.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use axum_extra::extract::CookieJar;
use roster_domain::{Grants, MemberOrder, OrgId, UserId};
use roster_service::store::MemberRow;
use roster_service::users::{
    CurrentUser, NewPerson, PasswordChange, PreferencesPatch, ProfilePatch,
};
use roster_service::{Admin, Member, Staff};
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiContext, Caller, InActiveOrg, JsonBody, PathParams, QueryParams};
use crate::paging::{PageParams, MAX_PAGE_SIZE};
use crate::views::{UserView, WhoAmIView};
use crate::AppState;

fn whoami_view(me: &CurrentUser, grants: &Grants) -> WhoAmIView {
    WhoAmIView {
        user: UserView::of(&me.user).with_memberships(&me.memberships),
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

/// A user of the caller's organization, with their membership there only: another
/// organization of theirs is none of the caller's business.
fn member_user_view(row: &MemberRow) -> UserView {
    UserView::of(&row.user).with_memberships([&row.membership])
}

/// What user updates take besides names: the person's preferences, and the read-only
/// attributes the SDK sends back (`is_email_verified`, `date_joined`: accepted when they are
/// the account's values, refused naming the field otherwise).
/// The preference fields of a request body (both update bodies carry the same ones).
macro_rules! preference_fields {
    ($body:ident) => {
        PreferenceFields {
            allow_newsletters: $body.allow_newsletters,
            custom_hotkeys: $body.custom_hotkeys,
            email_notification_settings: $body.email_notification_settings,
            onboarding_state: $body.onboarding_state,
            is_email_verified: $body.is_email_verified,
            date_joined: $body.date_joined,
        }
    };
}

struct PreferenceFields {
    allow_newsletters: Option<bool>,
    custom_hotkeys: Option<serde_json::Value>,
    email_notification_settings: Option<serde_json::Value>,
    onboarding_state: Option<String>,
    is_email_verified: Option<bool>,
    date_joined: Option<String>,
}

impl PreferenceFields {
    fn into_patch(self, mut patch: ProfilePatch) -> ApiResult<ProfilePatch> {
        patch.preferences = PreferencesPatch {
            allow_newsletters: self.allow_newsletters,
            custom_hotkeys: self.custom_hotkeys,
            email_notification_settings: self.email_notification_settings,
            onboarding_state: self.onboarding_state,
        };
        patch.is_email_verified = self.is_email_verified;
        patch.date_joined = self
            .date_joined
            .map(|d| {
                chrono::DateTime::parse_from_rfc3339(&d)
                    .map_err(|_| ApiError::invalid("date_joined", "must be an RFC 3339 time"))
            })
            .transpose()?;
        Ok(patch)
    }
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
    /// To change the password, give `current_password` too (a request with a legacy key or an
    /// access token may leave it out, as the SDK does).
    password: Option<String>,
    current_password: Option<String>,
    allow_newsletters: Option<bool>,
    /// Action → key combination (`"ctrl+enter"` or `{"key": "ctrl+enter", "active": true}`).
    #[schema(value_type = Option<Object>)]
    custom_hotkeys: Option<serde_json::Value>,
    /// Notification name → on or off.
    #[schema(value_type = Option<Object>)]
    email_notification_settings: Option<serde_json::Value>,
    /// not_started, signup, trial_signup, first_tutorial, in_app_guidance or complete.
    onboarding_state: Option<String>,
    /// Read-only: roster verifies no email, so only false is accepted.
    is_email_verified: Option<bool>,
    /// Read-only: only the account's own is accepted.
    date_joined: Option<String>,
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
    let password = body.password.as_deref().map(|new| PasswordChange {
        current: body.current_password.as_deref(),
        new,
    });
    let patch = ProfilePatch {
        username: body.username,
        first_name: body.first_name,
        last_name: body.last_name,
        phone: body.phone,
        active_organization: body.active_organization.map(OrgId),
        ..ProfilePatch::default()
    };
    let patch = preference_fields!(body).into_patch(patch)?;
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

#[derive(Deserialize, Default)]
pub struct UserListParams {
    #[serde(flatten)]
    page: PageParams,
    ordering: Option<String>,
}

/// The user list's orderings by their Label Studio names.
const USER_ORDERINGS: [(&str, MemberOrder); 5] = [
    ("email", MemberOrder::Email),
    ("first_name", MemberOrder::FirstName),
    ("last_name", MemberOrder::LastName),
    ("last_activity", MemberOrder::LastActivity),
    ("date_joined", MemberOrder::DateJoined),
];

/// Users of the active organization (a plain array, as the SDK expects), in email order
/// unless `ordering` says otherwise.
#[utoipa::path(get, path = "/api/users", tag = "users",
    params(("page" = Option<i64>, Query), ("page_size" = Option<i64>, Query),
           ("ordering" = Option<String>, Query, description = "email, first_name, last_name, last_activity or date_joined, with - for descending")),
    responses((status = 200, body = [UserView]), (status = 400), (status = 403)))]
pub async fn list_users(
    State(state): State<AppState>,
    InActiveOrg(by): InActiveOrg<Staff>,
    QueryParams(p): QueryParams<UserListParams>,
) -> ApiResult<Json<Vec<UserView>>> {
    let page = p.page.resolve(MAX_PAGE_SIZE)?;
    let order = crate::api::orgs::ordering(
        p.ordering.as_deref(),
        &USER_ORDERINGS,
        "email, first_name, last_name, last_activity or date_joined",
    )?
    .unwrap_or((MemberOrder::Email, false));
    let rows = state
        .service
        .list_users(&by, order, page.size, page.offset())
        .await?;
    Ok(Json(rows.iter().map(member_user_view).collect()))
}

#[utoipa::path(get, path = "/api/users/{id}", tag = "users", params(("id" = i64, Path)),
    responses((status = 200, body = UserView), (status = 403), (status = 404)))]
pub async fn get_user(
    State(state): State<AppState>,
    InActiveOrg(by): InActiveOrg<Member>,
    PathParams(id): PathParams<String>,
) -> ApiResult<Json<UserView>> {
    let id = parse_id(&id)?;
    Ok(Json(member_user_view(
        &state.service.get_user(&by, id).await?,
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
    allow_newsletters: Option<bool>,
    /// Action → key combination (`"ctrl+enter"` or `{"key": "ctrl+enter", "active": true}`).
    #[schema(value_type = Option<Object>)]
    custom_hotkeys: Option<serde_json::Value>,
    /// Notification name → on or off.
    #[schema(value_type = Option<Object>)]
    email_notification_settings: Option<serde_json::Value>,
    /// not_started, signup, trial_signup, first_tutorial, in_app_guidance or complete.
    onboarding_state: Option<String>,
    /// Read-only: roster verifies no email, so only false is accepted.
    is_email_verified: Option<bool>,
    /// Read-only: only the account's own is accepted.
    date_joined: Option<String>,
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
        ..ProfilePatch::default()
    };
    let patch = preference_fields!(body).into_patch(patch)?;
    Ok(Json(member_user_view(
        &state.service.update_user(&by, id, patch).await?,
    )))
}

pub(crate) fn parse_id(raw: &str) -> ApiResult<UserId> {
    raw.parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .map(UserId)
        .ok_or_else(|| ApiError::not_found(format!("No user with id {raw}.")))
}

/// The caller's keyboard shortcuts (the SDK's `Hotkeys`).
#[derive(Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HotkeysView {
    /// Action → key combination (`"ctrl+enter"` or `{"key": "ctrl+enter", "active": true}`).
    #[schema(value_type = Object)]
    custom_hotkeys: serde_json::Value,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HotkeysQuery {
    /// Per-project overrides are not kept: roster's shortcuts are the account's.
    project: Option<String>,
}

fn account_hotkeys_only(q: &HotkeysQuery) -> ApiResult<()> {
    match q.project {
        Some(_) => Err(ApiError::invalid(
            "project",
            "roster keeps keyboard shortcuts per account, not per project; leave project out",
        )),
        None => Ok(()),
    }
}

/// The caller's keyboard shortcuts, as kept on their account.
#[utoipa::path(get, path = "/api/current-user/hotkeys", tag = "users", params(HotkeysQuery),
    responses((status = 200, body = HotkeysView), (status = 400), (status = 401)))]
pub async fn hotkeys(
    State(state): State<AppState>,
    Caller(who): Caller,
    QueryParams(q): QueryParams<HotkeysQuery>,
) -> ApiResult<Json<HotkeysView>> {
    account_hotkeys_only(&q)?;
    let view = UserView::of(&state.service.current_user(&who).user);
    Ok(Json(HotkeysView {
        custom_hotkeys: view.custom_hotkeys,
    }))
}

/// Replaces the caller's keyboard shortcuts.
#[utoipa::path(patch, path = "/api/current-user/hotkeys", tag = "users", params(HotkeysQuery),
    request_body = HotkeysView,
    responses((status = 200, body = HotkeysView), (status = 400), (status = 401)))]
pub async fn update_hotkeys(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiContext(ctx): ApiContext,
    QueryParams(q): QueryParams<HotkeysQuery>,
    JsonBody(body): JsonBody<HotkeysView>,
) -> ApiResult<Json<HotkeysView>> {
    account_hotkeys_only(&q)?;
    let patch = ProfilePatch {
        preferences: PreferencesPatch {
            custom_hotkeys: Some(body.custom_hotkeys),
            ..PreferencesPatch::default()
        },
        ..ProfilePatch::default()
    };
    let (me, _) = state
        .service
        .update_current_user(&who, patch, None, &ctx)
        .await?;
    Ok(Json(HotkeysView {
        custom_hotkeys: UserView::of(&me.user).custom_hotkeys,
    }))
}

/// Removes the person from the caller's organization, as deleting their membership does
/// (their work shows as "Deleted User"; their account and other organizations stay).
#[utoipa::path(delete, path = "/api/users/{id}", tag = "users", params(("id" = i64, Path)),
    responses((status = 204), (status = 403), (status = 404), (status = 405, description = "yourself")))]
pub async fn delete_user(
    State(state): State<AppState>,
    InActiveOrg(by): InActiveOrg<Admin>,
    PathParams(id): PathParams<String>,
) -> ApiResult<StatusCode> {
    state.service.delete_member(&by, parse_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `users.create`: the person to add to the caller's organization.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUserBody {
    email: String,
    #[serde(default)]
    first_name: String,
    #[serde(default)]
    last_name: String,
    /// The SDK requires `username`: it is accepted when it is the email (a new account's
    /// username). The SDK's other fields describe the person's own account (password, phone,
    /// preferences, active organization, date joined): an organization's admin never sets
    /// them, so sending one is refused naming it.
    #[schema(value_type = Option<String>)]
    password: Option<serde_json::Value>,
    #[schema(value_type = Option<String>)]
    username: Option<serde_json::Value>,
    #[schema(value_type = Option<String>)]
    phone: Option<serde_json::Value>,
    #[schema(value_type = Option<bool>)]
    allow_newsletters: Option<serde_json::Value>,
    #[schema(value_type = Option<Object>)]
    custom_hotkeys: Option<serde_json::Value>,
    #[schema(value_type = Option<i64>)]
    active_organization: Option<serde_json::Value>,
    #[schema(value_type = Option<String>)]
    date_joined: Option<serde_json::Value>,
}

impl CreateUserBody {
    fn refuse_personal_fields(&self) -> ApiResult<()> {
        let why = "belongs to the person's own account, which they set themselves; send only \
                   email, first_name and last_name";
        crate::error::refuse_sent(&[
            ("password", self.password.is_some(), why),
            (
                "username",
                self.username.as_ref().is_some_and(|u| {
                    !u.as_str()
                        .is_some_and(|u| u.trim().eq_ignore_ascii_case(self.email.trim()))
                }),
                "a new account's username is its email; the person changes it themselves",
            ),
            ("phone", self.phone.is_some(), why),
            ("allow_newsletters", self.allow_newsletters.is_some(), why),
            ("custom_hotkeys", self.custom_hotkeys.is_some(), why),
            (
                "active_organization",
                self.active_organization.is_some(),
                why,
            ),
            ("date_joined", self.date_joined.is_some(), why),
        ])
    }
}

/// Adds a person to the caller's organization with its default role: a new account and
/// membership, or, for an email that already has an account, a personal invite they accept.
/// The answer is the same either way.
#[utoipa::path(post, path = "/api/users", tag = "users", request_body = CreateUserBody,
    responses((status = 201, body = UserView), (status = 400), (status = 403), (status = 409)))]
pub async fn create_user(
    State(state): State<AppState>,
    InActiveOrg(by): InActiveOrg<Admin>,
    JsonBody(body): JsonBody<CreateUserBody>,
) -> ApiResult<(StatusCode, Json<UserView>)> {
    body.refuse_personal_fields()?;
    let new = NewPerson {
        email: body.email,
        first_name: body.first_name,
        last_name: body.last_name,
    };
    let user = state.service.create_user(&by, new).await?;
    Ok((StatusCode::CREATED, Json(UserView::of(&user))))
}
