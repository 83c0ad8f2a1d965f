//! The one JSON error shape: `{"detail", "status_code"}`, plus `validation_errors` for bad
//! input. Every service error maps to exactly one status here.

use std::collections::BTreeMap;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use roster_domain::RuleViolation;
use roster_service::ServiceError;
use serde::Serialize;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub detail: String,
    pub validation_errors: Option<BTreeMap<String, Vec<String>>>,
    pub retry_after: Option<u64>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    detail: String,
    status_code: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    validation_errors: Option<BTreeMap<String, Vec<String>>>,
}

impl ApiError {
    pub fn new(status: StatusCode, detail: impl Into<String>) -> ApiError {
        ApiError {
            status,
            detail: detail.into(),
            validation_errors: None,
            retry_after: None,
        }
    }

    pub fn bad_request(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, detail)
    }

    /// A 400 naming the field at fault.
    pub fn invalid(field: &str, message: impl Into<String>) -> ApiError {
        let message = message.into();
        let mut fields = BTreeMap::new();
        fields.insert(field.to_string(), vec![message.clone()]);
        ApiError {
            status: StatusCode::BAD_REQUEST,
            detail: format!("{field}: {message}"),
            validation_errors: Some(fields),
            retry_after: None,
        }
    }

    pub fn not_found(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, detail)
    }

    pub fn unauthenticated(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, detail)
    }

    pub fn forbidden(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, detail)
    }
}

fn rule_status(rule: &RuleViolation) -> StatusCode {
    match rule {
        RuleViolation::SelfChange => StatusCode::METHOD_NOT_ALLOWED,
        RuleViolation::OnlyOwnerTransfers
        | RuleViolation::OwnerIsProtected
        | RuleViolation::RemovedMemberNeedsInvite
        | RuleViolation::ProfileBelongsElsewhere
        | RuleViolation::OnlyOwnerSetsSeats
        | RuleViolation::OnlyOwnerSetsSsoOnly => StatusCode::FORBIDDEN,
        RuleViolation::NotAnInviteRole(_) => StatusCode::BAD_REQUEST,
        RuleViolation::TransferTargetInactive(_)
        | RuleViolation::NoFreeSeat(_)
        | RuleViolation::IdpManaged(_)
        | RuleViolation::IdpManagedWorkspace(_)
        | RuleViolation::IdpManagedProjectMember(_)
        | RuleViolation::IdpCannotManageOwner => StatusCode::CONFLICT,
        RuleViolation::DefaultRoleNotAllowed(_) => StatusCode::BAD_REQUEST,
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> ApiError {
        match e {
            ServiceError::Unauthenticated(m) => ApiError::unauthenticated(m),
            ServiceError::Denied(d) => ApiError::forbidden(d.to_string()),
            ServiceError::Forbidden(m) => ApiError::forbidden(m),
            ServiceError::NotFound(m) => ApiError::not_found(m),
            ServiceError::Rule(RuleViolation::DefaultRoleNotAllowed(r)) => ApiError::invalid(
                "default_role",
                RuleViolation::DefaultRoleNotAllowed(r).to_string(),
            ),
            ServiceError::Rule(rule) => ApiError::new(rule_status(&rule), rule.to_string()),
            ServiceError::Conflict(m)
            | ServiceError::ScimConflict(m)
            | ServiceError::ScimRefused(m) => ApiError::new(StatusCode::CONFLICT, m),
            ServiceError::PreconditionFailed(m) => {
                ApiError::new(StatusCode::PRECONDITION_FAILED, m)
            }
            ServiceError::CheckFailed(m) => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, m),
            ServiceError::Unavailable(m) => ApiError::new(StatusCode::SERVICE_UNAVAILABLE, m),
            ServiceError::ScimMutability(m)
            | ServiceError::ScimInvalidValue(m)
            | ServiceError::ScimInvalidFilter(m) => ApiError::bad_request(m),
            ServiceError::Invalid { message, fields } => {
                let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
                for (f, m) in fields {
                    map.entry(f).or_default().push(m);
                }
                ApiError {
                    status: StatusCode::BAD_REQUEST,
                    detail: message,
                    validation_errors: Some(map),
                    retry_after: None,
                }
            }
            ServiceError::Throttled(secs) => ApiError {
                status: StatusCode::TOO_MANY_REQUESTS,
                detail: format!("Too many failed attempts; try again in {secs} s."),
                validation_errors: None,
                retry_after: Some(secs),
            },
            ServiceError::Busy(secs) => ApiError {
                status: StatusCode::SERVICE_UNAVAILABLE,
                detail: format!(
                    "The server is busy checking other passwords; try again in {secs} s."
                ),
                validation_errors: None,
                retry_after: Some(secs),
            },
            e @ (ServiceError::Store(_) | ServiceError::Internal(_)) => {
                tracing::error!(error = ?e, "request failed");
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error.")
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            detail: self.detail,
            status_code: self.status.as_u16(),
            validation_errors: self.validation_errors,
        };
        let mut res = (self.status, axum::Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        res
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// Refuses the first of `fields` that the request sent (`(name, sent, why)`), naming it: a
/// field roster cannot honour is never silently ignored.
pub fn refuse_sent(fields: &[(&str, bool, &str)]) -> ApiResult<()> {
    match fields.iter().find(|(_, sent, _)| *sent) {
        Some((name, _, why)) => Err(ApiError::invalid(name, *why)),
        None => Ok(()),
    }
}
