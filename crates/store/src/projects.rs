//! Projects, their members, and the work done in them.

use roster_domain::workspaces::ProjectReach;
use roster_domain::{AnnotationId, MembershipId, OrgId, ProjectId, ProjectRole, WorkspaceId};

use crate::db::handle;
use crate::rows::{self, MEMBERSHIP_COLS, MEMBERSHIP_WIDTH, USER_COLS, USER_WIDTH};
use crate::sql::{query, Row};
use crate::{AnnotationRow, Conn, Micros, ProjectMemberRow, ProjectRecord, Result, WriteTx};

const COLS: &str =
    "p.id, p.org_id, p.title, p.description, p.created_by, p.created_at, p.workspace_id";

fn from_row(r: &dyn Row) -> Result<ProjectRecord> {
    Ok(ProjectRecord {
        id: ProjectId(r.int(0)?),
        org: OrgId(r.int(1)?),
        title: r.text(2)?,
        description: r.text(3)?,
        created_by: r.opt_int(4)?.map(MembershipId),
        created_at: r.int(5)?,
        workspace: r.opt_int(6)?.map(WorkspaceId),
    })
}

pub async fn insert(
    c: &mut WriteTx,
    org: OrgId,
    title: &str,
    description: &str,
    created_by: MembershipId,
    workspace: Option<WorkspaceId>,
    now: Micros,
) -> Result<ProjectId> {
    let q = query(
        "INSERT INTO projects (org_id, title, description, created_by, created_at, workspace_id) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(org.0)
    .bind(title)
    .bind(description)
    .bind(created_by.0)
    .bind(now)
    .bind(workspace.map(|w| w.0));
    handle(c).fetch_one(q, |r| Ok(ProjectId(r.int(0)?))).await
}

pub async fn by_id(c: &mut Conn, id: ProjectId) -> Result<Option<ProjectRecord>> {
    let sql = format!("SELECT {COLS} FROM projects p WHERE p.id = $1");
    handle(c)
        .fetch_optional(query(sql).bind(id.0), from_row)
        .await
}

/// Projects of an organization the membership reaches (see `roster_domain::workspaces`),
/// optionally only those of one workspace.
pub async fn of_org(
    c: &mut Conn,
    org: OrgId,
    member: MembershipId,
    reach: ProjectReach,
    workspace: Option<WorkspaceId>,
    limit: i64,
    offset: i64,
) -> Result<Vec<ProjectRecord>> {
    let sql = format!(
        "SELECT {COLS} FROM projects p WHERE p.org_id = $1 AND {} AND ($3 = 0 OR p.workspace_id = $3)
         ORDER BY p.id LIMIT $4 OFFSET $5",
        crate::workspaces::project_reach_sql(reach)
    );
    let q = query(sql)
        .bind(org.0)
        .bind(member.0)
        .bind(workspace.map_or(0, |w| w.0))
        .bind(limit)
        .bind(offset);
    handle(c).fetch_all(q, from_row).await
}

pub async fn count_of_org(
    c: &mut Conn,
    org: OrgId,
    member: MembershipId,
    reach: ProjectReach,
    workspace: Option<WorkspaceId>,
) -> Result<i64> {
    let sql = format!(
        "SELECT COUNT(*) FROM projects p WHERE p.org_id = $1 AND {} AND ($3 = 0 OR p.workspace_id = $3)",
        crate::workspaces::project_reach_sql(reach)
    );
    let q = query(sql)
        .bind(org.0)
        .bind(member.0)
        .bind(workspace.map_or(0, |w| w.0));
    handle(c).fetch_one(q, |r| r.int(0)).await
}

/// Whether the membership is a member of the project's workspace.
pub async fn is_workspace_member(
    c: &mut Conn,
    project: ProjectId,
    membership: MembershipId,
) -> Result<bool> {
    let q = query(
        "SELECT 1 FROM projects p JOIN workspace_members wm ON wm.workspace_id = p.workspace_id
         WHERE p.id = $1 AND wm.membership_id = $2",
    )
    .bind(project.0)
    .bind(membership.0);
    Ok(handle(c).fetch_optional(q, |_| Ok(())).await?.is_some())
}

/// Adds a member to a project, or changes their project role when already there.
pub async fn put_member(
    c: &mut WriteTx,
    project: ProjectId,
    membership: MembershipId,
    role: Option<ProjectRole>,
    now: Micros,
) -> Result<()> {
    let q = query(
        "INSERT INTO project_members (project_id, membership_id, role, added_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (project_id, membership_id) DO UPDATE SET role = excluded.role",
    )
    .bind(project.0)
    .bind(membership.0)
    .bind(role.map(|r| r.code()))
    .bind(now);
    handle(c).execute(q).await?;
    Ok(())
}

pub async fn remove_member(
    c: &mut WriteTx,
    project: ProjectId,
    membership: MembershipId,
) -> Result<bool> {
    let q = query("DELETE FROM project_members WHERE project_id = $1 AND membership_id = $2")
        .bind(project.0)
        .bind(membership.0);
    Ok(handle(c).execute(q).await? > 0)
}

/// Whether the membership belongs to the project.
pub async fn is_member(c: &mut Conn, project: ProjectId, membership: MembershipId) -> Result<bool> {
    let q = query("SELECT 1 FROM project_members WHERE project_id = $1 AND membership_id = $2")
        .bind(project.0)
        .bind(membership.0);
    Ok(handle(c).fetch_optional(q, |_| Ok(())).await?.is_some())
}

/// The project's members whose memberships are live.
pub async fn members(c: &mut Conn, project: ProjectId) -> Result<Vec<ProjectMemberRow>> {
    let sql = format!(
        "SELECT {MEMBERSHIP_COLS}, {USER_COLS}, pm.role FROM project_members pm
         JOIN memberships m ON m.id = pm.membership_id JOIN users u ON u.id = m.user_id
         WHERE pm.project_id = $1 AND m.deleted_at IS NULL ORDER BY m.user_email, m.id"
    );
    handle(c)
        .fetch_all(query(sql).bind(project.0), move |r| {
            let m = rows::member(r, 0)?;
            let role = r.opt_str(MEMBERSHIP_WIDTH + USER_WIDTH)?;
            Ok(ProjectMemberRow {
                project,
                membership: m.membership,
                user: m.user,
                project_role: role.and_then(ProjectRole::from_code),
            })
        })
        .await
}

pub async fn insert_annotation(
    c: &mut WriteTx,
    project: ProjectId,
    membership: MembershipId,
    result: &str,
    now: Micros,
) -> Result<AnnotationId> {
    let q = query(
        "INSERT INTO annotations (project_id, membership_id, result, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(project.0)
    .bind(membership.0)
    .bind(result)
    .bind(now);
    handle(c)
        .fetch_one(q, |r| Ok(AnnotationId(r.int(0)?)))
        .await
}

const ANNOTATION_SELECT: &str = "SELECT a.id, a.project_id, a.result, a.created_at";

fn annotation_from_row(r: &dyn Row) -> Result<AnnotationRow> {
    Ok(AnnotationRow {
        id: AnnotationId(r.int(0)?),
        project: ProjectId(r.int(1)?),
        result: r.text(2)?,
        created_at: r.int(3)?,
        author: rows::member(r, 4)?,
    })
}

/// The project's annotations with the membership and user they were done under.
pub async fn annotations(
    c: &mut Conn,
    project: ProjectId,
    limit: i64,
    offset: i64,
) -> Result<Vec<AnnotationRow>> {
    let sql = format!(
        "{ANNOTATION_SELECT}, {MEMBERSHIP_COLS}, {USER_COLS}
         FROM annotations a JOIN memberships m ON m.id = a.membership_id JOIN users u ON u.id = m.user_id
         WHERE a.project_id = $1 ORDER BY a.id LIMIT $2 OFFSET $3"
    );
    let q = query(sql).bind(project.0).bind(limit).bind(offset);
    handle(c).fetch_all(q, annotation_from_row).await
}

/// One annotation with its author.
pub async fn annotation(c: &mut Conn, id: AnnotationId) -> Result<Option<AnnotationRow>> {
    let sql = format!(
        "{ANNOTATION_SELECT}, {MEMBERSHIP_COLS}, {USER_COLS}
         FROM annotations a JOIN memberships m ON m.id = a.membership_id JOIN users u ON u.id = m.user_id
         WHERE a.id = $1"
    );
    handle(c)
        .fetch_optional(query(sql).bind(id.0), annotation_from_row)
        .await
}

pub async fn count_annotations(c: &mut Conn, project: ProjectId) -> Result<i64> {
    let q = query("SELECT COUNT(*) FROM annotations WHERE project_id = $1").bind(project.0);
    handle(c).fetch_one(q, |r| r.int(0)).await
}

/// Whether the membership belongs to the project, and with which project role (`Some(None)`:
/// it works with its organization role).
pub async fn member_role(
    c: &mut Conn,
    project: ProjectId,
    membership: MembershipId,
) -> Result<Option<Option<ProjectRole>>> {
    let q = query("SELECT role FROM project_members WHERE project_id = $1 AND membership_id = $2")
        .bind(project.0)
        .bind(membership.0);
    handle(c)
        .fetch_optional(q, |r| Ok(r.opt_str(0)?.and_then(ProjectRole::from_code)))
        .await
}
