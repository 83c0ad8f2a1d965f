//! Prometheus metrics at `/metrics`, for a scraper holding `ROSTER_METRICS_TOKEN`: requests by
//! route, method and status, their latency, database pool use, password hashes running (and
//! their peak), and seats used per organization (read when scraped).

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

use subtle::ConstantTimeEq;

use crate::error::ApiError;
use crate::AppState;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolLabels {
    state: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReadLabels {
    ran: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HeapLabels {
    at: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SearchCountLabels {
    how: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OrgLabels {
    organization: i64,
}

/// The process's metrics. Cheap to clone.
#[derive(Clone)]
pub struct Metrics {
    inner: Arc<Inner>,
}

struct Inner {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram>,
    pool: Family<PoolLabels, Gauge>,
    reads: Family<ReadLabels, Gauge>,
    sqlite_heap: Family<HeapLabels, Gauge>,
    search_counts: Family<SearchCountLabels, Gauge>,
    search_lookups_skipped: Gauge,
    seats: Family<OrgLabels, Gauge>,
    hashes_allowed: Gauge,
    hashes_running: Gauge,
    hashes_running_peak: Gauge,
    hashes_refused: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("roster");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.0005, 2.0, 16))
        });
        let pool = Family::<PoolLabels, Gauge>::default();
        let reads = Family::<ReadLabels, Gauge>::default();
        let sqlite_heap = Family::<HeapLabels, Gauge>::default();
        let search_counts = Family::<SearchCountLabels, Gauge>::default();
        let seats = Family::<OrgLabels, Gauge>::default();
        registry.register("http_requests", "HTTP requests served", requests.clone());
        registry.register(
            "http_request_duration_seconds",
            "Time to serve a request",
            latency.clone(),
        );
        registry.register(
            "db_pool_connections",
            "Database connections by state",
            pool.clone(),
        );
        registry.register(
            "sqlite_reads",
            "SQLite reads since start by where they ran: on the async worker (inline) or moved \
             to a blocking thread after too many steps (moved)",
            reads.clone(),
        );
        registry.register(
            "sqlite_heap_bytes",
            "Heap held by SQLite over all connections: now, and the most since start (peak)",
            sqlite_heap.clone(),
        );
        registry.register(
            "member_search_counts",
            "Counts of broad member searches since start, by how they were found: unchanged \
             since a kept count, brought forward through the search journal, or taken by \
             visiting every member",
            search_counts.clone(),
        );
        let search_lookups_skipped = Gauge::default();
        registry.register(
            "member_search_lookups_skipped",
            "Member searches since start whose term the trigram index had found too common to \
             narrow less than a minute before, so it was not asked again",
            search_lookups_skipped.clone(),
        );
        registry.register("seats_used", "Seats in use per organization", seats.clone());
        let hashes_allowed = Gauge::default();
        let hashes_running = Gauge::default();
        let hashes_running_peak = Gauge::default();
        let hashes_refused = Counter::default();
        registry.register(
            "password_hashes_allowed",
            "Password hashes that may run at once (ROSTER_MAX_CONCURRENT_HASHES)",
            hashes_allowed.clone(),
        );
        registry.register(
            "password_hashes_running",
            "Password hashes running now",
            hashes_running.clone(),
        );
        registry.register(
            "password_hashes_running_peak",
            "The most password hashes that ran at once since start",
            hashes_running_peak.clone(),
        );
        registry.register(
            "password_hashes_refused",
            "Password checks refused with 503 because too many were waiting",
            hashes_refused.clone(),
        );
        Metrics {
            inner: Arc::new(Inner {
                registry,
                requests,
                latency,
                pool,
                reads,
                sqlite_heap,
                search_counts,
                search_lookups_skipped,
                seats,
                hashes_allowed,
                hashes_running,
                hashes_running_peak,
                hashes_refused,
            }),
        }
    }
}

/// Counts and times every request, labelled by its route pattern (never the raw path, so ids
/// and tokens do not become labels).
pub(crate) async fn track(State(metrics): State<Metrics>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let method = req.method().to_string();
    let started = Instant::now();
    let res = next.run(req).await;
    let labels = RouteLabels {
        method: method.clone(),
        route: route.clone(),
    };
    metrics
        .inner
        .latency
        .get_or_create(&labels)
        .observe(started.elapsed().as_secs_f64());
    metrics
        .inner
        .requests
        .get_or_create(&RequestLabels {
            method,
            route,
            status: res.status().as_u16(),
        })
        .inc();
    res
}

/// Whether the request carries the configured metrics token as `Authorization: Bearer`.
fn scraper_allowed(expected: &str, headers: &HeaderMap) -> bool {
    let sent = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    sent.as_bytes().ct_eq(expected.as_bytes()).into()
}

/// The metrics in Prometheus' text format, for a scraper holding the metrics token. Without
/// a configured token there is no `/metrics` at all.
pub(crate) async fn render(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(expected) = state.web.metrics_token.as_deref() else {
        return ApiError::not_found("No such endpoint.").into_response();
    };
    if !scraper_allowed(expected, &headers) {
        let mut res = ApiError::unauthenticated(
            "Send the metrics token as `Authorization: Bearer <ROSTER_METRICS_TOKEN>`.",
        )
        .into_response();
        res.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        return res;
    }
    let m = &state.metrics.inner;
    let (open, idle) = state.service.pool_stats();
    m.pool
        .get_or_create(&PoolLabels { state: "open" })
        .set(open as i64);
    m.pool
        .get_or_create(&PoolLabels { state: "idle" })
        .set(idle as i64);
    if let Some((inline, moved)) = state.service.read_routing() {
        for (ran, n) in [("inline", inline), ("moved", moved)] {
            m.reads.get_or_create(&ReadLabels { ran }).set(n as i64);
        }
    }
    if let Some((now, peak)) = state.service.sqlite_heap() {
        for (at, n) in [("now", now), ("peak", peak)] {
            m.sqlite_heap.get_or_create(&HeapLabels { at }).set(n);
        }
    }
    let counted = state.service.search_count_stats();
    m.search_lookups_skipped.set(counted.lookups_skipped as i64);
    for (how, n) in [
        ("unchanged", counted.unchanged),
        ("brought_forward", counted.brought_forward),
        ("taken", counted.taken),
    ] {
        m.search_counts
            .get_or_create(&SearchCountLabels { how })
            .set(n as i64);
    }
    let hashing = state.service.password_hashing();
    let stats = hashing.stats();
    m.hashes_allowed.set(hashing.allowed() as i64);
    m.hashes_running.set(stats.running.load(Ordering::Relaxed));
    m.hashes_running_peak
        .set(stats.running_peak.load(Ordering::Relaxed));
    let refused = stats.refused.load(Ordering::Relaxed);
    m.hashes_refused
        .inc_by(refused.saturating_sub(m.hashes_refused.get()));
    match state.service.seats_in_use().await {
        Ok(all) => {
            m.seats.clear();
            for (org, used) in all {
                m.seats
                    .get_or_create(&OrgLabels {
                        organization: org.0,
                    })
                    .set(used);
            }
        }
        Err(e) => tracing::warn!(error = ?e, "seat metrics unavailable"),
    }
    let mut body = String::new();
    if encode(&mut body, &m.registry).is_err() {
        return (StatusCode::INTERNAL_SERVER_ERROR, "metrics encoding failed").into_response();
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        body,
    )
        .into_response()
}
