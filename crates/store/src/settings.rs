//! Server-wide key/value settings (such as the server secret's fingerprint).

use sqlx::Row;

use crate::{Conn, Result};

pub async fn get(c: &mut Conn, name: &str) -> Result<Option<String>> {
    let row = sqlx::query("SELECT value FROM server_settings WHERE name = $1")
        .bind(name)
        .fetch_optional(&mut *c)
        .await?;
    Ok(row.map(|r| r.try_get(0)).transpose()?)
}

pub async fn put(c: &mut Conn, name: &str, value: &str) -> Result<()> {
    sqlx::query(
        "INSERT INTO server_settings (name, value) VALUES ($1, $2)
         ON CONFLICT (name) DO UPDATE SET value = excluded.value",
    )
    .bind(name)
    .bind(value)
    .execute(&mut *c)
    .await?;
    Ok(())
}
