//! The audit log page.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use roster_domain::AuditAction;
use roster_service::store::audit::AuditQuery;
use roster_service::{Admin, PageRequest};
use serde::Deserialize;

use super::page;
use super::{day_time, Chrome, WebUser};
use crate::error::ApiError;
use crate::extract::QueryParams;
use crate::AppState;

const PAGE_SIZE: i64 = 50;

pub(crate) struct EventRow {
    at: String,
    actor: String,
    action: String,
    target: String,
    change: String,
    source: String,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    chrome: Chrome,
    actions: Vec<(&'static str, &'static str)>,
    count: i64,
    events: Vec<EventRow>,
    page: i64,
    pages: i64,
    prev_href: Option<String>,
    next_href: Option<String>,
}

#[derive(Deserialize, Default)]
pub(crate) struct AuditFilter {
    action: Option<String>,
    page: Option<String>,
}

fn href(action: &str, page: i64) -> String {
    let q: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("action", action)
        .append_pair("page", &page.to_string())
        .finish();
    format!("/audit?{q}")
}

pub(crate) async fn audit_page(
    State(state): State<AppState>,
    web: WebUser<Admin>,
    QueryParams(f): QueryParams<AuditFilter>,
) -> Response {
    let action = f
        .action
        .clone()
        .filter(|a| AuditAction::from_code(a).is_some())
        .unwrap_or_default();
    let page_no = f
        .page
        .as_deref()
        .and_then(|p| p.parse::<i64>().ok())
        .filter(|p| *p >= 1)
        .unwrap_or(1);
    let q = AuditQuery {
        action: Some(action.clone()).filter(|a| !a.is_empty()),
        ..AuditQuery::default()
    };
    let r = match state
        .service
        .audit_log(
            &web.proof,
            &q,
            PageRequest {
                page: page_no,
                size: PAGE_SIZE,
            },
        )
        .await
    {
        Ok(r) => r,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let pages = ((r.count + PAGE_SIZE - 1) / PAGE_SIZE).max(1);
    let who = |name: &str, email: &str| {
        if email.is_empty() {
            "—".to_string()
        } else {
            format!("{name} <{email}>")
        }
    };
    let events = r
        .items
        .iter()
        .map(|e| EventRow {
            at: day_time(Some(e.occurred_at)),
            actor: who(&e.actor_name, &e.actor_email),
            action: e.action.clone(),
            target: who(&e.target_name, &e.target_email),
            change: match (&e.old_value, &e.new_value) {
                (Some(o), Some(n)) => format!("{o} → {n}"),
                (None, Some(n)) => n.clone(),
                (Some(o), None) => format!("{o} → —"),
                (None, None) => String::new(),
            },
            source: e.source.clone(),
        })
        .collect();
    page(
        StatusCode::OK,
        AuditPage {
            actions: AuditAction::ALL
                .into_iter()
                .map(|a| (a.code(), super::org::selected(a.code() == action)))
                .collect(),
            count: r.count,
            events,
            page: page_no,
            pages,
            prev_href: (page_no > 1).then(|| href(&action, page_no - 1)),
            next_href: (page_no < pages).then(|| href(&action, page_no + 1)),
            chrome: web.chrome,
        },
    )
}
