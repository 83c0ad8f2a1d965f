//! Configurable permissions (`/api/organizations/{id}/permissions*`, the SDK's
//! `organizations.permissions.*`): the Owner decides which roles hold each permission roster
//! enforces. The table itself is `roster_domain::permissions`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use roster_domain::permissions::PERMISSIONS;
use roster_domain::{Permission, Role};
use roster_service::permissions::{parse_key, PermissionView as Held};
use roster_service::Owner;
use serde::{Deserialize, Serialize};

use crate::api::orgs::ordering;
use crate::error::ApiResult;
use crate::extract::{InOrg, JsonBody, PathParams, QueryParams};
use crate::AppState;

/// A permission in Label Studio Enterprise's `OrganizationPermission` shape. `id` is the
/// organization's override, null while the permission has its default holders.
#[derive(Serialize, utoipa::ToSchema)]
pub struct PermissionView {
    id: Option<i64>,
    organization: i64,
    permission: String,
    /// The roles holding it now (the Owner always does).
    roles: Vec<String>,
    default: Vec<String>,
    /// The roles it may be given to.
    options: Vec<String>,
    label: String,
    group: String,
    tooltip: String,
}

/// A permission's description (`ConfigurablePermissionOption`).
#[derive(Serialize, utoipa::ToSchema)]
pub struct PermissionOption {
    permission: String,
    default: Vec<String>,
    options: Vec<String>,
    label: String,
    group: String,
    tooltip: String,
}

fn codes(roles: &[Role]) -> Vec<String> {
    roles.iter().map(|r| r.code().to_string()).collect()
}

fn option(p: Permission) -> PermissionOption {
    let f = p.facts();
    PermissionOption {
        permission: f.key.into(),
        default: codes(f.default),
        options: codes(f.options),
        label: f.label.into(),
        group: f.group.into(),
        tooltip: f.tooltip.into(),
    }
}

fn view(org: i64, h: Held) -> PermissionView {
    let o = option(h.permission);
    PermissionView {
        id: h.override_id,
        organization: org,
        permission: o.permission,
        roles: codes(&h.roles),
        default: o.default,
        options: o.options,
        label: o.label,
        group: o.group,
        tooltip: o.tooltip,
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrderingQuery {
    /// `permission`, `label` or `group`, with `-` for descending.
    ordering: Option<String>,
}

/// Orders by the requested key (the table's order when none is given).
fn sort<T>(items: &mut [T], raw: Option<&str>, key: impl Fn(&T) -> Permission) -> ApiResult<()> {
    #[derive(Clone, Copy)]
    enum By {
        Key,
        Label,
        Group,
    }
    let Some((by, desc)) = ordering(
        raw,
        &[
            ("permission", By::Key),
            ("label", By::Label),
            ("group", By::Group),
        ],
        "permission, label or group",
    )?
    else {
        return Ok(());
    };
    items.sort_by(|a, b| {
        let (fa, fb) = (key(a).facts(), key(b).facts());
        let ord = match by {
            By::Key => fa.key.cmp(fb.key),
            By::Label => fa.label.cmp(fb.label),
            By::Group => (fa.group, fa.key).cmp(&(fb.group, fb.key)),
        };
        if desc {
            ord.reverse()
        } else {
            ord
        }
    });
    Ok(())
}

/// Every permission roster enforces with who holds it in this organization (Owner only).
#[utoipa::path(get, path = "/api/organizations/{id}/permissions", tag = "permissions",
    params(("id" = i64, Path), OrderingQuery),
    responses((status = 200, body = [PermissionView]), (status = 400), (status = 403)))]
pub async fn list_permissions(
    State(state): State<AppState>,
    InOrg(by): InOrg<Owner>,
    QueryParams(q): QueryParams<OrderingQuery>,
) -> ApiResult<Json<Vec<PermissionView>>> {
    let mut all = state.service.list_permissions(&by).await?;
    sort(&mut all, q.ordering.as_deref(), |h| h.permission)?;
    let org = by.org_id().0;
    Ok(Json(all.into_iter().map(|h| view(org, h)).collect()))
}

/// The permissions roster enforces: their labels, default holders and the roles they may be
/// given to. Keys roster does not enforce are not offered.
#[utoipa::path(get, path = "/api/organizations/{id}/permissions/options", tag = "permissions",
    params(("id" = i64, Path), OrderingQuery),
    responses((status = 200, body = [PermissionOption]), (status = 400), (status = 403)))]
pub async fn permission_options(
    InOrg(_by): InOrg<Owner>,
    QueryParams(q): QueryParams<OrderingQuery>,
) -> ApiResult<Json<Vec<PermissionOption>>> {
    let mut all: Vec<Permission> = PERMISSIONS.iter().map(|f| f.permission).collect();
    sort(&mut all, q.ordering.as_deref(), |p| *p)?;
    Ok(Json(all.into_iter().map(option).collect()))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PermissionBody {
    /// The permission's key (must match the path's on PUT and PATCH).
    permission: Option<String>,
    /// The roles to hold it besides the Owner, who always does.
    roles: Option<Vec<String>>,
}

/// Gives a permission to the roles named (the Owner keeps it). A permission already
/// overridden is a 400: change it with PUT or PATCH.
#[utoipa::path(post, path = "/api/organizations/{id}/permissions", tag = "permissions",
    params(("id" = i64, Path)), request_body = PermissionBody,
    responses((status = 201, body = PermissionView), (status = 400), (status = 403)))]
pub async fn create_permission(
    State(state): State<AppState>,
    InOrg(by): InOrg<Owner>,
    JsonBody(body): JsonBody<PermissionBody>,
) -> ApiResult<(StatusCode, Json<PermissionView>)> {
    let key = body
        .permission
        .as_deref()
        .ok_or_else(|| crate::error::ApiError::invalid("permission", "this field is required"))?;
    let p = parse_key("permission", key)?;
    let held = state
        .service
        .set_permission(&by, p, &body.roles.unwrap_or_default(), true)
        .await?;
    Ok((StatusCode::CREATED, Json(view(by.org_id().0, held))))
}

#[derive(Deserialize)]
pub struct KeyPath {
    #[allow(dead_code)]
    id: i64,
    permission_key: String,
}

/// One permission with who holds it.
#[utoipa::path(get, path = "/api/organizations/{id}/permissions/{permission_key}", tag = "permissions",
    params(("id" = i64, Path), ("permission_key" = String, Path)),
    responses((status = 200, body = PermissionView), (status = 400), (status = 403)))]
pub async fn get_permission(
    State(state): State<AppState>,
    InOrg(by): InOrg<Owner>,
    PathParams(path): PathParams<KeyPath>,
) -> ApiResult<Json<PermissionView>> {
    let p = parse_key("permission_key", &path.permission_key)?;
    let held = state.service.get_permission(&by, p).await?;
    Ok(Json(view(by.org_id().0, held)))
}

/// The body's key, which may only repeat the path's.
fn same_key(path: &KeyPath, body: &PermissionBody) -> ApiResult<Permission> {
    let p = parse_key("permission_key", &path.permission_key)?;
    if let Some(k) = body.permission.as_deref() {
        if parse_key("permission", k)? != p {
            return Err(crate::error::ApiError::invalid(
                "permission",
                format!("the body names {k}, the path {}", path.permission_key),
            ));
        }
    }
    Ok(p)
}

/// Sets the roles holding a permission (creating the override if there is none).
#[utoipa::path(put, path = "/api/organizations/{id}/permissions/{permission_key}", tag = "permissions",
    params(("id" = i64, Path), ("permission_key" = String, Path)), request_body = PermissionBody,
    responses((status = 200, body = PermissionView), (status = 400), (status = 403)))]
pub async fn replace_permission(
    State(state): State<AppState>,
    InOrg(by): InOrg<Owner>,
    PathParams(path): PathParams<KeyPath>,
    JsonBody(body): JsonBody<PermissionBody>,
) -> ApiResult<Json<PermissionView>> {
    let p = same_key(&path, &body)?;
    let roles = body
        .roles
        .ok_or_else(|| crate::error::ApiError::invalid("roles", "this field is required"))?;
    let held = state.service.set_permission(&by, p, &roles, false).await?;
    Ok(Json(view(by.org_id().0, held)))
}

/// Changes the roles holding a permission; without `roles` nothing changes.
#[utoipa::path(patch, path = "/api/organizations/{id}/permissions/{permission_key}", tag = "permissions",
    params(("id" = i64, Path), ("permission_key" = String, Path)), request_body = PermissionBody,
    responses((status = 200, body = PermissionView), (status = 400), (status = 403)))]
pub async fn update_permission(
    State(state): State<AppState>,
    InOrg(by): InOrg<Owner>,
    PathParams(path): PathParams<KeyPath>,
    JsonBody(body): JsonBody<PermissionBody>,
) -> ApiResult<Json<PermissionView>> {
    let p = same_key(&path, &body)?;
    let held = match body.roles {
        Some(roles) => state.service.set_permission(&by, p, &roles, false).await?,
        None => state.service.get_permission(&by, p).await?,
    };
    Ok(Json(view(by.org_id().0, held)))
}

/// Returns a permission to its default holders.
#[utoipa::path(delete, path = "/api/organizations/{id}/permissions/{permission_key}", tag = "permissions",
    params(("id" = i64, Path), ("permission_key" = String, Path)),
    responses((status = 204), (status = 400), (status = 403), (status = 404)))]
pub async fn reset_permission(
    State(state): State<AppState>,
    InOrg(by): InOrg<Owner>,
    PathParams(path): PathParams<KeyPath>,
) -> ApiResult<StatusCode> {
    let p = parse_key("permission_key", &path.permission_key)?;
    state.service.reset_permission(&by, p).await?;
    Ok(StatusCode::NO_CONTENT)
}
