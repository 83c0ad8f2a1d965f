//! The Organization page's bulk actions: the ticked members (or all members the list's filter
//! matches) get one role or are deleted, through the same service call as
//! `POST /api/organizations/{id}/memberships/bulk`. The page's script asks for one batch at a
//! time (`max_batches=1`) and shows progress between them; without script the whole selection
//! runs and the page comes back with the summary.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use roster_domain::UserId;
use roster_service::bulk_members::{BulkAction, BulkCursor, BulkOutcome, BulkSelection};
use roster_service::Admin;

use super::org::{back_to, seat_fields, ListFilters};
use super::{back_with, wants_json, WebUser};
use crate::api::member_bulk::BulkResult;
use crate::error::ApiError;
use crate::extract::PageForm;
use crate::AppState;

/// How many refused people a summary names per reason; the script lists them all.
const NAMED_PER_REASON: usize = 5;

/// The form's fields. `users` repeats (one per ticked box), so the form is read as pairs.
struct BulkForm {
    /// `role:XX` or `delete`.
    action: String,
    users: Vec<UserId>,
    all: bool,
    /// The list query the page shows (its filters select the members with `all`).
    back: String,
    after: Option<String>,
    max_batches: Option<usize>,
    /// "delete" when the person confirmed a deletion (the box without script; the dialog with).
    confirmed_delete: bool,
}

fn read_form(pairs: Vec<(String, String)>) -> Result<BulkForm, ApiError> {
    let mut form = BulkForm {
        action: String::new(),
        users: Vec::new(),
        all: false,
        back: String::new(),
        after: None,
        max_batches: None,
        confirmed_delete: false,
    };
    for (k, v) in pairs {
        match k.as_str() {
            "action" => form.action = v,
            "users" => {
                for raw in v.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                    let id = raw.parse::<i64>().map_err(|_| {
                        ApiError::invalid("users", format!("\"{raw}\" is not a user id"))
                    })?;
                    form.users.push(UserId(id));
                }
            }
            "all" => form.all = v == "1" || v == "on" || v == "true",
            "confirm" => form.confirmed_delete = v == "delete",
            "back" => form.back = v,
            "after" if !v.is_empty() => form.after = Some(v),
            "max_batches" if !v.is_empty() => {
                let n = v.parse::<usize>().ok().filter(|n| *n >= 1).ok_or_else(|| {
                    ApiError::invalid("max_batches", "must be a whole number from 1")
                })?;
                form.max_batches = Some(n);
            }
            _ => {}
        }
    }
    Ok(form)
}

fn action_of(raw: &str) -> Result<BulkAction, ApiError> {
    match raw.trim().split_once(':') {
        Some(("role", code)) => crate::api::member_bulk::bulk_action("assign_role", Some(code)),
        None if raw.trim() == "delete" => Ok(BulkAction::Delete),
        _ => Err(ApiError::invalid(
            "action",
            "choose what to do with the selected members",
        )),
    }
}

/// The outcome in words: what was done, then each reason for a refusal with the first people
/// it concerns.
pub(crate) fn summary(action: BulkAction, o: &BulkOutcome) -> String {
    let done = o.changed.len();
    let mut parts = vec![match action {
        BulkAction::AssignRole(role) => format!(
            "{done} member{} now {}",
            if done == 1 { " is" } else { "s are" },
            role.name()
        ),
        BulkAction::Delete => format!(
            "{done} member{} deleted",
            if done == 1 { " was" } else { "s were" }
        ),
    }];
    if !o.unchanged.is_empty() {
        parts.push(format!("{} already had that role", o.unchanged.len()));
    }
    let mut by_reason: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for r in &o.refused {
        by_reason
            .entry(r.reason.as_str())
            .or_default()
            .push(r.email.as_deref().unwrap_or("a former member"));
    }
    for (reason, people) in by_reason {
        let named = people
            .iter()
            .take(NAMED_PER_REASON)
            .copied()
            .collect::<Vec<_>>()
            .join(", ");
        let more = people.len().saturating_sub(NAMED_PER_REASON);
        let more = if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        };
        parts.push(format!(
            "{} refused ({named}{more}): {reason}",
            people.len()
        ));
    }
    parts.join(". ") + "."
}

/// "Apply" under the member list.
pub(crate) async fn bulk_members(
    State(state): State<AppState>,
    web: WebUser<Admin>,
    headers: HeaderMap,
    PageForm(pairs): PageForm<Vec<(String, String)>>,
) -> Response {
    let json = wants_json(&headers);
    let ran = async {
        let form = read_form(pairs)?;
        let action = action_of(&form.action)?;
        // Deleting keeps its confirmation, as a single member's "Delete Member" does.
        if action == BulkAction::Delete && !form.confirmed_delete {
            return Err(ApiError::invalid(
                "confirm",
                "to delete the selected members, tick \"Yes, delete them\" and apply again",
            ));
        }
        let selection = if form.all {
            BulkSelection::Matching {
                filter: Box::new(
                    ListFilters::parse(&form.back).member_filter(state.service.now())?,
                ),
                excluded: Default::default(),
            }
        } else if form.users.is_empty() {
            return Err(ApiError::invalid("users", "select at least one member"));
        } else {
            BulkSelection::Listed(form.users)
        };
        let after = form.after.as_deref().map(BulkCursor::decode).transpose()?;
        let outcome = state
            .service
            .bulk_members(&web.proof, &selection, action, after, form.max_batches)
            .await?;
        Ok::<_, ApiError>((action, outcome, form.back))
    }
    .await;
    match ran {
        Ok((action, outcome, back)) => {
            let message = summary(action, &outcome);
            if json {
                let mut body = serde_json::to_value(BulkResult::of(outcome)).unwrap_or_default();
                body["message"] = message.into();
                seat_fields(&state, &web.proof, &mut body).await;
                Json(body).into_response()
            } else {
                back_with(&state, &back_to(Some(&back), true), &message)
            }
        }
        Err(e) if json => e.into_response(),
        Err(e) => back_with(&state, "/organization", &e.detail),
    }
}
