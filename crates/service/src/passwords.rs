//! argon2id password hashing, off the async threads (it is deliberately slow and large), a
//! bounded number at a time.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{self, Output, PasswordHash, Salt, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use tokio::sync::Semaphore;

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

/// Bounds the argon2 hashes that run at once, so that a flood of sign-ins costs waiting, not
/// memory: each hash fills `Params::DEFAULT_M_COST` KiB (19 MiB), and without a bound tokio's
/// blocking pool grew to a hundred threads hashing at once (1.8 GiB for 100 failed sign-ins),
/// and glibc kept the freed blocks (once a 19 MiB block is freed, glibc raises its mmap
/// threshold, so later blocks come from the heap and stay there: 4.8 GiB after three bursts).
/// Here at most `allowed`
/// hashes run, each in one of `allowed` memory blocks that are allocated once and reused, so
/// hashing never holds more than `allowed` x 19 MiB; up to `QUEUE_PER_SLOT` x `allowed` more
/// requests wait at most `MAX_WAIT`, and the rest are refused at once with
/// [`ServiceError::Busy`] (503 with Retry-After).
#[derive(Debug)]
pub struct PasswordHashing {
    allowed: usize,
    /// Admission: running plus waiting hashes.
    admitted: Semaphore,
    running: Semaphore,
    /// Argon2 working memory, one block per running hash, reused.
    memory: Mutex<Vec<Vec<Block>>>,
    stats: HashingStats,
}

/// What the metrics show about password hashing.
#[derive(Debug, Default)]
pub struct HashingStats {
    pub running: AtomicI64,
    /// The most hashes that ever ran at once since start.
    pub running_peak: AtomicI64,
    /// Requests refused because too many were already waiting.
    pub refused: AtomicU64,
}

/// Requests that may wait for a hash, per hash allowed to run.
const QUEUE_PER_SLOT: usize = 32;
/// Longest wait for a turn before the request is refused.
const MAX_WAIT: Duration = Duration::from_secs(5);
/// What a refused request is told to wait.
const RETRY_AFTER_SECS: u64 = 2;

/// Hashes that may run at once by default: hashing is CPU-bound, so more than the cores only
/// adds memory.
pub fn default_concurrency() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

/// Working memory of one hash with roster's parameters, in bytes.
pub const MEMORY_PER_HASH: usize = Params::DEFAULT_M_COST as usize * 1024;

impl PasswordHashing {
    pub fn new(allowed: usize) -> PasswordHashing {
        let allowed = allowed.max(1);
        PasswordHashing {
            allowed,
            admitted: Semaphore::new(allowed * (1 + QUEUE_PER_SLOT)),
            running: Semaphore::new(allowed),
            memory: Mutex::new(Vec::new()),
            stats: HashingStats::default(),
        }
    }

    pub fn allowed(&self) -> usize {
        self.allowed
    }

    pub fn stats(&self) -> &HashingStats {
        &self.stats
    }

    fn busy(&self) -> ServiceError {
        self.stats.refused.fetch_add(1, Ordering::Relaxed);
        ServiceError::Busy(RETRY_AFTER_SECS)
    }

    /// Runs `job` on a blocking thread with a reused block of argon2 memory, once it is this
    /// request's turn.
    async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce(&mut Vec<Block>) -> T + Send + 'static,
    ) -> Result<T> {
        let _admitted = self.admitted.try_acquire().map_err(|_| self.busy())?;
        let _turn = tokio::time::timeout(MAX_WAIT, self.running.acquire())
            .await
            .map_err(|_| self.busy())?
            .map_err(|_| ServiceError::Internal("password hashing closed".into()))?;
        let mut memory = self
            .memory
            .lock()
            .expect("not poisoned")
            .pop()
            .unwrap_or_default();
        let now = self.stats.running.fetch_add(1, Ordering::SeqCst) + 1;
        self.stats.running_peak.fetch_max(now, Ordering::SeqCst);
        let done = tokio::task::spawn_blocking(move || {
            let out = job(&mut memory);
            (out, memory)
        })
        .await;
        self.stats.running.fetch_sub(1, Ordering::SeqCst);
        let (out, memory) = done.map_err(|e| ServiceError::Internal(e.to_string()))?;
        // A stored hash with larger parameters grew the block; only the usual size is kept.
        if memory.len() <= Params::DEFAULT.block_count() {
            self.memory.lock().expect("not poisoned").push(memory);
        }
        Ok(out)
    }

    pub async fn hash(&self, password: String) -> Result<String> {
        self.run(move |memory| {
            let salt = SaltString::generate(&mut OsRng);
            argon2_hash(
                &Argon2::default(),
                password.as_bytes(),
                salt.as_salt(),
                memory,
            )
            .map(|h| h.to_string())
            .map_err(|e| ServiceError::Internal(format!("password hashing failed: {e}")))
        })
        .await?
    }

    /// Verifies a password; a missing hash (SSO-only or not yet set) never matches. When there
    /// is no account at all, callers verify against a dummy hash so timing does not reveal it.
    /// Fails only when the server is too busy to check it now.
    pub async fn verify(&self, password: String, hash: Option<String>) -> Result<bool> {
        self.run(move |memory| {
            let stored = hash.unwrap_or_else(|| DUMMY_HASH.to_string());
            argon2_verify(password.as_bytes(), &stored, memory) && stored != DUMMY_HASH
        })
        .await
    }
}

/// argon2's own `hash_password`, with working memory the caller owns.
fn argon2_hash<'a>(
    argon: &Argon2<'_>,
    password: &[u8],
    salt: Salt<'a>,
    memory: &mut Vec<Block>,
) -> password_hash::Result<PasswordHash<'a>> {
    let params = argon.params().clone();
    memory.resize(params.block_count(), Block::default());
    let mut salt_buf = [0u8; 64];
    let salt_bytes = salt.decode_b64(&mut salt_buf)?;
    let output = Output::init_with(
        params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN),
        |out| Ok(argon.hash_password_into_with_memory(password, salt_bytes, out, &mut *memory)?),
    )?;
    Ok(PasswordHash {
        algorithm: Algorithm::default().ident(),
        version: Some(Version::default().into()),
        params: (&params).try_into()?,
        salt: Some(salt),
        hash: Some(output),
    })
}

/// argon2's own `verify_password` (same parameters as the stored hash, constant-time
/// comparison), with working memory the caller owns.
fn argon2_verify(password: &[u8], stored: &str, memory: &mut Vec<Block>) -> bool {
    let mut check = || -> password_hash::Result<bool> {
        let parsed = PasswordHash::new(stored)?;
        let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
            return Ok(false);
        };
        let argon = Argon2::new(
            Algorithm::try_from(parsed.algorithm)?,
            parsed
                .version
                .map(Version::try_from)
                .transpose()?
                .unwrap_or_default(),
            Params::try_from(&parsed)?,
        );
        memory.resize(argon.params().block_count(), Block::default());
        let mut salt_buf = [0u8; 64];
        let salt_bytes = salt.decode_b64(&mut salt_buf)?;
        let computed = Output::init_with(expected.len(), |out| {
            Ok(argon.hash_password_into_with_memory(password, salt_bytes, out, &mut *memory)?)
        })?;
        Ok(computed == expected)
    };
    check().unwrap_or(false)
}

/// An argon2id hash of a random string nobody knows, for constant-time refusals.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$0Wq8Zl6lWv1Ht1xXJ8fTBhpGKCnpN0Vv5UEoXWcxQvA";

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::{PasswordHasher, PasswordVerifier};

    #[test]
    fn hashes_stay_compatible_with_argon2s_own_hasher_both_ways() {
        let mut memory = Vec::new();
        let salt = SaltString::generate(&mut OsRng);
        let theirs = Argon2::default()
            .hash_password(b"correct horse", &salt)
            .unwrap()
            .to_string();
        assert!(argon2_verify(b"correct horse", &theirs, &mut memory));
        assert!(!argon2_verify(b"wrong horse", &theirs, &mut memory));
        let salt = SaltString::generate(&mut OsRng);
        let ours = argon2_hash(
            &Argon2::default(),
            b"battery staple",
            salt.as_salt(),
            &mut memory,
        )
        .unwrap()
        .to_string();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(Argon2::default()
            .verify_password(b"battery staple", &parsed)
            .is_ok());
        assert_eq!(memory.len(), Params::DEFAULT.block_count());
        assert!(!argon2_verify(b"x", "not a hash", &mut memory));
    }
}
