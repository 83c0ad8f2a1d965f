//! roster's HTTP adapter: the REST API (Label Studio Enterprise compatible), the sign-in and
//! sign-up pages, and the one extractor that authorizes every request. Handlers turn HTTP
//! into service calls and service results into JSON; they decide no rule themselves.

mod activity;
pub mod api;
pub mod ceiling;
mod error;
pub mod extract;
mod metrics;
mod multipart;
mod paging;
pub mod scim;
mod text;
pub mod views;
mod web;

use std::time::Duration;

use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use roster_service::Service;
use tower::{Layer, ServiceBuilder};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::normalize_path::NormalizePathLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

pub use api::docs::openapi_document;
pub use error::{ApiError, ApiResult};
pub use web::page_routes;

/// Request bodies above this are refused with 413.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Settings of the web side.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// Mark cookies Secure (serve behind HTTPS).
    pub cookie_secure: bool,
    /// The bearer token Prometheus sends to read `/metrics`; without one `/metrics` is not
    /// served (it lists every organization's seat use).
    pub metrics_token: Option<String>,
    /// How long a connection may take to send a request's headers, and may sit idle between
    /// requests, before it is closed.
    pub header_read_timeout: Duration,
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            cookie_secure: false,
            metrics_token: None,
            header_read_timeout: Duration::from_secs(10),
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub service: Service,
    pub web: WebConfig,
    pub metrics: metrics::Metrics,
}

impl AppState {
    pub fn new(service: Service, web: WebConfig) -> AppState {
        AppState {
            service,
            web,
            metrics: metrics::Metrics::default(),
        }
    }
}

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

async fn not_found() -> ApiError {
    ApiError::not_found("No such endpoint.")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "Method not allowed on this endpoint.",
    )
}

fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked");
    ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error.").into_response()
}

/// The whole application: routes, error fallbacks, limits, security headers, request ids
/// and request logs (method, path without query, status, latency; never a header value).
pub fn app(state: AppState) -> Router {
    let routes = api::routes()
        .merge(scim::routes())
        .merge(web::routes().layer(axum::middleware::from_fn_with_state(
            state.clone(),
            web::same_site_forms,
        )))
        .merge(web::cross_site_routes())
        .route("/metrics", axum::routing::get(metrics::render))
        // Around every route, so each change is recorded with the status it got.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            activity::record,
        ))
        // Before any extractor runs, so `Session` sees a form's (or JSON body's) csrf_token.
        .layer(axum::middleware::from_fn(extract::body_csrf))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            state.metrics.clone(),
            metrics::track,
        ))
        .with_state(state);
    common_layers(routes)
}

/// The layers around every answer, whatever the routes: request ids, request logs, panics
/// turned into 500s, the body limit and the security headers. The benchmark's ceiling server
/// (`roster dev ceiling`) wraps its bare handler in these same layers.
pub fn common_layers(routes: Router) -> Router {
    let request_id = HeaderName::from_static("x-request-id");
    let trace = TraceLayer::new_for_http()
        .make_span_with(|req: &Request| {
            let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("");
            tracing::info_span!("request", id = %id, method = %req.method(), path = %req.uri().path())
        })
        .on_request(())
        .on_response(|res: &axum::http::Response<_>, latency: Duration, _: &tracing::Span| {
            tracing::info!(status = res.status().as_u16(), latency_ms = latency.as_secs_f64() * 1000.0, "served");
        });
    routes.layer(
        ServiceBuilder::new()
            .layer(SetRequestIdLayer::new(request_id.clone(), MakeRequestUuid))
            .layer(trace)
            .layer(PropagateRequestIdLayer::new(request_id))
            .layer(CatchPanicLayer::custom(panic_response))
            .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
            .layer(SetResponseHeaderLayer::if_not_present(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(CSP),
            ))
            .layer(SetResponseHeaderLayer::if_not_present(
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ))
            .layer(SetResponseHeaderLayer::if_not_present(
                header::X_FRAME_OPTIONS,
                HeaderValue::from_static("DENY"),
            ))
            .layer(SetResponseHeaderLayer::if_not_present(
                header::REFERRER_POLICY,
                HeaderValue::from_static("same-origin"),
            ))
            // Answers carry keys, tokens, invite links and CSRF tokens: no cache keeps
            // them. Static files set their own caching.
            .layer(SetResponseHeaderLayer::if_not_present(
                header::CACHE_CONTROL,
                HeaderValue::from_static("no-store"),
            )),
    )
}

/// Serves until `shutdown` resolves, then finishes the requests in flight. A connection that
/// does not send a request's headers within `header_read_timeout` (also the keep-alive idle
/// limit: hyper starts the timer whenever it waits for a request head) is closed, so slow or
/// stalled clients cannot hold connections open.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let timeout = state.web.header_read_timeout;
    serve_router(listener, app(state), timeout, shutdown).await
}

/// [`serve`] for any router: how connections are accepted, timed out and shut down.
pub async fn serve_router(
    listener: tokio::net::TcpListener,
    router: Router,
    timeout: Duration,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioIo, TokioTimer};
    use tower::ServiceExt as _;

    // Trailing slashes are trimmed before routing, so every path works with and without one.
    let app = NormalizePathLayer::trim_trailing_slash().layer(router);
    // HTTP/1.1 only (roster serves no HTTP/2 without TLS): hyper starts the header timer as
    // soon as a connection is accepted, so a client that sends nothing is closed as well.
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(timeout);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of file descriptors and the like: wait instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let app = app.clone();
        let service = hyper::service::service_fn(move |mut req: Request<hyper::body::Incoming>| {
            req.extensions_mut()
                .insert(axum::extract::ConnectInfo(remote));
            app.clone().oneshot(req.map(axum::body::Body::new))
        });
        let conn = graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            let _ = conn.await;
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}
