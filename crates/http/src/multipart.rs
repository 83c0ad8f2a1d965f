//! A `multipart/form-data` body (RFC 7578) read into its named parts: enough for an upload
//! form of a few fields and one file, whose size the request limit already bounds.

use std::collections::HashMap;

use axum::http::{header, HeaderMap};

use crate::error::{ApiError, ApiResult};

fn bad(message: &str) -> ApiError {
    ApiError::invalid("non_field_errors", message.to_string())
}

/// The boundary named by the Content-Type header.
fn boundary(headers: &HeaderMap) -> ApiResult<String> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mut parts = ct.split(';').map(str::trim);
    if !parts
        .next()
        .is_some_and(|m| m.eq_ignore_ascii_case("multipart/form-data"))
    {
        return Err(bad(
            "Send the body as multipart/form-data (a file upload form).",
        ));
    }
    parts
        .find_map(|p| {
            let (k, v) = p.split_once('=')?;
            k.trim()
                .eq_ignore_ascii_case("boundary")
                .then(|| v.trim().trim_matches('"').to_string())
        })
        .filter(|b| !b.is_empty() && b.len() <= 200)
        .ok_or_else(|| bad("The multipart/form-data Content-Type names no boundary."))
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() || hay.len() < needle.len() {
        return None;
    }
    (from..=hay.len() - needle.len()).find(|&i| &hay[i..i + needle.len()] == needle)
}

/// The `name` parameter of a part's Content-Disposition header.
fn part_name(head: &str) -> Option<String> {
    head.split("\r\n")
        .find(|l| {
            l.split(':')
                .next()
                .is_some_and(|h| h.trim().eq_ignore_ascii_case("content-disposition"))
        })?
        .split(';')
        .map(str::trim)
        .find_map(|p| {
            let (k, v) = p.split_once('=')?;
            (k.trim() == "name").then(|| v.trim().trim_matches('"').to_string())
        })
}

/// The body's parts by name (the first part of a name wins).
pub fn parse(headers: &HeaderMap, body: &[u8]) -> ApiResult<HashMap<String, Vec<u8>>> {
    let delimiter = format!("--{}", boundary(headers)?).into_bytes();
    let mut parts = HashMap::new();
    let mut at = find(body, &delimiter, 0).ok_or_else(|| bad("The multipart body is empty."))?;
    loop {
        at += delimiter.len();
        if body[at..].starts_with(b"--") {
            return Ok(parts);
        }
        if !body[at..].starts_with(b"\r\n") {
            return Err(bad("The multipart body is malformed."));
        }
        at += 2;
        let head_end =
            find(body, b"\r\n\r\n", at).ok_or_else(|| bad("A multipart part has no headers."))?;
        let head = std::str::from_utf8(&body[at..head_end])
            .map_err(|_| bad("A multipart part's headers are not text."))?;
        let content = head_end + 4;
        let mut closing = b"\r\n".to_vec();
        closing.extend_from_slice(&delimiter);
        let end = find(body, &closing, content)
            .ok_or_else(|| bad("The multipart body ends without its closing boundary."))?;
        let name = part_name(head).ok_or_else(|| bad("A multipart part has no name."))?;
        parts
            .entry(name)
            .or_insert_with(|| body[content..end].to_vec());
        at = end + 2;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(ct: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::CONTENT_TYPE, ct.parse().unwrap());
        h
    }

    #[test]
    fn reads_fields_and_files() {
        let body = b"--xyz\r\nContent-Disposition: form-data; name=\"bulk_tags\"\r\n\r\na,b\r\n\
--xyz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"t.csv\"\r\nContent-Type: text/csv\r\n\r\nemail,tags\r\nx@y.z,\"q,r\"\r\n\r\n--xyz--\r\n";
        let p = parse(&headers("multipart/form-data; boundary=xyz"), body).unwrap();
        assert_eq!(p["bulk_tags"], b"a,b");
        assert_eq!(p["file"], b"email,tags\r\nx@y.z,\"q,r\"\r\n");
    }

    #[test]
    fn refuses_other_bodies() {
        assert!(parse(&headers("application/json"), b"{}").is_err());
        assert!(parse(&headers("multipart/form-data"), b"").is_err());
        let cut = b"--xyz\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nabc";
        assert!(parse(&headers("multipart/form-data; boundary=xyz"), cut).is_err());
    }
}
