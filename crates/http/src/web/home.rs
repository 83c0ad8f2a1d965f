//! The start page: the caller's organizations, a way to switch between them, why they cannot
//! work yet when they are pending or deactivated, and for Owners and Administrators how many
//! people are waiting for a role.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

use axum_extra::extract::CookieJar;
use roster_domain::{OrgId, Role};
use roster_service::members::MemberFilter;
use roster_service::users::ProfilePatch;
use roster_service::{OrgRef, PageRequest, Staff};
use serde::Deserialize;

use super::{back_with, chrome_for, Chrome, FormCsrf};
use crate::api::session::page;
use crate::error::ApiError;
use crate::extract::{context, PageForm, SESSION_COOKIE};
use crate::AppState;

pub(crate) struct OrgRow {
    id: i64,
    title: String,
    role: &'static str,
    active: bool,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    chrome: Chrome,
    name: String,
    notice: Option<String>,
    pending: i64,
    orgs: Vec<OrgRow>,
}

async fn signed_in(state: &AppState, jar: &CookieJar) -> Option<roster_service::Authenticated> {
    let id = jar.get(SESSION_COOKIE)?.value().to_string();
    state.service.authenticate_session(&id).await.ok()
}

pub(crate) async fn home_page(
    State(state): State<AppState>,
    jar: CookieJar,
    parts: crate::api::session::RequestParts,
) -> Response {
    let Some(who) = signed_in(&state, &jar).await else {
        return Redirect::to("/user/login").into_response();
    };
    let (chrome, me) = match chrome_for(&state, &who).await {
        Ok(x) => x,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let mut orgs = Vec::new();
    let mut notice = None;
    for m in &me.memberships {
        let title = state.service.org_title(m.org).await.unwrap_or_default();
        let active = me.user.active_org == Some(m.org);
        if active && m.role == Role::NotActivated {
            notice = Some(format!(
                "Your account in {title} is awaiting activation: an Owner or Administrator must assign you a role."
            ));
        }
        if active && m.role == Role::Deactivated {
            notice = Some(format!(
                "Your account in {title} has been deactivated; ask an Owner or Administrator."
            ));
        }
        orgs.push(OrgRow {
            id: m.org.0,
            title,
            role: m.role.name(),
            active,
        });
    }
    let mut pending = 0;
    if chrome.is_admin {
        if let Ok(staff) = state
            .service
            .authorize::<Staff>(
                &who,
                OrgRef::Active,
                context(&parts.0, roster_domain::Source::Ui),
            )
            .await
        {
            let q = MemberFilter {
                roles: vec![Role::NotActivated],
                search: None,
                deleted: false,
                ..MemberFilter::default()
            };
            pending = state
                .service
                .list_members(&staff, q, PageRequest { page: 1, size: 1 })
                .await
                .map(|p| p.count)
                .unwrap_or(0);
        }
    }
    let name = roster_service::display_name(&me.user);
    page(
        StatusCode::OK,
        HomePage {
            chrome,
            name,
            notice,
            pending,
            orgs,
        },
    )
}

#[derive(Deserialize)]
pub(crate) struct SwitchForm {
    organization: i64,
}

/// Makes another of the caller's organizations the active one.
pub(crate) async fn switch_org(
    State(state): State<AppState>,
    crate::api::session::RequestParts(parts): crate::api::session::RequestParts,
    jar: CookieJar,
    csrf: Option<axum::Extension<FormCsrf>>,
    PageForm(form): PageForm<SwitchForm>,
) -> Response {
    let Some(who) = signed_in(&state, &jar).await else {
        return Redirect::to("/user/login").into_response();
    };
    if csrf.map(|c| c.0 .0) != who.csrf_token {
        return ApiError::forbidden("This form has expired; reload the page and try again.")
            .into_response();
    }
    let patch = ProfilePatch {
        active_organization: Some(OrgId(form.organization)),
        ..ProfilePatch::default()
    };
    let ctx = crate::extract::context(&parts, roster_domain::Source::Ui);
    match state
        .service
        .update_current_user(&who, patch, None, &ctx)
        .await
    {
        Ok(_) => Redirect::to("/").into_response(),
        Err(e) => back_with(&state, "/", &ApiError::from(e).detail),
    }
}
