//! What the Workspaces pages and the project page share: the query they read, pages of a
//! member list, the drop-down of organization members to add (narrowed by a search), the ids
//! a form names, and a refusal shown on the page with its status.

use axum::http::StatusCode;
use axum::response::Response;
use roster_service::members::MemberFilter;
use roster_service::{Authorized, Member, PageRequest, ServiceError, Staff};
use serde::Deserialize;

use super::{html_error, Chrome};
use crate::error::ApiError;
use crate::AppState;

/// Rows per page of a member list.
pub(crate) const PAGE_SIZE: i64 = 50;
/// How many organization members the add drop-down offers at once; a search narrows them.
const CANDIDATES: i64 = 50;

/// What a workspace or project page reads from its address.
#[derive(Deserialize, Default)]
pub(crate) struct PanelQuery {
    pub status: Option<String>,
    pub sig: Option<String>,
    /// The page of the member list.
    pub page: Option<String>,
    /// A search for the organization members to add.
    pub find: Option<String>,
    /// `delete` opens the deletion's confirmation.
    pub confirm: Option<String>,
}

impl PanelQuery {
    pub fn page_no(&self) -> i64 {
        self.page
            .as_deref()
            .and_then(|p| p.trim().parse::<i64>().ok())
            .filter(|p| *p >= 1)
            .unwrap_or(1)
    }

    pub fn find(&self) -> String {
        self.find.as_deref().unwrap_or("").trim().to_string()
    }

    pub fn page_request(&self) -> PageRequest {
        PageRequest {
            page: self.page_no(),
            size: PAGE_SIZE,
        }
    }
}

/// Links to the previous and next pages of a list at `path`, keeping the search.
pub(crate) struct Pager {
    pub page: i64,
    pub pages: i64,
    pub prev_href: Option<String>,
    pub next_href: Option<String>,
}

impl Pager {
    pub fn new(path: &str, q: &PanelQuery, count: i64) -> Pager {
        let page = q.page_no();
        let pages = ((count + PAGE_SIZE - 1) / PAGE_SIZE).max(1);
        let find = q.find();
        let href = |n: i64| {
            let mut s = url::form_urlencoded::Serializer::new(String::new());
            if !find.is_empty() {
                s.append_pair("find", &find);
            }
            s.append_pair("page", &n.to_string());
            format!("{path}?{}", s.finish())
        };
        Pager {
            page,
            pages,
            prev_href: (page > 1).then(|| href(page - 1)),
            next_href: (page < pages).then(|| href(page + 1)),
        }
    }
}

/// The organization members an add form offers: those the filter leaves (not yet in the
/// workspace or project), matching the search.
pub(crate) struct Candidates {
    pub find: String,
    /// (user id, "Name <email> · Role").
    pub options: Vec<(i64, String)>,
    /// How many match in all (more than shown: the search narrows them).
    pub count: i64,
}

impl Candidates {
    pub fn more(&self) -> bool {
        self.count > self.options.len() as i64
    }
}

pub(crate) async fn candidates(
    state: &AppState,
    by: &Authorized<Staff>,
    q: &PanelQuery,
    not_in: MemberFilter,
) -> Result<Candidates, ServiceError> {
    let find = q.find();
    let filter = MemberFilter {
        search: Some(find.clone()).filter(|s| !s.is_empty()),
        ..not_in
    };
    let list = state
        .service
        .list_members(
            by,
            filter,
            PageRequest {
                page: 1,
                size: CANDIDATES,
            },
        )
        .await?;
    Ok(Candidates {
        find,
        options: list
            .items
            .iter()
            .map(|m| {
                let label = format!(
                    "{} <{}> · {}",
                    roster_service::display_name(&m.user),
                    m.user.email,
                    m.membership.role.name()
                );
                (m.user.id.0, label)
            })
            .collect(),
        count: list.count,
    })
}

/// The id a form or an address names (`field` in a refusal).
pub(crate) fn form_id(field: &str, raw: &str) -> Result<i64, ApiError> {
    raw.trim()
        .parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| ApiError::invalid(field, "choose one from the list"))
}

/// A refused change as the page shows it: the reason in words, answered with its status.
pub(crate) struct Refusal {
    pub status: StatusCode,
    pub text: String,
}

impl Refusal {
    pub fn of(e: &ApiError) -> Refusal {
        Refusal {
            status: e.status,
            text: super::in_words(e, field_label),
        }
    }

    /// The status a page is answered with, and the problem it shows (none: 200).
    pub fn answer(refusal: Option<Refusal>) -> (StatusCode, Option<String>) {
        match refusal {
            Some(r) => (r.status, Some(r.text)),
            None => (StatusCode::OK, None),
        }
    }
}

/// A page that cannot be shown: only the reason, with its status.
pub(crate) fn refused_page(chrome: &Chrome, e: impl Into<ApiError>) -> Response {
    let e = e.into();
    html_error(e.status, Some(chrome), &e.detail)
}

/// The id in a page's address; anything else is `missing` (a 404).
pub(crate) fn path_id(raw: &str, missing: &str) -> Result<i64, ApiError> {
    raw.parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| ApiError::not_found(missing))
}

/// How the pages name the fields a refusal names.
fn field_label(field: &str) -> &str {
    match field {
        "title" => "Title",
        "description" => "Description",
        "color" => "Color",
        "user" => "Member",
        "project" => "Project",
        "role" => "Project role",
        "is_archived" => "Archived",
        other => other,
    }
}

/// The caller's proof as one who may manage project members, or None (the page is then
/// read-only); the same level the REST API's member endpoints ask for.
pub(crate) fn staff(by: &Authorized<Member>) -> Option<Authorized<Staff>> {
    by.require::<Staff>().ok()
}
