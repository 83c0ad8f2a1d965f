//! The activity log as Label Studio Enterprise serves it (`GET /api/activity-logs/`, the
//! SDK's `activity_logs.list`) and the session policy (`/api/session-policy/`, the SDK's
//! `session_policy.get/update`), for Owners and Administrators.

use axum::extract::State;
use axum::Json;
use chrono::{NaiveDate, NaiveDateTime};
use roster_domain::people::deleted_user;
use roster_domain::UserId;
use roster_service::activity::{SessionPolicy, SessionPolicyChange};
use roster_service::store::activity::{ActivityOrder, ActivityQuery, ActivityRecord};
use roster_service::{Admin, ReadActivityLog};
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, ApiResult};
use crate::extract::{InActiveOrg, JsonBody, QueryParams};
use crate::paging::PageParams;
use crate::views::time;
use crate::AppState;

/// One recorded request (the SDK's `ActivityLog`). `request_url` is the path alone: query
/// strings are never recorded. `workspace_owner_id` is the id of the workspace the request
/// touched (named by its path, or the workspace of the project it names).
#[derive(Serialize, utoipa::ToSchema)]
pub struct ActivityLogView {
    id: i64,
    datetime: String,
    /// Milliseconds the answer took.
    duration: i64,
    /// The person's email, or "Deleted" once their membership is deleted.
    email: String,
    user_id: i64,
    request_method: String,
    request_url: String,
    response_code: String,
    organization_id: i64,
    project_id: Option<i64>,
    workspace_owner_id: Option<i64>,
    ip_address: Option<String>,
    user_agent: Option<String>,
}

impl ActivityLogView {
    fn of(r: &ActivityRecord) -> ActivityLogView {
        ActivityLogView {
            id: r.id,
            datetime: time(r.occurred_at),
            duration: r.duration_ms,
            email: if r.member_deleted {
                deleted_user::EMAIL.into()
            } else {
                r.email.clone()
            },
            user_id: r.user.0,
            request_method: r.method.clone(),
            request_url: r.path.clone(),
            response_code: r.status.to_string(),
            organization_id: r.org.0,
            project_id: r.project,
            workspace_owner_id: r.workspace,
            ip_address: r.address.clone(),
            user_agent: r.user_agent.clone(),
        }
    }
}

/// One page of the log with its totals (the SDK's `ActivityLogResponse`).
#[derive(Serialize, utoipa::ToSchema)]
pub struct ActivityLogPage {
    data: Vec<ActivityLogView>,
    /// Requests the organization's log holds (within the retention period).
    #[serde(rename = "recordsTotal")]
    records_total: i64,
    /// Requests that match the filters.
    #[serde(rename = "recordsFiltered")]
    records_filtered: i64,
}

#[derive(Deserialize, Default)]
pub struct ActivityParams {
    #[serde(flatten)]
    page: PageParams,
    user: Option<String>,
    project: Option<String>,
    workspace: Option<String>,
    method: Option<String>,
    start_date: Option<String>,
    end_date: Option<String>,
    search: Option<String>,
    ordering: Option<String>,
}

fn id_param(field: &str, v: Option<&str>) -> ApiResult<Option<i64>> {
    v.filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<i64>()
                .map_err(|_| ApiError::invalid(field, "must be a whole number (an id)"))
        })
        .transpose()
}

/// An ISO 8601 time: with an offset, without one (UTC), or a date alone, which for
/// `end_date` means the end of that day.
fn date_param(field: &str, v: Option<&str>, end_of_day: bool) -> ApiResult<Option<i64>> {
    let Some(s) = v.filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Ok(Some(t.timestamp_micros()));
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, format) {
            return Ok(Some(t.and_utc().timestamp_micros()));
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        let day = d.and_hms_opt(0, 0, 0).expect("midnight").and_utc();
        let micros = day.timestamp_micros();
        return Ok(Some(if end_of_day {
            micros + 86_400_000_000 - 1
        } else {
            micros
        }));
    }
    Err(ApiError::invalid(
        field,
        "must be an ISO 8601 date or time such as 2026-01-31 or 2026-01-31T12:00:00Z",
    ))
}

const METHODS: [&str; 5] = ["DELETE", "GET", "PATCH", "POST", "PUT"];

fn method_param(v: Option<&str>) -> ApiResult<Option<String>> {
    match v.filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(m) if m.eq_ignore_ascii_case("all") => Ok(None),
        Some(m) => {
            let upper = m.to_ascii_uppercase();
            METHODS
                .contains(&upper.as_str())
                .then_some(Some(upper))
                .ok_or_else(|| {
                    ApiError::invalid(
                        "method",
                        "must be one of DELETE, GET, PATCH, POST, PUT, all",
                    )
                })
        }
    }
}

const SEARCH_TERMS_MAX: usize = 16;

/// "a AND b OR c": alternatives separated by OR, each a set of terms that must all occur in
/// the URL (AND, or plain spaces, between them); case-insensitive.
fn search_param(v: Option<&str>) -> ApiResult<Vec<Vec<String>>> {
    let Some(s) = v.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(Vec::new());
    };
    let mut any = vec![Vec::new()];
    let mut terms = 0;
    for word in s.split_whitespace() {
        match word {
            "OR" => any.push(Vec::new()),
            "AND" => {}
            w => {
                terms += 1;
                any.last_mut().expect("one group").push(w.to_lowercase());
            }
        }
    }
    if terms > SEARCH_TERMS_MAX {
        return Err(ApiError::invalid(
            "search",
            format!("at most {SEARCH_TERMS_MAX} terms"),
        ));
    }
    if any.iter().any(Vec::is_empty) {
        return Err(ApiError::invalid(
            "search",
            "AND and OR need a term on each side",
        ));
    }
    Ok(any)
}

fn ordering_param(v: Option<&str>) -> ApiResult<(ActivityOrder, bool)> {
    let Some(s) = v.filter(|s| !s.is_empty()) else {
        return Ok((ActivityOrder::Time, true));
    };
    let (descending, name) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let order = match name {
        "datetime" => ActivityOrder::Time,
        "id" => ActivityOrder::Id,
        "duration" => ActivityOrder::Duration,
        "response_code" => ActivityOrder::Status,
        "request_method" => ActivityOrder::Method,
        "request_url" => ActivityOrder::Path,
        "user_id" => ActivityOrder::User,
        "project_id" => ActivityOrder::Project,
        _ => {
            return Err(ApiError::invalid(
                "ordering",
                "must be one of datetime, id, duration, response_code, request_method, \
                 request_url, user_id, project_id, each with an optional leading -",
            ))
        }
    };
    Ok((order, descending))
}

/// The organization's activity log: every request that changed something, and every
/// sign-in, of its members, newest first, kept for the retention period
/// (`ROSTER_ACTIVITY_LOG_RETENTION_DAYS`). One page in Label Studio's shape: a list holding
/// one `{data, recordsTotal, recordsFiltered}`.
#[utoipa::path(get, path = "/api/activity-logs", tag = "activity log",
    params(("user" = Option<i64>, Query, description = "the user's id"),
           ("project" = Option<i64>, Query), ("workspace" = Option<i64>, Query, description = "a workspace id"),
           ("method" = Option<String>, Query, description = "DELETE, GET, PATCH, POST, PUT or all"),
           ("start_date" = Option<String>, Query, description = "ISO 8601 date or time, inclusive"),
           ("end_date" = Option<String>, Query, description = "ISO 8601 date or time, inclusive (a date: to its end)"),
           ("search" = Option<String>, Query, description = "terms the URL contains, joined by AND / OR"),
           ("ordering" = Option<String>, Query, description = "datetime (default -datetime), id, duration, response_code, request_method, request_url, user_id, project_id"),
           ("page" = Option<i64>, Query), ("page_size" = Option<i64>, Query)),
    responses((status = 200, body = Vec<ActivityLogPage>), (status = 400), (status = 401), (status = 403)))]
pub async fn list_activity(
    State(state): State<AppState>,
    InActiveOrg(by): InActiveOrg<ReadActivityLog>,
    QueryParams(p): QueryParams<ActivityParams>,
) -> ApiResult<Json<Vec<ActivityLogPage>>> {
    let page = p.page.resolve(20)?;
    let (order, descending) = ordering_param(p.ordering.as_deref())?;
    let q = ActivityQuery {
        not_before: 0,
        user: id_param("user", p.user.as_deref())?.map(UserId),
        project: id_param("project", p.project.as_deref())?,
        workspace: id_param("workspace", p.workspace.as_deref())?,
        method: method_param(p.method.as_deref())?,
        since: date_param("start_date", p.start_date.as_deref(), false)?,
        until: date_param("end_date", p.end_date.as_deref(), true)?,
        search: search_param(p.search.as_deref())?,
        order,
        descending,
    };
    let r = state.service.activity_log(&by, q, page).await?;
    Ok(Json(vec![ActivityLogPage {
        data: r.items.iter().map(ActivityLogView::of).collect(),
        records_total: r.total,
        records_filtered: r.filtered,
    }]))
}

/// The SDK's `SessionTimeoutPolicy`: limits in minutes.
#[derive(Serialize, utoipa::ToSchema)]
pub struct SessionPolicyView {
    /// Minutes a browser session may last before its person signs in again.
    max_session_age: i64,
    /// Minutes a browser session may go without a request.
    max_time_between_activity: i64,
    /// When the organization first set a policy (null: never; the server's session lifetime
    /// applies).
    created_at: Option<String>,
    updated_at: Option<String>,
}

impl SessionPolicyView {
    fn of(p: SessionPolicy) -> SessionPolicyView {
        SessionPolicyView {
            max_session_age: p.max_session_age,
            max_time_between_activity: p.max_time_between_activity,
            created_at: p.created_at.map(time),
            updated_at: p.updated_at.map(time),
        }
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SessionPolicyBody {
    /// Minutes, from 1 to the server's session lifetime; null: the server's lifetime.
    #[serde(default, deserialize_with = "crate::api::orgs::present")]
    #[schema(value_type = Option<i64>)]
    max_session_age: Option<Option<i64>>,
    /// Minutes, from 1 to the server's session lifetime; null: the server's lifetime.
    #[serde(default, deserialize_with = "crate::api::orgs::present")]
    #[schema(value_type = Option<i64>)]
    max_time_between_activity: Option<Option<i64>>,
}

/// The organization's session policy (Owners and Administrators). Browser sessions only:
/// legacy keys and personal access tokens are not sessions and are not affected.
#[utoipa::path(get, path = "/api/session-policy", tag = "session policy",
    responses((status = 200, body = SessionPolicyView), (status = 401), (status = 403)))]
pub async fn get_session_policy(
    State(state): State<AppState>,
    InActiveOrg(by): InActiveOrg<Admin>,
) -> ApiResult<Json<SessionPolicyView>> {
    let p = state.service.session_policy(&by).await?;
    Ok(Json(SessionPolicyView::of(p)))
}

/// Changes the session policy (Owners and Administrators); every browser session of the
/// organization's members answers to it from its next request. Audited.
#[utoipa::path(patch, path = "/api/session-policy", tag = "session policy",
    request_body = SessionPolicyBody,
    responses((status = 200, body = SessionPolicyView), (status = 400), (status = 401), (status = 403)))]
pub async fn update_session_policy(
    State(state): State<AppState>,
    InActiveOrg(by): InActiveOrg<Admin>,
    JsonBody(b): JsonBody<SessionPolicyBody>,
) -> ApiResult<Json<SessionPolicyView>> {
    let change = SessionPolicyChange {
        max_session_age: b.max_session_age,
        max_time_between_activity: b.max_time_between_activity,
    };
    let p = state.service.update_session_policy(&by, change).await?;
    Ok(Json(SessionPolicyView::of(p)))
}
