//! Personal email invites.

use roster_domain::{InviteId, OrgId, ProjectId, Role, UserId, WorkspaceId};

use crate::db::handle;
use crate::rows;
use crate::sql::{query, Row};
use crate::{Conn, InviteRecord, Micros, Result, StoreError, WriteTx};

const COLS: &str =
    "id, org_id, email, role, projects, token_sealed, invited_by, created_at, expires_at, \
     accepted_at, revoked_at, workspaces";

pub struct NewInvite<'a> {
    pub org: OrgId,
    pub email: &'a str,
    pub role: Role,
    pub projects: &'a [ProjectId],
    /// The workspaces the invite gives on acceptance.
    pub workspaces: &'a [WorkspaceId],
    pub token_hash: &'a str,
    pub token_sealed: &'a str,
    pub invited_by: Option<UserId>,
    pub now: Micros,
    pub expires_at: Micros,
}

/// A JSON list of ids, as the `projects` and `workspaces` columns hold them.
fn encode_ids(ids: impl Iterator<Item = i64>) -> String {
    let ids: Vec<String> = ids.map(|id| id.to_string()).collect();
    format!("[{}]", ids.join(","))
}

fn decode_ids(s: &str) -> Result<Vec<i64>> {
    let inner = s.trim().trim_start_matches('[').trim_end_matches(']');
    inner
        .split(',')
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(|x| {
            x.parse::<i64>()
                .map_err(|_| StoreError::Corrupt(format!("invite ids {s:?}")))
        })
        .collect()
}

fn from_row(r: &dyn Row) -> Result<InviteRecord> {
    Ok(InviteRecord {
        id: InviteId(r.int(0)?),
        org: OrgId(r.int(1)?),
        email: r.text(2)?,
        role: rows::role(r.str(3)?)?,
        projects: decode_ids(r.str(4)?)?.into_iter().map(ProjectId).collect(),
        token_sealed: r.text(5)?,
        invited_by: r.opt_int(6)?.map(UserId),
        created_at: r.int(7)?,
        expires_at: r.int(8)?,
        accepted_at: r.opt_int(9)?,
        revoked_at: r.opt_int(10)?,
        workspaces: decode_ids(r.str(11)?)?
            .into_iter()
            .map(WorkspaceId)
            .collect(),
    })
}

pub async fn insert(c: &mut WriteTx, i: NewInvite<'_>) -> Result<InviteId> {
    let q = query(
        "INSERT INTO invites (org_id, email, role, projects, token_hash, token_sealed, invited_by, created_at, expires_at, workspaces)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
    )
    .bind(i.org.0)
    .bind(i.email)
    .bind(i.role.code())
    .bind(encode_ids(i.projects.iter().map(|p| p.0)))
    .bind(i.token_hash)
    .bind(i.token_sealed)
    .bind(i.invited_by.map(|u| u.0))
    .bind(i.now)
    .bind(i.expires_at)
    .bind(encode_ids(i.workspaces.iter().map(|w| w.0)));
    handle(c).fetch_one(q, |r| Ok(InviteId(r.int(0)?))).await
}

pub async fn by_token_hash(c: &mut Conn, hash: &str) -> Result<Option<InviteRecord>> {
    let sql = format!("SELECT {COLS} FROM invites WHERE token_hash = $1");
    handle(c)
        .fetch_optional(query(sql).bind(hash), from_row)
        .await
}

/// The organization's invites, newest first.
pub async fn of_org(
    c: &mut Conn,
    org: OrgId,
    limit: i64,
    offset: i64,
) -> Result<Vec<InviteRecord>> {
    let sql =
        format!("SELECT {COLS} FROM invites WHERE org_id = $1 ORDER BY id DESC LIMIT $2 OFFSET $3");
    let q = query(sql).bind(org.0).bind(limit).bind(offset);
    handle(c).fetch_all(q, from_row).await
}

pub async fn count_of_org(c: &mut Conn, org: OrgId) -> Result<i64> {
    let q = query("SELECT COUNT(*) FROM invites WHERE org_id = $1").bind(org.0);
    handle(c).fetch_one(q, |r| r.int(0)).await
}

/// Pending (unexpired, unrevoked, unaccepted) invites for one email.
pub async fn pending_for(
    c: &mut Conn,
    org: OrgId,
    email: &str,
    now: Micros,
) -> Result<Vec<InviteRecord>> {
    let pending = rows::pending_invite_sql("", "$3");
    let sql = format!(
        "SELECT {COLS} FROM invites WHERE org_id = $1 AND email = $2 AND {pending} ORDER BY id"
    );
    let q = query(sql).bind(org.0).bind(email).bind(now);
    handle(c).fetch_all(q, from_row).await
}

/// Revokes every pending invite for the email; returns how many.
pub async fn revoke(c: &mut WriteTx, org: OrgId, email: &str, now: Micros) -> Result<u64> {
    let sql = format!(
        "UPDATE invites SET revoked_at = $1 WHERE org_id = $2 AND email = $3 AND {}",
        rows::pending_invite_sql("", "$1")
    );
    let q = query(sql).bind(now).bind(org.0).bind(email);
    handle(c).execute(q).await
}

/// Marks every pending invite for the email accepted (the person has joined).
pub async fn accept_all(c: &mut WriteTx, org: OrgId, email: &str, now: Micros) -> Result<()> {
    let sql = format!(
        "UPDATE invites SET accepted_at = $1 WHERE org_id = $2 AND email = $3 AND {}",
        rows::pending_invite_sql("", "$1")
    );
    let q = query(sql).bind(now).bind(org.0).bind(email);
    handle(c).execute(q).await?;
    Ok(())
}
