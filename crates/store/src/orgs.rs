//! Organizations and their settings.

use roster_domain::{OrgId, UserId};
use sqlx::Row;

use crate::rows::{self, flag, ORG_COLS};
use crate::{Conn, Micros, OrgRecord, Result};

/// The invite-link token as stored: its keyed hash for look-up and the token sealed.
#[derive(Debug, Clone)]
pub struct StoredInviteToken {
    pub hash: String,
    pub sealed: String,
}

pub async fn insert(
    c: &mut Conn,
    title: &str,
    invite_token: &StoredInviteToken,
    created_by: UserId,
    now: Micros,
) -> Result<OrgId> {
    let row = sqlx::query(
        "INSERT INTO organizations (title, invite_token_hash, invite_token_sealed, created_by, created_at)
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(title)
    .bind(&invite_token.hash)
    .bind(&invite_token.sealed)
    .bind(created_by.0)
    .bind(now)
    .fetch_one(&mut *c)
    .await?;
    Ok(OrgId(row.try_get(0)?))
}

pub async fn by_id(c: &mut Conn, id: OrgId) -> Result<Option<OrgRecord>> {
    let sql = format!("SELECT {ORG_COLS} FROM organizations o WHERE o.id = $1");
    let row = sqlx::query(&sql).bind(id.0).fetch_optional(&mut *c).await?;
    row.map(|r| rows::org(&r)).transpose()
}

/// The organization whose invite-link token has this keyed hash.
pub async fn by_invite_token_hash(c: &mut Conn, hash: &str) -> Result<Option<OrgRecord>> {
    let sql = format!(
        "SELECT {ORG_COLS} FROM organizations o WHERE o.invite_token_hash = $1 AND o.invite_token_sealed IS NOT NULL"
    );
    let row = sqlx::query(&sql).bind(hash).fetch_optional(&mut *c).await?;
    row.map(|r| rows::org(&r)).transpose()
}

pub async fn count(c: &mut Conn) -> Result<i64> {
    let row = sqlx::query("SELECT COUNT(*) FROM organizations")
        .fetch_one(&mut *c)
        .await?;
    Ok(row.try_get(0)?)
}

/// Organizations in which `user` holds a live membership, oldest first.
pub async fn of_user(c: &mut Conn, user: UserId) -> Result<Vec<OrgRecord>> {
    let sql = format!(
        "SELECT {ORG_COLS} FROM organizations o JOIN memberships m ON m.org_id = o.id
         WHERE m.user_id = $1 AND m.deleted_at IS NULL ORDER BY o.id"
    );
    let rows = sqlx::query(&sql).bind(user.0).fetch_all(&mut *c).await?;
    rows.iter().map(rows::org).collect()
}

/// Serializes membership and seat changes on one organization: the first statement of every
/// such transaction, it takes the organization row's write lock (PostgreSQL) or the database
/// write lock (SQLite) until commit. Returns false when the organization does not exist.
pub async fn lock_for_membership_change(c: &mut Conn, id: OrgId) -> Result<bool> {
    let done = sqlx::query("UPDATE organizations SET write_seq = write_seq + 1 WHERE id = $1")
        .bind(id.0)
        .execute(&mut *c)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Writes every setting of `org` back.
pub async fn update(c: &mut Conn, org: &OrgRecord) -> Result<()> {
    sqlx::query(
        "UPDATE organizations SET title = $1, contact_info = $2, seat_limit = $3, default_role = $4,
            manual_role_management = $5, api_tokens_enabled = $6, legacy_api_tokens_enabled = $7,
            api_token_ttl_days = $8
         WHERE id = $9",
    )
    .bind(&org.title)
    .bind(&org.contact_info)
    .bind(org.seat_limit)
    .bind(org.default_role.code())
    .bind(flag(org.manual_role_management))
    .bind(flag(org.api_tokens_enabled))
    .bind(flag(org.legacy_api_tokens_enabled))
    .bind(org.api_token_ttl_days)
    .bind(org.id.0)
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// Replaces the organization's invite-link token.
pub async fn set_invite_token(c: &mut Conn, id: OrgId, token: &StoredInviteToken) -> Result<()> {
    sqlx::query(
        "UPDATE organizations SET invite_token_hash = $1, invite_token_sealed = $2 WHERE id = $3",
    )
    .bind(&token.hash)
    .bind(&token.sealed)
    .bind(id.0)
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// Organizations whose invite-link token is still stored as it is (from before migration 5),
/// with that token.
pub async fn plaintext_invite_tokens(c: &mut Conn) -> Result<Vec<(OrgId, String)>> {
    let rows = sqlx::query(
        "SELECT id, invite_token_hash FROM organizations WHERE invite_token_sealed IS NULL",
    )
    .fetch_all(&mut *c)
    .await?;
    rows.iter()
        .map(|r| Ok((OrgId(r.try_get(0)?), r.try_get(1)?)))
        .collect()
}

/// Every organization, oldest first.
pub async fn all(c: &mut Conn) -> Result<Vec<OrgRecord>> {
    let sql = format!("SELECT {ORG_COLS} FROM organizations o ORDER BY o.id");
    let rows = sqlx::query(&sql).fetch_all(&mut *c).await?;
    rows.iter().map(rows::org).collect()
}
