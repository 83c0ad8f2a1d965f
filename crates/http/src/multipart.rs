//! A `multipart/form-data` body (RFC 7578) read into its named parts by axum's `Multipart`
//! (multer underneath), with its refusals in roster's one JSON error shape.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::multipart::{Multipart, MultipartError, MultipartRejection};
use axum::http::StatusCode;

use crate::error::{ApiError, ApiResult};

/// A malformed body is a 400 naming no field; a body over the request limit keeps its 413.
fn refused(status: StatusCode, reason: String) -> ApiError {
    if status == StatusCode::BAD_REQUEST {
        ApiError::invalid(
            "non_field_errors",
            format!("The multipart/form-data body cannot be read: {reason}"),
        )
    } else {
        ApiError::new(status, reason)
    }
}

fn read_error(e: MultipartError) -> ApiError {
    refused(e.status(), e.body_text())
}

/// The body's parts by name (the first part of a name wins); a body that is not
/// multipart/form-data is a 400 that says what to send.
pub async fn parts(
    body: Result<Multipart, MultipartRejection>,
) -> ApiResult<HashMap<String, Bytes>> {
    let mut body = body.map_err(|e| {
        refused(
            e.status(),
            format!(
                "{} Send the file as multipart/form-data (a file upload form).",
                e.body_text()
            ),
        )
    })?;
    let mut parts = HashMap::new();
    while let Some(field) = body.next_field().await.map_err(read_error)? {
        let name = field
            .name()
            .filter(|n| !n.is_empty())
            .map(str::to_string)
            .ok_or_else(|| refused(StatusCode::BAD_REQUEST, "a part has no name".into()))?;
        let content = field.bytes().await.map_err(read_error)?;
        parts.entry(name).or_insert(content);
    }
    Ok(parts)
}
