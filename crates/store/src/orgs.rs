//! Organizations and their settings.

use crate::db::handle;
use crate::rows::{self, ORG_COLS};
use crate::sql::query;
use crate::{Conn, Micros, OrgRecord, Result, WriteTx};
use roster_domain::{OrgId, Role, UserId};

/// The invite-link token as stored: its keyed hash for look-up and the token sealed.
#[derive(Debug, Clone)]
pub struct StoredInviteToken {
    pub hash: String,
    pub sealed: String,
}

pub async fn insert(
    c: &mut WriteTx,
    title: &str,
    invite_token: &StoredInviteToken,
    created_by: UserId,
    now: Micros,
) -> Result<OrgId> {
    let q = query(
        "INSERT INTO organizations (title, invite_token_hash, invite_token_sealed, created_by, created_at)
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(title)
    .bind(&invite_token.hash)
    .bind(&invite_token.sealed)
    .bind(created_by.0)
    .bind(now);
    Ok(OrgId(handle(c).fetch_one(q, |r| r.int(0)).await?))
}

pub async fn by_id(c: &mut Conn, id: OrgId) -> Result<Option<OrgRecord>> {
    let sql = format!("SELECT {ORG_COLS} FROM organizations o WHERE o.id = $1");
    handle(c)
        .fetch_optional(query(sql).bind(id.0), rows::org)
        .await
}

/// The organization whose invite-link token has this keyed hash.
pub async fn by_invite_token_hash(c: &mut Conn, hash: &str) -> Result<Option<OrgRecord>> {
    let sql = format!(
        "SELECT {ORG_COLS} FROM organizations o WHERE o.invite_token_hash = $1 AND o.invite_token_sealed IS NOT NULL"
    );
    handle(c)
        .fetch_optional(query(sql).bind(hash), rows::org)
        .await
}

pub async fn count(c: &mut Conn) -> Result<i64> {
    handle(c)
        .fetch_one(query("SELECT COUNT(*) FROM organizations"), |r| r.int(0))
        .await
}

/// Organizations in which `user` holds a live membership, oldest first.
pub async fn of_user(c: &mut Conn, user: UserId) -> Result<Vec<OrgRecord>> {
    let sql = format!(
        "SELECT {ORG_COLS} FROM organizations o JOIN memberships m ON m.org_id = o.id
         WHERE m.user_id = $1 AND m.deleted_at IS NULL ORDER BY o.id"
    );
    handle(c)
        .fetch_all(query(sql).bind(user.0), rows::org)
        .await
}

/// The single-sign-on-only organizations that `user` owns: where their password and second
/// factor are the way in when the identity provider fails.
pub async fn sso_only_owned_by(c: &mut Conn, user: UserId) -> Result<Vec<OrgRecord>> {
    let sql = format!(
        "SELECT {ORG_COLS} FROM organizations o JOIN memberships m ON m.org_id = o.id
         WHERE m.user_id = $1 AND m.deleted_at IS NULL AND m.role = $2 AND o.sso_only = 1
         ORDER BY o.id"
    );
    let q = query(sql).bind(user.0).bind(Role::Owner.code());
    handle(c).fetch_all(q, rows::org).await
}

/// Serializes membership and seat changes on one organization: the first statement of every
/// such transaction, it takes the organization row's write lock (PostgreSQL) or the database
/// write lock (SQLite) until commit. Returns false when the organization does not exist.
pub async fn lock_for_membership_change(c: &mut WriteTx, id: OrgId) -> Result<bool> {
    let q = query("UPDATE organizations SET write_seq = write_seq + 1 WHERE id = $1").bind(id.0);
    Ok(handle(c).execute(q).await? == 1)
}

/// Writes every setting of `org` back.
pub async fn update(c: &mut WriteTx, org: &OrgRecord) -> Result<()> {
    let q = query(
        "UPDATE organizations SET title = $1, contact_info = $2, seat_limit = $3, default_role = $4,
            manual_role_management = $5, api_tokens_enabled = $6, legacy_api_tokens_enabled = $7,
            api_token_ttl_days = $8, sso_only = $9, manual_workspace_management = $10,
            manual_project_member_management = $11
         WHERE id = $12",
    )
    .bind(&org.title)
    .bind(&org.contact_info)
    .bind(org.seat_limit)
    .bind(org.default_role.code())
    .bind(org.manual_role_management)
    .bind(org.api_tokens_enabled)
    .bind(org.legacy_api_tokens_enabled)
    .bind(org.api_token_ttl_days)
    .bind(org.sso_only)
    .bind(org.manual_workspace_management)
    .bind(org.manual_project_member_management)
    .bind(org.id.0);
    handle(c).execute(q).await?;
    Ok(())
}

/// Replaces the organization's invite-link token.
pub async fn set_invite_token(c: &mut WriteTx, id: OrgId, token: &StoredInviteToken) -> Result<()> {
    let q = query(
        "UPDATE organizations SET invite_token_hash = $1, invite_token_sealed = $2 WHERE id = $3",
    )
    .bind(&token.hash)
    .bind(&token.sealed)
    .bind(id.0);
    handle(c).execute(q).await?;
    Ok(())
}

/// Organizations whose invite-link token is still stored as it is (from before migration 5),
/// with that token.
pub async fn plaintext_invite_tokens(c: &mut Conn) -> Result<Vec<(OrgId, String)>> {
    let q =
        query("SELECT id, invite_token_hash FROM organizations WHERE invite_token_sealed IS NULL");
    handle(c)
        .fetch_all(q, |r| Ok((OrgId(r.int(0)?), r.text(1)?)))
        .await
}

/// Every organization, oldest first.
pub async fn all(c: &mut Conn) -> Result<Vec<OrgRecord>> {
    let sql = format!("SELECT {ORG_COLS} FROM organizations o ORDER BY o.id");
    handle(c).fetch_all(query(sql), rows::org).await
}
