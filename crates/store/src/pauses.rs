//! Pauses of a person's work in a project: active while not deleted; resuming soft-deletes.

use crate::db::handle;
use crate::sql::{query, Row};
use crate::{Conn, Micros, Result, WriteTx};
use roster_domain::{ProjectId, UserId};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PauseRecord {
    pub id: i64,
    pub project: ProjectId,
    pub user: UserId,
    pub reason: String,
    pub verbose_reason: String,
    pub paused_by: Option<UserId>,
    pub created_at: Micros,
    pub updated_at: Micros,
    pub deleted_at: Option<Micros>,
    pub deleted_by: Option<UserId>,
}

const COLS: &str = "id, project_id, user_id, reason, verbose_reason, paused_by, created_at, \
     updated_at, deleted_at, deleted_by";

fn pause(r: &dyn Row) -> Result<PauseRecord> {
    Ok(PauseRecord {
        id: r.int(0)?,
        project: ProjectId(r.int(1)?),
        user: UserId(r.int(2)?),
        reason: r.text(3)?,
        verbose_reason: r.text(4)?,
        paused_by: r.opt_int(5)?.map(UserId),
        created_at: r.int(6)?,
        updated_at: r.int(7)?,
        deleted_at: r.opt_int(8)?,
        deleted_by: r.opt_int(9)?.map(UserId),
    })
}

/// The order a list is read in: a column the SDK may name, ascending or descending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PauseOrder {
    Id,
    CreatedAt,
    UpdatedAt,
}

pub struct NewPause<'a> {
    pub project: ProjectId,
    pub user: UserId,
    pub reason: &'a str,
    pub verbose_reason: &'a str,
    pub paused_by: UserId,
    pub now: Micros,
}

pub async fn insert(c: &mut WriteTx, p: NewPause<'_>) -> Result<i64> {
    let q = query(
        "INSERT INTO project_pauses (project_id, user_id, reason, verbose_reason, paused_by,
            created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id",
    )
    .bind(p.project.0)
    .bind(p.user.0)
    .bind(p.reason)
    .bind(p.verbose_reason)
    .bind(p.paused_by.0)
    .bind(p.now);
    handle(c).fetch_one(q, |r| r.int(0)).await
}

/// One pause of this person in this project, deleted or not.
pub async fn get(
    c: &mut Conn,
    project: ProjectId,
    user: UserId,
    id: i64,
) -> Result<Option<PauseRecord>> {
    let q = query(format!(
        "SELECT {COLS} FROM project_pauses WHERE id = $1 AND project_id = $2 AND user_id = $3"
    ))
    .bind(id)
    .bind(project.0)
    .bind(user.0);
    handle(c).fetch_optional(q, pause).await
}

/// The active pause of this person in this project, if any.
pub async fn active(c: &mut Conn, project: ProjectId, user: UserId) -> Result<Option<PauseRecord>> {
    let q = query(format!(
        "SELECT {COLS} FROM project_pauses
         WHERE project_id = $1 AND user_id = $2 AND deleted_at IS NULL ORDER BY id LIMIT 1"
    ))
    .bind(project.0)
    .bind(user.0);
    handle(c).fetch_optional(q, pause).await
}

pub async fn list(
    c: &mut Conn,
    project: ProjectId,
    user: UserId,
    include_deleted: bool,
    order: PauseOrder,
    descending: bool,
) -> Result<Vec<PauseRecord>> {
    let column = match order {
        PauseOrder::Id => "id",
        PauseOrder::CreatedAt => "created_at",
        PauseOrder::UpdatedAt => "updated_at",
    };
    let direction = if descending { "DESC" } else { "ASC" };
    let deleted = if include_deleted {
        ""
    } else {
        "AND deleted_at IS NULL"
    };
    let q = query(format!(
        "SELECT {COLS} FROM project_pauses WHERE project_id = $1 AND user_id = $2 {deleted}
         ORDER BY {column} {direction}, id {direction}"
    ))
    .bind(project.0)
    .bind(user.0);
    handle(c).fetch_all(q, pause).await
}

pub async fn update_reason(
    c: &mut WriteTx,
    id: i64,
    reason: &str,
    verbose_reason: &str,
    now: Micros,
) -> Result<()> {
    let q = query(
        "UPDATE project_pauses SET reason = $1, verbose_reason = $2, updated_at = $3 WHERE id = $4",
    )
    .bind(reason)
    .bind(verbose_reason)
    .bind(now)
    .bind(id);
    handle(c).execute(q).await?;
    Ok(())
}

/// Ends a pause (kept, marked deleted by `by`); false when it had already ended.
pub async fn end(c: &mut WriteTx, id: i64, by: UserId, now: Micros) -> Result<bool> {
    let q = query(
        "UPDATE project_pauses SET deleted_at = $1, deleted_by = $2, updated_at = $1
         WHERE id = $3 AND deleted_at IS NULL",
    )
    .bind(now)
    .bind(by.0)
    .bind(id);
    Ok(handle(c).execute(q).await? > 0)
}
