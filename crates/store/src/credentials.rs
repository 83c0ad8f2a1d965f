//! Credentials: legacy API keys, personal access tokens (refresh JWT ids) and sessions.

use roster_domain::UserId;
use sqlx::Row;

use crate::rows::{self, MEMBERSHIP_COLS, USER_COLS, USER_WIDTH};
use crate::{
    Conn, MembershipRecord, Micros, RefreshTokenRecord, Result, SessionRecord, UserRecord,
};

/// Replaces the user's legacy key.
pub async fn put_legacy_key(
    c: &mut Conn,
    user: UserId,
    key_hash: &str,
    key_sealed: &str,
    now: Micros,
) -> Result<()> {
    sqlx::query("DELETE FROM legacy_keys WHERE user_id = $1")
        .bind(user.0)
        .execute(&mut *c)
        .await?;
    first_legacy_key(c, user, key_hash, key_sealed, now).await?;
    Ok(())
}

/// Stores a first legacy key for the user unless they already have one; returns the sealed
/// key that is theirs afterwards (this one, or the one a concurrent request stored first).
pub async fn first_legacy_key(
    c: &mut Conn,
    user: UserId,
    key_hash: &str,
    key_sealed: &str,
    now: Micros,
) -> Result<String> {
    sqlx::query(
        "INSERT INTO legacy_keys (user_id, key_hash, key_sealed, created_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (user_id) DO NOTHING",
    )
    .bind(user.0)
    .bind(key_hash)
    .bind(key_sealed)
    .bind(now)
    .execute(&mut *c)
    .await?;
    legacy_key_of(c, user)
        .await?
        .ok_or_else(|| crate::StoreError::Config("a stored legacy key vanished".into()))
}

/// The user's sealed legacy key, if they have one.
pub async fn legacy_key_of(c: &mut Conn, user: UserId) -> Result<Option<String>> {
    let row = sqlx::query("SELECT key_sealed FROM legacy_keys WHERE user_id = $1")
        .bind(user.0)
        .fetch_optional(&mut *c)
        .await?;
    Ok(row.map(|r| r.try_get(0)).transpose()?)
}

/// The account a legacy key belongs to, with its live memberships, in one round trip (every
/// API request pays it).
pub async fn user_by_legacy_hash(
    c: &mut Conn,
    key_hash: &str,
) -> Result<Option<(UserRecord, Vec<MembershipRecord>)>> {
    let sql = format!(
        "SELECT {USER_COLS}, {MEMBERSHIP_COLS} FROM legacy_keys k JOIN users u ON u.id = k.user_id
         LEFT JOIN memberships m ON m.user_id = u.id AND m.deleted_at IS NULL
         WHERE k.key_hash = $1 ORDER BY m.org_id"
    );
    let found = sqlx::query(&sql).bind(key_hash).fetch_all(&mut *c).await?;
    user_with_memberships(&found, 0)
}

/// Folds rows of (..., user, membership-or-NULL) into the user and their memberships.
fn user_with_memberships(
    found: &[sqlx::any::AnyRow],
    user_at: usize,
) -> Result<Option<(UserRecord, Vec<MembershipRecord>)>> {
    let Some(first) = found.first() else {
        return Ok(None);
    };
    let user = rows::user(first, user_at)?;
    let mut memberships = Vec::new();
    for r in found {
        if let Some(m) = rows::membership_opt(r, user_at + USER_WIDTH)? {
            memberships.push(m);
        }
    }
    Ok(Some((user, memberships)))
}

pub async fn insert_refresh(c: &mut Conn, t: &RefreshTokenRecord) -> Result<()> {
    sqlx::query(
        "INSERT INTO refresh_tokens (jti, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(&t.jti)
    .bind(t.user.0)
    .bind(t.created_at)
    .bind(t.expires_at)
    .execute(&mut *c)
    .await?;
    Ok(())
}

fn refresh_from_row(r: &sqlx::any::AnyRow) -> Result<RefreshTokenRecord> {
    Ok(RefreshTokenRecord {
        jti: r.try_get(0)?,
        user: UserId(r.try_get(1)?),
        created_at: r.try_get(2)?,
        expires_at: r.try_get(3)?,
        blacklisted_at: r.try_get(4)?,
    })
}

pub async fn refresh_by_jti(c: &mut Conn, jti: &str) -> Result<Option<RefreshTokenRecord>> {
    let row = sqlx::query(
        "SELECT jti, user_id, created_at, expires_at, blacklisted_at FROM refresh_tokens WHERE jti = $1",
    )
    .bind(jti)
    .fetch_optional(&mut *c)
    .await?;
    row.map(|r| refresh_from_row(&r)).transpose()
}

/// The user's usable personal access tokens, newest first.
pub async fn valid_refresh_of(
    c: &mut Conn,
    user: UserId,
    now: Micros,
) -> Result<Vec<RefreshTokenRecord>> {
    let rows = sqlx::query(
        "SELECT jti, user_id, created_at, expires_at, blacklisted_at FROM refresh_tokens
         WHERE user_id = $1 AND blacklisted_at IS NULL AND expires_at > $2 ORDER BY created_at DESC, jti",
    )
    .bind(user.0)
    .bind(now)
    .fetch_all(&mut *c)
    .await?;
    rows.iter().map(refresh_from_row).collect()
}

/// Blacklists a token; false when it was already blacklisted or unknown.
pub async fn blacklist_refresh(c: &mut Conn, jti: &str, now: Micros) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE refresh_tokens SET blacklisted_at = $1 WHERE jti = $2 AND blacklisted_at IS NULL",
    )
    .bind(now)
    .bind(jti)
    .execute(&mut *c)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn insert_session(
    c: &mut Conn,
    id_hash: &str,
    user: UserId,
    csrf: &str,
    now: Micros,
    expires_at: Micros,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id_hash)
    .bind(user.0)
    .bind(csrf)
    .bind(now)
    .bind(expires_at)
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// A live session with its account and the account's live memberships, in one round trip.
pub async fn session(
    c: &mut Conn,
    id_hash: &str,
    now: Micros,
) -> Result<Option<(SessionRecord, UserRecord, Vec<MembershipRecord>)>> {
    let sql = format!(
        "SELECT s.user_id, s.csrf_token, s.expires_at, {USER_COLS}, {MEMBERSHIP_COLS}
         FROM sessions s JOIN users u ON u.id = s.user_id
         LEFT JOIN memberships m ON m.user_id = u.id AND m.deleted_at IS NULL
         WHERE s.id_hash = $1 AND s.expires_at > $2 ORDER BY m.org_id"
    );
    let found = sqlx::query(&sql)
        .bind(id_hash)
        .bind(now)
        .fetch_all(&mut *c)
        .await?;
    let Some(first) = found.first() else {
        return Ok(None);
    };
    let session = SessionRecord {
        user: UserId(first.try_get(0)?),
        csrf_token: first.try_get(1)?,
        expires_at: first.try_get(2)?,
    };
    Ok(user_with_memberships(&found, 3)?.map(|(user, memberships)| (session, user, memberships)))
}

pub async fn delete_session(c: &mut Conn, id_hash: &str) -> Result<()> {
    sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
        .bind(id_hash)
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// Ends every session of a user (after a password change).
pub async fn delete_sessions_of(c: &mut Conn, user: UserId) -> Result<()> {
    sqlx::query("DELETE FROM sessions WHERE user_id = $1")
        .bind(user.0)
        .execute(&mut *c)
        .await?;
    Ok(())
}
