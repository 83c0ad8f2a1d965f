//! Workspaces, their members and the projects in them. Every read of members joins live
//! memberships, so a deleted membership's rows count for nothing.

use roster_domain::workspaces::{ProjectReach, WorkspaceReach};
use roster_domain::{MembershipId, OrgId, ProjectId, RoleSource, UserId, WorkspaceId};

use crate::db::handle;
use crate::live_counts::{self, Holder};
use crate::rows::{self, MEMBERSHIP_COLS, USER_COLS};
use crate::sql::{query, Arg, Query, Row};
use crate::{Backend, Conn, MemberRow, Micros, Result, WorkspaceRecord, WriteTx};

const COLS: &str =
    "w.id, w.org_id, w.title, w.description, w.color, w.is_personal, w.is_archived, \
     w.created_by, w.created_at, \
     (SELECT COUNT(*) FROM projects p WHERE p.workspace_id = w.id), \
     (SELECT cm.user_id FROM memberships cm WHERE cm.id = w.created_by)";

fn from_row(r: &dyn Row) -> Result<WorkspaceRecord> {
    Ok(WorkspaceRecord {
        id: WorkspaceId(r.int(0)?),
        org: OrgId(r.int(1)?),
        title: r.text(2)?,
        description: r.text(3)?,
        color: r.text(4)?,
        is_personal: r.flag(5)?,
        is_archived: r.flag(6)?,
        created_by: r.opt_int(7)?.map(MembershipId),
        created_at: r.int(8)?,
        projects_count: r.int(9)?,
        created_by_user: r.opt_int(10)?.map(UserId),
    })
}

/// The settings a workspace is created with or changed to.
#[derive(Debug, Clone)]
pub struct WorkspaceFields<'a> {
    pub title: &'a str,
    pub description: &'a str,
    pub color: &'a str,
    pub is_personal: bool,
    pub is_archived: bool,
}

pub async fn insert(
    c: &mut WriteTx,
    org: OrgId,
    f: &WorkspaceFields<'_>,
    created_by: MembershipId,
    now: Micros,
) -> Result<WorkspaceId> {
    let q = query(
        "INSERT INTO workspaces (org_id, title, description, color, is_personal, is_archived, created_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(org.0)
    .bind(f.title)
    .bind(f.description)
    .bind(f.color)
    .bind(f.is_personal)
    .bind(f.is_archived)
    .bind(created_by.0)
    .bind(now);
    handle(c).fetch_one(q, |r| Ok(WorkspaceId(r.int(0)?))).await
}

pub async fn update(c: &mut WriteTx, id: WorkspaceId, f: &WorkspaceFields<'_>) -> Result<()> {
    let q = query(
        "UPDATE workspaces SET title = $1, description = $2, color = $3, is_personal = $4, is_archived = $5
         WHERE id = $6",
    )
    .bind(f.title)
    .bind(f.description)
    .bind(f.color)
    .bind(f.is_personal)
    .bind(f.is_archived)
    .bind(id.0);
    handle(c).execute(q).await?;
    Ok(())
}

/// Deletes the workspace: its projects stay (outside any workspace), its memberships go.
pub async fn delete(c: &mut WriteTx, id: WorkspaceId) -> Result<()> {
    for sql in [
        "UPDATE projects SET workspace_id = NULL WHERE workspace_id = $1",
        "DELETE FROM workspace_members WHERE workspace_id = $1",
        "DELETE FROM workspaces WHERE id = $1",
    ] {
        handle(c).execute(query(sql).bind(id.0)).await?;
    }
    live_counts::drop(c, Holder::Workspace, id.0).await
}

pub async fn by_id(c: &mut Conn, id: WorkspaceId) -> Result<Option<WorkspaceRecord>> {
    let sql = format!("SELECT {COLS} FROM workspaces w WHERE w.id = $1");
    handle(c)
        .fetch_optional(query(sql).bind(id.0), from_row)
        .await
}

/// The titles of these workspaces, read at once (a page of projects names up to a hundred).
pub async fn titles(
    c: &mut Conn,
    ids: &[WorkspaceId],
) -> Result<std::collections::HashMap<WorkspaceId, String>> {
    if ids.is_empty() {
        return Ok(Default::default());
    }
    let sql = match Backend::of(c) {
        Backend::Sqlite => {
            "SELECT id, title FROM workspaces WHERE id IN (SELECT value FROM rarray($1))"
        }
        Backend::Postgres => "SELECT id, title FROM workspaces WHERE id = ANY($1)",
    };
    let mut q = query(sql);
    q.push(Arg::Ids(ids.iter().map(|w| w.0).collect()));
    let rows = handle(c)
        .fetch_all(q, |r| Ok((WorkspaceId(r.int(0)?), r.text(1)?)))
        .await?;
    Ok(rows.into_iter().collect())
}

/// SQL (with `$2` the caller's membership) true when the membership is a member of the
/// workspace `w`.
const JOINED: &str =
    "EXISTS (SELECT 1 FROM workspace_members wm WHERE wm.workspace_id = w.id AND wm.membership_id = $2)";

/// Always true or always false while still naming `$2`: PostgreSQL refuses a statement that
/// is given a value it does not use.
const EVERYTHING: &str = "$2 IS NOT NULL";
const NOTHING: &str = "$2 IS NULL";

/// SQL true when the project `p` is reached by the membership `$2` under `reach`.
pub(crate) fn project_reach_sql(reach: ProjectReach) -> &'static str {
    match reach {
        ProjectReach::All => EVERYTHING,
        ProjectReach::Nothing => NOTHING,
        ProjectReach::Joined { created: false } => {
            "(EXISTS (SELECT 1 FROM project_members pm WHERE pm.project_id = p.id AND pm.membership_id = $2)
              OR EXISTS (SELECT 1 FROM workspace_members pw WHERE pw.workspace_id = p.workspace_id AND pw.membership_id = $2))"
        }
        ProjectReach::Joined { created: true } => {
            "(p.created_by = $2
              OR EXISTS (SELECT 1 FROM project_members pm WHERE pm.project_id = p.id AND pm.membership_id = $2)
              OR EXISTS (SELECT 1 FROM workspace_members pw WHERE pw.workspace_id = p.workspace_id AND pw.membership_id = $2))"
        }
    }
}

fn workspace_reach_sql(reach: WorkspaceReach) -> String {
    match reach {
        WorkspaceReach::All => EVERYTHING.into(),
        WorkspaceReach::Nothing => NOTHING.into(),
        WorkspaceReach::Joined => JOINED.into(),
        WorkspaceReach::HoldingMyProjects => format!(
            "EXISTS (SELECT 1 FROM projects p WHERE p.workspace_id = w.id AND {})",
            project_reach_sql(ProjectReach::Joined { created: false })
        ),
    }
}

/// Which workspaces a list shows, beyond what the caller reaches.
#[derive(Debug, Clone, Default)]
pub struct WorkspaceFilter {
    pub archived: Option<bool>,
    pub personal: Option<bool>,
    /// Other people's personal workspaces too (Owners and Administrators who ask).
    pub others_personal: bool,
    /// A column (`id`, `title`, `created_at`) and whether descending.
    pub order: Option<(&'static str, bool)>,
}

/// The workspaces of an organization the membership reaches, each with whether the
/// membership is one of its members.
pub async fn list(
    c: &mut Conn,
    org: OrgId,
    membership: MembershipId,
    reach: WorkspaceReach,
    f: &WorkspaceFilter,
) -> Result<Vec<(WorkspaceRecord, bool)>> {
    let mut sql = format!(
        "SELECT {COLS}, CASE WHEN {JOINED} THEN 1 ELSE 0 END FROM workspaces w WHERE w.org_id = $1 AND {}",
        workspace_reach_sql(reach)
    );
    if !f.others_personal {
        sql.push_str(" AND (w.is_personal = 0 OR w.created_by = $2)");
    }
    let mut q_args: Vec<i64> = Vec::new();
    for (column, value) in [("is_archived", f.archived), ("is_personal", f.personal)] {
        if let Some(v) = value {
            q_args.push(v as i64);
            sql.push_str(&format!(" AND w.{column} = ${}", q_args.len() + 2));
        }
    }
    let (column, desc) = f.order.unwrap_or(("id", false));
    sql.push_str(&format!(
        " ORDER BY w.{column} {}, w.id",
        if desc { "DESC" } else { "ASC" }
    ));
    let mut q = query(sql).bind(org.0).bind(membership.0);
    for a in q_args {
        q.push(a);
    }
    handle(c)
        .fetch_all(q, |r| Ok((from_row(r)?, r.flag(11)?)))
        .await
}

/// Whether another workspace of the organization has this title.
pub async fn title_taken(
    c: &mut Conn,
    org: OrgId,
    title: &str,
    except: Option<WorkspaceId>,
) -> Result<bool> {
    let q = query("SELECT 1 FROM workspaces WHERE org_id = $1 AND title = $2 AND id <> $3")
        .bind(org.0)
        .bind(title)
        .bind(except.map_or(0, |w| w.0));
    Ok(handle(c).fetch_optional(q, |_| Ok(())).await?.is_some())
}

/// The user ids of the organization's live members, in membership order.
pub async fn org_member_user_ids(c: &mut Conn, org: OrgId) -> Result<Vec<i64>> {
    let q = query(
        "SELECT user_id FROM memberships WHERE org_id = $1 AND deleted_at IS NULL ORDER BY id",
    )
    .bind(org.0);
    handle(c).fetch_all(q, |r| r.int(0)).await
}

/// The user ids of the workspace's live members under a selection.
pub async fn member_user_ids(
    c: &mut Conn,
    ws: WorkspaceId,
    sel: &MemberSelection,
) -> Result<Vec<i64>> {
    let mut args = Vec::new();
    let from = members_from(sel, &mut args);
    let q = with_args(
        query(format!("SELECT u.id {from} ORDER BY wm.membership_id")).bind(ws.0),
        args,
    );
    handle(c).fetch_all(q, |r| r.int(0)).await
}

/// Whether the membership is a member of the workspace.
pub async fn is_member(c: &mut Conn, ws: WorkspaceId, membership: MembershipId) -> Result<bool> {
    let q = query("SELECT 1 FROM workspace_members WHERE workspace_id = $1 AND membership_id = $2")
        .bind(ws.0)
        .bind(membership.0);
    Ok(handle(c).fetch_optional(q, |_| Ok(())).await?.is_some())
}

/// Whether the workspace holds a project the membership belongs to (directly or through
/// this workspace).
pub async fn holds_project_of(
    c: &mut Conn,
    ws: WorkspaceId,
    membership: MembershipId,
) -> Result<bool> {
    let sql = format!(
        "SELECT 1 FROM projects p WHERE p.workspace_id = $1 AND {} LIMIT 1",
        project_reach_sql(ProjectReach::Joined { created: false })
    );
    let q = query(sql).bind(ws.0).bind(membership.0);
    Ok(handle(c).fetch_optional(q, |_| Ok(())).await?.is_some())
}

/// Adds the membership to the workspace; false when it already was a member.
pub async fn put_member(
    c: &mut WriteTx,
    ws: WorkspaceId,
    membership: MembershipId,
    source: RoleSource,
    now: Micros,
) -> Result<bool> {
    let q = query(
        "INSERT INTO workspace_members (workspace_id, membership_id, source, added_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (workspace_id, membership_id) DO NOTHING",
    )
    .bind(ws.0)
    .bind(membership.0)
    .bind(source.code())
    .bind(now);
    let added = handle(c).execute(q).await? > 0;
    if added {
        live_counts::bump(c, Holder::Workspace, ws.0, membership, 1).await?;
    }
    Ok(added)
}

/// The workspaces of the organization the membership belongs to, each with who made that
/// workspace membership (manual, api, invite, scim, saml).
pub async fn memberships_of(
    c: &mut Conn,
    membership: MembershipId,
) -> Result<Vec<(WorkspaceId, RoleSource)>> {
    let q = query(
        "SELECT workspace_id, source FROM workspace_members WHERE membership_id = $1 ORDER BY workspace_id",
    )
    .bind(membership.0);
    handle(c)
        .fetch_all(q, |r| Ok((WorkspaceId(r.int(0)?), source(r.str(1)?))))
        .await
}

/// The workspaces the membership belongs to, as (id, title), by title.
pub async fn titles_of_membership(
    c: &mut Conn,
    membership: MembershipId,
) -> Result<Vec<(WorkspaceId, String)>> {
    let q = query(
        "SELECT w.id, w.title FROM workspace_members wm JOIN workspaces w ON w.id = wm.workspace_id
         WHERE wm.membership_id = $1 ORDER BY w.title, w.id",
    )
    .bind(membership.0);
    handle(c)
        .fetch_all(q, |r| Ok((WorkspaceId(r.int(0)?), r.text(1)?)))
        .await
}

/// Who made the membership's place in the workspace, if it is in the workspace.
pub async fn member_source(
    c: &mut Conn,
    ws: WorkspaceId,
    membership: MembershipId,
) -> Result<Option<RoleSource>> {
    let q = query(
        "SELECT source FROM workspace_members WHERE workspace_id = $1 AND membership_id = $2",
    )
    .bind(ws.0)
    .bind(membership.0);
    handle(c).fetch_optional(q, |r| Ok(source(r.str(0)?))).await
}

/// A stored source; rows written before sources were recorded by their codes count as manual.
fn source(code: &str) -> RoleSource {
    RoleSource::from_code(code).unwrap_or(RoleSource::Manual)
}

/// The organization's workspaces as (id, title), by title.
pub async fn titles_of_org(c: &mut Conn, org: OrgId) -> Result<Vec<(WorkspaceId, String)>> {
    let q =
        query("SELECT id, title FROM workspaces WHERE org_id = $1 ORDER BY title, id").bind(org.0);
    handle(c)
        .fetch_all(q, |r| Ok((WorkspaceId(r.int(0)?), r.text(1)?)))
        .await
}

pub async fn remove_member(
    c: &mut WriteTx,
    ws: WorkspaceId,
    membership: MembershipId,
) -> Result<bool> {
    let q = query("DELETE FROM workspace_members WHERE workspace_id = $1 AND membership_id = $2")
        .bind(ws.0)
        .bind(membership.0);
    let removed = handle(c).execute(q).await? > 0;
    if removed {
        live_counts::bump(c, Holder::Workspace, ws.0, membership, -1).await?;
    }
    Ok(removed)
}

/// Which of a workspace's members a page or a bulk removal concerns.
#[derive(Debug, Clone, Default)]
pub struct MemberSelection {
    /// Only these user ids.
    pub ids: Option<Vec<i64>>,
    /// Name or email containing this (case-insensitive).
    pub search: Option<String>,
}

/// The `FROM ... WHERE` of a workspace's live members under a selection; `$1` is the
/// workspace, further values are appended to `args` in order.
fn members_from(sel: &MemberSelection, args: &mut Vec<crate::sql::Arg>) -> String {
    let mut sql = String::from(
        "FROM workspace_members wm JOIN memberships m ON m.id = wm.membership_id
         JOIN users u ON u.id = m.user_id
         WHERE wm.workspace_id = $1 AND m.deleted_at IS NULL",
    );
    if let Some(ids) = &sel.ids {
        let mut marks = Vec::new();
        for id in ids {
            args.push((*id).into());
            marks.push(format!("${}", args.len() + 1));
        }
        if marks.is_empty() {
            sql.push_str(" AND FALSE");
        } else {
            sql.push_str(&format!(" AND u.id IN ({})", marks.join(", ")));
        }
    }
    if let Some(s) = &sel.search {
        let pattern = format!("%{}%", s.to_lowercase().replace(['%', '_', '\\'], ""));
        args.push(pattern.into());
        let n = args.len() + 1;
        sql.push_str(&format!(
            " AND (LOWER(u.email) LIKE ${n} OR LOWER(u.first_name) LIKE ${n} OR LOWER(u.last_name) LIKE ${n} OR LOWER(u.username) LIKE ${n})"
        ));
    }
    sql
}

fn with_args(mut q: Query, args: Vec<crate::sql::Arg>) -> Query {
    for a in args {
        q.push(a);
    }
    q
}

/// A page of the workspace's live members, in membership order (read in the primary key's
/// order, so a page costs its size, not the workspace's).
pub async fn members_page(
    c: &mut Conn,
    ws: WorkspaceId,
    sel: &MemberSelection,
    limit: i64,
    offset: i64,
) -> Result<Vec<MemberRow>> {
    let mut args = Vec::new();
    let from = members_from(sel, &mut args);
    let sql = format!(
        "SELECT {MEMBERSHIP_COLS}, {USER_COLS} {from} ORDER BY wm.membership_id LIMIT {limit} OFFSET {offset}"
    );
    let q = with_args(query(sql).bind(ws.0), args);
    handle(c).fetch_all(q, |r| rows::member(r, 0)).await
}

/// How many of the workspace's live members the selection holds; all of them from the
/// workspace's counter.
pub async fn count_members(
    c: &mut Conn,
    org: OrgId,
    ws: WorkspaceId,
    sel: &MemberSelection,
) -> Result<i64> {
    if sel.ids.is_none() && sel.search.is_none() {
        return live_counts::read(c, Holder::Workspace, org, ws.0).await;
    }
    let mut args = Vec::new();
    let from = members_from(sel, &mut args);
    let q = with_args(query(format!("SELECT COUNT(*) {from}")).bind(ws.0), args);
    handle(c).fetch_one(q, |r| r.int(0)).await
}

/// Puts the project into the workspace, or out of any (`None`).
pub async fn set_project_workspace(
    c: &mut WriteTx,
    project: ProjectId,
    ws: Option<WorkspaceId>,
) -> Result<()> {
    let q = query("UPDATE projects SET workspace_id = $1 WHERE id = $2")
        .bind(ws.map(|w| w.0))
        .bind(project.0);
    handle(c).execute(q).await?;
    Ok(())
}
