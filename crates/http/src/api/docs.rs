//! Health, the OpenAPI document, the browsable API page and the static files.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::api::ApiDoc;
use crate::error::{ApiError, ApiResult};
use crate::AppState;

pub struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let c = openapi.components.get_or_insert_with(Default::default);
        c.add_security_scheme(
            "Token",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "Authorization",
                "Token <legacy API key>",
            ))),
        );
        c.add_security_scheme(
            "Bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// The OpenAPI document as served (and as committed in docs/openapi.json).
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_string();
    doc
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Health {
    status: &'static str,
}

/// Liveness, with one database round trip.
#[utoipa::path(get, path = "/api/health", tag = "health", responses((status = 200, body = Health), (status = 503)))]
pub async fn health(State(state): State<AppState>) -> ApiResult<Json<Health>> {
    match state.service.health().await {
        Ok(()) => Ok(Json(Health { status: "ok" })),
        Err(e) => {
            tracing::error!(error = ?e, "health check failed");
            Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "The database is not reachable.",
            ))
        }
    }
}

pub async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(openapi_document())
}

struct Operation {
    method: String,
    path: String,
    summary: String,
    statuses: String,
}

#[derive(Template)]
#[template(path = "docs.html")]
struct DocsPage {
    version: &'static str,
    groups: Vec<(String, Vec<Operation>)>,
}

/// A browsable list of every operation, rendered from the same OpenAPI document.
pub async fn docs_page() -> Response {
    let doc = openapi_document();
    let mut groups: Vec<(String, Vec<Operation>)> = Vec::new();
    for (path, item) in doc.paths.paths.iter() {
        let ops = [
            ("GET", &item.get),
            ("POST", &item.post),
            ("PATCH", &item.patch),
            ("PUT", &item.put),
            ("DELETE", &item.delete),
        ];
        for (method, op) in ops {
            let Some(op) = op else { continue };
            let tag = op
                .tags
                .as_ref()
                .and_then(|t| t.first().cloned())
                .unwrap_or_else(|| "other".into());
            let summary = op
                .summary
                .clone()
                .or_else(|| op.description.clone())
                .unwrap_or_default();
            let statuses = op
                .responses
                .responses
                .keys()
                .cloned()
                .collect::<Vec<_>>()
                .join(", ");
            let entry = Operation {
                method: method.into(),
                path: path.clone(),
                summary,
                statuses,
            };
            match groups.iter_mut().find(|(t, _)| *t == tag) {
                Some((_, list)) => list.push(entry),
                None => groups.push((tag, vec![entry])),
            }
        }
    }
    crate::web::page(
        StatusCode::OK,
        DocsPage {
            version: env!("CARGO_PKG_VERSION"),
            groups,
        },
    )
}

/// The few static files the pages use, compiled in.
pub async fn static_file(Path(file): Path<String>) -> Response {
    let (body, ty) = match file.as_str() {
        "roster.css" => (
            include_str!("../../static/roster.css"),
            "text/css; charset=utf-8",
        ),
        "docs.css" => (
            include_str!("../../static/docs.css"),
            "text/css; charset=utf-8",
        ),
        "app.css" => (
            include_str!("../../static/app.css"),
            "text/css; charset=utf-8",
        ),
        "roster.js" => (
            include_str!("../../static/roster.js"),
            "text/javascript; charset=utf-8",
        ),
        _ => return ApiError::not_found("No such file.").into_response(),
    };
    (
        [
            (header::CONTENT_TYPE, ty),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
        .into_response()
}
