//! SCIM Bulk requests (RFC 7644 §3.7) as data: reading a `BulkRequest`, the order its
//! operations run in (a POST another operation refers to by `bulkId` runs first; references
//! that form a cycle are refused), and replacing `bulkId:` references with the ids the
//! earlier POSTs created. Running the operations is the adapter's.

use std::collections::{BTreeSet, HashMap};

use serde_json::{Map, Value};

use super::patch::get_ci;
use super::resource::{ResourceError, ScimType};

pub const BULK_REQUEST_URN: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";
pub const BULK_RESPONSE_URN: &str = "urn:ietf:params:scim:api:messages:2.0:BulkResponse";

/// What a reference looks like inside a value or a path: `bulkId:qwerty`.
const REFERENCE_PREFIX: &str = "bulkId:";

fn err(scim_type: ScimType, detail: impl Into<String>) -> ResourceError {
    ResourceError::new(scim_type, detail)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Post,
    Put,
    Patch,
    Delete,
}

impl Method {
    fn parse(text: &str) -> Option<Method> {
        match text.to_ascii_uppercase().as_str() {
            "POST" => Some(Method::Post),
            "PUT" => Some(Method::Put),
            "PATCH" => Some(Method::Patch),
            "DELETE" => Some(Method::Delete),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }
}

/// The resource an operation addresses, once its references are resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Users,
    User(String),
    Groups,
    Group(String),
}

impl Target {
    /// Reads `/Users`, `/Users/{id}`, `/Groups` or `/Groups/{id}`.
    pub fn parse(path: &str) -> Result<Target, ResourceError> {
        let rest = path.strip_prefix('/').unwrap_or(path);
        let bad = || {
            err(
                ScimType::InvalidPath,
                format!("{path:?} is not /Users, /Users/{{id}}, /Groups or /Groups/{{id}}"),
            )
        };
        let (collection, id) = match rest.split_once('/') {
            Some((c, id)) => (c, Some(id)),
            None => (rest, None),
        };
        let id = match id {
            Some(id) if id.is_empty() || id.contains(['/', '?', '#']) => return Err(bad()),
            other => other.map(str::to_owned),
        };
        match (collection, id) {
            ("Users", None) => Ok(Target::Users),
            ("Users", Some(id)) => Ok(Target::User(id)),
            ("Groups", None) => Ok(Target::Groups),
            ("Groups", Some(id)) => Ok(Target::Group(id)),
            _ => Err(bad()),
        }
    }

    /// The path relative to the SCIM base, as `meta.location` ends.
    pub fn path(&self) -> String {
        match self {
            Target::Users => "/Users".into(),
            Target::User(id) => format!("/Users/{id}"),
            Target::Groups => "/Groups".into(),
            Target::Group(id) => format!("/Groups/{id}"),
        }
    }
}

/// One operation as the client sent it, read as far as it could be.
#[derive(Debug, Clone, PartialEq)]
pub struct Operation {
    /// The method as sent, echoed in the response even when it names nothing.
    pub method_text: Option<String>,
    pub bulk_id: Option<String>,
    /// The operation, or why it cannot run (answered 400 for this operation alone).
    pub parsed: Result<Parsed, ResourceError>,
}

/// A well-formed operation, its references not yet resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    pub method: Method,
    pub path: String,
    /// `version`: the ETag the resource must be at (as `If-Match`).
    pub version: Option<String>,
    pub data: Option<Value>,
}

impl Operation {
    /// The bulkIds this operation refers to, in its path and anywhere in its data.
    pub fn references(&self) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        if let Ok(p) = &self.parsed {
            collect_references(&p.path, &mut out);
            if let Some(data) = &p.data {
                visit_strings(data, &mut |s| collect_references(s, &mut out));
            }
        }
        out
    }

    /// The bulkId later operations may refer to this one by: a POST's (even a malformed
    /// one's, so that what refers to it learns it failed).
    pub fn defines(&self) -> Option<&str> {
        let is_post = self
            .method_text
            .as_deref()
            .is_some_and(|m| m.eq_ignore_ascii_case("POST"));
        self.bulk_id.as_deref().filter(|_| is_post)
    }
}

/// A `BulkRequest`: its operations and how many errors end it.
#[derive(Debug, Clone, PartialEq)]
pub struct BulkRequest {
    pub fail_on_errors: Option<u64>,
    pub operations: Vec<Operation>,
}

/// Why a whole request is refused (an operation's own problems are its own answer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestError {
    /// More operations than `maxOperations` (HTTP 413, `tooMany`).
    TooMany {
        sent: usize,
        max: usize,
    },
    Invalid(ResourceError),
}

/// Reads a `BulkRequest` body. Attribute names are case-insensitive, as everywhere in SCIM.
pub fn parse_request(body: &Value, max_operations: usize) -> Result<BulkRequest, RequestError> {
    let invalid = |t, d: &str| RequestError::Invalid(err(t, d));
    let obj = body
        .as_object()
        .ok_or_else(|| invalid(ScimType::InvalidSyntax, "a BulkRequest is a JSON object"))?;
    if let Some(schemas) = get_ci(obj, "schemas") {
        let names_bulk = schemas.as_array().is_some_and(|a| {
            a.iter().any(|s| {
                s.as_str()
                    .is_some_and(|s| s.eq_ignore_ascii_case(BULK_REQUEST_URN))
            })
        });
        if !names_bulk {
            return Err(invalid(
                ScimType::InvalidSyntax,
                &format!("a BulkRequest's schemas must list {BULK_REQUEST_URN}"),
            ));
        }
    }
    let fail_on_errors = match get_ci(obj, "failOnErrors") {
        None | Some(Value::Null) => None,
        Some(v) => Some(v.as_u64().filter(|n| *n >= 1).ok_or_else(|| {
            invalid(
                ScimType::InvalidValue,
                "failOnErrors is a whole number of errors, at least 1",
            )
        })?),
    };
    let ops = get_ci(obj, "Operations")
        .and_then(Value::as_array)
        .ok_or_else(|| {
            invalid(
                ScimType::InvalidSyntax,
                "a BulkRequest needs an Operations array",
            )
        })?;
    if ops.len() > max_operations {
        return Err(RequestError::TooMany {
            sent: ops.len(),
            max: max_operations,
        });
    }
    let mut operations: Vec<Operation> = ops.iter().map(parse_operation).collect();
    refuse_duplicate_bulk_ids(&mut operations);
    Ok(BulkRequest {
        fail_on_errors,
        operations,
    })
}

fn parse_operation(v: &Value) -> Operation {
    let Some(obj) = v.as_object() else {
        return Operation {
            method_text: None,
            bulk_id: None,
            parsed: Err(err(
                ScimType::InvalidSyntax,
                "each operation is a JSON object",
            )),
        };
    };
    let text = |key: &str| get_ci(obj, key).and_then(Value::as_str).map(str::to_owned);
    let method_text = text("method");
    let bulk_id = text("bulkId");
    let parsed = parse_fields(obj, method_text.as_deref(), bulk_id.as_deref());
    Operation {
        method_text,
        bulk_id,
        parsed,
    }
}

fn parse_fields(
    obj: &Map<String, Value>,
    method_text: Option<&str>,
    bulk_id: Option<&str>,
) -> Result<Parsed, ResourceError> {
    let method = method_text.and_then(Method::parse).ok_or_else(|| {
        err(
            ScimType::InvalidSyntax,
            format!(
                "method {:?} is not POST, PUT, PATCH or DELETE",
                method_text.unwrap_or("")
            ),
        )
    })?;
    let path = get_ci(obj, "path")
        .and_then(Value::as_str)
        .ok_or_else(|| err(ScimType::InvalidSyntax, "each operation needs a path"))?
        .to_owned();
    if method == Method::Post && bulk_id.is_none_or(str::is_empty) {
        // RFC 7644 §3.7: the client names each POST so the response can say what it became.
        return Err(err(
            ScimType::InvalidSyntax,
            "a POST operation needs a bulkId",
        ));
    }
    let version = match get_ci(obj, "version") {
        None | Some(Value::Null) => None,
        Some(Value::String(v)) => Some(v.clone()),
        Some(_) => {
            return Err(err(
                ScimType::InvalidSyntax,
                "version is a string (an ETag)",
            ))
        }
    };
    let data = match get_ci(obj, "data") {
        None | Some(Value::Null) => None,
        Some(d @ Value::Object(_)) => Some(d.clone()),
        Some(_) => return Err(err(ScimType::InvalidSyntax, "data is a JSON object")),
    };
    if data.is_none() && method != Method::Delete {
        return Err(err(
            ScimType::InvalidSyntax,
            format!("a {} operation needs data", method.as_str()),
        ));
    }
    Ok(Parsed {
        method,
        path,
        version,
        data,
    })
}

/// A bulkId names one POST: a later POST reusing it is refused, and references resolve to
/// the first.
fn refuse_duplicate_bulk_ids(operations: &mut [Operation]) {
    let mut seen = BTreeSet::new();
    for op in operations.iter_mut() {
        let Some(id) = op.defines().map(str::to_owned) else {
            continue;
        };
        if !seen.insert(id.clone()) {
            op.parsed = Err(err(
                ScimType::InvalidValue,
                format!("bulkId {id:?} names an earlier operation of this request"),
            ));
        }
    }
}

fn visit_strings(v: &Value, f: &mut impl FnMut(&str)) {
    match v {
        Value::String(s) => f(s),
        Value::Array(items) => items.iter().for_each(|i| visit_strings(i, f)),
        Value::Object(map) => map.values().for_each(|i| visit_strings(i, f)),
        _ => {}
    }
}

/// Where a reference's bulkId ends: at the end of the text or a URL delimiter, so that
/// `bulkId:qwerty` is found alone, in a path (`/Users/bulkId:qwerty`) or in a `$ref`.
fn ends_reference(c: char) -> bool {
    c.is_whitespace() || matches!(c, '/' | '?' | '#' | '"' | '\'' | ',' | ';')
}

/// The references in one string: (start, end, bulkId) of each.
fn references_in(text: &str) -> Vec<(usize, usize, &str)> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(at) = text[from..].find(REFERENCE_PREFIX) {
        let start = from + at;
        let id_start = start + REFERENCE_PREFIX.len();
        let id_len = text[id_start..]
            .find(ends_reference)
            .unwrap_or(text.len() - id_start);
        let end = id_start + id_len;
        out.push((start, end, &text[id_start..end]));
        from = end.max(start + 1);
    }
    out
}

fn collect_references(text: &str, out: &mut BTreeSet<String>) {
    out.extend(
        references_in(text)
            .into_iter()
            .map(|(_, _, id)| id.to_owned()),
    );
}

/// The order operations run in, and the ones refused before running.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Every operation's index once: request order, except that a POST referred to runs
    /// before the operations referring to it.
    pub order: Vec<usize>,
    /// Operations whose references form a cycle (with the cycle, for the error).
    pub cycles: HashMap<usize, String>,
}

/// Orders the operations so each runs after the POSTs it refers to. References that form a
/// cycle (a group naming itself, two groups naming each other) are refused rather than
/// resolved by a second pass: each would need a POST followed by a PATCH the client did not
/// send.
pub fn plan(operations: &[Operation]) -> Plan {
    let definers: HashMap<&str, usize> = {
        let mut m = HashMap::new();
        for (i, op) in operations.iter().enumerate() {
            if let Some(id) = op.defines() {
                m.entry(id).or_insert(i);
            }
        }
        m
    };
    let edges: Vec<Vec<usize>> = operations
        .iter()
        .map(|op| {
            op.references()
                .iter()
                .filter_map(|id| definers.get(id.as_str()).copied())
                .collect()
        })
        .collect();
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Open,
        Done,
    }
    let mut marks = vec![Mark::New; operations.len()];
    let mut order = Vec::with_capacity(operations.len());
    let mut cycles = HashMap::new();
    // Depth-first, iteratively (1,000 chained references must not exhaust the stack).
    for root in 0..operations.len() {
        if marks[root] != Mark::New {
            continue;
        }
        let mut stack: Vec<(usize, usize)> = vec![(root, 0)];
        marks[root] = Mark::Open;
        while let Some(&mut (node, ref mut next)) = stack.last_mut() {
            if let Some(&to) = edges[node].get(*next) {
                *next += 1;
                match marks[to] {
                    Mark::New => {
                        marks[to] = Mark::Open;
                        stack.push((to, 0));
                    }
                    Mark::Open => {
                        let from = stack.iter().position(|(n, _)| *n == to).unwrap_or(0);
                        let ring: Vec<usize> = stack[from..].iter().map(|(n, _)| *n).collect();
                        let named = ring
                            .iter()
                            .chain(std::iter::once(&to))
                            .map(|n| {
                                format!(
                                    "bulkId:{}",
                                    operations[*n].bulk_id.as_deref().unwrap_or("?")
                                )
                            })
                            .collect::<Vec<_>>()
                            .join(" -> ");
                        for n in ring {
                            cycles.entry(n).or_insert_with(|| named.clone());
                        }
                    }
                    Mark::Done => {}
                }
            } else {
                marks[node] = Mark::Done;
                order.push(node);
                stack.pop();
            }
        }
    }
    Plan { order, cycles }
}

/// What an earlier POST of the request became, by bulkId: the id it created, or None when it
/// failed.
pub type Created = HashMap<String, Option<String>>;

/// An operation with every `bulkId:` reference replaced by the id its POST created; refused
/// (`invalidValue`, answered 409) when one names no POST of the request or one that failed.
pub fn resolve(op: &Parsed, created: &Created) -> Result<Parsed, ResourceError> {
    let mut out = op.clone();
    out.path = substitute(&op.path, created)?;
    if let Some(data) = &mut out.data {
        substitute_all(data, created)?;
    }
    Ok(out)
}

fn substitute_all(v: &mut Value, created: &Created) -> Result<(), ResourceError> {
    match v {
        Value::String(s) if s.contains(REFERENCE_PREFIX) => {
            *s = substitute(s, created)?;
        }
        Value::Array(items) => {
            for i in items {
                substitute_all(i, created)?;
            }
        }
        Value::Object(map) => {
            for (_, i) in map.iter_mut() {
                substitute_all(i, created)?;
            }
        }
        _ => {}
    }
    Ok(())
}

fn substitute(text: &str, created: &Created) -> Result<String, ResourceError> {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (start, end, id) in references_in(text) {
        let new_id = match created.get(id) {
            Some(Some(new_id)) => new_id,
            Some(None) => {
                return Err(err(
                    ScimType::InvalidValue,
                    format!("bulkId:{id} refers to an operation that failed"),
                ))
            }
            None => {
                return Err(err(
                    ScimType::InvalidValue,
                    format!("bulkId:{id} names no POST operation of this request"),
                ))
            }
        };
        out.push_str(&text[last..start]);
        out.push_str(new_id);
        last = end;
    }
    out.push_str(&text[last..]);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn op(method: &str, path: &str, bulk_id: Option<&str>, data: Value) -> Value {
        let mut v = json!({"method": method, "path": path, "data": data});
        if let Some(b) = bulk_id {
            v["bulkId"] = json!(b);
        }
        v
    }

    fn request(ops: Vec<Value>) -> BulkRequest {
        parse_request(
            &json!({"schemas": [BULK_REQUEST_URN], "Operations": ops}),
            1000,
        )
        .expect("a valid request")
    }

    #[test]
    fn references_are_found_alone_in_paths_and_in_refs() {
        let r = request(vec![op(
            "PATCH",
            "/Groups/bulkId:g",
            None,
            json!({"Operations": [{"op": "add", "value": [
                {"value": "bulkId:a"},
                {"$ref": "https://x/scim/v2/Users/bulkId:b", "display": "not bulkId"}
            ]}]}),
        )]);
        let refs: Vec<String> = r.operations[0].references().into_iter().collect();
        assert_eq!(refs, vec!["a", "b", "g"]);
    }

    #[test]
    fn a_referenced_post_runs_first_even_when_it_comes_later() {
        let r = request(vec![
            op(
                "POST",
                "/Groups",
                Some("g"),
                json!({"members": [{"value": "bulkId:u"}]}),
            ),
            op("PUT", "/Users/x", None, json!({})),
            op("POST", "/Users", Some("u"), json!({})),
        ]);
        let p = plan(&r.operations);
        assert_eq!(p.order, vec![2, 0, 1]);
        assert!(p.cycles.is_empty());
    }

    #[test]
    fn request_order_is_kept_without_forward_references() {
        let r = request(vec![
            op("POST", "/Users", Some("a"), json!({})),
            op("POST", "/Users", Some("b"), json!({})),
            op(
                "POST",
                "/Groups",
                Some("g"),
                json!({"members": [{"value": "bulkId:b"}, {"value": "bulkId:a"}]}),
            ),
            op("DELETE", "/Users/bulkId:a", None, Value::Null),
        ]);
        assert_eq!(plan(&r.operations).order, vec![0, 1, 2, 3]);
    }

    #[test]
    fn cycles_are_refused_and_named() {
        let r = request(vec![
            op(
                "POST",
                "/Groups",
                Some("a"),
                json!({"members": [{"value": "bulkId:b"}]}),
            ),
            op(
                "POST",
                "/Groups",
                Some("b"),
                json!({"members": [{"value": "bulkId:a"}]}),
            ),
            op(
                "POST",
                "/Groups",
                Some("self"),
                json!({"members": [{"value": "bulkId:self"}]}),
            ),
            op(
                "POST",
                "/Groups",
                Some("c"),
                json!({"members": [{"value": "bulkId:a"}]}),
            ),
        ]);
        let p = plan(&r.operations);
        assert_eq!(p.order.len(), 4);
        let mut cyclic: Vec<usize> = p.cycles.keys().copied().collect();
        cyclic.sort();
        assert_eq!(cyclic, vec![0, 1, 2]);
        assert_eq!(p.cycles[&0], "bulkId:a -> bulkId:b -> bulkId:a");
        // c is not in a cycle; it runs after a, which fails, so it fails too.
        let pos = |i| p.order.iter().position(|n| *n == i).unwrap();
        assert!(pos(3) > pos(0));
    }

    #[test]
    fn a_long_chain_does_not_exhaust_the_stack() {
        let ops: Vec<Value> = (0..1000)
            .map(|i| {
                op(
                    "POST",
                    "/Groups",
                    Some(&format!("g{i}")),
                    json!({"members": [{"value": format!("bulkId:g{}", i + 1)}]}),
                )
            })
            .collect();
        let p = plan(&request(ops).operations);
        assert_eq!(p.order.first(), Some(&999));
        assert_eq!(p.order.last(), Some(&0));
    }

    #[test]
    fn resolving_replaces_references_and_refuses_unknown_or_failed_ones() {
        let created: Created = [
            ("u".to_string(), Some("id-1".to_string())),
            ("bad".to_string(), None),
        ]
        .into_iter()
        .collect();
        let parsed = Parsed {
            method: Method::Patch,
            path: "/Users/bulkId:u".into(),
            version: None,
            data: Some(json!({"members": [{"value": "bulkId:u", "$ref": "/Users/bulkId:u"}]})),
        };
        let out = resolve(&parsed, &created).unwrap();
        assert_eq!(out.path, "/Users/id-1");
        assert_eq!(
            out.data,
            Some(json!({"members": [{"value": "id-1", "$ref": "/Users/id-1"}]}))
        );
        let failed = Parsed {
            data: Some(json!({"members": [{"value": "bulkId:bad"}]})),
            ..parsed.clone()
        };
        let e = resolve(&failed, &created).unwrap_err();
        assert_eq!(e.scim_type, ScimType::InvalidValue);
        assert!(e.detail.contains("failed"), "{}", e.detail);
        let unknown = Parsed {
            path: "/Users/bulkId:nope".into(),
            ..parsed
        };
        assert!(resolve(&unknown, &created)
            .unwrap_err()
            .detail
            .contains("names no POST"));
    }

    #[test]
    fn requests_and_operations_are_checked() {
        let too_many: Vec<Value> = (0..3)
            .map(|_| op("DELETE", "/Users/x", None, Value::Null))
            .collect();
        assert_eq!(
            parse_request(&json!({"Operations": too_many}), 2),
            Err(RequestError::TooMany { sent: 3, max: 2 })
        );
        assert!(matches!(
            parse_request(&json!({"schemas": ["urn:x"], "Operations": []}), 2),
            Err(RequestError::Invalid(_))
        ));
        assert!(matches!(
            parse_request(&json!({"Operations": [], "failOnErrors": 0}), 2),
            Err(RequestError::Invalid(_))
        ));
        let r = request(vec![
            op("GET", "/Users", None, json!({})),
            op("POST", "/Users", None, json!({})),
            op("PUT", "/Users/x", None, Value::Null),
            op("POST", "/Users", Some("a"), json!({})),
            op("POST", "/Users", Some("a"), json!({})),
            json!("not an object"),
            op("delete", "/Users/x", None, Value::Null),
        ]);
        let kinds: Vec<Option<ScimType>> = r
            .operations
            .iter()
            .map(|o| o.parsed.as_ref().err().map(|e| e.scim_type))
            .collect();
        assert_eq!(
            kinds,
            vec![
                Some(ScimType::InvalidSyntax),
                Some(ScimType::InvalidSyntax),
                Some(ScimType::InvalidSyntax),
                None,
                Some(ScimType::InvalidValue),
                Some(ScimType::InvalidSyntax),
                None,
            ]
        );
        assert_eq!(r.operations[0].method_text.as_deref(), Some("GET"));
    }

    #[test]
    fn paths_name_users_and_groups_only() {
        assert_eq!(Target::parse("/Users"), Ok(Target::Users));
        assert_eq!(Target::parse("/Groups/g1"), Ok(Target::Group("g1".into())));
        assert_eq!(
            Target::parse("Users/a@example.com"),
            Ok(Target::User("a@example.com".into()))
        );
        for bad in [
            "/Projects",
            "/Users/",
            "/Users/a/b",
            "/users",
            "",
            "/Users?x=1",
        ] {
            assert_eq!(
                Target::parse(bad).unwrap_err().scim_type,
                ScimType::InvalidPath,
                "{bad}"
            );
        }
    }
}
