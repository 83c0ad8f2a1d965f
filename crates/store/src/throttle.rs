//! Failure counters for sign-in and token endpoints, kept in the database so every node
//! shares them.

use sqlx::Row;

use crate::{Conn, Micros, Result};

/// (failures so far, blocked until).
pub async fn get(c: &mut Conn, key: &str) -> Result<Option<(i64, Micros)>> {
    let row = sqlx::query("SELECT failures, blocked_until FROM throttle WHERE key = $1")
        .bind(key)
        .fetch_optional(&mut *c)
        .await?;
    row.map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).transpose()
}

pub async fn put(
    c: &mut Conn,
    key: &str,
    failures: i64,
    blocked_until: Micros,
    now: Micros,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO throttle (key, failures, blocked_until, updated_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (key) DO UPDATE SET failures = excluded.failures,
            blocked_until = excluded.blocked_until, updated_at = excluded.updated_at",
    )
    .bind(key)
    .bind(failures)
    .bind(blocked_until)
    .bind(now)
    .execute(&mut *c)
    .await?;
    Ok(())
}

pub async fn clear(c: &mut Conn, key: &str) -> Result<()> {
    sqlx::query("DELETE FROM throttle WHERE key = $1")
        .bind(key)
        .execute(&mut *c)
        .await?;
    Ok(())
}
