//! `/Groups`: RFC 7644 §3.3 to §3.6 for Group resources. Member changes travel as additions
//! and removals, so a group of 100,000 people is patched without reading it whole.

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use roster_domain::scim::resource::{self, normalize_group};
use roster_domain::scim::schema::ResourceKind;
use roster_service::scim::{GroupUpdate, MemberChange, ScimCaller};
use serde_json::{json, Value};

use super::patch::{self, GroupPatch};
use super::protocol::{
    if_match, not_modified, not_modified_response, resource_response, Scim, ScimBody, ScimError,
    ScimJson, ScimResult, LIST_SCHEMA,
};
use super::query::{self, ListQuery};
use super::users::invalid;
use super::{base_url, render};
use crate::AppState;

fn pairs(raw: Option<String>) -> ScimResult<Vec<(String, String)>> {
    serde_urlencoded::from_str(raw.as_deref().unwrap_or(""))
        .map_err(|_| ScimError::bad("invalidValue", "the query string is malformed"))
}

/// Whether an answer lists members: not when the client excluded them, or asked only for
/// other attributes.
fn wants_members(q: &ListQuery) -> bool {
    let named = |list: &Option<Vec<String>>| {
        list.as_ref().is_some_and(|l| {
            l.iter().any(|a| {
                a.eq_ignore_ascii_case("members") || a.to_ascii_lowercase().ends_with(":members")
            })
        })
    };
    !named(&q.excluded) && (q.attributes.is_none() || named(&q.attributes))
}

fn shown(doc: Value, q: &ListQuery) -> Value {
    resource::project(
        &doc,
        ResourceKind::Group,
        q.attributes.as_deref(),
        q.excluded.as_deref(),
    )
}

pub async fn create(
    State(state): State<AppState>,
    Scim(caller): Scim,
    ScimBody(body): ScimBody,
) -> ScimResult<Response> {
    let input = normalize_group(&body).map_err(invalid)?;
    let group = state.service.scim_create_group(&caller, input).await?;
    let base = base_url(&state);
    let location = format!("{base}/Groups/{}", group.record.id);
    Ok(resource_response(
        StatusCode::CREATED,
        render::group(&group, &base),
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
    let group = state
        .service
        .scim_group(&caller, &id, wants_members(&q))
        .await?;
    if not_modified(&headers, group.record.version) {
        return Ok(not_modified_response(group.record.version));
    }
    let doc = shown(render::group(&group, &base_url(&state)), &q);
    Ok(resource_response(StatusCode::OK, doc, None))
}

pub async fn list(
    State(state): State<AppState>,
    Scim(caller): Scim,
    RawQuery(raw): RawQuery,
) -> ScimResult<Response> {
    let q = ListQuery::from_pairs(&pairs(raw)?)?;
    list_groups(&state, &caller, q).await
}

pub async fn search(
    State(state): State<AppState>,
    Scim(caller): Scim,
    ScimBody(body): ScimBody,
) -> ScimResult<Response> {
    let q = ListQuery::from_search_body(&body)?;
    list_groups(&state, &caller, q).await
}

async fn list_groups(state: &AppState, caller: &ScimCaller, q: ListQuery) -> ScimResult<Response> {
    let filter = query::filter(q.filter.as_deref())?;
    let page = state
        .service
        .scim_groups(
            caller,
            filter.as_ref(),
            q.descending,
            q.offset(),
            q.count,
            wants_members(&q),
        )
        .await?;
    let base = base_url(state);
    let resources: Vec<Value> = page
        .items
        .iter()
        .map(|g| shown(render::group(g, &base), &q))
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
    let input = normalize_group(&body).map_err(invalid)?;
    let update = GroupUpdate {
        display_name: Some(input.display_name),
        external_id: Some(input.external_id),
        attributes: Some(input.attributes),
        members: vec![MemberChange::Replace(input.members)],
        return_members: true,
    };
    let group = state
        .service
        .scim_update_group(&caller, &id, update, precondition)
        .await?;
    Ok(resource_response(
        StatusCode::OK,
        render::group(&group, &base_url(&state)),
        None,
    ))
}

pub async fn patch(
    State(state): State<AppState>,
    Scim(caller): Scim,
    Path(id): Path<String>,
    headers: HeaderMap,
    ScimBody(body): ScimBody,
) -> ScimResult<Response> {
    let precondition = if_match(&headers)?;
    let ops = patch::operations(&body)?;
    // Everything but the members is patched on the stored attributes; member operations
    // become additions and removals.
    let current = state.service.scim_group(&caller, &id, false).await?;
    let base = base_url(&state);
    let GroupPatch {
        document,
        members,
        renamed,
    } = patch::apply_to_group(render::group(&current, &base), &ops)?;
    let input = normalize_group(&document).map_err(invalid)?;
    let update = GroupUpdate {
        display_name: renamed.then_some(input.display_name),
        external_id: Some(input.external_id),
        attributes: Some(input.attributes),
        members,
        return_members: false,
    };
    let group = state
        .service
        .scim_update_group(&caller, &current.record.id, update, precondition)
        .await?;
    Ok(resource_response(
        StatusCode::OK,
        render::group(&group, &base),
        None,
    ))
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
        .scim_delete_group(&caller, &id, precondition)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
