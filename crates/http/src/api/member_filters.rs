//! The member list's versioned filter (`members.get_filter_schema`, `members.list_filtered`,
//! `members.search` and the `memberships/filter-options/*` calls of label-studio-sdk 2.1.2).
//! A `filters` payload is read into the member list's own query parameters and answered by
//! the same filter engine, so the list, the filtered list, the search and tag assignment
//! always agree.
//!
//! Payload, version 1: `{"version": 1, "filters": [{"key": K, "value": V}, ...]}` with K one
//! of `role` (list of role codes), `tags` (list of tag ids), `user_type` (list of seat types),
//! `last_activity` (`{"gte": instant, "lte": instant}`, either optional), `membership` (list of
//! `{"kind": "workspace" | "project", "id": n}`), `search` (text) and `is_deleted` (bool).
//! Clauses are joined by AND; the values of one clause by OR.

use axum::extract::State;
use axum::Json;
use roster_domain::{ProjectId, Role, WorkspaceId};
use roster_service::members::MemberFilter;
use roster_service::Staff;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::api::orgs::{member_query, member_views, search_term, MemberFilterParams};
use crate::error::{ApiError, ApiResult};
use crate::extract::{parse_json, InOrg, JsonBody, QueryParams};
use crate::paging::{page_view, PageParams, RequestUrl};
use crate::views::{MemberView, PageView};
use crate::AppState;

/// The filter payload's version roster reads.
const VERSION: i64 = 1;

/// What the filter UI may offer (the SDK's `OrganizationMemberFilterSchema`).
#[derive(Serialize, utoipa::ToSchema)]
pub struct FilterSchemaView {
    version: i64,
    #[schema(value_type = Vec<Object>)]
    filters: Vec<Value>,
}

/// The filter dimensions: each `key` is a clause key of the payload.
#[utoipa::path(get, path = "/api/organizations/{id}/memberships/filter-schema", tag = "members",
    params(("id" = i64, Path)),
    responses((status = 200, body = FilterSchemaView), (status = 403), (status = 404)))]
pub async fn filter_schema(InOrg(by): InOrg<Staff>) -> ApiResult<Json<FilterSchemaView>> {
    let org = by.org().id.0;
    let roles: Vec<Value> = Role::ALL
        .iter()
        .map(|r| json!({"value": r.code(), "label": r.name()}))
        .collect();
    Ok(Json(FilterSchemaView {
        version: VERSION,
        filters: vec![
            json!({"key": "role", "label": "Role", "type": "multi_select", "value_type": "string", "options": roles}),
            json!({"key": "tags", "label": "Tags", "type": "multi_select", "value_type": "integer",
                   "options_url": format!("/api/organizations/{org}/member-tags")}),
            json!({"key": "user_type", "label": "Seat type", "type": "multi_select", "value_type": "string",
                   "options": [{"value": "standard", "label": "Standard"}]}),
            json!({"key": "last_activity", "label": "Last activity", "type": "datetime_range",
                   "operators": ["gte", "lte"]}),
            json!({"key": "membership", "label": "Workspace or project", "type": "multi_select",
                   "value_type": "object",
                   "options_url": format!("/api/organizations/{org}/memberships/filter-options/membership")}),
            json!({"key": "search", "label": "Name or email", "type": "text"}),
            json!({"key": "is_deleted", "label": "Deleted members", "type": "boolean"}),
        ],
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Payload {
    version: i64,
    #[serde(default)]
    filters: Vec<Clause>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Clause {
    key: String,
    value: Value,
}

/// A payload's membership targets.
#[derive(Default)]
struct Targets {
    workspaces: Vec<WorkspaceId>,
    projects: Vec<ProjectId>,
}

fn bad(key: &str, message: &str) -> ApiError {
    ApiError::invalid(&format!("filters.{key}"), message.to_string())
}

fn strings(key: &str, v: &Value) -> ApiResult<String> {
    let list = v
        .as_array()
        .ok_or_else(|| bad(key, "must be a list of strings"))?;
    let items: Vec<&str> = list
        .iter()
        .map(|x| {
            x.as_str()
                .ok_or_else(|| bad(key, "must be a list of strings"))
        })
        .collect::<ApiResult<_>>()?;
    if items.iter().any(|s| s.contains(',')) {
        return Err(bad(key, "a value must not contain a comma"));
    }
    Ok(items.join(","))
}

fn set(slot: &mut Option<String>, key: &str, value: String) -> ApiResult<()> {
    if slot.is_some() {
        return Err(bad(
            key,
            "is given twice (in the payload and the query, or twice in the payload)",
        ));
    }
    *slot = Some(value);
    Ok(())
}

/// Reads a payload into the member list's parameters (merged with `p`) and its targets.
fn apply(raw: &Value, p: &mut MemberFilterParams) -> ApiResult<Targets> {
    let raw = match raw {
        Value::String(s) => parse_json::<Value>(s.as_bytes())
            .map_err(|_| ApiError::invalid("filters", "is not a JSON object"))?,
        other => other.clone(),
    };
    let payload: Payload = serde_json::from_value(raw).map_err(|e| {
        ApiError::invalid(
            "filters",
            format!("must be {{\"version\": 1, \"filters\": [{{\"key\", \"value\"}}]}}: {e}"),
        )
    })?;
    if payload.version != VERSION {
        return Err(ApiError::invalid(
            "filters.version",
            format!(
                "version {} is not supported; use {VERSION}",
                payload.version
            ),
        ));
    }
    let mut targets = Targets::default();
    let mut seen_membership = false;
    for c in payload.filters {
        let (k, v) = (c.key.as_str(), &c.value);
        match k {
            "role" => set(&mut p.role, k, strings(k, v)?)?,
            "user_type" => set(&mut p.user_type, k, strings(k, v)?)?,
            "tags" => {
                let ids = v
                    .as_array()
                    .and_then(|l| l.iter().map(Value::as_i64).collect::<Option<Vec<_>>>())
                    .ok_or_else(|| bad(k, "must be a list of tag ids"))?;
                let text: Vec<String> = ids.iter().map(|i| i.to_string()).collect();
                set(&mut p.tags, k, text.join(","))?
            }
            "search" => {
                let s = v.as_str().ok_or_else(|| bad(k, "must be text"))?;
                set(&mut p.search, k, s.to_string())?
            }
            "is_deleted" => {
                let b = v.as_bool().ok_or_else(|| bad(k, "must be true or false"))?;
                set(&mut p.is_deleted, k, b.to_string())?
            }
            "last_activity" => {
                let o = v
                    .as_object()
                    .filter(|o| o.keys().all(|x| x == "gte" || x == "lte"))
                    .ok_or_else(|| bad(k, "must be {\"gte\": instant, \"lte\": instant}"))?;
                for (op, slot) in [("gte", &mut p.active_gte), ("lte", &mut p.active_lte)] {
                    if let Some(t) = o.get(op) {
                        let t = t.as_str().ok_or_else(|| bad(k, "instants are text (ISO 8601)"))?;
                        set(slot, k, t.to_string())?;
                    }
                }
            }
            "membership" => {
                if seen_membership {
                    return Err(bad(k, "is given twice"));
                }
                seen_membership = true;
                let list = v
                    .as_array()
                    .ok_or_else(|| bad(k, "must be a list of {\"kind\", \"id\"}"))?;
                for item in list {
                    let id = item["id"]
                        .as_i64()
                        .filter(|i| *i > 0)
                        .ok_or_else(|| bad(k, "each item needs an id"))?;
                    match item["kind"].as_str() {
                        Some("workspace") => targets.workspaces.push(WorkspaceId(id)),
                        Some("project") => targets.projects.push(ProjectId(id)),
                        _ => return Err(bad(k, "kind must be \"workspace\" or \"project\"")),
                    }
                }
                if list.is_empty() {
                    return Err(bad(k, "must name at least one workspace or project"));
                }
            }
            other => {
                return Err(bad(
                    other,
                    "is not a filter; see the filter schema (role, tags, user_type, last_activity, membership, search, is_deleted)",
                ))
            }
        }
    }
    Ok(targets)
}

fn filter_of(mut p: MemberFilterParams, payload: Option<&Value>) -> ApiResult<MemberFilter> {
    let targets = match payload {
        Some(v) => apply(v, &mut p)?,
        None => Targets::default(),
    };
    let mut f = member_query(&p)?;
    f.in_workspaces = targets.workspaces;
    f.in_projects = targets.projects;
    Ok(f)
}

async fn page_of(
    state: &AppState,
    by: &roster_service::Authorized<Staff>,
    at: &RequestUrl,
    page: PageParams,
    filter: MemberFilter,
) -> ApiResult<PageView<MemberView>> {
    let page = page.resolve(20)?;
    let result = state.service.list_members(by, filter, page).await?;
    let views = member_views(state, by, result.items, false).await?;
    Ok(page_view(at, page, result.count, views))
}

#[derive(Deserialize, Default)]
pub struct FilteredParams {
    #[serde(flatten)]
    page: PageParams,
    #[serde(flatten)]
    filter: MemberFilterParams,
    filters: Option<String>,
}

/// The member list with a versioned `filters` payload (JSON text) besides the list's own
/// parameters; a dimension given in both is a 400.
#[utoipa::path(get, path = "/api/organizations/{id}/memberships/search", tag = "members",
    params(("id" = i64, Path), ("filters" = Option<String>, Query, description = "the versioned filter payload, as JSON"),
           ("page" = Option<i64>, Query), ("page_size" = Option<i64>, Query),
           ("role" = Option<String>, Query), ("search" = Option<String>, Query), ("is_deleted" = Option<bool>, Query),
           ("ordering" = Option<String>, Query), ("exclude_workspace_id" = Option<f64>, Query),
           ("exclude_project_id" = Option<f64>, Query), ("tags" = Option<String>, Query), ("user_type" = Option<String>, Query),
           ("user__last_activity__gte" = Option<String>, Query), ("user__last_activity__lte" = Option<String>, Query)),
    responses((status = 200, body = PageView<MemberView>), (status = 400), (status = 403), (status = 404)))]
pub async fn list_filtered(
    State(state): State<AppState>,
    InOrg(by): InOrg<Staff>,
    at: RequestUrl,
    QueryParams(p): QueryParams<FilteredParams>,
) -> ApiResult<PageView<MemberView>> {
    let payload = p
        .filters
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .map(|s| Value::String(s.to_string()));
    let filter = filter_of(p.filter, payload.as_ref())?;
    page_of(&state, &by, &at, p.page, filter).await
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchBody {
    /// The versioned filter payload (an object, or its JSON text).
    #[schema(value_type = Object)]
    filters: Value,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct SearchParams {
    page: Option<String>,
    page_size: Option<String>,
    ordering: Option<String>,
}

/// The member list filtered by a payload sent in the body (for payloads too long for a URL);
/// `page`, `page_size` and `ordering` stay in the query.
#[utoipa::path(post, path = "/api/organizations/{id}/memberships/search", tag = "members",
    params(("id" = i64, Path), ("page" = Option<i64>, Query), ("page_size" = Option<i64>, Query), ("ordering" = Option<String>, Query)),
    request_body = SearchBody,
    responses((status = 200, body = PageView<MemberView>), (status = 400), (status = 403), (status = 404)))]
pub async fn search(
    State(state): State<AppState>,
    InOrg(by): InOrg<Staff>,
    at: RequestUrl,
    QueryParams(q): QueryParams<SearchParams>,
    JsonBody(body): JsonBody<SearchBody>,
) -> ApiResult<PageView<MemberView>> {
    let params = MemberFilterParams {
        ordering: q.ordering,
        ..Default::default()
    };
    let filter = filter_of(params, Some(&body.filters))?;
    let page = PageParams {
        page: q.page,
        page_size: q.page_size,
    };
    page_of(&state, &by, &at, page, filter).await
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct OptionParams {
    search: Option<String>,
}

/// A project option (the SDK's `OrganizationMemberMembershipProjectOption`).
#[derive(Serialize, utoipa::ToSchema)]
pub struct ProjectOption {
    id: i64,
    kind: &'static str,
    label: String,
}

/// A membership option (the SDK's `OrganizationMemberMembershipOption`): a workspace with its
/// projects, or a project whose workspace the caller does not see (no `projects`).
#[derive(Serialize, utoipa::ToSchema)]
pub struct MembershipOption {
    id: i64,
    kind: &'static str,
    label: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    projects: Option<Vec<ProjectOption>>,
}

/// The workspaces (with their projects) and the other projects the caller sees, for the
/// `membership` filter; `search` matches titles, case-insensitively.
#[utoipa::path(get, path = "/api/organizations/{id}/memberships/filter-options/membership", tag = "members",
    params(("id" = i64, Path), ("search" = Option<String>, Query)),
    responses((status = 200, body = [MembershipOption]), (status = 400), (status = 403), (status = 404)))]
pub async fn membership_options(
    State(state): State<AppState>,
    InOrg(by): InOrg<Staff>,
    QueryParams(p): QueryParams<OptionParams>,
) -> ApiResult<Json<Vec<MembershipOption>>> {
    let search = search_term(p.search.as_deref())?;
    let o = state
        .service
        .membership_options(&by, search.as_deref())
        .await?;
    let project = |p: &roster_service::store::ProjectRecord| ProjectOption {
        id: p.id.0,
        kind: "project",
        label: p.title.clone(),
    };
    let mut out: Vec<MembershipOption> = o
        .workspaces
        .iter()
        .map(|(w, ps)| MembershipOption {
            id: w.id.0,
            kind: "workspace",
            label: w.title.clone(),
            projects: Some(ps.iter().map(project).collect()),
        })
        .collect();
    out.extend(o.unparented.iter().map(|p| MembershipOption {
        id: p.id.0,
        kind: "project",
        label: p.title.clone(),
        projects: None,
    }));
    Ok(Json(out))
}

/// A skills option (the SDK's `OrganizationMemberSkillsOption`).
#[derive(Serialize, utoipa::ToSchema)]
pub struct SkillOption {
    code: String,
    field_key: String,
    field_label: String,
    label: String,
    parent_code: Option<String>,
    section_key: String,
    section_title: String,
}

/// Skills options: Label Studio Enterprise's contributor-setup answers. roster keeps no
/// skills, so there are none to offer (an empty list, whatever the search), and the filter
/// schema has no skills dimension.
#[utoipa::path(get, path = "/api/organizations/{id}/memberships/filter-options/skills", tag = "members",
    params(("id" = i64, Path), ("search" = Option<String>, Query)),
    responses((status = 200, body = [SkillOption]), (status = 400), (status = 403), (status = 404)))]
pub async fn skills_options(
    InOrg(_by): InOrg<Staff>,
    QueryParams(p): QueryParams<OptionParams>,
) -> ApiResult<Json<Vec<SkillOption>>> {
    search_term(p.search.as_deref())?;
    Ok(Json(Vec::new()))
}
