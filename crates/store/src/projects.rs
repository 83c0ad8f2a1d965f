//! Projects, their members, and the work done in them.

use roster_domain::workspaces::{project_reach, ProjectReach};
use roster_domain::{
    AnnotationId, MembershipId, OrgId, ProjectId, ProjectRole, Role, RoleSource, UserId,
    WorkspaceId,
};

use crate::db::handle;
use crate::live_counts::{self, Holder};
use crate::rows::{self, MEMBERSHIP_COLS, MEMBERSHIP_WIDTH, USER_COLS, USER_WIDTH};
use crate::sql::{query, Arg, Row};
use crate::{
    AnnotationRow, Backend, Conn, MemberRow, Micros, ProjectMemberRow, ProjectRecord,
    ProjectRoleRecord, Result, StoreError, WriteTx,
};

/// A project's columns, its live members from its counter (see `live_counts`) last.
const COLS: &str = "p.id, p.org_id, p.title, p.description, p.created_by, p.created_at, \
     p.workspace_id, \
     COALESCE((SELECT pc.live_members FROM project_counts pc WHERE pc.project_id = p.id), 0)";

fn from_row(r: &dyn Row) -> Result<ProjectRecord> {
    Ok(ProjectRecord {
        id: ProjectId(r.int(0)?),
        org: OrgId(r.int(1)?),
        title: r.text(2)?,
        description: r.text(3)?,
        created_by: r.opt_int(4)?.map(MembershipId),
        created_at: r.int(5)?,
        workspace: r.opt_int(6)?.map(WorkspaceId),
        live_members: r.int(7)?,
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

/// Which projects a list shows, beyond what the caller reaches.
#[derive(Debug, Clone, Default)]
pub struct ProjectFilter {
    /// Only the projects of this workspace.
    pub workspace: Option<WorkspaceId>,
    /// Only these projects (all when empty).
    pub ids: Vec<ProjectId>,
    /// A case-insensitive substring of the title.
    pub title: Option<String>,
    /// A case-insensitive substring of the title or the description.
    pub search: Option<String>,
    /// Only projects in an archived workspace (`true`) or not in one (`false`).
    pub archived: Option<bool>,
    /// Only pinned projects. Roster pins nothing, so this matches no project.
    pub pinned_only: bool,
    /// A column (`p.id`, `p.title`, `p.created_at`) and whether descending; by id otherwise.
    pub order: Option<(&'static str, bool)>,
}

/// The WHERE clause of a project list; `$1` is the organization, `$2` the membership, and the
/// filter's values follow from `$3`.
fn project_list_sql(
    reach: ProjectReach,
    f: &ProjectFilter,
    backend: Backend,
) -> (String, Vec<Arg>) {
    let mut sql = format!(
        "FROM projects p WHERE p.org_id = $1 AND {}",
        crate::workspaces::project_reach_sql(reach)
    );
    let mut args: Vec<Arg> = Vec::new();
    let next = |args: &mut Vec<Arg>, a: Arg| {
        args.push(a);
        args.len() + 2
    };
    if let Some(w) = f.workspace {
        let n = next(&mut args, Arg::Int(w.0));
        sql.push_str(&format!(" AND p.workspace_id = ${n}"));
    }
    if !f.ids.is_empty() {
        let n = next(&mut args, Arg::Ids(f.ids.iter().map(|p| p.0).collect()));
        sql.push_str(&match backend {
            Backend::Sqlite => format!(" AND p.id IN (SELECT value FROM rarray(${n}))"),
            Backend::Postgres => format!(" AND p.id = ANY(${n})"),
        });
    }
    if let Some(t) = f.title.as_deref().filter(|t| !t.is_empty()) {
        let n = next(&mut args, Arg::Text(crate::members::like_pattern(t)));
        sql.push_str(&format!(" AND LOWER(p.title) LIKE ${n} ESCAPE '\\'"));
    }
    if let Some(t) = f.search.as_deref().filter(|t| !t.is_empty()) {
        let n = next(&mut args, Arg::Text(crate::members::like_pattern(t)));
        sql.push_str(&format!(
            " AND (LOWER(p.title) LIKE ${n} ESCAPE '\\' OR LOWER(p.description) LIKE ${n} ESCAPE '\\')"
        ));
    }
    if f.pinned_only {
        sql.push_str(" AND 1 = 0");
    }
    if let Some(archived) = f.archived {
        let has = "EXISTS (SELECT 1 FROM workspaces aw WHERE aw.id = p.workspace_id AND aw.is_archived <> 0)";
        sql.push_str(&if archived {
            format!(" AND {has}")
        } else {
            format!(" AND NOT {has}")
        });
    }
    (sql, args)
}

/// Projects of an organization the membership reaches (see `roster_domain::workspaces`),
/// narrowed by `f`.
pub async fn of_org(
    c: &mut Conn,
    org: OrgId,
    member: MembershipId,
    reach: ProjectReach,
    f: &ProjectFilter,
    limit: i64,
    offset: i64,
) -> Result<Vec<ProjectRecord>> {
    let (from, args) = project_list_sql(reach, f, Backend::of(c));
    let (col, desc) = f.order.unwrap_or(("p.id", false));
    let dir = if desc { "DESC" } else { "ASC" };
    let n = args.len() + 3;
    let sql = format!(
        "SELECT {COLS} {from} ORDER BY {col} {dir}, p.id {dir} LIMIT ${n} OFFSET ${o}",
        o = n + 1
    );
    let mut q = query(sql).bind(org.0).bind(member.0);
    for a in args {
        q.push(a);
    }
    handle(c)
        .fetch_all(q.bind(limit).bind(offset), from_row)
        .await
}

pub async fn count_of_org(
    c: &mut Conn,
    org: OrgId,
    member: MembershipId,
    reach: ProjectReach,
    f: &ProjectFilter,
) -> Result<i64> {
    let (from, args) = project_list_sql(reach, f, Backend::of(c));
    let mut q = query(format!("SELECT COUNT(*) {from}"))
        .bind(org.0)
        .bind(member.0);
    for a in args {
        q.push(a);
    }
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

/// Adds a member to a project; a member already there stays as they are (with their project
/// role). Returns whether the member was added.
pub async fn add_member(
    c: &mut WriteTx,
    project: ProjectId,
    membership: MembershipId,
    source: RoleSource,
    now: Micros,
) -> Result<bool> {
    let q = query(
        "INSERT INTO project_members (project_id, membership_id, source, added_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (project_id, membership_id) DO NOTHING",
    )
    .bind(project.0)
    .bind(membership.0)
    .bind(source.code())
    .bind(now);
    let added = handle(c).execute(q).await? > 0;
    if added {
        live_counts::bump(c, Holder::Project, project.0, membership, 1).await?;
    }
    Ok(added)
}

/// Sets a project member's project role (keeping the role's id when it changes), or clears
/// it with `None` so they work with their organization role.
pub async fn set_role(
    c: &mut WriteTx,
    project: ProjectId,
    membership: MembershipId,
    role: Option<ProjectRole>,
    source: RoleSource,
    now: Micros,
) -> Result<()> {
    let q = match role {
        Some(role) => query(
            "INSERT INTO project_roles (project_id, membership_id, role, role_source, created_at)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (project_id, membership_id)
             DO UPDATE SET role = excluded.role, role_source = excluded.role_source",
        )
        .bind(project.0)
        .bind(membership.0)
        .bind(role.code())
        .bind(source.code())
        .bind(now),
        None => query("DELETE FROM project_roles WHERE project_id = $1 AND membership_id = $2")
            .bind(project.0)
            .bind(membership.0),
    };
    handle(c).execute(q).await?;
    Ok(())
}

/// Takes a member out of a project, with their project role. Returns whether they were in it.
pub async fn remove_member(
    c: &mut WriteTx,
    project: ProjectId,
    membership: MembershipId,
) -> Result<bool> {
    set_role(c, project, membership, None, RoleSource::Manual, 0).await?;
    let q = query("DELETE FROM project_members WHERE project_id = $1 AND membership_id = $2")
        .bind(project.0)
        .bind(membership.0);
    let removed = handle(c).execute(q).await? > 0;
    if removed {
        live_counts::bump(c, Holder::Project, project.0, membership, -1).await?;
    }
    Ok(removed)
}

/// The projects the membership belongs to, as (id, title), by title.
pub async fn titles_of_membership(
    c: &mut Conn,
    membership: MembershipId,
) -> Result<Vec<(ProjectId, String)>> {
    let q = query(
        "SELECT p.id, p.title FROM project_members pm JOIN projects p ON p.id = pm.project_id
         WHERE pm.membership_id = $1 ORDER BY p.title, p.id",
    )
    .bind(membership.0);
    handle(c)
        .fetch_all(q, |r| Ok((ProjectId(r.int(0)?), r.text(1)?)))
        .await
}

/// Whether the membership belongs to the project.
pub async fn is_member(c: &mut Conn, project: ProjectId, membership: MembershipId) -> Result<bool> {
    let q = query("SELECT 1 FROM project_members WHERE project_id = $1 AND membership_id = $2")
        .bind(project.0)
        .bind(membership.0);
    Ok(handle(c).fetch_optional(q, |_| Ok(())).await?.is_some())
}

/// Who made the membership's place in the project (manual, api, invite, scim, saml), if it
/// is in the project.
pub async fn member_source(
    c: &mut Conn,
    project: ProjectId,
    membership: MembershipId,
) -> Result<Option<RoleSource>> {
    let q =
        query("SELECT source FROM project_members WHERE project_id = $1 AND membership_id = $2")
            .bind(project.0)
            .bind(membership.0);
    handle(c)
        .fetch_optional(q, |r| {
            Ok(RoleSource::from_code(r.str(0)?).unwrap_or(RoleSource::Manual))
        })
        .await
}

/// The columns of a project role (joined as `pr`, with the membership as `m`).
const ROLE_COLS: &str =
    "pr.id, pr.project_id, pr.membership_id, m.user_id, pr.role, pr.role_source";

fn role_from_row(r: &dyn Row, at: usize) -> Result<Option<ProjectRoleRecord>> {
    let Some(id) = r.opt_int(at)? else {
        return Ok(None);
    };
    let role = r.text(at + 4)?;
    let source = r.text(at + 5)?;
    Ok(Some(ProjectRoleRecord {
        id,
        project: ProjectId(r.int(at + 1)?),
        membership: MembershipId(r.int(at + 2)?),
        user: UserId(r.int(at + 3)?),
        role: ProjectRole::from_code(&role)
            .ok_or_else(|| StoreError::Corrupt(format!("project role {role}")))?,
        source: RoleSource::from_code(&source).unwrap_or(RoleSource::Manual),
    }))
}

/// The project's members whose memberships are live, with their project roles.
pub async fn members(c: &mut Conn, project: ProjectId) -> Result<Vec<ProjectMemberRow>> {
    let sql = format!(
        "SELECT {MEMBERSHIP_COLS}, {USER_COLS}, {ROLE_COLS} FROM project_members pm
         JOIN memberships m ON m.id = pm.membership_id JOIN users u ON u.id = m.user_id
         LEFT JOIN project_roles pr ON pr.project_id = pm.project_id AND pr.membership_id = pm.membership_id
         WHERE pm.project_id = $1 AND m.deleted_at IS NULL ORDER BY m.user_email, m.id"
    );
    handle(c)
        .fetch_all(query(sql).bind(project.0), move |r| {
            let m = rows::member(r, 0)?;
            Ok(ProjectMemberRow {
                project,
                membership: m.membership,
                user: m.user,
                project_role: role_from_row(r, MEMBERSHIP_WIDTH + USER_WIDTH)?,
            })
        })
        .await
}

/// How many live members the project has.
/// The project's live members, from its counter.
pub async fn count_members(c: &mut Conn, org: OrgId, project: ProjectId) -> Result<i64> {
    live_counts::read(c, Holder::Project, org, project.0).await
}

/// A live membership's project role in a project, if it has one.
pub async fn role_of(
    c: &mut Conn,
    project: ProjectId,
    membership: MembershipId,
) -> Result<Option<ProjectRoleRecord>> {
    let sql = format!(
        "SELECT {ROLE_COLS} FROM project_roles pr JOIN memberships m ON m.id = pr.membership_id
         WHERE pr.project_id = $1 AND pr.membership_id = $2"
    );
    let q = query(sql).bind(project.0).bind(membership.0);
    Ok(handle(c)
        .fetch_optional(q, |r| role_from_row(r, 0))
        .await?
        .flatten())
}

/// One project role by its id.
pub async fn role_by_id(c: &mut Conn, id: i64) -> Result<Option<ProjectRoleRecord>> {
    let sql = format!(
        "SELECT {ROLE_COLS} FROM project_roles pr JOIN memberships m ON m.id = pr.membership_id
         WHERE pr.id = $1 AND m.deleted_at IS NULL"
    );
    let rows = handle(c)
        .fetch_optional(query(sql).bind(id), |r| role_from_row(r, 0))
        .await?;
    Ok(rows.flatten())
}

/// The project roles of an organization's live members, by role id; with `projects`, only
/// those projects; with `member`, only the projects that membership belongs to.
pub async fn roles_of_org(
    c: &mut Conn,
    org: OrgId,
    projects: Option<&[ProjectId]>,
    member: Option<MembershipId>,
) -> Result<Vec<ProjectRoleRecord>> {
    let mut sql = format!(
        "SELECT {ROLE_COLS} FROM project_roles pr JOIN projects p ON p.id = pr.project_id
         JOIN memberships m ON m.id = pr.membership_id
         WHERE p.org_id = $1 AND m.deleted_at IS NULL"
    );
    if let Some(ids) = projects {
        // Ids are integers, so they are written into the statement as numbers.
        let list: Vec<String> = ids.iter().map(|p| p.0.to_string()).collect();
        if list.is_empty() {
            return Ok(Vec::new());
        }
        sql.push_str(&format!(" AND pr.project_id IN ({})", list.join(", ")));
    }
    let mut q_member = None;
    if let Some(m) = member {
        sql.push_str(
            " AND EXISTS (SELECT 1 FROM project_members me WHERE me.project_id = pr.project_id AND me.membership_id = $2)",
        );
        q_member = Some(m);
    }
    sql.push_str(" ORDER BY pr.id");
    let mut q = query(sql).bind(org.0);
    if let Some(m) = q_member {
        q = q.bind(m.0);
    }
    let rows = handle(c).fetch_all(q, |r| role_from_row(r, 0)).await?;
    Ok(rows.into_iter().flatten().collect())
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

/// How many projects an organization has, and how many annotations they hold.
pub async fn totals_of_org(c: &mut Conn, org: OrgId) -> Result<(i64, i64)> {
    let q = query(
        "SELECT (SELECT COUNT(*) FROM projects WHERE org_id = $1),
                (SELECT COUNT(*) FROM annotations a JOIN projects p ON p.id = a.project_id
                 WHERE p.org_id = $1)",
    )
    .bind(org.0);
    handle(c).fetch_one(q, |r| Ok((r.int(0)?, r.int(1)?))).await
}

/// Whether the membership belongs to the project, and with which project role (`Some(None)`:
/// it works with its organization role).
pub async fn member_role(
    c: &mut Conn,
    project: ProjectId,
    membership: MembershipId,
) -> Result<Option<Option<ProjectRole>>> {
    let q = query(
        "SELECT pr.role FROM project_members pm
         LEFT JOIN project_roles pr ON pr.project_id = pm.project_id AND pr.membership_id = pm.membership_id
         WHERE pm.project_id = $1 AND pm.membership_id = $2",
    )
    .bind(project.0)
    .bind(membership.0);
    handle(c)
        .fetch_optional(q, |r| Ok(r.opt_str(0)?.and_then(ProjectRole::from_code)))
        .await
}

/// How the project member list is sorted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ProjectMemberOrder {
    Id,
    #[default]
    Email,
    FirstName,
    LastName,
    Username,
    LastActivity,
    DateJoined,
    /// By the effective role: the project role if set, otherwise the organization role.
    Role,
}

/// A query of a project's members, explicit and implicit.
#[derive(Debug, Clone, Default)]
pub struct ProjectMemberQuery {
    /// Only these users (all when empty).
    pub users: Vec<UserId>,
    /// Only these effective roles, by code (all when empty).
    pub roles: Vec<&'static str>,
    /// A case-insensitive substring of the email, the names or the username.
    pub search: Option<String>,
    /// Whether members who reach the project without being its members count.
    pub implicit: bool,
    /// Only members active at or after this time (microseconds since the epoch).
    pub last_activity_from: Option<Micros>,
    /// Only members active at or before this time.
    pub last_activity_to: Option<Micros>,
    /// Leaves out members whose effective role is Annotator.
    pub no_annotators: bool,
    /// Also lists deleted members who were the project's members (when the person has no
    /// live membership of the organization again).
    pub with_deleted: bool,
    /// The filters name no kind of user roster has (every member is a standard user), so
    /// nobody matches.
    pub matches_none: bool,
    /// Only members carrying any of these member tags (none = no tag filter).
    pub tags: Vec<roster_domain::MemberTagId>,
    pub order: ProjectMemberOrder,
    pub descending: bool,
}

/// One row of the project member list.
#[derive(Debug, Clone)]
pub struct ProjectMemberEntry {
    pub member: MemberRow,
    pub project_role: Option<ProjectRoleRecord>,
    /// Access without a project membership (through the organization role).
    pub implicit: bool,
}

/// Which live members reach project `$1` without being its members, as the domain's
/// [`project_reach`] says for each role: Owners and Administrators reach every project, members
/// of the project's workspace reach it through the workspace, and Managers the projects they
/// created. Built from the domain's table, so the list and the access check cannot disagree.
fn implicit_access_sql() -> String {
    let codes = |keep: &dyn Fn(ProjectReach) -> bool| -> String {
        let list: Vec<String> = Role::ALL
            .iter()
            .filter(|r| keep(project_reach(**r)))
            .map(|r| format!("'{}'", r.code()))
            .collect();
        if list.is_empty() {
            "NULL".into()
        } else {
            list.join(", ")
        }
    };
    let all = codes(&|r| r == ProjectReach::All);
    let joined = codes(&|r| matches!(r, ProjectReach::Joined { .. }));
    let created = codes(&|r| r == ProjectReach::Joined { created: true });
    format!(
        "(m.role IN ({all})
          OR (m.role IN ({joined}) AND EXISTS (SELECT 1 FROM projects ip
              JOIN workspace_members iw ON iw.workspace_id = ip.workspace_id
              WHERE ip.id = $1 AND iw.membership_id = m.id))
          OR (m.role IN ({created}) AND EXISTS (SELECT 1 FROM projects ip
              WHERE ip.id = $1 AND ip.created_by = m.id)))"
    )
}

fn member_query_sql(q: &ProjectMemberQuery, backend: Backend) -> (String, Vec<Arg>) {
    let mut sql = String::from(
        "FROM memberships m JOIN users u ON u.id = m.user_id
         LEFT JOIN project_members pm ON pm.project_id = $1 AND pm.membership_id = m.id
         LEFT JOIN project_roles pr ON pr.project_id = $1 AND pr.membership_id = m.id
         WHERE m.org_id = $2",
    );
    if q.with_deleted {
        // A deleted membership keeps its project rows; it is listed unless the person has
        // come back (then their live membership is the one listed).
        sql.push_str(
            " AND (m.deleted_at IS NULL OR (pm.membership_id IS NOT NULL AND NOT EXISTS \
             (SELECT 1 FROM memberships lm WHERE lm.org_id = m.org_id AND lm.user_id = m.user_id \
              AND lm.deleted_at IS NULL)))",
        );
    } else {
        sql.push_str(" AND m.deleted_at IS NULL");
    }
    if q.implicit {
        sql.push_str(&format!(
            " AND (pm.membership_id IS NOT NULL OR (m.deleted_at IS NULL AND {}))",
            implicit_access_sql()
        ));
    } else {
        sql.push_str(" AND pm.membership_id IS NOT NULL");
    }
    if q.matches_none {
        sql.push_str(" AND 1 = 0");
    }
    if q.no_annotators {
        sql.push_str(" AND COALESCE(pr.role, m.role) <> 'AN'");
    }
    let mut args = Vec::new();
    if !q.users.is_empty() {
        args.push(Arg::Ids(q.users.iter().map(|u| u.0).collect()));
        let n = args.len() + 2;
        sql.push_str(&match backend {
            Backend::Sqlite => format!(" AND m.user_id IN (SELECT value FROM rarray(${n}))"),
            Backend::Postgres => format!(" AND m.user_id = ANY(${n})"),
        });
    }
    if !q.tags.is_empty() {
        args.push(Arg::Ids(q.tags.iter().map(|t| t.0).collect()));
        let n = args.len() + 2;
        let tag_in = match backend {
            Backend::Sqlite => format!("ta.tag_id IN rarray(${n})"),
            Backend::Postgres => format!("ta.tag_id = ANY(${n})"),
        };
        sql.push_str(&format!(
            " AND m.id IN (SELECT ta.membership_id FROM member_tag_assignments ta WHERE {tag_in})"
        ));
    }
    if !q.roles.is_empty() {
        let list: Vec<String> = q.roles.iter().map(|r| format!("'{r}'")).collect();
        sql.push_str(&format!(
            " AND COALESCE(pr.role, m.role) IN ({})",
            list.join(",")
        ));
    }
    for (bound, op) in [(q.last_activity_from, ">="), (q.last_activity_to, "<=")] {
        if let Some(at) = bound {
            args.push(Arg::Int(at));
            let n = args.len() + 2;
            sql.push_str(&format!(" AND u.last_activity {op} ${n}"));
        }
    }
    if let Some(term) = q.search.as_deref().filter(|t| !t.is_empty()) {
        args.push(Arg::Text(crate::members::like_pattern(term)));
        let n = args.len() + 2;
        sql.push_str(&format!(
            " AND (m.user_email LIKE ${n} ESCAPE '\\' OR u.first_name_folded LIKE ${n} ESCAPE '\\' \
             OR u.last_name_folded LIKE ${n} ESCAPE '\\' OR u.username_folded LIKE ${n} ESCAPE '\\')"
        ));
    }
    (sql, args)
}

fn order_column(order: ProjectMemberOrder) -> &'static str {
    match order {
        ProjectMemberOrder::Id => "u.id",
        ProjectMemberOrder::Email => "m.user_email",
        ProjectMemberOrder::FirstName => "u.first_name",
        ProjectMemberOrder::LastName => "u.last_name",
        ProjectMemberOrder::Username => "u.username_folded",
        ProjectMemberOrder::LastActivity => "COALESCE(u.last_activity, 0)",
        ProjectMemberOrder::DateJoined => "u.date_joined",
        ProjectMemberOrder::Role => "COALESCE(pr.role, m.role)",
    }
}

/// How many members match a project member query.
pub async fn count_member_list(
    c: &mut Conn,
    org: OrgId,
    project: ProjectId,
    q: &ProjectMemberQuery,
) -> Result<i64> {
    let (from, args) = member_query_sql(q, Backend::of(c));
    let mut count = query(format!("SELECT COUNT(*) {from}"))
        .bind(project.0)
        .bind(org.0);
    for a in args {
        count.push(a);
    }
    handle(c).fetch_one(count, |r| r.int(0)).await
}

/// A page of a project member query.
pub async fn member_list(
    c: &mut Conn,
    org: OrgId,
    project: ProjectId,
    q: &ProjectMemberQuery,
    limit: i64,
    offset: i64,
) -> Result<Vec<ProjectMemberEntry>> {
    let (from, args) = member_query_sql(q, Backend::of(c));
    let dir = if q.descending { "DESC" } else { "ASC" };
    let n = args.len() + 3;
    let sql = format!(
        "SELECT {MEMBERSHIP_COLS}, {USER_COLS}, {ROLE_COLS}, pm.membership_id {from}
         ORDER BY {col} {dir}, m.id {dir} LIMIT ${n} OFFSET ${o}",
        col = order_column(q.order),
        o = n + 1,
    );
    let mut page = query(sql).bind(project.0).bind(org.0);
    for a in args {
        page.push(a);
    }
    let at = MEMBERSHIP_WIDTH + USER_WIDTH;
    handle(c)
        .fetch_all(page.bind(limit).bind(offset), move |r| {
            Ok(ProjectMemberEntry {
                member: rows::member(r, 0)?,
                project_role: role_from_row(r, at)?,
                implicit: r.opt_int(at + 6)?.is_none(),
            })
        })
        .await
}
