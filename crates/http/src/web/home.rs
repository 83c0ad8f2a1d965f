//! The start page: the caller's organizations, a way to switch between them, why they cannot
//! work yet when they are pending or deactivated, and for Owners and Administrators how many
//! people are waiting for a role.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use roster_domain::{OrgId, Role};
use roster_service::members::MemberFilter;
use roster_service::users::ProfilePatch;
use roster_service::{OrgRef, PageRequest, Staff};
use serde::Deserialize;

use super::{back_with, chrome_for, page, Chrome, PageSession};
use crate::error::ApiError;
use crate::extract::{context, PageForm, RequestParts};
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

pub(crate) async fn home_page(
    State(state): State<AppState>,
    PageSession(who): PageSession,
    RequestParts(parts): RequestParts,
) -> Response {
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
                context(&parts, roster_domain::Source::Ui),
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

/// Makes another of the caller's organizations the active one (open to every signed-in
/// person, whatever their role: a deactivated member switches away this way).
pub(crate) async fn switch_org(
    State(state): State<AppState>,
    RequestParts(parts): RequestParts,
    PageSession(who): PageSession,
    PageForm(form): PageForm<SwitchForm>,
) -> Response {
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
