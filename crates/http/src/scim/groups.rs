//! `/Groups`: RFC 7644 §3.3 to §3.6 for Group resources. Member changes travel as additions
//! and removals, so a group of 100,000 people is patched without reading it whole.

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use roster_domain::scim::resource::{self, normalize_group};
use roster_domain::scim::schema::ResourceKind;
use roster_service::scim::{GroupUpdate, MemberChange, Precondition, ScimCaller};
use roster_service::store::scim_filter::Over;
use roster_service::ServiceError;
use serde_json::Value;

use super::patch::{self, GroupPatch};
use super::protocol::{
    if_match, list_response, not_modified, not_modified_response, resource_response, Scim,
    ScimBody, ScimResult,
};
use super::query::{self, ListQuery};
use super::users::{invalid, version_of};
use super::{base_url, render};
use crate::AppState;

/// Whether an answer lists members: not when the client excluded them, or asked only for
/// other attributes. `members.display` asks for them; excluding it leaves the rest.
fn wants_members(q: &ListQuery) -> bool {
    // The name without its URN (`members.value` for `urn:...:2.0:Group:members.value`).
    let bare = |a: &str| a.rsplit(':').next().unwrap_or(a).to_ascii_lowercase();
    let attribute = |a: &String| bare(a).split('.').next() == Some("members");
    let whole = |a: &String| bare(a) == "members";
    let excluded = q.excluded.as_ref().is_some_and(|l| l.iter().any(whole));
    let asked = q
        .attributes
        .as_ref()
        .is_none_or(|l| l.iter().any(attribute));
    !excluded && asked
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
    RawQuery(raw): RawQuery,
    ScimBody(body): ScimBody,
) -> ScimResult<Response> {
    let q = ListQuery::from_raw(raw)?;
    let doc = create_group(&state, &caller, &body).await?;
    Ok(answer(doc, StatusCode::CREATED, &q, true))
}

/// An answer carrying a group as rendered, shaped by the query, with its ETag.
fn answer(doc: Value, status: StatusCode, q: &ListQuery, located: bool) -> Response {
    let version = version_of(&doc);
    let location = located
        .then(|| doc["meta"]["location"].as_str().map(str::to_owned))
        .flatten();
    resource_response(status, Some(shown(doc, q)), version, location)
}

/// POST /Groups, for the endpoint and for Bulk: the created group as rendered.
pub(crate) async fn create_group(
    state: &AppState,
    caller: &ScimCaller,
    body: &Value,
) -> ScimResult<Value> {
    let input = normalize_group(body).map_err(invalid)?;
    let group = state.service.scim_create_group(caller, input).await?;
    Ok(render::group(&group, &base_url(state)))
}

pub async fn get(
    State(state): State<AppState>,
    Scim(caller): Scim,
    Path(id): Path<String>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> ScimResult<Response> {
    let q = ListQuery::from_raw(raw)?;
    let group = state
        .service
        .scim_group(&caller, &id, wants_members(&q))
        .await?;
    if not_modified(&headers, group.record.version) {
        return Ok(not_modified_response(group.record.version));
    }
    let doc = shown(render::group(&group, &base_url(&state)), &q);
    Ok(resource_response(
        StatusCode::OK,
        Some(doc),
        group.record.version,
        None,
    ))
}

pub async fn list(
    State(state): State<AppState>,
    Scim(caller): Scim,
    RawQuery(raw): RawQuery,
) -> ScimResult<Response> {
    let q = ListQuery::from_raw(raw)?;
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
    let order = query::order(q.sort_by.as_deref(), q.descending, Over::Groups)?;
    let page = state
        .service
        .scim_groups(
            caller,
            filter.as_ref(),
            &order,
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
    let doc = replace_group(&state, &caller, &id, &body, precondition).await?;
    Ok(answer(doc, StatusCode::OK, &q, false))
}

/// PUT /Groups/{id}, for the endpoint and for Bulk.
pub(crate) async fn replace_group(
    state: &AppState,
    caller: &ScimCaller,
    id: &str,
    body: &Value,
    precondition: Precondition,
) -> ScimResult<Value> {
    let input = normalize_group(body).map_err(invalid)?;
    let update = GroupUpdate {
        display_name: Some(input.display_name),
        external_id: Some(input.external_id),
        attributes: Some(input.attributes),
        members: vec![MemberChange::Replace(input.members)],
        return_members: true,
    };
    let group = state
        .service
        .scim_update_group(caller, id, update, precondition)
        .await?;
    Ok(render::group(&group, &base_url(state)))
}

/// PATCH answers 204 with the new ETag (RFC 7644 §3.5.2 allows it; Entra ID and Okta expect
/// it for Groups): the whole Group would list every member, and a group of 100,000 is patched
/// without reading them.
pub async fn patch(
    State(state): State<AppState>,
    Scim(caller): Scim,
    Path(id): Path<String>,
    headers: HeaderMap,
    ScimBody(body): ScimBody,
) -> ScimResult<Response> {
    let precondition = if_match(&headers)?;
    let doc = patch_group(&state, &caller, &id, &body, precondition).await?;
    Ok(resource_response(
        StatusCode::NO_CONTENT,
        None,
        version_of(&doc),
        None,
    ))
}

/// Times a PATCH is made again on a newer version after other updates of the group came
/// between its read and its write.
const PATCH_ATTEMPTS: usize = 16;

/// PATCH /Groups/{id}, for the endpoint and for Bulk. Everything but the members is patched
/// on the stored attributes; member operations become additions and removals.
///
/// The attributes are patched as read, before the change's transaction, so an update in
/// between would be overwritten: a PATCH that names only members leaves them as stored, and
/// one that names others is made on the version it read (and read again when another update
/// came first, unless the client's own If-Match says which version it meant).
pub(crate) async fn patch_group(
    state: &AppState,
    caller: &ScimCaller,
    id: &str,
    body: &Value,
    precondition: Precondition,
) -> ScimResult<Value> {
    let ops = patch::operations(body)?;
    let base = base_url(state);
    let mut attempts = 0;
    loop {
        let current = state.service.scim_group(caller, id, false).await?;
        let GroupPatch {
            document,
            members,
            renamed,
            touches_attributes,
        } = patch::apply_to_group(render::group(&current, &base), &ops)?;
        let input = normalize_group(&document).map_err(invalid)?;
        let update = GroupUpdate {
            display_name: renamed.then_some(input.display_name),
            external_id: touches_attributes.then_some(input.external_id),
            attributes: touches_attributes.then_some(input.attributes),
            members,
            return_members: false,
        };
        let made_on = match precondition {
            Precondition(None) if touches_attributes => Precondition(Some(current.record.version)),
            given => given,
        };
        attempts += 1;
        match state
            .service
            .scim_update_group(caller, &current.record.id, update, made_on)
            .await
        {
            Err(ServiceError::PreconditionFailed(_))
                if precondition.0.is_none() && attempts < PATCH_ATTEMPTS => {}
            result => return Ok(render::group(&result?, &base)),
        }
    }
}

pub async fn delete(
    State(state): State<AppState>,
    Scim(caller): Scim,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ScimResult<StatusCode> {
    let precondition = if_match(&headers)?;
    delete_group(&state, &caller, &id, precondition).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// DELETE /Groups/{id}, for the endpoint and for Bulk.
pub(crate) async fn delete_group(
    state: &AppState,
    caller: &ScimCaller,
    id: &str,
    precondition: Precondition,
) -> ScimResult<()> {
    state
        .service
        .scim_delete_group(caller, id, precondition)
        .await?;
    Ok(())
}
