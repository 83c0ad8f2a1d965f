//! `POST /api/organizations/{id}/memberships/bulk`: one role for many members, or their
//! deletion, each person decided by the same rules as a single change (see
//! `roster_service::bulk_members`).

use axum::extract::State;
use axum::Json;
use roster_domain::UserId;
use roster_service::bulk_members::{BulkAction, BulkCursor, BulkOutcome, BulkSelection};
use roster_service::Admin;
use serde::{Deserialize, Serialize};

use crate::api::orgs::{member_query, parse_role, MemberFilterParams};
use crate::error::{ApiError, ApiResult};
use crate::extract::{InOrg, JsonBody, QueryParams};
use crate::AppState;

/// The most users a request may list in `included` or `excluded`.
const MAX_LISTED: usize = 100_000;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkBody {
    /// `assign_role` (with `role`: an active role activates or reactivates, `DI` deactivates)
    /// or `delete`.
    #[schema(example = "assign_role")]
    action: String,
    /// The role for `assign_role`: AD, MA, RE, AN, NO or DI (ownership moves one person at a
    /// time).
    #[serde(default)]
    #[schema(example = "AN")]
    role: Option<String>,
    /// Every live member the query's filters match, in the query's `ordering` (less
    /// `excluded`); otherwise only `included`, in the order given.
    #[serde(default)]
    all: bool,
    #[serde(default)]
    included: Vec<i64>,
    #[serde(default)]
    excluded: Vec<i64>,
    /// Go on from where an earlier call with the same selection stopped (its `next`).
    #[serde(default)]
    after: Option<String>,
    /// Stop after this many batches of at most 1,000 people (each its own transaction) and
    /// return `next`; without it the whole selection is worked through.
    #[serde(default)]
    max_batches: Option<usize>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct BulkChangedView {
    user_id: i64,
    email: String,
    /// The role before.
    from: String,
    /// The role after; null when deleted.
    to: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct BulkRefusedView {
    user_id: i64,
    /// Null for a user who is not a live member of the organization.
    email: Option<String>,
    /// Why this person was left as they were, in words.
    reason: String,
}

/// What the call did, in the selection's order.
#[derive(Serialize, utoipa::ToSchema)]
pub struct BulkResult {
    changed: Vec<BulkChangedView>,
    /// Users who already had the role.
    unchanged: Vec<i64>,
    refused: Vec<BulkRefusedView>,
    /// How many batches (transactions) ran.
    batches: usize,
    /// Pass as `after` to go on; null when the selection is done.
    next: Option<String>,
}

impl BulkResult {
    pub(crate) fn of(o: BulkOutcome) -> BulkResult {
        BulkResult {
            changed: o
                .changed
                .into_iter()
                .map(|c| BulkChangedView {
                    user_id: c.user.0,
                    email: c.email,
                    from: c.from.code().to_string(),
                    to: c.to.map(|r| r.code().to_string()),
                })
                .collect(),
            unchanged: o.unchanged.into_iter().map(|u| u.0).collect(),
            refused: o
                .refused
                .into_iter()
                .map(|r| BulkRefusedView {
                    user_id: r.user.0,
                    email: r.email,
                    reason: r.reason,
                })
                .collect(),
            batches: o.batches,
            next: o.next.map(|n| n.encode()),
        }
    }
}

/// Reads the body's action.
pub(crate) fn bulk_action(action: &str, role: Option<&str>) -> ApiResult<BulkAction> {
    match (action.trim(), role) {
        ("assign_role", Some(role)) => Ok(BulkAction::AssignRole(parse_role("role", role)?)),
        ("assign_role", None) => Err(ApiError::invalid("role", "assign_role needs a role")),
        ("delete", None) => Ok(BulkAction::Delete),
        ("delete", Some(_)) => Err(ApiError::invalid("role", "delete takes no role")),
        (other, _) => Err(ApiError::invalid(
            "action",
            format!("\"{other}\" is not an action; use assign_role or delete"),
        )),
    }
}

fn users<C: FromIterator<UserId>>(field: &str, ids: &[i64]) -> ApiResult<C> {
    if ids.len() > MAX_LISTED {
        return Err(ApiError::invalid(
            field,
            format!("lists more than {MAX_LISTED} users; select them with all and a filter"),
        ));
    }
    Ok(ids.iter().map(|i| UserId(*i)).collect())
}

/// Assigns one role to many members, or deletes them (OW, AD). Each person is decided as a
/// single change would be (seats first come first served in the selection's order, the Owner
/// protected, identity-provider-managed roles kept); refusals are listed with their reasons.
/// At most 1,000 people are decided per transaction. The query takes the member list's filters
/// and `ordering`, used with `all`.
#[utoipa::path(post, path = "/api/organizations/{id}/memberships/bulk", tag = "members",
    params(("id" = i64, Path),
           ("role" = Option<String>, Query), ("tags" = Option<String>, Query), ("search" = Option<String>, Query),
           ("ordering" = Option<String>, Query), ("user_type" = Option<String>, Query),
           ("exclude_project_id" = Option<f64>, Query), ("exclude_workspace_id" = Option<f64>, Query),
           ("user__last_activity__gte" = Option<String>, Query), ("user__last_activity__lte" = Option<String>, Query)),
    request_body = BulkBody,
    responses((status = 200, body = BulkResult), (status = 400), (status = 403), (status = 404)))]
pub async fn bulk_members(
    State(state): State<AppState>,
    InOrg(by): InOrg<Admin>,
    QueryParams(q): QueryParams<MemberFilterParams>,
    JsonBody(body): JsonBody<BulkBody>,
) -> ApiResult<Json<BulkResult>> {
    let action = bulk_action(&body.action, body.role.as_deref())?;
    let selection = if body.all {
        BulkSelection::Matching {
            filter: Box::new(member_query(&q)?),
            excluded: users("excluded", &body.excluded)?,
        }
    } else {
        if !body.excluded.is_empty() {
            return Err(ApiError::invalid("excluded", "goes with all"));
        }
        BulkSelection::Listed(users("included", &body.included)?)
    };
    let after = body.after.as_deref().map(BulkCursor::decode).transpose()?;
    if body.max_batches == Some(0) {
        return Err(ApiError::invalid("max_batches", "must be at least 1"));
    }
    let outcome = state
        .service
        .bulk_members(&by, &selection, action, after, body.max_batches)
        .await?;
    Ok(Json(BulkResult::of(outcome)))
}
