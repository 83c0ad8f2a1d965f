//! Time-based one-time password factors (RFC 6238): one per person, sealed, with the last
//! time step accepted so that no code works twice.

use roster_domain::UserId;

use crate::db::handle;
use crate::sql::{query, Row};
use crate::{Conn, Micros, Result, WriteTx};

/// A person's factor as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TotpFactorRecord {
    pub user: UserId,
    /// The secret, sealed with the server secret.
    pub secret_sealed: String,
    /// When the first code confirmed it; None while enrollment waits for one.
    pub confirmed_at: Option<Micros>,
    /// The time step of the last code accepted.
    pub last_step: Option<i64>,
}

fn factor_from_row(r: &dyn Row) -> Result<TotpFactorRecord> {
    Ok(TotpFactorRecord {
        user: UserId(r.int(0)?),
        secret_sealed: r.text(1)?,
        confirmed_at: r.opt_int(2)?,
        last_step: r.opt_int(3)?,
    })
}

pub async fn factor(c: &mut Conn, user: UserId) -> Result<Option<TotpFactorRecord>> {
    let q = query(
        "SELECT user_id, secret_sealed, confirmed_at, last_step FROM totp_factors WHERE user_id = $1",
    )
    .bind(user.0);
    handle(c).fetch_optional(q, factor_from_row).await
}

/// Starts (or restarts) an enrollment with a new secret; false when the person already has a
/// confirmed factor, which stays as it is.
pub async fn put_pending(
    c: &mut WriteTx,
    user: UserId,
    secret_sealed: &str,
    now: Micros,
) -> Result<bool> {
    let q = query(
        "INSERT INTO totp_factors (user_id, secret_sealed, created_at) VALUES ($1, $2, $3)
         ON CONFLICT (user_id) DO UPDATE SET secret_sealed = excluded.secret_sealed,
             created_at = excluded.created_at, last_step = NULL
         WHERE totp_factors.confirmed_at IS NULL",
    )
    .bind(user.0)
    .bind(secret_sealed)
    .bind(now);
    Ok(handle(c).execute(q).await? == 1)
}

/// Accepts a code's time step: only a step later than the last one accepted, and only for the
/// secret the code was checked against (a concurrent re-enrollment replaced nothing). With
/// `confirm`, also confirms a pending factor. False when the step was not accepted.
pub async fn accept_step(
    c: &mut WriteTx,
    user: UserId,
    secret_sealed: &str,
    step: i64,
    confirm_at: Option<Micros>,
) -> Result<bool> {
    let q = query(
        "UPDATE totp_factors SET last_step = $1, confirmed_at = COALESCE(confirmed_at, $2)
         WHERE user_id = $3 AND secret_sealed = $4 AND (last_step IS NULL OR last_step < $1)",
    )
    .bind(step)
    .bind(confirm_at)
    .bind(user.0)
    .bind(secret_sealed);
    Ok(handle(c).execute(q).await? == 1)
}

pub async fn delete(c: &mut WriteTx, user: UserId) -> Result<()> {
    handle(c)
        .execute(query("DELETE FROM totp_factors WHERE user_id = $1").bind(user.0))
        .await?;
    Ok(())
}
