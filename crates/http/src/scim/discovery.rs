//! Discovery (RFC 7644 §4): what this service provider supports, rendered from the domain's
//! schema tables so that what is advertised is what is stored. These need a caller like every
//! SCIM endpoint: an IdP's connection test sends its token here first.

use axum::extract::{Path, State};
use roster_domain::scim::discovery::{self, ScimLimits};

use super::protocol::{Scim, ScimError, ScimJson, ScimResult};
use super::{base_url, query::MAX_RESULTS};
use crate::AppState;

/// Operations per `/Bulk` request, and its largest body (the server's body limit).
pub const BULK_MAX_OPERATIONS: usize = 1000;

pub fn limits() -> ScimLimits {
    ScimLimits {
        bulk_max_operations: BULK_MAX_OPERATIONS,
        bulk_max_payload_bytes: crate::MAX_BODY_BYTES as u64,
        filter_max_results: MAX_RESULTS as usize,
    }
}

pub async fn service_provider_config(State(state): State<AppState>, _: Scim) -> ScimJson {
    ScimJson(discovery::service_provider_config(
        &limits(),
        &base_url(&state),
    ))
}

pub async fn resource_types(State(state): State<AppState>, _: Scim) -> ScimJson {
    ScimJson(discovery::resource_types_document(&base_url(&state)))
}

pub async fn resource_type(
    State(state): State<AppState>,
    _: Scim,
    Path(id): Path<String>,
) -> ScimResult<ScimJson> {
    discovery::resource_type_document(&id, &base_url(&state))
        .map(ScimJson)
        .ok_or_else(|| ScimError::not_found(format!("No resource type {id:?}.")))
}

pub async fn schemas(State(state): State<AppState>, _: Scim) -> ScimJson {
    ScimJson(discovery::schemas_document(&base_url(&state)))
}

pub async fn schema(
    State(state): State<AppState>,
    _: Scim,
    Path(id): Path<String>,
) -> ScimResult<ScimJson> {
    discovery::schema_document(&id, &base_url(&state))
        .map(ScimJson)
        .ok_or_else(|| ScimError::not_found(format!("No schema {id:?}.")))
}
