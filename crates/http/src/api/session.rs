//! Signing in and out, signing up through an invite, and setting a password from a one-time
//! link. Each answers an HTML form with a page or redirect, and JSON with JSON.

use askama::Template;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, SameSite};
use axum_extra::extract::CookieJar;
use roster_domain::Source;
use roster_service::accounts::NewSession;
use roster_service::invites::{Joined, Joiner};
use roster_service::{Authenticated, ServiceError};
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, ApiResult};
use crate::extract::{authenticate, context, FormOrJson, QueryParams, CSRF_COOKIE, SESSION_COOKIE};
use crate::views::UserView;
use crate::AppState;

/// The media type of HTML form posts.
pub(crate) const FORM: &str = "application/x-www-form-urlencoded";

/// The request's parts, for handlers that read credentials themselves.
pub struct RequestParts(pub Parts);

impl<S: Send + Sync> FromRequestParts<S> for RequestParts {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(RequestParts(parts.clone()))
    }
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage<'a> {
    error: Option<&'a str>,
    email: &'a str,
    next: &'a str,
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

#[derive(Template)]
#[template(path = "message.html")]
pub(crate) struct MessagePage<'a> {
    pub heading: &'a str,
    pub text: &'a str,
    pub link: Option<(&'a str, &'a str)>,
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

fn message(status: StatusCode, heading: &str, text: &str, link: Option<(&str, &str)>) -> Response {
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

/// Sets the session cookie (HttpOnly) and the CSRF cookie (readable by the page's script).
pub(crate) fn with_session(state: &AppState, jar: CookieJar, s: &NewSession) -> CookieJar {
    let secure = state.web.cookie_secure;
    let max_age =
        time_secs((s.expires_at - chrono::Utc::now().timestamp_micros()).max(0) / 1_000_000);
    let session = Cookie::build((SESSION_COOKIE, s.id.clone()))
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .path("/")
        .max_age(max_age);
    let csrf = Cookie::build((CSRF_COOKIE, s.csrf_token.clone()))
        .same_site(SameSite::Lax)
        .secure(secure)
        .path("/")
        .max_age(max_age);
    jar.add(session).add(csrf)
}

fn time_secs(secs: i64) -> time::Duration {
    time::Duration::seconds(secs)
}

fn without_session(jar: CookieJar) -> CookieJar {
    jar.remove(Cookie::build(SESSION_COOKIE).path("/"))
        .remove(Cookie::build(CSRF_COOKIE).path("/"))
}

/// Only paths on this site may be redirect targets, so a link cannot send people elsewhere.
/// The target is resolved the way a browser would (the URL standard drops tabs and newlines,
/// reads `\\` as `/`, treats `//host` as another site), against a fixed base; it is kept only
/// if that leaves the origin unchanged, and then as the resolved path, which holds no control
/// character and is a valid `Location`.
pub(crate) fn safe_next(next: Option<&str>) -> String {
    const BASE: &str = "http://roster.invalid/";
    let base = url::Url::parse(BASE).expect("a valid base");
    next.filter(|n| n.starts_with('/'))
        .and_then(|n| base.join(n).ok())
        .filter(|u| u.origin() == base.origin())
        .map(|u| u[url::Position::BeforePath..].to_string())
        .filter(|p| p.starts_with('/') && !p.starts_with("//") && !p.chars().any(char::is_control))
        .unwrap_or_else(|| "/".to_string())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    email: String,
    password: String,
    #[serde(default)]
    next: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SignedIn {
    user: UserView,
    csrf_token: String,
}

#[derive(Deserialize, Default)]
pub struct NextParam {
    next: Option<String>,
}

/// The sign-in page.
#[utoipa::path(get, path = "/user/login", tag = "pages", params(("next" = Option<String>, Query, description = "where to go after signing in")),
    responses((status = 200, description = "The page.", content_type = "text/html", body = String), (status = 400, content_type = "text/html", body = String)))]
pub async fn login_page(QueryParams(q): QueryParams<NextParam>) -> Response {
    page(
        StatusCode::OK,
        LoginPage {
            error: None,
            email: "",
            next: &safe_next(q.next.as_deref()),
        },
    )
}

/// Signs in with email and password; a new session id every time.
#[utoipa::path(post, path = "/user/login", tag = "session",
    request_body(content((LoginBody = "application/json"), (LoginBody = "application/x-www-form-urlencoded"))),
    responses((status = 200, body = SignedIn), (status = 400), (status = 401), (status = 429)))]
pub async fn login(
    State(state): State<AppState>,
    RequestParts(parts): RequestParts,
    jar: CookieJar,
    body: FormOrJson<LoginBody>,
) -> Response {
    let ctx = context(&parts, if body.form { Source::Ui } else { Source::Api });
    let b = body.value;
    match state.service.sign_in(&b.email, &b.password, &ctx).await {
        Ok((user, session)) => {
            let jar = with_session(&state, jar, &session);
            if body.form {
                (jar, Redirect::to(&safe_next(b.next.as_deref()))).into_response()
            } else {
                (
                    jar,
                    axum::Json(SignedIn {
                        user: UserView::of(&user),
                        csrf_token: session.csrf_token,
                    }),
                )
                    .into_response()
            }
        }
        Err(e)
            if body.form
                && matches!(
                    e,
                    ServiceError::Unauthenticated(_)
                        | ServiceError::Throttled(_)
                        | ServiceError::Busy(_)
                ) =>
        {
            let api = ApiError::from(e);
            let mut res = page(
                api.status,
                LoginPage {
                    error: Some(&api.detail),
                    email: &b.email,
                    next: &safe_next(b.next.as_deref()),
                },
            );
            if let Some(secs) = api.retry_after {
                res.headers_mut().insert(header::RETRY_AFTER, secs.into());
            }
            res
        }
        Err(e) => ApiError::from(e).into_response(),
    }
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
pub struct LogoutBody {
    #[serde(default)]
    csrf_token: Option<String>,
}

/// Ends the session. Needs the CSRF token (header or form field) when a session is present.
#[utoipa::path(post, path = "/user/logout", tag = "session", request_body = Option<LogoutBody>,
    responses((status = 204), (status = 400), (status = 403)))]
pub async fn logout(
    State(state): State<AppState>,
    RequestParts(parts): RequestParts,
    jar: CookieJar,
    headers: HeaderMap,
    raw: axum::body::Bytes,
) -> ApiResult<Response> {
    let form = crate::extract::media_type(&headers) == FORM;
    if crate::extract::foreign_origin(&headers, &state.service.config().public_url) {
        return Err(ApiError::forbidden(
            "This form was sent from another site; open the page here and try again.",
        ));
    }
    let body: Option<LogoutBody> = if form {
        serde_urlencoded::from_bytes(&raw).ok()
    } else if raw.iter().all(|b| b.is_ascii_whitespace()) {
        None
    } else {
        Some(crate::extract::parse_json(&raw)?)
    };
    if let Some(session) = jar.get(SESSION_COOKIE).map(|c| c.value().to_string()) {
        if let Ok(who) = state.service.authenticate_session(&session).await {
            let sent = headers
                .get(crate::extract::CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
                .or_else(|| body.and_then(|b| b.csrf_token));
            if sent.is_none() || sent != who.csrf_token {
                return Err(ApiError::forbidden("CSRF token missing or incorrect."));
            }
            state.service.sign_out(&session).await?;
        }
    }
    let _ = parts;
    let jar = without_session(jar);
    Ok(if form {
        (jar, Redirect::to("/user/login")).into_response()
    } else {
        (jar, StatusCode::NO_CONTENT).into_response()
    })
}

#[derive(Deserialize, Default)]
pub struct SignupQuery {
    token: Option<String>,
    invite: Option<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignupBody {
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    first_name: Option<String>,
    #[serde(default)]
    last_name: Option<String>,
    /// A signed-in user confirming that they mean to join (form only, with `csrf_token`).
    #[serde(default)]
    confirm: Option<String>,
    #[serde(default)]
    csrf_token: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SignedUp {
    user: UserView,
    organization: i64,
    role: String,
    csrf_token: Option<String>,
}

/// Which invitation a sign-up goes through.
enum Via {
    Link(String),
    Invite(String),
}

fn via(q: &SignupQuery) -> ApiResult<Via> {
    match (&q.token, &q.invite) {
        (Some(t), None) if !t.is_empty() => Ok(Via::Link(t.clone())),
        (None, Some(i)) if !i.is_empty() => Ok(Via::Invite(i.clone())),
        _ => Err(ApiError::forbidden(
            "Sign-up needs an invite link; ask an Owner or Administrator for one.",
        )),
    }
}

fn action_of(v: &Via) -> String {
    match v {
        Via::Link(t) => format!(
            "/user/signup/?token={}",
            url::form_urlencoded::byte_serialize(t.as_bytes()).collect::<String>()
        ),
        Via::Invite(i) => format!(
            "/user/signup/?invite={}",
            url::form_urlencoded::byte_serialize(i.as_bytes()).collect::<String>()
        ),
    }
}

async fn signed_in(state: &AppState, parts: &Parts) -> Option<Authenticated> {
    let jar = CookieJar::from_headers(&parts.headers);
    let id = jar.get(SESSION_COOKIE)?.value().to_string();
    state.service.authenticate_session(&id).await.ok()
}

/// The sign-up page. Opening it changes nothing, whoever opens it.
#[utoipa::path(get, path = "/user/signup", tag = "pages",
    params(("token" = Option<String>, Query, description = "the organization's invite-link token"),
           ("invite" = Option<String>, Query, description = "a personal invite's token")),
    responses((status = 200, description = "The page.", content_type = "text/html", body = String), (status = 400, content_type = "text/html", body = String), (status = 403, content_type = "text/html", body = String), (status = 404, content_type = "text/html", body = String), (status = 409, content_type = "text/html", body = String), (status = 410, content_type = "text/html", body = String)))]
pub async fn signup_page(
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
        Via::Link(t) => match state.service.org_for_link(t).await {
            Ok(o) => (o.title, None),
            Err(e) => return error_page(e),
        },
        Via::Invite(i) => match state.service.pending_invite(i).await {
            Ok(inv) => match state.service.org_title(inv.org).await {
                Ok(t) => (t, Some(inv.email)),
                Err(e) => return error_page(e),
            },
            Err(e) => return error_page(e),
        },
    };
    let me = signed_in(&state, &parts).await;
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

fn error_page(e: ServiceError) -> Response {
    let api = ApiError::from(e);
    message(
        api.status,
        "This link does not work",
        &api.detail,
        Some(("/user/login", "Sign in")),
    )
}

/// Signs up through the invite link or a personal invite. An existing account joins only with
/// its correct password, or while signed in by confirming (a POST with the CSRF token).
#[utoipa::path(post, path = "/user/signup", tag = "session",
    params(("token" = Option<String>, Query, description = "the organization's invite-link token"),
           ("invite" = Option<String>, Query, description = "a personal invite's token")),
    request_body(content((SignupBody = "application/json"), (SignupBody = "application/x-www-form-urlencoded"))),
    responses((status = 201, body = SignedUp), (status = 400), (status = 401), (status = 403), (status = 409)))]
pub async fn signup(
    State(state): State<AppState>,
    RequestParts(parts): RequestParts,
    jar: CookieJar,
    QueryParams(q): QueryParams<SignupQuery>,
    body: FormOrJson<SignupBody>,
) -> Response {
    let form = body.form;
    let b = body.value;
    let ctx = context(&parts, if form { Source::Ui } else { Source::Api });
    let outcome = async {
        let v = via(&q)?;
        let me = if b.confirm.is_some() {
            let who = authenticate(&parts, &state).await?;
            if b.csrf_token.is_none() || b.csrf_token != who.csrf_token {
                return Err(ApiError::forbidden("CSRF token missing or incorrect."));
            }
            Some(who)
        } else {
            None
        };
        let joiner = match &me {
            Some(who) => Joiner::SignedIn(who),
            None => Joiner::Credentials {
                email: b
                    .email
                    .as_deref()
                    .ok_or_else(|| ApiError::invalid("email", "This field is required."))?,
                password: b
                    .password
                    .as_deref()
                    .ok_or_else(|| ApiError::invalid("password", "This field is required."))?,
                first_name: b.first_name.as_deref().unwrap_or(""),
                last_name: b.last_name.as_deref().unwrap_or(""),
            },
        };
        let joined: Joined = match &v {
            Via::Link(t) => state.service.join_with_link(t, joiner, &ctx).await?,
            Via::Invite(i) => state.service.accept_invite(i, joiner, &ctx).await?,
        };
        let session = if me.is_none() {
            Some(state.service.session_for(&joined.user).await?)
        } else {
            None
        };
        Ok::<_, ApiError>((joined, session))
    }
    .await;
    match outcome {
        Ok((joined, session)) => {
            let jar = match &session {
                Some(s) => with_session(&state, jar, s),
                None => jar,
            };
            if form {
                (jar, Redirect::to("/")).into_response()
            } else {
                let body = SignedUp {
                    user: UserView::of(&joined.user),
                    organization: joined.org.0,
                    role: joined.role.code().into(),
                    csrf_token: session.map(|s| s.csrf_token),
                };
                (StatusCode::CREATED, jar, axum::Json(body)).into_response()
            }
        }
        Err(e) if form => {
            let back = via(&q)
                .map(|v| action_of(&v))
                .unwrap_or_else(|_| "/user/login".into());
            message(
                e.status,
                "Could not join",
                &e.detail,
                Some((&back, "Try again")),
            )
        }
        Err(e) => e.into_response(),
    }
}

#[derive(Deserialize, Default)]
pub struct TokenQuery {
    token: Option<String>,
}

/// The page that sets a password from a one-time link.
#[utoipa::path(get, path = "/user/set-password", tag = "pages", params(("token" = Option<String>, Query)),
    responses((status = 200, description = "The page.", content_type = "text/html", body = String), (status = 400, content_type = "text/html", body = String), (status = 403, content_type = "text/html", body = String), (status = 404, content_type = "text/html", body = String), (status = 409, content_type = "text/html", body = String), (status = 410, content_type = "text/html", body = String)))]
pub async fn set_password_page(
    State(state): State<AppState>,
    QueryParams(q): QueryParams<TokenQuery>,
) -> Response {
    let token = q.token.unwrap_or_default();
    match state.service.password_link_valid(&token).await {
        Ok(true) => page(
            StatusCode::OK,
            SetPasswordPage {
                token: &token,
                error: None,
            },
        ),
        Ok(false) => message(
            StatusCode::NOT_FOUND,
            "Link expired",
            "This link has expired or was already used; ask for a new one.",
            None,
        ),
        Err(e) => ApiError::from(e).into_response(),
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetPasswordBody {
    token: String,
    password: String,
}

/// Sets a password from a one-time link.
#[utoipa::path(post, path = "/user/set-password", tag = "session",
    request_body(content((SetPasswordBody = "application/json"), (SetPasswordBody = "application/x-www-form-urlencoded"))),
    responses((status = 200), (status = 400), (status = 404)))]
pub async fn set_password(
    State(state): State<AppState>,
    RequestParts(parts): RequestParts,
    body: FormOrJson<SetPasswordBody>,
) -> Response {
    let ctx = context(&parts, if body.form { Source::Ui } else { Source::Api });
    let b = body.value;
    match state
        .service
        .set_password_with_link(&b.token, &b.password, &ctx)
        .await
    {
        Ok(_) if body.form => message(
            StatusCode::OK,
            "Password set",
            "Your password is set; you can sign in now.",
            Some(("/user/login", "Sign in")),
        ),
        Ok(_) => axum::Json(serde_json::json!({"detail": "Password set."})).into_response(),
        Err(ServiceError::Invalid { message, .. }) if body.form => page(
            StatusCode::BAD_REQUEST,
            SetPasswordPage {
                token: &b.token,
                error: Some(&message),
            },
        ),
        Err(e) if body.form => error_page(e),
        Err(e) => ApiError::from(e).into_response(),
    }
}
