//! The member panel: one person in the organization with their role (the Organization page's
//! drop-down), seat, projects, workspaces, activity and audit history, and deleting them.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use roster_domain::{rules, Role};
use roster_service::store::audit::AuditQuery;
use roster_service::{Admin, PageRequest};
use serde::Deserialize;

use super::audit::{event_row, EventRow};
use super::faces::{when, Face, When};
use super::org::staff_and_target;
use super::{html_error, page, status_message, Chrome, WebUser};
use crate::error::ApiError;
use crate::extract::QueryParams;
use crate::AppState;

/// The newest events the panel shows; the full history is a link to the audit log.
const HISTORY: i64 = 10;

#[derive(Template)]
#[template(path = "member.html")]
struct MemberPage {
    chrome: Chrome,
    status: Option<String>,
    user_id: i64,
    face: Face,
    email: String,
    role_code: &'static str,
    choices: Vec<(&'static str, &'static str, &'static str)>,
    role_source: &'static str,
    seat: &'static str,
    projects: Vec<(i64, String)>,
    workspaces: Vec<(i64, String)>,
    last_activity: When,
    joined: When,
    annotations: i64,
    annotated_projects: i64,
    history: Vec<EventRow>,
    history_count: i64,
    history_href: String,
    confirm: bool,
}

#[derive(Deserialize, Default)]
pub(crate) struct MemberQueryParams {
    confirm: Option<String>,
    status: Option<String>,
    sig: Option<String>,
}

/// The roles the drop-down offers, as the domain says this actor may assign them (the same
/// choices as the member's row on the Organization page).
fn choices(actor: Role, current: Role) -> Vec<(&'static str, &'static str, &'static str)> {
    rules::assignable_roles(actor, current)
        .into_iter()
        .map(|r| (r.code(), r.name(), super::org::selected(r == current)))
        .collect()
}

fn seat(role: Role) -> &'static str {
    if role.takes_seat() {
        "Takes a seat"
    } else {
        "Takes no seat"
    }
}

pub(crate) async fn member_page(
    State(state): State<AppState>,
    web: WebUser<Admin>,
    Path(raw): Path<String>,
    QueryParams(q): QueryParams<MemberQueryParams>,
) -> Response {
    let status = status_message(&state, q.status.as_deref(), q.sig.as_deref());
    let confirm = q.confirm.as_deref() == Some("delete");
    match panel(&state, &web, &raw).await {
        Ok(body) => page(
            StatusCode::OK,
            MemberPage {
                status,
                confirm,
                ..body
            },
        ),
        Err(e) => html_error(e.status, Some(&web.chrome), &e.detail),
    }
}

async fn panel(state: &AppState, web: &WebUser<Admin>, raw: &str) -> Result<MemberPage, ApiError> {
    let (staff, target) = staff_and_target(web, raw)?;
    let service = &state.service;
    let d = service.member_detail(&staff, target).await?;
    let places = service.member_places(&staff, target).await?;
    let history = service
        .audit_log(
            &web.proof,
            &AuditQuery {
                person: Some(target),
                ..AuditQuery::default()
            },
            PageRequest {
                page: 1,
                size: HISTORY,
            },
        )
        .await?;
    let (u, m) = (&d.member.user, &d.member.membership);
    let now = service.now();
    let person: String = url::form_urlencoded::byte_serialize(u.email.as_bytes()).collect();
    Ok(MemberPage {
        chrome: web.chrome.clone(),
        status: None,
        user_id: u.id.0,
        face: Face::of(&u.first_name, &u.last_name, &u.email),
        email: u.email.clone(),
        role_code: m.role.code(),
        choices: choices(web.proof.role(), m.role),
        role_source: role_source_in_words(m.role_source),
        seat: seat(m.role),
        projects: places.projects.into_iter().map(|(p, t)| (p.0, t)).collect(),
        workspaces: places
            .workspaces
            .into_iter()
            .map(|(w, t)| (w.0, t))
            .collect(),
        last_activity: when(now, u.last_activity),
        joined: when(now, Some(m.created_at)),
        annotations: d.annotations_count,
        annotated_projects: d.contributed_projects_count,
        history: history.items.iter().map(|e| event_row(now, e)).collect(),
        history_count: history.count,
        history_href: format!("/audit?person={person}"),
        confirm: false,
    })
}

/// Who set a member's role, as the panel says it.
fn role_source_in_words(source: roster_domain::RoleSource) -> &'static str {
    use roster_domain::RoleSource::*;
    match source {
        Manual => "A person, on a page or at the command line",
        Api => "The REST API",
        Invite => "The invite they joined with",
        Scim => "The identity provider, through SCIM provisioning",
        Saml => "The identity provider, at single sign-on",
    }
}
