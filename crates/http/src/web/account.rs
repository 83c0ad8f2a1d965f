//! The person's own account page: changing their password, through the same service call as
//! `PATCH /api/current-user`, and what that does to their other credentials, in words.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Form;
use axum_extra::extract::CookieJar;
use roster_domain::Source;
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
}

async fn render(
    state: &AppState,
    who: &Authenticated,
    status: StatusCode,
    notice: Option<&str>,
    error: Option<&str>,
) -> Response {
    match chrome_for(state, who).await {
        Ok((chrome, _)) => page(
            status,
            AccountPage {
                chrome,
                notice,
                error,
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
        current: &form.current_password,
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
