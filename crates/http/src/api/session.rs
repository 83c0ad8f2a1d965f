//! Signing in and out, signing up through an invite, and setting a password from a one-time
//! link. Each answers an HTML form with a page or redirect, and JSON with JSON.

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, SameSite};
use axum_extra::extract::CookieJar;
use roster_domain::Source;
use roster_service::accounts::NewSession;
use roster_service::invites::{Joined, Joiner};
use roster_service::password_reset::ResetRequest;
use roster_service::ServiceError;
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, ApiResult};
use crate::extract::{
    context, Answer, FormOrJson, QueryParams, RequestParts, Session, CSRF_COOKIE, FORM,
    SESSION_COOKIE,
};
use crate::views::UserView;
use crate::web::message;
use crate::web::sign_in::{forgot_password_form, link_error_page, login_form, set_password_form};
use crate::AppState;

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
    /// The code from the person's authenticator app, when they set one up.
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    next: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SignedIn {
    user: UserView,
    csrf_token: String,
}

/// Signs in with email and password, and `code` from the authenticator app when the account
/// has one (401 without it); a new session id every time.
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
    let code = b.code.as_deref();
    match state
        .service
        .sign_in(&b.email, &b.password, code, &ctx)
        .await
    {
        Ok((user, session)) => {
            crate::activity::signed_in(&parts, &session);
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
            let mut res = login_form(api.status, Some(&api.detail), &b.email, b.next.as_deref());
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
    // The session's CSRF token, when not sent in the X-CSRFToken header.
    #[serde(default)]
    #[allow(dead_code)] // read by `extract::body_csrf`
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
) -> Response {
    let form = crate::extract::media_type(&headers) == FORM;
    let ended = async {
        if crate::extract::foreign_origin(&headers, &state.service.config().public_url) {
            return Err(ApiError::forbidden(
                "This form was sent from another site; open the page here and try again.",
            ));
        }
        // The body's csrf_token was read by `body_csrf`; here it only has to be well-formed.
        if !form && !raw.iter().all(|b| b.is_ascii_whitespace()) {
            crate::extract::parse_json::<LogoutBody>(&raw)?;
        }
        // Without a live session there is nothing to end; the cookies are cleared all the same.
        match Session::check(&parts, &state).await {
            Ok(_) => match jar.get(SESSION_COOKIE) {
                Some(session) => Ok(state.service.sign_out(session.value()).await?),
                None => Ok(()),
            },
            Err(e) if e.status == StatusCode::UNAUTHORIZED => Ok(()),
            Err(e) => Err(e),
        }
    }
    .await;
    if let Err(e) = ended {
        return Answer::of(&parts).refuse(e);
    }
    let jar = without_session(jar);
    if form {
        (jar, Redirect::to("/user/login")).into_response()
    } else {
        (jar, StatusCode::NO_CONTENT).into_response()
    }
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
    #[allow(dead_code)] // read by `extract::body_csrf`
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
pub(crate) enum Via {
    Link(String),
    Invite(String),
}

pub(crate) fn via(q: &SignupQuery) -> ApiResult<Via> {
    match (&q.token, &q.invite) {
        (Some(t), None) if !t.is_empty() => Ok(Via::Link(t.clone())),
        (None, Some(i)) if !i.is_empty() => Ok(Via::Invite(i.clone())),
        _ => Err(ApiError::forbidden(
            "Sign-up needs an invite link; ask an Owner or Administrator for one.",
        )),
    }
}

pub(crate) fn action_of(v: &Via) -> String {
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
        // A signed-in user confirming: their session, with its CSRF token (`Session`).
        let me = match b.confirm {
            Some(_) => Some(Session::check(&parts, &state).await?),
            None => None,
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
            crate::activity::made_by(&parts, joined.user.id, Some(joined.org));
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
        Err(ServiceError::Invalid { message, .. }) if body.form => {
            set_password_form(StatusCode::BAD_REQUEST, &b.token, Some(&message))
        }
        Err(e) if body.form => link_error_page(e),
        Err(e) => ApiError::from(e).into_response(),
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ForgotPasswordBody {
    email: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ResetRequested {
    detail: String,
    /// Whether this server mails links: false means no link was or will be sent, and an
    /// administrator or the operator has to set the password.
    by_mail: bool,
}

/// "Forgot your password?": mails a one-time set-password link (valid for an hour) to the
/// account that uses `email`, unless every organization of the account signs in through
/// single sign-on only. The answer is the same whether or not an account uses the address.
/// Throttled per address and per (email, address); a server without SMTP sends nothing and
/// says whom to ask.
#[utoipa::path(post, path = "/user/forgot-password", tag = "session",
    request_body(content((ForgotPasswordBody = "application/json"), (ForgotPasswordBody = "application/x-www-form-urlencoded"))),
    responses((status = 200, description = "JSON to a JSON request; the page, in words, to a form",
                content((ResetRequested = "application/json"), (String = "text/html"))),
              (status = 400), (status = 403), (status = 429)))]
pub async fn forgot_password(
    State(state): State<AppState>,
    RequestParts(parts): RequestParts,
    body: FormOrJson<ForgotPasswordBody>,
) -> Response {
    let ctx = context(&parts, if body.form { Source::Ui } else { Source::Api });
    let email = body.value.email;
    match state.service.request_password_reset(&email, &ctx).await {
        Ok(outcome) if body.form => match outcome {
            ResetRequest::OnItsWay => message(
                StatusCode::OK,
                "Check your mail",
                outcome.message(),
                Some(("/user/login", "Back to sign in")),
            ),
            ResetRequest::NotByMail => {
                forgot_password_form(StatusCode::OK, None, &email, Some(outcome.message()))
            }
        },
        Ok(outcome) => axum::Json(ResetRequested {
            detail: outcome.message().into(),
            by_mail: outcome == ResetRequest::OnItsWay,
        })
        .into_response(),
        Err(e)
            if body.form
                && matches!(e, ServiceError::Invalid { .. } | ServiceError::Throttled(_)) =>
        {
            let api = ApiError::from(e);
            let mut res = forgot_password_form(api.status, Some(&api.detail), &email, None);
            if let Some(secs) = api.retry_after {
                res.headers_mut().insert(header::RETRY_AFTER, secs.into());
            }
            res
        }
        Err(e) => ApiError::from(e).into_response(),
    }
}
