//! The one authorization path. `Caller` finds who is calling from their credential;
//! `InOrg<A>` and `InActiveOrg<A>` then resolve the organization the request touches and
//! hand the handler proof of access level `A`, read fresh from the store on every request.
//! `JsonBody<T>` turns bad JSON into a 400 that names the field. Every text input (JSON, query
//! strings, forms, path parameters, credentials) passes `crate::text`'s rule here, before any
//! handler sees it; each protocol answers a refusal in its own format (`Refusal`).

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, RawPathParams, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, Method};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use roster_domain::Source;
use roster_service::{AccessLevel, Authenticated, Authorized, Context, CredentialKind, OrgRef};
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::text::{self, BadText};
use crate::AppState;

impl From<BadText> for ApiError {
    fn from(bad: BadText) -> ApiError {
        ApiError::invalid(&bad.field, bad.message)
    }
}

/// How a refused request is answered: the REST API's JSON error, or a page's message for a
/// browser. (A future SCIM endpoint adds its own RFC 7644 body here.)
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Answer {
    Json,
    Page,
}

impl Answer {
    /// Pages live outside `/api/`; a browser that opens one or posts a form to it gets a page,
    /// a client that sends or asks for JSON gets JSON.
    pub fn of(parts: &Parts) -> Answer {
        Answer::for_request(parts.uri.path(), &parts.method, &parts.headers)
    }

    fn for_request(path: &str, method: &Method, headers: &HeaderMap) -> Answer {
        let reads_page = is_safe(method) || media_type(headers) == FORM;
        if path.starts_with("/api/") || crate::web::wants_json(headers) || !reads_page {
            Answer::Json
        } else {
            Answer::Page
        }
    }

    pub fn refuse(self, e: ApiError) -> Response {
        match self {
            Answer::Json => e.into_response(),
            Answer::Page => crate::web::problem_page(e.status, &e.detail),
        }
    }
}

/// Whether a request carries an `Origin` header naming another site: neither the server's
/// public URL nor the host the request was sent to. Browsers send Origin with every POST, so
/// a form posted from a foreign page (login CSRF) is recognised here.
pub fn foreign_origin(headers: &HeaderMap, public_url: &str) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return false;
    };
    let Some(origin) = origin.to_str().ok().and_then(|o| url::Url::parse(o).ok()) else {
        return true; // "null" (sandboxed or file pages) or garbage
    };
    if url::Url::parse(public_url).is_ok_and(|own| own.origin() == origin.origin()) {
        return false;
    }
    let authority = &origin[url::Position::BeforeHost..url::Position::AfterPort];
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    !(origin.host().is_some() && host.is_some_and(|h| h.eq_ignore_ascii_case(authority)))
}

pub const SESSION_COOKIE: &str = "roster_session";
pub const CSRF_COOKIE: &str = "roster_csrf";
pub const CSRF_HEADER: &str = "x-csrftoken";

/// The media type of HTML form posts.
pub const FORM: &str = "application/x-www-form-urlencoded";

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
    /// The session cookie, read and checked by `Session`.
    Session,
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
        let token = credential_text(token.trim(), "Authorization")?;
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
        return Ok(Some(Credential::Access(credential_text(
            token.trim(),
            "X-API-Key",
        )?)));
    }
    let jar = CookieJar::from_headers(&parts.headers);
    Ok(jar.get(SESSION_COOKIE).map(|_| Credential::Session))
}

/// A credential is a single-line token; anything else is malformed, not a look-up.
fn credential_text(token: &str, source: &str) -> Result<String, ApiError> {
    text::check_path(source, token)
        .map(|_| token.to_string())
        .map_err(|_| ApiError::unauthenticated(format!("Malformed {source} credential.")))
}

/// Authenticates the request's credential, whichever it is. A session cookie goes through the
/// same check as `Session` (CSRF included), so no caller can skip it.
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
        Some(Credential::Session) => return Session::check(parts, state).await,
    };
    admit(parts, state, who).await
}

/// The last step of every authentication: a cookie-authenticated change must carry the
/// session's CSRF token, and only then is the user's activity noted (a refused request
/// writes nothing).
async fn admit(
    parts: &Parts,
    state: &AppState,
    who: Authenticated,
) -> Result<Authenticated, ApiError> {
    if who.kind == CredentialKind::Session && !is_safe(&parts.method) {
        check_csrf(parts, who.csrf_token.as_deref())?;
    }
    state.service.note_activity(&who.user).await?;
    crate::activity::made_by(parts, who.user.id, who.sso_org.or(who.user.active_org));
    Ok(who)
}

/// The one CSRF comparison. Scripts and API clients send the token in the `X-CSRFToken`
/// header (or a JSON body's `csrf_token`); an HTML form carries it in its own `csrf_token`
/// field (read by `body_csrf`), which it must. Every token sent must be the session's.
fn check_csrf(parts: &Parts, expected: Option<&str>) -> Result<(), ApiError> {
    use subtle::ConstantTimeEq;
    let header = parts.headers.get(CSRF_HEADER).map(|v| v.as_bytes());
    let body = parts.extensions.get::<BodyCsrf>().map(|t| t.0.as_bytes());
    let form_without_field = media_type(&parts.headers) == FORM && body.is_none();
    let sent: Vec<&[u8]> = header.into_iter().chain(body).collect();
    let matches = |token: &&[u8]| expected.is_some_and(|e| bool::from(token.ct_eq(e.as_bytes())));
    if !sent.is_empty() && !form_without_field && sent.iter().all(matches) {
        return Ok(());
    }
    Err(ApiError::forbidden(
        "CSRF token missing or incorrect; send the session's token in the X-CSRFToken \
         header, or in the form's csrf_token field (on a page: reload it and try again).",
    ))
}

/// The `csrf_token` field of a request's body, put in its extensions by `body_csrf` so that
/// `Session` can check it before the handler reads the body.
#[derive(Clone)]
pub struct BodyCsrf(pub String);

/// Reads the `csrf_token` field of a form or JSON body into the extensions, for a change sent
/// with a session cookie (an HTML form, a JSON logout). Other requests pass untouched. Bodies
/// are bounded by the body limit, so buffering is cheap.
pub async fn body_csrf(req: Request, next: axum::middleware::Next) -> Response {
    let media = media_type(req.headers());
    let reads_field = !is_safe(req.method())
        && (media == FORM || media == "application/json")
        && CookieJar::from_headers(req.headers())
            .get(SESSION_COOKIE)
            .is_some();
    if !reads_field {
        return next.run(req).await;
    }
    let answer = Answer::for_request(req.uri().path(), req.method(), req.headers());
    let (mut parts, body) = req.into_parts();
    let bytes = match axum::body::to_bytes(body, crate::MAX_BODY_BYTES).await {
        Ok(b) => b,
        Err(_) => {
            return answer.refuse(ApiError::new(
                axum::http::StatusCode::PAYLOAD_TOO_LARGE,
                "The request body is too large.",
            ))
        }
    };
    let token = if media == FORM {
        url::form_urlencoded::parse(&bytes)
            .find(|(k, _)| k == "csrf_token")
            .map(|(_, v)| v.into_owned())
    } else {
        // Only the one field; a malformed body is left for the handler to name.
        #[derive(serde::Deserialize)]
        struct Field {
            csrf_token: Option<String>,
        }
        serde_json::from_slice::<Field>(&bytes)
            .ok()
            .and_then(|f| f.csrf_token)
    };
    if let Some(token) = token {
        parts.extensions.insert(BodyCsrf(token));
    }
    next.run(Request::from_parts(parts, axum::body::Body::from(bytes)))
        .await
}

/// A browser session: the session cookie, authenticated fresh on every request, with the CSRF
/// token checked for changes. The one session check for the API and the pages: `Caller` uses
/// it for cookies, the pages' extractors build on it, logout and the sign-up confirmation call
/// `Session::check`. A refusal is answered as `Answer` decides (JSON, or a page).
pub struct Session(pub Authenticated);

impl Session {
    /// The signed-in user of the request's session cookie. No cookie, or one that names no
    /// live session, is a 401; a change without the right CSRF token is a 403.
    pub async fn check(parts: &Parts, state: &AppState) -> Result<Authenticated, ApiError> {
        let jar = CookieJar::from_headers(&parts.headers);
        let Some(cookie) = jar.get(SESSION_COOKIE) else {
            return Err(ApiError::unauthenticated("You are not signed in."));
        };
        let id = credential_text(cookie.value(), SESSION_COOKIE)?;
        let who = state.service.authenticate_session(&id).await?;
        admit(parts, state, who).await
    }
}

impl FromRequestParts<AppState> for Session {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Session::check(parts, state)
            .await
            .map(Session)
            .map_err(|e| Answer::of(parts).refuse(e))
    }
}

/// The request's parts, for handlers that authenticate after reading their body (the sign-up
/// confirmation) or read the request's address.
pub struct RequestParts(pub Parts);

impl<S: Send + Sync> FromRequestParts<S> for RequestParts {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(RequestParts(parts.clone()))
    }
}

/// The caller, for user-level endpoints: any credential (legacy key, access token, or a
/// session cookie checked as `Session` does, CSRF included).
pub struct Caller(pub Authenticated);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        authenticate(parts, state).await.map(Caller)
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
        // The activity log records the request in the organization it names, refused or
        // not, when the caller is a member there (otherwise in their active one).
        if let Some(m) = who
            .memberships
            .iter()
            .find(|m| OrgRef::Path(m.org.0) == org)
        {
            crate::activity::made_by(parts, who.user.id, Some(m.org));
        }
        let proof = state
            .service
            .authorize::<A>(&who, org, context(parts, Source::Api))
            .await?;
        crate::activity::made_by(parts, who.user.id, Some(proof.org_id()));
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
        if let Ok(raw) = RawPathParams::from_request_parts(parts, state).await {
            for (name, value) in raw.iter() {
                text::check_path(name, value)?;
            }
        }
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
        return Err(ApiError::invalid(
            "non_field_errors",
            "The body must be a JSON object.",
        ));
    }
    // No body at all reads as `{}` (clients send none for "change nothing"); blank text is
    // not a JSON document and falls to the parse below, which refuses it.
    let body = if bytes.is_empty() { &b"{}"[..] } else { bytes };
    // Read as a document first so the text rule sees every string whatever type `T` is; a
    // malformed document falls through to the typed parse below, which names the fault.
    if let Ok(doc) = serde_json::from_slice::<serde_json::Value>(body) {
        text::check_json(&doc)?;
    }
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
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let q = parts.uri.query().unwrap_or("");
        parse_pairs(q.as_bytes(), false)
            .map(QueryParams)
            .map_err(|e| Answer::of(parts).refuse(e))
    }
}

/// Decodes `name=value` pairs (query string or form) after the text rule, naming the field.
/// An HTML form's body, under the same text rules as every other form; the entry point the
/// form handlers and the fuzz targets share.
pub fn parse_form<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    parse_pairs(bytes, true)
}

fn parse_pairs<T: DeserializeOwned>(bytes: &[u8], form: bool) -> Result<T, ApiError> {
    text::check_pairs(bytes, form)?;
    let de = serde_urlencoded::Deserializer::new(url::form_urlencoded::parse(bytes));
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        field_error(&path, e.into_inner().to_string())
    })
}

/// An HTML form posted from one of the pages; a refusal is answered with a page (or JSON to
/// the page's script, which asks for it).
pub struct PageForm<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for PageForm<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let answer = Answer::for_request(req.uri().path(), req.method(), req.headers());
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| answer.refuse(ApiError::new(e.status(), e.body_text())))?;
        parse_pairs(&bytes, true)
            .map(PageForm)
            .map_err(|e| answer.refuse(e))
    }
}

/// A body sent either as an HTML form or as JSON; `form` tells the handler which, so it can
/// answer with a page or with JSON.
pub struct FormOrJson<T> {
    pub value: T,
    pub form: bool,
}

/// These posts sign people in or set their credentials, so one sent from a foreign page (login
/// CSRF) is refused before it is read.
impl<T: DeserializeOwned> FromRequest<AppState> for FormOrJson<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let ct = media_type(req.headers());
        let answer = if ct == FORM {
            Answer::Page
        } else {
            Answer::Json
        };
        if foreign_origin(req.headers(), &state.service.config().public_url) {
            return Err(answer.refuse(ApiError::forbidden(
                "This form was sent from another site; open the page here and try again.",
            )));
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| answer.refuse(ApiError::new(e.status(), e.body_text())))?;
        match ct.as_str() {
            FORM => parse_pairs(&bytes, true)
                .map(|value| FormOrJson { value, form: true })
                .map_err(|e| answer.refuse(e)),
            "application/json" => parse_json(&bytes)
                .map(|value| FormOrJson { value, form: false })
                .map_err(|e| answer.refuse(e)),
            _ => Err(answer.refuse(ApiError::bad_request(
                "Send the body as JSON or as an HTML form.",
            ))),
        }
    }
}
