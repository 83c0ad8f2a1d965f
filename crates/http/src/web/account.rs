//! The person's own account page: changing their password, through the same service call as
//! `PATCH /api/current-user`, and what that does to their other credentials, in words; and
//! their second factor (an authenticator app), through the calls of `/api/current-user/totp`.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Form;
use axum_extra::extract::CookieJar;
use roster_domain::Source;
use roster_service::totp::{TotpEnrollment, TotpState};
use roster_service::users::{PasswordChange, ProfilePatch};
use roster_service::{Authenticated, ServiceError};
use serde::Deserialize;

use super::{chrome_for, page, Chrome, PageSession};
use crate::api::session::with_session;
use crate::api::users::PASSWORD_CHANGED;
use crate::error::ApiError;
use crate::extract::{context, RequestParts};
use crate::AppState;

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage<'a> {
    chrome: Chrome,
    notice: Option<&'a str>,
    error: Option<&'a str>,
    /// "off", "pending" or "on".
    totp: &'static str,
    /// A secret just made, shown this once.
    enrollment: Option<&'a TotpEnrollment>,
}

async fn render(
    state: &AppState,
    who: &Authenticated,
    status: StatusCode,
    notice: Option<&str>,
    error: Option<&str>,
) -> Response {
    render_with(state, who, status, (notice, error), None).await
}

async fn render_with(
    state: &AppState,
    who: &Authenticated,
    status: StatusCode,
    (notice, error): (Option<&str>, Option<&str>),
    enrollment: Option<&TotpEnrollment>,
) -> Response {
    let loaded = async {
        let (chrome, _) = chrome_for(state, who).await?;
        let totp = state.service.totp_state(who).await?;
        Ok::<_, ServiceError>((chrome, totp))
    };
    match loaded.await {
        Ok((chrome, totp)) => page(
            status,
            AccountPage {
                chrome,
                notice,
                error,
                totp: match totp {
                    TotpState::Off => "off",
                    TotpState::Pending => "pending",
                    TotpState::On => "on",
                },
                enrollment,
            },
        ),
        Err(e) => ApiError::from(e).into_response(),
    }
}

pub(crate) async fn account_page(
    State(state): State<AppState>,
    PageSession(who): PageSession,
) -> Response {
    render(&state, &who, StatusCode::OK, None, None).await
}

/// Starts setting up an authenticator app: the page shows the new secret once, with the form
/// that confirms it.
pub(crate) async fn start_totp(
    State(state): State<AppState>,
    PageSession(who): PageSession,
) -> Response {
    match state.service.start_totp(&who).await {
        Ok(e) => render_with(&state, &who, StatusCode::OK, (None, None), Some(&e)).await,
        Err(e) => refused(&state, &who, e).await,
    }
}

#[derive(Deserialize)]
pub(crate) struct CodeForm {
    code: String,
}

/// Confirms the authenticator app with a code from it.
pub(crate) async fn confirm_totp(
    State(state): State<AppState>,
    RequestParts(parts): RequestParts,
    PageSession(who): PageSession,
    Form(form): Form<CodeForm>,
) -> Response {
    let ctx = context(&parts, Source::Ui);
    let outcome = state.service.confirm_totp(&who, &form.code, &ctx).await;
    let done = "Your authenticator app is set up: signing in with your password now also asks \
                for a code from it.";
    answer(&state, &who, outcome, done).await
}

/// Turns the second factor off, with a current code.
pub(crate) async fn disable_totp(
    State(state): State<AppState>,
    RequestParts(parts): RequestParts,
    PageSession(who): PageSession,
    Form(form): Form<CodeForm>,
) -> Response {
    let ctx = context(&parts, Source::Ui);
    let outcome = state.service.disable_totp(&who, &form.code, &ctx).await;
    let done = "Your authenticator app is turned off: signing in needs only your password.";
    answer(&state, &who, outcome, done).await
}

/// The account page after a change: saying it is `done`, or why it was refused.
async fn answer(
    state: &AppState,
    who: &Authenticated,
    outcome: Result<(), ServiceError>,
    done: &str,
) -> Response {
    match outcome {
        Ok(()) => render(state, who, StatusCode::OK, Some(done), None).await,
        Err(e) => refused(state, who, e).await,
    }
}

/// The account page again, saying why a change was refused.
async fn refused(state: &AppState, who: &Authenticated, e: ServiceError) -> Response {
    let api = ApiError::from(e);
    if api.status.is_server_error() {
        return api.into_response();
    }
    render(state, who, api.status, None, Some(&api.detail)).await
}

#[derive(Deserialize)]
pub(crate) struct PasswordForm {
    current_password: String,
    new_password: String,
}

/// Changes the password; the page then says what happened to the other sessions and to the
/// keys and tokens, and this browser continues in a new session.
pub(crate) async fn change_password(
    State(state): State<AppState>,
    RequestParts(parts): RequestParts,
    jar: CookieJar,
    PageSession(who): PageSession,
    Form(form): Form<PasswordForm>,
) -> Response {
    let change = PasswordChange {
        current: Some(&form.current_password),
        new: &form.new_password,
    };
    let ctx = context(&parts, Source::Ui);
    match state
        .service
        .update_current_user(&who, ProfilePatch::default(), Some(change), &ctx)
        .await
    {
        Ok((_, session)) => {
            // This browser continues in its new session, whose CSRF token the page's forms
            // must carry from now on.
            let (jar, who) = match session {
                Some(s) => (
                    with_session(&state, jar, &s),
                    Authenticated {
                        csrf_token: Some(s.csrf_token),
                        ..who
                    },
                ),
                None => (jar, who),
            };
            let page = render(&state, &who, StatusCode::OK, Some(PASSWORD_CHANGED), None).await;
            (jar, page).into_response()
        }
        Err(e @ (ServiceError::Invalid { .. } | ServiceError::Throttled(_))) => {
            let api = ApiError::from(e);
            render(&state, &who, api.status, None, Some(&api.detail)).await
        }
        Err(e) => ApiError::from(e).into_response(),
    }
}
