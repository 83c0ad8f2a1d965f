//! argon2id password hashing, off the async threads (it is deliberately slow).

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;

use crate::{Result, ServiceError};

pub const MIN_LENGTH: usize = 8;
pub const MAX_LENGTH: usize = 1024;

/// Checks a new password against the policy.
pub fn check_policy(password: &str) -> Result<()> {
    let n = password.chars().count();
    if n < MIN_LENGTH {
        return Err(ServiceError::invalid(
            "password",
            format!("must be at least {MIN_LENGTH} characters"),
        ));
    }
    if n > MAX_LENGTH {
        return Err(ServiceError::invalid(
            "password",
            format!("must be at most {MAX_LENGTH} characters"),
        ));
    }
    Ok(())
}

pub async fn hash(password: String) -> Result<String> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| ServiceError::Internal(format!("password hashing failed: {e}")))
    })
    .await
    .map_err(|e| ServiceError::Internal(e.to_string()))?
}

/// Verifies a password; a missing hash (SSO-only or not yet set) never matches. When there is
/// no account at all, callers verify against a dummy hash so timing does not reveal it.
pub async fn verify(password: String, hash: Option<String>) -> bool {
    tokio::task::spawn_blocking(move || {
        let stored = hash.unwrap_or_else(|| DUMMY_HASH.to_string());
        match PasswordHash::new(&stored) {
            Ok(parsed) => {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
                    && stored != DUMMY_HASH
            }
            Err(_) => false,
        }
    })
    .await
    .unwrap_or(false)
}

/// An argon2id hash of a random string nobody knows, for constant-time refusals.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$0Wq8Zl6lWv1Ht1xXJ8fTBhpGKCnpN0Vv5UEoXWcxQvA";
