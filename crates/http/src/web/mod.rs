//! The web pages people use to manage their organization: the menu, the Organization page
//! (members, roles, seats, invites, deletion), projects with their work, and the audit log.
//! Pages are rendered on the server (askama); every action calls the same service as the REST
//! API, recorded with source "ui". Script only adds conveniences (see static/roster.js).

mod account;
mod audit;
mod home;
mod org;
mod projects;

use std::marker::PhantomData;

use askama::Template;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use axum_extra::extract::CookieJar;
use roster_domain::{policy, Access, Source};
use roster_service::{AccessLevel, Authorized, OrgRef, ServiceError};

use crate::api::session::page;
use crate::error::ApiError;
use crate::extract::{context, SESSION_COOKIE};
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home::home_page))
        .route("/switch-organization", post(home::switch_org))
        .route("/account", get(account::account_page))
        .route("/account/password", post(account::change_password))
        .route("/organization", get(org::organization_page))
        .route("/organization/members/{user_id}", get(org::member_page))
        .route(
            "/organization/members/{user_id}/role",
            post(org::change_role),
        )
        .route(
            "/organization/members/{user_id}/delete",
            post(org::delete_member),
        )
        .route("/organization/invite-link/reset", post(org::reset_link))
        .route("/organization/invites", post(org::send_invites))
        .route("/projects", get(projects::projects_page))
        .route("/projects/{id}", get(projects::project_page))
        .route("/audit", get(audit::audit_page))
}

/// What every signed-in page shows around its content: the menu and who is signed in.
pub(crate) struct Chrome {
    pub email: String,
    pub org_title: String,
    pub is_admin: bool,
    pub csrf_token: String,
}

#[derive(Template)]
#[template(path = "forbidden.html")]
struct ForbiddenPage<'a> {
    chrome: &'a Chrome,
    message: &'a str,
}

/// A page request by a signed-in member holding access level `A` in their active
/// organization. Without a session it redirects to sign-in; without the access it answers
/// with a 403 page that says who may open it. Changes must carry the session's CSRF token.
pub(crate) struct WebUser<A> {
    pub proof: Authorized<A>,
    pub chrome: Chrome,
    _a: PhantomData<A>,
}

/// Who may open pages of each access level, in words.
fn who_may(access: Access) -> &'static str {
    match access {
        Access::Admin | Access::Owner => {
            "Only Owners and Administrators can open the Organization page."
        }
        Access::Staff => "Only Owners, Administrators and Managers can open this page.",
        Access::Member => "Only active members of this organization can open this page.",
    }
}

pub(crate) fn html_error(status: StatusCode, chrome: Option<&Chrome>, message: &str) -> Response {
    match chrome {
        Some(chrome) => page(status, ForbiddenPage { chrome, message }),
        None => ApiError::new(status, message).into_response(),
    }
}

impl<A: AccessLevel + Send + Sync + 'static> FromRequestParts<AppState> for WebUser<A> {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let jar = CookieJar::from_headers(&parts.headers);
        let next = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/");
        let to_login = || {
            let next: String = url::form_urlencoded::byte_serialize(next.as_bytes()).collect();
            Redirect::to(&format!("/user/login?next={next}")).into_response()
        };
        let Some(session) = jar.get(SESSION_COOKIE).map(|c| c.value().to_string()) else {
            return Err(to_login());
        };
        let service = &state.service;
        let who = service
            .authenticate_session(&session)
            .await
            .map_err(|_| to_login())?;
        service
            .note_activity(&who.user)
            .await
            .map_err(|e| ApiError::from(e).into_response())?;
        let (chrome, _) = chrome_for(state, &who)
            .await
            .map_err(|e| ApiError::from(e).into_response())?;
        let csrf_token = chrome.csrf_token.clone();
        if parts.method != Method::GET && parts.method != Method::HEAD {
            let sent = parts
                .headers
                .get(crate::extract::CSRF_HEADER)
                .and_then(|v| v.to_str().ok());
            let form_token = parts.extensions.get::<FormCsrf>().map(|f| f.0.as_str());
            if sent.or(form_token) != Some(csrf_token.as_str()) {
                return Err(html_error(
                    StatusCode::FORBIDDEN,
                    Some(&chrome),
                    "This form has expired; reload the page and try again.",
                ));
            }
        }
        match service
            .authorize::<A>(&who, OrgRef::Active, context(parts, Source::Ui))
            .await
        {
            Ok(proof) => Ok(WebUser {
                proof,
                chrome,
                _a: PhantomData,
            }),
            Err(ServiceError::Denied(_) | ServiceError::Forbidden(_)) => Err(html_error(
                StatusCode::FORBIDDEN,
                Some(&chrome),
                who_may(A::ACCESS),
            )),
            Err(ServiceError::NotFound(m)) => {
                Err(html_error(StatusCode::NOT_FOUND, Some(&chrome), &m))
            }
            Err(e) => Err(ApiError::from(e).into_response()),
        }
    }
}

/// The menu and header for a signed-in user, with their memberships.
pub(crate) async fn chrome_for(
    state: &AppState,
    who: &roster_service::Authenticated,
) -> Result<(Chrome, roster_service::users::CurrentUser), ServiceError> {
    let service = &state.service;
    let me = service.current_user(who);
    let active = me
        .memberships
        .iter()
        .find(|m| Some(m.org) == me.user.active_org);
    let org_title = match active {
        Some(m) => service.org_title(m.org).await?,
        None => String::new(),
    };
    let chrome = Chrome {
        email: who.user.email.clone(),
        org_title,
        is_admin: active.is_some_and(|m| policy::check(m.role, Access::Admin).is_ok()),
        csrf_token: who.csrf_token.clone().unwrap_or_default(),
    };
    Ok((chrome, me))
}

/// The CSRF token of a form post, put in the request's extensions by `form_csrf` so the
/// extractor can check it before the handler reads the body.
#[derive(Clone)]
pub(crate) struct FormCsrf(pub String);

/// Reads `csrf_token` from form posts to page routes into the extensions. Bodies are small
/// (the body limit applies), so buffering them here is cheap.
/// A post from another site's page is refused here too (cookie-authenticated forms).
pub(crate) async fn form_csrf(
    axum::extract::State(state): axum::extract::State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    if req.method() == Method::POST
        && crate::extract::foreign_origin(req.headers(), &state.service.config().public_url)
    {
        return crate::api::session::problem_page(
            StatusCode::FORBIDDEN,
            "This form was sent from another site; open the page here and try again.",
        );
    }
    let is_form = crate::extract::media_type(req.headers()) == crate::api::session::FORM;
    if req.method() != Method::POST || !is_form {
        return next.run(req).await;
    }
    let (mut parts, body) = req.into_parts();
    let bytes = match axum::body::to_bytes(body, crate::MAX_BODY_BYTES).await {
        Ok(b) => b,
        Err(_) => {
            return ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "The form is too large.")
                .into_response()
        }
    };
    if let Some((_, v)) = url::form_urlencoded::parse(&bytes).find(|(k, _)| k == "csrf_token") {
        parts.extensions.insert(FormCsrf(v.into_owned()));
    }
    next.run(axum::extract::Request::from_parts(
        parts,
        axum::body::Body::from(bytes),
    ))
    .await
}

/// Whether the caller wants JSON (the page's script) rather than a page.
pub(crate) fn wants_json(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("application/json"))
}

/// Dates as the pages show them.
pub(crate) fn day_time(micros: Option<i64>) -> String {
    micros
        .and_then(chrono::DateTime::from_timestamp_micros)
        .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_else(|| "never".into())
}

/// A redirect back to a page with a message for its status line, tagged with the server's key
/// so that the page shows it (see `status_message`).
pub(crate) fn back_with(state: &AppState, path: &str, message: &str) -> Response {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("status", message)
        .append_pair("sig", &state.service.page_message_tag(message))
        .finish();
    let sep = if path.contains('?') { '&' } else { '?' };
    Redirect::to(&format!("{path}{sep}{query}")).into_response()
}

/// The status line a page shows: only a message this server wrote and tagged in `back_with`.
pub(crate) fn status_message(
    state: &AppState,
    status: Option<&str>,
    sig: Option<&str>,
) -> Option<String> {
    use subtle::ConstantTimeEq;
    let (status, sig) = (status?, sig?);
    let expected = state.service.page_message_tag(status);
    bool::from(expected.as_bytes().ct_eq(sig.as_bytes())).then(|| status.to_string())
}
