//! The one authorization path. `Caller` finds who is calling from their credential;
//! `InOrg<A>` and `InActiveOrg<A>` then resolve the organization the request touches and
//! hand the handler proof of access level `A`, read fresh from the store on every request.
//! `JsonBody<T>` turns bad JSON into a 400 that names the field.

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, RawPathParams, Request};
use axum::http::request::Parts;
use axum::http::{header, Method};
use axum_extra::extract::CookieJar;
use roster_domain::Source;
use roster_service::{AccessLevel, Authenticated, Authorized, Context, CredentialKind, OrgRef};
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::AppState;

pub const SESSION_COOKIE: &str = "roster_session";
pub const CSRF_COOKIE: &str = "roster_csrf";
pub const CSRF_HEADER: &str = "x-csrftoken";

/// The request's origin for audit and throttling.
pub fn context(parts: &Parts, source: Source) -> Context {
    let address = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ci| ci.0.ip().to_string());
    Context { source, address }
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// The credential a request carries, if any.
enum Credential {
    Legacy(String),
    Access(String),
    Session(String),
}

fn credential(parts: &Parts) -> Result<Option<Credential>, ApiError> {
    if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
        let value = value
            .to_str()
            .map_err(|_| ApiError::unauthenticated("Malformed Authorization header."))?;
        let (scheme, token) = value.trim().split_once(' ').ok_or_else(|| {
            ApiError::unauthenticated(
                "Malformed Authorization header; use `Token <key>` or `Bearer <token>`.",
            )
        })?;
        let token = token.trim().to_string();
        return match scheme {
            s if s.eq_ignore_ascii_case("token") => Ok(Some(Credential::Legacy(token))),
            s if s.eq_ignore_ascii_case("bearer") => Ok(Some(Credential::Access(token))),
            _ => Err(ApiError::unauthenticated(
                "Unsupported authorization scheme; use `Token <key>` or `Bearer <token>`.",
            )),
        };
    }
    if let Some(value) = parts.headers.get("x-api-key") {
        let token = value
            .to_str()
            .map_err(|_| ApiError::unauthenticated("Malformed X-API-Key header."))?;
        return Ok(Some(Credential::Access(token.trim().to_string())));
    }
    let jar = CookieJar::from_headers(&parts.headers);
    Ok(jar
        .get(SESSION_COOKIE)
        .map(|c| Credential::Session(c.value().to_string())))
}

/// Authenticates without the CSRF check (used by `Caller`, and by form handlers that check
/// the form's token field themselves).
pub async fn authenticate(parts: &Parts, state: &AppState) -> Result<Authenticated, ApiError> {
    let service = &state.service;
    let who = match credential(parts)? {
        None => {
            return Err(ApiError::unauthenticated(
                "Authentication credentials were not provided.",
            ))
        }
        Some(Credential::Legacy(k)) => service.authenticate_legacy_key(&k).await?,
        Some(Credential::Access(t)) => service.authenticate_access_token(&t).await?,
        Some(Credential::Session(s)) => service.authenticate_session(&s).await?,
    };
    service.note_activity(&who.user).await?;
    Ok(who)
}

/// The signed-in user, for user-level endpoints. Cookie-authenticated changes must carry the
/// session's CSRF token in the `X-CSRFToken` header.
pub struct Caller(pub Authenticated);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let who = authenticate(parts, state).await?;
        if who.kind == CredentialKind::Session && !is_safe(&parts.method) {
            let sent = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
            if sent.is_none() || sent != who.csrf_token.as_deref() {
                return Err(ApiError::forbidden(
                    "CSRF token missing or incorrect; send it in the X-CSRFToken header.",
                ));
            }
        }
        Ok(Caller(who))
    }
}

fn path_org(parts: &Parts, params: &RawPathParams) -> Result<OrgRef, ApiError> {
    let _ = parts;
    let raw = params
        .iter()
        .find(|(k, _)| *k == "id")
        .map(|(_, v)| v)
        .unwrap_or("");
    raw.parse::<i64>()
        .map(OrgRef::Path)
        .map_err(|_| ApiError::not_found("No such organization."))
}

/// Proof of access level `A` in the organization named by the path's `{id}` (0 = my only one).
pub struct InOrg<A>(pub Authorized<A>);

impl<A: AccessLevel + Send + Sync + 'static> FromRequestParts<AppState> for InOrg<A> {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let params = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::not_found("No such organization."))?;
        let org = path_org(parts, &params)?;
        let Caller(who) = Caller::from_request_parts(parts, state).await?;
        let proof = state
            .service
            .authorize::<A>(&who, org, context(parts, Source::Api))
            .await?;
        Ok(InOrg(proof))
    }
}

/// Proof of access level `A` in the caller's active organization.
pub struct InActiveOrg<A>(pub Authorized<A>);

impl<A: AccessLevel + Send + Sync + 'static> FromRequestParts<AppState> for InActiveOrg<A> {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Caller(who) = Caller::from_request_parts(parts, state).await?;
        let proof = state
            .service
            .authorize::<A>(&who, OrgRef::Active, context(parts, Source::Api))
            .await?;
        Ok(InActiveOrg(proof))
    }
}

/// Path parameters; a value that cannot be read (such as invalid UTF-8) names no resource,
/// so it is a 404 in the one error shape, like any other unknown id.
pub struct PathParams<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for PathParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| PathParams(p.0))
            .map_err(|_| ApiError::not_found("No such resource."))
    }
}

/// The request's context (address, source = API).
pub struct ApiContext(pub Context);

impl<S: Send + Sync> FromRequestParts<S> for ApiContext {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ApiContext(context(parts, Source::Api)))
    }
}

/// The request's media type, lower-cased and without parameters ("application/json").
pub fn media_type(headers: &axum::http::HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|ct| ct.split(';').next())
        .map(|t| t.trim().to_ascii_lowercase())
        .unwrap_or_default()
}

/// A JSON body. Wrong content type, malformed JSON, unknown fields and wrong types are a 400
/// naming the field; a body over the limit is a 413.
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = media_type(req.headers()) == "application/json";
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| ApiError::new(e.status(), e.body_text()))?;
        if !is_json {
            return Err(ApiError::new(
                axum::http::StatusCode::BAD_REQUEST,
                "Send the body as JSON with Content-Type: application/json.",
            ));
        }
        parse_json(&bytes).map(JsonBody)
    }
}

/// Parses JSON, naming the offending field on failure.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    // Every body is an object; serde would also read a struct from an array (`[]`), which is not
    // what the document describes.
    if bytes
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| *b != b'{')
    {
        return Err(ApiError::bad_request("The body must be a JSON object."));
    }
    let body = if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        &b"{}"[..]
    } else {
        bytes
    };
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            ApiError::bad_request(format!("Malformed JSON: {inner}"))
        } else {
            field_error(&path, inner.to_string())
        }
    })
}

/// A deserialization error as a 400 naming the field: a missing field is named itself (not
/// the object that lacks it), anything else at the top level is a `non_field_errors` entry.
fn field_error(path: &str, message: String) -> ApiError {
    if let Some(field) = message
        .strip_prefix("missing field `")
        .and_then(|m| m.split('`').next())
    {
        let field = if path == "." {
            field.to_string()
        } else {
            format!("{path}.{field}")
        };
        return ApiError::invalid(&field, "This field is required.");
    }
    if path == "." {
        ApiError::invalid("non_field_errors", message)
    } else {
        ApiError::invalid(path, message)
    }
}

/// Query-string parameters; a value of the wrong type is a 400 naming the parameter.
/// Unknown parameters are ignored (clients such as the SDK send more than roster filters on).
pub struct QueryParams<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for QueryParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let q = parts.uri.query().unwrap_or("");
        let de = serde_urlencoded::Deserializer::new(url::form_urlencoded::parse(q.as_bytes()));
        serde_path_to_error::deserialize(de)
            .map(QueryParams)
            .map_err(|e| {
                let path = e.path().to_string();
                field_error(&path, e.into_inner().to_string())
            })
    }
}

/// A body sent either as an HTML form or as JSON; `form` tells the handler which, so it can
/// answer with a page or with JSON.
pub struct FormOrJson<T> {
    pub value: T,
    pub form: bool,
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for FormOrJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let ct = media_type(req.headers());
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| ApiError::new(e.status(), e.body_text()))?;
        match ct.as_str() {
            crate::api::session::FORM => {
                let de = serde_urlencoded::Deserializer::new(url::form_urlencoded::parse(&bytes));
                let value = serde_path_to_error::deserialize(de).map_err(|e| {
                    let path = e.path().to_string();
                    field_error(&path, e.into_inner().to_string())
                })?;
                Ok(FormOrJson { value, form: true })
            }
            "application/json" => Ok(FormOrJson {
                value: parse_json(&bytes)?,
                form: false,
            }),
            _ => Err(ApiError::bad_request(
                "Send the body as JSON or as an HTML form.",
            )),
        }
    }
}
