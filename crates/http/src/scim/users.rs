//! `/Users`: RFC 7644 §3.3 to §3.6 for User resources.

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use roster_domain::scim::resource::{self, normalize_patched_user, normalize_user};
use roster_domain::scim::schema::ResourceKind;
use roster_service::scim::{Precondition, ScimCaller, ScimUser};
use roster_service::store::scim_filter::Over;
use serde_json::Value;

use super::patch;
use super::protocol::{
    if_match, list_response, not_modified, not_modified_response, resource_response, Scim,
    ScimBody, ScimError, ScimResult,
};
use super::query::{self, ListQuery};
use super::{base_url, render};
use crate::AppState;

/// A resource error from the domain as a SCIM error.
pub(crate) fn invalid(e: resource::ResourceError) -> ScimError {
    ScimError::bad(e.scim_type.as_str(), e.detail)
}

fn shown(doc: Value, q: &ListQuery) -> Value {
    resource::project(
        &doc,
        ResourceKind::User,
        q.attributes.as_deref(),
        q.excluded.as_deref(),
    )
}

pub async fn create(
    State(state): State<AppState>,
    Scim(caller): Scim,
    RawQuery(raw): RawQuery,
    ScimBody(body): ScimBody,
) -> ScimResult<Response> {
    let q = ListQuery::from_raw(raw)?;
    let doc = create_user(&state, &caller, &body).await?;
    Ok(answer(StatusCode::CREATED, doc, &q, true))
}

/// An answer carrying a resource as rendered: shaped by `attributes`/`excludedAttributes`,
/// with the ETag of its version (taken before shaping, which may leave `meta` out) and, for a
/// creation, its Location.
pub(crate) fn answer(status: StatusCode, doc: Value, q: &ListQuery, located: bool) -> Response {
    let version = version_of(&doc);
    let location = located
        .then(|| doc["meta"]["location"].as_str().map(str::to_owned))
        .flatten();
    resource_response(status, Some(shown(doc, q)), version, location)
}

/// The version in a rendered resource's `meta.version` (`W/"3"`).
pub(crate) fn version_of(doc: &Value) -> i64 {
    doc["meta"]["version"]
        .as_str()
        .and_then(|v| v.trim_start_matches("W/").trim_matches('"').parse().ok())
        .unwrap_or_default()
}

/// POST /Users, for the endpoint and for Bulk: the created user as rendered.
pub(crate) async fn create_user(
    state: &AppState,
    caller: &ScimCaller,
    body: &Value,
) -> ScimResult<Value> {
    let input = normalize_user(body).map_err(invalid)?;
    let user = state.service.scim_create_user(caller, input).await?;
    Ok(render::user(&user, &base_url(state)))
}

pub async fn get(
    State(state): State<AppState>,
    Scim(caller): Scim,
    Path(id): Path<String>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> ScimResult<Response> {
    let q = ListQuery::from_raw(raw)?;
    let user = state.service.scim_user(&caller, &id).await?;
    if not_modified(&headers, user.record.version) {
        return Ok(not_modified_response(user.record.version));
    }
    let doc = shown(render::user(&user, &base_url(&state)), &q);
    Ok(resource_response(
        StatusCode::OK,
        Some(doc),
        user.record.version,
        None,
    ))
}

pub async fn list(
    State(state): State<AppState>,
    Scim(caller): Scim,
    RawQuery(raw): RawQuery,
) -> ScimResult<Response> {
    let q = ListQuery::from_raw(raw)?;
    list_users(&state, &caller, q).await
}

pub async fn search(
    State(state): State<AppState>,
    Scim(caller): Scim,
    ScimBody(body): ScimBody,
) -> ScimResult<Response> {
    let q = ListQuery::from_search_body(&body)?;
    list_users(&state, &caller, q).await
}

async fn list_users(state: &AppState, caller: &ScimCaller, q: ListQuery) -> ScimResult<Response> {
    let filter = query::filter(q.filter.as_deref())?;
    let order = query::order(q.sort_by.as_deref(), q.descending, Over::Users)?;
    let page = state
        .service
        .scim_users(caller, filter.as_ref(), &order, q.offset(), q.count)
        .await?;
    let base = base_url(state);
    let resources: Vec<Value> = page
        .items
        .iter()
        .map(|u| shown(render::user(u, &base), &q))
        .collect();
    Ok(list_response(page.count, q.start_index, resources))
}

pub async fn replace(
    State(state): State<AppState>,
    Scim(caller): Scim,
    Path(id): Path<String>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
    ScimBody(body): ScimBody,
) -> ScimResult<Response> {
    let q = ListQuery::from_raw(raw)?;
    let precondition = if_match(&headers)?;
    let doc = replace_user(&state, &caller, &id, &body, precondition).await?;
    Ok(answer(StatusCode::OK, doc, &q, false))
}

/// PUT /Users/{id}, for the endpoint and for Bulk.
pub(crate) async fn replace_user(
    state: &AppState,
    caller: &ScimCaller,
    id: &str,
    body: &Value,
    precondition: Precondition,
) -> ScimResult<Value> {
    let input = normalize_user(body).map_err(invalid)?;
    let user = state
        .service
        .scim_replace_user(caller, id, input, precondition)
        .await?;
    Ok(render::user(&user, &base_url(state)))
}

pub async fn patch(
    State(state): State<AppState>,
    Scim(caller): Scim,
    Path(id): Path<String>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
    ScimBody(body): ScimBody,
) -> ScimResult<Response> {
    let q = ListQuery::from_raw(raw)?;
    let precondition = if_match(&headers)?;
    let doc = patch_user(&state, &caller, &id, &body, precondition).await?;
    Ok(answer(StatusCode::OK, doc, &q, false))
}

/// PATCH /Users/{id}, for the endpoint and for Bulk: the operations are applied to the
/// resource as it is now and the result replaces it, with the version read as the
/// precondition (a concurrent change makes it fail, not interleave).
pub(crate) async fn patch_user(
    state: &AppState,
    caller: &ScimCaller,
    id: &str,
    body: &Value,
    precondition: Precondition,
) -> ScimResult<Value> {
    let ops = patch::operations(body)?;
    let current: ScimUser = state.service.scim_user(caller, id).await?;
    precondition_ok(precondition, current.record.version)?;
    let base = base_url(state);
    let mut doc = render::user(&current, &base);
    patch::apply(&mut doc, ResourceKind::User, &ops)?;
    let input = normalize_patched_user(&doc).map_err(invalid)?;
    let user = state
        .service
        .scim_replace_user(
            caller,
            &current.record.id,
            input,
            Precondition(Some(current.record.version)),
        )
        .await?;
    Ok(render::user(&user, &base))
}

fn precondition_ok(p: Precondition, version: i64) -> ScimResult<()> {
    match p.0 {
        Some(v) if v != version => Err(ScimError::new(
            StatusCode::PRECONDITION_FAILED,
            None,
            format!("the resource is at version {version}, not {v}"),
        )),
        _ => Ok(()),
    }
}

pub async fn delete(
    State(state): State<AppState>,
    Scim(caller): Scim,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ScimResult<StatusCode> {
    let precondition = if_match(&headers)?;
    delete_user(&state, &caller, &id, precondition).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// DELETE /Users/{id}, for the endpoint and for Bulk.
pub(crate) async fn delete_user(
    state: &AppState,
    caller: &ScimCaller,
    id: &str,
    precondition: Precondition,
) -> ScimResult<()> {
    state
        .service
        .scim_delete_user(caller, id, precondition)
        .await?;
    Ok(())
}
