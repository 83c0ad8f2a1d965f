//! SCIM's wire conventions: the `application/scim+json` media type, the error body of RFC
//! 7644 §3.12, the caller (a SCIM token, or an Owner's or Administrator's own credential as
//! Label Studio Enterprise allows), request bodies and ETags.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use roster_domain::{RuleViolation, Source};
use roster_service::scim::{Precondition, ScimCaller};
use roster_service::ServiceError;
use serde_json::{json, Value};

use crate::extract::{context, media_type};
use crate::AppState;

pub const SCIM_JSON: &str = "application/scim+json";
pub const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
pub const LIST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";

/// A SCIM error: its HTTP status, `scimType` where RFC 7644 names one, and a detail.
#[derive(Debug)]
pub struct ScimError {
    pub status: StatusCode,
    pub scim_type: Option<&'static str>,
    pub detail: String,
}

impl ScimError {
    pub fn new(
        status: StatusCode,
        scim_type: Option<&'static str>,
        detail: impl Into<String>,
    ) -> Self {
        ScimError {
            status,
            scim_type,
            detail: detail.into(),
        }
    }

    pub fn bad(scim_type: &'static str, detail: impl Into<String>) -> Self {
        ScimError::new(StatusCode::BAD_REQUEST, Some(scim_type), detail)
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        ScimError::new(StatusCode::NOT_FOUND, None, detail)
    }
}

impl From<ServiceError> for ScimError {
    fn from(e: ServiceError) -> ScimError {
        let detail = e.to_string();
        let (status, scim_type) = match &e {
            ServiceError::Unauthenticated(_) => (StatusCode::UNAUTHORIZED, None),
            ServiceError::Denied(_) | ServiceError::Forbidden(_) => (StatusCode::FORBIDDEN, None),
            ServiceError::NotFound(_) => (StatusCode::NOT_FOUND, None),
            ServiceError::Rule(RuleViolation::IdpCannotManageOwner) => {
                (StatusCode::BAD_REQUEST, Some("mutability"))
            }
            ServiceError::Rule(RuleViolation::RemovedMemberNeedsInvite) => {
                (StatusCode::CONFLICT, None)
            }
            ServiceError::Rule(_) => (StatusCode::CONFLICT, None),
            ServiceError::Conflict(_) | ServiceError::ScimConflict(_) => {
                (StatusCode::CONFLICT, Some("uniqueness"))
            }
            ServiceError::ScimRefused(_) => (StatusCode::CONFLICT, None),
            ServiceError::PreconditionFailed(_) => (StatusCode::PRECONDITION_FAILED, None),
            ServiceError::ScimMutability(_) => (StatusCode::BAD_REQUEST, Some("mutability")),
            ServiceError::ScimInvalidFilter(_) => (StatusCode::BAD_REQUEST, Some("invalidFilter")),
            ServiceError::ScimInvalidValue(_) | ServiceError::Invalid { .. } => {
                (StatusCode::BAD_REQUEST, Some("invalidValue"))
            }
            ServiceError::Throttled(_) => (StatusCode::TOO_MANY_REQUESTS, None),
            ServiceError::Busy(_) | ServiceError::Unavailable(_) => {
                (StatusCode::SERVICE_UNAVAILABLE, None)
            }
            ServiceError::CheckFailed(_) => (StatusCode::UNPROCESSABLE_ENTITY, None),
            ServiceError::Store(_) | ServiceError::Internal(_) => {
                tracing::error!(error = %e, "SCIM request failed");
                (StatusCode::INTERNAL_SERVER_ERROR, None)
            }
        };
        let detail = if status == StatusCode::INTERNAL_SERVER_ERROR {
            "Internal server error.".to_string()
        } else {
            detail
        };
        ScimError::new(status, scim_type, detail)
    }
}

impl ScimError {
    /// The error body of RFC 7644 §3.12 (also a failed Bulk operation's `response`).
    pub fn body(&self) -> Value {
        let mut body = json!({
            "schemas": [ERROR_SCHEMA],
            "status": self.status.as_u16().to_string(),
            "detail": self.detail,
        });
        if let Some(t) = self.scim_type {
            body["scimType"] = json!(t);
        }
        body
    }
}

impl IntoResponse for ScimError {
    fn into_response(self) -> Response {
        let mut res = (self.status, scim_json(&self.body())).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            res.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"SCIM\""),
            );
        }
        res
    }
}

pub type ScimResult<T> = Result<T, ScimError>;

/// A page of a list or search (RFC 7644 §3.4.2).
pub fn list_response(total: i64, start_index: i64, resources: Vec<Value>) -> Response {
    ScimJson(json!({
        "schemas": [LIST_SCHEMA],
        "totalResults": total,
        "startIndex": start_index,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    }))
    .into_response()
}

/// A JSON body sent as `application/scim+json`.
pub struct ScimJson(pub Value);

impl IntoResponse for ScimJson {
    fn into_response(self) -> Response {
        scim_json(&self.0).into_response()
    }
}

fn scim_json(body: &Value) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, HeaderValue::from_static(SCIM_JSON))],
        body.to_string(),
    )
}

/// A resource answer with its ETag (and Location, for a creation). The version is passed
/// apart from the body, which `attributes` may have left without `meta`.
pub fn resource_response(
    status: StatusCode,
    body: Option<Value>,
    version: i64,
    location: Option<String>,
) -> Response {
    let mut res = match body {
        Some(body) => (status, ScimJson(body)).into_response(),
        None => status.into_response(),
    };
    if let Ok(v) = HeaderValue::from_str(&etag(version)) {
        res.headers_mut().insert(header::ETAG, v);
    }
    if let Some(l) = location.and_then(|l| HeaderValue::from_str(&l).ok()) {
        res.headers_mut().insert(header::LOCATION, l);
    }
    res
}

/// The ETag of a resource version: weak, since the representation depends on the request.
pub fn etag(version: i64) -> String {
    format!("W/\"{version}\"")
}

/// The version an `If-Match` header names (`*` or absent: none).
pub fn if_match(headers: &HeaderMap) -> ScimResult<Precondition> {
    let Some(value) = headers.get(header::IF_MATCH) else {
        return Ok(Precondition(None));
    };
    let value = value
        .to_str()
        .map_err(|_| ScimError::bad("invalidVers", "If-Match is not readable"))?;
    precondition(value)
}

/// The version an ETag names as a precondition (`If-Match`, or a Bulk operation's
/// `version`); `*`: none.
pub fn precondition(value: &str) -> ScimResult<Precondition> {
    let value = value.trim();
    if value == "*" {
        return Ok(Precondition(None));
    }
    parse_etag(value)
        .map(|v| Precondition(Some(v)))
        .ok_or_else(|| {
            ScimError::new(
                StatusCode::PRECONDITION_FAILED,
                Some("invalidVers"),
                format!("{value} names no version of this resource"),
            )
        })
}

fn parse_etag(value: &str) -> Option<i64> {
    value
        .trim_start_matches("W/")
        .trim_matches('"')
        .parse()
        .ok()
}

/// Whether `If-None-Match` names the resource's current version (then the answer is 304).
pub fn not_modified(headers: &HeaderMap, version: i64) -> bool {
    headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|t| t.trim() == "*" || parse_etag(t.trim()) == Some(version))
        })
}

/// The 304 answer to a read whose `If-None-Match` names the current version; it carries the
/// ETag a 200 would have (RFC 7232 §4.1 requires it).
pub fn not_modified_response(version: i64) -> Response {
    let mut res = StatusCode::NOT_MODIFIED.into_response();
    if let Ok(v) = HeaderValue::from_str(&etag(version)) {
        res.headers_mut().insert(header::ETAG, v);
    }
    res
}

/// The caller of a SCIM request, read fresh for every request.
pub struct Scim(pub ScimCaller);

impl FromRequestParts<AppState> for Scim {
    type Rejection = ScimError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ScimError> {
        let ctx = context(parts, Source::Scim);
        let missing = || {
            ScimError::new(
                StatusCode::UNAUTHORIZED,
                None,
                "Send the organization's SCIM token as `Authorization: Bearer <token>`.",
            )
        };
        let value = parts
            .headers
            .get(header::AUTHORIZATION)
            .ok_or_else(missing)?
            .to_str()
            .map_err(|_| missing())?
            .trim()
            .to_string();
        let (scheme, token) = value.split_once(' ').ok_or_else(missing)?;
        let token = token.trim();
        if token.is_empty() || token.len() > 4096 || token.chars().any(char::is_control) {
            return Err(missing());
        }
        let service = &state.service;
        let caller = if scheme.eq_ignore_ascii_case("bearer") && token.starts_with("scim_") {
            service.authenticate_scim_token(token, ctx).await?
        } else {
            // Label Studio Enterprise lets the Owner's or an Administrator's own credential
            // speak for SCIM: a legacy key under `Token` or `Bearer`, or a PAT access token.
            let is_legacy_key = token.len() == 40 && token.chars().all(|c| c.is_ascii_hexdigit());
            let who = if scheme.eq_ignore_ascii_case("token")
                || (scheme.eq_ignore_ascii_case("bearer") && is_legacy_key)
            {
                service.authenticate_legacy_key(token).await?
            } else if scheme.eq_ignore_ascii_case("bearer") {
                service.authenticate_access_token(token).await?
            } else {
                return Err(missing());
            };
            service.scim_caller_for(&who, ctx).await?
        };
        Ok(Scim(caller))
    }
}

/// A SCIM request body: a JSON object, as `application/scim+json` or `application/json`.
pub struct ScimBody(pub Value);

impl<S: Send + Sync> FromRequest<S> for ScimBody {
    type Rejection = ScimError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ScimError> {
        let mt = media_type(req.headers());
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| ScimError::new(e.status(), None, e.body_text()))?;
        if !(mt.is_empty() || mt == SCIM_JSON || mt == "application/json") {
            return Err(ScimError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                None,
                "Send the body as application/scim+json.",
            ));
        }
        let value: Value = serde_json::from_slice(&bytes)
            .map_err(|e| ScimError::bad("invalidSyntax", format!("the body is not JSON: {e}")))?;
        if !value.is_object() {
            return Err(ScimError::bad(
                "invalidSyntax",
                "the body must be a JSON object",
            ));
        }
        // PostgreSQL cannot store NUL; refused here so both databases answer alike.
        crate::text::check_json_free_form(&value).map_err(|bad| {
            ScimError::bad("invalidValue", format!("{}: {}", bad.field, bad.message))
        })?;
        Ok(ScimBody(value))
    }
}

/// Refuses, before any SCIM handler runs, a path with control characters (no id or name has
/// them) and a query string with NUL (PostgreSQL cannot compare it): a 400 in SCIM's error
/// body, instead of a database error.
pub async fn refuse_bad_text(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let path = percent_encoding::percent_decode_str(req.uri().path()).decode_utf8_lossy();
    if path.chars().any(char::is_control) {
        return ScimError::bad(
            "invalidValue",
            "the path must not contain control characters",
        )
        .into_response();
    }
    if let Some(query) = req.uri().query() {
        if let Ok(pairs) = serde_urlencoded::from_str::<Vec<(String, String)>>(query) {
            if let Some((name, _)) = pairs
                .iter()
                .find(|(k, v)| k.contains('\0') || v.contains('\0'))
            {
                return ScimError::bad(
                    "invalidValue",
                    format!("{name} must not contain the NUL character"),
                )
                .into_response();
            }
        }
    }
    next.run(req).await
}
