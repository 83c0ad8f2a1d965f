//! Signing in through an organization's identity provider (SAML 2.0), the browser's side:
//! `/saml/{token}/login` sends the browser to the IdP with an AuthnRequest, the IdP posts its
//! Response to `/saml/{token}/acs`, and `/saml/{token}/link` links an existing account once its
//! owner has signed in with their own password. Every decision is the service's.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use roster_domain::Source;
use roster_service::saml::SamlSignIn;
use serde::Deserialize;

use super::{message, page, PageSession};
use crate::api::session::with_session;
use crate::error::ApiError;
use crate::extract::{context, parse_form, QueryParams, RequestParts, Session};
use crate::AppState;

/// Holds the sealed facts of a sign-in that waits for its account to be linked.
const LINK_COOKIE: &str = "roster_saml_link";

#[derive(Deserialize, Default)]
pub(crate) struct LoginQuery {
    next: Option<String>,
}

/// A refused sign-in, in words, with the way back to the sign-in page.
fn refused(e: impl Into<ApiError>) -> Response {
    let api: ApiError = e.into();
    message(
        api.status,
        "Single sign-on did not work",
        &api.detail,
        Some(("/user/login", "Back to sign-in")),
    )
}

/// Starts signing in through the organization's identity provider (SP-initiated): the
/// browser goes to the IdP with an AuthnRequest; `next` is where to return, on this site only.
#[utoipa::path(get, path = "/saml/{token}/login", tag = "saml", operation_id = "saml_login",
    params(("token" = String, Path, description = "The organization's SAML token"),
           ("next" = Option<String>, Query, description = "a path on this site to open after signing in")),
    responses((status = 303, description = "To the identity provider."), (status = 403, content_type = "text/html", body = String), (status = 404, content_type = "text/html", body = String)))]
pub(crate) async fn login(
    State(state): State<AppState>,
    Path(token): Path<String>,
    QueryParams(q): QueryParams<LoginQuery>,
) -> Response {
    match state
        .service
        .saml_login_redirect(&token, q.next.as_deref())
        .await
    {
        Ok(url) => Redirect::to(&url).into_response(),
        Err(e) => refused(e),
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct AcsForm {
    #[serde(rename = "SAMLResponse")]
    saml_response: String,
    #[serde(rename = "RelayState", default)]
    relay_state: Option<String>,
}

#[derive(Template)]
#[template(path = "saml_link.html")]
struct LinkPage<'a> {
    token: &'a str,
    email: &'a str,
    org_title: &'a str,
    csrf_token: &'a str,
}

/// The assertion consumer service: the identity provider posts its signed Response here
/// (HTTP-POST binding). A valid one signs the person in to the organization and opens the
/// page they asked for; anything else is refused in words and changes nothing. The post
/// comes from the IdP's site by design, so no same-site check applies; the signature is
/// what is trusted.
#[utoipa::path(post, path = "/saml/{token}/acs", tag = "saml",
    params(("token" = String, Path, description = "The organization's SAML token")),
    request_body(content = AcsForm, content_type = "application/x-www-form-urlencoded",
        description = "SAMLResponse (base64) and RelayState, as the identity provider posts them"),
    responses((status = 303, description = "Signed in (a session cookie), or on to link an existing account."),
        (status = 400, content_type = "text/html", body = String), (status = 401, content_type = "text/html", body = String),
        (status = 403, content_type = "text/html", body = String), (status = 404, content_type = "text/html", body = String)))]
pub(crate) async fn acs(
    State(state): State<AppState>,
    RequestParts(parts): RequestParts,
    Path(token): Path<String>,
    jar: CookieJar,
    body: Bytes,
) -> Response {
    let form: AcsForm = match parse_form(&body) {
        Ok(f) => f,
        Err(e) => return refused(e),
    };
    let ctx = context(&parts, Source::Saml);
    match state
        .service
        .saml_acs(
            &token,
            &form.saml_response,
            form.relay_state.as_deref(),
            &ctx,
        )
        .await
    {
        Ok(SamlSignIn::SignedIn { session, go_to }) => {
            crate::activity::signed_in(&parts, &session);
            let jar = with_session(&state, jar, &session).remove(link_cookie(&state, ""));
            (jar, Redirect::to(&go_to)).into_response()
        }
        Ok(SamlSignIn::LinkNeeded { sealed, .. }) => {
            let jar = jar.add(link_cookie(&state, &sealed));
            (jar, Redirect::to(&format!("/saml/{token}/link"))).into_response()
        }
        Err(e) => refused(e),
    }
}

/// The sealed sign-in waiting in this browser to be linked.
fn pending_link(jar: &CookieJar) -> Result<String, ApiError> {
    jar.get(LINK_COOKIE)
        .map(|c| c.value().to_string())
        .ok_or_else(|| {
            ApiError::bad_request(
                "Nothing waits to be linked; sign in through your identity provider again.",
            )
        })
}

fn link_cookie(state: &AppState, value: &str) -> Cookie<'static> {
    Cookie::build((LINK_COOKIE, value.to_string()))
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.web.cookie_secure)
        .path("/saml")
        .max_age(time::Duration::minutes(15))
        .build()
}

#[derive(Template)]
#[template(path = "saml_logout.html")]
struct LogoutPage<'a> {
    csrf_token: Option<&'a str>,
}

/// The logout URL the identity provider is given. roster does not take part in SAML Single
/// Logout (as Label Studio Enterprise does not): the page ends the roster session with a form,
/// since a link that signs people out would let any site sign them out.
#[utoipa::path(get, path = "/saml/{token}/logout", tag = "saml",
    params(("token" = String, Path, description = "The organization's SAML token")),
    responses((status = 200, description = "The page.", content_type = "text/html", body = String)))]
pub(crate) async fn logout_page(
    State(state): State<AppState>,
    RequestParts(parts): RequestParts,
) -> Response {
    let who = Session::check(&parts, &state).await.ok();
    page(
        StatusCode::OK,
        LogoutPage {
            csrf_token: who.as_ref().and_then(|w| w.csrf_token.as_deref()),
        },
    )
}

/// Asks the person to link their existing account to the organization's single sign-on:
/// signed in with their own password, they confirm; otherwise they are sent to sign in first.
#[utoipa::path(get, path = "/saml/{token}/link", tag = "saml",
    params(("token" = String, Path, description = "The organization's SAML token")),
    responses((status = 200, description = "The page.", content_type = "text/html", body = String), (status = 303, description = "To sign in first."), (status = 400, content_type = "text/html", body = String)))]
pub(crate) async fn link_page(
    State(state): State<AppState>,
    Path(token): Path<String>,
    jar: CookieJar,
    PageSession(who): PageSession,
) -> Response {
    let sealed = match pending_link(&jar) {
        Ok(sealed) => sealed,
        Err(e) => return refused(e),
    };
    match state.service.saml_link_preview(&who, &sealed).await {
        Ok((email, org_title)) => page(
            StatusCode::OK,
            LinkPage {
                token: &token,
                email: &email,
                org_title: &org_title,
                csrf_token: who.csrf_token.as_deref().unwrap_or(""),
            },
        ),
        Err(e) => refused(e),
    }
}

/// Links the signed-in person's account to the organization's single sign-on and opens the
/// page the sign-in asked for.
#[utoipa::path(post, path = "/saml/{token}/link", tag = "saml",
    params(("token" = String, Path, description = "The organization's SAML token")),
    responses((status = 303, description = "Linked; on to the page asked for."), (status = 400, content_type = "text/html", body = String), (status = 403, content_type = "text/html", body = String)))]
pub(crate) async fn link(
    State(state): State<AppState>,
    RequestParts(parts): RequestParts,
    jar: CookieJar,
    PageSession(who): PageSession,
) -> Response {
    let sealed = match pending_link(&jar) {
        Ok(sealed) => sealed,
        Err(e) => return refused(e),
    };
    let ctx = context(&parts, Source::Saml);
    match state.service.saml_link(&who, &sealed, &ctx).await {
        Ok(go_to) => {
            let jar = jar.remove(link_cookie(&state, ""));
            (jar, Redirect::to(&go_to)).into_response()
        }
        Err(e) => refused(e),
    }
}
