//! The audit events (who changed what for whom, in words) at `/api/audit-events/`, for
//! Owners and Administrators. The activity log of requests is `api::activity`.

use axum::extract::State;
use axum::Json;
use chrono::DateTime;
use roster_domain::{AuditAction, UserId};
use roster_service::store::audit::AuditQuery;
use roster_service::store::AuditRecord;
use roster_service::Admin;
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, ApiResult};
use crate::extract::{InActiveOrg, QueryParams};
use crate::paging::{page_view, PageParams, RequestUrl};
use crate::views::{time, PageView};
use crate::AppState;

#[derive(Serialize, utoipa::ToSchema)]
pub struct PersonView {
    id: Option<i64>,
    name: String,
    email: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AuditEventView {
    id: i64,
    organization: i64,
    created_at: String,
    action: String,
    source: String,
    actor: Option<PersonView>,
    target: Option<PersonView>,
    old_value: Option<String>,
    new_value: Option<String>,
    address: Option<String>,
}

fn person(id: Option<UserId>, name: &str, email: &str) -> Option<PersonView> {
    (id.is_some() || !email.is_empty()).then(|| PersonView {
        id: id.map(|u| u.0),
        name: name.into(),
        email: email.into(),
    })
}

impl AuditEventView {
    fn of(r: &AuditRecord) -> AuditEventView {
        AuditEventView {
            id: r.id,
            organization: r.org.0,
            created_at: time(r.occurred_at),
            action: r.action.clone(),
            source: r.source.clone(),
            actor: person(r.actor_user_id, &r.actor_name, &r.actor_email),
            target: person(r.target_user_id, &r.target_name, &r.target_email),
            old_value: r.old_value.clone(),
            new_value: r.new_value.clone(),
            address: r.address.clone(),
        }
    }
}

#[derive(Deserialize, Default)]
pub struct AuditParams {
    #[serde(flatten)]
    page: PageParams,
    actor: Option<String>,
    target: Option<String>,
    action: Option<String>,
    since: Option<String>,
    until: Option<String>,
}

/// A user id; an empty value is refused like any other non-integer (the document says integer).
fn user_param(field: &str, v: Option<&str>) -> ApiResult<Option<UserId>> {
    v.map(|s| {
        s.parse::<i64>()
            .map(UserId)
            .map_err(|_| ApiError::invalid(field, "must be a user id"))
    })
    .transpose()
}

pub(crate) fn time_param(field: &str, v: Option<&str>) -> ApiResult<Option<i64>> {
    v.filter(|s| !s.is_empty())
        .map(|s| {
            DateTime::parse_from_rfc3339(s)
                .map(|t| t.timestamp_micros())
                .map_err(|_| {
                    ApiError::invalid(
                        field,
                        "must be an RFC 3339 time such as 2026-01-31T12:00:00Z",
                    )
                })
        })
        .transpose()
}

/// Audit events, newest first; filter by `actor`, `target` (user ids), `action`, `since`, `until`.
#[utoipa::path(get, path = "/api/audit-events", tag = "audit",
    params(("actor" = Option<i64>, Query), ("target" = Option<i64>, Query), ("action" = Option<String>, Query),
           ("since" = Option<String>, Query), ("until" = Option<String>, Query), ("page" = Option<i64>, Query), ("page_size" = Option<i64>, Query)),
    responses((status = 200, body = PageView<AuditEventView>), (status = 400), (status = 403)))]
pub async fn list_events(
    State(state): State<AppState>,
    InActiveOrg(by): InActiveOrg<Admin>,
    at: RequestUrl,
    QueryParams(p): QueryParams<AuditParams>,
) -> ApiResult<Json<PageView<AuditEventView>>> {
    let page = p.page.resolve(20)?;
    let action = match p.action.as_deref().filter(|a| !a.is_empty()) {
        None => None,
        Some(a) => Some(
            AuditAction::from_code(a)
                .ok_or_else(|| {
                    ApiError::invalid("action", format!("\"{a}\" is not an audit action"))
                })?
                .code()
                .to_string(),
        ),
    };
    let q = AuditQuery {
        actor: user_param("actor", p.actor.as_deref())?,
        target: user_param("target", p.target.as_deref())?,
        action,
        since: time_param("since", p.since.as_deref())?,
        until: time_param("until", p.until.as_deref())?,
        ..AuditQuery::default()
    };
    let r = state.service.audit_log(&by, &q, page).await?;
    Ok(Json(page_view(
        &at,
        page,
        r.count,
        r.items.iter().map(AuditEventView::of).collect(),
    )))
}
