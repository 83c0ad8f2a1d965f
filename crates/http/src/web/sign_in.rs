//! The pages with the forms that sign people in, sign them up through an invite and set a
//! password from a one-time link. The forms post to the handlers in `api/session.rs`, which
//! answer a form with these pages (or a redirect) and JSON with JSON.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use roster_service::password_reset::ResetRequest;
use roster_service::ServiceError;
use serde::Deserialize;

use super::{message, page};
use crate::api::session::{action_of, safe_next, via, SignupQuery};
use crate::error::ApiError;
use crate::extract::{PageForm, QueryParams, RequestParts, Session};
use crate::AppState;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage<'a> {
    error: Option<&'a str>,
    email: &'a str,
    next: &'a str,
}

/// The page between "Sign in with SSO" and the identity provider. It moves on by itself
/// (a refresh, not a redirect: a form's redirect to another site is refused by the pages'
/// `form-action 'self'` policy) and offers a link in case it does not.
#[derive(Template)]
#[template(path = "sso_continue.html")]
struct SsoContinuePage<'a> {
    go_to: &'a str,
}

#[derive(Template)]
#[template(path = "signup.html")]
struct SignupPage<'a> {
    org_title: &'a str,
    action: &'a str,
    error: Option<&'a str>,
    email: &'a str,
    fixed_email: Option<&'a str>,
    signed_in_as: Option<&'a str>,
    csrf_token: &'a str,
}

#[derive(Template)]
#[template(path = "set_password.html")]
struct SetPasswordPage<'a> {
    token: &'a str,
    error: Option<&'a str>,
}

/// "Forgot your password?": the form that asks for a link by mail, or, on a server that sends
/// no mail or once a request is made, what happens now.
#[derive(Template)]
#[template(path = "forgot_password.html")]
struct ForgotPasswordPage<'a> {
    error: Option<&'a str>,
    email: &'a str,
    notice: Option<&'a str>,
}

/// The "forgot your password" page: its form (with what went wrong, if anything) while this
/// server mails links, or `notice` in its place.
pub(crate) fn forgot_password_form(
    status: StatusCode,
    error: Option<&str>,
    email: &str,
    notice: Option<&str>,
) -> Response {
    page(
        status,
        ForgotPasswordPage {
            error,
            email,
            notice,
        },
    )
}

/// The sign-in form, with what went wrong last time if anything.
pub(crate) fn login_form(
    status: StatusCode,
    error: Option<&str>,
    email: &str,
    next: Option<&str>,
) -> Response {
    page(
        status,
        LoginPage {
            error,
            email,
            next: &safe_next(next),
        },
    )
}

/// The form that sets a password from a one-time link.
pub(crate) fn set_password_form(status: StatusCode, token: &str, error: Option<&str>) -> Response {
    page(status, SetPasswordPage { token, error })
}

/// An invite or password link that does not work, on a page with a way to sign in.
pub(crate) fn link_error_page(e: ServiceError) -> Response {
    let api = ApiError::from(e);
    message(
        api.status,
        "This link does not work",
        &api.detail,
        Some(("/user/login", "Sign in")),
    )
}

#[derive(Deserialize, Default)]
pub(crate) struct NextParam {
    next: Option<String>,
}

/// The sign-in page.
#[utoipa::path(get, path = "/user/login", tag = "pages", params(("next" = Option<String>, Query, description = "where to go after signing in")),
    responses((status = 200, description = "The page.", content_type = "text/html", body = String), (status = 400, content_type = "text/html", body = String)))]
pub(crate) async fn login_page(QueryParams(q): QueryParams<NextParam>) -> Response {
    login_form(StatusCode::OK, None, "", q.next.as_deref())
}

/// "Sign in with SSO" on the sign-in form: only the email is read.
#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct SsoSignIn {
    #[serde(default)]
    email: String,
    /// Where to go after signing in (a path on this site).
    #[serde(default)]
    next: Option<String>,
}

/// "Sign in with SSO": on to the identity provider of the organization that signs in people
/// with the email's domain (listed in its SAML settings and verified for it); otherwise the
/// sign-in form again, saying so.
#[utoipa::path(post, path = "/user/login/sso", tag = "pages",
    request_body(content = SsoSignIn, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "A page that moves on to the identity provider.", content_type = "text/html", body = String),
              (status = 400, content_type = "text/html", body = String),
              (status = 403, content_type = "text/html", body = String),
              (status = 404, description = "No organization signs in this email's domain through SSO.", content_type = "text/html", body = String)))]
pub(crate) async fn sso_sign_in(
    State(state): State<AppState>,
    PageForm(form): PageForm<SsoSignIn>,
) -> Response {
    match state
        .service
        .saml_login_for_email(&form.email, form.next.as_deref())
        .await
    {
        Ok(path) => page(StatusCode::OK, SsoContinuePage { go_to: &path }),
        Err(e) => {
            let e = ApiError::from(e);
            login_form(e.status, Some(&e.detail), &form.email, form.next.as_deref())
        }
    }
}

/// The sign-up page. Opening it changes nothing, whoever opens it; a signed-in visitor is
/// offered to join with their account (a form carrying their session's CSRF token).
#[utoipa::path(get, path = "/user/signup", tag = "pages",
    params(("token" = Option<String>, Query, description = "the organization's invite-link token"),
           ("invite" = Option<String>, Query, description = "a personal invite's token")),
    responses((status = 200, description = "The page.", content_type = "text/html", body = String), (status = 400, content_type = "text/html", body = String), (status = 403, content_type = "text/html", body = String), (status = 404, content_type = "text/html", body = String), (status = 409, content_type = "text/html", body = String), (status = 410, content_type = "text/html", body = String)))]
pub(crate) async fn signup_page(
    State(state): State<AppState>,
    RequestParts(parts): RequestParts,
    QueryParams(q): QueryParams<SignupQuery>,
) -> Response {
    let v = match via(&q) {
        Ok(v) => v,
        Err(e) => {
            return message(
                e.status,
                "Invite needed",
                &e.detail,
                Some(("/user/login", "Sign in")),
            )
        }
    };
    let (title, fixed_email) = match &v {
        crate::api::session::Via::Link(t) => match state.service.org_for_link(t).await {
            Ok(o) => (o.title, None),
            Err(e) => return link_error_page(e),
        },
        crate::api::session::Via::Invite(i) => match state.service.pending_invite(i).await {
            Ok(inv) => match state.service.org_title(inv.org).await {
                Ok(t) => (t, Some(inv.email)),
                Err(e) => return link_error_page(e),
            },
            Err(e) => return link_error_page(e),
        },
    };
    // Anyone may open the page; a visitor who is signed in is offered to join as themselves.
    let me = Session::check(&parts, &state).await.ok();
    let action = action_of(&v);
    page(
        StatusCode::OK,
        SignupPage {
            org_title: &title,
            action: &action,
            error: None,
            email: fixed_email.as_deref().unwrap_or(""),
            fixed_email: fixed_email.as_deref(),
            signed_in_as: me.as_ref().map(|w| w.user.email.as_str()),
            csrf_token: me
                .as_ref()
                .and_then(|w| w.csrf_token.as_deref())
                .unwrap_or(""),
        },
    )
}

#[derive(Deserialize, Default)]
pub(crate) struct TokenQuery {
    token: Option<String>,
}

/// The page that sets a password from a one-time link.
#[utoipa::path(get, path = "/user/set-password", tag = "pages", params(("token" = Option<String>, Query)),
    responses((status = 200, description = "The page.", content_type = "text/html", body = String), (status = 400, content_type = "text/html", body = String), (status = 403, content_type = "text/html", body = String), (status = 404, content_type = "text/html", body = String), (status = 409, content_type = "text/html", body = String), (status = 410, content_type = "text/html", body = String)))]
pub(crate) async fn set_password_page(
    State(state): State<AppState>,
    QueryParams(q): QueryParams<TokenQuery>,
) -> Response {
    let token = q.token.unwrap_or_default();
    match state.service.password_link_valid(&token).await {
        Ok(true) => set_password_form(StatusCode::OK, &token, None),
        Ok(false) => message(
            StatusCode::NOT_FOUND,
            "Link expired",
            "This link has expired or was already used; ask for a new one.",
            Some(("/user/forgot-password", "Ask for a new link")),
        ),
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// The page that asks for a set-password link by mail. A server that sends no mail says whom
/// to ask instead, without a form.
#[utoipa::path(get, path = "/user/forgot-password", tag = "pages",
    responses((status = 200, description = "The page.", content_type = "text/html", body = String)))]
pub(crate) async fn forgot_password_page(State(state): State<AppState>) -> Response {
    let notice =
        (!state.service.mails_password_links()).then_some(ResetRequest::NotByMail.message());
    forgot_password_form(StatusCode::OK, None, "", notice)
}
