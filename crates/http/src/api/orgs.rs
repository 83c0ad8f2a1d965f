//! Organizations, their settings and seats, and their members.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use roster_domain::MemberOrder;
use roster_domain::{Access, ProjectId, Role};
use roster_service::members::MemberFilter;
use roster_service::orgs::OrgPatch;
use roster_service::{Admin, Member, Staff};
use serde::{Deserialize, Serialize};

use crate::api::users::parse_id;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Caller, InOrg, JsonBody, PathParams, QueryParams};
use crate::paging::{page_view, PageParams, RequestUrl};
use crate::views::{
    MemberDetailView, MemberView, OrgListItem, OrgView, PageView, ProjectRef, TagRef,
};
use crate::AppState;

/// Parses a role code, naming the field on failure.
pub(crate) fn parse_role(field: &str, code: &str) -> ApiResult<Role> {
    Role::from_code(code.trim()).ok_or_else(|| {
        ApiError::invalid(
            field,
            format!("\"{code}\" is not a role; use one of OW, AD, MA, RE, AN, NO, DI"),
        )
    })
}

/// The caller's organizations (a plain array, as the SDK expects).
#[utoipa::path(get, path = "/api/organizations", tag = "organizations",
    params(("ordering" = Option<String>, Query, description = "id, title or created_at, with - for descending")),
    responses((status = 200, body = [OrgListItem]), (status = 400), (status = 401)))]
pub async fn list_orgs(
    State(state): State<AppState>,
    Caller(who): Caller,
    QueryParams(q): QueryParams<OrderingParam>,
) -> ApiResult<Json<Vec<OrgListItem>>> {
    let mut orgs = state.service.my_orgs(&who).await?;
    sort_by_ordering(
        &mut orgs,
        q.ordering.as_deref(),
        &[
            ("id", |a, b| a.id.cmp(&b.id)),
            ("title", |a, b| {
                (a.title.to_lowercase(), a.id).cmp(&(b.title.to_lowercase(), b.id))
            }),
            ("created_at", |a, b| {
                (a.created_at, a.id).cmp(&(b.created_at, b.id))
            }),
        ],
        "id, title or created_at",
    )?;
    Ok(Json(orgs.iter().map(OrgListItem::of).collect()))
}

#[utoipa::path(get, path = "/api/organizations/{id}", tag = "organizations", params(("id" = i64, Path, description = "0 = your only organization")),
    responses((status = 200, body = OrgView), (status = 403), (status = 404)))]
pub async fn get_org(
    State(state): State<AppState>,
    InOrg(by): InOrg<Member>,
) -> ApiResult<Json<OrgView>> {
    let admin = by.may(Access::Admin);
    let token = if admin {
        Some(state.service.invite_token_of(by.org())?)
    } else {
        None
    };
    Ok(Json(OrgView::of(by.org(), token)))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrgPatchBody {
    title: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    contact_info: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>)]
    seat_limit: Option<Option<i64>>,
    default_role: Option<String>,
    manual_role_management: Option<bool>,
    /// Whether people may still remove workspace memberships an identity provider's group
    /// mapping gave (default true); off, such a hand change is refused with 409.
    manual_workspace_management: Option<bool>,
    /// Whether people may still remove or re-role project memberships an identity
    /// provider's group mapping gave (default true); off, such a hand change is refused with 409.
    manual_project_member_management: Option<bool>,
    /// Members sign in through the identity provider only (the Owner's; needs SAML metadata
    /// and the Owner's second factor).
    sso_only: Option<bool>,
    /// Label Studio Enterprise's settings of products roster does not have (embedding,
    /// custom interfaces and scripts, organization email notifications) and its invite token
    /// (roster's is made, never given): refused with a 400 naming the field, never ignored.
    #[schema(value_type = Option<bool>)]
    custom_interfaces_enabled: Option<serde_json::Value>,
    #[schema(value_type = Option<bool>)]
    custom_scripts_enabled: Option<serde_json::Value>,
    #[schema(value_type = Option<Object>)]
    email_notification_settings: Option<serde_json::Value>,
    #[schema(value_type = Option<Vec<Object>>)]
    embed_domains: Option<serde_json::Value>,
    #[schema(value_type = Option<bool>)]
    embed_enabled: Option<serde_json::Value>,
    #[schema(value_type = Option<Object>)]
    embed_settings: Option<serde_json::Value>,
    #[schema(value_type = Option<Object>)]
    interface_settings: Option<serde_json::Value>,
    #[schema(value_type = Option<Object>)]
    react_code_settings: Option<serde_json::Value>,
    #[schema(value_type = Option<String>)]
    token: Option<serde_json::Value>,
}

impl OrgPatchBody {
    /// The first Label Studio Enterprise setting sent that roster cannot honour, refused.
    fn refuse_unsupported(&self) -> ApiResult<()> {
        let none_here = "roster has no embedding, custom interfaces, custom scripts or \
                         organization email notifications, so it cannot keep this setting";
        crate::error::refuse_sent(&[
            ("custom_interfaces_enabled", self.custom_interfaces_enabled.is_some(), none_here),
            ("custom_scripts_enabled", self.custom_scripts_enabled.is_some(), none_here),
            ("email_notification_settings", self.email_notification_settings.is_some(), none_here),
            ("embed_domains", self.embed_domains.is_some(), none_here),
            ("embed_enabled", self.embed_enabled.is_some(), none_here),
            ("embed_settings", self.embed_settings.is_some(), none_here),
            ("interface_settings", self.interface_settings.is_some(), none_here),
            ("react_code_settings", self.react_code_settings.is_some(), none_here),
            (
                "token",
                self.token.is_some(),
                "the invite-link token is made by roster; reset it with POST /api/invite/reset-token",
            ),
        ])
    }
}

/// Tells an explicit `null` (Some(None)) from an absent field (None).
pub(crate) fn present<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// Changes settings (OW, AD); the seat limit and `sso_only` are the Owner's alone (`null` =
/// unlimited seats). `sso_only` can be switched on only with SAML metadata set up and the
/// Owner's second factor on (409 otherwise).
#[utoipa::path(patch, path = "/api/organizations/{id}", tag = "organizations", params(("id" = i64, Path)), request_body = OrgPatchBody,
    responses((status = 200, body = OrgView), (status = 400), (status = 403), (status = 404), (status = 409)))]
pub async fn update_org(
    State(state): State<AppState>,
    InOrg(by): InOrg<Admin>,
    JsonBody(body): JsonBody<OrgPatchBody>,
) -> ApiResult<Json<OrgView>> {
    body.refuse_unsupported()?;
    let patch = OrgPatch {
        title: body.title,
        contact_info: body.contact_info,
        seat_limit: body.seat_limit,
        default_role: body
            .default_role
            .as_deref()
            .map(|r| parse_role("default_role", r))
            .transpose()?,
        manual_role_management: body.manual_role_management,
        manual_workspace_management: body.manual_workspace_management,
        manual_project_member_management: body.manual_project_member_management,
        sso_only: body.sso_only,
    };
    let org = state.service.update_org(&by, patch).await?;
    let token = state.service.invite_token_of(&org)?;
    Ok(Json(OrgView::of(&org, Some(token))))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DefaultRoleBody {
    default_role: String,
    /// The SDK sends the organization's id again; it must be the one in the path.
    organization: Option<i64>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct DefaultRoleView {
    organization: i64,
    default_role: String,
}

/// The role people get when they sign up through the invite link: NO, AN or RE.
#[utoipa::path(patch, path = "/api/organizations/{id}/set-default-role", tag = "organizations", params(("id" = i64, Path)),
    request_body = DefaultRoleBody, responses((status = 200, body = DefaultRoleView), (status = 400), (status = 403)))]
pub async fn set_default_role(
    State(state): State<AppState>,
    InOrg(by): InOrg<Admin>,
    JsonBody(body): JsonBody<DefaultRoleBody>,
) -> ApiResult<Json<DefaultRoleView>> {
    if body.organization.is_some_and(|o| o != by.org_id().0) {
        return Err(ApiError::invalid(
            "organization",
            "must be the organization named in the path",
        ));
    }
    let role = parse_role("default_role", &body.default_role)?;
    let org = state
        .service
        .update_org(
            &by,
            OrgPatch {
                default_role: Some(role),
                ..OrgPatch::default()
            },
        )
        .await?;
    Ok(Json(DefaultRoleView {
        organization: org.id.0,
        default_role: org.default_role.code().into(),
    }))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SeatsView {
    limit: Option<i64>,
    used: i64,
    active: i64,
    pending_invites: i64,
}

#[utoipa::path(get, path = "/api/organizations/{id}/seats", tag = "organizations", params(("id" = i64, Path)),
    responses((status = 200, body = SeatsView), (status = 403)))]
pub async fn seats(
    State(state): State<AppState>,
    InOrg(by): InOrg<Admin>,
) -> ApiResult<Json<SeatsView>> {
    let s = state.service.seats(&by).await?;
    Ok(Json(SeatsView {
        limit: s.limit,
        used: s.used(),
        active: s.active,
        pending_invites: s.pending_invites,
    }))
}

#[derive(Deserialize, Default)]
pub struct MemberListParams {
    #[serde(flatten)]
    page: PageParams,
    #[serde(flatten)]
    filter: MemberFilterParams,
    contributed_to_projects: Option<String>,
}

/// The member list's filter parameters, shared by the list, the filtered list and tag
/// assignment (one filter engine).
#[derive(Deserialize, Default, Clone)]
pub struct MemberFilterParams {
    pub(crate) role: Option<String>,
    pub(crate) search: Option<String>,
    pub(crate) is_deleted: Option<String>,
    pub(crate) ordering: Option<String>,
    pub(crate) exclude_workspace_id: Option<String>,
    pub(crate) exclude_project_id: Option<String>,
    pub(crate) tags: Option<String>,
    pub(crate) user_type: Option<String>,
    #[serde(rename = "user__last_activity__gte")]
    pub(crate) active_gte: Option<String>,
    #[serde(rename = "user__last_activity__lte")]
    pub(crate) active_lte: Option<String>,
}

/// An instant in a query: RFC 3339 ("2026-01-02T03:04:05Z"), a date and time without an
/// offset (UTC), or a date (its midnight, UTC); microseconds since the epoch.
pub(crate) fn query_instant(field: &str, raw: Option<&str>) -> ApiResult<Option<i64>> {
    let Some(t) = raw.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    let parsed = chrono::DateTime::parse_from_rfc3339(t)
        .map(|d| d.with_timezone(&chrono::Utc))
        .ok()
        .or_else(|| {
            ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"]
                .iter()
                .find_map(|f| chrono::NaiveDateTime::parse_from_str(t, f).ok())
                .map(|n| n.and_utc())
        })
        .or_else(|| {
            chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|n| n.and_utc())
        });
    parsed.map(|d| Some(d.timestamp_micros())).ok_or_else(|| {
        ApiError::invalid(field, format!("\"{t}\" is not a date and time (ISO 8601)"))
    })
}

/// The `user_type` values: standard, flex or viewonly (roster's members are all standard).
pub(crate) fn user_types(raw: Option<&str>) -> ApiResult<Vec<String>> {
    comma_list(raw, |t| {
        let t = t.to_ascii_lowercase();
        if roster_domain::tags::KNOWN_USER_TYPES.contains(&t.as_str()) {
            Ok(t)
        } else {
            Err(ApiError::invalid(
                "user_type",
                format!("\"{t}\" is not a seat type; use standard, flex or viewonly"),
            ))
        }
    })
}

/// The `tags` values: tag ids.
pub(crate) fn tag_ids(
    field: &str,
    raw: Option<&str>,
) -> ApiResult<Vec<roster_domain::MemberTagId>> {
    comma_list(raw, |s| {
        float_typed_id(field, s).map(roster_domain::MemberTagId)
    })
}

/// An id the SDK types as a float: "3" and "3.0" both name 3; "3.5" names nothing.
pub(crate) fn float_typed_id(field: &str, raw: &str) -> ApiResult<i64> {
    let t = raw.trim();
    let whole = t.strip_suffix(".0").unwrap_or(t);
    whole
        .parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| ApiError::invalid(field, format!("\"{t}\" is not an id")))
}

/// An `ordering` query value: one of `allowed` by name, with a leading `-` for descending;
/// absent or empty is None. `hint` lists the names for the error message.
pub(crate) fn ordering<T: Copy>(
    raw: Option<&str>,
    allowed: &[(&str, T)],
    hint: &str,
) -> ApiResult<Option<(T, bool)>> {
    let o = match raw.map(str::trim) {
        None | Some("") => return Ok(None),
        Some(o) => o,
    };
    let (name, desc) = o.strip_prefix('-').map_or((o, false), |n| (n, true));
    allowed
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, v)| Some((*v, desc)))
        .ok_or_else(|| {
            ApiError::invalid(
                "ordering",
                format!("\"{o}\" is not an ordering; use {hint}, optionally with - for descending"),
            )
        })
}

/// How two items of a small, bounded list compare under one named ordering.
pub(crate) type Compare<T> = fn(&T, &T) -> std::cmp::Ordering;

/// Sorts a small, bounded list (a person's organizations or tokens, project roles) in memory
/// by the requested `ordering`, one of `allowed` by name, `-` for descending; absent keeps
/// the list's own order, an unknown name is a 400 listing `hint`.
pub(crate) fn sort_by_ordering<T>(
    items: &mut [T],
    raw: Option<&str>,
    allowed: &[(&str, Compare<T>)],
    hint: &str,
) -> ApiResult<()> {
    if let Some((compare, descending)) = ordering(raw, allowed, hint)? {
        items.sort_by(|a, b| {
            let o = compare(a, b);
            if descending {
                o.reverse()
            } else {
                o
            }
        });
    }
    Ok(())
}

#[derive(Deserialize, Default)]
pub struct OrderingParam {
    pub(crate) ordering: Option<String>,
}

/// An optional true/false query value ("true"/"1", "false"/"0"); absent or empty is None.
pub(crate) fn query_bool(field: &str, v: Option<&str>) -> ApiResult<Option<bool>> {
    match v.map(|s| s.trim().to_ascii_lowercase()).as_deref() {
        None | Some("") => Ok(None),
        Some("true") | Some("1") => Ok(Some(true)),
        Some("false") | Some("0") => Ok(Some(false)),
        Some(other) => Err(ApiError::invalid(
            field,
            format!("\"{other}\" is not true or false"),
        )),
    }
}

/// A comma-separated query value ("1,2,3"), each non-empty item read by `one`.
pub(crate) fn comma_list<T>(
    raw: Option<&str>,
    one: impl Fn(&str) -> ApiResult<T>,
) -> ApiResult<Vec<T>> {
    raw.unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(one)
        .collect()
}

fn parse_bool(field: &str, v: Option<&str>) -> ApiResult<bool> {
    match v.map(|s| s.trim().to_ascii_lowercase()).as_deref() {
        None | Some("false") | Some("0") | Some("no") => Ok(false),
        Some("true") | Some("1") | Some("yes") => Ok(true),
        Some(other) => Err(ApiError::invalid(
            field,
            format!("\"{other}\" is not true or false"),
        )),
    }
}

/// A search term of a member list: trimmed, absent when empty, at most 200 characters.
pub(crate) fn search_term(raw: Option<&str>) -> ApiResult<Option<String>> {
    let search = raw.map(str::trim).filter(|s| !s.is_empty());
    if search.is_some_and(|s| s.chars().count() > 200) {
        return Err(ApiError::invalid(
            "search",
            "must be at most 200 characters",
        ));
    }
    Ok(search.map(str::to_string))
}

/// The member list's orderings by their Label Studio names.
const ORDERINGS: [(&str, MemberOrder); 6] = [
    ("user__email", MemberOrder::Email),
    ("user__first_name", MemberOrder::FirstName),
    ("user__last_name", MemberOrder::LastName),
    ("user__last_activity", MemberOrder::LastActivity),
    ("user__date_joined", MemberOrder::DateJoined),
    ("role", MemberOrder::Role),
];

pub(crate) fn member_query(p: &MemberFilterParams) -> ApiResult<MemberFilter> {
    let roles = comma_list(p.role.as_deref(), |c| parse_role("role", c))?;
    let (order, descending) = match p.ordering.as_deref().map(str::trim) {
        None | Some("") => (MemberOrder::Email, false),
        Some(o) => {
            let (name, desc) = o.strip_prefix('-').map(|n| (n, true)).unwrap_or((o, false));
            let order = ORDERINGS
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, o)| *o)
                .ok_or_else(|| {
                ApiError::invalid("ordering", format!("\"{o}\" is not an ordering; use user__email, user__first_name, user__last_name, user__last_activity, user__date_joined or role, optionally with -"))
            })?;
            (order, desc)
        }
    };
    let search = search_term(p.search.as_deref())?;
    let exclude_project = p
        .exclude_project_id
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .map(|s| float_typed_id("exclude_project_id", s).map(ProjectId))
        .transpose()?;
    let exclude_workspace = p
        .exclude_workspace_id
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .map(|s| float_typed_id("exclude_workspace_id", s).map(roster_domain::WorkspaceId))
        .transpose()?;
    Ok(MemberFilter {
        exclude_workspace,
        roles,
        search,
        deleted: parse_bool("is_deleted", p.is_deleted.as_deref())?,
        order,
        descending,
        exclude_project,
        tags: tag_ids("tags", p.tags.as_deref())?,
        active_from: query_instant("user__last_activity__gte", p.active_gte.as_deref())?,
        active_to: query_instant("user__last_activity__lte", p.active_lte.as_deref())?,
        user_types: user_types(p.user_type.as_deref())?,
        in_workspaces: vec![],
        in_projects: vec![],
    })
}

/// Members, filtered by role (comma list), search, deletion; ordered; paged.
#[utoipa::path(get, path = "/api/organizations/{id}/memberships", tag = "members",
    params(("id" = i64, Path), ("page" = Option<i64>, Query), ("page_size" = Option<i64>, Query),
           ("role" = Option<String>, Query, description = "comma list of role codes"),
           ("search" = Option<String>, Query), ("is_deleted" = Option<bool>, Query), ("ordering" = Option<String>, Query),
           ("exclude_workspace_id" = Option<f64>, Query, description = "leave out this workspace's members"),
           ("exclude_project_id" = Option<f64>, Query, description = "leave out the members of this project"),
           ("tags" = Option<String>, Query, description = "comma list of tag ids: members carrying any of them"),
           ("user_type" = Option<String>, Query, description = "comma list of seat types (standard, flex, viewonly); every roster member is standard"),
           ("user__last_activity__gte" = Option<String>, Query, description = "members last active at or after this instant (ISO 8601)"),
           ("user__last_activity__lte" = Option<String>, Query, description = "members last active at or before this instant (ISO 8601)"),
           ("contributed_to_projects" = Option<bool>, Query, description = "include the projects each member created and annotated in")),
    responses((status = 200, body = PageView<MemberView>), (status = 400), (status = 403), (status = 404)))]
pub async fn list_members(
    State(state): State<AppState>,
    InOrg(by): InOrg<Staff>,
    at: RequestUrl,
    QueryParams(p): QueryParams<MemberListParams>,
) -> ApiResult<PageView<MemberView>> {
    let page = p.page.resolve(20)?;
    let projects = query_bool(
        "contributed_to_projects",
        p.contributed_to_projects.as_deref(),
    )?
    .unwrap_or(false);
    let q = member_query(&p.filter)?;
    let result = state.service.list_members(&by, q, page).await?;
    let views = member_views(&state, &by, result.items, projects).await?;
    Ok(page_view(&at, page, result.count, views))
}

/// The rows as member views, with their tags (and, with `projects`, the projects each
/// created and worked in).
pub(crate) async fn member_views<A: roster_service::access::AccessLevel>(
    state: &AppState,
    by: &roster_service::Authorized<A>,
    rows: Vec<roster_service::store::MemberRow>,
    projects: bool,
) -> ApiResult<Vec<MemberView>> {
    let ids: Vec<_> = rows.iter().map(|m| m.membership.id).collect();
    let mut extras = state.service.member_extras(by, &ids, projects).await?;
    Ok(rows
        .into_iter()
        .map(|m| {
            let id = m.membership.id;
            let tags = extras
                .tags
                .remove(&id)
                .unwrap_or_default()
                .into_iter()
                .map(|(id, label)| TagRef { id: id.0, label })
                .collect();
            let mut v = MemberView::of(m, tags);
            if projects {
                let (made, worked) = extras.projects.remove(&id).unwrap_or_default();
                v.created_projects = Some(project_refs(made));
                v.contributed_to_projects = Some(project_refs(worked));
            }
            v
        })
        .collect())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignRoleBody {
    user_id: i64,
    role: String,
    /// Accepted for compatibility; only "standard" exists in roster.
    #[serde(default)]
    user_type: Option<String>,
}

/// Assigns a role: activates a pending member, deactivates (DI), reactivates, or (by the Owner,
/// naming `OW`) hands over ownership.
#[utoipa::path(patch, path = "/api/organizations/{id}/memberships", tag = "members", params(("id" = i64, Path)), request_body = AssignRoleBody,
    responses((status = 200, body = MemberView), (status = 400), (status = 403), (status = 404), (status = 405), (status = 409)))]
pub async fn assign_role(
    State(state): State<AppState>,
    InOrg(by): InOrg<Admin>,
    JsonBody(body): JsonBody<AssignRoleBody>,
) -> ApiResult<Json<MemberView>> {
    if body.user_type.as_deref().is_some_and(|t| t != "standard") {
        return Err(ApiError::invalid(
            "user_type",
            "only \"standard\" is supported",
        ));
    }
    let role = parse_role("role", &body.role)?;
    let target = parse_id(&body.user_id.to_string())?;
    let row = state.service.assign_role(&by, target, role).await?;
    let mut views = member_views(&state, &by, vec![row], false).await?;
    Ok(Json(views.remove(0)))
}

/// Assigns a role, as PATCH does (Label Studio clients POST to this path).
#[utoipa::path(post, path = "/api/organizations/{id}/memberships", tag = "members", operation_id = "assign_role_post", params(("id" = i64, Path)), request_body = AssignRoleBody,
    responses((status = 200, body = MemberView), (status = 400), (status = 403), (status = 404), (status = 405), (status = 409)))]
pub async fn assign_role_post(
    state: State<AppState>,
    by: InOrg<Admin>,
    body: JsonBody<AssignRoleBody>,
) -> ApiResult<Json<MemberView>> {
    assign_role(state, by, body).await
}

#[derive(Deserialize, Default)]
pub struct MemberDetailParams {
    contributed_to_projects: Option<String>,
}

/// One member's details; with `contributed_to_projects=true`, also the projects they created
/// and the projects they annotated in.
#[utoipa::path(get, path = "/api/organizations/{id}/memberships/{user_id}", tag = "members",
    params(("id" = i64, Path), ("user_id" = i64, Path),
           ("contributed_to_projects" = Option<bool>, Query, description = "include the projects the member created and annotated in")),
    responses((status = 200, body = MemberDetailView), (status = 400), (status = 403), (status = 404)))]
pub async fn get_member(
    State(state): State<AppState>,
    InOrg(by): InOrg<Staff>,
    PathParams(path): PathParams<(String, String)>,
    QueryParams(p): QueryParams<MemberDetailParams>,
) -> ApiResult<Json<MemberDetailView>> {
    let projects = query_bool(
        "contributed_to_projects",
        p.contributed_to_projects.as_deref(),
    )?
    .unwrap_or(false);
    let d = state.service.member_detail(&by, parse_id(&path.1)?).await?;
    let (created_projects, contributed_to_projects) = if projects {
        let membership = d.member.membership.id;
        let mut extras = state
            .service
            .member_extras(&by, &[membership], true)
            .await?;
        let (made, worked) = extras.projects.remove(&membership).unwrap_or_default();
        (Some(project_refs(made)), Some(project_refs(worked)))
    } else {
        (None, None)
    };
    Ok(Json(MemberDetailView {
        user: d.member.user.id.0,
        organization: d.member.membership.org.0,
        role: d.member.membership.role,
        role_source: d.member.membership.role_source.code().into(),
        annotations_count: d.annotations_count,
        contributed_projects_count: d.contributed_projects_count,
        created_at: crate::views::time(d.member.membership.created_at),
        created_projects,
        contributed_to_projects,
    }))
}

fn project_refs(projects: Vec<(ProjectId, String)>) -> Vec<ProjectRef> {
    projects
        .into_iter()
        .map(|(id, title)| ProjectRef { id: id.0, title })
        .collect()
}

/// Deletes a member; their work then shows as "Deleted User".
#[utoipa::path(delete, path = "/api/organizations/{id}/memberships/{user_id}", tag = "members", params(("id" = i64, Path), ("user_id" = i64, Path)),
    responses((status = 204), (status = 403), (status = 404), (status = 405)))]
pub async fn delete_member(
    State(state): State<AppState>,
    InOrg(by): InOrg<Admin>,
    PathParams(path): PathParams<(String, String)>,
) -> ApiResult<StatusCode> {
    state.service.delete_member(&by, parse_id(&path.1)?).await?;
    Ok(StatusCode::NO_CONTENT)
}
