//! `/Users`: RFC 7644 §3.3 to §3.6 for User resources.

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use roster_domain::scim::resource::{self, normalize_user};
use roster_domain::scim::schema::ResourceKind;
use roster_service::scim::ScimUser;
use serde_json::{json, Value};

use super::patch;
use super::protocol::{
    if_match, not_modified, not_modified_response, resource_response, Scim, ScimBody, ScimError,
    ScimJson, ScimResult, LIST_SCHEMA,
};
use super::query::{self, ListQuery};
use super::{base_url, render};
use crate::AppState;

fn pairs(raw: Option<String>) -> ScimResult<Vec<(String, String)>> {
    serde_urlencoded::from_str(raw.as_deref().unwrap_or(""))
        .map_err(|_| ScimError::bad("invalidValue", "the query string is malformed"))
}

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
    ScimBody(body): ScimBody,
) -> ScimResult<Response> {
    let input = normalize_user(&body).map_err(invalid)?;
    let user = state.service.scim_create_user(&caller, input).await?;
    let base = base_url(&state);
    let location = format!("{base}/Users/{}", user.record.id);
    Ok(resource_response(
        StatusCode::CREATED,
        render::user(&user, &base),
        Some(location),
    ))
}

pub async fn get(
    State(state): State<AppState>,
    Scim(caller): Scim,
    Path(id): Path<String>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> ScimResult<Response> {
    let q = ListQuery::from_pairs(&pairs(raw)?)?;
    let user = state.service.scim_user(&caller, &id).await?;
    if not_modified(&headers, user.record.version) {
        return Ok(not_modified_response(user.record.version));
    }
    let doc = shown(render::user(&user, &base_url(&state)), &q);
    Ok(resource_response(StatusCode::OK, doc, None))
}

pub async fn list(
    State(state): State<AppState>,
    Scim(caller): Scim,
    RawQuery(raw): RawQuery,
) -> ScimResult<Response> {
    let q = ListQuery::from_pairs(&pairs(raw)?)?;
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

async fn list_users(
    state: &AppState,
    caller: &roster_service::scim::ScimCaller,
    q: ListQuery,
) -> ScimResult<Response> {
    let filter = query::filter(q.filter.as_deref())?;
    let order = query::user_order(q.sort_by.as_deref(), q.descending)?;
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
    Ok(ScimJson(json!({
        "schemas": [LIST_SCHEMA],
        "totalResults": page.count,
        "startIndex": q.start_index,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    }))
    .into_response())
}

pub async fn replace(
    State(state): State<AppState>,
    Scim(caller): Scim,
    Path(id): Path<String>,
    headers: HeaderMap,
    ScimBody(body): ScimBody,
) -> ScimResult<Response> {
    let precondition = if_match(&headers)?;
    let input = normalize_user(&body).map_err(invalid)?;
    let user = state
        .service
        .scim_replace_user(&caller, &id, input, precondition)
        .await?;
    Ok(resource_response(
        StatusCode::OK,
        render::user(&user, &base_url(&state)),
        None,
    ))
}

/// PATCH applies the operations to the resource as it is now and replaces it, with the
/// version read as the precondition (a concurrent change makes it fail, not interleave).
pub async fn patch(
    State(state): State<AppState>,
    Scim(caller): Scim,
    Path(id): Path<String>,
    headers: HeaderMap,
    ScimBody(body): ScimBody,
) -> ScimResult<Response> {
    let precondition = if_match(&headers)?;
    let ops = patch::operations(&body)?;
    let current: ScimUser = state.service.scim_user(&caller, &id).await?;
    precondition_ok(precondition, current.record.version)?;
    let base = base_url(&state);
    let mut doc = render::user(&current, &base);
    patch::apply(&mut doc, ResourceKind::User, &ops)?;
    let input = normalize_user(&doc).map_err(invalid)?;
    let user = state
        .service
        .scim_replace_user(
            &caller,
            &current.record.id,
            input,
            roster_service::scim::Precondition(Some(current.record.version)),
        )
        .await?;
    Ok(resource_response(
        StatusCode::OK,
        render::user(&user, &base),
        None,
    ))
}

fn precondition_ok(p: roster_service::scim::Precondition, version: i64) -> ScimResult<()> {
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
    state
        .service
        .scim_delete_user(&caller, &id, precondition)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
