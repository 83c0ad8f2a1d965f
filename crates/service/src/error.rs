//! The service's one error type. Each variant says what went wrong in words a person
//! understands; the HTTP adapter maps each variant to exactly one status.

use roster_domain::policy::Denied;
use roster_domain::RuleViolation;
use roster_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// Missing, malformed, expired or revoked credential (401).
    #[error("{0}")]
    Unauthenticated(String),
    /// A member whose role does not allow the action (403).
    #[error(transparent)]
    Denied(#[from] Denied),
    /// Any other refusal for lack of rights (403).
    #[error("{0}")]
    Forbidden(String),
    /// The resource does not exist or is outside the caller's organizations (404).
    #[error("{0}")]
    NotFound(String),
    /// A membership rule refused the change.
    #[error(transparent)]
    Rule(#[from] RuleViolation),
    /// A conflicting state or duplicate (409).
    #[error("{0}")]
    Conflict(String),
    /// The resource changed since the version the request names (412, `If-Match`).
    #[error("{0}")]
    PreconditionFailed(String),
    /// An identity provider's value that is already taken (SCIM `uniqueness`, 409).
    #[error("{0}")]
    ScimConflict(String),
    /// An identity provider's change of something it may not change (SCIM `mutability`, 400).
    #[error("{0}")]
    ScimMutability(String),
    /// A SCIM filter that names what cannot be filtered on (SCIM `invalidFilter`, 400).
    #[error("{0}")]
    ScimInvalidFilter(String),
    /// An identity provider's value that is not acceptable (SCIM `invalidValue`, 400).
    #[error("{0}")]
    ScimInvalidValue(String),
    /// An identity provider's request refused to protect the organization (the
    /// mass-deprovisioning guard, 409).
    #[error("{0}")]
    ScimRefused(String),
    /// A check of something outside roster (a domain's DNS record) did not find what the
    /// request needs; nothing changed (422).
    #[error("{0}")]
    CheckFailed(String),
    /// Something roster asks on the way (a DNS server) did not answer; nothing changed (503).
    #[error("{0}")]
    Unavailable(String),
    /// Bad input, with per-field messages (400).
    #[error("{message}")]
    Invalid {
        message: String,
        fields: Vec<(String, String)>,
    },
    /// Too many failed attempts; retry after this many seconds (429).
    #[error("Too many failed attempts; try again in {0} s")]
    Throttled(u64),
    /// Too many requests are already waiting for a password check; retry after this many
    /// seconds (503).
    #[error("The server is busy; try again in {0} s")]
    Busy(u64),
    /// A storage failure (500); logged where it is handled, never shown in detail.
    #[error("internal error")]
    Store(#[source] StoreError),
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Duplicate => {
                ServiceError::Conflict("a record with the same value already exists".into())
            }
            other => ServiceError::Store(other),
        }
    }
}

impl ServiceError {
    /// A single-field validation error.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        ServiceError::Invalid {
            message: format!("{field}: {message}"),
            fields: vec![(field.to_string(), message)],
        }
    }

    pub fn not_found(what: impl Into<String>) -> Self {
        ServiceError::NotFound(what.into())
    }
}

pub type Result<T, E = ServiceError> = std::result::Result<T, E>;
