//! Page numbers and sizes from the query string, and the `next`/`previous` links of a page.

use axum::http::request::Parts;
use axum::http::{header, Uri};
use roster_service::PageRequest;
use serde::Deserialize;

use crate::error::ApiError;
use crate::views::PageView;

pub const MAX_PAGE_SIZE: i64 = 1000;

#[derive(Debug, Deserialize, Default)]
pub struct PageParams {
    pub page: Option<String>,
    pub page_size: Option<String>,
}

impl PageParams {
    /// Page from 1; size defaults to `default`, and larger sizes (and -1, "all") clamp to 1000.
    /// An empty value is refused like any other that is not a whole number (the document says
    /// integer).
    pub fn resolve(&self, default: i64) -> Result<PageRequest, ApiError> {
        let page = match self.page.as_deref() {
            None => 1,
            Some(p) => parse_whole(p)
                .ok()
                .filter(|p| *p >= 1)
                .ok_or_else(|| ApiError::invalid("page", "must be a whole number from 1"))?,
        };
        let size = match self.page_size.as_deref() {
            None => default,
            Some(s) => {
                let n = parse_whole(s)
                    .map_err(|_| ApiError::invalid("page_size", "must be a whole number"))?;
                if n == 0 || n < -1 {
                    return Err(ApiError::invalid(
                        "page_size",
                        "must be from 1 to 1000, or -1 for the largest page",
                    ));
                }
                if n == -1 {
                    MAX_PAGE_SIZE
                } else {
                    n.min(MAX_PAGE_SIZE)
                }
            }
        };
        Ok(PageRequest { page, size })
    }
}

/// A whole number; one too large for i64 is taken as i64::MAX (a page past the end, or a
/// size that clamps), not refused.
fn parse_whole(s: &str) -> Result<i64, std::num::ParseIntError> {
    s.parse::<i64>().or_else(|e| match e.kind() {
        std::num::IntErrorKind::PosOverflow => Ok(i64::MAX),
        _ => Err(e),
    })
}

/// The URL a request was made to, for building page links.
pub struct RequestUrl {
    host: String,
    uri: Uri,
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for RequestUrl {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let host = parts
            .headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("localhost")
            .to_string();
        Ok(RequestUrl {
            host,
            uri: parts.uri.clone(),
        })
    }
}

/// The request's own URL with `page` replaced, absolute as DRF makes them.
fn page_url(at: &RequestUrl, page: i64) -> String {
    let host = &at.host;
    let uri = &at.uri;
    let mut url = url::Url::parse(&format!("http://{host}{}", uri.path()))
        .unwrap_or_else(|_| url::Url::parse("http://localhost/").expect("static url"));
    {
        let mut q = url.query_pairs_mut();
        for (k, v) in url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes()) {
            if k != "page" {
                q.append_pair(&k, &v);
            }
        }
        q.append_pair("page", &page.to_string());
    }
    url.to_string()
}

pub fn page_view<T>(at: &RequestUrl, req: PageRequest, count: i64, results: Vec<T>) -> PageView<T> {
    let last_page = (count + req.size - 1) / req.size;
    PageView {
        count,
        next: (req.page < last_page).then(|| page_url(at, req.page + 1)),
        previous: (req.page > 1).then(|| page_url(at, (req.page - 1).min(last_page.max(1)))),
        results,
    }
}
