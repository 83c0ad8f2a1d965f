//! The benchmark's ceiling server (`roster dev ceiling`): fixed answers, no database, behind
//! the same layers and the same connection handling as roster itself. What a request costs
//! here is what the machine, hyper, axum and the common layers cost; `scripts/bench.sh`
//! measures roster against it for bodies of the same size.

use axum::body::Bytes;
use axum::http::{header, HeaderValue};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

/// A router that answers `GET path` with `body` as JSON, for each `(path, body)`, wrapped in
/// [`crate::common_layers`].
pub fn app(answers: Vec<(String, Bytes)>) -> Router {
    let mut routes = Router::new();
    for (path, body) in answers {
        routes = routes.route(
            &path,
            get(move || {
                let body = body.clone();
                async move {
                    (
                        [(
                            header::CONTENT_TYPE,
                            HeaderValue::from_static("application/json"),
                        )],
                        body,
                    )
                        .into_response()
                }
            }),
        );
    }
    crate::common_layers(routes)
}
