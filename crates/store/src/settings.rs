//! Server-wide key/value settings (such as the server secret's fingerprint).

use crate::db::handle;
use crate::sql::query;
use crate::{Conn, Result, WriteTx};

pub async fn get(c: &mut Conn, name: &str) -> Result<Option<String>> {
    handle(c)
        .fetch_optional(
            query("SELECT value FROM server_settings WHERE name = $1").bind(name),
            |r| r.text(0),
        )
        .await
}

pub async fn put(c: &mut WriteTx, name: &str, value: &str) -> Result<()> {
    handle(c)
        .execute(
            query(
                "INSERT INTO server_settings (name, value) VALUES ($1, $2)
         ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            )
            .bind(name)
            .bind(value),
        )
        .await?;
    Ok(())
}
