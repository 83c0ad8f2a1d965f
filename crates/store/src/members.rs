//! Memberships: the live one per (organization, user), deleted ones kept as records, and the
//! member list with its filters, orderings and counts.

use crate::db::handle;
use crate::rows::{self, MEMBERSHIP_COLS, USER_COLS};
use crate::sql::{query, Arg};
use crate::{Backend, Conn, MemberRow, MembershipRecord, Micros, Result, WriteTx};
use roster_domain::{
    MemberOrder, MemberTagId, MembershipId, OrgId, ProjectId, Role, RoleSource, UserId, WorkspaceId,
};

pub async fn insert(
    c: &mut WriteTx,
    org: OrgId,
    user: UserId,
    email: &str,
    role: Role,
    source: RoleSource,
    now: Micros,
) -> Result<MembershipId> {
    // The user's activity so far is copied for the member list (migration 22).
    let q = query(
        "INSERT INTO memberships (org_id, user_id, user_email, role, role_source, created_at, updated_at,
             user_last_activity)
         VALUES ($1, $2, $3, $4, $5, $6, $6,
             COALESCE((SELECT u.last_activity FROM users u WHERE u.id = $2), 0))
         RETURNING id",
    )
    .bind(org.0)
    .bind(user.0)
    .bind(email)
    .bind(role.code())
    .bind(source.code())
    .bind(now);
    let id = handle(c).fetch_one(q, |r| r.int(0)).await?;
    bump_count(c, org, role, 1).await?;
    Ok(MembershipId(id))
}

/// Adds `delta` to the live-member counter of (organization, role).
pub(crate) async fn bump_count(c: &mut WriteTx, org: OrgId, role: Role, delta: i64) -> Result<()> {
    let q = query(
        "INSERT INTO member_counts (org_id, role, n) VALUES ($1, $2, $3)
         ON CONFLICT (org_id, role) DO UPDATE SET n = member_counts.n + excluded.n",
    )
    .bind(org.0)
    .bind(role.code())
    .bind(delta);
    handle(c).execute(q).await?;
    Ok(())
}

/// The organization and role of a live membership, for moving its counter.
async fn live_org_role(c: &mut Conn, id: MembershipId) -> Result<Option<(OrgId, Role)>> {
    let q = query("SELECT org_id, role FROM memberships WHERE id = $1 AND deleted_at IS NULL")
        .bind(id.0);
    handle(c)
        .fetch_optional(q, |r| Ok((OrgId(r.int(0)?), rows::role(r.str(1)?)?)))
        .await
}

/// The user's live membership in the organization, if any.
pub async fn live(c: &mut Conn, org: OrgId, user: UserId) -> Result<Option<MembershipRecord>> {
    let sql = format!(
        "SELECT {MEMBERSHIP_COLS} FROM memberships m
         WHERE m.org_id = $1 AND m.user_id = $2 AND m.deleted_at IS NULL"
    );
    handle(c)
        .fetch_optional(query(sql).bind(org.0).bind(user.0), |r| {
            rows::membership(r, 0)
        })
        .await
}

/// Whether the user once had a membership in the organization that was deleted.
pub async fn was_removed(c: &mut Conn, org: OrgId, user: UserId) -> Result<bool> {
    let q = query(
        "SELECT 1 FROM memberships WHERE org_id = $1 AND user_id = $2 AND deleted_at IS NOT NULL
         LIMIT 1",
    )
    .bind(org.0)
    .bind(user.0);
    Ok(handle(c).fetch_optional(q, |_| Ok(())).await?.is_some())
}

/// The live membership with its user.
pub async fn live_with_user(c: &mut Conn, org: OrgId, user: UserId) -> Result<Option<MemberRow>> {
    let sql = format!(
        "SELECT {MEMBERSHIP_COLS}, {USER_COLS} FROM memberships m JOIN users u ON u.id = m.user_id
         WHERE m.org_id = $1 AND m.user_id = $2 AND m.deleted_at IS NULL"
    );
    handle(c)
        .fetch_optional(query(sql).bind(org.0).bind(user.0), |r| rows::member(r, 0))
        .await
}

/// The org's Owner.
pub async fn owner(c: &mut Conn, org: OrgId) -> Result<Option<MemberRow>> {
    let sql = format!(
        "SELECT {MEMBERSHIP_COLS}, {USER_COLS} FROM memberships m JOIN users u ON u.id = m.user_id
         WHERE m.org_id = $1 AND m.role = 'OW' AND m.deleted_at IS NULL"
    );
    handle(c)
        .fetch_optional(query(sql).bind(org.0), |r| rows::member(r, 0))
        .await
}

/// Every live membership of a user, oldest first.
pub async fn of_user(c: &mut Conn, user: UserId) -> Result<Vec<MembershipRecord>> {
    let sql = format!(
        "SELECT {MEMBERSHIP_COLS} FROM memberships m
         WHERE m.user_id = $1 AND m.deleted_at IS NULL ORDER BY m.org_id"
    );
    handle(c)
        .fetch_all(query(sql).bind(user.0), |r| rows::membership(r, 0))
        .await
}

pub async fn set_role(
    c: &mut WriteTx,
    id: MembershipId,
    role: Role,
    source: RoleSource,
    now: Micros,
) -> Result<()> {
    let before = live_org_role(c, id).await?;
    let q =
        query("UPDATE memberships SET role = $1, role_source = $2, updated_at = $3 WHERE id = $4")
            .bind(role.code())
            .bind(source.code())
            .bind(now)
            .bind(id.0);
    handle(c).execute(q).await?;
    if let Some((org, old)) = before.filter(|(_, old)| *old != role) {
        bump_count(c, org, old, -1).await?;
        bump_count(c, org, role, 1).await?;
    }
    Ok(())
}

pub async fn soft_delete(c: &mut WriteTx, id: MembershipId, now: Micros) -> Result<()> {
    let Some((org, role)) = live_org_role(c, id).await? else {
        return Ok(());
    };
    bump_count(c, org, role, -1).await?;
    crate::live_counts::forget_membership(c, id).await?;
    crate::tags::forget_membership(c, id).await?;
    let q = query(
        "UPDATE memberships SET deleted_at = $1, updated_at = $1 WHERE id = $2 AND deleted_at IS NULL",
    )
    .bind(now)
    .bind(id.0);
    handle(c).execute(q).await?;
    Ok(())
}

/// Live members in a working role (the seats they occupy), from the counters.
pub async fn count_active(c: &mut Conn, org: OrgId) -> Result<i64> {
    count_in_roles(c, org, &Role::ACTIVE).await
}

/// Live members in any of `roles` (all roles when empty), from the counters.
pub async fn count_in_roles(c: &mut Conn, org: OrgId, roles: &[Role]) -> Result<i64> {
    let roles = if roles.is_empty() {
        &Role::ALL[..]
    } else {
        roles
    };
    let list: Vec<String> = roles.iter().map(|r| format!("'{}'", r.code())).collect();
    // SUM of BIGINT is NUMERIC on PostgreSQL; the cast keeps one row type for both databases.
    let sql = format!(
        "SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) FROM member_counts WHERE org_id = $1 AND role IN ({})",
        list.join(",")
    );
    handle(c)
        .fetch_one(query(sql).bind(org.0), |r| r.int(0))
        .await
}

/// Live members of the organization in a project, in any of `roles` (all when empty).
async fn count_project_members_in_roles(
    c: &mut Conn,
    org: OrgId,
    project: ProjectId,
    roles: &[Role],
) -> Result<i64> {
    let mut sql = String::from(
        "SELECT COUNT(*) FROM project_members pm JOIN memberships m ON m.id = pm.membership_id
         WHERE pm.project_id = $1 AND m.org_id = $2 AND m.deleted_at IS NULL",
    );
    if !roles.is_empty() {
        let list: Vec<String> = roles.iter().map(|r| format!("'{}'", r.code())).collect();
        sql.push_str(&format!(" AND m.role IN ({})", list.join(",")));
    }
    handle(c)
        .fetch_one(query(sql).bind(project.0).bind(org.0), |r| r.int(0))
        .await
}

/// Unexpired, unrevoked, unaccepted invites carrying a working role, one per email, for
/// emails that are not already live members in a working role.
pub async fn count_invite_seats(c: &mut Conn, org: OrgId, now: Micros) -> Result<i64> {
    let seat_roles = rows::seat_roles_sql();
    let pending = rows::pending_invite_sql("i.", "$2");
    let sql = format!(
        "SELECT COUNT(DISTINCT i.email) FROM invites i
         WHERE i.org_id = $1 AND {pending} AND i.role IN {seat_roles}
           AND NOT EXISTS (SELECT 1 FROM memberships m WHERE m.org_id = i.org_id
               AND m.user_email = i.email AND m.deleted_at IS NULL AND m.role IN {seat_roles})"
    );
    handle(c)
        .fetch_one(query(sql).bind(org.0).bind(now), |r| r.int(0))
        .await
}

/// The member's last activity as a query of live or deleted members reads it: live
/// memberships keep an indexed copy (migration 22), deleted ones the value they had when
/// deleted, so their list reads the user's own. Never active is 0 either way (NULL sorts
/// differently in the two databases; "never active" sorts as oldest).
fn activity_column(deleted: bool) -> &'static str {
    if deleted {
        "COALESCE(u.last_activity, 0)"
    } else {
        "m.user_last_activity"
    }
}

/// Whether the query's order sorts by a column of the user's.
fn order_reads_users(q: &MemberQuery) -> bool {
    match q.order {
        MemberOrder::Email | MemberOrder::Role => false,
        MemberOrder::LastActivity => q.deleted,
        MemberOrder::FirstName | MemberOrder::LastName | MemberOrder::DateJoined => true,
    }
}

/// The column a member-list order sorts by.
fn order_column(q: &MemberQuery) -> &'static str {
    match q.order {
        MemberOrder::Email => "m.user_email",
        MemberOrder::FirstName => "u.first_name",
        MemberOrder::LastName => "u.last_name",
        MemberOrder::LastActivity => activity_column(q.deleted),
        MemberOrder::DateJoined => "u.date_joined",
        MemberOrder::Role => "m.role",
    }
}

/// The value a row is sorted by in `order`, to seek past it.
pub fn sort_value(order: MemberOrder, row: &MemberRow) -> SortValue {
    match order {
        MemberOrder::Email => SortValue::Text(row.user.email.clone()),
        MemberOrder::FirstName => SortValue::Text(row.user.first_name.clone()),
        MemberOrder::LastName => SortValue::Text(row.user.last_name.clone()),
        MemberOrder::LastActivity => SortValue::Int(row.user.last_activity.unwrap_or(0)),
        MemberOrder::DateJoined => SortValue::Int(row.user.date_joined),
        MemberOrder::Role => SortValue::Text(row.membership.role.code().to_string()),
    }
}

/// A sort value of the member list.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SortValue {
    Text(String),
    Int(i64),
}

/// Where a page of the member list ended: the last row's sort value and membership id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageEnd {
    pub value: SortValue,
    pub id: MembershipId,
}

/// A member-list query. `search` is matched case-insensitively against email and names.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MemberQuery {
    pub org: OrgId,
    pub roles: Vec<Role>,
    pub search: Option<String>,
    pub deleted: bool,
    pub order: MemberOrder,
    pub descending: bool,
    /// Leave out the members of this workspace (the "add members" pickers).
    pub exclude_workspace: Option<WorkspaceId>,
    /// Leaves out the members of this project (the "add members" pickers).
    pub exclude_project: Option<ProjectId>,
    /// Only members carrying any of these tags (none = no tag filter).
    pub tags: Vec<MemberTagId>,
    /// Only members whose last activity is at or after / at or before these instants (never
    /// active members match neither bound).
    pub active_from: Option<Micros>,
    pub active_to: Option<Micros>,
    /// The filter asks only for seat types roster does not have (flex, view-only): no member
    /// matches.
    pub no_seat_type: bool,
    /// Only members of any of these workspaces or projects (both empty = no such filter).
    pub in_workspaces: Vec<WorkspaceId>,
    pub in_projects: Vec<ProjectId>,
}

impl MemberQuery {
    /// A query of the organization's live members in email order, without filters.
    pub fn everyone(org: OrgId) -> MemberQuery {
        MemberQuery {
            org,
            roles: vec![],
            search: None,
            deleted: false,
            order: MemberOrder::Email,
            descending: false,
            exclude_workspace: None,
            exclude_project: None,
            tags: vec![],
            active_from: None,
            active_to: None,
            no_seat_type: false,
            in_workspaces: vec![],
            in_projects: vec![],
        }
    }

    /// Whether the query filters on tags alone: its members are exactly the tags'
    /// assignments, which exist for live members of the tags' organization only (migration 18).
    fn tags_only(&self) -> bool {
        !self.tags.is_empty()
            && MemberQuery {
                tags: self.tags.clone(),
                order: self.order,
                descending: self.descending,
                ..MemberQuery::everyone(self.org)
            } == *self
    }

    /// Whether the query is a search of live members with no filter but roles: what the search
    /// journal (migration 23) holds is all its count reads (`search_counts`).
    pub(crate) fn searches_by_roles_only(&self) -> bool {
        self.search.as_deref().is_some_and(|s| !s.is_empty())
            && MemberQuery {
                roles: self.roles.clone(),
                search: self.search.clone(),
                order: self.order,
                descending: self.descending,
                ..MemberQuery::everyone(self.org)
            } == *self
    }

    /// Whether the query filters on more than roles, projects and workspaces (the counters
    /// cannot answer its count).
    fn narrows(&self) -> bool {
        self.search.as_deref().is_some_and(|s| !s.is_empty())
            || self.deleted
            || !self.tags.is_empty()
            || self.active_from.is_some()
            || self.active_to.is_some()
            || self.no_seat_type
            || !self.in_workspaces.is_empty()
            || !self.in_projects.is_empty()
    }
}

/// Escapes LIKE wildcards so a search term matches literally.
pub(crate) fn like_pattern(term: &str) -> String {
    let mut p = String::with_capacity(term.len() + 2);
    p.push('%');
    for ch in crate::users::fold(term).chars() {
        if matches!(ch, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(ch);
    }
    p.push('%');
    p
}

/// An FTS5 phrase that matches `term` as a substring through the trigram index.
fn trigram_phrase(term: &str) -> String {
    format!("\"{}\"", crate::users::fold(term).replace('"', "\"\""))
}

/// Whether a search term can use the trigram index: it needs one trigram.
fn has_trigram(term: &str) -> bool {
    crate::users::fold(term).chars().count() >= 3
}

/// How a query's search finds its members.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SearchPlan {
    /// No search, or one the index cannot narrow: check each member in page order and stop
    /// after a page (counting still visits every member).
    Scan,
    /// The users whose text holds the term, from the trigram index: start from them and sort
    /// their memberships.
    Hits(Vec<i64>),
}

/// Up to this many hits, sorting them beats walking the list in order. A term most members
/// hold ("example" in every email) is faster walked than looked up.
const FEW_HITS: i64 = 5_000;

/// A member query whose search has been looked up in the trigram index, once for both the
/// count and the page of one request (the lookup is the costly part of a search).
#[derive(Debug, Clone)]
pub struct Resolved<'q> {
    pub(crate) query: &'q MemberQuery,
    pub(crate) plan: SearchPlan,
    /// How many members match, once counted: a page then picks its plan by how far into the
    /// matches it reads (`Plan`).
    matches: Option<i64>,
}

impl Resolved<'_> {
    /// Whether the trigram index found the term too common to narrow.
    pub fn found_broad(&self) -> bool {
        self.plan == SearchPlan::Scan && self.query.search.as_deref().is_some_and(has_trigram)
    }

    /// The query, knowing that `count` members match it.
    pub fn counted(self, count: i64) -> Self {
        Resolved {
            matches: Some(count),
            ..self
        }
    }
}

/// The LIKE pattern of a query's search term when the trigram index could look it up (three
/// characters or more): what a caller remembering broad terms keeps them under.
pub fn lookup_pattern(q: &MemberQuery) -> Option<String> {
    q.search
        .as_deref()
        .filter(|t| has_trigram(t))
        .map(like_pattern)
}

/// A query resolved as a search the trigram index cannot narrow, without asking it: for a
/// term the caller saw [`resolve`] find broad a moment ago. Scanning stays exact whatever the
/// term, so a term that has since become rare costs time, never a wrong answer.
pub fn resolve_as_broad(q: &MemberQuery) -> Resolved<'_> {
    Resolved {
        query: q,
        plan: SearchPlan::Scan,
        matches: None,
    }
}

/// Looks a query's search term up in the trigram index (migration 4). The planners cannot
/// tell a rare term from a common one (FTS5 gives SQLite no hit counts; PostgreSQL guesses
/// from generic statistics), so roster asks the index for up to `FEW_HITS` + 1 users and
/// picks the plan itself.
pub async fn resolve<'q>(c: &mut Conn, q: &'q MemberQuery) -> Result<Resolved<'q>> {
    let Some(term) = q.search.as_deref().filter(|t| has_trigram(t)) else {
        return Ok(Resolved {
            query: q,
            plan: SearchPlan::Scan,
            matches: None,
        });
    };
    let lookup = match Backend::of(c) {
        Backend::Sqlite => {
            query("SELECT rowid FROM user_search WHERE user_search MATCH $1 LIMIT $2")
                .bind(trigram_phrase(term))
        }
        Backend::Postgres => query(format!(
            "SELECT u.id FROM users u WHERE {PG_SEARCH_TEXT} LIKE $1 LIMIT $2"
        ))
        .bind(like_pattern(term)),
    };
    let hits = handle(c)
        .fetch_all(lookup.bind(FEW_HITS + 1), |r| r.int(0))
        .await?;
    let plan = if hits.len() as i64 > FEW_HITS {
        SearchPlan::Scan
    } else {
        SearchPlan::Hits(hits)
    };
    Ok(Resolved {
        query: q,
        plan,
        matches: None,
    })
}

/// The expression PostgreSQL's trigram index covers (migration 4), spelled exactly as there.
const PG_SEARCH_TEXT: &str = "(u.email || ' ' || u.first_name_folded || ' ' || u.last_name_folded)";

/// The FROM and WHERE clauses of a member query and its values (after $1 = org id).
pub(crate) struct Filter {
    pub(crate) from: String,
    pub(crate) sql: String,
    pub(crate) args: Vec<Arg>,
}

/// How a query filtering on tags or last activity meets the filter's index. SQLite's planner
/// cannot weigh a tag's size or an activity window's (its statistics hold neither), so roster
/// picks and spells the plan out; PostgreSQL's planner weighs both from its statistics and is
/// left to choose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Plan {
    /// Start from the filter's index (the tags' assignments, else the activity window of
    /// memberships_by_activity) and sort what it names: what counting, a rare tag or a
    /// narrow window, and a page deep in the results cost least.
    Drive,
    /// Walk the list in its order and check each member (a tag by primary key, the activity
    /// on the row): a first page of a common tag or a wide window is found after a few
    /// thousand members.
    Walk,
}

/// Builds the filter of a member query.
///
/// A search term is a case-insensitive substring of the email or either name. When the
/// trigram index named the few users that hold it, the query starts from them (one bound id
/// list: `rarray` on SQLite, an array on PostgreSQL). A LIKE on each
/// column keeps the result exact (the index folds case its own way and, on PostgreSQL, could
/// match across two columns). Terms shorter than three characters have no trigram, so they
/// check each member.
///
/// The users table is joined (as `u`) only when the filter reads it, or the caller sorts by
/// the query's order (`sorted`) and that reads it: a filter on the membership's own columns
/// is answered from memberships' indexes alone.
pub(crate) fn filter_sql(r: &Resolved<'_>, backend: Backend, plan: Plan, sorted: bool) -> Filter {
    let q = r.query;
    let sqlite = backend == Backend::Sqlite;
    let hits = matches!(r.plan, SearchPlan::Hits(_));
    let mut from = String::from("memberships m");
    let mut users = sorted && order_reads_users(q);
    let mut sql = String::from(if q.deleted {
        "m.org_id = $1 AND m.deleted_at IS NOT NULL"
    } else {
        "m.org_id = $1 AND m.deleted_at IS NULL"
    });
    let mut args = Vec::new();
    sql.push_str(&role_in("m.role", &q.roles));
    // An anti-join on the workspace's primary key (workspace_id, membership_id): one index
    // probe per member looked at, whatever the size of the workspace.
    if let Some(ws) = q.exclude_workspace {
        args.push(Arg::Int(ws.0));
        let n = args.len() + 1;
        sql.push_str(&format!(
            " AND NOT EXISTS (SELECT 1 FROM workspace_members xw \
             WHERE xw.workspace_id = ${n} AND xw.membership_id = m.id)"
        ));
    }
    if let Some(project) = q.exclude_project {
        // An anti-join probing the project_members primary key (project_id, membership_id)
        // once per candidate row, so a page costs the same however big the project is.
        args.push(Arg::Int(project.0));
        let n = args.len() + 1;
        sql.push_str(&format!(
            " AND NOT EXISTS (SELECT 1 FROM project_members pm WHERE pm.project_id = ${n} AND pm.membership_id = m.id)"
        ));
    }
    if q.no_seat_type {
        sql.push_str(" AND 1 = 0");
    }
    // Members carrying any of the tags (migration 18's two indexes: the tag's range, and the
    // primary key (membership_id, tag_id)). SQLite follows `plan`, unless the search's few
    // hits lead; one tag's assignments name each member once, several need DISTINCT.
    let drive_tags = sqlite && plan == Plan::Drive && !hits && !q.tags.is_empty();
    if !q.tags.is_empty() {
        let n = args.len() + 2;
        args.push(Arg::Ids(q.tags.iter().map(|t| t.0).collect()));
        match backend {
            Backend::Sqlite if drive_tags => {
                let distinct = if q.tags.len() > 1 { "DISTINCT " } else { "" };
                from = format!(
                    "(SELECT {distinct}ta.membership_id AS id FROM member_tag_assignments ta \
                     WHERE ta.tag_id IN rarray(${n})) tm CROSS JOIN memberships m ON m.id = tm.id"
                );
            }
            Backend::Sqlite => sql.push_str(&format!(
                " AND EXISTS (SELECT 1 FROM member_tag_assignments ta \
                 WHERE ta.membership_id = m.id AND ta.tag_id IN rarray(${n}))"
            )),
            Backend::Postgres => sql.push_str(&format!(
                " AND m.id IN (SELECT ta.membership_id FROM member_tag_assignments ta \
                 WHERE ta.tag_id = ANY(${n}))"
            )),
        }
    }
    // Members of any of the workspaces or projects: each a walk of the primary key's range
    // (workspace_id, membership_id) or (project_id, membership_id).
    if !q.in_workspaces.is_empty() || !q.in_projects.is_empty() {
        let mut any = Vec::new();
        for (ids, table, col) in [
            (
                q.in_workspaces.iter().map(|w| w.0).collect::<Vec<_>>(),
                "workspace_members",
                "workspace_id",
            ),
            (
                q.in_projects.iter().map(|p| p.0).collect(),
                "project_members",
                "project_id",
            ),
        ] {
            if ids.is_empty() {
                continue;
            }
            let n = args.len() + 2;
            args.push(Arg::Ids(ids));
            let is_in = match backend {
                Backend::Sqlite => format!("x.{col} IN rarray(${n})"),
                Backend::Postgres => format!("x.{col} = ANY(${n})"),
            };
            any.push(format!(
                "m.id IN (SELECT x.membership_id FROM {table} x WHERE {is_in})"
            ));
        }
        sql.push_str(&format!(" AND ({})", any.join(" OR ")));
    }
    // Last activity: for live members a range of memberships_by_activity (migration 22).
    // Never active (0) matches neither bound. On SQLite the plan is spelled out unless the
    // list is in activity order (the index gives the window and the order at once): driven,
    // the index is named; walked, a unary + keeps the planner from reading the window first.
    let activity = activity_column(q.deleted);
    if q.active_from.is_some() || q.active_to.is_some() {
        users |= q.deleted;
        let ordered = q.order == MemberOrder::LastActivity;
        let mut column = activity.to_string();
        if sqlite && !q.deleted && !ordered {
            match plan {
                Plan::Drive if !hits && !drive_tags => {
                    from = String::from("memberships m INDEXED BY memberships_by_activity");
                }
                Plan::Drive => {}
                Plan::Walk => column = format!("+{activity}"),
            }
        }
        args.push(Arg::Int(q.active_from.unwrap_or(1).max(1)));
        sql.push_str(&format!(" AND {column} >= ${}", args.len() + 1));
        if let Some(to) = q.active_to {
            args.push(Arg::Int(to));
            sql.push_str(&format!(" AND {column} <= ${}", args.len() + 1));
        }
    }
    if let SearchPlan::Hits(users) = &r.plan {
        let n = args.len() + 2;
        args.push(Arg::Ids(users.clone()));
        match backend {
            Backend::Sqlite => {
                from = format!(
                    "rarray(${n}) AS hit CROSS JOIN memberships m ON m.user_id = hit.value"
                );
            }
            Backend::Postgres => {
                sql.push_str(&format!(" AND m.user_id = ANY(${n})"));
            }
        }
    }
    if let Some(term) = q.search.as_deref().filter(|t| !t.is_empty()) {
        users = true;
        args.push(Arg::Text(like_pattern(term)));
        let n = args.len() + 1;
        let email = match backend {
            Backend::Sqlite => "m.user_email",
            // Without hits, the indexed expression leads (a common term, or one too short
            // for trigrams).
            Backend::Postgres => {
                if r.plan == SearchPlan::Scan {
                    sql.push_str(&format!(" AND {PG_SEARCH_TEXT} LIKE ${n}"));
                }
                "u.email"
            }
        };
        let columns = [email, "u.first_name_folded", "u.last_name_folded"];
        sql.push_str(&format!(" AND {}", term_matches(backend, columns, n)));
    }
    if users {
        from.push_str(" JOIN users u ON u.id = m.user_id");
    }
    Filter { from, sql, args }
}

/// The search condition over three columns holding a member's email and folded first and last
/// names, the term bound as `$n` (a `like_pattern`): a LIKE on each, so a term never matches
/// across two of them. The backslash is PostgreSQL's default LIKE escape; an explicit ESCAPE
/// clause there would wrap the pattern in a function call.
pub(crate) fn term_matches(backend: Backend, [email, first, last]: [&str; 3], n: usize) -> String {
    let escape = match backend {
        Backend::Sqlite => " ESCAPE '\\'",
        Backend::Postgres => "",
    };
    format!("({email} LIKE ${n}{escape} OR {first} LIKE ${n}{escape} OR {last} LIKE ${n}{escape})")
}

/// ` AND column IN ('AN','RE')` for a role filter (nothing when it names no role). The codes
/// are the domain's own two letters, never caller text.
pub(crate) fn role_in(column: &str, roles: &[Role]) -> String {
    if roles.is_empty() {
        return String::new();
    }
    let list: Vec<String> = roles.iter().map(|r| format!("'{}'", r.code())).collect();
    format!(" AND {column} IN ({})", list.join(","))
}

/// How many members match; without a search term, straight from the counters.
pub async fn count(c: &mut Conn, r: &Resolved<'_>) -> Result<i64> {
    let q = r.query;
    if !q.narrows() {
        // The counters, less the excluded project's or workspace's live members: from its own
        // counter, or with a role filter a walk of the project's key range (not of the whole
        // organization). Other combinations count the filter itself.
        let held = match (q.exclude_project, q.exclude_workspace) {
            (None, None) => Some(0),
            (Some(project), None) if q.roles.is_empty() => {
                Some(crate::projects::count_members(c, q.org, project).await?)
            }
            (Some(project), None) => {
                Some(count_project_members_in_roles(c, q.org, project, &q.roles).await?)
            }
            (None, Some(ws)) if q.roles.is_empty() => {
                Some(crate::workspaces::count_members(c, q.org, ws, &Default::default()).await?)
            }
            _ => None,
        };
        if let Some(held) = held {
            return Ok(count_in_roles(c, q.org, &q.roles).await? - held);
        }
    }
    if q.tags_only() {
        // The tags' assignments are their members (live members of this organization, as
        // `tags_only` says): a count of the tags' index ranges, no membership read.
        let set = match Backend::of(c) {
            Backend::Sqlite => "tag_id IN rarray($1)",
            Backend::Postgres => "tag_id = ANY($1)",
        };
        let what = if q.tags.len() > 1 {
            "COUNT(DISTINCT membership_id)"
        } else {
            "COUNT(*)"
        };
        let ids = Arg::Ids(q.tags.iter().map(|t| t.0).collect());
        let sql = format!("SELECT {what} FROM member_tag_assignments WHERE {set}");
        return handle(c)
            .fetch_one(query(sql).bind(ids), |r| r.int(0))
            .await;
    }
    let Filter { from, sql, args } = filter_sql(r, Backend::of(c), Plan::Drive, false);
    let mut count = query(format!("SELECT COUNT(*) FROM {from} WHERE {sql}")).bind(q.org.0);
    for a in args {
        count.push(a);
    }
    handle(c).fetch_one(count, |r| r.int(0)).await
}

/// A page of members by offset (a cold jump to any page).
pub async fn list(
    c: &mut Conn,
    r: &Resolved<'_>,
    limit: i64,
    offset: i64,
) -> Result<Vec<MemberRow>> {
    list_from(c, r, None, limit, offset).await
}

/// The page that follows `after`, found by seeking in the index instead of counting rows.
pub async fn list_after(
    c: &mut Conn,
    r: &Resolved<'_>,
    after: &PageEnd,
    limit: i64,
) -> Result<Vec<MemberRow>> {
    list_from(c, r, Some(after), limit, 0).await
}

/// How a page of a list filtered by tags or activity is found (`Plan`). Walking the list in
/// order reads about (offset + limit) x members / matches rows, each checked; starting from
/// the filter's index reads each match once and sorts them. The walk wins for the first pages
/// of a common tag or a wide window, the index for rare ones and deep pages. Without a count
/// (a whole-list read) the index leads.
async fn plan_of(c: &mut Conn, r: &Resolved<'_>, end: i64) -> Result<Plan> {
    let q = r.query;
    let filtered = !q.tags.is_empty() || q.active_from.is_some() || q.active_to.is_some();
    let Some(matches) = r.matches.filter(|_| filtered && !q.deleted) else {
        return Ok(Plan::Drive);
    };
    if Backend::of(c) == Backend::Postgres {
        return Ok(Plan::Drive);
    }
    let members = count_in_roles(c, q.org, &[]).await?;
    let walked = end.saturating_mul(members) / matches.max(1);
    Ok(if walked > matches {
        Plan::Drive
    } else {
        Plan::Walk
    })
}

/// A page, found in two steps: the memberships' ids from the filter, sorted and cut to the
/// page (from memberships' indexes where the filter and order allow, so rows skipped by an
/// offset are never read whole), then those rows with their users.
async fn list_from(
    c: &mut Conn,
    r: &Resolved<'_>,
    after: Option<&PageEnd>,
    limit: i64,
    offset: i64,
) -> Result<Vec<MemberRow>> {
    let q = r.query;
    let backend = Backend::of(c);
    let plan = plan_of(c, r, offset.saturating_add(limit)).await?;
    let Filter {
        from,
        sql: mut filter,
        args,
    } = filter_sql(r, backend, plan, true);
    let dir = if q.descending { "DESC" } else { "ASC" };
    let col = order_column(q);
    let mut n = args.len() + 2;
    if after.is_some() {
        let op = if q.descending { "<" } else { ">" };
        filter.push_str(&format!(" AND ({col}, m.id) {op} (${n}, ${})", n + 1));
        n += 2;
    }
    // SQLite keeps the join order as written after CROSS JOIN: the page's ids first.
    let join = match backend {
        Backend::Sqlite => "CROSS JOIN",
        Backend::Postgres => "JOIN",
    };
    let sql = format!(
        "SELECT {MEMBERSHIP_COLS}, {USER_COLS} FROM (
             SELECT m.id AS id FROM {from}
             WHERE {filter} ORDER BY {col} {dir}, m.id {dir} LIMIT ${n} OFFSET ${m}
         ) page {join} memberships m ON m.id = page.id JOIN users u ON u.id = m.user_id
         ORDER BY {col} {dir}, m.id {dir}",
        m = n + 1,
    );
    let mut page = query(sql).bind(q.org.0);
    for a in args {
        page.push(a);
    }
    if let Some(end) = after {
        match &end.value {
            SortValue::Text(t) => page.push(t.as_str()),
            SortValue::Int(i) => page.push(*i),
        };
        page.push(end.id.0);
    }
    handle(c)
        .fetch_all(page.bind(limit).bind(offset), |r| rows::member(r, 0))
        .await
}

/// Users of an organization that are live members, by email, for `/api/users/`.
pub async fn live_users(
    c: &mut Conn,
    org: OrgId,
    (order, descending): (MemberOrder, bool),
    limit: i64,
    offset: i64,
) -> Result<Vec<MemberRow>> {
    let q = MemberQuery {
        order,
        descending,
        ..MemberQuery::everyone(org)
    };
    let resolved = resolve(c, &q).await?;
    list(c, &resolved, limit, offset).await
}

/// How much work a membership has done: (annotations, distinct projects).
pub async fn contribution(c: &mut Conn, id: MembershipId) -> Result<(i64, i64)> {
    let q = query(
        "SELECT COUNT(*), COUNT(DISTINCT project_id) FROM annotations WHERE membership_id = $1",
    )
    .bind(id.0);
    handle(c).fetch_one(q, |r| Ok((r.int(0)?, r.int(1)?))).await
}

/// A membership (live or deleted) with its user, by the membership's id.
pub async fn with_user_by_id(c: &mut Conn, id: MembershipId) -> Result<Option<MemberRow>> {
    let sql = format!(
        "SELECT {MEMBERSHIP_COLS}, {USER_COLS} FROM memberships m JOIN users u ON u.id = m.user_id
         WHERE m.id = $1"
    );
    handle(c)
        .fetch_optional(query(sql).bind(id.0), |r| rows::member(r, 0))
        .await
}

/// The projects each of these memberships created (`true`) or annotated in (`false`), as
/// (membership, created, project, title), by project id.
pub async fn projects_of(
    c: &mut Conn,
    ids: &[MembershipId],
) -> Result<Vec<(MembershipId, bool, ProjectId, String)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let (created, worked) = match Backend::of(c) {
        Backend::Sqlite => (
            "p.created_by IN rarray($1)",
            "a.membership_id IN rarray($1)",
        ),
        Backend::Postgres => ("p.created_by = ANY($1)", "a.membership_id = ANY($1)"),
    };
    let sql = format!(
        "SELECT p.created_by, 1, p.id, p.title FROM projects p WHERE {created}
         UNION
         SELECT DISTINCT a.membership_id, 0, p.id, p.title FROM annotations a
             JOIN projects p ON p.id = a.project_id WHERE {worked}
         ORDER BY 3"
    );
    let q = query(sql).bind(Arg::Ids(ids.iter().map(|m| m.0).collect()));
    handle(c)
        .fetch_all(q, |r| {
            Ok((
                MembershipId(r.int(0)?),
                r.int(1)? == 1,
                ProjectId(r.int(2)?),
                r.text(3)?,
            ))
        })
        .await
}
