//! The audit log page and its CSV export: every change in words ("Ann Lee changed Bo Chen
//! from Annotator to Reviewer"), filtered by who acted, whom it was done to, the action and
//! the dates, with the filters kept in the URL so that pages and the export share them.

use askama::Template;
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{NaiveDate, NaiveTime};
use roster_domain::AuditAction;
use roster_service::audit::describe;
use roster_service::store::audit::AuditQuery;
use roster_service::store::AuditRecord;
use roster_service::{Admin, Authorized, PageRequest};
use serde::Deserialize;

use super::faces::{when, Face, When};
use super::page;
use super::{Chrome, WebUser};
use crate::api::projects::csv_field;
use crate::error::ApiError;
use crate::extract::QueryParams;
use crate::views::time;
use crate::AppState;

const PAGE_SIZE: i64 = 50;
/// Rows the export reads at a time: enough to keep the database busy, little enough that a
/// log of millions streams out without being held in memory.
const EXPORT_BATCH: i64 = 500;

/// An event as a row shows it: when, who acted (their avatar), and what happened in words.
pub(crate) struct EventRow {
    pub when: When,
    pub actor: Face,
    pub sentence: String,
    pub source: &'static str,
    pub address: String,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    chrome: Chrome,
    filters: AuditFilter,
    actions: Vec<(&'static str, &'static str, &'static str)>,
    error: Option<String>,
    count: i64,
    events: Vec<EventRow>,
    page: i64,
    pages: i64,
    prev_href: Option<String>,
    next_href: Option<String>,
    csv_href: String,
}

/// The filters as the form sends them (and as links carry them): people by email, the action
/// by code, dates as YYYY-MM-DD (or full RFC 3339 times, as the API takes them).
#[derive(Deserialize, Default, Clone)]
pub(crate) struct AuditFilter {
    #[serde(default)]
    actor: String,
    #[serde(default)]
    target: String,
    /// Either one: a member's whole history (the member panel links here with it).
    #[serde(default)]
    person: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    page: Option<String>,
}

impl AuditFilter {
    /// The filters as a query string, without the page number.
    fn query(&self) -> String {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("actor", &self.actor),
            ("target", &self.target),
            ("person", &self.person),
            ("action", &self.action),
            ("from", &self.from),
            ("to", &self.to),
        ] {
            if !v.trim().is_empty() {
                q.append_pair(k, v.trim());
            }
        }
        q.finish()
    }

    fn page_href(&self, page: i64) -> String {
        let q = self.query();
        let sep = if q.is_empty() { "" } else { "&" };
        format!("/audit?{q}{sep}page={page}")
    }

    fn page_number(&self) -> Result<i64, ApiError> {
        match self
            .page
            .as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            None => Ok(1),
            Some(p) => p
                .parse::<i64>()
                .ok()
                .filter(|p| *p >= 1)
                .ok_or_else(|| ApiError::invalid("page", "must be a page number from 1")),
        }
    }

    /// The store query these filters ask for; None when a named person has no account, so
    /// that nothing matches (saying so would tell who has an account elsewhere).
    async fn resolve(
        &self,
        state: &AppState,
        by: &Authorized<Admin>,
    ) -> Result<Option<AuditQuery>, ApiError> {
        let action = match self.action.trim() {
            "" => None,
            code => Some(
                AuditAction::from_code(code)
                    .ok_or_else(|| {
                        ApiError::invalid("action", format!("\"{code}\" is not an audit action"))
                    })?
                    .code()
                    .to_string(),
            ),
        };
        let mut q = AuditQuery {
            action,
            since: day_param("from", &self.from, false)?,
            until: day_param("to", &self.to, true)?,
            ..AuditQuery::default()
        };
        for (field, email, slot) in [
            ("actor", &self.actor, &mut q.actor),
            ("target", &self.target, &mut q.target),
            ("person", &self.person, &mut q.person),
        ] {
            if email.trim().is_empty() {
                continue;
            }
            roster_service::accounts::normalize_email(email)
                .map_err(|_| ApiError::invalid(field, "Enter a valid email address."))?;
            match state.service.audit_person(by, email).await? {
                Some(id) => *slot = Some(id),
                None => return Ok(None),
            }
        }
        Ok(Some(q))
    }
}

/// A date filter: a day (YYYY-MM-DD, UTC; "to" includes the whole day) or an RFC 3339 time.
fn day_param(field: &str, raw: &str, end_of_day: bool) -> Result<Option<i64>, ApiError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    if let Ok(day) = NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
        let day = if end_of_day {
            day.succ_opt()
        } else {
            Some(day)
        };
        if let Some(day) = day {
            return Ok(Some(
                day.and_time(NaiveTime::MIN).and_utc().timestamp_micros(),
            ));
        }
    }
    crate::api::audit::time_param(field, Some(raw))
        .map_err(|_| ApiError::invalid(field, "must be a date such as 2026-12-01"))
}

/// Where a change came from, in words.
fn source_name(code: &str) -> &'static str {
    match code {
        "ui" => "Web page",
        "api" => "API",
        "cli" => "Command line",
        "scim" => "SCIM",
        "saml" => "SAML sign-in",
        _ => "Other",
    }
}

/// One event as a page row shows it (the audit page, the member panel's history).
pub(crate) fn event_row(now: i64, e: &AuditRecord) -> EventRow {
    EventRow {
        when: when(now, Some(e.occurred_at)),
        actor: if e.actor_name.is_empty() {
            // Nobody signed in: the identity provider, an operator, or roster itself.
            Face {
                initials: "·".into(),
                name: source_name(&e.source).into(),
                email: None,
            }
        } else {
            Face::recorded(&e.actor_name, &e.actor_email)
        },
        sentence: describe(e),
        source: source_name(&e.source),
        address: e.address.clone().unwrap_or_default(),
    }
}

pub(crate) async fn audit_page(
    State(state): State<AppState>,
    web: WebUser<Admin>,
    QueryParams(f): QueryParams<AuditFilter>,
) -> Response {
    let actions = AuditAction::ALL
        .into_iter()
        .map(|a| {
            (
                a.code(),
                a.label(),
                super::org::selected(a.code() == f.action.trim()),
            )
        })
        .collect();
    let mut body = AuditPage {
        actions,
        error: None,
        count: 0,
        events: Vec::new(),
        page: 1,
        pages: 1,
        prev_href: None,
        next_href: None,
        csv_href: format!("/audit.csv?{}", f.query()),
        filters: f.clone(),
        chrome: web.chrome,
    };
    let found = match f.page_number() {
        Ok(n) => f.resolve(&state, &web.proof).await.map(|q| (n, q)),
        Err(e) => Err(e),
    };
    let (page_no, query) = match found {
        Ok(found) => found,
        Err(e) => {
            body.error = Some(super::in_words(&e, filter_label));
            return page(e.status, body);
        }
    };
    if let Some(q) = query {
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
        let now = state.service.now();
        body.count = r.count;
        body.events = r.items.iter().map(|e| event_row(now, e)).collect();
        body.pages = ((r.count + PAGE_SIZE - 1) / PAGE_SIZE).max(1);
    }
    body.page = page_no;
    body.prev_href = (page_no > 1).then(|| f.page_href(page_no - 1));
    body.next_href = (page_no < body.pages).then(|| f.page_href(page_no + 1));
    page(StatusCode::OK, body)
}

/// The form's label for a field a refusal names.
fn filter_label(field: &str) -> &str {
    match field {
        "actor" => "Done by",
        "target" => "Done to",
        "person" => "Involving",
        "action" => "Action",
        "from" => "From",
        "to" => "To",
        "page" => "Page",
        "email" => "Email",
        other => other,
    }
}

/// Where an export is in the log: at the start (with nothing to read when a named person has
/// no account), below the last row sent, or done.
enum Walk {
    Start(Option<AuditQuery>),
    Next(AuditQuery),
    Done,
}

const CSV_HEADER: &str =
    "time,actor,actor_email,action,description,target,target_email,source,address\r\n";

/// The filtered log as CSV, newest first. It is written batch by batch while it is sent, each
/// batch read below the last one's id, so a log of any length streams in constant memory.
pub(crate) async fn audit_csv(
    State(state): State<AppState>,
    web: WebUser<Admin>,
    QueryParams(f): QueryParams<AuditFilter>,
) -> Response {
    let query = match f.resolve(&state, &web.proof).await {
        Ok(q) => q,
        Err(e) => return e.into_response(),
    };
    let by = web.proof;
    let stream = futures_util::stream::unfold(Walk::Start(query), move |walk| {
        let (state, by) = (state.clone(), by.clone());
        async move {
            let (mut out, mut q) = match walk {
                Walk::Done => return None,
                Walk::Start(None) => return Some((Ok(CSV_HEADER.to_string()), Walk::Done)),
                Walk::Start(Some(q)) => (CSV_HEADER.to_string(), q),
                Walk::Next(q) => (String::new(), q),
            };
            let batch = match state.service.audit_batch(&by, &q, EXPORT_BATCH).await {
                Ok(b) => b,
                Err(e) => {
                    // The headers are sent: a body cut short is how the client learns.
                    tracing::error!(error = %e, "audit export failed");
                    let e = std::io::Error::other("audit export failed");
                    return Some((Err(e), Walk::Done));
                }
            };
            for e in &batch {
                csv_line(&mut out, e);
            }
            let next = match batch.last() {
                Some(last) if batch.len() as i64 == EXPORT_BATCH => {
                    q.before_id = Some(last.id);
                    Walk::Next(q)
                }
                _ => Walk::Done,
            };
            Some((Ok(out), next))
        }
    });
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"audit-log.csv\"",
            ),
        ],
        Body::from_stream(stream),
    )
        .into_response()
}

fn csv_line(out: &mut String, e: &AuditRecord) {
    let fields = [
        time(e.occurred_at),
        e.actor_name.clone(),
        e.actor_email.clone(),
        e.action.clone(),
        describe(e),
        e.target_name.clone(),
        e.target_email.clone(),
        e.source.clone(),
        e.address.clone().unwrap_or_default(),
    ];
    let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
    out.push_str(&line.join(","));
    out.push_str("\r\n");
}
