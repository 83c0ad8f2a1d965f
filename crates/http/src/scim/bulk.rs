//! `/Bulk` (RFC 7644 §3.7): many User and Group operations in one request, each run through
//! the same function its single endpoint uses, so every rule (seats, the Owner, the
//! mass-deprovisioning guard, the mapping) holds for it.
//!
//! A Bulk request is not atomic (RFC 7644 §3.7: "The service provider MUST continue
//! performing as many changes as possible"): each operation is its own transaction, and one
//! that fails leaves the others, before and after it, as they are. The deprovisioning guard
//! counts the last hour, so a Bulk request that would deprovision too many is stopped at the
//! limit, operation by operation.

use std::collections::HashMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use roster_domain::scim::bulk::{
    self, Created, Method, Operation, Parsed, RequestError, Target, BULK_RESPONSE_URN,
};
use roster_service::scim::{Precondition, ScimCaller};
use serde_json::{json, Value};

use super::discovery::BULK_MAX_OPERATIONS;
use super::protocol::{precondition, Scim, ScimBody, ScimError, ScimJson, ScimResult};
use super::users::invalid;
use super::{base_url, groups, users};
use crate::AppState;

pub async fn bulk(
    State(state): State<AppState>,
    Scim(caller): Scim,
    body: Result<ScimBody, ScimError>,
) -> ScimResult<Response> {
    let body = match body {
        Ok(ScimBody(body)) => body,
        Err(e) if e.status == StatusCode::PAYLOAD_TOO_LARGE => {
            return Err(ScimError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                Some("tooMany"),
                format!(
                    "The request body exceeds maxPayloadSize ({} bytes).",
                    crate::MAX_BODY_BYTES
                ),
            ))
        }
        Err(e) => return Err(e),
    };
    let request = bulk::parse_request(&body, BULK_MAX_OPERATIONS).map_err(|e| match e {
        RequestError::TooMany { sent, max } => ScimError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            Some("tooMany"),
            format!("{sent} operations exceed maxOperations ({max})."),
        ),
        RequestError::Invalid(e) => invalid(e),
    })?;
    let answers = run_all(&state, &caller, &request).await;
    Ok(ScimJson(json!({
        "schemas": [BULK_RESPONSE_URN],
        "Operations": answers,
    }))
    .into_response())
}

/// Runs the operations in the plan's order until `failOnErrors` errors have happened; the
/// answers are listed in request order, the ones never run left out.
async fn run_all(state: &AppState, caller: &ScimCaller, request: &bulk::BulkRequest) -> Vec<Value> {
    let ops = &request.operations;
    let plan = bulk::plan(ops);
    let base = base_url(state);
    let mut created: Created = HashMap::new();
    let mut answers: Vec<Option<Value>> = vec![None; ops.len()];
    let mut errors = 0u64;
    for i in plan.order {
        if request.fail_on_errors.is_some_and(|limit| errors >= limit) {
            break;
        }
        let op = &ops[i];
        let outcome = match (&op.parsed, plan.cycles.get(&i)) {
            (Err(e), _) => Err((None, invalid(e.clone()))),
            (Ok(_), Some(cycle)) => Err((
                None,
                unresolvable(format!("bulkId references form a cycle: {cycle}")),
            )),
            (Ok(parsed), None) => match bulk::resolve(parsed, &created) {
                Err(e) => Err((None, unresolvable(e.detail))),
                Ok(resolved) => run_one(state, caller, &resolved, &base).await,
            },
        };
        if let Some(bulk_id) = op.defines() {
            let id = outcome.as_ref().ok().and_then(|done| done.id.clone());
            created.entry(bulk_id.to_owned()).or_insert(id);
        }
        if outcome.is_err() {
            errors += 1;
        }
        answers[i] = Some(answer(op, outcome));
    }
    answers.into_iter().flatten().collect()
}

/// A reference that cannot be resolved: 409, as RFC 7644 §3.7.1 answers one.
fn unresolvable(detail: String) -> ScimError {
    ScimError::new(StatusCode::CONFLICT, Some("invalidValue"), detail)
}

/// What a successful operation did.
struct Done {
    status: StatusCode,
    /// The id of what a POST created.
    id: Option<String>,
    location: Option<String>,
    version: Option<String>,
}

impl Done {
    fn from_doc(status: StatusCode, doc: Value) -> Done {
        let text = |v: &Value| v.as_str().map(str::to_owned);
        Done {
            status,
            id: text(&doc["id"]),
            location: text(&doc["meta"]["location"]),
            version: text(&doc["meta"]["version"]),
        }
    }
}

/// A failure, with the location of the resource it addressed when there was one.
type Failed = (Option<String>, ScimError);

async fn run_one(
    state: &AppState,
    caller: &ScimCaller,
    op: &Parsed,
    base: &str,
) -> Result<Done, Failed> {
    let target = Target::parse(&op.path).map_err(|e| (None, invalid(e)))?;
    let location = match &target {
        Target::User(_) | Target::Group(_) => Some(format!("{base}{}", target.path())),
        Target::Users | Target::Groups => None,
    };
    run_on(state, caller, op, target)
        .await
        .map_err(|e| (location.clone(), e))
        .map(|mut done| {
            done.location = done.location.or(location);
            done
        })
}

async fn run_on(
    state: &AppState,
    caller: &ScimCaller,
    op: &Parsed,
    target: Target,
) -> ScimResult<Done> {
    let data = op.data.as_ref().unwrap_or(&Value::Null);
    let version = match (&op.version, op.method) {
        (Some(v), Method::Put | Method::Patch | Method::Delete) => precondition(v)?,
        _ => Precondition(None),
    };
    let ok = StatusCode::OK;
    let done = match (op.method, target) {
        (Method::Post, Target::Users) => Done::from_doc(
            StatusCode::CREATED,
            users::create_user(state, caller, data).await?,
        ),
        (Method::Post, Target::Groups) => Done::from_doc(
            StatusCode::CREATED,
            groups::create_group(state, caller, data).await?,
        ),
        (Method::Put, Target::User(id)) => Done::from_doc(
            ok,
            users::replace_user(state, caller, &id, data, version).await?,
        ),
        (Method::Put, Target::Group(id)) => Done::from_doc(
            ok,
            groups::replace_group(state, caller, &id, data, version).await?,
        ),
        (Method::Patch, Target::User(id)) => Done::from_doc(
            ok,
            users::patch_user(state, caller, &id, data, version).await?,
        ),
        (Method::Patch, Target::Group(id)) => Done::from_doc(
            ok,
            groups::patch_group(state, caller, &id, data, version).await?,
        ),
        (Method::Delete, Target::User(id)) => {
            users::delete_user(state, caller, &id, version).await?;
            deleted()
        }
        (Method::Delete, Target::Group(id)) => {
            groups::delete_group(state, caller, &id, version).await?;
            deleted()
        }
        (Method::Post, _) => {
            return Err(ScimError::bad(
                "invalidPath",
                "POST creates at /Users or /Groups",
            ))
        }
        (method, _) => {
            return Err(ScimError::bad(
                "invalidPath",
                format!(
                    "{} addresses one resource: /Users/{{id}} or /Groups/{{id}}",
                    method.as_str()
                ),
            ))
        }
    };
    Ok(done)
}

fn deleted() -> Done {
    Done {
        status: StatusCode::NO_CONTENT,
        id: None,
        location: None,
        version: None,
    }
}

/// One operation's entry in the BulkResponse; a failure carries its error body.
fn answer(op: &Operation, outcome: Result<Done, Failed>) -> Value {
    let method = match &op.parsed {
        Ok(p) => Some(p.method.as_str().to_owned()),
        Err(_) => op.method_text.clone(),
    };
    let mut entry = json!({ "method": method });
    if let Some(b) = &op.bulk_id {
        entry["bulkId"] = json!(b);
    }
    match outcome {
        Ok(done) => {
            if let Some(l) = done.location {
                entry["location"] = json!(l);
            }
            if let Some(v) = done.version {
                entry["version"] = json!(v);
            }
            entry["status"] = json!(done.status.as_u16().to_string());
        }
        Err((location, e)) => {
            if let Some(l) = location {
                entry["location"] = json!(l);
            }
            entry["status"] = json!(e.status.as_u16().to_string());
            entry["response"] = e.body();
        }
    }
    entry
}
