//! SCIM 2.0 (RFC 7643, RFC 7644) at `/scim/v2/`, also answered at `/scim/` as Label Studio
//! Enterprise does. Handlers turn SCIM requests into service calls; the schemas, filters,
//! PATCH paths and the group mapping are the domain's, the provisioning rules the service's.

mod bulk;
mod discovery;
mod groups;
pub(crate) mod openapi;
mod patch;
mod protocol;
mod query;
mod render;
mod users;

use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;

use crate::AppState;
pub use protocol::ScimError;

/// The routes of one SCIM base path.
fn base() -> Router<AppState> {
    Router::new()
        .route(
            "/ServiceProviderConfig",
            get(discovery::service_provider_config),
        )
        .route("/ResourceTypes", get(discovery::resource_types))
        .route("/ResourceTypes/{id}", get(discovery::resource_type))
        .route("/Schemas", get(discovery::schemas))
        .route("/Schemas/{id}", get(discovery::schema))
        .route("/Users", get(users::list).post(users::create))
        .route("/Users/.search", post(users::search))
        .route(
            "/Users/{id}",
            get(users::get)
                .put(users::replace)
                .patch(users::patch)
                .delete(users::delete),
        )
        .route("/Groups", get(groups::list).post(groups::create))
        .route("/Groups/.search", post(groups::search))
        .route(
            "/Groups/{id}",
            get(groups::get)
                .put(groups::replace)
                .patch(groups::patch)
                .delete(groups::delete),
        )
        .route("/Bulk", post(bulk::bulk))
        .route("/.search", post(search_everything))
        .fallback(unknown)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn(protocol::refuse_bad_text))
}

pub fn routes() -> Router<AppState> {
    Router::new().nest("/scim/v2", base()).nest("/scim", base())
}

async fn unknown() -> ScimError {
    ScimError::not_found("No such SCIM endpoint.")
}

/// A search over every resource type at once (RFC 7644 §3.4.3, a MAY) is not offered: no
/// identity provider sends one, and a filter means different things for Users and Groups.
/// 501 is RFC 7644 §3.12's answer for an operation a service provider does not support.
async fn search_everything(_: protocol::Scim) -> ScimError {
    ScimError::new(
        StatusCode::NOT_IMPLEMENTED,
        None,
        "Search one resource type at a time: POST /Users/.search or /Groups/.search.",
    )
}

async fn method_not_allowed() -> ScimError {
    ScimError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        None,
        "Method not allowed on this SCIM endpoint.",
    )
}

/// The canonical SCIM base URL, for `meta.location` and `$ref`.
pub(crate) fn base_url(state: &AppState) -> String {
    format!(
        "{}/scim/v2",
        state.service.config().public_url.trim_end_matches('/')
    )
}
