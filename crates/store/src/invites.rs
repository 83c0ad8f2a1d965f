//! Personal email invites.

use roster_domain::{InviteId, OrgId, ProjectId, Role, UserId};
use sqlx::Row;

use crate::rows;
use crate::{Conn, InviteRecord, Micros, Result, StoreError};

const COLS: &str =
    "id, org_id, email, role, projects, token_sealed, invited_by, created_at, expires_at, \
     accepted_at, revoked_at";

pub struct NewInvite<'a> {
    pub org: OrgId,
    pub email: &'a str,
    pub role: Role,
    pub projects: &'a [ProjectId],
    pub token_hash: &'a str,
    pub token_sealed: &'a str,
    pub invited_by: Option<UserId>,
    pub now: Micros,
    pub expires_at: Micros,
}

fn encode_projects(p: &[ProjectId]) -> String {
    let ids: Vec<String> = p.iter().map(|p| p.0.to_string()).collect();
    format!("[{}]", ids.join(","))
}

fn decode_projects(s: &str) -> Result<Vec<ProjectId>> {
    let inner = s.trim().trim_start_matches('[').trim_end_matches(']');
    inner
        .split(',')
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(|x| {
            x.parse::<i64>()
                .map(ProjectId)
                .map_err(|_| StoreError::Corrupt(format!("invite projects {s:?}")))
        })
        .collect()
}

fn from_row(r: &sqlx::any::AnyRow) -> Result<InviteRecord> {
    Ok(InviteRecord {
        id: InviteId(r.try_get(0)?),
        org: OrgId(r.try_get(1)?),
        email: r.try_get(2)?,
        role: rows::role(&r.try_get::<String, _>(3)?)?,
        projects: decode_projects(&r.try_get::<String, _>(4)?)?,
        token_sealed: r.try_get(5)?,
        invited_by: r.try_get::<Option<i64>, _>(6)?.map(UserId),
        created_at: r.try_get(7)?,
        expires_at: r.try_get(8)?,
        accepted_at: r.try_get(9)?,
        revoked_at: r.try_get(10)?,
    })
}

pub async fn insert(c: &mut Conn, i: NewInvite<'_>) -> Result<InviteId> {
    let row = sqlx::query(
        "INSERT INTO invites (org_id, email, role, projects, token_hash, token_sealed, invited_by, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
    )
    .bind(i.org.0)
    .bind(i.email)
    .bind(i.role.code())
    .bind(encode_projects(i.projects))
    .bind(i.token_hash)
    .bind(i.token_sealed)
    .bind(i.invited_by.map(|u| u.0))
    .bind(i.now)
    .bind(i.expires_at)
    .fetch_one(&mut *c)
    .await?;
    Ok(InviteId(row.try_get(0)?))
}

pub async fn by_token_hash(c: &mut Conn, hash: &str) -> Result<Option<InviteRecord>> {
    let sql = format!("SELECT {COLS} FROM invites WHERE token_hash = $1");
    let row = sqlx::query(&sql).bind(hash).fetch_optional(&mut *c).await?;
    row.map(|r| from_row(&r)).transpose()
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
    let rows = sqlx::query(&sql)
        .bind(org.0)
        .bind(limit)
        .bind(offset)
        .fetch_all(&mut *c)
        .await?;
    rows.iter().map(from_row).collect()
}

pub async fn count_of_org(c: &mut Conn, org: OrgId) -> Result<i64> {
    let row = sqlx::query("SELECT COUNT(*) FROM invites WHERE org_id = $1")
        .bind(org.0)
        .fetch_one(&mut *c)
        .await?;
    Ok(row.try_get(0)?)
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
    let rows = sqlx::query(&sql)
        .bind(org.0)
        .bind(email)
        .bind(now)
        .fetch_all(&mut *c)
        .await?;
    rows.iter().map(from_row).collect()
}

/// Revokes every pending invite for the email; returns how many.
pub async fn revoke(c: &mut Conn, org: OrgId, email: &str, now: Micros) -> Result<u64> {
    let sql = format!(
        "UPDATE invites SET revoked_at = $1 WHERE org_id = $2 AND email = $3 AND {}",
        rows::pending_invite_sql("", "$1")
    );
    let done = sqlx::query(&sql)
        .bind(now)
        .bind(org.0)
        .bind(email)
        .execute(&mut *c)
        .await?;
    Ok(done.rows_affected())
}

/// Marks every pending invite for the email accepted (the person has joined).
pub async fn accept_all(c: &mut Conn, org: OrgId, email: &str, now: Micros) -> Result<()> {
    let sql = format!(
        "UPDATE invites SET accepted_at = $1 WHERE org_id = $2 AND email = $3 AND {}",
        rows::pending_invite_sql("", "$1")
    );
    sqlx::query(&sql)
        .bind(now)
        .bind(org.0)
        .bind(email)
        .execute(&mut *c)
        .await?;
    Ok(())
}
