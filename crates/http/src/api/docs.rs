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
        for (path, op) in operations_mut(openapi) {
            document_common_answers(path, op);
        }
    }
}

/// Every operation of the document, with its path.
pub(crate) fn operations_mut(
    openapi: &mut utoipa::openapi::OpenApi,
) -> impl Iterator<Item = (&str, &mut utoipa::openapi::path::Operation)> {
    openapi.paths.paths.iter_mut().flat_map(|(path, item)| {
        [
            &mut item.get,
            &mut item.post,
            &mut item.patch,
            &mut item.put,
            &mut item.delete,
        ]
        .into_iter()
        .flatten()
        .map(move |op| (path.as_str(), op))
    })
}

/// Operations that need no credential (they answer without one, or use their own token).
const PUBLIC: [&str; 12] = [
    "/api/health",
    "/health",
    "/saml/{token}/login",
    "/saml/{token}/acs",
    "/saml/{token}/logout",
    "/saml/{token}/metadata",
    "/user/login",
    "/user/login/sso",
    "/user/logout",
    "/user/signup",
    "/user/set-password",
    "/user/forgot-password",
];

/// `page` and `page_size` are whole numbers of any size: a page past the end is empty and a
/// size above 1000 clamps (crate::paging), so they are not bounded to int64 here.
fn paging_schema(name: &str) -> Option<utoipa::openapi::Object> {
    use utoipa::openapi::{ObjectBuilder, Type};
    let (minimum, description) = match name {
        "page" => (1.0, "from 1; a page past the end is empty"),
        "page_size" => (
            -1.0,
            "1 to 1000 (larger sizes clamp to 1000), or -1 for the largest page",
        ),
        _ => return None,
    };
    Some(
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .minimum(Some(minimum))
            .description(Some(description))
            .build(),
    )
}

/// The answers every operation of a kind can give, added in one place so that no handler's
/// annotation can forget them: the extractors answer 401 without a valid credential, 400 for a
/// body or query they cannot read, and 404 for a path id that names nothing.
fn document_common_answers(path: &str, op: &mut utoipa::openapi::path::Operation) {
    use utoipa::openapi::path::ParameterIn;
    use utoipa::openapi::security::SecurityRequirement;
    use utoipa::openapi::ResponseBuilder;

    for p in op.parameters.iter_mut().flatten() {
        if matches!(p.parameter_in, ParameterIn::Query) {
            if let Some(schema) = paging_schema(&p.name) {
                p.schema = Some(schema.into());
            }
        }
    }
    let params = op.parameters.as_deref().unwrap_or_default();
    let has_path_param = params
        .iter()
        .any(|p| matches!(p.parameter_in, ParameterIn::Path));
    let reads_input = op.request_body.is_some() || !params.is_empty();
    let mut add = |status: &str, description: &str| {
        op.responses
            .responses
            .entry(status.to_string())
            .or_insert_with(|| {
                ResponseBuilder::new()
                    .description(description)
                    .build()
                    .into()
            });
    };
    if reads_input {
        add("400", "The request is malformed or a field is not valid.");
    }
    if has_path_param {
        add("404", "The path names nothing.");
    }
    if !PUBLIC.contains(&path) {
        add("401", "No valid credential.");
        op.security = Some(vec![
            SecurityRequirement::new("Token", Vec::<String>::new()),
            SecurityRequirement::new("Bearer", Vec::<String>::new()),
        ]);
    }
}

/// The OpenAPI document as served (and as committed in docs/openapi.json).
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    crate::scim::openapi::document(&mut doc);
    crate::api::links::add_links(&mut doc);
    doc.info.version = env!("CARGO_PKG_VERSION").to_string();
    doc
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Health {
    status: &'static str,
}

/// What `GET /api/version` answers: Label Studio's version object, as the SDK's
/// `VersionResponse` and its legacy client read it. `release` is roster's version. The keys
/// naming Label Studio's own components (frontend, data manager, converter) describe programs
/// roster does not have, so each is null; `edition` is Enterprise and the
/// `label-studio-enterprise-backend` key is present because the API roster speaks is the
/// Enterprise one (the legacy client turns on its Enterprise calls when it sees that key).
#[derive(Serialize, utoipa::ToSchema)]
pub struct VersionView {
    release: &'static str,
    edition: &'static str,
    backend: Option<serde_json::Value>,
    dm2: Option<serde_json::Value>,
    lsf: Option<serde_json::Value>,
    #[serde(rename = "label-studio-frontend")]
    label_studio_frontend: Option<serde_json::Value>,
    #[serde(rename = "label-studio-converter")]
    label_studio_converter: Option<serde_json::Value>,
    #[serde(rename = "label-studio-os-package")]
    label_studio_os_package: Option<serde_json::Value>,
    #[serde(rename = "label-studio-os-backend")]
    label_studio_os_backend: Option<serde_json::Value>,
    #[serde(rename = "label-studio-enterprise-backend")]
    label_studio_enterprise_backend: serde_json::Value,
}

/// roster's version, in the shape Label Studio answers it; for any signed-in caller.
#[utoipa::path(get, path = "/api/version", tag = "health", responses((status = 200, body = VersionView)))]
pub async fn version(_caller: crate::extract::Caller) -> Json<VersionView> {
    let release = env!("CARGO_PKG_VERSION");
    Json(VersionView {
        release,
        edition: "Enterprise",
        backend: None,
        dm2: None,
        lsf: None,
        label_studio_frontend: None,
        label_studio_converter: None,
        label_studio_os_package: None,
        label_studio_os_backend: None,
        label_studio_enterprise_backend: serde_json::json!({ "version": release, "product": "roster" }),
    })
}

/// Liveness, with one database round trip.
#[utoipa::path(get, path = "/api/health", tag = "health", responses((status = 200, body = Health), (status = 503)))]
pub async fn health(State(state): State<AppState>) -> ApiResult<Json<Health>> {
    checked_health(&state, "ok").await
}

/// Liveness as Label Studio answers it (`{"status": "UP"}`), which the SDK's legacy client's
/// `check_connection` reads.
#[utoipa::path(get, path = "/health", tag = "health", responses((status = 200, body = Health), (status = 503)))]
pub async fn label_studio_health(State(state): State<AppState>) -> ApiResult<Json<Health>> {
    checked_health(&state, "UP").await
}

async fn checked_health(state: &AppState, up: &'static str) -> ApiResult<Json<Health>> {
    match state.service.health().await {
        Ok(()) => Ok(Json(Health { status: up })),
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
