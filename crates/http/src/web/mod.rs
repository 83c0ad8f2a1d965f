//! The web pages people use to manage their organization: the menu, the Organization page
//! (members, roles, tags, seats, invites, deletion), its SCIM and SAML settings, workspaces
//! with their members and projects, projects with their members and work, and the audit log.
//! Pages are rendered on the server (askama); every action calls the same service as the REST
//! API, recorded with source "ui". Script only adds conveniences (see static/roster.js).

mod account;
mod audit;
mod bulk;
mod faces;
mod home;
mod mapping;
mod member;
mod org;
mod panels;
mod projects;
mod saml;
mod scim;
pub(crate) mod sign_in;
pub(crate) mod sso;
mod workspaces;

use std::marker::PhantomData;

use askama::Template;
use axum::extract::FromRequestParts;
use axum::handler::Handler;
use axum::http::request::Parts;
use axum::http::{header, Method, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post, MethodRouter};
use axum::Router;
use roster_domain::{Access, Source};
use roster_service::{AccessLevel, Authenticated, Authorized, OrgRef, ServiceError};

use crate::error::ApiError;
use crate::extract::{context, Answer, Session};
use crate::AppState;

pub fn routes() -> Router<AppState> {
    pages().router
}

/// Every page and form route as (method, path), so that tests can walk each one (the
/// isolation walk does) without a list of their own to forget a route in.
pub fn page_routes() -> Vec<(&'static str, &'static str)> {
    pages().listed
}

fn pages() -> Pages {
    Pages::default()
        .get("/user/login", sign_in::login_page)
        .post("/user/login/sso", sign_in::sso_sign_in)
        .get("/user/signup", sign_in::signup_page)
        .get("/user/set-password", sign_in::set_password_page)
        .get("/user/forgot-password", sign_in::forgot_password_page)
        .get("/", home::home_page)
        .post("/switch-organization", home::switch_org)
        .get("/account", account::account_page)
        .post("/account/password", account::change_password)
        .post("/account/totp", account::start_totp)
        .post("/account/totp/confirm", account::confirm_totp)
        .post("/account/totp/disable", account::disable_totp)
        .get("/organization", org::organization_page)
        .get("/organization/members/{user_id}", member::member_page)
        .post("/organization/members/bulk", bulk::bulk_members)
        .post("/organization/members/{user_id}/role", org::change_role)
        .post("/organization/members/{user_id}/delete", org::delete_member)
        .post("/organization/members/{user_id}/tags", org::add_member_tag)
        .post(
            "/organization/members/{user_id}/tags/remove",
            org::remove_member_tag,
        )
        .post("/organization/tags", org::create_tag)
        .post("/organization/tags/{tag_id}/delete", org::delete_tag)
        .post("/organization/invite-link/reset", org::reset_link)
        .post("/organization/invites", org::send_invites)
        .post("/organization/sso-only", org::set_sso_only)
        .get("/organization/scim", scim::scim_page)
        .post("/organization/scim/token", scim::create_token)
        .post("/organization/scim/mapping", scim::mapping_form)
        .post("/organization/scim/domains", scim::domain_form)
        .get("/organization/saml", saml::saml_page)
        .post("/organization/saml/idp", saml::idp_form)
        .post("/organization/saml/settings", saml::settings_form)
        .post("/organization/saml/mapping", saml::mapping_form)
        .post("/organization/saml/reset", saml::reset)
        .get("/projects", projects::projects_page)
        .get("/projects/{id}", projects::project_page)
        .post("/projects/{id}/members", projects::add_member)
        .post(
            "/projects/{id}/members/{user_id}/role",
            projects::set_member_role,
        )
        .post(
            "/projects/{id}/members/{user_id}/remove",
            projects::remove_member,
        )
        .get("/workspaces", workspaces::workspaces_page)
        .post("/workspaces", workspaces::create_workspace)
        .get("/workspaces/{id}", workspaces::workspace_page)
        .post("/workspaces/{id}/settings", workspaces::update_settings)
        .post("/workspaces/{id}/archive", workspaces::set_archived)
        .post("/workspaces/{id}/delete", workspaces::delete_workspace)
        .post("/workspaces/{id}/members", workspaces::add_member)
        .post(
            "/workspaces/{id}/members/{user_id}/remove",
            workspaces::remove_member,
        )
        .post("/workspaces/{id}/projects", workspaces::add_project)
        .post(
            "/workspaces/{id}/projects/{project_id}/remove",
            workspaces::remove_project,
        )
        .get("/audit", audit::audit_page)
        .get("/audit.csv", audit::audit_csv)
        .get("/saml/{token}/login", sso::login)
        .get("/saml/{token}/link", sso::link_page)
        .post("/saml/{token}/link", sso::link)
        .get("/saml/{token}/logout", sso::logout_page)
}

/// The page router, recording each route it adds.
#[derive(Default)]
struct Pages {
    router: Router<AppState>,
    listed: Vec<(&'static str, &'static str)>,
}

impl Pages {
    fn add(
        mut self,
        method: &'static str,
        path: &'static str,
        route: MethodRouter<AppState>,
    ) -> Self {
        // A second method on a path merges with the first (axum's `route` does).
        self.router = self.router.route(path, route);
        self.listed.push((method, path));
        self
    }

    fn get<H: Handler<T, AppState>, T: 'static>(self, path: &'static str, handler: H) -> Self {
        self.add("GET", path, get(handler))
    }

    fn post<H: Handler<T, AppState>, T: 'static>(self, path: &'static str, handler: H) -> Self {
        self.add("POST", path, post(handler))
    }
}

/// The assertion consumer service, which identity providers' pages post to from their own
/// site by design: outside `same_site_forms`; the Response's signature is what is trusted.
pub fn cross_site_routes() -> Router<AppState> {
    Router::new().route("/saml/{token}/acs", post(sso::acs))
}

/// What every signed-in page shows around its content: the menu and who is signed in.
#[derive(Clone)]
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
            "Only Owners and Administrators can open the Organization page and its settings."
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

/// A page request by a signed-in person, checked by `Session` (a change carries the CSRF
/// token). Without a live session it redirects to sign-in and back; a refused change is
/// answered with a page (or JSON to the page's script).
pub(crate) struct PageSession(pub Authenticated);

impl FromRequestParts<AppState> for PageSession {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        match Session::check(parts, state).await {
            Ok(who) => Ok(PageSession(who)),
            Err(e) if e.status == StatusCode::UNAUTHORIZED => {
                let next = parts
                    .uri
                    .path_and_query()
                    .map(|p| p.as_str())
                    .unwrap_or("/");
                let next: String = url::form_urlencoded::byte_serialize(next.as_bytes()).collect();
                Err(Redirect::to(&format!("/user/login?next={next}")).into_response())
            }
            Err(e) => Err(Answer::of(parts).refuse(e)),
        }
    }
}

impl<A: AccessLevel + Send + Sync + 'static> FromRequestParts<AppState> for WebUser<A> {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let PageSession(who) = PageSession::from_request_parts(parts, state).await?;
        let (chrome, _) = chrome_for(state, &who)
            .await
            .map_err(|e| ApiError::from(e).into_response())?;
        match state
            .service
            .authorize::<A>(&who, OrgRef::Active, context(parts, Source::Ui))
            .await
        {
            Ok(proof) => Ok(WebUser {
                proof,
                chrome,
                _a: PhantomData,
            }),
            // A configurable permission's refusal names the permission.
            Err(ServiceError::Denied(d @ roster_domain::policy::Denied::NotGranted(..))) => Err(
                html_error(StatusCode::FORBIDDEN, Some(&chrome), &format!("{d}.")),
            ),
            Err(ServiceError::Denied(_)) => Err(html_error(
                StatusCode::FORBIDDEN,
                Some(&chrome),
                who_may(A::ACCESS),
            )),
            // A refusal with its own reason (single sign-on only) says it.
            Err(ServiceError::Forbidden(m)) => {
                Err(html_error(StatusCode::FORBIDDEN, Some(&chrome), &m))
            }
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
        is_admin: me.may_in_active_org(Access::Admin),
        csrf_token: who.csrf_token.clone().unwrap_or_default(),
    };
    Ok((chrome, me))
}

/// A cookie-authenticated form posted from another site's page is refused before it is read
/// (its CSRF token would fail too; this answers sooner and says why).
pub(crate) async fn same_site_forms(
    axum::extract::State(state): axum::extract::State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    if req.method() == Method::POST
        && crate::extract::foreign_origin(req.headers(), &state.service.config().public_url)
    {
        return problem_page(
            StatusCode::FORBIDDEN,
            "This form was sent from another site; open the page here and try again.",
        );
    }
    next.run(req).await
}

pub(crate) fn page(status: StatusCode, t: impl Template) -> Response {
    match t.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error.")
                .into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "message.html")]
pub(crate) struct MessagePage<'a> {
    pub heading: &'a str,
    pub text: &'a str,
    pub link: Option<(&'a str, &'a str)>,
}

/// A page with a heading, a text and an optional link onward.
pub(crate) fn message(
    status: StatusCode,
    heading: &str,
    text: &str,
    link: Option<(&str, &str)>,
) -> Response {
    page(
        status,
        MessagePage {
            heading,
            text,
            link,
        },
    )
}

/// A refused request from a page: the reason on a page of its own, with a way back.
pub(crate) fn problem_page(status: StatusCode, text: &str) -> Response {
    message(
        status,
        "This request was refused",
        text,
        Some(("/", "Home")),
    )
}

/// Whether the caller wants JSON (the page's script) rather than a page.
pub(crate) fn wants_json(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("application/json"))
}

/// Dates as the pages show them.
/// A refusal in words, as a settings page shows it: each field the service names, by the
/// page's `label` for it, with its message.
pub(crate) fn in_words(e: &ApiError, label: for<'a> fn(&'a str) -> &'a str) -> String {
    match &e.validation_errors {
        Some(fields) if !fields.is_empty() => fields
            .iter()
            .flat_map(|(f, ms)| ms.iter().map(move |m| format!("{}: {m}", label(f))))
            .collect::<Vec<_>>()
            .join(" "),
        _ => e.detail.clone(),
    }
}

/// A switch a form sends as "on" or "off".
pub(crate) fn on_off(raw: &str) -> Option<bool> {
    match raw.trim() {
        "on" => Some(true),
        "off" => Some(false),
        _ => None,
    }
}

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
