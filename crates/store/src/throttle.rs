//! Failure counters for sign-in and token endpoints, kept in the database so every node
//! shares them.

use crate::db::handle;
use crate::sql::{query, Row};
use crate::{Conn, Micros, Result, WriteTx};

/// One key's counter: failures so far, blocked until, and when the last failure was counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counter {
    pub failures: i64,
    pub blocked_until: Micros,
    pub updated_at: Micros,
}

/// Reads a key's counter and holds it for the rest of the transaction: a concurrent
/// transaction on another connection (or another node) that locks the same key waits until
/// this one ends, so a check and the count that follows it are one step. The upsert is the
/// lock on PostgreSQL (a row lock, taken even for a new key); on SQLite every write
/// transaction already holds the database's one writer. A key never seen reads as zero.
pub async fn lock(c: &mut WriteTx, key: &str) -> Result<Counter> {
    handle(c)
        .fetch_one(
            query(
                "INSERT INTO throttle (key, failures, blocked_until, updated_at) VALUES ($1, 0, 0, 0)
         ON CONFLICT (key) DO UPDATE SET failures = throttle.failures
         RETURNING failures, blocked_until, updated_at",
            )
            .bind(key),
            counter,
        )
        .await
}

fn counter(r: &dyn Row) -> Result<Counter> {
    Ok(Counter {
        failures: r.int(0)?,
        blocked_until: r.int(1)?,
        updated_at: r.int(2)?,
    })
}

/// Reads a key's counter without locking it.
pub async fn get(c: &mut Conn, key: &str) -> Result<Option<Counter>> {
    handle(c)
        .fetch_optional(
            query("SELECT failures, blocked_until, updated_at FROM throttle WHERE key = $1")
                .bind(key),
            counter,
        )
        .await
}

pub async fn put(c: &mut WriteTx, key: &str, counter: Counter) -> Result<()> {
    let q = query(
        "INSERT INTO throttle (key, failures, blocked_until, updated_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (key) DO UPDATE SET failures = excluded.failures,
            blocked_until = excluded.blocked_until, updated_at = excluded.updated_at",
    )
    .bind(key)
    .bind(counter.failures)
    .bind(counter.blocked_until)
    .bind(counter.updated_at);
    handle(c).execute(q).await?;
    Ok(())
}

pub async fn clear(c: &mut WriteTx, key: &str) -> Result<()> {
    handle(c)
        .execute(query("DELETE FROM throttle WHERE key = $1").bind(key))
        .await?;
    Ok(())
}
